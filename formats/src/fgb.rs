//! FlatGeobuf (`.fgb`) through the `flatgeobuf` crate: a layer read with
//! its coordinate system from the header (EPSG code, else its WKT) and
//! typed attributes; areas and answers written with the system's EPSG
//! code and WKT in the header, as GDAL writes them.

use std::path::Path;

use flatgeobuf::FallibleStreamingIterator;
use geozero::{ColumnValue, FeatureProperties, PropertyProcessor, ToGeo};
use gridgov_spatial::Crs;

use crate::{Format, FormatError, Layer, number_value};

/// Collects a feature's properties as JSON values.
struct Props(serde_json::Map<String, serde_json::Value>);

impl PropertyProcessor for Props {
    fn property(
        &mut self,
        _idx: usize,
        name: &str,
        v: &ColumnValue,
    ) -> geozero::error::Result<bool> {
        let j = match v {
            ColumnValue::Bool(b) => (*b).into(),
            ColumnValue::Byte(x) => i64::from(*x).into(),
            ColumnValue::UByte(x) => i64::from(*x).into(),
            ColumnValue::Short(x) => i64::from(*x).into(),
            ColumnValue::UShort(x) => i64::from(*x).into(),
            ColumnValue::Int(x) => i64::from(*x).into(),
            ColumnValue::UInt(x) => i64::from(*x).into(),
            ColumnValue::Long(x) => (*x).into(),
            ColumnValue::ULong(x) => (*x).into(),
            ColumnValue::Float(x) => number_value(f64::from(*x)),
            ColumnValue::Double(x) => number_value(*x),
            ColumnValue::String(s) | ColumnValue::Json(s) | ColumnValue::DateTime(s) => (*s).into(),
            ColumnValue::Binary(_) => serde_json::Value::Null,
        };
        self.0.insert(name.to_owned(), j);
        Ok(false)
    }
}

/// The system a FlatGeobuf header declares.
fn header_crs(h: &flatgeobuf::Header<'_>) -> Result<Option<Crs>, String> {
    let Some(c) = h.crs() else {
        return Ok(None);
    };
    let epsg = c.org().is_none_or(|o| o.eq_ignore_ascii_case("EPSG"));
    if epsg && c.code() > 0 {
        return format!("epsg:{}", c.code())
            .parse()
            .map(Some)
            .map_err(|e: gridgov_spatial::CrsError| e.to_string());
    }
    match c.wkt() {
        Some(w) if !w.trim().is_empty() => gridgov_spatial::crs_wkt::from_wkt(w)
            .map(Some)
            .map_err(|e| e.to_string()),
        _ => Ok(None),
    }
}

pub(crate) fn read(path: &Path) -> Result<Layer, FormatError> {
    let bad = |e: &dyn std::fmt::Display| FormatError::invalid(path, Format::FlatGeobuf, e);
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let reader = flatgeobuf::FgbReader::open(std::io::BufReader::new(file)).map_err(|e| bad(&e))?;
    let crs = header_crs(&reader.header()).map_err(|e| bad(&e))?;
    let name = reader.header().name().unwrap_or("").to_string();
    let mut it = reader.select_all().map_err(|e| bad(&e))?;
    let mut features = Vec::new();
    let mut empty = 0usize;
    while let Some(f) = it.next().map_err(|e| bad(&e))? {
        let geometry = match f.geometry() {
            None => None,
            Some(_) => match f.to_geo() {
                Ok(g) => Some(geojson::Geometry::from(&g)),
                Err(e) => return Err(bad(&format!("feature {}: {e}", features.len() + 1))),
            },
        };
        empty += usize::from(geometry.is_none());
        let mut props = Props(serde_json::Map::new());
        f.process_properties(&mut props)
            .map_err(|e| bad(&format!("feature {}: {e}", features.len() + 1)))?;
        features.push(geojson::Feature {
            bbox: None,
            geometry,
            id: None,
            properties: Some(props.0),
            foreign_members: None,
        });
    }
    let mut notes = Vec::new();
    if !name.is_empty() {
        notes.push(format!("layer {name}"));
    }
    if empty > 0 {
        notes.push(format!("{empty} features have no geometry"));
    }
    Ok(Layer {
        features: geojson::FeatureCollection {
            bbox: None,
            features,
            foreign_members: None,
        },
        crs,
        format: Format::FlatGeobuf,
        notes,
    })
}

/// A column's values for FlatGeobuf: text, or numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Column {
    /// Text.
    Text,
    /// Numbers (doubles).
    Number,
}

/// One row's value of a column.
pub(crate) enum Cell<'a> {
    /// Text.
    Text(&'a str),
    /// A number.
    Number(f64),
    /// Nothing.
    Empty,
}

/// Writes one FlatGeobuf layer named after the file: columns `header`
/// (with their kinds), one geometry per row, in the system `(code, wkt)`.
pub(crate) fn write(
    path: &Path,
    header: &[(String, Column)],
    rows: &[(Vec<Cell<'_>>, geo::Geometry<f64>)],
    geometry_type: flatgeobuf::GeometryType,
    (code, wkt): (i32, &str),
) -> Result<(), FormatError> {
    let bad = |e: &dyn std::fmt::Display| FormatError::invalid(path, Format::FlatGeobuf, e);
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("layer");
    let options = flatgeobuf::FgbWriterOptions {
        write_index: true,
        detect_type: false,
        promote_to_multi: false,
        crs: flatgeobuf::FgbCrs {
            org: Some("EPSG"),
            code,
            wkt: Some(wkt),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut fgb = flatgeobuf::FgbWriter::create_with_options(name, geometry_type, options)
        .map_err(|e| bad(&e))?;
    for (h, kind) in header {
        let t = match kind {
            Column::Text => flatgeobuf::ColumnType::String,
            Column::Number => flatgeobuf::ColumnType::Double,
        };
        fgb.add_column(h, t, |_, c| c.nullable = true);
    }
    for (cells, geom) in rows {
        fgb.add_feature_geom(geom.clone(), |f| properties(f, header, cells))
            .map_err(|e| bad(&e))?;
    }
    let tmp = path.with_extension("fgb.part");
    let out = std::fs::File::create(&tmp).map_err(|e| FormatError::io(path, e))?;
    let mut w = std::io::BufWriter::new(out);
    fgb.write(&mut w).map_err(|e| bad(&e))?;
    let out = w
        .into_inner()
        .map_err(|e| FormatError::io(path, e.into_error()))?;
    out.sync_all().map_err(|e| FormatError::io(path, e))?;
    std::fs::rename(&tmp, path).map_err(|e| FormatError::io(path, e))
}

/// Hands one row's cells to the feature being written.
fn properties<P: PropertyProcessor>(f: &mut P, header: &[(String, Column)], cells: &[Cell<'_>]) {
    for (i, ((h, _), v)) in header.iter().zip(cells).enumerate() {
        // Into the writer's own buffer, which does not fail.
        let _ = match v {
            Cell::Text(s) => f.property(i, h, &ColumnValue::String(s)),
            Cell::Number(x) => f.property(i, h, &ColumnValue::Double(*x)),
            Cell::Empty => Ok(false),
        };
    }
}
