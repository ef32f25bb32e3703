//! Reading and writing a district file (JSON in the shape of the spatial
//! model, coordinates as GeoJSON arrays).

use std::path::{Path, PathBuf};

use gridgov_spatial::District;

/// Errors reading or writing a district file.
#[derive(Debug, thiserror::Error)]
pub enum DistrictFileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not a district.
    #[error("{path}: not a gridgov district file: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and why parsing failed.
        source: serde_json::Error,
    },
}

/// Reads a district file.
pub fn load(path: &Path) -> Result<District, DistrictFileError> {
    let bytes = std::fs::read(path).map_err(|source| DistrictFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| DistrictFileError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a district JSON file atomically (temporary file, then rename).
pub fn save(path: &Path, d: &District) -> Result<(), DistrictFileError> {
    let io = |source| DistrictFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("json.tmp");
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    serde_json::to_writer(&mut w, d).map_err(|e| io(std::io::Error::other(e)))?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
