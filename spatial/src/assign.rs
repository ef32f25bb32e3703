//! Assignment: every building, unit, household, merchant, camera and
//! incident gets its grid.
//!
//! - **Points** (merchants, cameras, incidents) go to the grid that contains
//!   them under the boundary rule of [`crate::pip`]; exclusive grids take
//!   precedence over basic ones. A point outside every grid is reported with
//!   the nearest grid and the distance to it.
//! - **Buildings** go to the grid holding the largest share of their
//!   footprint (exclusive grids take their part first), and are flagged as
//!   *straddling*, with all shares, when no grid holds at least 99%.
//! - **Units** go to their building's grid, so a building is never split;
//!   **households** go with their unit.
//!
//! ```
//! use gridgov_spatial::{assign, sample, GridIndex};
//! let d = sample::district(&sample::SampleSpec::default());
//! let idx = GridIndex::new(&d);
//! let a = assign(&d, &idx);
//! assert_eq!(a.buildings.len(), d.buildings.len());
//! assert!(a.incidents.iter().all(|p| p.grid().is_some()));
//! ```

use geo::{Area as _, BooleanOps, BoundingRect, Centroid, MultiPolygon};
use serde::Serialize;

use crate::{AreaId, District, GridIndex, Rows};

/// Where a point-like entity was placed.
///
/// ```
/// use gridgov_spatial::{Placement, AreaId};
/// assert_eq!(Placement::Inside(AreaId(2)).grid(), Some(AreaId(2)));
/// assert_eq!(Placement::Unplaced.grid(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "placement", rename_all = "snake_case")]
pub enum Placement {
    /// Inside this grid.
    Inside(AreaId),
    /// Outside every grid; the nearest grid and how far it is.
    Outside {
        /// The nearest grid.
        nearest: AreaId,
        /// Distance to its border in metres.
        distance_m: f64,
    },
    /// Not placed: no grids, or coordinates that are not finite.
    Unplaced,
}

impl Placement {
    /// The grid it is inside, if any.
    pub fn grid(self) -> Option<AreaId> {
        match self {
            Placement::Inside(g) => Some(g),
            _ => None,
        }
    }

    /// The grid responsible for it: inside, or nearest when outside.
    pub fn responsible(self) -> Option<AreaId> {
        match self {
            Placement::Inside(g) | Placement::Outside { nearest: g, .. } => Some(g),
            Placement::Unplaced => None,
        }
    }
}

/// A building's grid and how its footprint is shared.
///
/// ```
/// use gridgov_spatial::{BuildingPlacement, Placement, AreaId};
/// let b = BuildingPlacement { placement: Placement::Inside(AreaId(1)), shares: vec![(AreaId(1), 1.0)], straddling: false };
/// assert!(!b.straddling);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildingPlacement {
    /// The grid holding the largest share (or the nearest, when none).
    pub placement: Placement,
    /// Every grid holding part of the footprint, largest share first;
    /// shares are fractions of the footprint area.
    pub shares: Vec<(AreaId, f64)>,
    /// No grid holds at least 99% of the footprint.
    pub straddling: bool,
}

/// Share a grid must hold for a building not to count as straddling.
pub const WHOLE_SHARE: f64 = 0.99;

/// The result of assigning a whole district.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    /// One per building.
    pub buildings: Rows<BuildingPlacement>,
    /// One per unit: its building's grid.
    pub units: Rows<Placement>,
    /// One per household: its unit's grid.
    pub households: Rows<Placement>,
    /// One per merchant.
    pub merchants: Rows<Placement>,
    /// One per camera.
    pub cameras: Rows<Placement>,
    /// One per incident.
    pub incidents: Rows<Placement>,
}

/// Places one point.
///
/// ```
/// use gridgov_spatial::{place_point, sample, GridIndex, Placement};
/// let d = sample::district(&sample::SampleSpec::default());
/// let idx = GridIndex::new(&d);
/// assert!(matches!(place_point(&idx, 117.0, 34.0), Placement::Outside { .. }));
/// ```
pub fn place_point(idx: &GridIndex, lon: f64, lat: f64) -> Placement {
    if !(lon.is_finite() && lat.is_finite()) {
        return Placement::Unplaced;
    }
    if let Some(g) = idx.locate(lon, lat) {
        return Placement::Inside(g);
    }
    match idx.nearest_border(lon, lat) {
        Some(n) => Placement::Outside {
            nearest: n.grid,
            distance_m: n.distance_m,
        },
        None => Placement::Unplaced,
    }
}

/// Places only the district's incidents (the rest of an [`Assignment`]
/// stays valid while boundaries and buildings do not change).
///
/// ```
/// use gridgov_spatial::{assign, assign_incidents, sample, GridIndex};
/// let d = sample::district(&sample::SampleSpec::default());
/// let idx = GridIndex::new(&d);
/// assert_eq!(assign_incidents(&d, &idx), assign(&d, &idx).incidents);
/// ```
pub fn assign_incidents(d: &District, idx: &GridIndex) -> Rows<Placement> {
    let pts: Vec<[f64; 2]> = d
        .incidents
        .iter()
        .map(|i| [i.location.x(), i.location.y()])
        .collect();
    place_points(idx, &pts).into()
}

fn place_points(idx: &GridIndex, pts: &[[f64; 2]]) -> Vec<Placement> {
    idx.locate_many(pts, 2)
        .into_iter()
        .zip(pts)
        .map(|(g, p)| match g {
            Some(g) => Placement::Inside(g),
            None => place_point(idx, p[0], p[1]),
        })
        .collect()
}

/// Places one building footprint.
pub fn place_building(
    d: &District,
    idx: &GridIndex,
    footprint: &MultiPolygon<f64>,
) -> BuildingPlacement {
    let outside = |fp: &MultiPolygon<f64>| {
        let placement = fp
            .centroid()
            .map_or(Placement::Unplaced, |c| place_point(idx, c.x(), c.y()));
        BuildingPlacement {
            placement,
            shares: Vec::new(),
            straddling: false,
        }
    };
    let Some(bb) = footprint.bounding_rect() else {
        return outside(footprint);
    };
    // Fast path: the whole footprint lies in cells answered by one grid.
    if let Some(Some(_)) = idx
        .cells()
        .uniform_over(bb.min().x, bb.min().y, bb.max().x, bb.max().y)
        && let Some(g) = idx.locate(bb.min().x, bb.min().y)
    {
        return BuildingPlacement {
            placement: Placement::Inside(g),
            shares: vec![(g, 1.0)],
            straddling: false,
        };
    }
    let total = footprint.unsigned_area();
    if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return outside(footprint);
    }
    // Exclusive grids take their part first: walk grids in precedence
    // order, cutting each one's part out of what remains.
    let mut remaining = footprint.clone();
    let mut shares = Vec::new();
    for g in idx.candidates(bb) {
        let grid = &d.area(g).boundary;
        let part = remaining.intersection(grid);
        let a = part.unsigned_area();
        if a > 0.0 {
            shares.push((g, a / total));
            remaining = remaining.difference(grid);
        }
    }
    shares.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // One grid holding all of it holds it whole, whichever path found it
    // (the fast path above answers 1.0 exactly).
    if let [(_, s)] = shares.as_mut_slice()
        && remaining.unsigned_area() == 0.0
    {
        *s = 1.0;
    }
    match shares.first() {
        Some(&(g, s)) => BuildingPlacement {
            placement: Placement::Inside(g),
            straddling: s < WHOLE_SHARE,
            shares,
        },
        None => outside(footprint),
    }
}

/// Assigns everything in the district to its grid.
pub fn assign(d: &District, idx: &GridIndex) -> Assignment {
    let buildings: Vec<BuildingPlacement> = d
        .buildings
        .iter()
        .map(|b| place_building(d, idx, &b.footprint))
        .collect();
    let units: Vec<Placement> = d
        .units
        .iter()
        .map(|u| {
            buildings.get(u.building.index()).map_or_else(
                || place_point(idx, u.location.x(), u.location.y()),
                |b| b.placement,
            )
        })
        .collect();
    let households: Rows<Placement> = d
        .households
        .iter()
        .map(|h| {
            units
                .get(h.unit.index())
                .copied()
                .unwrap_or(Placement::Unplaced)
        })
        .collect();
    let pts = |it: &mut dyn Iterator<Item = geo::Point<f64>>| -> Vec<[f64; 2]> {
        it.map(|p| [p.x(), p.y()]).collect()
    };
    Assignment {
        merchants: place_points(idx, &pts(&mut d.merchants.iter().map(|m| m.location))).into(),
        cameras: place_points(idx, &pts(&mut d.cameras.iter().map(|c| c.location))).into(),
        incidents: place_points(idx, &pts(&mut d.incidents.iter().map(|i| i.location))).into(),
        buildings: buildings.into(),
        units: units.into(),
        households,
    }
}

/// The placements of `after` once the grids `changed` have new
/// boundaries (or attributes), from the placements `before` made before
/// the change, when every area keeps its id: only what may be placed
/// differently is placed again — what lay in a changed grid, what lay in
/// no grid (its nearest border may have moved), and what lies within
/// `regions` (the boxes, WGS 84, of the changed grids' old and new
/// boundaries). Units and households follow their buildings and units.
/// The same as [`assign`] (`idx` is the grid index of `after`), at a cost
/// that follows the change for buildings and points.
///
/// ```
/// use gridgov_spatial::{assign, reassign, sample, GridIndex, AreaId};
/// use geo::BoundingRect;
/// let d = sample::district(&sample::SampleSpec::default());
/// let before = assign(&d, &GridIndex::new(&d));
/// let g = d.grids().last().unwrap();
/// let mut after = d.clone();
/// let other = d.area(d.grids().next().unwrap()).boundary.clone();
/// let old = after.areas[g.index()].boundary.bounding_rect().unwrap();
/// after.areas[g.index()].boundary = other.clone();
/// let idx = GridIndex::new(&after);
/// let again = reassign(&after, &idx, &before, &[g], &[old, other.bounding_rect().unwrap()]);
/// assert_eq!(again, assign(&after, &idx));
/// ```
pub fn reassign(
    after: &District,
    idx: &GridIndex,
    before: &Assignment,
    changed: &[AreaId],
    regions: &[geo::Rect<f64>],
) -> Assignment {
    let changed: std::collections::HashSet<AreaId> = changed.iter().copied().collect();
    let meets = |r: &geo::Rect<f64>| {
        regions.iter().any(|q| {
            r.min().x <= q.max().x
                && q.min().x <= r.max().x
                && r.min().y <= q.max().y
                && q.min().y <= r.max().y
        })
    };
    let settled = |p: Placement| matches!(p, Placement::Inside(g) if !changed.contains(&g));
    let point_keeps =
        |p: Placement, at: geo::Point<f64>| settled(p) && !meets(&geo::Rect::new(at.0, at.0));
    let mut out = before.clone();
    // Walk the rows in order (a lookup by position in a persistent vector
    // costs a descent of its tree); units and households follow only the
    // buildings and units that moved.
    let mut moved_building = vec![false; after.buildings.len()];
    for (i, (b, old)) in after
        .buildings
        .iter()
        .zip(before.buildings.iter())
        .enumerate()
    {
        let keeps = settled(old.placement)
            && old.shares.iter().all(|(g, _)| !changed.contains(g))
            && b.footprint.bounding_rect().is_some_and(|r| !meets(&r));
        if !keeps {
            let p = place_building(after, idx, &b.footprint);
            moved_building[i] = p.placement != old.placement;
            out.buildings.set(i, p);
        }
    }
    let mut moved_unit = vec![false; after.units.len()];
    for (i, (u, &old)) in after.units.iter().zip(before.units.iter()).enumerate() {
        let b = u.building.index();
        let p = match moved_building.get(b) {
            Some(false) => continue,
            Some(true) => out.buildings[b].placement,
            None if point_keeps(old, u.location) => continue,
            None => place_point(idx, u.location.x(), u.location.y()),
        };
        if p != old {
            moved_unit[i] = true;
            out.units.set(i, p);
        }
    }
    if moved_unit.contains(&true) {
        for (i, (h, &old)) in after
            .households
            .iter()
            .zip(before.households.iter())
            .enumerate()
        {
            if moved_unit.get(h.unit.index()) == Some(&true) {
                let p = out.units[h.unit.index()];
                if p != old {
                    out.households.set(i, p);
                }
            }
        }
    }
    let points = |rows: &mut Rows<Placement>,
                  was: &Rows<Placement>,
                  at: &mut dyn Iterator<Item = geo::Point<f64>>| {
        for (i, (p, &old)) in at.zip(was.iter()).enumerate() {
            if !point_keeps(old, p) {
                rows.set(i, place_point(idx, p.x(), p.y()));
            }
        }
    };
    points(
        &mut out.merchants,
        &before.merchants,
        &mut after.merchants.iter().map(|m| m.location),
    );
    points(
        &mut out.cameras,
        &before.cameras,
        &mut after.cameras.iter().map(|c| c.location),
    );
    points(
        &mut out.incidents,
        &before.incidents,
        &mut after.incidents.iter().map(|x| x.location),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;
    use geo::{BoundingRect, Centroid, MapCoords, Translate};

    #[test]
    fn placing_again_around_changed_grids_equals_placing_everything() {
        let d = crate::sample::district(&crate::sample::SampleSpec::default());
        let before = assign(&d, &GridIndex::new(&d));
        let grids: Vec<AreaId> = d.grids().collect();
        let mut rng = Rng::new(3);
        let mut moved = 0;
        for round in 0..12 {
            let mut after = d.clone();
            let mut changed = Vec::new();
            let mut regions = Vec::new();
            for _ in 0..=rng.below(3) {
                let g = grids[rng.below(grids.len() as u64) as usize];
                let b = after.area(g).boundary.clone();
                let c = b.centroid().unwrap();
                let k = rng.range(0.6, 1.3);
                let new = match round % 3 {
                    0 => b.map_coords(|p| geo::Coord {
                        x: c.x() + (p.x - c.x()) * k,
                        y: c.y() + (p.y - c.y()) * k,
                    }),
                    1 => b.translate(rng.range(-0.002, 0.002), rng.range(-0.002, 0.002)),
                    _ => after
                        .area(grids[rng.below(grids.len() as u64) as usize])
                        .boundary
                        .clone(),
                };
                regions.extend(b.bounding_rect());
                regions.extend(new.bounding_rect());
                after.areas[g.index()].boundary = new;
                changed.push(g);
            }
            let idx = GridIndex::new(&after);
            let want = assign(&after, &idx);
            let got = reassign(&after, &idx, &before, &changed, &regions);
            moved += want
                .incidents
                .iter()
                .zip(before.incidents.iter())
                .filter(|(a, b)| a != b)
                .count();
            assert!(got == want, "round {round}: the placements differ");
        }
        assert!(moved > 100, "the changes move things ({moved} incidents)");
    }
}
