//! Ports: what the application asks of storage, one small trait per
//! concern, with typed records. `gridgov-storage` implements them for the
//! GeoPackage and PostGIS stores; [`Store`] is all of them at once.
//!
//! Every write is one transaction in the store: a publish records the
//! version, the grids and the draft it came from together; a batch of
//! steps is appended whole or not at all. The application hands the
//! stores the times they write (see [`crate::clock`]).

use std::collections::HashMap;

use geo::MultiPolygon;
use gridgov_spatial::workflow::Event;
use gridgov_spatial::{
    BuildingId, Date, District, GridKind, Household, HouseholdId, Incident, Staff, Timestamp,
    UnitId,
};
use serde::{Deserialize, Serialize};

use crate::accounts::{AuditEntry, AuditQuery, TokenRecord, User};

/// A store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached, or refused an operation.
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    /// The stored data is not what gridgov wrote.
    #[error("the stored data is damaged: {0}")]
    Corrupt(String),
}

/// The district as stored.
pub trait DistrictStore: Send + Sync {
    /// Reads the whole district (current boundaries).
    fn load(&self) -> Result<District, StoreError>;
    /// A short description for logs ("GeoPackage data/gridgov.gpkg").
    fn describe(&self) -> String;
}

/// One published version of the boundaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// 1, 2, 3, …
    pub version: i64,
    /// Who published it (the signed-in user).
    pub author: String,
    /// When.
    pub published_at: Timestamp,
    /// Why.
    pub reason: String,
    /// The day from which these boundaries are in force.
    pub effective_date: Date,
    /// The version this one restores, for a rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<i64>,
    /// Grid codes changed.
    pub grids: Vec<String>,
}

/// A grid as stored in one version; `boundary: None` means removed.
#[derive(Debug, Clone, PartialEq)]
pub struct GridRecord {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Basic or exclusive.
    pub kind: GridKind,
    /// Community code.
    pub parent_code: Option<String>,
    /// Institution (exclusive grids).
    pub institution: Option<String>,
    /// Staff.
    pub staff: Vec<Staff>,
    /// Boundary; `None` when the grid was removed in this version.
    pub boundary: Option<MultiPolygon<f64>>,
}

impl GridRecord {
    /// The record of grid `code` in `d`, or a removal when `d` has none.
    ///
    /// ```
    /// use gridgov_app::GridRecord;
    /// let d = gridgov_spatial::sample::district(&Default::default());
    /// assert!(GridRecord::from_district(&d, "370402005001001").boundary.is_some());
    /// assert!(GridRecord::from_district(&d, "nowhere").boundary.is_none());
    /// ```
    pub fn from_district(d: &District, code: &str) -> Self {
        match d.area_by_code(code) {
            Some(id) => {
                let a = d.area(id);
                GridRecord {
                    code: code.to_string(),
                    name: a.name.clone(),
                    kind: a.kind.unwrap_or(GridKind::Basic),
                    parent_code: a.parent.map(|p| d.area(p).code.clone()),
                    institution: a.institution.clone(),
                    staff: a.staff.clone(),
                    boundary: Some(a.boundary.clone()),
                }
            }
            None => GridRecord {
                code: code.to_string(),
                name: String::new(),
                kind: GridKind::Basic,
                parent_code: None,
                institution: None,
                staff: Vec::new(),
                boundary: None,
            },
        }
    }
}

/// A grid as one version left it.
#[derive(Debug, Clone, PartialEq)]
pub struct GridVersion {
    /// The version.
    pub version: i64,
    /// The grid then.
    pub record: GridRecord,
}

/// What to publish, as one transaction.
#[derive(Debug, Clone)]
pub struct Publication {
    /// Who.
    pub author: String,
    /// Why.
    pub reason: String,
    /// In force from.
    pub effective_date: Date,
    /// When it is published.
    pub published_at: Timestamp,
    /// For each changed grid, the version the planner started from
    /// (0 for a new grid).
    pub base: HashMap<String, i64>,
    /// The grids as they are after the change.
    pub records: Vec<GridRecord>,
    /// For a rollback: the version restored.
    pub rollback_of: Option<i64>,
    /// The draft this publishes, marked published in the same transaction.
    pub draft: Option<String>,
}

impl Publication {
    /// The grids that moved on since the planner read them, with their
    /// current versions; empty when the publish may go ahead.
    pub fn conflicts(&self, current: &HashMap<String, i64>) -> Vec<(String, i64)> {
        self.records
            .iter()
            .filter_map(|r| {
                let now = current.get(&r.code).copied().unwrap_or(0);
                let base = self.base.get(&r.code).copied().unwrap_or(0);
                (now != base).then(|| (r.code.clone(), now))
            })
            .collect()
    }

    /// What was published, as `version`.
    pub fn info(&self, version: i64) -> VersionInfo {
        VersionInfo {
            version,
            author: self.author.clone(),
            published_at: self.published_at,
            reason: self.reason.clone(),
            effective_date: self.effective_date,
            rollback_of: self.rollback_of,
            grids: self.records.iter().map(|r| r.code.clone()).collect(),
        }
    }
}

/// Why a publish was refused.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Another publish changed these grids first: (code, current version).
    #[error("grids changed since they were read: {0:?}")]
    Conflict(Vec<(String, i64)>),
    /// The draft was published already (as this version).
    #[error("the draft was published already as version {0}")]
    AlreadyPublished(i64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a draft stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "version")]
pub enum DraftStatus {
    /// Not published yet.
    Open,
    /// Published as this version.
    Published(i64),
}

/// A stored draft.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftRecord {
    /// Its id.
    pub id: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// What the planner sent and the versions it started from (JSON).
    pub body: String,
    /// Open or published.
    pub status: DraftStatus,
}

/// Versioned boundaries and drafts.
pub trait BoundaryStore: Send + Sync {
    /// The current version of every grid.
    fn grid_versions(&self) -> Result<HashMap<String, i64>, StoreError>;
    /// The latest published version.
    fn latest_version(&self) -> Result<i64, StoreError>;
    /// Publishes atomically (the version, its grids and, when it names
    /// one, its draft marked published), or refuses it on a conflict.
    fn publish(&self, p: &Publication) -> Result<VersionInfo, PublishError>;
    /// Every version, oldest first.
    fn versions(&self) -> Result<Vec<VersionInfo>, StoreError>;
    /// Every version of one grid, oldest first.
    fn grid_history(&self, code: &str) -> Result<Vec<GridVersion>, StoreError>;
    /// The grids in force at a version.
    fn grids_at(&self, version: i64) -> Result<Vec<GridRecord>, StoreError>;
    /// The version in force on a day.
    fn version_on(&self, date: Date) -> Result<Option<i64>, StoreError>;
    /// Stores a new draft.
    fn save_draft(&self, d: &DraftRecord) -> Result<(), StoreError>;
    /// A draft.
    fn load_draft(&self, id: &str) -> Result<Option<DraftRecord>, StoreError>;
    /// Reports, from a background thread, what other processes write:
    /// the latest version whenever it may have changed, and the incidents
    /// they write; stops when `on_change` returns `false`. The embedded
    /// store has one writer (this process), so by default there is
    /// nothing to watch.
    fn watch(&self, on_change: Box<dyn Fn(Change) -> bool + Send>) -> Result<(), StoreError> {
        drop(on_change);
        Ok(())
    }
}

/// What another process wrote to a shared store, as [`BoundaryStore::watch`]
/// reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The latest boundary version may be this one (0: unknown, a check
    /// that the watcher should go on).
    Version(i64),
    /// These incidents were added or changed (their rows and steps).
    Incidents(Vec<i64>),
    /// Incidents were changed, too many to name, or while the watcher
    /// was not listening: read them all again.
    AllIncidents,
    /// This household was changed.
    Household(HouseholdId),
    /// This unit's label or household count was changed.
    Unit(UnitId),
    /// This building's leaders were changed.
    Building(BuildingId),
    /// The list of staff roles was changed.
    Roles,
}

/// An incident with its id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredIncident {
    /// The case id (dense: `n` is the district's `n - 1`th incident).
    pub id: i64,
    /// The report as filed, with its current status and place.
    pub incident: Incident,
}

/// A step of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseStep {
    /// The case.
    pub case: i64,
    /// The step.
    pub event: Event,
}

/// A step to append to a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Append {
    /// The case.
    pub case: i64,
    /// The step the writer saw (0: a new case).
    pub expected_seq: u32,
    /// The step.
    pub event: Event,
    /// A new place for the incident (a pin move), WGS 84.
    pub location: Option<[f64; 2]>,
}

/// Why steps were not appended.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// No such case.
    #[error("there is no incident {0}")]
    NotFound(i64),
    /// The case moved on since the writer saw it.
    #[error("incident {case} is at step {current}, not {expected}")]
    Conflict {
        /// The case.
        case: i64,
        /// The step the writer saw.
        expected: u32,
        /// Where it is.
        current: u32,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Incidents and their append-only histories.
pub trait CaseStore: Send + Sync {
    /// Adds incidents (all or none); their ids, in order.
    fn add_incidents(&self, xs: &[Incident]) -> Result<Vec<i64>, StoreError>;
    /// Appends steps to cases (all or none), each only if its case is
    /// still at the step the writer saw.
    fn append_steps(&self, batch: &[Append]) -> Result<(), AppendError>;
    /// The steps of one case, or of all (`None`), by case and step.
    fn steps(&self, case: Option<i64>) -> Result<Vec<CaseStep>, StoreError>;
    /// One incident.
    fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError>;
    /// Every incident, by id.
    fn incidents(&self) -> Result<Vec<StoredIncident>, StoreError>;
    /// The revision of the incidents: the number of incidents plus the
    /// number of steps. Both only ever grow (ids are dense, steps are
    /// append-only, a pin move is a step), so it moves with every change.
    fn incident_revision(&self) -> Result<i64, StoreError>;
    /// The cases ever dispatched to `to` (a person or grid, by name), by
    /// id: read through an index of dispatch steps, so it costs what it
    /// finds, not the district. Whether each is still theirs is for the
    /// caller to read from its history.
    fn dispatched_to(
        &self,
        to: &gridgov_spatial::workflow::Assignee,
    ) -> Result<Vec<i64>, StoreError>;
}

/// A user with their password hash.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    /// The user.
    pub user: User,
    /// The argon2id PHC string of their password.
    pub password_hash: String,
}

/// Which tokens to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    /// The token with this public id (only if it is `of`'s, when given).
    Token {
        /// Its public id.
        id: String,
        /// Whose it must be.
        of: Option<String>,
    },
    /// Every token of this user.
    AllOf(String),
}

/// Users and tokens.
pub trait AccountStore: Send + Sync {
    /// Every user, by name.
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// One user and their password hash.
    fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Adds a user; `false` when the name is taken.
    fn create_user(&self, u: &UserRecord) -> Result<bool, StoreError>;
    /// Changes a user, and their password hash when given; `false` when
    /// there is no such user.
    fn update_user(&self, u: &User, password_hash: Option<&str>) -> Result<bool, StoreError>;
    /// Stores a token's record (its digest, never the token).
    fn add_token(&self, t: &TokenRecord) -> Result<(), StoreError>;
    /// The token with this digest.
    fn token(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// Tokens, of one user or of all, newest first.
    fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes tokens as of `at`; how many.
    fn revoke_tokens(&self, which: &Revoke, at: Timestamp) -> Result<usize, StoreError>;
}

/// A line of the audit log with its id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// Its id (ascending with time).
    pub id: i64,
    /// The line.
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// The append-only audit log.
pub trait AuditStore: Send + Sync {
    /// Appends lines (never changed, never deleted).
    fn append_audit(&self, xs: &[AuditEntry]) -> Result<(), StoreError>;
    /// Lines matching `q`, newest first.
    fn audit_log(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
}

/// A unit's label and household count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitChange {
    /// The label (`1单元`).
    pub label: String,
    /// Households in it.
    pub households: u32,
}

/// Households, units, building leaders and the list of staff roles,
/// changed in place.
pub trait HouseholdStore: Send + Sync {
    /// Changes a household's room, headcount and personal fields;
    /// `false` when there is no such household.
    fn update_household(&self, id: HouseholdId, h: &Household) -> Result<bool, StoreError>;
    /// Changes a unit; `false` when there is no such unit.
    fn update_unit(&self, id: UnitId, u: &UnitChange) -> Result<bool, StoreError>;
    /// One household as stored (for a replica told it changed).
    fn household(&self, id: HouseholdId) -> Result<Option<Household>, StoreError>;
    /// What can change of a unit, as stored (for a replica told it changed).
    fn unit_change(&self, id: UnitId) -> Result<Option<UnitChange>, StoreError>;
    /// Replaces a building's leaders; `false` when there is no such
    /// building.
    fn update_building_leaders(
        &self,
        id: BuildingId,
        leaders: &[Staff],
    ) -> Result<bool, StoreError>;
    /// A building's leaders as stored (for a replica told they changed).
    fn building_leaders(&self, id: BuildingId) -> Result<Option<Vec<Staff>>, StoreError>;
    /// Replaces the district's list of staff roles.
    fn set_roles(&self, roles: &gridgov_spatial::Roles) -> Result<(), StoreError>;
    /// The district's list of staff roles as stored (for a replica told
    /// it changed).
    fn roles(&self) -> Result<gridgov_spatial::Roles, StoreError>;
}

/// Monitoring points: definitions and state by code, readings appended.
pub trait SensorStore: Send + Sync {
    /// Every point, by code, with its state.
    fn sensors(
        &self,
    ) -> Result<
        Vec<(
            gridgov_spatial::sensors::Sensor,
            gridgov_spatial::sensors::SensorState,
        )>,
        StoreError,
    >;
    /// One point with its state.
    fn sensor(
        &self,
        code: &str,
    ) -> Result<
        Option<(
            gridgov_spatial::sensors::Sensor,
            gridgov_spatial::sensors::SensorState,
        )>,
        StoreError,
    >;
    /// Adds or replaces a point's definition (its state stays); whether
    /// it is new.
    fn put_sensor(&self, s: &gridgov_spatial::sensors::Sensor) -> Result<bool, StoreError>;
    /// Appends readings `(time, value)` and sets the point's state, in
    /// one transaction.
    fn record_readings(
        &self,
        code: &str,
        readings: &[(Timestamp, f64)],
        state: &gridgov_spatial::sensors::SensorState,
    ) -> Result<(), StoreError>;
    /// Holds point `code` for the caller until the guard is dropped, across
    /// every process over the store (one batch of readings judged at a
    /// time). A store only one process opens may answer a guard that
    /// holds nothing: the application holds its own lock as well.
    fn lock_sensor(&self, code: &str) -> Result<Box<dyn std::any::Any>, StoreError> {
        let _ = code;
        Ok(Box::new(()))
    }
    /// A point's readings from `from` to `to`, oldest first, at most
    /// `limit` (the latest).
    fn readings(
        &self,
        code: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError>;
}

/// Household visits: appended, never changed.
pub trait VisitStore: Send + Sync {
    /// Records a visit; its id (increasing).
    fn append_visit(&self, v: &crate::visits::NewVisit) -> Result<i64, StoreError>;
    /// The visits to a household, oldest first.
    fn visits(&self, household: HouseholdId) -> Result<Vec<crate::visits::Visit>, StoreError>;
    /// The visits recorded after visit `after`, oldest first.
    fn visits_after(&self, after: i64) -> Result<Vec<crate::visits::Visit>, StoreError>;
}

/// Photos of visits and cases: appended, never changed.
pub trait PhotoStore: Send + Sync {
    /// Keeps a photo; its id.
    fn add_photo(&self, p: &crate::photos::NewPhoto) -> Result<i64, StoreError>;
    /// A photo's facts, if there is such a photo.
    fn photo_info(&self, id: i64) -> Result<Option<crate::photos::PhotoInfo>, StoreError>;
    /// A photo's JPEG bytes (its thumbnail when `thumb`).
    fn photo_bytes(&self, id: i64, thumb: bool) -> Result<Option<Vec<u8>>, StoreError>;
    /// The facts of the photos of `owner`, oldest first.
    fn photos_of(
        &self,
        owner: crate::photos::PhotoOwner,
    ) -> Result<Vec<crate::photos::PhotoInfo>, StoreError>;
}

/// 360° panoramas: appended, never changed.
pub trait PanoramaStore: Send + Sync {
    /// Keeps a panorama; its id.
    fn add_panorama(&self, p: &crate::panoramas::NewPanorama) -> Result<i64, StoreError>;
    /// Every panorama's facts, oldest first.
    fn panoramas(&self) -> Result<Vec<crate::panoramas::PanoramaInfo>, StoreError>;
    /// A panorama's JPEG bytes (its thumbnail when `thumb`).
    fn panorama_bytes(&self, id: i64, thumb: bool) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Every port at once: what a whole store is.
pub trait Store:
    DistrictStore
    + BoundaryStore
    + CaseStore
    + AccountStore
    + AuditStore
    + HouseholdStore
    + VisitStore
    + PhotoStore
    + SensorStore
    + PanoramaStore
{
}

impl<T> Store for T where
    T: DistrictStore
        + BoundaryStore
        + CaseStore
        + AccountStore
        + AuditStore
        + HouseholdStore
        + VisitStore
        + PhotoStore
        + SensorStore
        + PanoramaStore
{
}
