//! The grid staff's handheld: the *slice* of the district a phone keeps
//! for one user — their grids with their buildings, units and households
//! (personal fields in full: they are this user's grids), the visits to
//! those households and the open cases of those grids or dispatched to
//! them, each with its version — and the *delta* that brings a kept slice
//! up to date.
//!
//! A delta is asked for with what the phone holds ([`Known`]: each
//! household's `ETag`, each case's step, each grid's version and the last
//! visit seen) and answers only what differs: households and cases that
//! changed or are new, those that left the slice, visits recorded since,
//! and the grids and buildings only when a boundary moved. What a phone
//! holds is all a delta needs, so it is right after a restart of the
//! service, on any replica, and whatever wrote the change (the web, the
//! API, another phone).

use std::collections::{HashMap, HashSet};

use gridgov_spatial::access::{Access, Principal, Thing, allows, sees_personal};
use gridgov_spatial::workflow::Assignee;
use gridgov_spatial::{AreaId, HouseholdId};
use serde::{Deserialize, Serialize};

use crate::cases::{CaseError, CaseView};
use crate::context::App;
use crate::households::household_etag;
use crate::visits::Visit;

/// Why a slice could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SliceError {
    /// The user serves no grid whose households they may see in full.
    #[error("{0} serves no grid: a handheld slice is for grid staff with grids")]
    NoGrids(String),
    /// A case could not be read.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::ports::StoreError),
}

/// What a phone holds of its slice, sent to ask for a delta.
///
/// ```
/// let k: gridgov_app::handheld::Known = serde_json::from_str(
///     r#"{"households": {"3": "\"h-00\""}, "cases": {"7": 2}, "grids": {"G1": 1}, "visits_after": 4}"#).unwrap();
/// assert_eq!(k.cases[&7], 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Known {
    /// Household id → its `ETag`.
    #[serde(default)]
    pub households: HashMap<u32, String>,
    /// Case id → its step (`ETag`).
    #[serde(default)]
    pub cases: HashMap<i64, u32>,
    /// Grid code → its boundary version.
    #[serde(default)]
    pub grids: HashMap<String, i64>,
    /// The last visit id held.
    #[serde(default)]
    pub visits_after: i64,
}

/// One of the user's grids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceGrid {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its community's name.
    pub community: Option<String>,
    /// Its boundary version.
    pub version: i64,
    /// Its boundary (GeoJSON, WGS 84).
    pub geometry: serde_json::Value,
}

/// A building with units in the user's grids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceBuilding {
    /// Its code.
    pub code: String,
    /// Its address.
    pub address: String,
    /// Floors.
    pub floors: u16,
    /// The grid it is placed in (its code).
    pub grid: Option<String>,
    /// A point of it (its first unit's entrance), WGS 84.
    pub location: [f64; 2],
    /// Its units in the user's grids.
    pub units: Vec<SliceUnit>,
    /// Its building leaders (楼栋长).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leaders: Vec<gridgov_spatial::Staff>,
}

/// A unit (单元) of a building.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceUnit {
    /// Its id (its index plus one).
    pub id: u32,
    /// Its label (`1单元`).
    pub label: String,
    /// Its grid's code.
    pub grid: Option<String>,
}

/// A household, in full, with its version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceHousehold {
    /// Its id (as in `GET /households`).
    pub id: u32,
    /// Its version (`ETag`).
    pub etag: String,
    /// Its grid's code.
    pub grid: Option<String>,
    /// Its building's code.
    pub building: String,
    /// Its unit's id.
    pub unit: u32,
    /// The room.
    pub room: String,
    /// Residents.
    pub headcount: u16,
    /// The head of the household.
    pub head_name: Option<String>,
    /// A phone number.
    pub phone: Option<String>,
    /// The head's resident ID number.
    pub id_number: Option<String>,
}

/// A slice, whole or as a delta.
#[derive(Debug, Clone, Serialize)]
pub struct Slice {
    /// Whether this is a delta (only what differs from [`Known`]).
    pub delta: bool,
    /// The user it is for.
    pub user: String,
    /// A digest of the whole slice as it is now: two slices with the same
    /// version hold the same.
    pub version: String,
    /// The box of the user's grids: `[west, south, east, north]`.
    pub bbox: [f64; 4],
    /// The grids (in a delta: only when a boundary changed, then all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grids: Option<Vec<SliceGrid>>,
    /// The buildings (as `grids`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buildings: Option<Vec<SliceBuilding>>,
    /// Households (in a delta: changed or new).
    pub households: Vec<SliceHousehold>,
    /// Households no longer in the slice (a delta).
    pub removed_households: Vec<u32>,
    /// Open cases (in a delta: changed or new).
    pub cases: Vec<CaseView>,
    /// Cases no longer in the slice: closed, or moved to another grid.
    pub removed_cases: Vec<i64>,
    /// Visits to the households (in a delta: recorded since).
    pub visits: Vec<Visit>,
    /// How many of each the whole slice holds.
    pub totals: Totals,
}

/// The size of a whole slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Households.
    pub households: usize,
    /// Open cases.
    pub cases: usize,
    /// The last visit id among them.
    pub last_visit: i64,
}

impl App {
    /// The slice of `p`'s grids; with `known`, only what differs from it.
    pub fn slice(&self, p: &Principal, known: Option<&Known>) -> Result<Slice, SliceError> {
        let snap = self.current();
        let d = &snap.district;
        let mine: Vec<AreaId> = p
            .grids
            .iter()
            .filter(|c| sees_personal(p, Some(c)))
            .filter_map(|c| d.area_by_code(c))
            .collect();
        if mine.is_empty() {
            return Err(SliceError::NoGrids(p.user.clone()));
        }
        let code = |g: Option<AreaId>| g.map(|g| d.area(g).code.clone());
        let is_mine = |g: Option<AreaId>| g.is_some_and(|g| mine.contains(&g));

        // Grids, and whether any boundary moved since the phone's copy.
        let grids: Vec<SliceGrid> = mine
            .iter()
            .map(|&g| {
                let a = d.area(g);
                SliceGrid {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    community: a.parent.map(|c| d.area(c).name.clone()),
                    version: snap.grid_versions.get(&a.code).copied().unwrap_or(0),
                    geometry: serde_json::to_value(geojson::Geometry::from(&a.boundary))
                        .unwrap_or_default(),
                }
            })
            .collect();
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for &g in &mine {
            if let Some(r) = geo::BoundingRect::bounding_rect(&d.area(g).boundary) {
                bbox = [
                    bbox[0].min(r.min().x),
                    bbox[1].min(r.min().y),
                    bbox[2].max(r.max().x),
                    bbox[3].max(r.max().y),
                ];
            }
        }

        // Units in the user's grids, and their buildings.
        let mut unit_mine = vec![false; d.units.len()];
        let mut by_building: HashMap<usize, Vec<SliceUnit>> = HashMap::new();
        for (i, (u, place)) in d.units.iter().zip(snap.assignment.units.iter()).enumerate() {
            if is_mine(place.responsible()) {
                unit_mine[i] = true;
                by_building
                    .entry(u.building.index())
                    .or_default()
                    .push(SliceUnit {
                        id: u32::try_from(i + 1).unwrap_or(u32::MAX),
                        label: u.label.clone(),
                        grid: code(place.responsible()),
                    });
            }
        }
        let mut buildings: Vec<SliceBuilding> = by_building
            .into_iter()
            .map(|(b, units)| {
                let bd = &d.buildings[b];
                let location = units
                    .first()
                    .and_then(|u| d.units.get(u.id as usize - 1))
                    .map_or([0.0, 0.0], |u| [u.location.x(), u.location.y()]);
                SliceBuilding {
                    code: bd.code.clone(),
                    address: bd.address.clone(),
                    floors: bd.floors,
                    grid: code(
                        snap.assignment
                            .buildings
                            .get(b)
                            .and_then(|p| p.placement.responsible()),
                    ),
                    location,
                    leaders: bd.leaders.clone(),
                    units,
                }
            })
            .collect();
        buildings.sort_by(|a, b| a.code.cmp(&b.code));

        // Households of those units, in full.
        let mut households = Vec::new();
        for (i, h) in d.households.iter().enumerate() {
            let u = h.unit.index();
            if !unit_mine.get(u).copied().unwrap_or(false) {
                continue;
            }
            let unit = &d.units[u];
            households.push(SliceHousehold {
                id: u32::try_from(i + 1).unwrap_or(u32::MAX),
                etag: household_etag(h),
                grid: code(snap.assignment.units.get(u).and_then(|p| p.responsible())),
                building: d.buildings[unit.building.index()].code.clone(),
                unit: u32::try_from(u + 1).unwrap_or(u32::MAX),
                room: h.room.clone(),
                headcount: h.headcount,
                head_name: h.head_name.clone(),
                phone: h.phone.clone(),
                id_number: h.id_number.clone(),
            });
        }

        // Open cases of the grids, and those dispatched to the user or
        // their grids wherever they are.
        let mut ids: Vec<i64> = Vec::new();
        for &g in &mine {
            ids.extend(
                snap.incidents_of_grid(g)
                    .into_iter()
                    .filter(|&i| d.incidents.get(i).is_some_and(|x| x.status.is_open()))
                    .filter_map(|i| i64::try_from(i + 1).ok()),
            );
        }
        let mut to: Vec<Assignee> = vec![Assignee::Person(p.user.clone())];
        to.extend(p.grids.iter().map(|g| Assignee::Grid(g.clone())));
        for a in &to {
            ids.extend(self.store.dispatched_to(a)?.into_iter().filter(|&id| {
                usize::try_from(id - 1)
                    .ok()
                    .and_then(|i| d.incidents.get(i))
                    .is_some_and(|x| x.status.is_open())
            }));
        }
        ids.sort_unstable();
        ids.dedup();
        let now = self.now();
        let mut cases = Vec::new();
        for id in ids {
            let v = crate::cases::read(self.store.as_ref(), &snap, &self.rules.deadlines, id, now)?;
            let grid = v.route.grid.as_ref().map(|g| g.code.as_str());
            let readable = allows(
                p,
                &Thing::Incident {
                    grid,
                    assignee: v.state.assignee.as_ref(),
                    filed_by: v.incident.filed_by.as_deref(),
                },
                Access::Read,
            );
            if readable && v.state.status.is_open() && v.state.merged_into.is_none() {
                cases.push(v);
            }
        }

        // Visits to the households.
        let in_slice: HashSet<u32> = households.iter().map(|h| h.id).collect();
        let visits: Vec<Visit> = if let Some(k) = known {
            // Since the phone's last: by the key, however many households.
            self.store
                .visits_after(k.visits_after)?
                .into_iter()
                .filter(|v| in_slice.contains(&v.household))
                .collect()
        } else {
            let mut all = Vec::new();
            for h in &households {
                all.extend(self.store.visits(HouseholdId(h.id - 1))?);
            }
            all.sort_by_key(|v| v.id);
            all
        };

        let totals = Totals {
            households: households.len(),
            cases: cases.len(),
            last_visit: visits
                .iter()
                .map(|v| v.id)
                .max()
                .unwrap_or(known.map_or(0, |k| k.visits_after)),
        };
        let version = digest(&grids, &households, &cases, totals.last_visit);
        let Some(k) = known else {
            return Ok(Slice {
                delta: false,
                user: p.user.clone(),
                version,
                bbox,
                grids: Some(grids),
                buildings: Some(buildings),
                households,
                removed_households: Vec::new(),
                cases,
                removed_cases: Vec::new(),
                visits,
                totals,
            });
        };
        let boundaries_moved = k.grids.len() != grids.len()
            || grids
                .iter()
                .any(|g| k.grids.get(&g.code) != Some(&g.version));
        let mut removed_households: Vec<u32> = k
            .households
            .keys()
            .copied()
            .filter(|id| !in_slice.contains(id))
            .collect();
        removed_households.sort_unstable();
        let case_ids: HashSet<i64> = cases.iter().map(|c| c.id).collect();
        let mut removed_cases: Vec<i64> = k
            .cases
            .keys()
            .copied()
            .filter(|id| !case_ids.contains(id))
            .collect();
        removed_cases.sort_unstable();
        Ok(Slice {
            delta: true,
            user: p.user.clone(),
            version,
            bbox,
            grids: boundaries_moved.then_some(grids),
            buildings: boundaries_moved.then_some(buildings),
            households: households
                .into_iter()
                .filter(|h| k.households.get(&h.id) != Some(&h.etag))
                .collect(),
            removed_households,
            cases: cases
                .into_iter()
                .filter(|c| k.cases.get(&c.id) != Some(&c.state.seq))
                .collect(),
            removed_cases,
            visits,
            totals,
        })
    }
}

/// The version of a whole slice: a digest of every grid's version, every
/// household's and case's version and the last visit.
fn digest(
    grids: &[SliceGrid],
    hs: &[SliceHousehold],
    cases: &[CaseView],
    last_visit: i64,
) -> String {
    use blake2::Digest;
    let mut d = blake2::Blake2b256::new();
    for g in grids {
        d.update(g.code.as_bytes());
        d.update(g.version.to_le_bytes());
    }
    d.update([0xff]);
    for h in hs {
        d.update(h.id.to_le_bytes());
        d.update(h.etag.as_bytes());
    }
    d.update([0xff]);
    for c in cases {
        d.update(c.id.to_le_bytes());
        d.update(c.state.seq.to_le_bytes());
    }
    d.update(last_visit.to_le_bytes());
    let sum = d.finalize();
    format!("s-{}", crate::accounts::hex(&sum[..12]))
}
