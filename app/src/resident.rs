//! The residents' side of a case: a resident files without an account
//! (from the QR code of a grid sign or card, the phone's position or a
//! tap on the map) and is given a case number and a tracking token. With
//! the token — kept on their phone — they follow the case, add photos
//! while it is new, and evaluate it once it is closed. Only the token's
//! digest is kept with the case (in its reporter), so neither a reader of
//! the store nor the staff can act as the resident.
//!
//! What the resident sees of their case is [`ResidentCase`]: where it
//! stands and when, never the staff's notes or who did what.

use gridgov_spatial::workflow::{Action, CaseState};
use gridgov_spatial::{Incident, IncidentStatus, Level, Staff, Timestamp};
use serde::Serialize;

use crate::Snapshot;
use crate::cases::{CaseError, CaseView, StepRequest};
use crate::context::App;
use crate::photos::{PhotoInfo, PhotoOwner};
use crate::ports::StoreError;

/// The actor a resident's own steps are written as.
pub const RESIDENT: &str = "resident";

/// The most photos a resident adds to a case.
pub const MAX_RESIDENT_PHOTOS: usize = 3;

/// Why a resident's request is refused.
#[derive(Debug, thiserror::Error)]
pub enum ResidentError {
    /// No such case, or the token is not its own (the same answer, so
    /// that case numbers cannot be probed).
    #[error("there is no case {0} with this tracking token")]
    NotFound(i64),
    /// No building has the code.
    #[error("there is no building {0:?}")]
    NoBuilding(String),
    /// The building has no unit with the label.
    #[error("building {building:?} has no unit {unit:?}")]
    NoUnit {
        /// The building's code.
        building: String,
        /// The label asked for.
        unit: String,
    },
    /// Photos are added while the case is new, at most
    /// [`MAX_RESIDENT_PHOTOS`].
    #[error("{0}")]
    Photos(String),
    /// Not a picture, too big, or not kept.
    #[error(transparent)]
    Photo(#[from] crate::photos::PhotoRefused),
    /// The step is not allowed now, or its data is wrong.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// The system's randomness failed.
    #[error("no tracking token could be drawn")]
    Random,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new tracking token (`t_` and 32 hex digits, 128 bits from the
/// system's randomness) and the digest kept with the case.
///
/// ```
/// let (token, digest) = gridgov_app::resident::new_tracking().unwrap();
/// assert!(token.starts_with("t_") && token.len() == 34);
/// assert_eq!(digest, gridgov_app::accounts::token_digest(&token));
/// ```
pub fn new_tracking() -> Result<(String, String), ResidentError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| ResidentError::Random)?;
    let token: String = std::iter::once("t_".to_owned())
        .chain(b.iter().map(|x| format!("{x:02x}")))
        .collect();
    let digest = crate::accounts::token_digest(&token);
    Ok((token, digest))
}

/// Whether `token` is the one a case's resident was given.
///
/// ```
/// use gridgov_app::resident::{holds, new_tracking};
/// let (token, digest) = new_tracking().unwrap();
/// let mut x = gridgov_spatial::Incident { location: geo::Point::new(117.5, 34.8), reported_at: "2026-03-01T08:30:00+08:00".parse().unwrap(), category: "road".into(), source: gridgov_spatial::IncidentSource::Wechat, status: gridgov_spatial::IncidentStatus::Reported, description: String::new(), filed_by: None, reporter: None };
/// assert!(!holds(&x, &token));
/// x.reporter = Some(Box::new(gridgov_spatial::Reporter { tracking: Some(digest), ..Default::default() }));
/// assert!(holds(&x, &token) && !holds(&x, "t_0"));
/// ```
pub fn holds(x: &Incident, token: &str) -> bool {
    let Some(kept) = x.reporter.as_ref().and_then(|r| r.tracking.as_deref()) else {
        return false;
    };
    let given = crate::accounts::token_digest(token.trim());
    // Equal length hex: compared in full, not stopping at the first
    // difference.
    kept.len() == given.len()
        && kept
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A step as the resident sees it: what happened and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResidentStep {
    /// The action's name (`accept`, `dispatch`, `close`, …).
    pub action: &'static str,
    /// The status it left the case in.
    pub status: IncidentStatus,
    /// When.
    pub at: Timestamp,
}

/// A case as its resident sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResidentCase {
    /// The case number.
    pub id: i64,
    /// The category's code.
    pub category: String,
    /// What the resident wrote.
    pub description: String,
    /// Where the case stands.
    pub status: IncidentStatus,
    /// When it was filed.
    pub reported_at: Timestamp,
    /// When its current stage is due, while it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Timestamp>,
    /// The grid it was sent to: code and name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<(String, String)>,
    /// Its steps, oldest first (a merged case's number, when it was
    /// merged into another).
    pub steps: Vec<ResidentStep>,
    /// The case it was merged into, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<i64>,
    /// Whether the resident may evaluate it now (it is closed).
    pub may_evaluate: bool,
    /// The resident's evaluation (1–5), once given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<u8>,
    /// How many photos the resident added.
    pub photos: usize,
}

/// The resident's view of a case.
///
/// ```
/// # fn demo(v: &gridgov_app::cases::CaseView) {
/// let r = gridgov_app::resident::resident_case(v, 0);
/// assert_eq!(r.id, v.id);
/// # }
/// ```
pub fn resident_case(v: &CaseView, photos: usize) -> ResidentCase {
    let satisfaction = v.history.iter().rev().find_map(|e| match e.action {
        Action::Evaluate { satisfaction } => Some(satisfaction),
        _ => None,
    });
    ResidentCase {
        id: v.id,
        category: v.incident.category.clone(),
        description: v.incident.description.clone(),
        status: v.state.status,
        reported_at: v.incident.reported_at,
        expected: v.deadline,
        grid: v
            .route
            .grid
            .as_ref()
            .map(|g| (g.code.clone(), g.name.clone())),
        steps: v
            .history
            .iter()
            .map(|e| ResidentStep {
                action: e.action.name(),
                status: e.to,
                at: e.at,
            })
            .collect(),
        merged_into: v.state.merged_into,
        may_evaluate: v.state.status == IncidentStatus::Closed,
        satisfaction,
        photos,
    }
}

/// A place a resident reports from, as the residents' page shows it: the
/// building and unit (from a QR code) or only the point, its grid's
/// chain and the team to call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResidentPlace {
    /// The building's code, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub building: Option<String>,
    /// The unit's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The address to file with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Where to put the pin: the unit's entrance, or the building's
    /// centre.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// The grid, community and street: `(level, code, name)`, grid first.
    pub chain: Vec<(Level, String, String)>,
    /// The grid's team, then the building's leaders: names and phones
    /// are on the grid's signs and cards already.
    pub team: Vec<Staff>,
}

fn chain_of(snap: &Snapshot, g: Option<gridgov_spatial::AreaId>) -> Vec<(Level, String, String)> {
    g.map(|g| {
        snap.district
            .chain(g)
            .into_iter()
            .map(|a| {
                let a = snap.district.area(a);
                (a.level, a.code.clone(), a.name.clone())
            })
            .collect()
    })
    .unwrap_or_default()
}

/// The place of a building (and unit) named by a QR code.
///
/// ```
/// use gridgov_app::{Snapshot, resident::place_of_building};
/// let s = Snapshot::build(gridgov_spatial::sample::district(&Default::default()), Default::default(), 1);
/// let b = &s.district.buildings[0];
/// let p = place_of_building(&s, &b.code, None).unwrap();
/// assert_eq!(p.address.as_deref(), Some(b.address.as_str()));
/// assert!(place_of_building(&s, "no-such", None).is_err());
/// ```
pub fn place_of_building(
    snap: &Snapshot,
    code: &str,
    unit: Option<&str>,
) -> Result<ResidentPlace, ResidentError> {
    use geo::Centroid;
    let d = &snap.district;
    let i = d
        .buildings
        .iter()
        .position(|b| b.code == code)
        .ok_or_else(|| ResidentError::NoBuilding(code.to_owned()))?;
    let b = &d.buildings[i];
    let mut point = b.footprint.centroid();
    let mut address = b.address.clone();
    let label = match unit.map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => {
            let found = d
                .units
                .iter()
                .find(|x| x.building.index() == i && x.label == u)
                .ok_or_else(|| ResidentError::NoUnit {
                    building: code.to_owned(),
                    unit: u.to_owned(),
                })?;
            point = Some(found.location);
            address.push_str(u);
            address.push_str("单元");
            Some(u.to_owned())
        }
    };
    let p = point.unwrap_or_else(|| geo::Point::new(f64::NAN, f64::NAN));
    let g = snap.assignment.buildings[i].placement.responsible();
    let mut team = g.map(|g| d.area(g).staff.clone()).unwrap_or_default();
    team.extend(b.leaders.iter().cloned());
    Ok(ResidentPlace {
        building: Some(b.code.clone()),
        unit: label,
        address: Some(address),
        lon: p.x(),
        lat: p.y(),
        chain: chain_of(snap, g),
        team,
    })
}

/// The place of a point (the phone's position or a tap on the map): its
/// grid (the nearest, outside every grid) and the grid's team.
///
/// ```
/// use gridgov_app::{Snapshot, resident::place_at};
/// let s = Snapshot::build(gridgov_spatial::sample::district(&Default::default()), Default::default(), 1);
/// let u = &s.district.units[0];
/// let p = place_at(&s, u.location.x(), u.location.y());
/// assert_eq!(p.chain[0].0, gridgov_spatial::Level::Grid);
/// ```
pub fn place_at(snap: &Snapshot, lon: f64, lat: f64) -> ResidentPlace {
    let g = gridgov_spatial::place_point(&snap.grids, lon, lat).responsible();
    ResidentPlace {
        building: None,
        unit: None,
        address: None,
        lon,
        lat,
        chain: chain_of(snap, g),
        team: g
            .map(|g| snap.district.area(g).staff.clone())
            .unwrap_or_default(),
    }
}

impl App {
    /// The case `id` as its resident sees it, if `token` is its own.
    /// Blocking.
    pub fn resident_case(&self, id: i64, token: &str) -> Result<ResidentCase, ResidentError> {
        let snap = self.model.current();
        let v = match crate::cases::read(
            self.store.as_ref(),
            &snap,
            &self.rules.deadlines,
            id,
            self.now(),
        ) {
            Ok(v) => v,
            Err(CaseError::NotFound(_)) => return Err(ResidentError::NotFound(id)),
            Err(e) => return Err(e.into()),
        };
        if !holds(&v.incident, token) {
            return Err(ResidentError::NotFound(id));
        }
        let photos = self.resident_photos(id)?.len();
        Ok(resident_case(&v, photos))
    }

    fn resident_photos(&self, id: i64) -> Result<Vec<PhotoInfo>, StoreError> {
        Ok(self
            .store
            .photos_of(PhotoOwner::Case(id))?
            .into_iter()
            .filter(|p| p.by == RESIDENT)
            .collect())
    }

    /// The resident's evaluation of their closed case (1–5, with a note);
    /// the step and the state after it. Blocking.
    pub fn evaluate_as_resident(
        &self,
        id: i64,
        token: &str,
        satisfaction: u8,
        note: &str,
    ) -> Result<(gridgov_spatial::workflow::Event, CaseState), ResidentError> {
        self.resident_case(id, token)?;
        let r = crate::cases::step(
            self.store.as_ref(),
            id,
            &StepRequest {
                action: Action::Evaluate { satisfaction },
                actor: RESIDENT.to_owned(),
                note: note.trim().chars().take(2000).collect(),
                expected_seq: None,
                photos: Vec::new(),
            },
            self.now(),
        )?;
        self.incidents_updated(&[id])?;
        Ok(r)
    }

    /// Keeps a photo the resident took of their case: while it is new
    /// (not yet accepted) and at most [`MAX_RESIDENT_PHOTOS`]. Blocking.
    pub fn add_resident_photo(
        &self,
        id: i64,
        token: &str,
        bytes: &[u8],
    ) -> Result<PhotoInfo, ResidentError> {
        let c = self.resident_case(id, token)?;
        if c.status != IncidentStatus::Reported {
            return Err(ResidentError::Photos(format!(
                "case {id} has been taken up ({}); photos are added while it is new",
                c.status.as_str()
            )));
        }
        if c.photos >= MAX_RESIDENT_PHOTOS {
            return Err(ResidentError::Photos(format!(
                "case {id} has {MAX_RESIDENT_PHOTOS} photos, as many as a resident adds"
            )));
        }
        Ok(self.add_photo(PhotoOwner::Case(id), RESIDENT, bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_only_their_own_digest_matches() {
        let (a, da) = new_tracking().unwrap();
        let (b, _) = new_tracking().unwrap();
        assert_ne!(a, b);
        let mut x = gridgov_spatial::Incident {
            location: geo::Point::new(117.5, 34.8),
            reported_at: "2026-03-01T08:30:00+08:00".parse().unwrap(),
            category: "road".into(),
            source: gridgov_spatial::IncidentSource::Wechat,
            status: gridgov_spatial::IncidentStatus::Reported,
            description: String::new(),
            filed_by: None,
            reporter: None,
        };
        x.reporter = Some(Box::new(gridgov_spatial::Reporter {
            tracking: Some(da),
            ..Default::default()
        }));
        assert!(holds(&x, &a));
        assert!(holds(&x, &format!(" {a} ")));
        assert!(!holds(&x, &b));
        assert!(!holds(&x, ""));
    }

    #[test]
    fn a_unit_qr_puts_the_pin_at_its_entrance_and_names_the_team() {
        let s = Snapshot::build(
            gridgov_spatial::sample::district(&gridgov_spatial::sample::SampleSpec::default()),
            std::collections::HashMap::default(),
            1,
        );
        let u = &s.district.units[0];
        let b = &s.district.buildings[u.building.index()];
        let p = place_of_building(&s, &b.code, Some(&u.label)).unwrap();
        assert_eq!((p.lon, p.lat), (u.location.x(), u.location.y()));
        assert!(p.address.unwrap().ends_with("单元"));
        assert_eq!(p.chain.len(), 3);
        assert!(
            p.team
                .iter()
                .any(|m| m.role == gridgov_spatial::StaffRole::BUILDING_LEADER)
        );
        let e = place_of_building(&s, &b.code, Some("no-such")).unwrap_err();
        assert!(e.to_string().contains("has no unit"), "{e}");
    }
}
