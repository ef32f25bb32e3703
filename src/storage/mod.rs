//! Storage behind one trait: the embedded GeoPackage store (default) and
//! PostgreSQL + PostGIS for deployments that outgrow one machine.

pub mod accounts;
pub mod cases;
pub mod gpkg;
pub mod pg;
pub mod pg_accounts;
pub mod pg_cases;
#[cfg(test)]
pub mod testing;
pub mod versions;
pub mod wkb;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gridgov_spatial::workflow::Event;
use gridgov_spatial::{District, Household, Incident};

use crate::accounts::{AuditEntry, AuditQuery, TokenRecord, User};

pub use cases::{Append, AppendError};

/// A time as the stores keep it (sortable text, whole seconds, UTC).
pub(crate) fn time_text(t: gridgov_spatial::Timestamp) -> String {
    gridgov_spatial::time::stored(t)
}

/// A stored time; `Corrupt` when it is not one.
pub(crate) fn read_time(s: &str, what: &str) -> Result<gridgov_spatial::Timestamp, StorageError> {
    gridgov_spatial::time::parse_instant(s)
        .map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

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
    /// The stored data is not what gridgov wrote.
    #[error("GeoPackage content is damaged: {0}")]
    Corrupt(String),
    /// The seed district could not be read.
    #[error("seed district: {0}")]
    Seed(#[from] crate::store::StoreError),
}

use versions::{GridRecord, Publication, PublishError, VersionInfo};

/// Where districts and their boundary versions are kept.
pub trait Store: Send + Sync {
    /// Reads the whole district (current boundaries).
    fn load(&self) -> Result<District, StorageError>;
    /// A short description for logs ("GeoPackage data/gridgov.gpkg").
    fn describe(&self) -> String;
    /// The current version of every grid.
    fn grid_versions(&self) -> Result<HashMap<String, i64>, StorageError>;
    /// The latest published version.
    fn latest_version(&self) -> Result<i64, StorageError>;
    /// Publishes a change atomically, or refuses it on a conflict.
    fn publish(&self, p: &Publication) -> Result<VersionInfo, PublishError>;
    /// Every version, oldest first.
    fn versions(&self) -> Result<Vec<VersionInfo>, StorageError>;
    /// Every version of one grid.
    fn grid_history(&self, code: &str) -> Result<Vec<(i64, GridRecord)>, StorageError>;
    /// The grids in force at a version.
    fn grids_at(&self, version: i64) -> Result<Vec<GridRecord>, StorageError>;
    /// The version in force on a date (YYYY-MM-DD).
    fn version_on(&self, date: &str) -> Result<Option<i64>, StorageError>;
    /// Stores a new draft.
    fn save_draft(&self, id: &str, body: &str) -> Result<(), StorageError>;
    /// A draft: body, status, published version.
    fn load_draft(&self, id: &str) -> Result<Option<(String, String, Option<i64>)>, StorageError>;
    /// Marks a draft published.
    fn mark_published(&self, id: &str, version: i64) -> Result<(), StorageError>;
    /// Adds incidents (all or none); their ids, in order. Ids are dense:
    /// incident `n` is the district's `n - 1`th.
    fn add_incidents(&self, xs: &[Incident]) -> Result<Vec<i64>, StorageError>;
    /// Appends steps to cases (all or none), each only if its case is
    /// still at the step the caller saw.
    fn append_steps(&self, batch: &[Append]) -> Result<(), AppendError>;
    /// The steps of one case, or of all (`None`), by case and step.
    fn steps(&self, case: Option<i64>) -> Result<Vec<(i64, Event)>, StorageError>;
    /// Incidents with their ids: one (`Some(id)`) or all.
    fn incidents(&self, id: Option<i64>) -> Result<Vec<(i64, Incident)>, StorageError>;
    /// The revision of the incidents: the number of incidents plus the
    /// number of steps. Both only ever grow (ids are dense, steps are
    /// append-only, a pin move is a step), so it moves with every change.
    fn incident_revision(&self) -> Result<i64, StorageError>;
    /// Every user, by name.
    fn users(&self) -> Result<Vec<User>, StorageError>;
    /// One user and their password hash.
    fn user(&self, name: &str) -> Result<Option<(User, String)>, StorageError>;
    /// Adds a user; `false` when the name is taken.
    fn create_user(&self, u: &User, hash: &str) -> Result<bool, StorageError>;
    /// Changes a user, and their password hash when given; `false` when
    /// there is no such user.
    fn update_user(&self, u: &User, hash: Option<&str>) -> Result<bool, StorageError>;
    /// Stores a token's record (its digest, never the token).
    fn add_token(&self, t: &TokenRecord) -> Result<(), StorageError>;
    /// The token with this digest.
    fn token(&self, digest: &str) -> Result<Option<TokenRecord>, StorageError>;
    /// Tokens, of one user or of all, newest first.
    fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenRecord>, StorageError>;
    /// Revokes the token with public id `id`, or all of `user`'s (both:
    /// that token only if it is theirs); how many.
    fn revoke_tokens(
        &self,
        id: Option<&str>,
        user: Option<&str>,
        at: &str,
    ) -> Result<usize, StorageError>;
    /// Appends lines to the audit log (never changed, never deleted).
    fn append_audit(&self, xs: &[AuditEntry]) -> Result<(), StorageError>;
    /// Audit lines matching `q`, newest first, with their ids.
    fn audit_log(&self, q: &AuditQuery) -> Result<Vec<(i64, AuditEntry)>, StorageError>;
    /// Changes household `index`'s room, headcount and personal fields;
    /// `false` when there is no such household.
    fn update_household(&self, index: usize, h: &Household) -> Result<bool, StorageError>;
    /// Changes unit `index`'s label and number of households; `false`
    /// when there is no such unit.
    fn update_unit(&self, index: usize, label: &str, households: u32)
    -> Result<bool, StorageError>;
    /// Reports, from a background thread, the latest version whenever it
    /// may have changed through another process; stops when `on_version`
    /// returns `false`. The embedded store has one writer (this process),
    /// so by default there is nothing to watch.
    fn watch(&self, on_version: Box<dyn Fn(i64) -> bool + Send>) -> Result<(), StorageError> {
        drop(on_version);
        Ok(())
    }
}

pub use pg::PgStore;

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
        let mut conn = gpkg::open(path)?;
        versions::upgrade(&mut conn)?;
        cases::ensure_schema(&conn)?;
        accounts::ensure_schema(&conn)?;
        Ok((
            GpkgStore {
                path: path.to_path_buf(),
                conn: Mutex::new(conn),
            },
            created,
        ))
    }
}

impl GpkgStore {
    fn conn(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Store for GpkgStore {
    fn load(&self) -> Result<District, StorageError> {
        gpkg::load(&self.conn())
    }

    fn describe(&self) -> String {
        format!("GeoPackage {}", self.path.display())
    }

    fn grid_versions(&self) -> Result<HashMap<String, i64>, StorageError> {
        versions::grid_versions(&self.conn())
    }

    fn latest_version(&self) -> Result<i64, StorageError> {
        versions::latest(&self.conn())
    }

    fn publish(&self, p: &Publication) -> Result<VersionInfo, PublishError> {
        versions::publish(&mut self.conn(), p, &crate::service::now_rfc3339())
    }

    fn versions(&self) -> Result<Vec<VersionInfo>, StorageError> {
        versions::versions(&self.conn())
    }

    fn grid_history(&self, code: &str) -> Result<Vec<(i64, GridRecord)>, StorageError> {
        versions::grid_history(&self.conn(), code)
    }

    fn grids_at(&self, version: i64) -> Result<Vec<GridRecord>, StorageError> {
        versions::grids_at(&self.conn(), version)
    }

    fn version_on(&self, date: &str) -> Result<Option<i64>, StorageError> {
        versions::version_on(&self.conn(), date)
    }

    fn save_draft(&self, id: &str, body: &str) -> Result<(), StorageError> {
        versions::save_draft(&self.conn(), id, &crate::service::now_rfc3339(), body)
    }

    fn load_draft(&self, id: &str) -> Result<Option<(String, String, Option<i64>)>, StorageError> {
        versions::load_draft(&self.conn(), id)
    }

    fn mark_published(&self, id: &str, version: i64) -> Result<(), StorageError> {
        versions::mark_published(&self.conn(), id, version)
    }

    fn add_incidents(&self, xs: &[Incident]) -> Result<Vec<i64>, StorageError> {
        cases::add_incidents(&mut self.conn(), xs)
    }

    fn append_steps(&self, batch: &[Append]) -> Result<(), AppendError> {
        cases::append(&mut self.conn(), batch)
    }

    fn steps(&self, case: Option<i64>) -> Result<Vec<(i64, Event)>, StorageError> {
        cases::events(&self.conn(), case)
    }

    fn incidents(&self, id: Option<i64>) -> Result<Vec<(i64, Incident)>, StorageError> {
        match id {
            Some(id) => Ok(cases::incident(&self.conn(), id)?
                .map(|x| vec![(id, x)])
                .unwrap_or_default()),
            None => cases::incidents(&self.conn()),
        }
    }

    fn incident_revision(&self) -> Result<i64, StorageError> {
        self.conn()
            .query_row(
                "SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM case_events)",
                [],
                |r| r.get(0),
            )
            .map_err(versions::sql("count incidents and steps"))
    }

    fn users(&self) -> Result<Vec<User>, StorageError> {
        accounts::users(&self.conn())
    }

    fn user(&self, name: &str) -> Result<Option<(User, String)>, StorageError> {
        accounts::user(&self.conn(), name)
    }

    fn create_user(&self, u: &User, hash: &str) -> Result<bool, StorageError> {
        accounts::create_user(&self.conn(), u, hash)
    }

    fn update_user(&self, u: &User, hash: Option<&str>) -> Result<bool, StorageError> {
        accounts::update_user(&self.conn(), u, hash)
    }

    fn add_token(&self, t: &TokenRecord) -> Result<(), StorageError> {
        accounts::add_token(&self.conn(), t)
    }

    fn token(&self, digest: &str) -> Result<Option<TokenRecord>, StorageError> {
        accounts::token(&self.conn(), digest)
    }

    fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenRecord>, StorageError> {
        accounts::tokens(&self.conn(), user)
    }

    fn revoke_tokens(
        &self,
        id: Option<&str>,
        user: Option<&str>,
        at: &str,
    ) -> Result<usize, StorageError> {
        accounts::revoke_tokens(&self.conn(), id, user, at)
    }

    fn append_audit(&self, xs: &[AuditEntry]) -> Result<(), StorageError> {
        accounts::append_audit(&mut self.conn(), xs)
    }

    fn audit_log(&self, q: &AuditQuery) -> Result<Vec<(i64, AuditEntry)>, StorageError> {
        accounts::audit_log(&self.conn(), q)
    }

    fn update_household(&self, index: usize, h: &Household) -> Result<bool, StorageError> {
        accounts::update_household(&self.conn(), index, h)
    }

    fn update_unit(
        &self,
        index: usize,
        label: &str,
        households: u32,
    ) -> Result<bool, StorageError> {
        accounts::update_unit(&self.conn(), index, label, households)
    }
}
