//! Clipping rings to a tile's rectangle (Sutherland–Hodgman against each
//! side in turn; exact for the convex clip rectangle), and lines
//! (Liang–Barsky on each segment, the pieces inside joined).

/// A ring of `[x, y]` points; closed or not, it is treated as closed.
pub type Ring = Vec<[f64; 2]>;

/// Clips a ring to the rectangle `[min, max]` on both axes; empty when
/// nothing is left. The result is not closed (first point not repeated).
///
/// ```
/// use gridgov_tiles::clip::clip_ring;
/// let square = vec![[-5.0, -5.0], [5.0, -5.0], [5.0, 5.0], [-5.0, 5.0]];
/// let c = clip_ring(&square, 0.0, 10.0);
/// assert_eq!(c.len(), 4);
/// assert!(c.iter().all(|p| p[0] >= 0.0 && p[1] >= 0.0));
/// ```
pub fn clip_ring(ring: &[[f64; 2]], min: f64, max: f64) -> Ring {
    let mut pts: Ring = ring.to_vec();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    // (axis, bound, keep when below)
    for (axis, bound, below) in [
        (0, min, false),
        (0, max, true),
        (1, min, false),
        (1, max, true),
    ] {
        if pts.is_empty() {
            break;
        }
        let inside = |p: &[f64; 2]| {
            if below {
                p[axis] <= bound
            } else {
                p[axis] >= bound
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let a = pts[i];
            let b = pts[(i + 1) % pts.len()];
            let (ia, ib) = (inside(&a), inside(&b));
            if ia {
                out.push(a);
            }
            if ia != ib {
                let t = (bound - a[axis]) / (b[axis] - a[axis]);
                let mut p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
                p[axis] = bound;
                out.push(p);
            }
        }
        pts = out;
    }
    if pts.len() < 3 { Vec::new() } else { pts }
}

/// Clips a polygon (exterior first, then holes); `None` when the exterior
/// is clipped away. Holes clipped away are dropped.
///
/// ```
/// use gridgov_tiles::clip::clip_polygon;
/// let far = vec![vec![[20.0, 20.0], [30.0, 20.0], [30.0, 30.0]]];
/// assert!(clip_polygon(&far, 0.0, 10.0).is_none());
/// ```
pub fn clip_polygon(rings: &[Ring], min: f64, max: f64) -> Option<Vec<Ring>> {
    let mut out = Vec::with_capacity(rings.len());
    for (i, r) in rings.iter().enumerate() {
        let c = clip_ring(r, min, max);
        if c.is_empty() {
            if i == 0 {
                return None;
            }
            continue;
        }
        out.push(c);
    }
    Some(out)
}

/// Twice the signed area (shoelace) of a ring; positive when
/// counter-clockwise with y up (clockwise with y down).
pub fn signed_area2(ring: &[[f64; 2]]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let a = ring[i];
            let b = ring[(i + 1) % n];
            a[0] * b[1] - b[0] * a[1]
        })
        .sum()
}

/// Clips a polyline to the rectangle `[min, max]` on both axes: the
/// pieces inside, in order, each of at least two points.
///
/// ```
/// use gridgov_tiles::clip::clip_line;
/// let line = [[-5.0, 5.0], [5.0, 5.0], [15.0, 5.0], [15.0, 8.0], [5.0, 8.0]];
/// let parts = clip_line(&line, 0.0, 10.0);
/// assert_eq!(parts, vec![vec![[0.0, 5.0], [5.0, 5.0], [10.0, 5.0]], vec![[10.0, 8.0], [5.0, 8.0]]]);
/// ```
pub fn clip_line(line: &[[f64; 2]], min: f64, max: f64) -> Vec<Ring> {
    let mut parts: Vec<Ring> = Vec::new();
    let mut cur: Ring = Vec::new();
    for w in line.windows(2) {
        let Some((a, b)) = clip_segment(w[0], w[1], min, max) else {
            if cur.len() >= 2 {
                parts.push(std::mem::take(&mut cur));
            }
            cur.clear();
            continue;
        };
        if cur.last() != Some(&a) {
            if cur.len() >= 2 {
                parts.push(std::mem::take(&mut cur));
            }
            cur.clear();
            cur.push(a);
        }
        cur.push(b);
        if b != w[1] {
            // Left the rectangle.
            parts.push(std::mem::take(&mut cur));
        }
    }
    if cur.len() >= 2 {
        parts.push(cur);
    }
    parts
}

/// Liang–Barsky: the part of segment `a`–`b` inside the rectangle.
fn clip_segment(a: [f64; 2], b: [f64; 2], min: f64, max: f64) -> Option<([f64; 2], [f64; 2])> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a[0] - min),
        (dx, max - a[0]),
        (-dy, a[1] - min),
        (dy, max - a[1]),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            // On the rectangle's side: clamped so rounding cannot put it
            // a hair outside.
            [
                (a[0] + t * dx).clamp(min, max),
                (a[1] + t * dy).clamp(min, max),
            ]
        }
    };
    Some((at(t0), at(t1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clipped_line_keeps_exactly_its_length_inside_the_rectangle() {
        let mut rng = gridgov_spatial::Rng::new(5);
        for _ in 0..200 {
            let line: Vec<[f64; 2]> = (0..12)
                .map(|_| [rng.range(-50.0, 150.0), rng.range(-50.0, 150.0)])
                .collect();
            let parts = clip_line(&line, 0.0, 100.0);
            let len = |l: &[[f64; 2]]| {
                l.windows(2)
                    .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
                    .sum::<f64>()
            };
            // Brute force: the length inside, from many small steps.
            let mut inside = 0.0;
            for w in line.windows(2) {
                let n = 2000;
                for k in 0..n {
                    let t = (f64::from(k) + 0.5) / f64::from(n);
                    let p = [
                        w[0][0] + t * (w[1][0] - w[0][0]),
                        w[0][1] + t * (w[1][1] - w[0][1]),
                    ];
                    if (0.0..=100.0).contains(&p[0]) && (0.0..=100.0).contains(&p[1]) {
                        inside += len(w) / f64::from(n);
                    }
                }
            }
            let got: f64 = parts.iter().map(|p| len(p)).sum();
            assert!((got - inside).abs() < 0.2, "{got} vs {inside}");
            for p in parts.iter().flatten() {
                assert!((0.0..=100.0).contains(&p[0]) && (0.0..=100.0).contains(&p[1]));
            }
        }
    }

    #[test]
    fn clipping_keeps_the_area_inside_the_rectangle() {
        // A triangle half inside: its clipped area is exactly the inside part.
        let tri = vec![[-10.0, 0.0], [10.0, 0.0], [10.0, 20.0]];
        let c = clip_ring(&tri, 0.0, 100.0);
        assert!((signed_area2(&c).abs() / 2.0 - 150.0).abs() < 1e-9);
        // Wholly inside: unchanged.
        let inside = vec![[1.0, 1.0], [2.0, 1.0], [2.0, 2.0]];
        assert_eq!(clip_ring(&inside, 0.0, 10.0), inside);
        // Covering the rectangle: the rectangle.
        let big = vec![
            [-50.0, -50.0],
            [50.0, -50.0],
            [50.0, 50.0],
            [-50.0, 50.0],
            [-50.0, -50.0],
        ];
        assert!((signed_area2(&clip_ring(&big, 0.0, 10.0)).abs() - 200.0).abs() < 1e-9);
    }
}
