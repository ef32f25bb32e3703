//! Where incidents concentrate: the Getis–Ord Gi* statistic over a
//! neighbourhood (grid adjacency by queen contiguity, or a regular
//! lattice), with z-scores, normal p-values, conditional-permutation
//! p-values and Benjamini–Hochberg false-discovery-rate control; and
//! Mann–Kendall trends on weekly counts for emerging hot spots. Checked
//! against PySAL's `esda` on the same inputs (`scripts/hotspot_fixtures.py`).

use geo::{BoundingRect, Intersects, MultiPolygon};
use serde::Serialize;

use crate::cancel::{Cancel, Cancelled};
use crate::rng::Rng;

/// Neighbours of each unit (not including itself), sorted.
pub type Neighbours = Vec<Vec<usize>>;

/// Queen contiguity: two areas are neighbours when their boundaries share
/// at least a point.
///
/// ```
/// use geo::{polygon, MultiPolygon};
/// use gridgov_spatial::hotspots::queen;
/// let a = MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)]]);
/// let b = MultiPolygon(vec![polygon![(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 2.)]]);
/// let c = MultiPolygon(vec![polygon![(x: 5., y: 5.), (x: 6., y: 5.), (x: 6., y: 6.), (x: 5., y: 6.)]]);
/// assert_eq!(queen(&[a, b, c]), vec![vec![1], vec![0], vec![]]);
/// ```
pub fn queen(areas: &[MultiPolygon<f64>]) -> Neighbours {
    let boxes: Vec<Option<geo::Rect<f64>>> =
        areas.iter().map(BoundingRect::bounding_rect).collect();
    let mut out = vec![Vec::new(); areas.len()];
    for i in 0..areas.len() {
        for j in i + 1..areas.len() {
            let (Some(a), Some(b)) = (boxes[i], boxes[j]) else {
                continue;
            };
            if a.intersects(&b) && areas[i].intersects(&areas[j]) {
                out[i].push(j);
                out[j].push(i);
            }
        }
    }
    out
}

/// Queen contiguity on a `cols × rows` lattice, cells numbered row by row.
///
/// ```
/// use gridgov_spatial::hotspots::lattice;
/// let n = lattice(3, 2);
/// assert_eq!(n[0], vec![1, 3, 4]);
/// assert_eq!(n[4], vec![0, 1, 2, 3, 5]);
/// ```
pub fn lattice(cols: usize, rows: usize) -> Neighbours {
    let mut out = vec![Vec::new(); cols * rows];
    for r in 0..rows {
        for c in 0..cols {
            let v = &mut out[r * cols + c];
            for dr in -1i64..=1 {
                for dc in -1i64..=1 {
                    let (rr, cc) = (r as i64 + dr, c as i64 + dc);
                    if (dr, dc) != (0, 0)
                        && (0..rows as i64).contains(&rr)
                        && (0..cols as i64).contains(&cc)
                    {
                        v.push(rr as usize * cols + cc as usize);
                    }
                }
            }
            v.sort_unstable();
        }
    }
    out
}

/// Gi* of one unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GiStar {
    /// The statistic: the unit's and its neighbours' share of the total.
    pub g: f64,
    /// Its z-score (positive: a hot spot).
    pub z: f64,
    /// One-sided normal p-value of `|z|`.
    pub p_norm: f64,
    /// One-sided conditional-permutation p-value (pseudo p).
    pub p_sim: f64,
    /// Significant after false-discovery-rate control at the level asked.
    pub significant: bool,
}

/// The standard normal upper tail `P(Z > z)`.
fn upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function: the Chebyshev fit `erfcc` of
/// Numerical Recipes, fractional error below 1.2e-7 everywhere.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Gi* of every unit with binary weights (each unit's neighbours and
/// itself), `permutations` conditional permutations seeded by `seed`, and
/// Benjamini–Hochberg at `fdr` on the permutation p-values.
///
/// ```
/// use gridgov_spatial::hotspots::{lattice, gi_star};
/// // A 7 × 7 lattice with a block of high counts around the centre (24).
/// let mut x = vec![1.0; 49];
/// for c in [16, 17, 18, 23, 24, 25, 30, 31, 32] { x[c] = 30.0; }
/// let g = gi_star(&x, &lattice(7, 7), 999, 7, 0.05);
/// assert!(g[24].z > 2.0 && g[24].significant);
/// assert!(g[0].z < 0.0);
/// ```
pub fn gi_star(
    x: &[f64],
    nb: &Neighbours,
    permutations: usize,
    seed: u64,
    fdr: f64,
) -> Vec<GiStar> {
    gi_star_until(x, nb, permutations, seed, fdr, &Cancel::never()).unwrap_or_default()
}

/// [`gi_star`], stopping with `Err(Cancelled)` soon after `cancel` is
/// raised (it is looked at before each unit's permutations).
///
/// ```
/// use gridgov_spatial::cancel::{Cancel, Cancelled};
/// use gridgov_spatial::hotspots::{gi_star_until, lattice};
/// let c = Cancel::new();
/// c.cancel();
/// assert_eq!(gi_star_until(&[1.0; 49], &lattice(7, 7), 999, 7, 0.05, &c), Err(Cancelled));
/// ```
pub fn gi_star_until(
    x: &[f64],
    nb: &Neighbours,
    permutations: usize,
    seed: u64,
    fdr: f64,
    cancel: &Cancel,
) -> Result<Vec<GiStar>, Cancelled> {
    let n = x.len();
    if n < 2 {
        return Ok(Vec::new());
    }
    let nf = n as f64;
    let sum: f64 = x.iter().sum();
    let mean = sum / nf;
    let var = x.iter().map(|v| v * v).sum::<f64>() / nf - mean * mean;
    let s = var.max(0.0).sqrt();
    let mut rng = Rng::new(seed);
    let mut out: Vec<GiStar> = (0..n)
        .map(|i| {
            cancel.check()?;
            let k = nb[i].len() + 1; // with itself
            let kf = k as f64;
            let local: f64 = x[i] + nb[i].iter().map(|&j| x[j]).sum::<f64>();
            let g = if sum == 0.0 { 0.0 } else { local / sum };
            let denom = s * ((nf * kf - kf * kf) / (nf - 1.0)).sqrt();
            let z = if denom > 0.0 {
                (local - mean * kf) / denom
            } else {
                0.0
            };
            // Conditional permutation: x[i] stays, its neighbours are
            // drawn at random from the other units.
            let mut others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            let mut larger = 0usize;
            for _ in 0..permutations {
                // A partial Fisher–Yates draw of k − 1 others.
                let mut sim = x[i];
                for d in 0..k - 1 {
                    let r = d + (rng.next_u64() % (others.len() - d) as u64) as usize;
                    others.swap(d, r);
                    sim += x[others[d]];
                }
                if sim >= local {
                    larger += 1;
                }
            }
            if permutations - larger < larger {
                larger = permutations - larger;
            }
            // With no variance at all there is nothing to find.
            if s == 0.0 {
                larger = permutations;
            }
            Ok(GiStar {
                g,
                z,
                p_norm: upper_tail(z.abs()),
                p_sim: (larger as f64 + 1.0) / (permutations as f64 + 1.0),
                significant: false,
            })
        })
        .collect::<Result<_, Cancelled>>()?;
    let sig = benjamini_hochberg(&out.iter().map(|g| g.p_sim).collect::<Vec<_>>(), fdr);
    for (g, s) in out.iter_mut().zip(sig) {
        g.significant = s;
    }
    Ok(out)
}

/// Benjamini–Hochberg: which of `p` are discoveries at false-discovery
/// rate `q`.
///
/// ```
/// use gridgov_spatial::hotspots::benjamini_hochberg;
/// assert_eq!(benjamini_hochberg(&[0.001, 0.04, 0.03, 0.5], 0.05), [true, false, false, false]);
/// assert_eq!(benjamini_hochberg(&[0.01, 0.02, 0.03, 0.04], 0.05), [true, true, true, true]);
/// ```
pub fn benjamini_hochberg(p: &[f64], q: f64) -> Vec<bool> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let cutoff = order
        .iter()
        .enumerate()
        .filter(|&(rank, &i)| p[i] <= q * (rank + 1) as f64 / m as f64)
        .map(|(rank, _)| rank)
        .max();
    let mut out = vec![false; m];
    if let Some(c) = cutoff {
        for &i in &order[..=c] {
            out[i] = true;
        }
    }
    out
}

/// A Mann–Kendall trend test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// The S statistic.
    pub s: f64,
    /// Its variance (corrected for ties).
    pub var_s: f64,
    /// The z-score (continuity-corrected).
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Mann–Kendall on a series (e.g. weekly counts).
///
/// ```
/// use gridgov_spatial::hotspots::mann_kendall;
/// let up = mann_kendall(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
/// assert!(up.z > 0.0 && up.p < 0.01);
/// ```
pub fn mann_kendall(x: &[f64]) -> Trend {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            s += (x[j] - x[i]).signum() * f64::from(u8::from(x[j] != x[i]));
        }
    }
    // Ties: groups of equal values.
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut k = 0;
    while k < n {
        let mut e = k;
        while e + 1 < n && sorted[e + 1] == sorted[k] {
            e += 1;
        }
        let t = (e - k + 1) as f64;
        ties += t * (t - 1.0) * (2.0 * t + 5.0);
        k = e + 1;
    }
    let nf = n as f64;
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let z = if var_s <= 0.0 {
        0.0
    } else if s > 0.0 {
        (s - 1.0) / var_s.sqrt()
    } else if s < 0.0 {
        (s + 1.0) / var_s.sqrt()
    } else {
        0.0
    };
    Trend {
        s,
        var_s,
        z,
        p: (2.0 * upper_tail(z.abs())).min(1.0),
    }
}

/// The emerging-hot-spot label of a unit from whether it was a
/// significant hot spot in each period (oldest first) and the trend of
/// its statistic (simplified from ESRI's emerging hot spot categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Emerging {
    /// Hot in the last period only.
    New,
    /// Hot in at least 90% of periods and in the last, heating up.
    Intensifying,
    /// Hot in at least 90% of periods, no significant trend.
    Persistent,
    /// Hot in at least 90% of periods, cooling down.
    Diminishing,
    /// Hot now and then.
    Sporadic,
    /// Never hot.
    None,
}

/// Labels a unit (see [`Emerging`]); `trend` is on its Gi* z-scores.
///
/// ```
/// use gridgov_spatial::hotspots::{emerging, mann_kendall, Emerging};
/// let z = [2.5, 2.7, 2.9, 3.1, 3.3, 3.6, 3.8, 4.0, 4.3, 4.5];
/// assert_eq!(emerging(&[true; 10], &mann_kendall(&z), 0.05), Emerging::Intensifying);
/// let mut only_last = [false; 10];
/// only_last[9] = true;
/// assert_eq!(emerging(&only_last, &mann_kendall(&[0.0; 10]), 0.05), Emerging::New);
/// ```
pub fn emerging(hot: &[bool], trend: &Trend, alpha: f64) -> Emerging {
    let n = hot.len();
    let count = hot.iter().filter(|&&h| h).count();
    if count == 0 {
        return Emerging::None;
    }
    let last = hot.last().copied().unwrap_or(false);
    if count == 1 && last {
        return Emerging::New;
    }
    if count as f64 >= 0.9 * n as f64 && last {
        if trend.p < alpha && trend.z > 0.0 {
            return Emerging::Intensifying;
        }
        if trend.p < alpha && trend.z < 0.0 {
            return Emerging::Diminishing;
        }
        return Emerging::Persistent;
    }
    Emerging::Sporadic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_tail_is_accurate() {
        for (z, p) in [
            (0.0, 0.5),
            (1.0, 0.158_655_253_931_457),
            (1.959_963_984_540_054, 0.025),
            (3.0, 0.001_349_898_031_630_1),
        ] {
            assert!(
                (upper_tail(z) - p).abs() < 1e-7,
                "{z}: {} vs {p}",
                upper_tail(z)
            );
        }
    }

    #[test]
    fn a_flat_surface_has_no_hot_spots() {
        let g = gi_star(&[3.0; 16], &lattice(4, 4), 99, 1, 0.05);
        assert!(g.iter().all(|g| g.z == 0.0 && !g.significant));
    }

    #[test]
    fn ties_reduce_the_mann_kendall_variance() {
        let a = mann_kendall(&[1.0, 2.0, 3.0, 4.0]);
        let b = mann_kendall(&[1.0, 1.0, 3.0, 4.0]);
        assert!(b.var_s < a.var_s);
        assert_eq!(a.s, 6.0);
        assert_eq!(b.s, 5.0);
    }
}
