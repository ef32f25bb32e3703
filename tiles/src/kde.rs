//! The incident heatmap: a Gaussian kernel density estimate with the
//! bandwidth in ground metres, computed by linear binning onto the raster
//! and a separable Gaussian convolution. This CPU version is the reference
//! the GPU heatmap is tested against; [`kde_direct`] is the plain kernel
//! sum this one is tested against.
//!
//! Density is in incidents per km² (each incident weighs 1, or its weight):
//! `f(p) = Σ wᵢ · exp(−dᵢ²/2h²) / (2πh²)` with `d` and `h` in ground
//! metres. The ground scale of Web Mercator is taken at the raster's centre
//! latitude (under 0.1% off across a district).

use crate::tile::ground_scale;

/// Where a density raster lies: Mercator bounds and pixel size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RasterSpec {
    /// `[min_x, min_y, max_x, max_y]` in Mercator metres.
    pub bounds: [f64; 4],
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
}

impl RasterSpec {
    /// Mercator metres per pixel (x; pixels are square when bounds are).
    pub fn pixel(&self) -> f64 {
        (self.bounds[2] - self.bounds[0]) / self.width as f64
    }
    /// Ground metres per Mercator metre at the centre.
    fn scale(&self) -> f64 {
        ground_scale(f64::midpoint(self.bounds[1], self.bounds[3]))
    }
    /// The kernel's σ in pixels for a bandwidth in ground metres.
    pub fn sigma_px(&self, bandwidth_m: f64) -> f64 {
        bandwidth_m / self.scale() / self.pixel()
    }
}

/// A density raster, row-major from the top (north) row, per km².
#[derive(Debug, Clone, PartialEq)]
pub struct Density {
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
    /// Values.
    pub values: Vec<f32>,
}

impl Density {
    /// The largest value (0 when empty).
    pub fn max(&self) -> f32 {
        self.values.iter().copied().fold(0.0, f32::max)
    }
}

/// The plain kernel sum at every pixel centre: O(pixels × points). The
/// reference for [`kde`]; use it on small inputs only.
///
/// ```
/// use gridgov_tiles::kde::{RasterSpec, kde_direct};
/// let spec = RasterSpec { bounds: [0.0, 0.0, 1000.0, 1000.0], width: 10, height: 10 };
/// let d = kde_direct(&[[500.0, 500.0]], None, &spec, 100.0);
/// assert!(d.values[5 * 10 + 5] > d.values[0]);
/// ```
pub fn kde_direct(
    points: &[[f64; 2]],
    weights: Option<&[f32]>,
    spec: &RasterSpec,
    bandwidth_m: f64,
) -> Density {
    let px = spec.pixel();
    let s = spec.scale();
    let h = bandwidth_m;
    let norm = 1e6 / (2.0 * std::f64::consts::PI * h * h);
    let mut values = vec![0f32; spec.width * spec.height];
    for row in 0..spec.height {
        let cy = spec.bounds[3] - (row as f64 + 0.5) * px;
        for col in 0..spec.width {
            let cx = spec.bounds[0] + (col as f64 + 0.5) * px;
            let mut sum = 0.0;
            for (i, p) in points.iter().enumerate() {
                let w = weights.map_or(1.0, |w| f64::from(w[i]));
                let d2 = ((p[0] - cx) * s).powi(2) + ((p[1] - cy) * s).powi(2);
                sum += w * (-d2 / (2.0 * h * h)).exp();
            }
            values[row * spec.width + col] = (sum * norm) as f32;
        }
    }
    Density {
        width: spec.width,
        height: spec.height,
        values,
    }
}

/// The Gaussian KDE by binning and separable convolution. Points are
/// Mercator metres; `weights` default to 1. Points up to 4σ outside the
/// raster still contribute. Wide kernels (σ over 12 pixels) are computed
/// on a coarser raster and interpolated, which keeps the cost flat.
///
/// ```
/// use gridgov_tiles::kde::{RasterSpec, kde, kde_direct};
/// let spec = RasterSpec { bounds: [0.0, 0.0, 2000.0, 2000.0], width: 40, height: 40 };
/// let pts = [[700.0, 900.0], [1300.0, 1100.0]];
/// let (a, b) = (kde(&pts, None, &spec, 150.0), kde_direct(&pts, None, &spec, 150.0));
/// assert!((a.max() - b.max()).abs() / b.max() < 0.02);
/// ```
pub fn kde(
    points: &[[f64; 2]],
    weights: Option<&[f32]>,
    spec: &RasterSpec,
    bandwidth_m: f64,
) -> Density {
    let p = plan(spec, bandwidth_m);
    let binned = kde_binned(points, weights, &p);
    if p.map_scale < 1.0 {
        // Wide kernels: binned coarser, with one coarse pixel of margin all
        // round so that interpolation never reaches past the edge.
        return upsample(&binned, spec, (1.0 / p.map_scale).round() as usize);
    }
    if p.map_scale > 1.0 {
        // Narrow kernels: binned three times finer; the centre of each 3×3
        // block sits on the pixel's centre, so the binning error stays
        // under a percent.
        let fw = p.bins.width;
        let values = (0..spec.height)
            .flat_map(|r| (0..spec.width).map(move |c| (r, c)))
            .map(|(r, c)| binned.values[(3 * r + 1) * fw + 3 * c + 1])
            .collect();
        return Density {
            width: spec.width,
            height: spec.height,
            values,
        };
    }
    binned
}

/// How [`kde`] computes a raster, for renderers that run the same
/// estimate elsewhere (the GPU viewer): the binning raster, the kernel,
/// and how output pixels read the binned result.
#[derive(Debug, Clone, PartialEq)]
pub struct KdePlan {
    /// The raster points are binned on (without the padding).
    pub bins: RasterSpec,
    /// The kernel's σ in bin pixels.
    pub sigma_px: f64,
    /// Kernel taps each side (4σ, at least 1).
    pub radius: usize,
    /// Padding each side of `bins` (`radius + 1`): points up to there
    /// still contribute.
    pub pad: usize,
    /// The unnormalised kernel `exp(−j²/2σ²)`, `j = 0..=radius`.
    pub kernel: Vec<f32>,
    /// Multiplies the blurred bins into incidents per km².
    pub norm: f32,
    /// Output pixel `o` (0-based, per axis) reads the bins at pixel
    /// coordinate `(o + 0.5) · map_scale + map_offset`, bilinearly, clamped.
    pub map_scale: f64,
    /// See `map_scale`.
    pub map_offset: f64,
}

/// The plan [`kde`] follows for `spec` and `bandwidth_m`.
///
/// ```
/// use gridgov_tiles::kde::{RasterSpec, plan};
/// let spec = RasterSpec { bounds: [0.0, 0.0, 5000.0, 2812.5], width: 1920, height: 1080 };
/// let p = plan(&spec, 150.0);
/// assert!(p.bins.width < 1920, "a wide kernel is binned coarser");
/// assert_eq!(p.kernel.len(), p.radius + 1);
/// ```
pub fn plan(spec: &RasterSpec, bandwidth_m: f64) -> KdePlan {
    let sigma = spec.sigma_px(bandwidth_m);
    let (bins, map_scale, map_offset) = if sigma > 12.0 {
        let factor = (sigma / 6.0).floor() as usize;
        let w = spec.width.div_ceil(factor) + 2;
        let h = spec.height.div_ceil(factor) + 2;
        let px = spec.pixel() * factor as f64;
        let coarse = RasterSpec {
            bounds: [
                spec.bounds[0] - px,
                spec.bounds[3] + px - px * h as f64,
                spec.bounds[0] - px + px * w as f64,
                spec.bounds[3] + px,
            ],
            width: w,
            height: h,
        };
        (coarse, 1.0 / factor as f64, 0.5)
    } else if sigma < 4.0 {
        let fine = RasterSpec {
            bounds: spec.bounds,
            width: spec.width * 3,
            height: spec.height * 3,
        };
        (fine, 3.0, -0.5)
    } else {
        (*spec, 1.0, -0.5)
    };
    let sigma_px = bins.sigma_px(bandwidth_m);
    let radius = (4.0 * sigma_px).ceil().max(1.0) as usize;
    KdePlan {
        bins,
        sigma_px,
        radius,
        pad: radius + 1,
        kernel: (0..=radius)
            .map(|j| (-(j as f64).powi(2) / (2.0 * sigma_px * sigma_px)).exp() as f32)
            .collect(),
        norm: (1e6 / (2.0 * std::f64::consts::PI * bandwidth_m * bandwidth_m)) as f32,
        map_scale,
        map_offset,
    }
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8)
}

/// Binning on `p.bins` and the separable blur: the density on the bins.
fn kde_binned(points: &[[f64; 2]], weights: Option<&[f32]>, p: &KdePlan) -> Density {
    let spec = &p.bins;
    let (radius, pad) = (p.radius, p.pad);
    let (bw, bh) = (spec.width + 2 * pad, spec.height + 2 * pad);
    let px = spec.pixel();
    // Bin origin: the centre of padded pixel (0, 0).
    let ox = spec.bounds[0] - (pad as f64 - 0.5) * px;
    let oy = spec.bounds[3] + (pad as f64 - 0.5) * px;
    let inv = 1.0 / px;
    let n = threads();
    let chunk = points.len().div_ceil(n).max(1);
    let bins: Vec<Vec<f32>> = std::thread::scope(|s| {
        let handles: Vec<_> = points
            .chunks(chunk)
            .enumerate()
            .map(|(ci, pts)| {
                s.spawn(move || {
                    let mut grid = vec![0f32; bw * bh];
                    for (k, p) in pts.iter().enumerate() {
                        let w = weights.map_or(1.0, |w| w[ci * chunk + k]);
                        let fx = (p[0] - ox) * inv;
                        let fy = (oy - p[1]) * inv;
                        // Also false for NaN.
                        if !(fx >= 0.0 && fy >= 0.0) {
                            continue;
                        }
                        let (ix, iy) = (fx as usize, fy as usize);
                        if ix + 1 >= bw || iy + 1 >= bh {
                            continue;
                        }
                        let (tx, ty) = ((fx - ix as f64) as f32, (fy - iy as f64) as f32);
                        let i = iy * bw + ix;
                        grid[i] += w * (1.0 - tx) * (1.0 - ty);
                        grid[i + 1] += w * tx * (1.0 - ty);
                        grid[i + bw] += w * (1.0 - tx) * ty;
                        grid[i + bw + 1] += w * tx * ty;
                    }
                    grid
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut grid = vec![0f32; bw * bh];
    for b in &bins {
        for (g, v) in grid.iter_mut().zip(b) {
            *g += v;
        }
    }
    let kernel = &p.kernel;
    // Horizontal pass over the rows that the output needs (all padded rows,
    // output columns only), then vertical into the output.
    let mut tmp = vec![0f32; spec.width * bh];
    let rows_per = bh.div_ceil(n).max(1);
    std::thread::scope(|s| {
        for (ci, out) in tmp.chunks_mut(rows_per * spec.width).enumerate() {
            let (grid, kernel) = (&grid, &kernel);
            s.spawn(move || {
                for (r, orow) in out.chunks_mut(spec.width).enumerate() {
                    let row = &grid[(ci * rows_per + r) * bw..][..bw];
                    for (c, o) in orow.iter_mut().enumerate() {
                        let centre = c + pad;
                        let mut acc = row[centre] * kernel[0];
                        for j in 1..=radius {
                            acc += (row[centre - j] + row[centre + j]) * kernel[j];
                        }
                        *o = acc;
                    }
                }
            });
        }
    });
    let norm = p.norm;
    let mut values = vec![0f32; spec.width * spec.height];
    let rows_per = spec.height.div_ceil(n).max(1);
    std::thread::scope(|s| {
        for (ci, out) in values.chunks_mut(rows_per * spec.width).enumerate() {
            let (tmp, kernel) = (&tmp, &kernel);
            let w = spec.width;
            s.spawn(move || {
                for (r, orow) in out.chunks_mut(w).enumerate() {
                    let centre = ci * rows_per + r + pad;
                    for (c, o) in orow.iter_mut().enumerate() {
                        let mut acc = tmp[centre * w + c] * kernel[0];
                        for j in 1..=radius {
                            acc +=
                                (tmp[(centre - j) * w + c] + tmp[(centre + j) * w + c]) * kernel[j];
                        }
                        *o = acc * norm;
                    }
                }
            });
        }
    });
    Density {
        width: spec.width,
        height: spec.height,
        values,
    }
}

/// Bilinear interpolation of a coarse raster (pixel centres) onto the
/// fine one.
fn upsample(c: &Density, spec: &RasterSpec, factor: usize) -> Density {
    let f = factor as f64;
    // Per column: the two coarse columns and the weight of the second.
    let cols: Vec<(usize, usize, f32)> = (0..spec.width)
        .map(|col| {
            let fx = ((col as f64 + 0.5) / f + 0.5).clamp(0.0, (c.width - 1) as f64);
            let x0 = fx as usize;
            (x0, (x0 + 1).min(c.width - 1), (fx - x0 as f64) as f32)
        })
        .collect();
    let mut values = vec![0f32; spec.width * spec.height];
    let rows_per = spec.height.div_ceil(threads()).max(1);
    std::thread::scope(|s| {
        for (ci, out) in values.chunks_mut(rows_per * spec.width).enumerate() {
            let cols = &cols;
            s.spawn(move || {
                for (r, orow) in out.chunks_mut(spec.width).enumerate() {
                    let row = ci * rows_per + r;
                    let fy = ((row as f64 + 0.5) / f + 0.5).clamp(0.0, (c.height - 1) as f64);
                    let y0 = fy as usize;
                    let y1 = (y0 + 1).min(c.height - 1);
                    let ty = (fy - y0 as f64) as f32;
                    let (r0, r1) = (&c.values[y0 * c.width..], &c.values[y1 * c.width..]);
                    for (o, &(x0, x1, tx)) in orow.iter_mut().zip(cols) {
                        *o = (r0[x0] * (1.0 - tx) + r0[x1] * tx) * (1.0 - ty)
                            + (r1[x0] * (1.0 - tx) + r1[x1] * tx) * ty;
                    }
                }
            });
        }
    });
    Density {
        width: spec.width,
        height: spec.height,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rand_points(n: usize, seed: u64, spread: f64, at: [f64; 2]) -> Vec<[f64; 2]> {
        let mut s = seed;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                [
                    at[0] + (next() - 0.5) * spread,
                    at[1] + (next() - 0.5) * spread,
                ]
            })
            .collect()
    }

    fn max_rel_err(a: &Density, b: &Density) -> f32 {
        let m = b.max();
        a.values
            .iter()
            .zip(&b.values)
            .map(|(x, y)| (x - y).abs() / m)
            .fold(0.0, f32::max)
    }

    #[test]
    fn binned_kde_matches_the_direct_kernel_sum() {
        // Around Zibo (latitude 34.86°), a 3 km raster, 150 m bandwidth.
        let (x0, y0) = crate::tile::lonlat_to_mercator(117.55, 34.86);
        let spec = RasterSpec {
            bounds: [x0, y0, x0 + 3000.0, y0 + 3000.0],
            width: 96,
            height: 96,
        };
        let pts = rand_points(300, 7, 3600.0, [x0 + 1500.0, y0 + 1500.0]);
        let w: Vec<f32> = (0..pts.len()).map(|i| 1.0 + (i % 3) as f32).collect();
        for (bw, weights) in [(150.0, None), (60.0, Some(&w[..])), (400.0, None)] {
            let a = kde(&pts, weights, &spec, bw);
            let b = kde_direct(&pts, weights, &spec, bw);
            let e = max_rel_err(&a, &b);
            assert!(e < 0.01, "bandwidth {bw}: max relative error {e}");
        }
    }

    #[test]
    fn the_density_integrates_to_the_number_of_points() {
        let spec = RasterSpec {
            bounds: [0.0, 0.0, 10_000.0, 10_000.0],
            width: 200,
            height: 200,
        };
        let pts = rand_points(1000, 3, 2000.0, [5000.0, 5000.0]);
        let d = kde(&pts, None, &spec, 200.0);
        // per km² × km² per pixel (pixel = 50 m at the equator, scale 1).
        let total: f64 = d.values.iter().map(|v| f64::from(*v) * 0.05 * 0.05).sum();
        assert!((total - 1000.0).abs() < 5.0, "{total}");
    }
}
