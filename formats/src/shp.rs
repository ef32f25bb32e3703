//! ESRI Shapefiles: geometry from `.shp` (doubles as stored), attributes
//! from `.dbf` in the encoding its `.cpg` names, the coordinate system
//! from `.prj`.
//!
//! Without a `.cpg` the attributes are read as UTF-8 and, when they are
//! not valid UTF-8, as GBK (what Chinese desktop GIS writes without
//! saying so); the import's notes say which was used.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use shapefile::dbase::{self, FieldValue};

use crate::{Format, FormatError, Layer, number_value};

/// The encoding a `.cpg` names (a label, or a Windows code page number).
fn encoding_of(label: &str) -> Option<&'static encoding_rs::Encoding> {
    let l = label.trim().trim_start_matches('\u{feff}');
    let by_number = match l.trim_start_matches("CP").trim_start_matches("cp") {
        "936" => Some(encoding_rs::GBK),
        "54936" => Some(encoding_rs::GB18030),
        "950" => Some(encoding_rs::BIG5),
        "65001" => Some(encoding_rs::UTF_8),
        "1252" => Some(encoding_rs::WINDOWS_1252),
        _ => None,
    };
    by_number.or_else(|| encoding_rs::Encoding::for_label(l.as_bytes()))
}

fn value(v: FieldValue) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        FieldValue::Character(s) => s.map_or(J::Null, J::String),
        FieldValue::Memo(s) => J::String(s),
        FieldValue::Numeric(x) => x.map_or(J::Null, number_value),
        FieldValue::Float(x) => x.map_or(J::Null, |x| number_value(f64::from(x))),
        FieldValue::Double(x) | FieldValue::Currency(x) => number_value(x),
        FieldValue::Integer(i) => J::from(i),
        FieldValue::Logical(b) => b.map_or(J::Null, J::Bool),
        FieldValue::Date(d) => d.map_or(J::Null, |d| {
            J::String(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }),
        FieldValue::DateTime(t) => {
            let d = t.date();
            let tm = t.time();
            J::String(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                d.year(),
                d.month(),
                d.day(),
                tm.hours(),
                tm.minutes(),
                tm.seconds()
            ))
        }
    }
}

type Rows = Vec<(geojson::Feature, bool)>;

fn read_with(
    path: &Path,
    enc: &'static encoding_rs::Encoding,
) -> Result<Result<Rows, String>, FormatError> {
    let invalid = |e: &dyn std::fmt::Display| FormatError::invalid(path, Format::Shapefile, e);
    let shapes = shapefile::ShapeReader::from_path(path).map_err(|e| invalid(&e))?;
    let dbf = path.with_extension("dbf");
    let f = File::open(&dbf).map_err(|e| FormatError::io(&dbf, e))?;
    let db = dbase::ReaderBuilder::new()
        .with_encoding(dbase::encoding::EncodingRs::from(enc))
        .build(BufReader::new(f))
        .map_err(|e| FormatError::invalid(&dbf, Format::Shapefile, e))?;
    let mut r = shapefile::Reader::new(shapes, db);
    let mut out = Vec::new();
    for (i, item) in r.iter_shapes_and_records().enumerate() {
        let (shape, record) = match item {
            Ok(x) => x,
            // A record the encoding cannot decode: let the caller try
            // another.
            Err(shapefile::Error::DbaseError(e)) => {
                return Ok(Err(format!("record {i}: {e}")));
            }
            Err(e) => return Err(invalid(&format!("record {i}: {e}"))),
        };
        let properties: serde_json::Map<String, serde_json::Value> =
            record.into_iter().map(|(k, v)| (k, value(v))).collect();
        let null = matches!(shape, shapefile::Shape::NullShape);
        let geometry = if null {
            None
        } else {
            let g = geo_types::Geometry::<f64>::try_from(shape)
                .map_err(|e| invalid(&format!("record {i}: {e}")))?;
            Some(geojson::Geometry::from(&g))
        };
        out.push((
            geojson::Feature {
                bbox: None,
                geometry,
                id: None,
                properties: Some(properties),
                foreign_members: None,
            },
            null,
        ));
    }
    Ok(Ok(out))
}

pub(crate) fn read(path: &Path) -> Result<Layer, FormatError> {
    let mut notes = Vec::new();
    let cpg = std::fs::read_to_string(path.with_extension("cpg")).ok();
    let rows = match cpg.as_deref().map(|l| (l, encoding_of(l))) {
        Some((_, Some(enc))) => {
            notes.push(format!("attributes read as {} (from the .cpg)", enc.name()));
            read_with(path, enc)?.map_err(|e| {
                FormatError::invalid(path, Format::Shapefile, format!("{e} (as {})", enc.name()))
            })?
        }
        Some((label, None)) => {
            return Err(FormatError::invalid(
                path,
                Format::Shapefile,
                format!(
                    "its .cpg names the encoding {:?}, which gridgov does not know",
                    label.trim()
                ),
            ));
        }
        None => match read_with(path, encoding_rs::UTF_8)? {
            Ok(rows) if !rows.iter().any(|(f, _)| has_replacement(f)) => {
                notes.push("no .cpg: attributes read as UTF-8".into());
                rows
            }
            _ => {
                notes.push("no .cpg and the attributes are not UTF-8: read as GBK".into());
                read_with(path, encoding_rs::GBK)?.map_err(|e| {
                    FormatError::invalid(path, Format::Shapefile, format!("{e} (as GBK)"))
                })?
            }
        },
    };
    let nulls = rows.iter().filter(|(_, n)| *n).count();
    if nulls > 0 {
        notes.push(format!("{nulls} records have no geometry"));
    }
    let crs = if let Ok(wkt) = std::fs::read_to_string(path.with_extension("prj")) {
        Some(
            gridgov_spatial::crs_wkt::from_wkt(&wkt).map_err(|source| FormatError::Crs {
                path: path.with_extension("prj"),
                source,
            })?,
        )
    } else {
        notes.push("no .prj: coordinates taken as given (--crs says what they are)".into());
        None
    };
    Ok(Layer {
        features: geojson::FeatureCollection {
            bbox: None,
            features: rows.into_iter().map(|(f, _)| f).collect(),
            foreign_members: None,
        },
        crs,
        format: Format::Shapefile,
        notes,
    })
}

/// Reads a Shapefile out of a zip: the one `.shp` in it (or the one
/// `layer` names), with its sidecar files, unpacked to a temporary
/// directory that is removed after.
pub(crate) fn read_zip(path: &Path, layer: Option<&str>) -> Result<Layer, FormatError> {
    use std::io::Read;
    let bad = |e: &dyn std::fmt::Display| FormatError::invalid(path, Format::ShapefileZip, e);
    let f = File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| bad(&e))?;
    let names: Vec<String> = z
        .file_names()
        .filter_map(|n| n.ok().map(std::borrow::Cow::into_owned))
        .collect();
    let stem = |n: &str| {
        Path::new(n)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string()
    };
    let shps: Vec<&String> = names
        .iter()
        .filter(|n| n.to_ascii_lowercase().ends_with(".shp") && !n.starts_with("__MACOSX"))
        .collect();
    let shp = match (layer, shps.as_slice()) {
        (Some(l), _) => {
            shps.iter()
                .find(|n| stem(n) == l)
                .copied()
                .ok_or_else(|| FormatError::Layer {
                    path: path.to_path_buf(),
                    message: format!("no {l}.shp in it; it holds {shps:?}"),
                })?
        }
        (None, [one]) => *one,
        (None, []) => return Err(bad(&"it holds no .shp")),
        (None, many) => {
            return Err(FormatError::Layer {
                path: path.to_path_buf(),
                message: format!(
                    "it holds {} Shapefiles ({many:?}); name one (\"layer\" in the mapping, --layer)",
                    many.len()
                ),
            });
        }
    };
    let base = shp[..shp.len() - 4].to_string();
    let dir = tempfile::tempdir().map_err(|e| FormatError::io(path, e))?;
    for n in &names {
        let lower = n.to_ascii_lowercase();
        let Some(ext) = ["shp", "shx", "dbf", "prj", "cpg"].iter().find(|e| {
            n.len() == base.len() + 4 && n.starts_with(&base) && lower.ends_with(&format!(".{e}"))
        }) else {
            continue;
        };
        let mut bytes = Vec::new();
        z.by_name(n)
            .map_err(|e| bad(&e))?
            .read_to_end(&mut bytes)
            .map_err(|e| bad(&format!("{n}: {e}")))?;
        let out = dir.path().join(format!("layer.{ext}"));
        std::fs::write(&out, bytes).map_err(|e| FormatError::io(&out, e))?;
    }
    let mut l = read(&dir.path().join("layer.shp")).map_err(|e| match e {
        FormatError::Io { source, .. } => FormatError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => bad(&other),
    })?;
    l.format = Format::ShapefileZip;
    l.notes.insert(0, format!("{shp} in the zip"));
    Ok(l)
}

fn has_replacement(f: &geojson::Feature) -> bool {
    f.properties.as_ref().is_some_and(|p| {
        p.values()
            .any(|v| v.as_str().is_some_and(|s| s.contains('\u{fffd}')))
    })
}
