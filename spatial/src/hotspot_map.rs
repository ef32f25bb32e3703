//! Hot spots of a district: Gi* of incident counts per grid (queen
//! contiguity) or per cell of a regular lattice, for a period, with the
//! emerging-hot-spot label from the weekly series before it.
//!
//! For each unit: the count in the period, its Gi* (z-score, normal and
//! permutation p-values, significance after FDR control), whether it is a
//! significant hot or cold spot, its weekly counts over the `weeks` ISO
//! weeks ending with the period's last day, and the label from the
//! Mann–Kendall trend of its weekly Gi* z-scores and the weeks it was hot.
//!
//! ```
//! use gridgov_spatial::{assign, sample, GridIndex};
//! use gridgov_spatial::hotspot_map::{grid_hotspots, HotspotOptions, Spot};
//! use gridgov_spatial::incident_counts::IncidentQuery;
//! use gridgov_spatial::period::Period;
//! let d = sample::district(&sample::SampleSpec::default());
//! let a = assign(&d, &GridIndex::new(&d));
//! let q = IncidentQuery::default().over(Period::parse("2026-10").unwrap());
//! let h = grid_hotspots(&d, &a, &q, &HotspotOptions::default()).unwrap();
//! assert_eq!(h.len(), d.grids().count());
//! assert!(h.iter().all(|g| g.unit.weekly.len() == 8 && g.unit.spot != Spot::Cold || g.unit.gi.z < 0.0));
//! ```

use serde::Serialize;

use crate::LocalProjection;
use crate::cancel::{Cancel, Cancelled};
use crate::hotspots::{
    Emerging, GiStar, Neighbours, emerging, gi_star_until, lattice, mann_kendall,
};
use crate::incident_counts::IncidentQuery;
use crate::{AreaId, Assignment, District};

/// How to look for hot spots.
#[derive(Debug, Clone, PartialEq)]
pub struct HotspotOptions {
    /// Conditional permutations per unit (999 is the usual).
    pub permutations: usize,
    /// Seed of the permutations: the same seed gives the same answer.
    pub seed: u64,
    /// False-discovery rate.
    pub fdr: f64,
    /// Weeks in the series for the emerging label.
    pub weeks: usize,
    /// Raised when the answer is no longer wanted: the work stops.
    pub cancel: Cancel,
}

impl Default for HotspotOptions {
    fn default() -> Self {
        HotspotOptions {
            permutations: 999,
            seed: 20_260_101,
            fdr: 0.05,
            weeks: 8,
            cancel: Cancel::never(),
        }
    }
}

/// Why hot spots could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HotspotError {
    /// A lattice cell size that is not a positive number of metres.
    #[error("cell size {0} m: give a size between 10 and 10000 metres")]
    CellSize(f64),
    /// A lattice with too many cells.
    #[error("a {cols} × {rows} lattice has more than {max} cells: choose larger cells")]
    TooManyCells {
        /// Columns.
        cols: usize,
        /// Rows.
        rows: usize,
        /// The most allowed.
        max: usize,
    },
    /// Options out of range.
    #[error("{0}")]
    Options(String),
    /// No grids to look at.
    #[error("the district has no grids")]
    NoGrids,
    /// More work than one request may ask for.
    #[error(
        "{units} units × {permutations} permutations × {series} series (the period and {weeks} weeks) is {draws} draws, over the limit of {max}: ask for fewer permutations or weeks, or larger cells (cell_m)",
        series = weeks + 1,
        draws = units.saturating_mul(*permutations).saturating_mul(weeks + 1)
    )]
    TooCostly {
        /// Units (grids or cells).
        units: usize,
        /// Permutations asked for.
        permutations: usize,
        /// Weeks asked for.
        weeks: usize,
        /// The most draws allowed.
        max: usize,
    },
    /// Stopped: the answer was no longer wanted.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

/// The most permutation draws (units × permutations × (weeks + 1)) one
/// hot-spot question may ask for: about ten seconds of one core.
pub const MAX_DRAWS: usize = 1_000_000_000;

fn check_cost(units: usize, o: &HotspotOptions) -> Result<(), HotspotError> {
    let draws = units
        .saturating_mul(o.permutations)
        .saturating_mul(o.weeks + 1);
    if draws > MAX_DRAWS {
        return Err(HotspotError::TooCostly {
            units,
            permutations: o.permutations,
            weeks: o.weeks,
            max: MAX_DRAWS,
        });
    }
    Ok(())
}

/// Hot, cold or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Spot {
    /// Significantly more incidents around it than expected.
    Hot,
    /// Significantly fewer.
    Cold,
    /// Neither.
    NotSignificant,
}

/// One unit's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitHotspot {
    /// Incidents in the period.
    pub count: usize,
    /// Gi* in the period.
    pub gi: GiStar,
    /// Hot or cold after FDR control.
    pub spot: Spot,
    /// The emerging label over the weekly series.
    pub emerging: Emerging,
    /// Weekly counts, oldest first.
    pub weekly: Vec<usize>,
}

/// A grid's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridHotspot {
    /// The grid.
    pub id: AreaId,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The result.
    #[serde(flatten)]
    pub unit: UnitHotspot,
}

/// A lattice cell's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellHotspot {
    /// Column, from the west.
    pub col: usize,
    /// Row, from the north.
    pub row: usize,
    /// `[west, south, east, north]` in degrees.
    pub bounds: [f64; 4],
    /// The result.
    #[serde(flatten)]
    pub unit: UnitHotspot,
}

/// Hot spots over a lattice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatticeHotspots {
    /// Cell size in metres.
    pub cell_m: f64,
    /// Columns.
    pub cols: usize,
    /// Rows.
    pub rows: usize,
    /// Every cell, row by row from the north-west.
    pub cells: Vec<CellHotspot>,
}

/// The most cells a lattice may have.
pub const MAX_CELLS: usize = 20_000;

fn check(o: &HotspotOptions) -> Result<(), HotspotError> {
    if !(o.fdr > 0.0 && o.fdr < 1.0) {
        return Err(HotspotError::Options(format!(
            "fdr {} must be between 0 and 1",
            o.fdr
        )));
    }
    if !(9..=99_999).contains(&o.permutations) {
        return Err(HotspotError::Options(format!(
            "permutations {} must be between 9 and 99999",
            o.permutations
        )));
    }
    if !(2..=104).contains(&o.weeks) {
        return Err(HotspotError::Options(format!(
            "weeks {} must be between 2 and 104",
            o.weeks
        )));
    }
    Ok(())
}

/// Gi* for the period and for each week, and the labels.
fn analyse(
    unit_of: &dyn Fn(usize) -> Option<usize>,
    units: usize,
    d: &District,
    nb: &Neighbours,
    q: &IncidentQuery,
    o: &HotspotOptions,
) -> Result<Vec<UnitHotspot>, HotspotError> {
    let weeks = q
        .period
        .map(|p| p.weeks_ending(o.weeks))
        .unwrap_or_default();
    let first = weeks.first().map_or(i64::MAX, |w| w.start);
    let mut count = vec![0f64; units];
    let mut weekly = vec![vec![0f64; units]; weeks.len()];
    let any_time = IncidentQuery {
        period: None,
        ..q.clone()
    };
    for (i, x) in d.incidents.iter().enumerate() {
        let Some(u) = unit_of(i) else { continue };
        if !any_time.matches(x) {
            continue;
        }
        let day = crate::period::local_day(x.reported_at, q.utc_offset_s);
        if q.period.is_none_or(|p| p.contains(day)) {
            count[u] += 1.0;
        }
        if day >= first {
            let w = ((day - first) / 7) as usize;
            if w < weeks.len() {
                weekly[w][u] += 1.0;
            }
        }
    }
    let now = gi_star_until(&count, nb, o.permutations, o.seed, o.fdr, &o.cancel)?;
    let per_week: Vec<Vec<GiStar>> = weekly
        .iter()
        .enumerate()
        .map(|(k, x)| {
            gi_star_until(
                x,
                nb,
                o.permutations,
                o.seed.wrapping_add(k as u64 + 1),
                o.fdr,
                &o.cancel,
            )
        })
        .collect::<Result<_, _>>()?;
    Ok((0..units)
        .map(|u| {
            let gi = now.get(u).cloned().unwrap_or(GiStar {
                g: 0.0,
                z: 0.0,
                p_norm: 1.0,
                p_sim: 1.0,
                significant: false,
            });
            let spot = match (gi.significant, gi.z > 0.0, gi.z < 0.0) {
                (true, true, _) => Spot::Hot,
                (true, _, true) => Spot::Cold,
                _ => Spot::NotSignificant,
            };
            let hot: Vec<bool> = per_week
                .iter()
                .map(|w| w.get(u).is_some_and(|g| g.significant && g.z > 0.0))
                .collect();
            let z: Vec<f64> = per_week
                .iter()
                .map(|w| w.get(u).map_or(0.0, |g| g.z))
                .collect();
            UnitHotspot {
                count: count[u] as usize,
                spot,
                emerging: emerging(&hot, &mann_kendall(&z), o.fdr),
                weekly: weekly.iter().map(|w| w[u] as usize).collect(),
                gi,
            }
        })
        .collect())
}

/// Hot spots among the grids (queen contiguity of their boundaries), in
/// the order of `District::grids`. Incidents count for their responsible
/// grid; `q`'s period is the period looked at (`None`: all time, and no
/// weekly series).
///
/// ```
/// use gridgov_spatial::{assign, sample, GridIndex};
/// use gridgov_spatial::hotspot_map::{grid_hotspots, HotspotOptions};
/// use gridgov_spatial::incident_counts::IncidentQuery;
/// let d = sample::district(&sample::SampleSpec::default());
/// let a = assign(&d, &GridIndex::new(&d));
/// let bad = HotspotOptions { fdr: 2.0, ..Default::default() };
/// assert!(grid_hotspots(&d, &a, &IncidentQuery::default(), &bad).is_err());
/// ```
pub fn grid_hotspots(
    d: &District,
    a: &Assignment,
    q: &IncidentQuery,
    o: &HotspotOptions,
) -> Result<Vec<GridHotspot>, HotspotError> {
    check(o)?;
    let grids: Vec<AreaId> = d.grids().collect();
    let mut slot = vec![usize::MAX; d.areas.len()];
    for (k, g) in grids.iter().enumerate() {
        slot[g.index()] = k;
    }
    let shapes: Vec<_> = grids.iter().map(|&g| d.area(g).boundary.clone()).collect();
    let nb = crate::hotspots::queen(&shapes);
    let unit_of = |i: usize| {
        a.incidents
            .get(i)
            .and_then(|p| p.responsible())
            .map(|g| slot[g.index()])
            .filter(|&s| s != usize::MAX)
    };
    check_cost(grids.len(), o)?;
    let units = analyse(&unit_of, grids.len(), d, &nb, q, o)?;
    Ok(grids
        .iter()
        .zip(units)
        .map(|(&g, unit)| GridHotspot {
            id: g,
            code: d.area(g).code.clone(),
            name: d.area(g).name.clone(),
            unit,
        })
        .collect())
}

/// Hot spots over a lattice of `cell_m`-metre cells laid over the
/// district's grids, from their north-west corner; incidents outside it
/// are left out.
///
/// ```
/// use gridgov_spatial::sample;
/// use gridgov_spatial::hotspot_map::{lattice_hotspots, HotspotOptions};
/// use gridgov_spatial::incident_counts::IncidentQuery;
/// let d = sample::district(&sample::SampleSpec::default());
/// let l = lattice_hotspots(&d, 250.0, &IncidentQuery::default(), &HotspotOptions::default()).unwrap();
/// assert_eq!(l.cells.len(), l.cols * l.rows);
/// assert_eq!(l.cells.iter().map(|c| c.unit.count).sum::<usize>(), d.incidents.len());
/// ```
pub fn lattice_hotspots(
    d: &District,
    cell_m: f64,
    q: &IncidentQuery,
    o: &HotspotOptions,
) -> Result<LatticeHotspots, HotspotError> {
    check(o)?;
    if !(10.0..=10_000.0).contains(&cell_m) {
        return Err(HotspotError::CellSize(cell_m));
    }
    let bb = crate::sample::grids_bbox(d).ok_or(HotspotError::NoGrids)?;
    let proj = LocalProjection::new(bb[0], bb[3]);
    let (e, s) = proj.to_metres(bb[2], bb[1]);
    let cols = (e / cell_m).ceil().max(1.0) as usize;
    let rows = (-s / cell_m).ceil().max(1.0) as usize;
    if cols.saturating_mul(rows) > MAX_CELLS {
        return Err(HotspotError::TooManyCells {
            cols,
            rows,
            max: MAX_CELLS,
        });
    }
    let unit_of = |i: usize| {
        let p = d.incidents[i].location;
        let (x, y) = proj.to_metres(p.x(), p.y());
        let (c, r) = ((x / cell_m).floor(), (-y / cell_m).floor());
        (c >= 0.0 && r >= 0.0 && (c as usize) < cols && (r as usize) < rows)
            .then(|| r as usize * cols + c as usize)
    };
    check_cost(cols * rows, o)?;
    let units = analyse(&unit_of, cols * rows, d, &lattice(cols, rows), q, o)?;
    let cells = units
        .into_iter()
        .enumerate()
        .map(|(k, unit)| {
            let (col, row) = (k % cols, k / cols);
            let (w, n) = proj.to_lon_lat(col as f64 * cell_m, -(row as f64) * cell_m);
            let (east, south) =
                proj.to_lon_lat((col + 1) as f64 * cell_m, -((row + 1) as f64) * cell_m);
            CellHotspot {
                col,
                row,
                bounds: [w, south, east, n],
                unit,
            }
        })
        .collect();
    Ok(LatticeHotspots {
        cell_m,
        cols,
        rows,
        cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Period;
    use crate::{GridIndex, Incident, IncidentSource, IncidentStatus, assign, sample};

    fn quick() -> HotspotOptions {
        HotspotOptions {
            permutations: 999,
            ..Default::default()
        }
    }

    /// Adds a growing cluster spread over `spots`: 15 incidents each in the
    /// first of eight weeks (2026-W37 to W44), 10 more each week after.
    fn add_growing_cluster(d: &mut District, spots: &[(f64, f64)]) {
        let monday = crate::period::parse_date("2026-09-07").unwrap();
        for week in 0..8i64 {
            for k in 0..(15 + 10 * week) * spots.len() as i64 {
                let at = spots[k as usize % spots.len()];
                let day = monday + 7 * week + k % 7;
                d.incidents.push_back(Incident {
                    location: geo::Point::new(at.0, at.1),
                    reported_at: crate::time::from_epoch(day * 86_400 + 2 * 3600),
                    category: "noise".into(),
                    source: IncidentSource::Hotline12345,
                    status: IncidentStatus::Reported,
                    description: String::new(),
                    filed_by: None,
                    reporter: None,
                });
            }
        }
    }

    #[test]
    fn a_growing_cluster_over_a_grid_and_its_neighbours_is_an_intensifying_hot_spot() {
        let mut d = sample::district(&sample::SampleSpec::default());
        let idx = GridIndex::new(&d);
        let grids: Vec<AreaId> = d.grids().collect();
        // A point inside each grid that lands in that grid.
        let spot = |g: AreaId| {
            let c = geo::InteriorPoint::interior_point(&d.area(g).boundary)?;
            (crate::place_point(&idx, c.x(), c.y()).grid() == Some(g)).then_some((c.x(), c.y()))
        };
        let shapes: Vec<_> = grids.iter().map(|&g| d.area(g).boundary.clone()).collect();
        let nb = crate::hotspots::queen(&shapes);
        let centre = (0..grids.len())
            .find(|&i| spot(grids[i]).is_some() && nb[i].len() >= 3)
            .unwrap();
        let spots: Vec<(f64, f64)> = std::iter::once(centre)
            .chain(nb[centre].iter().copied())
            .filter_map(|i| spot(grids[i]))
            .collect();
        add_growing_cluster(&mut d, &spots);
        let a = assign(&d, &idx);
        let q = IncidentQuery::default().over(Period::parse("2026-W44").unwrap());
        let h = grid_hotspots(&d, &a, &q, &quick()).unwrap();
        let me = &h[centre];
        assert_eq!(me.id, grids[centre]);
        assert_eq!(me.unit.spot, Spot::Hot, "{:?}", me.unit);
        assert!(me.unit.weekly.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(me.unit.emerging, Emerging::Intensifying, "{:?}", me.unit);
    }

    #[test]
    fn a_cluster_of_cells_is_a_hot_spot_on_the_lattice() {
        let mut d = sample::district(&sample::SampleSpec::default());
        let bb = crate::sample::grids_bbox(&d).unwrap();
        let c = (f64::midpoint(bb[0], bb[2]), f64::midpoint(bb[1], bb[3]));
        let proj = LocalProjection::new(c.0, c.1);
        // A 600 m square of spots around the centre.
        let spots: Vec<(f64, f64)> = (-3..=3)
            .flat_map(|i| (-3..=3).map(move |j| (f64::from(i) * 100.0, f64::from(j) * 100.0)))
            .map(|(x, y)| proj.to_lon_lat(x, y))
            .collect();
        add_growing_cluster(&mut d, &spots);
        let q = IncidentQuery::default().over(Period::parse("2026-W44").unwrap());
        let l = lattice_hotspots(&d, 150.0, &q, &quick()).unwrap();
        let cell = l
            .cells
            .iter()
            .find(|cell| {
                let b = cell.bounds;
                (b[0]..b[2]).contains(&c.0) && (b[1]..b[3]).contains(&c.1)
            })
            .unwrap();
        assert_eq!(cell.unit.spot, Spot::Hot, "{:?}", cell.unit);
        let corner = &l.cells[0];
        assert_ne!(corner.unit.spot, Spot::Hot);
    }

    #[test]
    fn the_same_seed_gives_the_same_answer() {
        let d = sample::district(&sample::SampleSpec::default());
        let a = assign(&d, &GridIndex::new(&d));
        let q = IncidentQuery::default().over(Period::parse("2026-W30").unwrap());
        assert_eq!(
            grid_hotspots(&d, &a, &q, &quick()).unwrap(),
            grid_hotspots(&d, &a, &q, &quick()).unwrap()
        );
    }

    #[test]
    fn bad_lattices_and_options_are_refused() {
        let d = sample::district(&sample::SampleSpec::default());
        let q = IncidentQuery::default();
        assert!(matches!(
            lattice_hotspots(&d, 0.0, &q, &quick()),
            Err(HotspotError::CellSize(_))
        ));
        assert!(matches!(
            lattice_hotspots(&d, f64::NAN, &q, &quick()),
            Err(HotspotError::CellSize(_))
        ));
        assert!(matches!(
            lattice_hotspots(&d, 10.0, &q, &quick()),
            Err(HotspotError::TooManyCells { .. })
        ));
        let bad = HotspotOptions {
            weeks: 1,
            ..quick()
        };
        assert!(matches!(
            lattice_hotspots(&d, 250.0, &q, &bad),
            Err(HotspotError::Options(_))
        ));
    }
}
