//! Bulk import of hotline exports: a CSV file (read by [`super::table`])
//! and a column mapping. Every row is checked before anything is written; one bad row
//! and the file is refused with every problem listed by line, so a file
//! is imported whole or not at all.

use std::collections::HashMap;

use gridgov_spatial::{Incident, Reporter};
use serde::{Deserialize, Serialize};

use crate::Snapshot;
use crate::cases::{NewReport, Place, incident_of};

/// Which column holds what. Every entry names a CSV column; `crs` may be
/// a column or, with `crs_value`, one system for the whole file.
/// `categories` renames the export's categories to ours
/// (`"环境卫生": "environment"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mapping {
    /// Longitude column.
    pub lon: Option<String>,
    /// Latitude column.
    pub lat: Option<String>,
    /// Coordinate system column.
    pub crs: Option<String>,
    /// The coordinate system of every row (`wgs84`, `gcj02`, `bd09`, …).
    pub crs_value: Option<String>,
    /// Address column (used where a row has no coordinates).
    pub address: Option<String>,
    /// Category column (required).
    pub category: String,
    /// Channel column; default `hotline_12345`.
    pub source: Option<String>,
    /// Description column.
    pub description: Option<String>,
    /// Report time column (RFC 3339, or `YYYY-MM-DD HH:MM:SS` in
    /// `utc_offset`).
    pub reported_at: Option<String>,
    /// Offset of times written without one; default `+08:00`.
    pub utc_offset: String,
    /// The export's category names → ours.
    pub categories: HashMap<String, String>,
    /// Whether columns other than the category may be missing from the
    /// file (the default mapping; a mapping of one's own is strict).
    #[serde(skip_deserializing, default)]
    pub lenient: bool,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            lon: Some("lon".into()),
            lat: Some("lat".into()),
            crs: None,
            crs_value: None,
            address: Some("address".into()),
            category: "category".into(),
            source: Some("source".into()),
            description: Some("description".into()),
            reported_at: Some("reported_at".into()),
            utc_offset: "+08:00".into(),
            categories: HashMap::new(),
            lenient: true,
        }
    }
}

pub use super::table::RowError;

fn with_offset(t: &str, offset: &str) -> String {
    let t = t.trim();
    // "2026-11-15 08:30:00" or "2026/11/15 08:30" as exported by hotline
    // systems: local time.
    let t2 = t.replace('/', "-");
    let b = t2.as_bytes();
    if b.len() >= 16 && (b[10] == b' ' || b[10] == b'T') {
        let (date, time) = (&t2[..10], &t2[11..]);
        let has_zone =
            time.ends_with('Z') || time.contains('+') || time.chars().skip(1).any(|c| c == '-');
        if !has_zone {
            let time = if time.len() == 5 {
                format!("{time}:00")
            } else {
                time.to_string()
            };
            return format!("{date}T{time}{offset}");
        }
        return format!("{date}T{time}");
    }
    t.to_string()
}

/// Turns every row into an incident, or lists every bad row.
pub fn incidents_from_csv(
    snap: &Snapshot,
    text: &str,
    m: &Mapping,
    now: gridgov_spatial::Timestamp,
    mut progress: impl FnMut(usize),
) -> Result<Vec<Incident>, Vec<RowError>> {
    let records = super::table::records(text).map_err(|e| vec![e])?;
    let Some((header, rows)) = records.split_first() else {
        return Err(vec![RowError {
            line: 1,
            message: "the file is empty".into(),
        }]);
    };
    // Every missing column is named, not only the first.
    let mut missing = Vec::new();
    let mut col = |name: &Option<String>, what: &str| -> Option<usize> {
        let n = name.as_ref()?;
        let c = header.fields.iter().position(|h| h.trim() == n);
        if c.is_none() && (!m.lenient || what == "category") {
            missing.push(RowError {
                line: 1,
                message: format!("the mapping's {what} column {n:?} is not in the header"),
            });
        }
        c
    };
    let (lon, lat, crs, address) = (
        col(&m.lon, "lon"),
        col(&m.lat, "lat"),
        col(&m.crs, "crs"),
        col(&m.address, "address"),
    );
    let category = col(&Some(m.category.clone()), "category");
    let (source, description, reported_at) = (
        col(&m.source, "source"),
        col(&m.description, "description"),
        col(&m.reported_at, "reported_at"),
    );
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    let width = header.fields.len();
    for (i, row) in rows.iter().enumerate() {
        let (line, r) = (&row.line, &row.fields);
        if i % 1000 == 0 {
            progress(i);
        }
        if r.len() != width {
            errors.push(RowError {
                line: *line,
                message: format!("{} fields where the header has {width}", r.len()),
            });
            continue;
        }
        let get = |c: Option<usize>| c.map(|c| r[c].trim()).filter(|s| !s.is_empty());
        let num = |c: Option<usize>, what: &str| -> Result<Option<f64>, String> {
            get(c)
                .map(|v| {
                    v.parse::<f64>()
                        .map_err(|_| format!("{what} {v:?} is not a number"))
                })
                .transpose()
        };
        let parsed = (|| -> Result<Incident, String> {
            let raw_cat = get(category).ok_or("no category")?;
            let cat = m.categories.get(raw_cat).map_or(raw_cat, String::as_str);
            let report = NewReport {
                place: Place {
                    lon: num(lon, "lon")?,
                    lat: num(lat, "lat")?,
                    crs: get(crs).map(str::to_string).or_else(|| m.crs_value.clone()),
                    address: get(address).map(str::to_string),
                },
                category: cat.to_string(),
                source: Some(get(source).unwrap_or("hotline_12345").to_string()),
                description: get(description).unwrap_or_default().to_string(),
                reported_at: get(reported_at).map(|t| with_offset(t, &m.utc_offset)),
                // The address as the hotline wrote it is kept even where
                // the coordinates place the case.
                reporter: Reporter {
                    address: get(address).map(str::to_string),
                    ..Reporter::default()
                },
            };
            let mut report = report;
            // A row with coordinates is placed by them; the address is a
            // fallback only.
            if report.place.lon.is_some() || report.place.lat.is_some() {
                report.place.address = None;
            }
            incident_of(snap, &report, now)
                .map(|(x, _)| x)
                .map_err(|e| e.to_string())
        })();
        match parsed {
            Ok(x) => out.push(x),
            Err(message) => errors.push(RowError {
                line: *line,
                message,
            }),
        }
    }
    progress(rows.len());
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_get_the_mapping_offset() {
        assert_eq!(
            with_offset("2026-11-15 08:30:00", "+08:00"),
            "2026-11-15T08:30:00+08:00"
        );
        assert_eq!(
            with_offset("2026/11/15 08:30", "+08:00"),
            "2026-11-15T08:30:00+08:00"
        );
        assert_eq!(
            with_offset("2026-11-15T08:30:00Z", "+08:00"),
            "2026-11-15T08:30:00Z"
        );
        assert_eq!(
            with_offset("2026-11-15T08:30:00-05:00", "+08:00"),
            "2026-11-15T08:30:00-05:00"
        );
        // Found by fuzzing: text after the date that is not a time is
        // left for the time check to refuse, never a panic.
        assert_eq!(
            with_offset("2026-11-15 号楼2单元301室", "+08:00"),
            "2026-11-15T号楼2单元301室+08:00"
        );
    }
}
