//! Building cells: a region cut into one cell per building, the points
//! nearer that building's outline than any other's — a Voronoi diagram of
//! points along every footprint's rings (vertices, and every
//! [`SPACING_M`] between them) — and which cells share a border, how long
//! it is inside the region, and how much of it runs between buildings a
//! road or a waterway separates.
//!
//! Every cell holds its own building's footprint wherever buildings are
//! further apart than the spacing (the partition checks and mends the
//! rest), cells tile the plane, so clipped to the region they cover it
//! exactly.
//!
//! Works in a local metric plane; the caller projects.

use std::collections::HashMap;

use geo::{BooleanOps, BoundingRect, Coord, LineString, MultiPolygon, Polygon};
use rstar::{AABB, RTree, RTreeObject};
use spade::{DelaunayTriangulation, HasPosition, Point2, Triangulation};

use crate::pip::{contains_multi, edges, orient};

/// The distance between the points sampled along a footprint's rings, in
/// metres.
pub const SPACING_M: f64 = 4.0;

/// A building as the cells see it.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// Its footprint, in metres.
    pub footprint: MultiPolygon<f64>,
}

/// The shared border of two cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Border {
    /// Its length inside the region (m).
    pub len: f64,
    /// The part of it between buildings a road or waterway separates (m).
    pub on_road: f64,
}

/// The cells of a set of buildings in a region.
#[derive(Debug, Clone)]
pub(crate) struct Cells {
    /// Per site: the Voronoi faces of its points, cut to a box around the
    /// region (convex; neighbouring faces share their edges exactly).
    pub faces: Vec<Vec<Polygon<f64>>>,
    /// Per pair of sites `(a, b)` with `a < b` whose cells share a border
    /// inside the region.
    pub borders: HashMap<(u32, u32), Border>,
}

const FRAME: u32 = u32::MAX;

struct Pt {
    p: Point2<f64>,
    owner: u32,
}

impl HasPosition for Pt {
    type Scalar = f64;
    fn position(&self) -> Point2<f64> {
        self.p
    }
}

/// A segment in an R-tree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seg(pub Coord<f64>, pub Coord<f64>);

impl RTreeObject for Seg {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners([self.0.x, self.0.y], [self.1.x, self.1.y])
    }
}

impl rstar::PointDistance for Seg {
    fn distance_2(&self, p: &[f64; 2]) -> f64 {
        let (dx, dy) = (self.1.x - self.0.x, self.1.y - self.0.y);
        let l2 = dx * dx + dy * dy;
        let t = if l2 > 0.0 {
            (((p[0] - self.0.x) * dx + (p[1] - self.0.y) * dy) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (x, y) = (self.0.x + t * dx, self.0.y + t * dy);
        (p[0] - x).powi(2) + (p[1] - y).powi(2)
    }
}

/// An R-tree of a multipolygon's edges.
pub(crate) fn edge_tree(mp: &MultiPolygon<f64>) -> RTree<Seg> {
    RTree::bulk_load(edges(mp).map(|(a, b)| Seg(a, b)).collect())
}

/// Whether segments `ab` and `cd` meet (touching counts).
pub(crate) fn segments_meet(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let t = |c: Coord<f64>| (c.x, c.y);
    let (o1, o2) = (orient(t(a), t(b), t(c)), orient(t(a), t(b), t(d)));
    let (o3, o4) = (orient(t(c), t(d), t(a)), orient(t(c), t(d), t(b)));
    if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
        return true;
    }
    let on = |p: Coord<f64>, q: Coord<f64>, r: Coord<f64>, o: f64| {
        o == 0.0
            && r.x >= p.x.min(q.x)
            && r.x <= p.x.max(q.x)
            && r.y >= p.y.min(q.y)
            && r.y <= p.y.max(q.y)
    };
    on(a, b, c, o1) || on(a, b, d, o2) || on(c, d, a, o3) || on(c, d, b, o4)
}

/// The length of segment `pq` inside `region` (whose edges are `tree`).
pub(crate) fn length_inside(
    p: Coord<f64>,
    q: Coord<f64>,
    region: &MultiPolygon<f64>,
    tree: &RTree<Seg>,
) -> f64 {
    let (dx, dy) = (q.x - p.x, q.y - p.y);
    let len = dx.hypot(dy);
    if len == 0.0 {
        return 0.0;
    }
    let env = AABB::from_corners([p.x.min(q.x), p.y.min(q.y)], [p.x.max(q.x), p.y.max(q.y)]);
    let mut ts = vec![0.0, 1.0];
    for s in tree.locate_in_envelope_intersecting(&env) {
        let (ex, ey) = (s.1.x - s.0.x, s.1.y - s.0.y);
        let den = dx * ey - dy * ex;
        if den == 0.0 {
            continue;
        }
        let t = ((s.0.x - p.x) * ey - (s.0.y - p.y) * ex) / den;
        let u = ((s.0.x - p.x) * dy - (s.0.y - p.y) * dx) / den;
        if (0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u) {
            ts.push(t);
        }
    }
    ts.sort_by(f64::total_cmp);
    ts.windows(2)
        .filter(|w| w[1] > w[0])
        .filter(|w| {
            let m = 0.5 * (w[0] + w[1]);
            contains_multi(region, p.x + m * dx, p.y + m * dy)
        })
        .map(|w| (w[1] - w[0]) * len)
        .sum()
}

/// Points along a footprint's rings: every vertex, and more every
/// [`SPACING_M`] along longer edges.
fn outline_points(fp: &MultiPolygon<f64>, out: &mut Vec<Coord<f64>>) {
    for (a, b) in edges(fp) {
        out.push(a);
        let len = (b.x - a.x).hypot(b.y - a.y);
        let n = (len / SPACING_M).floor() as usize;
        for k in 1..n {
            let t = k as f64 / n as f64;
            out.push(Coord {
                x: a.x + t * (b.x - a.x),
                y: a.y + t * (b.y - a.y),
            });
        }
    }
}

/// Why cells could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the building outlines could not be triangulated: {0}")]
pub struct CellsError(pub String);

/// The cells of `sites` over `region` (both in metres); `barriers` are the
/// roads' and waterways' segments that make a border cheap to cut.
pub(crate) fn cells(
    sites: &[Site],
    region: &MultiPolygon<f64>,
    barriers: &RTree<Seg>,
) -> Result<Cells, CellsError> {
    let mut pts: Vec<Pt> = Vec::new();
    let mut buf = Vec::new();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (i, s) in sites.iter().enumerate() {
        buf.clear();
        outline_points(&s.footprint, &mut buf);
        for c in &buf {
            (x0, y0, x1, y1) = (x0.min(c.x), y0.min(c.y), x1.max(c.x), y1.max(c.y));
            pts.push(Pt {
                p: Point2::new(c.x, c.y),
                owner: i as u32,
            });
        }
    }
    for (a, _) in edges(region) {
        (x0, y0, x1, y1) = (x0.min(a.x), y0.min(a.y), x1.max(a.x), y1.max(a.y));
    }
    if pts.is_empty() {
        return Ok(Cells {
            faces: vec![Vec::new(); sites.len()],
            borders: HashMap::new(),
        });
    }
    // A frame far enough out that no point of the region is nearer to it
    // than to some building, so every building's cell is bounded.
    let span = (x1 - x0).max(y1 - y0).max(1.0);
    let (fx0, fy0, fx1, fy1) = (
        x0 - 3.0 * span,
        y0 - 3.0 * span,
        x1 + 3.0 * span,
        y1 + 3.0 * span,
    );
    let n = 16;
    for k in 0..n {
        let t = k as f64 / n as f64;
        for (x, y) in [
            (fx0 + t * (fx1 - fx0), fy0),
            (fx1, fy0 + t * (fy1 - fy0)),
            (fx1 - t * (fx1 - fx0), fy1),
            (fx0, fy1 - t * (fy1 - fy0)),
        ] {
            pts.push(Pt {
                p: Point2::new(x, y),
                owner: FRAME,
            });
        }
    }
    let t: DelaunayTriangulation<Pt> =
        DelaunayTriangulation::bulk_load(pts).map_err(|e| CellsError(format!("{e:?}")))?;
    let rb = region.bounding_rect().map_or([x0, y0, x1, y1], |r| {
        [r.min().x, r.min().y, r.max().x, r.max().y]
    });
    let bx = [rb[0] - 1.0, rb[1] - 1.0, rb[2] + 1.0, rb[3] + 1.0];
    let mut faces: Vec<Vec<Polygon<f64>>> = vec![Vec::new(); sites.len()];
    for v in t.vertices() {
        let owner = v.data().owner;
        if owner == FRAME {
            continue;
        }
        let ring: Option<Vec<Coord<f64>>> = v
            .out_edges()
            .map(|e| {
                e.face().as_inner().map(|f| {
                    let c = f.circumcenter();
                    Coord { x: c.x, y: c.y }
                })
            })
            .collect();
        if let Some(ring) = ring
            && ring.len() >= 3
        {
            let ring = clip_to_box(ring, bx);
            if ring.len() >= 3 {
                faces[owner as usize].push(Polygon::new(LineString::new(ring), vec![]));
            }
        }
    }
    let region_edges = edge_tree(region);
    let mut borders: HashMap<(u32, u32), Border> = HashMap::new();
    for e in t.undirected_edges() {
        let [u, v] = e.vertices();
        let (a, b) = (u.data().owner, v.data().owner);
        if a == b || a == FRAME || b == FRAME {
            continue;
        }
        let d = e.as_directed();
        let (Some(f1), Some(f2)) = (d.face().as_inner(), d.rev().face().as_inner()) else {
            continue;
        };
        let (c1, c2) = (f1.circumcenter(), f2.circumcenter());
        let (c1, c2) = (Coord { x: c1.x, y: c1.y }, Coord { x: c2.x, y: c2.y });
        let len = length_inside(c1, c2, region, &region_edges);
        if len <= 0.0 {
            continue;
        }
        let (pu, pv) = (u.position(), v.position());
        let (pu, pv) = (Coord { x: pu.x, y: pu.y }, Coord { x: pv.x, y: pv.y });
        let env = AABB::from_corners(
            [pu.x.min(pv.x), pu.y.min(pv.y)],
            [pu.x.max(pv.x), pu.y.max(pv.y)],
        );
        let separated = barriers
            .locate_in_envelope_intersecting(&env)
            .any(|s| segments_meet(pu, pv, s.0, s.1));
        let key = (a.min(b), a.max(b));
        let entry = borders.entry(key).or_insert(Border {
            len: 0.0,
            on_road: 0.0,
        });
        entry.len += len;
        if separated {
            entry.on_road += len;
        }
    }
    Ok(Cells { faces, borders })
}

/// The outline of a set of faces (one overlay, so their shared edges
/// vanish exactly), clipped to `region`.
pub(crate) fn outline<'a>(
    faces: impl Iterator<Item = &'a Polygon<f64>>,
    region: &MultiPolygon<f64>,
) -> MultiPolygon<f64> {
    let faces: Vec<&Polygon<f64>> = faces.collect();
    if faces.is_empty() {
        return MultiPolygon::new(vec![]);
    }
    clip(&geo::unary_union(faces), region)
}

/// A convex ring cut to the box `[x0, y0, x1, y1]` (Sutherland–Hodgman).
/// The crossing of an edge is computed from its endpoints in a fixed
/// order, so two faces sharing an edge get the same new vertex.
fn clip_to_box(ring: Vec<Coord<f64>>, b: [f64; 4]) -> Vec<Coord<f64>> {
    let mut pts = ring;
    // (axis, bound, keep below?)
    for (axis, bound, below) in [
        (0usize, b[0], false),
        (0, b[2], true),
        (1, b[1], false),
        (1, b[3], true),
    ] {
        if pts.is_empty() {
            break;
        }
        let v = |c: &Coord<f64>| if axis == 0 { c.x } else { c.y };
        let inside = |c: &Coord<f64>| if below { v(c) <= bound } else { v(c) >= bound };
        let cross = |p: Coord<f64>, q: Coord<f64>| {
            let (a, c) = if (p.x, p.y) <= (q.x, q.y) {
                (p, q)
            } else {
                (q, p)
            };
            let t = (bound - v(&a)) / (v(&c) - v(&a));
            if axis == 0 {
                Coord {
                    x: bound,
                    y: a.y + t * (c.y - a.y),
                }
            } else {
                Coord {
                    x: a.x + t * (c.x - a.x),
                    y: bound,
                }
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 2);
        for k in 0..pts.len() {
            let (p, q) = (pts[k], pts[(k + 1) % pts.len()]);
            match (inside(&p), inside(&q)) {
                (true, true) => out.push(q),
                (true, false) => out.push(cross(p, q)),
                (false, true) => {
                    out.push(cross(p, q));
                    out.push(q);
                }
                (false, false) => {}
            }
        }
        pts = out;
    }
    pts
}

/// `mp` clipped to `region`.
pub(crate) fn clip(mp: &MultiPolygon<f64>, region: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    mp.intersection(region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Rect};

    fn square(x: f64, y: f64, s: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![Rect::new((x, y), (x + s, y + s)).to_polygon()])
    }

    #[test]
    fn the_cells_of_buildings_tile_their_region_and_hold_their_footprints() {
        let region = square(0.0, 0.0, 100.0);
        let sites: Vec<Site> = [
            (10.0, 10.0),
            (60.0, 10.0),
            (10.0, 60.0),
            (60.0, 60.0),
            (40.0, 40.0),
        ]
        .iter()
        .map(|&(x, y)| Site {
            footprint: square(x, y, 12.0),
        })
        .collect();
        let c = cells(&sites, &region, &RTree::new()).unwrap();
        let clipped: Vec<MultiPolygon<f64>> =
            c.faces.iter().map(|f| outline(f.iter(), &region)).collect();
        let total: f64 = clipped.iter().map(Area::unsigned_area).sum();
        assert!(
            (total - 10_000.0).abs() < 1e-3,
            "cells cover the region: {total}"
        );
        for (s, cell) in sites.iter().zip(&clipped) {
            let outside = s.footprint.difference(cell).unsigned_area();
            assert!(
                outside < 1e-9,
                "a footprint lies in its own cell ({outside} m² outside)"
            );
        }
        // The centre building touches all four others; the corner ones
        // touch their two side neighbours and the centre.
        for k in 0..4 {
            assert!(c.borders.contains_key(&(k, 4)), "{k} borders the centre");
        }
        assert!(c.borders.contains_key(&(0, 1)) && c.borders.contains_key(&(0, 2)));
        assert!(c.borders.values().all(|b| b.on_road == 0.0));
    }

    #[test]
    fn a_border_between_buildings_a_road_separates_counts_as_on_the_road() {
        let region = square(0.0, 0.0, 100.0);
        let sites = vec![
            Site {
                footprint: square(10.0, 40.0, 20.0),
            },
            Site {
                footprint: square(70.0, 40.0, 20.0),
            },
        ];
        let road = RTree::bulk_load(vec![Seg(
            Coord { x: 50.0, y: -10.0 },
            Coord { x: 50.0, y: 110.0 },
        )]);
        let c = cells(&sites, &region, &road).unwrap();
        let b = c.borders[&(0, 1)];
        assert!(
            (b.len - 100.0).abs() < 1e-6,
            "the border is the region's height: {}",
            b.len
        );
        assert!((b.on_road - b.len).abs() < 1e-9);
    }

    #[test]
    fn only_the_part_of_a_border_inside_the_region_counts() {
        let tree = edge_tree(&square(0.0, 0.0, 10.0));
        let region = square(0.0, 0.0, 10.0);
        let l = length_inside(
            Coord { x: -5.0, y: 5.0 },
            Coord { x: 5.0, y: 5.0 },
            &region,
            &tree,
        );
        assert!((l - 5.0).abs() < 1e-12);
        assert_eq!(
            length_inside(
                Coord { x: 20.0, y: 5.0 },
                Coord { x: 30.0, y: 5.0 },
                &region,
                &tree
            ),
            0.0
        );
    }
}
