//! Is a boundary a valid (multi)polygon? In O(n log n) for the shapes
//! people draw: a sweep over the segments sorted by x, testing only
//! segments whose x-ranges overlap, with exact orientation predicates.
//!
//! `geo`'s `Validation` compares every segment of a ring with every other
//! (a 40,000-vertex ring takes half a minute); this check gives the same
//! verdicts on rings, holes and members and says *where* the first
//! problem of each kind is. The rules (OGC simple features):
//! - every ring has at least three distinct points, all coordinates finite;
//! - a ring never touches or crosses itself (consecutive repeated points
//!   are allowed; a spike that folds back on itself is not);
//! - a hole lies inside its shell, holes do not overlap, members do not
//!   overlap, and none of them share a stretch of line (touching at
//!   points is allowed).
//!
//! The ring checks are the sweep; the relations between rings are
//! `geo`'s `relate` (on prepared geometry), asked only of rings whose
//! bounding boxes meet, so the verdicts are the same as `geo`'s.
//!
//! The work is bounded: past [`MAX_RINGS`] rings, or when the sweep would
//! test more than [`MAX_PAIRS`] pairs of segments side by side (a comb of
//! thousands of long parallel teeth), the shape is refused as too
//! intricate rather than checked for minutes.
//!
//! ```
//! use gridgov_spatial::shape::{check, ShapeError};
//! use geo::{polygon, MultiPolygon};
//! let square = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 2.0), (x: 0.0, y: 2.0)];
//! assert!(check(&MultiPolygon::new(vec![square])).is_empty());
//! let bowtie = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 2.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0)];
//! let e = check(&MultiPolygon::new(vec![bowtie]));
//! assert!(matches!(e[0], ShapeError::SelfIntersection { .. }));
//! assert!(e[0].to_string().contains("at 1, 1"));
//! ```

use geo::algorithm::relate::IntersectionMatrix;
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{Coord, LineString, MultiPolygon, Polygon, PreparedGeometry, Rect, Relate};

use crate::pip::orient;

/// Most rings (shells and holes) one boundary may have.
pub const MAX_RINGS: usize = 10_000;
/// Most pairs of segments side by side the sweep tests.
pub const MAX_PAIRS: u64 = 400_000_000;

/// What is wrong with a boundary, with where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeError {
    /// A ring has fewer than three distinct points.
    #[error("{ring} has fewer than three distinct points")]
    TooFewPoints {
        /// Which ring.
        ring: RingName,
    },
    /// A coordinate is NaN or infinite.
    #[error("{ring} has a coordinate that is not a finite number")]
    NotFinite {
        /// Which ring.
        ring: RingName,
    },
    /// A ring touches or crosses itself.
    #[error("{ring} crosses or touches itself at {}", place(*.at))]
    SelfIntersection {
        /// Which ring.
        ring: RingName,
        /// Where (about).
        at: Coord<f64>,
    },
    /// A hole is not inside its shell.
    #[error("{hole} is not inside the exterior ring (near {})", place(*.at))]
    HoleOutside {
        /// The hole.
        hole: RingName,
        /// A point of it.
        at: Coord<f64>,
    },
    /// Two rings share a stretch of line.
    #[error("{a} and {b} share a stretch of line (near {})", place(*.at))]
    TouchAlong {
        /// One ring.
        a: RingName,
        /// The other.
        b: RingName,
        /// A point of the second.
        at: Coord<f64>,
    },
    /// Two holes, or two members, overlap.
    #[error("{a} and {b} overlap (near {})", place(*.at))]
    Overlap {
        /// One ring (a hole, or a member's exterior ring).
        a: RingName,
        /// The other.
        b: RingName,
        /// A point of the second.
        at: Coord<f64>,
    },
    /// Too intricate to check within the bounds.
    #[error("too intricate to check: {0}")]
    TooIntricate(String),
}

impl ShapeError {
    /// Where the problem is, when it has a place.
    ///
    /// ```
    /// use gridgov_spatial::shape::check;
    /// use geo::{polygon, MultiPolygon};
    /// let bow = polygon![(x: 0., y: 0.), (x: 2., y: 2.), (x: 2., y: 0.), (x: 0., y: 2.)];
    /// let e = check(&MultiPolygon(vec![bow]));
    /// assert_eq!(e[0].at(), Some(geo::coord! { x: 1., y: 1. }));
    /// ```
    pub fn at(&self) -> Option<Coord<f64>> {
        match self {
            ShapeError::SelfIntersection { at, .. }
            | ShapeError::HoleOutside { at, .. }
            | ShapeError::TouchAlong { at, .. }
            | ShapeError::Overlap { at, .. } => Some(*at),
            ShapeError::TooFewPoints { .. }
            | ShapeError::NotFinite { .. }
            | ShapeError::TooIntricate(_) => None,
        }
    }
}

/// A ring of a multipolygon: member `polygon` (from 1), `hole` 0 for the
/// shell, else the hole's number (from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingName {
    /// The member, from 1.
    pub polygon: usize,
    /// 0: the exterior ring; n: the n-th hole.
    pub hole: usize,
}

impl std::fmt::Display for RingName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.hole {
            0 => write!(f, "the exterior ring of polygon {}", self.polygon),
            h => write!(f, "hole {h} of polygon {}", self.polygon),
        }
    }
}

fn place(c: Coord<f64>) -> String {
    fn short(v: f64) -> String {
        let s = format!("{v:.7}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
    format!("{}, {}", short(c.x), short(c.y))
}

/// A ring with its repeated consecutive points dropped and closed.
struct Ring {
    name: RingName,
    pts: Vec<Coord<f64>>,
}

impl Ring {
    fn of(ls: &LineString<f64>, name: RingName) -> Ring {
        let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ls.0.len() + 1);
        for &c in &ls.0 {
            if pts.last() != Some(&c) {
                pts.push(c);
            }
        }
        if pts.len() > 1 && pts.first() != pts.last() {
            pts.push(pts[0]);
        }
        Ring { name, pts }
    }

    /// Segments (the ring is closed: the last point is the first).
    fn segments(&self) -> usize {
        self.pts.len().saturating_sub(1)
    }
}

#[derive(Clone, Copy)]
struct Seg {
    a: Coord<f64>,
    b: Coord<f64>,
    min_x: f64,
    max_x: f64,
    min_y: f64,
    max_y: f64,
    idx: u32,
}

/// How two segments meet.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Contact {
    None,
    /// At one point (an end of one on the other, or a crossing).
    Point {
        at: Coord<f64>,
        crossing: bool,
    },
    /// Along a stretch (collinear overlap).
    Along(Coord<f64>),
}

fn t(c: Coord<f64>) -> (f64, f64) {
    (c.x, c.y)
}

/// Is `p` (collinear with `a`–`b`) within the segment's box?
fn within(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

fn contact(s: &Seg, u: &Seg) -> Contact {
    let (a, b, c, d) = (s.a, s.b, u.a, u.b);
    let o1 = orient(t(a), t(b), t(c));
    let o2 = orient(t(a), t(b), t(d));
    let o3 = orient(t(c), t(d), t(a));
    let o4 = orient(t(c), t(d), t(b));
    if o1 == 0.0 && o2 == 0.0 {
        // Collinear: how much do they share?
        let mut shared: Vec<Coord<f64>> = [c, d]
            .into_iter()
            .filter(|&p| within(a, b, p))
            .chain([a, b].into_iter().filter(|&p| within(c, d, p)))
            .collect();
        shared.dedup();
        let distinct = shared
            .iter()
            .any(|p| shared.first().is_some_and(|f| f != p));
        return match (shared.first(), distinct) {
            (None, _) => Contact::None,
            (Some(&p), false) => Contact::Point {
                at: p,
                crossing: false,
            },
            (Some(&p), true) => Contact::Along(p),
        };
    }
    if (o1 > 0.0 && o2 > 0.0) || (o1 < 0.0 && o2 < 0.0) {
        return Contact::None;
    }
    if (o3 > 0.0 && o4 > 0.0) || (o3 < 0.0 && o4 < 0.0) {
        return Contact::None;
    }
    // They meet at one point: an end on the other segment, or a crossing.
    let at = if o1 == 0.0 {
        c
    } else if o2 == 0.0 {
        d
    } else if o3 == 0.0 {
        a
    } else if o4 == 0.0 {
        b
    } else {
        let r = o1 / (o1 - o2);
        Coord {
            x: c.x + r * (d.x - c.x),
            y: c.y + r * (d.y - c.y),
        }
    };
    let crossing = o1 != 0.0 && o2 != 0.0 && o3 != 0.0 && o4 != 0.0;
    Contact::Point { at, crossing }
}

/// Every problem of `mp`, at most one per ring or pair of rings; empty
/// when it is valid.
pub fn check(mp: &MultiPolygon<f64>) -> Vec<ShapeError> {
    let mut rings: Vec<Ring> = Vec::new();
    for (i, p) in mp.0.iter().enumerate() {
        let name = |hole| RingName {
            polygon: i + 1,
            hole,
        };
        rings.push(Ring::of(p.exterior(), name(0)));
        for (h, r) in p.interiors().iter().enumerate() {
            rings.push(Ring::of(r, name(h + 1)));
        }
    }
    if rings.len() > MAX_RINGS {
        return vec![ShapeError::TooIntricate(format!(
            "{} rings; a boundary may have at most {MAX_RINGS}",
            rings.len()
        ))];
    }
    let mut out = Vec::new();
    let mut pairs: u64 = 0;
    let mut good = vec![true; rings.len()];
    for (k, r) in rings.iter().enumerate() {
        let e = if r.pts.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
            Some(ShapeError::NotFinite { ring: r.name })
        } else if r.pts.len() < 4 {
            Some(ShapeError::TooFewPoints { ring: r.name })
        } else {
            match self_intersection(r, &mut pairs) {
                Ok(None) => None,
                Ok(Some(at)) => Some(ShapeError::SelfIntersection { ring: r.name, at }),
                Err(e) => return vec![e],
            }
        };
        if let Some(e) = e {
            out.push(e);
            good[k] = false;
        }
    }
    if good.iter().all(|g| *g) {
        out.extend(between_rings(mp, &rings));
    }
    out
}

/// Where ring `r` touches or crosses itself, if it does; `pairs` counts
/// the segment pairs tested (all rings of one boundary together).
fn self_intersection(r: &Ring, pairs: &mut u64) -> Result<Option<Coord<f64>>, ShapeError> {
    let n = r.segments();
    let mut segs: Vec<Seg> = r
        .pts
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let (a, b) = (w[0], w[1]);
            Seg {
                a,
                b,
                min_x: a.x.min(b.x),
                max_x: a.x.max(b.x),
                min_y: a.y.min(b.y),
                max_y: a.y.max(b.y),
                idx: i as u32,
            }
        })
        .collect();
    segs.sort_unstable_by(|p, q| p.min_x.total_cmp(&q.min_x));
    for (i, s) in segs.iter().enumerate() {
        for u in &segs[i + 1..] {
            if u.min_x > s.max_x {
                break;
            }
            *pairs += 1;
            if *pairs > MAX_PAIRS {
                return Err(ShapeError::TooIntricate(format!(
                    "over {MAX_PAIRS} pairs of segments side by side; simplify the boundary"
                )));
            }
            if u.min_y > s.max_y || u.max_y < s.min_y {
                continue;
            }
            let (lo, hi) = (s.idx.min(u.idx), s.idx.max(u.idx));
            let adjacent = hi == lo + 1 || (lo == 0 && hi as usize == n - 1);
            match contact(s, u) {
                Contact::None => {}
                // Neighbours share their common vertex; anything more is
                // a spike folding back.
                Contact::Point { .. } if adjacent => {}
                Contact::Point { at, .. } | Contact::Along(at) => return Ok(Some(at)),
            }
        }
    }
    Ok(None)
}

fn bbox(r: &Ring) -> Rect<f64> {
    let (mut lo, mut hi) = (r.pts[0], r.pts[0]);
    for c in &r.pts {
        lo = Coord {
            x: lo.x.min(c.x),
            y: lo.y.min(c.y),
        };
        hi = Coord {
            x: hi.x.max(c.x),
            y: hi.y.max(c.y),
        };
    }
    Rect::new(lo, hi)
}

fn boxes_meet(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

/// Holes against their shell and one another, members against one
/// another: the relations `geo`'s validation asks of simple rings (its
/// `relate`), tested only where bounding boxes meet.
fn between_rings(mp: &MultiPolygon<f64>, rings: &[Ring]) -> Vec<ShapeError> {
    let mut out = Vec::new();
    let boxes: Vec<Rect<f64>> = rings.iter().map(bbox).collect();
    let mut first = Vec::with_capacity(mp.0.len());
    let mut k = 0;
    for p in &mp.0 {
        first.push(k);
        k += 1 + p.interiors().len();
    }
    for (m, p) in mp.0.iter().enumerate() {
        if p.interiors().is_empty() {
            continue;
        }
        let shell = Polygon::new(p.exterior().clone(), vec![]);
        let shell = PreparedGeometry::from(&shell);
        let holes: Vec<Polygon<f64>> = p
            .interiors()
            .iter()
            .map(|r| Polygon::new(r.clone(), vec![]))
            .collect();
        for (h, hole) in holes.iter().enumerate() {
            let ring = first[m] + 1 + h;
            let at = rings[ring].pts[0];
            let prepared = PreparedGeometry::from(hole);
            let im = shell.relate(&prepared);
            if !im.is_contains() {
                out.push(ShapeError::HoleOutside {
                    hole: rings[ring].name,
                    at,
                });
            }
            if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                out.push(ShapeError::TouchAlong {
                    a: rings[first[m]].name,
                    b: rings[ring].name,
                    at,
                });
            }
            for (o, other) in holes.iter().enumerate().skip(h + 1) {
                let oring = first[m] + 1 + o;
                if !boxes_meet(&boxes[ring], &boxes[oring]) {
                    continue;
                }
                let im = prepared.relate(other);
                out.extend(pair_problems(
                    &im,
                    rings[ring].name,
                    rings[oring].name,
                    rings[oring].pts[0],
                ));
            }
        }
    }
    // Members, in order of their boxes' west edge: only those whose boxes
    // meet are related.
    let mut order: Vec<usize> = (0..mp.0.len()).collect();
    order.sort_unstable_by(|&a, &b| boxes[first[a]].min().x.total_cmp(&boxes[first[b]].min().x));
    for (i, &a) in order.iter().enumerate() {
        for &b in &order[i + 1..] {
            let (ra, rb) = (first[a], first[b]);
            if boxes[rb].min().x > boxes[ra].max().x {
                break;
            }
            if !boxes_meet(&boxes[ra], &boxes[rb]) {
                continue;
            }
            let (lo, hi) = (a.min(b), a.max(b));
            let im = mp.0[lo].relate(&mp.0[hi]);
            out.extend(pair_problems(
                &im,
                rings[first[lo]].name,
                rings[first[hi]].name,
                rings[first[hi]].pts[0],
            ));
        }
    }
    out
}

/// Overlap and shared stretches between two rings (as polygons).
fn pair_problems(
    im: &IntersectionMatrix,
    a: RingName,
    b: RingName,
    at: Coord<f64>,
) -> Vec<ShapeError> {
    let mut out = Vec::new();
    if im.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
        out.push(ShapeError::Overlap { a, b, at });
    }
    if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
        out.push(ShapeError::TouchAlong { a, b, at });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Polygon, Validation, polygon};

    fn mp(ps: Vec<Polygon<f64>>) -> MultiPolygon<f64> {
        MultiPolygon::new(ps)
    }

    fn square(x: f64, y: f64, s: f64) -> LineString<f64> {
        LineString::from(vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)])
    }

    #[test]
    fn a_square_with_a_hole_and_an_island_is_valid() {
        let p = Polygon::new(square(0.0, 0.0, 10.0), vec![square(2.0, 2.0, 6.0)]);
        let island = Polygon::new(square(3.0, 3.0, 2.0), vec![]);
        assert_eq!(check(&mp(vec![p, island])), vec![]);
    }

    #[test]
    fn repeated_points_are_allowed_and_a_spike_is_not() {
        let p = polygon![(x: 0.0, y: 0.0), (x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)];
        assert_eq!(check(&mp(vec![p])), vec![]);
        let spike = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 6.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)];
        let e = check(&mp(vec![spike]));
        assert!(
            matches!(e[..], [ShapeError::SelfIntersection { .. }]),
            "{e:?}"
        );
    }

    #[test]
    fn a_ring_touching_itself_at_a_vertex_is_invalid() {
        // A figure eight through (2, 2).
        let p = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 2.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 2.0, y: 2.0), (x: 0.0, y: 4.0)];
        let e = check(&mp(vec![p]));
        assert!(e[0].to_string().contains("at 2, 2"), "{e:?}");
    }

    #[test]
    fn holes_outside_crossing_or_nested_are_named() {
        let outside = Polygon::new(square(0.0, 0.0, 4.0), vec![square(10.0, 10.0, 1.0)]);
        assert!(matches!(
            check(&mp(vec![outside]))[..],
            [ShapeError::HoleOutside { .. }]
        ));
        let crossing = Polygon::new(square(0.0, 0.0, 4.0), vec![square(3.0, 1.0, 2.0)]);
        let e = check(&mp(vec![crossing]));
        assert!(matches!(e[..], [ShapeError::HoleOutside { .. }]), "{e:?}");
        let nested = Polygon::new(
            square(0.0, 0.0, 10.0),
            vec![square(1.0, 1.0, 8.0), square(2.0, 2.0, 2.0)],
        );
        let e = check(&mp(vec![nested]));
        assert!(matches!(e[..], [ShapeError::Overlap { .. }]), "{e:?}");
        assert!(
            e[0].to_string()
                .contains("hole 1 of polygon 1 and hole 2 of polygon 1 overlap (near 2, 2)"),
            "{}",
            e[0]
        );
        let touching = Polygon::new(
            square(0.0, 0.0, 4.0),
            vec![LineString::from(vec![
                (0.0, 2.0),
                (2.0, 1.0),
                (2.0, 3.0),
                (0.0, 2.0),
            ])],
        );
        assert_eq!(check(&mp(vec![touching])), vec![]);
    }

    #[test]
    fn members_that_overlap_share_an_edge_or_nest_are_invalid() {
        let a = Polygon::new(square(0.0, 0.0, 4.0), vec![]);
        let overlapping = Polygon::new(square(2.0, 2.0, 4.0), vec![]);
        assert!(matches!(
            check(&mp(vec![a.clone(), overlapping]))[..],
            [ShapeError::Overlap { .. }]
        ));
        let sharing = Polygon::new(square(4.0, 0.0, 4.0), vec![]);
        let e = check(&mp(vec![a.clone(), sharing]));
        assert!(matches!(e[..], [ShapeError::TouchAlong { .. }]), "{e:?}");
        let corner = Polygon::new(square(4.0, 4.0, 4.0), vec![]);
        assert_eq!(check(&mp(vec![a.clone(), corner])), vec![]);
        let inner = Polygon::new(square(1.0, 1.0, 1.0), vec![]);
        assert!(matches!(
            check(&mp(vec![a, inner]))[..],
            [ShapeError::Overlap { .. }]
        ));
    }

    #[test]
    fn it_agrees_with_geo_on_seeded_random_polygons() {
        // Random star-shaped rings (valid) and random shuffles (mostly
        // not), with and without holes: the verdict is geo's.
        let mut rng = crate::Rng::new(7);
        let mut checked = [0usize; 2];
        for case in 0..3000 {
            let n = 3 + (rng.f64() * 12.0) as usize;
            let mut pts: Vec<(f64, f64)> = (0..n)
                .map(|i| {
                    let a = std::f64::consts::TAU * (i as f64 + rng.f64() * 0.9) / n as f64;
                    let r = 2.0 + rng.f64() * 8.0;
                    ((r * a.cos()).round(), (r * a.sin()).round())
                })
                .collect();
            if case % 3 == 0 {
                let i = (rng.f64() * n as f64) as usize % n;
                let j = (rng.f64() * n as f64) as usize % n;
                pts.swap(i, j);
            }
            let holes = if case % 4 == 0 {
                let (x, y) = (
                    (rng.f64() * 4.0).round() - 2.0,
                    (rng.f64() * 4.0).round() - 2.0,
                );
                vec![square(x, y, 1.0 + (rng.f64() * 2.0).round())]
            } else {
                vec![]
            };
            let p = Polygon::new(LineString::from(pts), holes);
            let m = if case % 5 == 0 {
                let dx = (rng.f64() * 16.0).round();
                let q = Polygon::new(square(dx, 0.0, 1.0 + (rng.f64() * 3.0).round()), vec![]);
                mp(vec![p, q])
            } else {
                mp(vec![p])
            };
            let ours = check(&m).is_empty();
            let geos = m.is_valid();
            assert_eq!(ours, geos, "case {case}: {m:?}: {:?}", check(&m));
            checked[usize::from(ours)] += 1;
        }
        assert!(checked[0] > 300 && checked[1] > 300, "{checked:?}");
    }

    #[test]
    fn a_forty_thousand_vertex_wavy_ring_is_valid_and_one_fold_in_it_is_found() {
        let n = 40_000;
        let mut ring: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / n as f64;
                let r = 1.0 + 0.01 * (i as f64 * 0.1).sin();
                (r * a.cos(), r * a.sin())
            })
            .collect();
        let p = Polygon::new(LineString::from(ring.clone()), vec![]);
        assert_eq!(check(&mp(vec![p])), vec![]);
        ring.swap(100, 20_100);
        let e = check(&mp(vec![Polygon::new(LineString::from(ring), vec![])]));
        assert!(
            matches!(e[..], [ShapeError::SelfIntersection { .. }]),
            "{e:?}"
        );
    }
}
