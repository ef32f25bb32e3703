//! Exact point-in-polygon by crossing number, with the boundary rule every
//! other part of gridgov agrees with.
//!
//! # The boundary rule
//! A point is tested as if it were moved by an infinitesimal step east and a
//! far smaller step north: `p + (ε, ε²)`. The moved point is never on an edge,
//! so in a tiling of grids it lies inside exactly one of them. In words:
//! **a point on a border belongs to the grid east of it; a point on an
//! east–west border belongs to the grid north of it; a point on a vertex
//! belongs to the grid just north-east of it.** A point on the outer border
//! of the district belongs to the district only when the district lies to
//! its east (north on an east–west border).
//!
//! In code this is the classic half-open crossing test — an edge counts when
//! `min(y) ≤ p.y < max(y)` and `p` lies strictly left of it — evaluated with
//! Shewchuk's exact orientation predicate, so the answer is exact for every
//! finite input.
//!
//! ```
//! use gridgov_spatial::pip::contains;
//! use geo::polygon;
//! let west = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
//! let east = polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0)];
//! // On the shared edge x = 1: the grid to the east.
//! assert!(!contains(&west, 1.0, 0.5));
//! assert!(contains(&east, 1.0, 0.5));
//! ```

use geo::{Coord, LineString, MultiPolygon, Polygon};

/// Exact orientation of `p` relative to the directed line `a → b`:
/// positive when `p` is left of it, negative when right, zero when on it.
///
/// ```
/// use gridgov_spatial::pip::orient;
/// assert!(orient((0.0, 0.0), (1.0, 0.0), (0.5, 1.0)) > 0.0);
/// assert_eq!(orient((0.0, 0.0), (1.0, 1.0), (0.5, 0.5)), 0.0);
/// ```
#[inline]
pub fn orient(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> f64 {
    // Fast filter first (Shewchuk's ccwerrboundA); exact only when uncertain.
    let detleft = (a.0 - p.0) * (b.1 - p.1);
    let detright = (a.1 - p.1) * (b.0 - p.0);
    let det = detleft - detright;
    let detsum = detleft.abs() + detright.abs();
    if det.abs() > 3.330_669_073_875_471_6e-16 * detsum {
        return det;
    }
    robust::orient2d(
        robust::Coord { x: a.0, y: a.1 },
        robust::Coord { x: b.0, y: b.1 },
        robust::Coord { x: p.0, y: p.1 },
    )
}

/// Does the edge `a → b` cross the ray going east from `p` (boundary rule
/// applied)?
///
/// ```
/// use gridgov_spatial::pip::crosses_east_ray;
/// assert!(crosses_east_ray((1.0, 0.0), (1.0, 2.0), 0.0, 1.0));
/// assert!(!crosses_east_ray((1.0, 0.0), (1.0, 2.0), 1.0, 1.0)); // on the edge
/// ```
#[inline]
pub fn crosses_east_ray(a: (f64, f64), b: (f64, f64), px: f64, py: f64) -> bool {
    let a_above = a.1 > py;
    let b_above = b.1 > py;
    if a_above == b_above {
        return false;
    }
    // Quick accept/reject on x before the predicate.
    if a.0 > px && b.0 > px {
        return true;
    }
    if a.0 <= px && b.0 <= px {
        return false;
    }
    let o = orient(a, b, (px, py));
    if b_above { o > 0.0 } else { o < 0.0 }
}

fn ring_parity(ring: &LineString<f64>, px: f64, py: f64) -> bool {
    let mut inside = false;
    for w in ring.0.windows(2) {
        if crosses_east_ray((w[0].x, w[0].y), (w[1].x, w[1].y), px, py) {
            inside = !inside;
        }
    }
    // Tolerate unclosed rings: treat them as closed.
    if let (Some(f), Some(l)) = (ring.0.first(), ring.0.last())
        && f != l
        && crosses_east_ray((l.x, l.y), (f.x, f.y), px, py)
    {
        inside = !inside;
    }
    inside
}

/// Is `(px, py)` inside `polygon` under the boundary rule (even–odd over all
/// rings, so holes work)?
pub fn contains(polygon: &Polygon<f64>, px: f64, py: f64) -> bool {
    let mut inside = ring_parity(polygon.exterior(), px, py);
    for hole in polygon.interiors() {
        inside ^= ring_parity(hole, px, py);
    }
    inside
}

/// Is `(px, py)` inside `mp` under the boundary rule (even–odd over all rings
/// of all members)?
///
/// ```
/// use gridgov_spatial::pip::contains_multi;
/// use geo::{polygon, MultiPolygon};
/// let mp = MultiPolygon::new(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0)]]);
/// assert!(contains_multi(&mp, 0.1, 0.1));
/// ```
pub fn contains_multi(mp: &MultiPolygon<f64>, px: f64, py: f64) -> bool {
    mp.0.iter().fold(false, |acc, p| acc ^ contains(p, px, py))
}

/// All edges of a multipolygon as `(a, b)` pairs, closing rings as needed.
///
/// ```
/// use gridgov_spatial::pip::edges;
/// use geo::{polygon, MultiPolygon};
/// let mp = MultiPolygon::new(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0)]]);
/// assert_eq!(edges(&mp).count(), 3);
/// ```
pub fn edges(mp: &MultiPolygon<f64>) -> impl Iterator<Item = (Coord<f64>, Coord<f64>)> + '_ {
    mp.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| {
            let n = r.0.len();
            let closing = (n > 1 && r.0[0] != r.0[n - 1]).then(|| (r.0[n - 1], r.0[0]));
            r.0.windows(2).map(|w| (w[0], w[1])).chain(closing)
        })
        .filter(|(a, b)| a != b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)]
    }

    #[test]
    fn a_point_on_a_shared_vertex_of_four_squares_belongs_to_the_north_east_one() {
        let sw = square(0., 0., 1., 1.);
        let se = square(1., 0., 2., 1.);
        let nw = square(0., 1., 1., 2.);
        let ne = square(1., 1., 2., 2.);
        let hits: Vec<bool> = [&sw, &se, &nw, &ne]
            .iter()
            .map(|p| contains(p, 1.0, 1.0))
            .collect();
        assert_eq!(hits, vec![false, false, false, true]);
    }

    #[test]
    fn a_point_on_an_east_west_border_belongs_to_the_grid_north_of_it() {
        let s = square(0., 0., 2., 1.);
        let n = square(0., 1., 2., 2.);
        assert!(!contains(&s, 0.5, 1.0));
        assert!(contains(&n, 0.5, 1.0));
    }

    #[test]
    fn holes_are_outside() {
        let p = Polygon::new(
            square(0., 0., 10., 10.).exterior().clone(),
            vec![square(4., 4., 6., 6.).exterior().clone()],
        );
        assert!(contains(&p, 1.0, 1.0));
        assert!(!contains(&p, 5.0, 5.0));
    }

    #[test]
    fn a_point_on_a_slanted_shared_edge_gets_exactly_one_side() {
        // Two triangles sharing the diagonal (0,0)-(3,1); the point (1.5,0.5)
        // lies exactly on it (representable).
        let below = polygon![(x: 0.0, y: 0.0), (x: 3.0, y: 0.0), (x: 3.0, y: 1.0)];
        let above = polygon![(x: 0.0, y: 0.0), (x: 3.0, y: 1.0), (x: 0.0, y: 1.0)];
        let n = usize::from(contains(&below, 1.5, 0.5)) + usize::from(contains(&above, 1.5, 0.5));
        assert_eq!(n, 1);
        // East of the diagonal is the lower triangle.
        assert!(contains(&below, 1.5, 0.5));
    }
}
