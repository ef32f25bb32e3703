//! Ring simplification (Ramer–Douglas–Peucker) with a tolerance in tile
//! units, so detail follows the zoom.

/// Simplifies a closed ring; keeps at least a triangle or returns empty
/// when the ring collapses.
///
/// ```
/// use gridgov_tiles::simplify::simplify_ring;
/// let r = vec![[0.0, 0.0], [5.0, 0.01], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
/// assert_eq!(simplify_ring(&r, 0.5).len(), 4);
/// ```
pub fn simplify_ring(ring: &[[f64; 2]], tolerance: f64) -> Vec<[f64; 2]> {
    let n = ring.len();
    if n < 4 || tolerance <= 0.0 {
        return ring.to_vec();
    }
    // Split at the point farthest from the first, so the closed ring
    // becomes two open chains.
    let far = (1..n)
        .max_by(|&a, &b| dist2(ring[0], ring[a]).total_cmp(&dist2(ring[0], ring[b])))
        .unwrap_or(n / 2);
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[far] = true;
    rdp(ring, 0, far, tolerance * tolerance, &mut keep);
    let mut tail: Vec<[f64; 2]> = ring[far..].to_vec();
    tail.push(ring[0]);
    let mut keep_tail = vec![false; tail.len()];
    rdp(
        &tail,
        0,
        tail.len() - 1,
        tolerance * tolerance,
        &mut keep_tail,
    );
    for (i, k) in keep_tail.iter().enumerate().take(tail.len() - 1) {
        if *k {
            keep[far + i] = true;
        }
    }
    let out: Vec<[f64; 2]> = ring
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(p, _)| *p)
        .collect();
    if out.len() < 3 { Vec::new() } else { out }
}

/// Simplifies an open polyline, keeping both ends.
///
/// ```
/// use gridgov_tiles::simplify::simplify_line;
/// let l = vec![[0.0, 0.0], [5.0, 0.01], [10.0, 0.0], [10.0, 10.0]];
/// assert_eq!(simplify_line(&l, 0.5), vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]);
/// ```
pub fn simplify_line(line: &[[f64; 2]], tolerance: f64) -> Vec<[f64; 2]> {
    let n = line.len();
    if n < 3 || tolerance <= 0.0 {
        return line.to_vec();
    }
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    rdp(line, 0, n - 1, tolerance * tolerance, &mut keep);
    line.iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(p, _)| *p)
        .collect()
}

fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

fn seg_dist2(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let l = dist2(a, b);
    if l == 0.0 {
        return dist2(p, a);
    }
    let t = (((p[0] - a[0]) * (b[0] - a[0]) + (p[1] - a[1]) * (b[1] - a[1])) / l).clamp(0.0, 1.0);
    dist2(p, [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])
}

fn rdp(pts: &[[f64; 2]], first: usize, last: usize, tol2: f64, keep: &mut [bool]) {
    let mut stack = vec![(first, last)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut best, mut at) = (0.0, a);
        for i in a + 1..b {
            let d = seg_dist2(pts[i], pts[a], pts[b]);
            if d > best {
                best = d;
                at = i;
            }
        }
        if best > tol2 {
            keep[at] = true;
            stack.push((a, at));
            stack.push((at, b));
        }
    }
}
