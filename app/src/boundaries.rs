//! Boundary editing for planners: drafts, validation, impact preview,
//! publishing with optimistic concurrency (per-grid versions), history
//! and rollback.
//!
//! A publish runs under one lock in this process and is one transaction
//! in the store: the store checks that every grid it changes is still at
//! the version the planner started from (else [`BoundaryError::Conflict`]
//! with the current versions), records the version and its grids, and
//! marks the draft published. Then a new snapshot is built off to the
//! side from the current one and swapped in whole. A change that adds
//! topology errors is refused before anything is written.

use std::collections::{BTreeSet, HashMap};

use geo::MultiPolygon;
use gridgov_spatial::cancel::{Cancel, Cancelled};
use gridgov_spatial::{
    Area, AreaId, ChangeError, District, GridChange, GridIndex, GridKind, Impact, Level, Problem,
    Severity, ValidationOptions, apply_changes, assign, impact, validate,
};
use serde::{Deserialize, Serialize};

use crate::context::App;
use crate::ports::{
    DraftRecord, DraftStatus, GridRecord, Publication, PublishError, StoreError, VersionInfo,
};
use crate::read_model::Snapshot;

/// The most vertices one grid's boundary may have.
pub const MAX_VERTICES: usize = 100_000;

/// How far (degrees, about 10 km) a changed grid may reach beyond the
/// district's grids.
const MAX_REACH_DEG: f64 = 0.1;

/// Why a boundary operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum BoundaryError {
    /// The request is malformed (a missing field, a geometry that is not
    /// one).
    #[error("{message}")]
    Invalid {
        /// The field at fault (`changes[0].geometry`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Well-formed, but the boundary cannot be a grid's (too many
    /// vertices, self-intersecting, too far from the district).
    #[error("{message}")]
    Unacceptable {
        /// The field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The change adds topology errors: each one.
    #[error("the change adds topology errors: {}", .0.join("; "))]
    AddsErrors(Vec<String>),
    /// No such draft, grid or version.
    #[error("{0}")]
    NotFound(String),
    /// Grids changed since the planner read them: (code, current version).
    #[error("{}", .0.iter().map(|(g, v)| format!("grid {g} is now at version {v}")).collect::<Vec<_>>().join("; "))]
    Conflict(Vec<(String, i64)>),
    /// The draft was published already.
    #[error("draft {draft} was published as version {version}")]
    AlreadyPublished {
        /// The draft.
        draft: String,
        /// Its version.
        version: i64,
    },
    /// A rollback to the boundaries in force now.
    #[error("the current boundaries are those of version {0}")]
    NothingToRollBack(i64),
    /// Stopped: the answer was no longer wanted.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PublishError> for BoundaryError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Conflict(c) => BoundaryError::Conflict(c),
            PublishError::AlreadyPublished(version) => BoundaryError::AlreadyPublished {
                draft: String::new(),
                version,
            },
            PublishError::Store(s) => BoundaryError::Store(s),
        }
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> BoundaryError {
    BoundaryError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A change as planners send it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeIn {
    /// Grid code.
    pub code: String,
    /// New boundary (GeoJSON Polygon or MultiPolygon); absent with
    /// `remove: true` to remove the grid.
    #[serde(default)]
    pub geometry: Option<serde_json::Value>,
    /// Remove the grid.
    #[serde(default)]
    pub remove: bool,
    /// New name (required for a new grid).
    #[serde(default)]
    pub name: Option<String>,
    /// Community code (required for a new grid).
    #[serde(default)]
    pub parent_code: Option<String>,
    /// `basic` or `exclusive`.
    #[serde(default)]
    pub kind: Option<GridKind>,
    /// The grid version the planner started from; default: current.
    #[serde(default)]
    pub base_version: Option<i64>,
}

/// A draft as planners send it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DraftIn {
    /// Who (the service records the signed-in user).
    #[serde(default)]
    pub author: String,
    /// Why.
    pub reason: String,
    /// In force from (YYYY-MM-DD); default: today.
    #[serde(default)]
    pub effective_date: Option<String>,
    /// The changes.
    pub changes: Vec<ChangeIn>,
}

/// A stored draft: what the planner sent plus the versions it started
/// from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// Its id.
    pub id: String,
    /// What the planner sent.
    #[serde(flatten)]
    pub draft: DraftIn,
    /// The version of each grid it changes, when it was made.
    pub base: HashMap<String, i64>,
}

/// A grid whose version moved since a draft was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outdated {
    /// The grid.
    pub grid: String,
    /// The version the draft started from.
    pub base_version: i64,
    /// Its version now.
    pub current_version: i64,
}

/// Every problem after a draft's change.
#[derive(Debug, Clone)]
pub struct Validation {
    /// All problems of the district after the change.
    pub problems: Vec<Problem>,
    /// The errors the change adds.
    pub added: Vec<Problem>,
    /// The warnings it adds (a grid dropping below its households band,
    /// a building newly cut by a border, …): publishing is allowed.
    pub added_warnings: Vec<Problem>,
    /// Grids that moved on since the draft was made.
    pub outdated: Vec<Outdated>,
}

/// What a draft moves from which grid to which.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    /// The draft.
    pub draft: String,
    /// What moves.
    pub impact: Impact,
    /// Grids that moved on since the draft was made.
    pub outdated: Vec<Outdated>,
}

/// A boundary check: not too many vertices, and valid (no ring crossing
/// itself or another, no hole outside its shell).
fn check_shape(mp: &MultiPolygon<f64>) -> Result<(), String> {
    use geo::CoordsIter;
    let n = mp.coords_count();
    if n > MAX_VERTICES {
        return Err(format!(
            "{n} vertices; a grid may have at most {MAX_VERTICES}"
        ));
    }
    if let Some(e) = gridgov_spatial::shape::check(mp).first() {
        return Err(format!("not a valid polygon: {e}"));
    }
    Ok(())
}

/// Every changed boundary lies within reach of the district's grids.
fn check_reach(d: &District, changes: &[GridChange]) -> Result<(), BoundaryError> {
    use geo::BoundingRect;
    let Some(bb) = gridgov_spatial::sample::grids_bbox(d) else {
        return Ok(());
    };
    for (i, c) in changes.iter().enumerate() {
        let Some(r) = c.boundary.as_ref().and_then(BoundingRect::bounding_rect) else {
            continue;
        };
        let far = (bb[0] - r.min().x)
            .max(r.max().x - bb[2])
            .max(bb[1] - r.min().y)
            .max(r.max().y - bb[3]);
        if far > MAX_REACH_DEG {
            return Err(BoundaryError::Unacceptable {
                field: format!("changes[{i}].geometry"),
                message: format!(
                    "grid {}: the boundary reaches {:.0} km beyond the district; a grid must lie within 10 km of it",
                    c.code,
                    far * 111.0
                ),
            });
        }
    }
    Ok(())
}

/// Reads `effective_date`; today (in Beijing) when absent.
fn read_effective_date(s: Option<&str>, app: &App) -> Result<gridgov_spatial::Date, BoundaryError> {
    use gridgov_spatial::time::{CHINA_OFFSET_S, local_date, parse_date};
    match s {
        None => Ok(local_date(app.now(), CHINA_OFFSET_S)),
        Some(s) => {
            parse_date(s).map_err(|e| invalid("effective_date", format!("effective_date: {e}")))
        }
    }
}

/// Checks who and why, and the date.
fn check_header(author: &str, reason: &str, date: Option<&str>) -> Result<(), BoundaryError> {
    if author.trim().is_empty() {
        return Err(invalid("author", "author is required"));
    }
    if reason.trim().is_empty() {
        return Err(invalid("reason", "reason is required"));
    }
    if let Some(e) = date {
        gridgov_spatial::time::parse_date(e)
            .map_err(|e| invalid("effective_date", format!("effective_date: {e}")))?;
    }
    Ok(())
}

/// Turns the planner's changes into model changes, checking geometry.
///
/// ```
/// use gridgov_app::boundaries::{DraftIn, ChangeIn, to_changes};
/// let d = DraftIn { author: "王".into(), reason: "新楼".into(), effective_date: None, changes: vec![ChangeIn {
///     code: "G".into(), geometry: None, remove: true, name: None, parent_code: None, kind: None, base_version: None }] };
/// assert!(to_changes(&d).unwrap()[0].boundary.is_none());
/// ```
pub fn to_changes(d: &DraftIn) -> Result<Vec<GridChange>, BoundaryError> {
    check_header(&d.author, &d.reason, d.effective_date.as_deref())?;
    if d.changes.is_empty() {
        return Err(invalid("changes", "changes is empty"));
    }
    d.changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let field = format!("changes[{i}]");
            let boundary = match (&c.geometry, c.remove) {
                (Some(_), true) => {
                    return Err(invalid(
                        field,
                        format!("grid {}: give a geometry or remove, not both", c.code),
                    ));
                }
                (None, false) => {
                    return Err(invalid(
                        field,
                        format!("grid {}: a geometry is required (or remove: true)", c.code),
                    ));
                }
                (None, true) => None,
                (Some(g), false) => Some(boundary_of(&c.code, g, &format!("{field}.geometry"))?),
            };
            Ok(GridChange {
                code: c.code.clone(),
                boundary,
                name: c.name.clone(),
                parent_code: c.parent_code.clone(),
                kind: c.kind,
                staff: None,
            })
        })
        .collect()
}

/// A GeoJSON boundary for grid `code`, checked.
fn boundary_of(
    code: &str,
    g: &serde_json::Value,
    field: &str,
) -> Result<MultiPolygon<f64>, BoundaryError> {
    let geom: geojson::Geometry = serde_json::from_value(g.clone())
        .map_err(|e| invalid(field, format!("grid {code}: not a GeoJSON geometry: {e}")))?;
    let mut notes = Vec::new();
    let mp = crate::import::to_multi_polygon(&geom, &mut notes, code)
        .map_err(|e| invalid(field, format!("grid {code}: {e}")))?;
    if !notes.is_empty() {
        return Err(invalid(field, format!("grid {code}: {}", notes.join("; "))));
    }
    check_shape(&mp).map_err(|e| BoundaryError::Unacceptable {
        field: field.to_owned(),
        message: format!("grid {code}: {e}"),
    })?;
    Ok(mp)
}

fn change_error(e: &ChangeError) -> BoundaryError {
    invalid("changes", e.to_string())
}

fn problem_key(p: &Problem) -> (String, Vec<String>) {
    let mut ids = p.ids.clone();
    ids.sort();
    (format!("{:?}", p.kind), ids)
}

/// Validation of the district after the change, and which errors it adds.
fn check(
    before: &Snapshot,
    after: &District,
    cancel: &Cancel,
) -> Result<(Vec<Problem>, Vec<Problem>), BoundaryError> {
    check_all(before, after, cancel).map(|(p, e, _)| (p, e))
}

/// Every problem after a change, the errors it adds and the warnings it
/// adds.
type Checked = (Vec<Problem>, Vec<Problem>, Vec<Problem>);

/// Validation of the district after the change, and which errors and
/// which warnings it adds (a problem is new when no problem of its kind
/// about the same things was there before).
fn check_all(
    before: &Snapshot,
    after: &District,
    cancel: &Cancel,
) -> Result<Checked, BoundaryError> {
    let opts = ValidationOptions {
        cancel: cancel.clone(),
        ..ValidationOptions::default()
    };
    let a_after = assign(after, &GridIndex::new(after));
    let problems = validate(after, &a_after, &opts);
    let old: BTreeSet<(String, Vec<String>)> =
        validate(&before.district, &before.assignment, &opts)
            .iter()
            .map(problem_key)
            .collect();
    let new_of = |s: Severity| -> Vec<Problem> {
        problems
            .iter()
            .filter(|p| p.severity == s && !old.contains(&problem_key(p)))
            .cloned()
            .collect()
    };
    let (added, warned) = (new_of(Severity::Error), new_of(Severity::Warning));
    // What was found before a stop is not everything: it is not an answer.
    cancel.check()?;
    Ok((problems, added, warned))
}

/// The errors a change of the grids `codes` adds, as [`check`] finds
/// them, found by looking only around those grids (`validate_around`):
/// their polygons, their families in the old and new parents, and the
/// buildings that lie in one of them before or after. `a_after` is the
/// placement of everything in `after`.
fn added_errors(
    before: &Snapshot,
    after: &District,
    a_after: &gridgov_spatial::Assignment,
    codes: &BTreeSet<String>,
) -> Vec<Problem> {
    if after.grids().next().is_none() {
        // Nobody stops this check: it cannot come back cancelled.
        return check(before, after, &Cancel::never())
            .map(|c| c.1)
            .unwrap_or_default();
    }
    let d0 = &before.district;
    let ids = |d: &District| -> Vec<AreaId> {
        d.areas
            .iter()
            .enumerate()
            .filter(|(_, a)| a.level == Level::Grid && codes.contains(&a.code))
            .map(|(i, _)| AreaId(i as u32))
            .collect()
    };
    let (in0, in1) = (ids(d0), ids(after));
    // The parents on either side, found again on the other.
    let parent_codes: BTreeSet<String> = in0
        .iter()
        .map(|&g| (d0, g))
        .chain(in1.iter().map(|&g| (after, g)))
        .filter_map(|(d, g)| d.area(g).parent.map(|p| d.area(p).code.clone()))
        .collect();
    let parents = |d: &District| -> Vec<AreaId> {
        parent_codes
            .iter()
            .filter_map(|c| d.area_by_code(c))
            .collect()
    };
    let touches = |d: &District, p: &gridgov_spatial::BuildingPlacement| {
        p.shares
            .iter()
            .map(|s| s.0)
            .chain(p.placement.responsible())
            .any(|g| codes.contains(&d.area(g).code))
    };
    let buildings: Vec<usize> = (0..after.buildings.len())
        .filter(|&i| {
            before
                .assignment
                .buildings
                .get(i)
                .is_some_and(|p| touches(d0, p))
                || a_after.buildings.get(i).is_some_and(|p| touches(after, p))
        })
        .collect();
    let opts = ValidationOptions::default();
    let old: BTreeSet<(String, Vec<String>)> = gridgov_spatial::validate::validate_around(
        d0,
        &before.assignment,
        &opts,
        &in0,
        &parents(d0),
        &buildings,
    )
    .iter()
    .filter(|p| p.severity == Severity::Error)
    .map(problem_key)
    .collect();
    gridgov_spatial::validate::validate_around(
        after,
        a_after,
        &opts,
        &in1,
        &parents(after),
        &buildings,
    )
    .into_iter()
    .filter(|p| p.severity == Severity::Error && !old.contains(&problem_key(p)))
    .collect()
}

/// The placements of `after`: only what the grids `changes` touch placed
/// again (`reassign`) when every area keeps its id, else everything. With
/// them, when areas kept their ids, the buildings whose addresses must be
/// indexed again (their grid, or the names above it, changed).
fn placed_again(
    snap: &Snapshot,
    after: &District,
    grids: &GridIndex,
    changes: &[GridChange],
) -> (gridgov_spatial::Assignment, Option<Vec<usize>>) {
    use geo::BoundingRect;
    let d0 = &snap.district;
    let same_ids = d0.areas.len() == after.areas.len()
        && d0
            .areas
            .iter()
            .zip(after.areas.iter())
            .all(|(a, b)| a.code == b.code);
    if !same_ids {
        return (assign(after, grids), None);
    }
    let mut ids = Vec::new();
    let mut regions = Vec::new();
    for c in changes {
        if let Some(g) = after.area_by_code(&c.code) {
            ids.push(g);
            regions.extend(d0.area(g).boundary.bounding_rect());
            regions.extend(after.area(g).boundary.bounding_rect());
        }
    }
    let placed = gridgov_spatial::reassign(after, grids, &snap.assignment, &ids, &regions);
    let grid = |a: &gridgov_spatial::Assignment, i: usize| {
        a.buildings.get(i).and_then(|p| p.placement.responsible())
    };
    let buildings = (0..after.buildings.len())
        .filter(|&i| {
            let g = grid(&placed, i);
            g != grid(&snap.assignment, i) || g.is_some_and(|g| ids.contains(&g))
        })
        .collect();
    (placed, Some(buildings))
}

fn outdated(snap: &Snapshot, base: &HashMap<String, i64>) -> Vec<Outdated> {
    let mut v: Vec<Outdated> = base
        .iter()
        .filter_map(|(code, b)| {
            let now = snap.grid_versions.get(code).copied().unwrap_or(0);
            (now != *b).then(|| Outdated {
                grid: code.clone(),
                base_version: *b,
                current_version: now,
            })
        })
        .collect();
    v.sort_by(|a, b| a.grid.cmp(&b.grid));
    v
}

/// A district with its grids replaced by `grids` (streets and
/// communities kept).
pub fn with_grids(d: &District, grids: &[GridRecord]) -> District {
    let mut out = District {
        areas: gridgov_spatial::Rows::new(),
        ..d.clone()
    };
    let mut map = HashMap::new();
    for (i, a) in d.areas.iter().enumerate() {
        if a.level != Level::Grid {
            map.insert(i, out.areas.len());
            out.areas.push_back(a.clone());
        }
    }
    for a in &mut out.areas {
        a.parent = a
            .parent
            .and_then(|p| map.get(&p.index()).map(|&n| AreaId(n as u32)));
    }
    for r in grids {
        let mut a = Area::new(Level::Grid, r.code.clone(), r.name.clone());
        a.kind = Some(r.kind);
        a.parent = r.parent_code.as_deref().and_then(|p| out.area_by_code(p));
        a.institution.clone_from(&r.institution);
        a.staff.clone_from(&r.staff);
        a.boundary = r
            .boundary
            .clone()
            .unwrap_or_else(|| MultiPolygon::new(vec![]));
        out.add_area(a);
    }
    out
}

impl App {
    /// Stores a new draft after checking that its changes apply.
    pub fn create_draft(&self, draft: DraftIn) -> Result<Draft, BoundaryError> {
        let changes = to_changes(&draft)?;
        let snap = self.current();
        check_reach(&snap.district, &changes)?;
        apply_changes(&snap.district, &changes).map_err(|e| change_error(&e))?;
        let base = draft
            .changes
            .iter()
            .map(|c| {
                let v = c
                    .base_version
                    .unwrap_or_else(|| snap.grid_versions.get(&c.code).copied().unwrap_or(0));
                (c.code.clone(), v)
            })
            .collect();
        let d = Draft {
            id: format!("d{}", self.next_id()),
            draft,
            base,
        };
        let body = serde_json::to_string(&d).map_err(|e| StoreError::Backend(Box::new(e)))?;
        self.store.save_draft(&DraftRecord {
            id: d.id.clone(),
            created_at: self.now(),
            body,
            status: DraftStatus::Open,
        })?;
        Ok(d)
    }

    /// A draft and where it stands.
    pub fn draft(&self, id: &str) -> Result<(Draft, DraftStatus), BoundaryError> {
        let r = self
            .store
            .load_draft(id)?
            .ok_or_else(|| BoundaryError::NotFound(format!("no draft {id:?}")))?;
        let d: Draft = serde_json::from_str(&r.body)
            .map_err(|e| StoreError::Corrupt(format!("draft {id}: {e}")))?;
        Ok((d, r.status))
    }

    /// Every problem after a draft's change, and which errors it adds.
    pub fn validate_draft(&self, id: &str, cancel: &Cancel) -> Result<Validation, BoundaryError> {
        let (d, _) = self.draft(id)?;
        let changes = to_changes(&d.draft)?;
        let snap = self.current();
        let after = apply_changes(&snap.district, &changes).map_err(|e| change_error(&e))?;
        cancel.check()?;
        let (problems, added, added_warnings) = check_all(&snap, &after, cancel)?;
        Ok(Validation {
            problems,
            added,
            added_warnings,
            outdated: outdated(&snap, &d.base),
        })
    }

    /// What a draft moves from which grid to which.
    pub fn preview_draft(&self, id: &str, cancel: &Cancel) -> Result<Preview, BoundaryError> {
        let (d, _) = self.draft(id)?;
        let changes = to_changes(&d.draft)?;
        let snap = self.current();
        let after = apply_changes(&snap.district, &changes).map_err(|e| change_error(&e))?;
        cancel.check()?;
        let grids = GridIndex::new(&after);
        cancel.check()?;
        let aa = assign(&after, &grids);
        cancel.check()?;
        Ok(Preview {
            draft: d.id.clone(),
            impact: impact(&snap.district, &snap.assignment, &after, &aa),
            outdated: outdated(&snap, &d.base),
        })
    }

    /// Publishes a draft; `by` is recorded as the version's author (the
    /// draft keeps its own).
    pub fn publish_draft(&self, id: &str, by: &str) -> Result<VersionInfo, BoundaryError> {
        let (d, status) = self.draft(id)?;
        if let DraftStatus::Published(version) = status {
            return Err(BoundaryError::AlreadyPublished {
                draft: id.to_owned(),
                version,
            });
        }
        let changes = to_changes(&d.draft)?;
        self.publish_changes(
            by,
            &d.draft.reason,
            d.draft.effective_date.as_deref(),
            &changes,
            d.base.clone(),
            None,
            Some(id),
        )
        .map_err(|e| match e {
            BoundaryError::AlreadyPublished { version, .. } => BoundaryError::AlreadyPublished {
                draft: id.to_owned(),
                version,
            },
            e => e,
        })
    }

    /// Publishes a new boundary for one grid, from the version `base` the
    /// planner read.
    #[allow(clippy::too_many_arguments)]
    pub fn publish_grid(
        &self,
        code: &str,
        base: i64,
        geometry: serde_json::Value,
        name: Option<String>,
        author: &str,
        reason: &str,
        effective_date: Option<&str>,
    ) -> Result<VersionInfo, BoundaryError> {
        if self.current().district.area_by_code(code).is_none() {
            return Err(BoundaryError::NotFound(format!("no grid {code:?}")));
        }
        let draft = DraftIn {
            author: author.to_owned(),
            reason: reason.to_owned(),
            effective_date: effective_date.map(String::from),
            changes: vec![ChangeIn {
                code: code.to_owned(),
                geometry: Some(geometry),
                remove: false,
                name,
                parent_code: None,
                kind: None,
                base_version: Some(base),
            }],
        };
        let changes = to_changes(&draft)?;
        self.publish_changes(
            author,
            reason,
            effective_date,
            &changes,
            HashMap::from([(code.to_owned(), base)]),
            None,
            None,
        )
    }

    /// Publishes one grid's change that keeps its boundary (its team), from
    /// the grid's version `base`.
    pub(crate) fn publish_team(
        &self,
        author: &str,
        reason: &str,
        change: GridChange,
        base: i64,
    ) -> Result<VersionInfo, BoundaryError> {
        check_header(author, reason, None)?;
        let code = change.code.clone();
        self.publish_changes(
            author,
            reason,
            None,
            &[change],
            HashMap::from([(code, base)]),
            None,
            None,
        )
    }

    /// Publishes the boundaries of version `n` again, as a new version.
    pub fn rollback(
        &self,
        n: i64,
        author: &str,
        reason: &str,
        effective_date: Option<&str>,
    ) -> Result<VersionInfo, BoundaryError> {
        check_header(author, reason, effective_date)?;
        let latest = self.store.latest_version()?;
        if n < 1 || n > latest {
            return Err(BoundaryError::NotFound(format!(
                "no version {n}; the latest is {latest}"
            )));
        }
        let old = self.store.grids_at(n)?;
        let snap = self.current();
        // Every grid that differs between now and version n.
        let mut changes = Vec::new();
        let mut base = HashMap::new();
        let version_of = |code: &str| snap.grid_versions.get(code).copied().unwrap_or(0);
        let old_codes: BTreeSet<&str> = old.iter().map(|r| r.code.as_str()).collect();
        for r in &old {
            if GridRecord::from_district(&snap.district, &r.code) != *r {
                base.insert(r.code.clone(), version_of(&r.code));
                changes.push(GridChange {
                    code: r.code.clone(),
                    boundary: r.boundary.clone(),
                    name: Some(r.name.clone()),
                    parent_code: r.parent_code.clone(),
                    kind: Some(r.kind),
                    // The team of the version restored, too.
                    staff: Some(r.staff.clone()),
                });
            }
        }
        for g in snap.district.grids() {
            let code = &snap.district.area(g).code;
            if !old_codes.contains(code.as_str()) {
                base.insert(code.clone(), version_of(code));
                changes.push(GridChange {
                    code: code.clone(),
                    boundary: None,
                    name: None,
                    parent_code: None,
                    kind: None,
                    staff: None,
                });
            }
        }
        if changes.is_empty() {
            return Err(BoundaryError::NothingToRollBack(n));
        }
        self.publish_changes(
            author,
            reason,
            effective_date,
            &changes,
            base,
            Some(n),
            None,
        )
    }

    /// The shared publish path: apply, check, store (one transaction),
    /// swap.
    #[allow(clippy::too_many_arguments)]
    fn publish_changes(
        &self,
        author: &str,
        reason: &str,
        effective_date: Option<&str>,
        changes: &[GridChange],
        base: HashMap<String, i64>,
        rollback_of: Option<i64>,
        draft: Option<&str>,
    ) -> Result<VersionInfo, BoundaryError> {
        let _guard = self.publishing();
        // Another replica may have published since this one last looked.
        self.catch_up_locked()?;
        let snap = self.current();
        let after = apply_changes(&snap.district, changes).map_err(|e| change_error(&e))?;
        let grids = GridIndex::new(&after);
        let (placed, readdressed) = placed_again(&snap, &after, &grids, changes);
        if rollback_of.is_none() {
            let codes = changes.iter().map(|c| c.code.clone()).collect();
            let added = added_errors(&snap, &after, &placed, &codes);
            if !added.is_empty() {
                return Err(BoundaryError::AddsErrors(
                    added.into_iter().map(|p| p.message).collect(),
                ));
            }
        }
        let p = Publication {
            author: author.to_owned(),
            reason: reason.to_owned(),
            effective_date: read_effective_date(effective_date, self)?,
            published_at: self.now(),
            base,
            records: changes
                .iter()
                .map(|c| GridRecord::from_district(&after, &c.code))
                .collect(),
            rollback_of,
            draft: draft.map(String::from),
        };
        let info = self.store.publish(&p)?;
        let mut versions = HashMap::clone(&snap.grid_versions);
        for c in changes {
            if c.boundary.is_some() {
                versions.insert(c.code.clone(), info.version);
            } else {
                versions.remove(&c.code);
            }
        }
        let next = if info.version == snap.version + 1 {
            let addresses = readdressed.map(|b| snap.addresses.with_buildings(&after, &placed, &b));
            Some(
                Snapshot::build_placed(
                    after,
                    grids,
                    placed,
                    addresses,
                    versions.clone(),
                    info.version,
                )
                .keeping_buildings_of(&snap),
            )
        } else {
            None
        };
        // Swapped in only if nothing was written meanwhile; else made
        // again from what is current (cases filed during the publish are
        // in it), so that no write is lost from the read model.
        self.model
            .replace(|cur| -> Result<Snapshot, BoundaryError> {
                match next {
                    Some(n) if cur.data_version == snap.data_version => Ok(n),
                    Some(_) => {
                        let after =
                            apply_changes(&cur.district, changes).map_err(|e| change_error(&e))?;
                        let grids = GridIndex::new(&after);
                        let (placed, readdressed) = placed_again(cur, &after, &grids, changes);
                        let addresses =
                            readdressed.map(|b| cur.addresses.with_buildings(&after, &placed, &b));
                        Ok(Snapshot::build_placed(
                            after,
                            grids,
                            placed,
                            addresses,
                            versions,
                            info.version,
                        )
                        .keeping_buildings_of(cur))
                    }
                    // Someone published in between: rebuild from the store.
                    None => Ok(self.snapshot_from_store(cur, info.version)?),
                }
            })?;
        tracing::info!(version = info.version, author = %info.author, grids = ?info.grids, "published");
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Centroid, MapCoords, Translate};

    fn keys(ps: &[Problem]) -> BTreeSet<(String, Vec<String>)> {
        ps.iter().map(problem_key).collect()
    }

    /// Changes of every kind a planner can make to one grid.
    fn edits(d: &District, g: AreaId, h: AreaId) -> Vec<(&'static str, GridChange)> {
        let a = d.area(g);
        let b = &a.boundary;
        let c = b.centroid().unwrap();
        let scaled = |k: f64| {
            b.map_coords(|p| geo::Coord {
                x: c.x() + (p.x - c.x()) * k,
                y: c.y() + (p.y - c.y()) * k,
            })
        };
        let bowtie = MultiPolygon::new(vec![geo::Polygon::new(
            geo::LineString::from(vec![
                (c.x(), c.y()),
                (c.x() + 0.001, c.y() + 0.001),
                (c.x() + 0.001, c.y()),
                (c.x(), c.y() + 0.001),
                (c.x(), c.y()),
            ]),
            vec![],
        )]);
        let boundary = |name, m: MultiPolygon<f64>| {
            (
                name,
                GridChange {
                    code: a.code.clone(),
                    boundary: Some(m),
                    name: None,
                    parent_code: None,
                    kind: None,
                    staff: None,
                },
            )
        };
        let other_parent = d
            .areas
            .iter()
            .find(|x| {
                x.level == Level::Community && Some(&x.code) != a.parent.map(|p| &d.area(p).code)
            })
            .map(|x| x.code.clone());
        vec![
            boundary("shrunk (a gap)", scaled(0.9)),
            boundary("grown (overlaps)", scaled(1.1)),
            boundary(
                "moved 150 m (overlaps, a gap, straddling buildings)",
                b.translate(0.0015, 0.0),
            ),
            boundary("the neighbour's boundary", d.area(h).boundary.clone()),
            boundary("not a valid polygon", bowtie),
            boundary("a sliver", scaled(0.01)),
            (
                "moved to another community",
                GridChange {
                    code: a.code.clone(),
                    boundary: Some(b.clone()),
                    name: None,
                    parent_code: other_parent,
                    kind: None,
                    staff: None,
                },
            ),
            (
                "removed",
                GridChange {
                    code: a.code.clone(),
                    boundary: None,
                    name: None,
                    parent_code: None,
                    kind: None,
                    staff: None,
                },
            ),
        ]
    }

    #[test]
    fn a_check_whose_request_ended_stops_and_is_not_an_answer() {
        let d = gridgov_spatial::sample::district(&gridgov_spatial::sample::SampleSpec::default());
        let snap = Snapshot::build(d.clone(), std::collections::HashMap::new(), 1);
        let ended = Cancel::new();
        ended.cancel();
        assert!(matches!(
            check(&snap, &d, &ended),
            Err(BoundaryError::Cancelled(_))
        ));
        assert!(check(&snap, &d, &Cancel::never()).is_ok());
    }

    #[test]
    fn errors_found_around_the_changed_grids_are_those_a_whole_validation_adds() {
        let snap = Snapshot::build(
            gridgov_spatial::sample::district(&gridgov_spatial::sample::SampleSpec::default()),
            HashMap::new(),
            1,
        );
        let grids: Vec<AreaId> = snap.district.grids().collect();
        let mut found = 0;
        for (k, &g) in grids.iter().enumerate().step_by(7) {
            let h = grids[(k + 1) % grids.len()];
            for (what, change) in edits(&snap.district, g, h) {
                let Ok(after) = apply_changes(&snap.district, std::slice::from_ref(&change)) else {
                    continue;
                };
                let placed = assign(&after, &GridIndex::new(&after));
                let codes = [change.code.clone()].into_iter().collect();
                let near = added_errors(&snap, &after, &placed, &codes);
                let all = check(&snap, &after, &Cancel::never()).unwrap().1;
                assert_eq!(
                    keys(&near),
                    keys(&all),
                    "grid {}, {what}",
                    snap.district.area(g).code
                );
                found += all.len();
            }
        }
        assert!(found > 20, "the edits add errors to compare ({found})");
    }
}

#[cfg(test)]
mod placed_again_tests {
    use super::*;
    use geo::Translate;
    use gridgov_spatial::address::AddressIndex;

    #[test]
    fn after_a_move_the_addresses_indexed_again_answer_as_a_new_index_would() {
        let snap = Snapshot::build(
            gridgov_spatial::sample::district(&gridgov_spatial::sample::SampleSpec::default()),
            HashMap::new(),
            1,
        );
        let d = &snap.district;
        let mut moved = 0;
        for g in d.grids().step_by(6) {
            let change = GridChange {
                code: d.area(g).code.clone(),
                boundary: Some(d.area(g).boundary.translate(0.002, 0.001)),
                name: Some("改名后的网格".into()),
                parent_code: None,
                kind: None,
                staff: None,
            };
            let after = apply_changes(d, std::slice::from_ref(&change)).unwrap();
            let grids = GridIndex::new(&after);
            let (placed, again) = placed_again(&snap, &after, &grids, &[change]);
            assert!(placed == assign(&after, &grids));
            let again = snap
                .addresses
                .with_buildings(&after, &placed, &again.unwrap());
            let fresh = AddressIndex::new(&after, &placed);
            for (i, b) in after.buildings.iter().enumerate() {
                if placed.buildings[i].placement != snap.assignment.buildings[i].placement {
                    moved += 1;
                    assert_eq!(
                        again.lookup(&after, &b.address, 5),
                        fresh.lookup(&after, &b.address, 5),
                        "{}",
                        b.address
                    );
                }
            }
        }
        assert!(moved > 10, "buildings moved ({moved})");
    }
}
