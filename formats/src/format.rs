//! Which format a file is, from its name.

use std::path::Path;

use crate::FormatError;

/// A file format gridgov reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GeoJSON (`.geojson`, `.json`).
    GeoJson,
    /// ESRI Shapefile (`.shp` with `.dbf`, `.shx`, `.prj`, `.cpg`).
    Shapefile,
    /// A zipped Shapefile (`.zip` holding `.shp`, `.dbf`, …), as
    /// Shapefiles are sent by mail.
    ShapefileZip,
    /// KML (`.kml`).
    Kml,
    /// Zipped KML (`.kmz`).
    Kmz,
    /// GeoPackage (`.gpkg`).
    GeoPackage,
    /// FlatGeobuf (`.fgb`).
    FlatGeobuf,
    /// Comma-separated values (`.csv`, `.txt`).
    Csv,
    /// Excel workbook (`.xlsx`, `.xlsm`, `.xls`, `.ods`).
    Xlsx,
}

impl Format {
    /// The format a file's extension names.
    ///
    /// ```
    /// use gridgov_formats::Format;
    /// assert_eq!(Format::of("grids.SHP".as_ref()).unwrap(), Format::Shapefile);
    /// assert_eq!(Format::of("points.csv".as_ref()).unwrap(), Format::Csv);
    /// assert!(Format::of("points.csv.gz".as_ref()).is_err());
    /// ```
    pub fn of(path: &Path) -> Result<Format, FormatError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        Ok(match ext.as_str() {
            "geojson" | "json" => Format::GeoJson,
            "shp" => Format::Shapefile,
            "zip" => Format::ShapefileZip,
            "kml" => Format::Kml,
            "kmz" => Format::Kmz,
            "gpkg" => Format::GeoPackage,
            "fgb" => Format::FlatGeobuf,
            "csv" | "txt" | "tsv" => Format::Csv,
            "xlsx" | "xlsm" | "xls" | "ods" => Format::Xlsx,
            _ => {
                return Err(FormatError::Unknown {
                    path: path.to_path_buf(),
                });
            }
        })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::GeoJson => "GeoJSON",
            Format::Shapefile => "Shapefile",
            Format::ShapefileZip => "zipped Shapefile",
            Format::Kml => "KML",
            Format::Kmz => "KMZ",
            Format::GeoPackage => "GeoPackage",
            Format::FlatGeobuf => "FlatGeobuf",
            Format::Csv => "CSV",
            Format::Xlsx => "spreadsheet",
        })
    }
}
