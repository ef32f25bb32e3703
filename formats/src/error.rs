//! Errors reading and writing files.

use std::path::PathBuf;

use crate::Format;

/// What went wrong with a file; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// It could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Its name does not say a format gridgov reads.
    #[error(
        "{path}: unknown format; gridgov reads .geojson/.json, .shp (with .dbf, .prj, .cpg) or a .zip of one, .kml, .kmz, .gpkg, .csv and .xlsx"
    )]
    Unknown {
        /// The file.
        path: PathBuf,
    },
    /// A table, where a layer of features was asked for.
    #[error("{path}: a {format} file is a table, not a layer of features")]
    NotALayer {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: Format,
    },
    /// Its content is not what its format says.
    #[error("{path}: not a valid {format} file: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: Format,
        /// What is wrong.
        message: String,
    },
    /// Its coordinate system (`.prj`, SRS) is not one gridgov converts.
    #[error("{path}: its coordinate system: {source}")]
    Crs {
        /// The file.
        path: PathBuf,
        /// Why.
        source: gridgov_spatial::CrsError,
    },
    /// It holds several layers and none was named, or not the one named.
    #[error("{path}: {message}")]
    Layer {
        /// The file.
        path: PathBuf,
        /// Which layers there are.
        message: String,
    },
    /// A column named for points is not in the table.
    #[error("{path}: {message}")]
    Columns {
        /// The file.
        path: PathBuf,
        /// Which columns there are.
        message: String,
    },
}

impl FormatError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        FormatError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    // Errors of every kind are passed in whole, as `?` would.
    #[allow(clippy::needless_pass_by_value)]
    pub(crate) fn invalid(path: &std::path::Path, format: Format, message: impl ToString) -> Self {
        FormatError::Invalid {
            path: path.to_path_buf(),
            format,
            message: message.to_string(),
        }
    }
}
