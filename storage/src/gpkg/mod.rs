//! The embedded store: one OGC GeoPackage file (`schema.rs`: the layers,
//! the R-tree index and its triggers, WAL + `synchronous=FULL`;
//! `versions.rs`: boundary versions and drafts; `cases.rs`: incidents and
//! their append-only steps; `accounts.rs`: users, tokens, the audit log
//! and household edits).
//!
//! One connection behind a mutex: SQLite has one writer at a time, and
//! the snapshot in memory answers the reads that matter for speed.

pub mod accounts;
pub mod cases;
mod group;
pub mod panoramas;
pub mod schema;
pub mod sensors;
pub mod versions;
pub mod visits;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use gridgov_app::accounts::{AuditEntry, AuditQuery, TokenRecord, User};
use gridgov_app::{
    AccountStore, Append, AppendError, AuditRecord, AuditStore, BoundaryStore, CaseStep, CaseStore,
    DistrictStore, DraftRecord, GridRecord, GridVersion, HouseholdStore, Publication, PublishError,
    Revoke, StoreError, StoredIncident, UnitChange, UserRecord, VersionInfo, VisitStore,
};
use gridgov_spatial::{
    BuildingId, Date, District, Household, HouseholdId, Incident, Staff, Timestamp, UnitId,
};

use crate::StorageError;

/// The embedded store: one GeoPackage file.
pub struct GpkgStore {
    path: PathBuf,
    conn: Mutex<rusqlite::Connection>,
    /// Case writes waiting to be committed together.
    writes: group::Queue,
}

impl GpkgStore {
    /// Opens the GeoPackage at `path`, creating it from `seed` (a district
    /// file) when it does not exist yet; a store from an earlier version
    /// of gridgov is upgraded in place. `now` dates what is created.
    /// Returns the store and whether it was created.
    pub fn open_or_create(
        path: &Path,
        seed: &Path,
        now: Timestamp,
    ) -> Result<(Self, bool), StorageError> {
        let created = !path.exists();
        let mut appends = Vec::new();
        if created {
            let d = crate::district_file::load(seed)?;
            schema::create(path, &d, now)?;
            appends = crate::sample_appends(&d);
        }
        let mut conn = schema::open(path)?;
        schema::ensure_layers(&conn)?;
        versions::upgrade(&mut conn, now)?;
        cases::ensure_schema(&conn)?;
        accounts::ensure_schema(&conn)?;
        visits::ensure_schema(&conn)?;
        sensors::ensure_schema(&conn)?;
        panoramas::ensure_schema(&conn)?;
        let store = GpkgStore {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            writes: group::Queue::default(),
        };
        if !appends.is_empty() {
            store
                .append_steps(&appends)
                .map_err(|e| StorageError::Corrupt(format!("the sample's case histories: {e}")))?;
        }
        Ok((store, created))
    }

    fn conn(&self) -> MutexGuard<'_, rusqlite::Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The answer to a queued case write: written by this thread with
    /// whatever other writes are waiting, in one transaction, or by the
    /// thread that held the connection meanwhile (see [`group`]).
    fn committed<T>(&self, answer: &std::sync::mpsc::Receiver<T>) -> T {
        loop {
            if let Ok(done) = answer.try_recv() {
                return done;
            }
            let mut conn = self.conn();
            if let Ok(done) = answer.try_recv() {
                return done;
            }
            self.writes.run(&mut conn);
        }
    }
}

impl DistrictStore for GpkgStore {
    fn load(&self) -> Result<District, StoreError> {
        Ok(schema::load(&self.conn())?)
    }

    fn describe(&self) -> String {
        format!("GeoPackage {}", self.path.display())
    }
}

impl BoundaryStore for GpkgStore {
    fn grid_versions(&self) -> Result<HashMap<String, i64>, StoreError> {
        Ok(versions::grid_versions(&self.conn())?)
    }

    fn latest_version(&self) -> Result<i64, StoreError> {
        Ok(versions::latest(&self.conn())?)
    }

    fn publish(&self, p: &Publication) -> Result<VersionInfo, PublishError> {
        versions::publish(&mut self.conn(), p)
    }

    fn versions(&self) -> Result<Vec<VersionInfo>, StoreError> {
        Ok(versions::versions(&self.conn())?)
    }

    fn grid_history(&self, code: &str) -> Result<Vec<GridVersion>, StoreError> {
        Ok(versions::grid_history(&self.conn(), code)?)
    }

    fn grids_at(&self, version: i64) -> Result<Vec<GridRecord>, StoreError> {
        Ok(versions::grids_at(&self.conn(), version)?)
    }

    fn version_on(&self, date: Date) -> Result<Option<i64>, StoreError> {
        Ok(versions::version_on(&self.conn(), date)?)
    }

    fn save_draft(&self, d: &DraftRecord) -> Result<(), StoreError> {
        Ok(versions::save_draft(&self.conn(), d)?)
    }

    fn load_draft(&self, id: &str) -> Result<Option<DraftRecord>, StoreError> {
        Ok(versions::load_draft(&self.conn(), id)?)
    }
}

impl CaseStore for GpkgStore {
    fn add_incidents(&self, xs: &[Incident]) -> Result<Vec<i64>, StoreError> {
        self.committed(&self.writes.add(xs.to_vec()))
    }

    fn append_steps(&self, batch: &[Append]) -> Result<(), AppendError> {
        self.committed(&self.writes.append(batch.to_vec()))
    }

    fn steps(&self, case: Option<i64>) -> Result<Vec<CaseStep>, StoreError> {
        Ok(cases::events(&self.conn(), case)?)
    }

    fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError> {
        Ok(cases::incident(&self.conn(), id)?)
    }

    fn incidents(&self) -> Result<Vec<StoredIncident>, StoreError> {
        Ok(cases::incidents(&self.conn())?)
    }

    fn incident_revision(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM case_events)",
                [],
                |r| r.get(0),
            )
            .map_err(versions::sql("count incidents and steps"))?)
    }

    fn dispatched_to(
        &self,
        to: &gridgov_spatial::workflow::Assignee,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(cases::dispatched_to(&self.conn(), to)?)
    }
}

impl AccountStore for GpkgStore {
    fn users(&self) -> Result<Vec<User>, StoreError> {
        Ok(accounts::users(&self.conn())?)
    }

    fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(accounts::user(&self.conn(), name)?)
    }

    fn create_user(&self, u: &UserRecord) -> Result<bool, StoreError> {
        Ok(accounts::create_user(&self.conn(), u)?)
    }

    fn update_user(&self, u: &User, password_hash: Option<&str>) -> Result<bool, StoreError> {
        Ok(accounts::update_user(&self.conn(), u, password_hash)?)
    }

    fn add_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        Ok(accounts::add_token(&self.conn(), t)?)
    }

    fn token(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(accounts::token(&self.conn(), digest)?)
    }

    fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(accounts::tokens(&self.conn(), user)?)
    }

    fn revoke_tokens(&self, which: &Revoke, at: Timestamp) -> Result<usize, StoreError> {
        Ok(accounts::revoke_tokens(&self.conn(), which, at)?)
    }
}

impl AuditStore for GpkgStore {
    fn append_audit(&self, xs: &[AuditEntry]) -> Result<(), StoreError> {
        Ok(accounts::append_audit(&mut self.conn(), xs)?)
    }

    fn audit_log(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(accounts::audit_log(&self.conn(), q)?)
    }
}

impl gridgov_app::PhotoStore for GpkgStore {
    fn add_photo(&self, p: &gridgov_app::photos::NewPhoto) -> Result<i64, StoreError> {
        Ok(visits::add_photo(&self.conn(), p)?)
    }

    fn photo_info(&self, id: i64) -> Result<Option<gridgov_app::photos::PhotoInfo>, StoreError> {
        Ok(visits::photo_info(&self.conn(), id)?)
    }

    fn photo_bytes(&self, id: i64, thumb: bool) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(visits::photo_bytes(&self.conn(), id, thumb)?)
    }

    fn photos_of(
        &self,
        owner: gridgov_app::photos::PhotoOwner,
    ) -> Result<Vec<gridgov_app::photos::PhotoInfo>, StoreError> {
        Ok(visits::photos_of(&self.conn(), owner)?)
    }
}

impl gridgov_app::PanoramaStore for GpkgStore {
    fn add_panorama(&self, p: &gridgov_app::panoramas::NewPanorama) -> Result<i64, StoreError> {
        Ok(panoramas::add(&self.conn(), p)?)
    }

    fn panoramas(&self) -> Result<Vec<gridgov_app::panoramas::PanoramaInfo>, StoreError> {
        Ok(panoramas::all(&self.conn())?)
    }

    fn panorama_bytes(&self, id: i64, thumb: bool) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(panoramas::bytes(&self.conn(), id, thumb)?)
    }
}

impl gridgov_app::SensorStore for GpkgStore {
    fn sensors(
        &self,
    ) -> Result<
        Vec<(
            gridgov_spatial::sensors::Sensor,
            gridgov_spatial::sensors::SensorState,
        )>,
        StoreError,
    > {
        Ok(sensors::sensors(&self.conn())?)
    }

    fn sensor(
        &self,
        code: &str,
    ) -> Result<
        Option<(
            gridgov_spatial::sensors::Sensor,
            gridgov_spatial::sensors::SensorState,
        )>,
        StoreError,
    > {
        Ok(sensors::sensor(&self.conn(), code)?)
    }

    fn put_sensor(&self, s: &gridgov_spatial::sensors::Sensor) -> Result<bool, StoreError> {
        Ok(sensors::put_sensor(&self.conn(), s)?)
    }

    fn record_readings(
        &self,
        code: &str,
        readings: &[(Timestamp, f64)],
        state: &gridgov_spatial::sensors::SensorState,
    ) -> Result<(), StoreError> {
        Ok(sensors::record(&mut self.conn(), code, readings, state)?)
    }

    fn readings(
        &self,
        code: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        Ok(sensors::readings(&self.conn(), code, from, to, limit)?)
    }
}

impl VisitStore for GpkgStore {
    fn append_visit(&self, v: &gridgov_app::visits::NewVisit) -> Result<i64, StoreError> {
        Ok(visits::append_visit(&self.conn(), v)?)
    }

    fn visits(
        &self,
        household: HouseholdId,
    ) -> Result<Vec<gridgov_app::visits::Visit>, StoreError> {
        Ok(visits::visits(&self.conn(), household)?)
    }

    fn visits_after(&self, after: i64) -> Result<Vec<gridgov_app::visits::Visit>, StoreError> {
        Ok(visits::visits_after(&self.conn(), after)?)
    }
}

impl HouseholdStore for GpkgStore {
    fn update_household(&self, id: HouseholdId, h: &Household) -> Result<bool, StoreError> {
        Ok(accounts::update_household(&self.conn(), id, h)?)
    }

    fn update_unit(&self, id: UnitId, u: &UnitChange) -> Result<bool, StoreError> {
        Ok(accounts::update_unit(&self.conn(), id, u)?)
    }

    fn household(&self, id: HouseholdId) -> Result<Option<Household>, StoreError> {
        Ok(accounts::household(&self.conn(), id)?)
    }

    fn unit_change(&self, id: UnitId) -> Result<Option<UnitChange>, StoreError> {
        Ok(accounts::unit_change(&self.conn(), id)?)
    }

    fn update_building_leaders(
        &self,
        id: BuildingId,
        leaders: &[Staff],
    ) -> Result<bool, StoreError> {
        Ok(accounts::update_building_leaders(
            &self.conn(),
            id,
            leaders,
        )?)
    }

    fn building_leaders(&self, id: BuildingId) -> Result<Option<Vec<Staff>>, StoreError> {
        Ok(accounts::building_leaders(&self.conn(), id)?)
    }

    fn set_roles(&self, roles: &gridgov_spatial::Roles) -> Result<(), StoreError> {
        Ok(accounts::set_roles(&self.conn(), roles)?)
    }

    fn roles(&self) -> Result<gridgov_spatial::Roles, StoreError> {
        Ok(accounts::roles(&self.conn())?)
    }
}
