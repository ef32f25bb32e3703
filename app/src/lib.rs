//! # gridgov-app
//!
//! The application layer of gridgov, between the pure spatial core and
//! the adapters (storage, the HTTP service, the command line):
//! - the read model ([`Snapshot`], [`ReadModel`]) and how it changes;
//! - the clock, passed in ([`Clock`]);
//! - ports to storage, one small trait per concern with typed records
//!   ([`ports`]);
//! - the use cases: boundary drafts and publishing ([`boundaries`]), the
//!   case desk ([`cases`]), accounts ([`accounts`]), reports
//!   ([`report`]) and import parsing ([`import`]).
//!
//! It does no I/O of its own beyond what it asks of the ports, and has no
//! async: its methods block, and adapters call them off their async
//! threads.

pub mod accounts;
pub mod boundaries;
pub mod cards;
pub mod cases;
pub mod clock;
mod context;
pub mod deadlines;
pub mod handheld;
pub mod households;
pub mod import;
pub mod leaders;
pub mod overview;
pub mod panoramas;
pub mod partition;
pub mod photos;
pub mod ports;
mod read_model;
pub mod report;
pub mod resident;
pub mod roles;
pub mod sensors;
pub mod teams;
pub mod visits;

pub use boundaries::BoundaryError;
pub use cases::CaseError;
pub use clock::{Clock, FixedClock, SystemClock};
pub use context::{App, CaseListener, Rules};
pub use households::HouseholdError;
pub use ports::{
    AccountStore, Append, AppendError, AuditRecord, AuditStore, BoundaryStore, CaseStep, CaseStore,
    Change, DistrictStore, DraftRecord, DraftStatus, GridRecord, GridVersion, HouseholdStore,
    PanoramaStore, PhotoStore, Publication, PublishError, Revoke, SensorStore, Store, StoreError,
    StoredIncident, UnitChange, UserRecord, VersionInfo, VisitStore,
};
pub use read_model::{HISTORY_SNAPSHOTS, ReadModel, Snapshot};

/// Every error of the application, for callers that handle them alike.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A boundary operation was refused.
    #[error(transparent)]
    Boundary(#[from] BoundaryError),
    /// A case operation was refused.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// An account operation was refused.
    #[error(transparent)]
    Account(#[from] accounts::AccountError),
    /// A household or unit change was refused.
    #[error(transparent)]
    Household(#[from] households::HouseholdError),
    /// A report could not be made.
    #[error(transparent)]
    Report(#[from] report::ReportError),
    /// A change of the staff roles was refused.
    #[error(transparent)]
    Roles(#[from] roles::RolesError),
}
