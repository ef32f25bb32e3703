//! # gridgov-storage
//!
//! The stores behind the application's ports ([`gridgov_app::ports`]):
//! the embedded GeoPackage (default, one file QGIS and GDAL open as it
//! is) and PostgreSQL + PostGIS for deployments that outgrow one machine.
//! Both implement every port and pass the same contract tests
//! (`tests/contract.rs`).
//!
//! [`open`] is the one way from a `--db` string to a store; [`Target`]
//! says what a string names. Stores never read a clock: every time they
//! write comes from the application (a publication's time, a draft's,
//! a revocation's), or is handed to [`open`] for a store it creates.

mod district_file;
pub mod gpkg;
pub mod pg;
pub mod testing;
mod wkb;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gridgov_app::{AppendError, PublishError, Store, StoreError};
use gridgov_spatial::{District, Timestamp};

pub use district_file::{
    DistrictFileError, load as load_district_file, save as save_district_file,
};
pub use gpkg::GpkgStore;
pub use pg::PgStore;

/// The sample district the default store is created from.
pub const DEFAULT_DISTRICT: &str = "data/sample-district.json";
/// The default store.
pub const DEFAULT_GPKG: &str = "data/gridgov.gpkg";

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
    /// PostgreSQL refused an operation or the connection failed.
    #[error("PostgreSQL: {what}: {source}")]
    Postgres {
        /// What gridgov was doing.
        what: String,
        /// The driver's error.
        source: postgres::Error,
    },
    /// No connection to PostgreSQL could be had from the pool.
    #[error("PostgreSQL: {what}: {source}")]
    Pool {
        /// What gridgov was doing.
        what: String,
        /// The pool's error.
        source: r2d2::Error,
    },
    /// The stored data is not what gridgov wrote.
    #[error("the stored data is damaged: {0}")]
    Corrupt(String),
    /// A district file could not be read or written.
    #[error(transparent)]
    DistrictFile(#[from] DistrictFileError),
    /// A store exists where a new one was to be written.
    #[error("{0}")]
    Exists(String),
    /// There is no store where one was named.
    #[error("{0}: no such store")]
    Missing(String),
}

impl StorageError {
    /// Whether the error is about what the caller named rather than a
    /// failure of the store: a file or store that is not there, is not
    /// one, or is there where a new one was to be written.
    ///
    /// ```
    /// use gridgov_storage::StorageError;
    /// assert!(StorageError::Missing("x.gpkg".into()).is_bad_input());
    /// assert!(!StorageError::Corrupt("grids".into()).is_bad_input());
    /// ```
    pub fn is_bad_input(&self) -> bool {
        match self {
            StorageError::Exists(_)
            | StorageError::Missing(_)
            | StorageError::DistrictFile(DistrictFileError::Parse { .. }) => true,
            StorageError::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            StorageError::DistrictFile(DistrictFileError::Io { source, .. }) => {
                source.kind() == std::io::ErrorKind::NotFound
            }
            StorageError::Sqlite { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::NotADatabase)
            ),
            StorageError::Postgres { .. }
            | StorageError::Pool { .. }
            | StorageError::Corrupt(_) => false,
        }
    }
}

impl From<StorageError> for StoreError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Corrupt(s) => StoreError::Corrupt(s),
            e => StoreError::Backend(Box::new(e)),
        }
    }
}

impl From<StorageError> for AppendError {
    fn from(e: StorageError) -> Self {
        AppendError::Store(e.into())
    }
}

impl From<StorageError> for PublishError {
    fn from(e: StorageError) -> Self {
        PublishError::Store(e.into())
    }
}

/// A time as the stores keep it (sortable text, whole seconds, UTC).
pub(crate) fn time_text(t: Timestamp) -> String {
    gridgov_spatial::time::stored(t)
}

/// A stored time; `Corrupt` when it is not one.
pub(crate) fn read_time(s: &str, what: &str) -> Result<Timestamp, StorageError> {
    gridgov_spatial::time::parse_instant(s)
        .map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

/// A case's reporter as the stores keep it: JSON text, or NULL when the
/// resident gave nothing (most cases; nothing to parse at start-up).
pub(crate) fn reporter_text(r: Option<&gridgov_spatial::Reporter>) -> Option<String> {
    /// The reporter with the digest of its tracking token, which the
    /// reporter's own serialisation leaves out.
    #[derive(serde::Serialize)]
    struct Stored<'a> {
        #[serde(flatten)]
        r: &'a gridgov_spatial::Reporter,
        #[serde(skip_serializing_if = "Option::is_none")]
        tracking: Option<&'a str>,
    }
    r.map(|r| {
        serde_json::to_string(&Stored {
            r,
            tracking: r.tracking.as_deref(),
        })
        .expect("a reporter is plain strings")
    })
}

/// A stored reporter; `Corrupt` when the text is not one.
pub(crate) fn read_reporter(
    s: Option<String>,
    what: &str,
) -> Result<Option<Box<gridgov_spatial::Reporter>>, StorageError> {
    s.map(|s| {
        serde_json::from_str(&s)
            .map(Box::new)
            .map_err(|e| StorageError::Corrupt(format!("{what}: reporter: {e}")))
    })
    .transpose()
}

/// A building's leaders as the stores keep them: JSON text, or NULL when
/// it has none.
pub(crate) fn leaders_text(xs: &[gridgov_spatial::Staff]) -> Option<String> {
    (!xs.is_empty()).then(|| serde_json::to_string(xs).expect("staff are plain values"))
}

/// Stored leaders; `Corrupt` when the text is not a list of them.
pub(crate) fn read_leaders(
    s: Option<String>,
    what: &str,
) -> Result<Vec<gridgov_spatial::Staff>, StorageError> {
    s.map_or(Ok(Vec::new()), |s| {
        serde_json::from_str(&s).map_err(|e| StorageError::Corrupt(format!("{what}: leaders: {e}")))
    })
}

/// The `gridgov_meta` key of a district's own list of staff roles
/// (absent: the defaults).
pub(crate) const ROLES_KEY: &str = "staff_roles";

/// A roles list as stored in `gridgov_meta`.
pub(crate) fn roles_text(r: &gridgov_spatial::Roles) -> String {
    serde_json::to_string(r).expect("roles are plain values")
}

/// A stored roles list (`None`: the defaults); `Corrupt` when it is not one.
pub(crate) fn read_roles(s: Option<String>) -> Result<gridgov_spatial::Roles, StorageError> {
    s.map_or(Ok(gridgov_spatial::Roles::default()), |s| {
        serde_json::from_str(&s)
            .map_err(|e| StorageError::Corrupt(format!("gridgov_meta {ROLES_KEY}: {e}")))
    })
}

/// The steps of a generated sample's cases
/// (`District::sample_histories`), as appends to a new store's case log;
/// none for real data.
pub(crate) fn sample_appends(d: &gridgov_spatial::District) -> Vec<gridgov_app::Append> {
    let Some(seed) = d.sample_histories else {
        return Vec::new();
    };
    gridgov_spatial::sample_history::histories(d, seed)
        .into_iter()
        .flat_map(|(i, steps)| {
            steps.into_iter().map(move |e| gridgov_app::Append {
                case: i as i64 + 1,
                expected_seq: e.seq - 1,
                event: e,
                location: None,
            })
        })
        .collect()
}

/// What a `--db` or `--out` string names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A PostgreSQL database (`postgres://` or `postgresql://`).
    Postgres(String),
    /// A GeoPackage file (anything ending in `.gpkg`, and any other
    /// path that is not a district file).
    GeoPackage(PathBuf),
    /// A district JSON file (ending in `.json`).
    DistrictFile(PathBuf),
}

impl Target {
    /// What `s` names.
    ///
    /// ```
    /// use gridgov_storage::Target;
    /// assert!(matches!(Target::parse("postgres://u@h/db"), Target::Postgres(_)));
    /// assert!(matches!(Target::parse("data/gridgov.gpkg"), Target::GeoPackage(_)));
    /// assert!(matches!(Target::parse("d.json"), Target::DistrictFile(_)));
    /// ```
    pub fn parse(s: &str) -> Target {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Target::Postgres(s.to_owned())
        } else if Path::new(s).extension().is_some_and(|e| e == "json") {
            Target::DistrictFile(PathBuf::from(s))
        } else {
            Target::GeoPackage(PathBuf::from(s))
        }
    }
}

/// An opened store.
pub struct Opened {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Whether it was created from the seed just now.
    pub created: bool,
}

/// Opens the store `db` names: a PostgreSQL URL is a PostGIS database,
/// anything else a GeoPackage file. Either is created from `seed` (a
/// district file) when empty, its boundaries published as version 1 at
/// `now`. A district file is not a store: it is refused.
pub fn open(db: &str, seed: &Path, now: Timestamp) -> Result<Opened, StorageError> {
    match Target::parse(db) {
        Target::Postgres(url) => {
            let (s, created) = PgStore::open_or_create(&url, seed, now)?;
            Ok(Opened {
                store: Arc::new(s),
                created,
            })
        }
        Target::GeoPackage(path) => {
            let (s, created) = GpkgStore::open_or_create(&path, seed, now)?;
            Ok(Opened {
                store: Arc::new(s),
                created,
            })
        }
        Target::DistrictFile(p) => Err(StorageError::Exists(format!(
            "{}: a district file is not a store; name a .gpkg file or a postgres:// URL",
            p.display()
        ))),
    }
}

/// Checks the store `db` names for damage without opening it for use:
/// a GeoPackage gets SQLite's full `PRAGMA integrity_check` (every page,
/// and every index against its table); a PostGIS database is asked
/// whether it answers (PostgreSQL checks its own pages). The damage
/// found, one line each; empty when it is sound.
pub fn check(db: &str) -> Result<Vec<String>, StorageError> {
    match Target::parse(db) {
        Target::GeoPackage(path) => {
            if !path.exists() {
                return Err(StorageError::Io {
                    path: path.clone(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such store"),
                });
            }
            let conn = rusqlite::Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .map_err(|e| StorageError::Corrupt(format!("{}: {e}", path.display())))?;
            let mut st = match conn.prepare("PRAGMA integrity_check") {
                Ok(st) => st,
                Err(e) => return Ok(vec![e.to_string()]),
            };
            let rows = st.query_map([], |r| r.get::<_, String>(0));
            let mut out = Vec::new();
            match rows {
                Ok(rows) => {
                    for r in rows {
                        match r {
                            Ok(text) => out.extend(
                                text.lines()
                                    .filter(|l| *l != "ok" && !l.starts_with("***"))
                                    .map(str::to_owned),
                            ),
                            Err(e) => out.push(e.to_string()),
                        }
                    }
                }
                Err(e) => out.push(e.to_string()),
            }
            Ok(out)
        }
        Target::Postgres(url) => {
            PgStore::ping(&url)?;
            Ok(Vec::new())
        }
        Target::DistrictFile(p) => Err(StorageError::Exists(format!(
            "{}: a district file is not a store; name a .gpkg file or a postgres:// URL",
            p.display()
        ))),
    }
}

/// Reads a district from what `db` names: a district file as it is, an
/// existing GeoPackage as it is (even one an earlier gridgov wrote), or
/// a PostGIS database (created from `seed` at `now` when empty).
pub fn load_district(db: &str, seed: &Path, now: Timestamp) -> Result<District, StorageError> {
    match Target::parse(db) {
        Target::DistrictFile(p) => Ok(district_file::load(&p)?),
        Target::GeoPackage(p) => {
            if !p.exists() {
                return Err(StorageError::Missing(p.display().to_string()));
            }
            gpkg::schema::load(&gpkg::schema::open(&p)?)
        }
        Target::Postgres(url) => PgStore::open_or_create(&url, seed, now)?.0.load_district(),
    }
}

/// Replaces the base map (roads, water, place names) of the district in
/// the store `db` names with `features`, in one transaction (a district
/// file is rewritten whole, atomically). Everything else is left as it
/// is.
pub fn replace_basemap(
    db: &str,
    features: &[gridgov_spatial::MapFeature],
) -> Result<(), StorageError> {
    match Target::parse(db) {
        Target::Postgres(url) => PgStore::replace_basemap_in(&url, features),
        Target::GeoPackage(p) => {
            if !p.exists() {
                return Err(StorageError::Missing(p.display().to_string()));
            }
            gpkg::schema::replace_basemap(&mut gpkg::schema::open(&p)?, features)
        }
        Target::DistrictFile(p) => {
            let mut d = district_file::load(&p)?;
            d.basemap = features.iter().cloned().collect();
            Ok(district_file::save(&p, &d)?)
        }
    }
}

/// Writes a district where `out` names: into an empty PostGIS database,
/// a new GeoPackage (an existing store is never overwritten), or a JSON
/// file. Files are written to a temporary file and renamed, so a crash
/// never leaves half of one. `now` is when its boundaries are published
/// as version 1.
pub fn save_district(out: &str, d: &District, now: Timestamp) -> Result<(), StorageError> {
    match Target::parse(out) {
        Target::Postgres(url) => {
            if PgStore::create_in(&url, d, now)? {
                // It exists now: the seed is not read.
                let (s, _) = PgStore::open_or_create(&url, Path::new(""), now)?;
                write_sample_histories(&s, d)
            } else {
                Err(StorageError::Exists(
                    "that database already holds a gridgov district; use another database or schema"
                        .into(),
                ))
            }
        }
        Target::GeoPackage(path) => {
            if path.exists() {
                return Err(StorageError::Exists(format!(
                    "{}: a store already exists there; remove it first or choose another path",
                    path.display()
                )));
            }
            gpkg::schema::create(&path, d, now)?;
            if d.sample_histories.is_some() {
                let (s, _) = GpkgStore::open_or_create(&path, Path::new(""), now)?;
                write_sample_histories(&s, d)?;
            }
            Ok(())
        }
        Target::DistrictFile(path) => Ok(district_file::save(&path, d)?),
    }
}

/// A new store's case log gets the generated sample's histories.
fn write_sample_histories(
    store: &dyn gridgov_app::CaseStore,
    d: &District,
) -> Result<(), StorageError> {
    let appends = sample_appends(d);
    if appends.is_empty() {
        return Ok(());
    }
    store
        .append_steps(&appends)
        .map_err(|e| StorageError::Corrupt(format!("the sample's case histories: {e}")))
}
