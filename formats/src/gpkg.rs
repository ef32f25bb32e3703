//! GeoPackage feature tables (OGC 12-128r18): the table named in
//! `gpkg_contents`, its geometry column from `gpkg_geometry_columns`, the
//! coordinate system from `gpkg_spatial_ref_sys` (by EPSG code, or its WKT
//! definition). Opened read-only: the file is never changed.

use std::path::Path;

use geo_traits::to_geo::ToGeoGeometry;
use gridgov_spatial::Crs;
use rusqlite::types::ValueRef;

use crate::{Format, FormatError, Layer, number_value};

/// Where the WKB of a GeoPackage geometry blob starts (after the `GP`
/// header and its envelope), and whether the blob says it is empty.
fn wkb_start(b: &[u8]) -> Result<(usize, bool), String> {
    if b.len() < 8 || &b[..2] != b"GP" {
        return Err("a geometry without the GP header".into());
    }
    let env = match (b[3] >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => return Err(format!("envelope indicator {e}")),
    };
    Ok((8 + env, b[3] & 0x10 != 0))
}

fn geometry(b: &[u8]) -> Result<Option<geojson::Geometry>, String> {
    let (start, empty) = wkb_start(b)?;
    if empty || b.len() <= start {
        return Ok(None);
    }
    let g = wkb::reader::read_wkb(&b[start..]).map_err(|e| e.to_string())?;
    Ok(Some(geojson::Geometry::from(&g.to_geometry())))
}

fn srs(db: &rusqlite::Connection, srs_id: i64) -> Result<Option<Crs>, String> {
    if srs_id <= 0 {
        return Ok(None);
    }
    let (org, code, def): (Option<String>, Option<i64>, Option<String>) = db
        .query_row(
            "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| format!("SRS {srs_id}: {e}"))?;
    if let (true, Some(c)) = (org.is_some_and(|o| o.eq_ignore_ascii_case("EPSG")), code) {
        {
            return format!("epsg:{c}")
                .parse()
                .map(Some)
                .map_err(|e: gridgov_spatial::CrsError| e.to_string());
        }
    }
    match def {
        Some(d) if d != "undefined" => gridgov_spatial::crs_wkt::from_wkt(&d)
            .map(Some)
            .map_err(|e| e.to_string()),
        _ => Ok(None),
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) fn read(path: &Path, layer: Option<&str>) -> Result<Layer, FormatError> {
    let bad = |e: &dyn std::fmt::Display| FormatError::invalid(path, Format::GeoPackage, e);
    if !path.exists() {
        return Err(FormatError::io(
            path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let db = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| bad(&e))?;
    let tables: Vec<String> = db
        .prepare(
            "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| bad(&e))?;
    let table = match (layer, tables.as_slice()) {
        (Some(l), _) if tables.iter().any(|t| t == l) => l.to_string(),
        (Some(l), _) => {
            return Err(FormatError::Layer {
                path: path.to_path_buf(),
                message: format!("no feature table {l:?}; its tables: {tables:?}"),
            });
        }
        (None, [one]) => one.clone(),
        (None, _) => {
            return Err(FormatError::Layer {
                path: path.to_path_buf(),
                message: format!(
                    "{} feature tables ({tables:?}); name one (\"layer\" in the mapping, --layer)",
                    tables.len()
                ),
            });
        }
    };
    let (geom_col, srs_id): (String, i64) = db
        .query_row(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1",
            [&table],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| bad(&format!("{table}: its geometry column: {e}")))?;
    let crs = srs(&db, srs_id).map_err(|e| bad(&e))?;
    let mut stmt = db
        .prepare(&format!("SELECT * FROM {}", quote(&table)))
        .map_err(|e| bad(&e))?;
    let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let mut rows = stmt.query([]).map_err(|e| bad(&e))?;
    let mut features = Vec::new();
    let mut empty = 0usize;
    while let Some(r) = rows.next().map_err(|e| bad(&e))? {
        let mut props = serde_json::Map::new();
        let mut geom = None;
        for (i, n) in names.iter().enumerate() {
            let v = r.get_ref(i).map_err(|e| bad(&e))?;
            if n.eq_ignore_ascii_case(&geom_col) {
                if let ValueRef::Blob(b) = v {
                    geom = geometry(b)
                        .map_err(|e| bad(&format!("{table} row {}: {e}", features.len())))?;
                }
                continue;
            }
            let j = match v {
                ValueRef::Null | ValueRef::Blob(_) => serde_json::Value::Null,
                ValueRef::Integer(x) => x.into(),
                ValueRef::Real(x) => number_value(x),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
            };
            props.insert(n.clone(), j);
        }
        empty += usize::from(geom.is_none());
        features.push(geojson::Feature {
            bbox: None,
            geometry: geom,
            id: None,
            properties: Some(props),
            foreign_members: None,
        });
    }
    let mut notes = vec![format!("table {table}")];
    if empty > 0 {
        notes.push(format!("{empty} rows have no geometry"));
    }
    Ok(Layer {
        features: geojson::FeatureCollection {
            bbox: None,
            features,
            foreign_members: None,
        },
        crs,
        format: Format::GeoPackage,
        notes,
    })
}
