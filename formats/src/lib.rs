//! Vector and table files in and out of gridgov: the adapter between the
//! files planners and analysts bring and the application's features.
//!
//! - [`read_layer`] reads a layer of features — GeoJSON, Shapefile (with its
//!   `.prj` and `.cpg`, GBK or UTF-8 attributes), KML, KMZ, GeoPackage —
//!   as a GeoJSON FeatureCollection with the coordinates exactly as the
//!   file has them, and the coordinate system the file declares.
//! - [`read_points`] reads the rows of a point file — those formats, or a
//!   spreadsheet (CSV, XLSX) with X/Y columns — each with its line, its
//!   own columns and its point or the reason it has none.
//! - [`write_rows`] writes a table of answers as CSV, XLSX, GeoJSON or
//!   GeoPackage.
//!
//! Coordinates are read bit-exact: binary formats give their doubles as
//! stored, text formats are parsed with Rust's correctly rounded parser
//! (serde_json with `float_roundtrip`, `str::parse::<f64>`).

mod error;
mod fgb;
mod format;
mod geojson_file;
mod gpkg;
mod kml_file;
mod points;
mod shp;
mod write;
mod write_layer;

pub use error::FormatError;
pub use format::Format;
pub use points::{PointColumns, PointRow, Points, read_points};
pub use write::{CsvRows, Row, Table, Value, write_rows};
pub use write_layer::{AreaLayer, write_layer};

use std::path::Path;

use gridgov_spatial::Crs;

/// A layer read from a file.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Its features, coordinates as the file has them.
    pub features: geojson::FeatureCollection,
    /// The coordinate system the file declares (`.prj`, GeoPackage SRS,
    /// GeoJSON `crs`); `None` when it declares none.
    pub crs: Option<Crs>,
    /// The format it was read as.
    pub format: Format,
    /// Notes for the person importing (the text encoding used, features
    /// without geometry, …).
    pub notes: Vec<String>,
}

/// Reads a layer of features; `layer` picks a table of a GeoPackage or a
/// folder of a KML (the only one when not given).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a.geojson");
/// std::fs::write(&p, r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
///   "properties": {"name": "振兴街"}, "geometry": {"type": "Point", "coordinates": [117.1, 34.8]}}]}"#).unwrap();
/// let l = gridgov_formats::read_layer(&p, None).unwrap();
/// assert_eq!(l.features.features.len(), 1);
/// assert_eq!(l.crs, None);
/// ```
pub fn read_layer(path: &Path, layer: Option<&str>) -> Result<Layer, FormatError> {
    let format = Format::of(path)?;
    match format {
        Format::GeoJson => geojson_file::read(path),
        Format::Shapefile => shp::read(path),
        Format::ShapefileZip => shp::read_zip(path, layer),
        Format::Kml | Format::Kmz => kml_file::read(path, format, layer),
        Format::GeoPackage => gpkg::read(path, layer),
        Format::FlatGeobuf => fgb::read(path),
        Format::Csv | Format::Xlsx => Err(FormatError::NotALayer {
            path: path.to_path_buf(),
            format,
        }),
    }
}

/// A property value of a feature as JSON: whole numbers as integers (a
/// DBF or SQLite `12` is the code `12`, not `12.0`).
pub(crate) fn number_value(x: f64) -> serde_json::Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        serde_json::Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}
