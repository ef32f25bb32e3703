//! Storage: the embedded GeoPackage store behind one trait.

pub mod gpkg;
pub mod wkb;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gridgov_spatial::District;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite refused an operation.
    #[error("GeoPackage: {what}: {source}")]
    Sqlite {
        /// What gridgov was doing.
        what: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The stored data is not what gridgov wrote.
    #[error("GeoPackage content is damaged: {0}")]
    Corrupt(String),
    /// The seed district could not be read.
    #[error("seed district: {0}")]
    Seed(#[from] crate::store::StoreError),
}

/// Where districts are kept.
pub trait Store: Send + Sync {
    /// Reads the whole district.
    fn load(&self) -> Result<District, StorageError>;
    /// A short description for logs ("GeoPackage data/gridgov.gpkg").
    fn describe(&self) -> String;
}

/// The embedded store: one GeoPackage file.
pub struct GpkgStore {
    path: PathBuf,
    conn: Mutex<rusqlite::Connection>,
}

impl GpkgStore {
    /// Opens the GeoPackage at `path`, creating it from `seed` (a district
    /// JSON file) when it does not exist yet.
    pub fn open_or_create(path: &Path, seed: &Path) -> Result<(Self, bool), StorageError> {
        let created = !path.exists();
        if created {
            let d = crate::store::load(seed)?;
            gpkg::create(path, &d)?;
        }
        let conn = gpkg::open(path)?;
        Ok((
            GpkgStore {
                path: path.to_path_buf(),
                conn: Mutex::new(conn),
            },
            created,
        ))
    }
}

impl Store for GpkgStore {
    fn load(&self) -> Result<District, StorageError> {
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        gpkg::load(&conn)
    }

    fn describe(&self) -> String {
        format!("GeoPackage {}", self.path.display())
    }
}
