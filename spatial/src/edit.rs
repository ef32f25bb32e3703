//! Boundary changes: a set of grid edits applied to a district, and the
//! impact of the result — what moves from which grid to which.
//!
//! ```
//! use gridgov_spatial::edit::{apply_changes, impact, GridChange};
//! use gridgov_spatial::{sample, GridIndex, assign};
//! let d = sample::district(&sample::SampleSpec::default());
//! let g = d.grids().next().unwrap();
//! let code = d.area(g).code.clone();
//! // Giving the first grid its own boundary again changes nothing.
//! let change = GridChange::reshape(&code, d.area(g).boundary.clone());
//! let after = apply_changes(&d, &[change]).unwrap();
//! let i = impact(&d, &assign(&d, &GridIndex::new(&d)), &after, &assign(&after, &GridIndex::new(&after)));
//! assert!(i.moves.is_empty());
//! ```

use std::collections::BTreeMap;

use geo::MultiPolygon;
use serde::{Deserialize, Serialize};

use crate::{Area, AreaId, Assignment, District, GridKind, Level, Placement, Rows};

/// One change to one grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridChange {
    /// The grid's code (a new code adds a grid).
    pub code: String,
    /// The new boundary; `None` removes the grid.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_mp")]
    pub boundary: Option<MultiPolygon<f64>>,
    /// New name (required for a new grid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Community code (required for a new grid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_code: Option<String>,
    /// Basic or exclusive (new grids default to basic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<GridKind>,
    /// The grid's whole team, replacing the one it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<Vec<crate::Staff>>,
}

mod opt_mp {
    use geo::MultiPolygon;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct W(#[serde(with = "crate::geom_serde::multi_polygon")] MultiPolygon<f64>);

    #[allow(clippy::ref_option)] // the signature serde's `with` requires
    pub fn serialize<S: Serializer>(
        v: &Option<MultiPolygon<f64>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.clone().map(W).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<MultiPolygon<f64>>, D::Error> {
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}

impl GridChange {
    /// A new boundary for an existing grid.
    pub fn reshape(code: &str, boundary: MultiPolygon<f64>) -> Self {
        GridChange {
            code: code.to_string(),
            boundary: Some(boundary),
            name: None,
            parent_code: None,
            kind: None,
            staff: None,
        }
    }
}

/// Why a set of changes cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangeError {
    /// No changes at all.
    #[error("the change set is empty")]
    Empty,
    /// The same grid twice.
    #[error("grid {0} is changed twice in one change set")]
    Duplicate(String),
    /// Removing a grid that does not exist.
    #[error("grid {0} does not exist, so it cannot be removed")]
    NoSuchGrid(String),
    /// A new grid without name or community.
    #[error("new grid {0} needs a name and a parent_code (its community)")]
    Incomplete(String),
    /// The community named does not exist.
    #[error("grid {code}: community {parent} does not exist")]
    NoSuchCommunity {
        /// The grid.
        code: String,
        /// The community code given.
        parent: String,
    },
    /// A code that belongs to a street or community.
    #[error("{0} is not a grid code")]
    NotAGrid(String),
}

/// Applies `changes` to a copy of `d`. Grids keep their ids; removed
/// grids keep their slot with an empty boundary and are dropped at the end,
/// so other ids shift only when grids are removed.
pub fn apply_changes(d: &District, changes: &[GridChange]) -> Result<District, ChangeError> {
    if changes.is_empty() {
        return Err(ChangeError::Empty);
    }
    let mut seen = std::collections::HashSet::new();
    for c in changes {
        if !seen.insert(c.code.as_str()) {
            return Err(ChangeError::Duplicate(c.code.clone()));
        }
    }
    let mut out = d.clone();
    let mut removed: Vec<AreaId> = Vec::new();
    for c in changes {
        match out.area_by_code(&c.code) {
            Some(id) if out.area(id).level != Level::Grid => {
                return Err(ChangeError::NotAGrid(c.code.clone()));
            }
            Some(id) => {
                let parent = match &c.parent_code {
                    Some(p) => Some(community(&out, &c.code, p)?),
                    None => out.area(id).parent,
                };
                let a = &mut out.areas[id.index()];
                match &c.boundary {
                    Some(b) => a.boundary = b.clone(),
                    None => removed.push(id),
                }
                if let Some(n) = &c.name {
                    a.name.clone_from(n);
                }
                if let Some(k) = c.kind {
                    a.kind = Some(k);
                }
                if let Some(s) = &c.staff {
                    a.staff.clone_from(s);
                }
                a.parent = parent;
            }
            None => {
                let Some(boundary) = &c.boundary else {
                    return Err(ChangeError::NoSuchGrid(c.code.clone()));
                };
                let (Some(name), Some(parent)) = (&c.name, &c.parent_code) else {
                    return Err(ChangeError::Incomplete(c.code.clone()));
                };
                let parent = community(&out, &c.code, parent)?;
                let mut a = Area::new(Level::Grid, c.code.clone(), name.clone());
                a.kind = Some(c.kind.unwrap_or(GridKind::Basic));
                a.parent = Some(parent);
                a.boundary = boundary.clone();
                a.staff = c.staff.clone().unwrap_or_default();
                out.add_area(a);
            }
        }
    }
    if !removed.is_empty() {
        out = without_areas(&out, &removed);
    }
    Ok(out)
}

fn community(d: &District, code: &str, parent: &str) -> Result<AreaId, ChangeError> {
    d.area_by_code(parent)
        .filter(|&p| d.area(p).level == Level::Community)
        .ok_or_else(|| ChangeError::NoSuchCommunity {
            code: code.to_string(),
            parent: parent.to_string(),
        })
}

/// A copy of `d` without the given areas (which must have no children).
fn without_areas(d: &District, drop: &[AreaId]) -> District {
    let mut map = Vec::with_capacity(d.areas.len());
    let mut out = District {
        areas: Rows::new(),
        ..d.clone()
    };
    for (i, a) in d.areas.iter().enumerate() {
        if drop.contains(&AreaId(i as u32)) {
            map.push(None);
        } else {
            map.push(Some(AreaId(out.areas.len() as u32)));
            out.areas.push_back(a.clone());
        }
    }
    for a in &mut out.areas {
        a.parent = a.parent.and_then(|p| map[p.index()]);
    }
    out
}

/// Things that move from one grid to another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    /// Grid code before (`None`: was outside every grid).
    pub from: Option<String>,
    /// Grid code after.
    pub to: Option<String>,
    /// Buildings moving (codes).
    pub buildings: Vec<String>,
    /// Units moving.
    pub units: usize,
    /// Households moving.
    pub households: usize,
    /// Merchants moving.
    pub merchants: usize,
    /// Cameras moving.
    pub cameras: usize,
    /// Open incidents moving.
    pub open_incidents: usize,
}

/// Household totals of a grid before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HouseholdTotal {
    /// Grid code.
    pub grid: String,
    /// Before the change (`None`: the grid is new).
    pub before: Option<usize>,
    /// After (`None`: the grid is removed).
    pub after: Option<usize>,
}

/// What a boundary change does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impact {
    /// Moves, grouped by (from, to).
    pub moves: Vec<Move>,
    /// Household totals of every grid that gains or loses anything.
    pub households: Vec<HouseholdTotal>,
    /// Buildings that straddle grids after the change but did not before.
    pub new_straddling: Vec<String>,
}

fn code(d: &District, p: Placement) -> Option<String> {
    p.responsible().map(|g| d.area(g).code.clone())
}

/// The move record for (from, to), created empty on first use.
fn entry(
    moves: &mut BTreeMap<(Option<String>, Option<String>), Move>,
    k: (Option<String>, Option<String>),
) -> &mut Move {
    moves.entry(k.clone()).or_insert(Move {
        from: k.0,
        to: k.1,
        buildings: Vec::new(),
        units: 0,
        households: 0,
        merchants: 0,
        cameras: 0,
        open_incidents: 0,
    })
}

/// Compares the assignment of a district before and after a change.
pub fn impact(before: &District, ab: &Assignment, after: &District, aa: &Assignment) -> Impact {
    let mut moves: BTreeMap<(Option<String>, Option<String>), Move> = BTreeMap::new();
    let moved = |pb: Placement, pa: Placement| {
        let (f, t) = (code(before, pb), code(after, pa));
        (f != t).then_some((f, t))
    };
    let mut b_moves = Vec::new();
    for (i, (pb, pa)) in ab.buildings.iter().zip(&aa.buildings).enumerate() {
        if let Some(k) = moved(pb.placement, pa.placement) {
            b_moves.push((k, before.buildings[i].code.clone()));
        }
    }
    for (k, c) in b_moves {
        entry(&mut moves, k).buildings.push(c);
    }
    for (pb, pa) in ab.units.iter().zip(&aa.units) {
        if let Some(k) = moved(*pb, *pa) {
            entry(&mut moves, k).units += 1;
        }
    }
    for (pb, pa) in ab.households.iter().zip(&aa.households) {
        if let Some(k) = moved(*pb, *pa) {
            entry(&mut moves, k).households += 1;
        }
    }
    for (pb, pa) in ab.merchants.iter().zip(&aa.merchants) {
        if let Some(k) = moved(*pb, *pa) {
            entry(&mut moves, k).merchants += 1;
        }
    }
    for (pb, pa) in ab.cameras.iter().zip(&aa.cameras) {
        if let Some(k) = moved(*pb, *pa) {
            entry(&mut moves, k).cameras += 1;
        }
    }
    for ((pb, pa), inc) in ab
        .incidents
        .iter()
        .zip(&aa.incidents)
        .zip(&before.incidents)
    {
        if inc.status.is_open()
            && let Some(k) = moved(*pb, *pa)
        {
            entry(&mut moves, k).open_incidents += 1;
        }
    }
    let moves: Vec<Move> = moves.into_values().collect();
    // Household totals of every grid touched by a move.
    let totals = |d: &District, a: &Assignment| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for g in d.grids() {
            m.insert(d.area(g).code.clone(), 0);
        }
        for p in &a.households {
            if let Some(c) = code(d, *p) {
                *m.entry(c).or_insert(0) += 1;
            }
        }
        m
    };
    let (tb, ta) = (totals(before, ab), totals(after, aa));
    let mut touched: std::collections::BTreeSet<String> = moves
        .iter()
        .flat_map(|m| [m.from.clone(), m.to.clone()])
        .flatten()
        .collect();
    touched.extend(tb.keys().filter(|k| !ta.contains_key(*k)).cloned());
    touched.extend(ta.keys().filter(|k| !tb.contains_key(*k)).cloned());
    let households = touched
        .into_iter()
        .map(|g| HouseholdTotal {
            before: tb.get(&g).copied(),
            after: ta.get(&g).copied(),
            grid: g,
        })
        .collect();
    let new_straddling = ab
        .buildings
        .iter()
        .zip(&aa.buildings)
        .enumerate()
        .filter(|(_, (b, a))| a.straddling && !b.straddling)
        .map(|(i, _)| before.buildings[i].code.clone())
        .collect();
    Impact {
        moves,
        households,
        new_straddling,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{SampleSpec, district};
    use crate::{GridIndex, assign};
    use geo::{BooleanOps, Centroid};

    #[test]
    fn moving_a_border_moves_what_lies_between_and_counts_it() {
        let d = district(&SampleSpec::default());
        // Give grid A the building of grid B nearest the border: grow A by
        // that building's footprint and shrink B by it.
        let a0 = assign(&d, &GridIndex::new(&d));
        let (bi, b) = d
            .buildings
            .iter()
            .enumerate()
            .find(|(i, _)| {
                !a0.buildings[*i].straddling && a0.buildings[*i].placement.grid().is_some()
            })
            .unwrap();
        let from = a0.buildings[bi].placement.grid().unwrap();
        let neighbour = d
            .grids()
            .find(|&g| {
                g != from
                    && d.area(g).kind == Some(GridKind::Basic)
                    && d.area(g).parent == d.area(from).parent
            })
            .unwrap();
        let grown = d.area(neighbour).boundary.union(&b.footprint);
        let shrunk = d.area(from).boundary.difference(&b.footprint);
        let changes = [
            GridChange::reshape(&d.area(neighbour).code, grown),
            GridChange::reshape(&d.area(from).code, shrunk),
        ];
        let after = apply_changes(&d, &changes).unwrap();
        let a1 = assign(&after, &GridIndex::new(&after));
        let i = impact(&d, &a0, &after, &a1);
        let m = i
            .moves
            .iter()
            .find(|m| m.buildings.contains(&b.code))
            .expect("the building moves");
        assert_eq!(m.from.as_deref(), Some(d.area(from).code.as_str()));
        assert_eq!(m.to.as_deref(), Some(d.area(neighbour).code.as_str()));
        let units = d.units.iter().filter(|u| u.building.index() == bi).count();
        assert_eq!(m.units, units);
        let hh: usize = d
            .households
            .iter()
            .filter(|h| d.units[h.unit.index()].building.index() == bi)
            .count();
        assert_eq!(m.households, hh);
        let tot = i
            .households
            .iter()
            .find(|t| t.grid == d.area(from).code)
            .unwrap();
        assert_eq!(tot.before.unwrap() - tot.after.unwrap(), hh);
        let _ = b.footprint.centroid();
    }

    #[test]
    fn bad_change_sets_are_refused_with_the_reason() {
        let d = district(&SampleSpec::default());
        let g = d.grids().next().unwrap();
        let code = d.area(g).code.clone();
        let b = d.area(g).boundary.clone();
        assert_eq!(apply_changes(&d, &[]), Err(ChangeError::Empty));
        assert_eq!(
            apply_changes(
                &d,
                &[
                    GridChange::reshape(&code, b.clone()),
                    GridChange::reshape(&code, b.clone())
                ]
            ),
            Err(ChangeError::Duplicate(code.clone()))
        );
        assert_eq!(
            apply_changes(&d, &[GridChange::reshape("370402005", b.clone())]),
            Err(ChangeError::NotAGrid("370402005".into()))
        );
        assert_eq!(
            apply_changes(&d, &[GridChange::reshape("999", b.clone())]),
            Err(ChangeError::Incomplete("999".into()))
        );
        let new = GridChange {
            code: "999".into(),
            boundary: Some(b),
            name: Some("new".into()),
            parent_code: Some("nope".into()),
            kind: None,
            staff: None,
        };
        assert!(matches!(
            apply_changes(&d, &[new]),
            Err(ChangeError::NoSuchCommunity { .. })
        ));
    }

    #[test]
    fn removing_a_grid_keeps_every_parent_link_right() {
        let d = district(&SampleSpec::default());
        let g = d.grids().next().unwrap();
        let code = d.area(g).code.clone();
        let rm = GridChange {
            code: code.clone(),
            boundary: None,
            name: None,
            parent_code: None,
            kind: None,
            staff: None,
        };
        let after = apply_changes(&d, &[rm]).unwrap();
        assert!(after.area_by_code(&code).is_none());
        assert_eq!(after.grids().count(), 51);
        for a in &after.areas {
            let before = d.area(d.area_by_code(&a.code).unwrap());
            assert_eq!(
                a.parent.map(|p| after.area(p).code.clone()),
                before.parent.map(|p| d.area(p).code.clone())
            );
        }
    }
}
