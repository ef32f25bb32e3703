//! # gridgov-spatial
//!
//! The pure core of gridgov: the district model (street → community → grid,
//! buildings, units, households, merchants, cameras, incidents), exact and
//! fast assignment of everything to its grid, lookup by point and by
//! address, coordinate systems, topology validation and the sample district.
//!
//! This crate does no I/O and knows nothing of HTTP or storage: it takes data
//! and returns data.

pub mod access;
pub mod basemap;
pub mod building_index;
pub mod cancel;
pub mod cellindex;
pub mod geom_serde;
pub mod i18n;
pub mod idcard;
pub mod model;
pub mod pip;
pub mod rng;
pub mod roles;
pub mod sample;
pub mod sample_history;
pub mod sensors;
pub mod shape;
pub mod synthetic;
pub mod time;

pub use basemap::{MapFeature, MapKind, MapShape};
pub use building_index::BuildingIndex;
pub use cellindex::{CellIndex, CellIndexStats};
pub use model::{
    Area, AreaId, Building, BuildingId, Camera, CameraId, District, GridKind, Household,
    HouseholdId, Incident, IncidentId, IncidentSource, IncidentStatus, Level, Merchant, MerchantId,
    Reporter, Rows, Staff, Unit, UnitId,
};
pub use rng::Rng;
pub use roles::{MAX_ROLES, RoleDef, RoleScope, Roles, StaffRole};
pub use time::{Date, Timestamp};
pub mod crs;
pub mod crs_wkt;
pub mod geodesy;
pub mod index;

pub use crs::{Crs, CrsError};
pub use geodesy::LocalProjection;
pub use index::{GridIndex, NearestBorder};
pub mod assign;

pub use assign::{
    Assignment, BuildingPlacement, Placement, assign, assign_incidents, place_building,
    place_point, reassign,
};
pub mod coverage;
pub mod dissolve;
pub mod duplicates;
pub mod hotspot_map;
pub mod hotspots;
pub mod incident_counts;
pub mod lookup;
pub mod mask;
pub mod period;
pub mod stats;
pub mod workflow;
pub use coverage::{Coverage, GridCoverage, camera_coverage};
pub use dissolve::dissolved;

pub use lookup::{AreaSummary, PointBuilding, PointLookup, lookup_point};
pub use stats::{AreaStats, Counts, stats};
pub mod panorama;
pub mod partition;
pub mod validate;

pub use validate::{Problem, ProblemKind, Severity, ValidationOptions, validate};
pub mod address;

pub use address::{AddressIndex, AddressMatch, ParsedAddress};
pub mod edit;

pub use edit::{ChangeError, GridChange, Impact, apply_changes, impact};
