//! Camera coverage: how much of each building's footprint lies inside at
//! least one camera's view cone (a circular sector: the camera's range,
//! centred on its heading, its field of view wide), and per grid the share
//! of footprint area covered. Footprints are sampled on a regular lattice
//! in a local metric plane; `step_m` sets the lattice (1 m: within about a
//! percent for footprints of a few hundred square metres).

use serde::Serialize;

use crate::assign::Assignment;
use crate::geodesy::LocalProjection;
use crate::model::{AreaId, District};

/// Coverage of one grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridCoverage {
    /// The grid.
    #[serde(skip)]
    pub area: AreaId,
    /// Its code.
    pub code: String,
    /// Footprint area of its buildings, m².
    pub footprint_m2: f64,
    /// Of which inside a view cone, m².
    pub covered_m2: f64,
    /// `covered / footprint` (1 when there are no buildings).
    pub share: f64,
    /// Buildings with no covered part at all.
    pub blind_buildings: usize,
}

/// Camera coverage of a district.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// Per building (district order): the covered share of its footprint.
    pub buildings: Vec<f64>,
    /// Per grid, in district order.
    pub grids: Vec<GridCoverage>,
}

struct Cone {
    x: f64,
    y: f64,
    r2: f64,
    heading: f64,
    half_fov: f64,
}

impl Cone {
    fn sees(&self, x: f64, y: f64) -> bool {
        let (dx, dy) = (x - self.x, y - self.y);
        let d2 = dx * dx + dy * dy;
        if d2 > self.r2 {
            return false;
        }
        if self.half_fov >= 180.0 || d2 == 0.0 {
            return true;
        }
        // Bearing clockwise from north.
        let bearing = dx.atan2(dy).to_degrees();
        let mut off = (bearing - self.heading).rem_euclid(360.0);
        if off > 180.0 {
            off = 360.0 - off;
        }
        off <= self.half_fov
    }
}

fn inside(rings: &[Vec<(f64, f64)>], x: f64, y: f64) -> bool {
    let mut c = false;
    for r in rings {
        for e in r.windows(2) {
            let ((ax, ay), (bx, by)) = (e[0], e[1]);
            if (ay > y) != (by > y) && x < ax + (y - ay) / (by - ay) * (bx - ax) {
                c = !c;
            }
        }
    }
    c
}

/// Camera coverage of every building and grid of `d`.
///
/// ```
/// use gridgov_spatial::{sample, GridIndex, assign, camera_coverage};
/// let d = sample::district(&sample::SampleSpec::default());
/// let a = assign(&d, &GridIndex::new(&d));
/// let c = camera_coverage(&d, &a, 1.0);
/// assert_eq!(c.buildings.len(), d.buildings.len());
/// assert!(c.grids.iter().all(|g| (0.0..=1.0).contains(&g.share)));
/// ```
pub fn camera_coverage(d: &District, a: &Assignment, step_m: f64) -> Coverage {
    let step = if step_m.is_finite() && step_m > 0.01 {
        step_m
    } else {
        1.0
    };
    let (lon0, lat0) = d
        .buildings
        .front()
        .and_then(|b| b.footprint.0.first())
        .and_then(|p| p.exterior().0.first())
        .map_or((0.0, 0.0), |c| (c.x, c.y));
    let proj = LocalProjection::new(lon0, lat0);
    let cones: Vec<Cone> = d
        .cameras
        .iter()
        .map(|c| {
            let (x, y) = proj.to_metres(c.location.x(), c.location.y());
            Cone {
                x,
                y,
                r2: c.range_m.max(0.0).powi(2),
                heading: c.heading_deg,
                half_fov: c.fov_deg / 2.0,
            }
        })
        .collect();
    let mut per_building = Vec::with_capacity(d.buildings.len());
    let mut areas = Vec::with_capacity(d.buildings.len());
    for b in &d.buildings {
        let mut total = 0usize;
        let mut seen = 0usize;
        for poly in &b.footprint.0 {
            let rings: Vec<Vec<(f64, f64)>> = std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .map(|r| r.0.iter().map(|c| proj.to_metres(c.x, c.y)).collect())
                .collect();
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for &(x, y) in rings.iter().flatten() {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
            if x0 > x1 {
                continue;
            }
            let near: Vec<&Cone> = cones
                .iter()
                .filter(|c| {
                    let dx = (x0 - c.x).max(0.0).max(c.x - x1);
                    let dy = (y0 - c.y).max(0.0).max(c.y - y1);
                    dx * dx + dy * dy <= c.r2
                })
                .collect();
            let nx = ((x1 - x0) / step).ceil() as usize;
            let ny = ((y1 - y0) / step).ceil() as usize;
            for j in 0..ny {
                let y = y0 + (j as f64 + 0.5) * step;
                for i in 0..nx {
                    let x = x0 + (i as f64 + 0.5) * step;
                    if inside(&rings, x, y) {
                        total += 1;
                        if near.iter().any(|c| c.sees(x, y)) {
                            seen += 1;
                        }
                    }
                }
            }
        }
        per_building.push(if total == 0 {
            0.0
        } else {
            seen as f64 / total as f64
        });
        areas.push((total as f64 * step * step, seen as f64 * step * step));
    }
    let grids = d
        .grids()
        .map(|g| {
            let mut fp = 0.0;
            let mut cov = 0.0;
            let mut blind = 0;
            for (k, p) in a.buildings.iter().enumerate() {
                if p.placement.responsible() == Some(g) {
                    fp += areas[k].0;
                    cov += areas[k].1;
                    if areas[k].0 > 0.0 && areas[k].1 == 0.0 {
                        blind += 1;
                    }
                }
            }
            GridCoverage {
                area: g,
                code: d.area(g).code.clone(),
                footprint_m2: fp,
                covered_m2: cov,
                share: if fp > 0.0 { cov / fp } else { 1.0 },
                blind_buildings: blind,
            }
        })
        .collect();
    Coverage {
        buildings: per_building,
        grids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cone(heading: f64, fov: f64, r: f64) -> Cone {
        Cone {
            x: 0.0,
            y: 0.0,
            r2: r * r,
            heading,
            half_fov: fov / 2.0,
        }
    }

    #[test]
    fn a_cone_sees_within_its_range_and_angle_only() {
        let north = cone(0.0, 90.0, 10.0);
        assert!(north.sees(0.0, 5.0));
        assert!(north.sees(3.0, 5.0), "30° off the heading");
        assert!(!north.sees(6.0, 5.0), "50° off the heading");
        assert!(!north.sees(0.0, 11.0), "beyond the range");
        assert!(!north.sees(0.0, -5.0), "behind");
        let west = cone(270.0, 60.0, 10.0);
        assert!(west.sees(-5.0, 0.5) && !west.sees(5.0, 0.0));
        let around = cone(0.0, 360.0, 10.0);
        assert!(around.sees(0.0, -9.0));
    }

    #[test]
    fn the_samples_of_the_district_cover_every_building_footprint() {
        let d = crate::sample::district(&crate::sample::SampleSpec::default());
        let a = crate::assign(&d, &crate::GridIndex::new(&d));
        let c = camera_coverage(&d, &a, 1.0);
        let covered: f64 = c.grids.iter().map(|g| g.covered_m2).sum();
        let total: f64 = c.grids.iter().map(|g| g.footprint_m2).sum();
        assert!(total > 10_000.0);
        assert!(covered > 0.0 && covered < total, "{covered} of {total}");
        // A finer lattice agrees to within a few percent.
        let fine = camera_coverage(&d, &a, 0.5);
        let fine_cov: f64 = fine.grids.iter().map(|g| g.covered_m2).sum();
        assert!((fine_cov - covered).abs() / covered < 0.05);
    }
}
