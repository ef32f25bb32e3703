//! Reading and writing a district file (JSON in the shape of the spatial
//! model, coordinates as GeoJSON arrays).

use std::path::{Path, PathBuf};

use gridgov_spatial::District;

/// Errors reading or writing a district file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
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

/// The sample district the default store is created from.
pub const DEFAULT_DISTRICT: &str = "data/sample-district.json";
/// The default store.
pub const DEFAULT_GPKG: &str = "data/gridgov.gpkg";

/// Whether a `--db`/`--out` value is a PostgreSQL URL rather than a file.
pub fn is_postgres(p: &Path) -> bool {
    let s = p.to_string_lossy();
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// Reads a district file.
pub fn load(path: &Path) -> Result<District, StoreError> {
    let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| StoreError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a district: into an empty PostGIS database when `path` is a
/// `postgres://` URL, a new GeoPackage when it ends in `.gpkg` (an
/// existing store is never overwritten), else JSON. Both are written to a
/// temporary file and renamed, so a crash never leaves half a file.
pub fn save_any(path: &Path, d: &District) -> Result<(), Box<dyn std::error::Error>> {
    if is_postgres(path) {
        let url = path.to_string_lossy();
        if !crate::storage::PgStore::create_in(&url, d)? {
            return Err(
                "that database already holds a gridgov district; use another database or schema"
                    .into(),
            );
        }
        return Ok(());
    }
    if path.extension().is_some_and(|e| e == "gpkg") {
        if path.exists() {
            return Err(format!(
                "{}: a store already exists there; remove it first or choose another path",
                path.display()
            )
            .into());
        }
        crate::storage::gpkg::create(path, d)?;
        return Ok(());
    }
    Ok(save(path, d)?)
}

/// Writes a district JSON file atomically (temporary file, then rename).
pub fn save(path: &Path, d: &District) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
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
