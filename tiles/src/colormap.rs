//! The heatmap's colour map (inferno: perceptually uniform, readable in
//! grey and by most colour-blind viewers) and its legend with real values.

use serde::Serialize;

use crate::kde::Density;

/// Inferno, sampled at ten even steps (from matplotlib's definition).
const INFERNO: [[u8; 3]; 10] = [
    [0x00, 0x00, 0x04],
    [0x1b, 0x0c, 0x41],
    [0x4a, 0x0c, 0x6b],
    [0x78, 0x1c, 0x6d],
    [0xa5, 0x2c, 0x60],
    [0xcf, 0x44, 0x46],
    [0xed, 0x69, 0x25],
    [0xfb, 0x9b, 0x06],
    [0xf7, 0xd1, 0x3d],
    [0xfc, 0xff, 0xa4],
];

/// The colour of `t` in `[0, 1]` (clamped).
///
/// ```
/// use gridgov_tiles::colormap::inferno;
/// assert_eq!(inferno(0.0), [0, 0, 4]);
/// assert_eq!(inferno(1.0), [0xfc, 0xff, 0xa4]);
/// ```
pub fn inferno(t: f32) -> [u8; 3] {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let f = t * (INFERNO.len() - 1) as f32;
    let i = (f as usize).min(INFERNO.len() - 2);
    let u = f - i as f32;
    let (a, b) = (INFERNO[i], INFERNO[i + 1]);
    [0, 1, 2].map(|k| (f32::from(a[k]) + (f32::from(b[k]) - f32::from(a[k])) * u).round() as u8)
}

/// Turns densities into premultiplied-free RGBA: the colour of
/// `value / max`, transparent where the density is below `floor` of the
/// maximum and fading in above it, at most `opacity`.
///
/// ```
/// use gridgov_tiles::{colormap::shade, kde::Density};
/// let d = Density { width: 2, height: 1, values: vec![0.0, 10.0] };
/// let px = shade(&d, 10.0, 0.8);
/// assert_eq!(px[3], 0);
/// assert_eq!(px[7], 204);
/// ```
pub fn shade(d: &Density, max: f32, opacity: f32) -> Vec<u8> {
    // The colour of every 1/4096th of the scale, then a lookup per pixel:
    // within one level of computing each pixel's colour exactly.
    const STEPS: usize = 4096;
    let mut out = vec![0u8; d.values.len() * 4];
    if max <= 0.0 {
        return out;
    }
    let floor = 0.02;
    let lut: Vec<[u8; 4]> = (0..=STEPS)
        .map(|k| {
            let t = k as f32 / STEPS as f32;
            if t <= floor {
                return [0; 4];
            }
            let c = inferno(t);
            let a = ((t - floor) / 0.2).min(1.0) * opacity;
            [c[0], c[1], c[2], (a * 255.0).round() as u8]
        })
        .collect();
    let k = STEPS as f32 / max;
    let half = d.values.len().div_ceil(2).max(1);
    std::thread::scope(|s| {
        for (vals, px) in d.values.chunks(half).zip(out.chunks_mut(half * 4)) {
            let lut = &lut;
            s.spawn(move || {
                for (v, px) in vals.iter().zip(px.chunks_exact_mut(4)) {
                    // `as` saturates: negatives and NaN give 0.
                    let i = ((v * k).round() as usize).min(STEPS);
                    px.copy_from_slice(&lut[i]);
                }
            });
        }
    });
    out
}

/// A legend: the colour at each of a few real values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Legend {
    /// What the values measure.
    pub unit: String,
    /// The value at the top of the scale.
    pub max: f64,
    /// Evenly spaced stops from 0 to `max`.
    pub stops: Vec<LegendStop>,
}

/// One legend stop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegendStop {
    /// Value.
    pub value: f64,
    /// Colour as `#rrggbb`.
    pub color: String,
}

/// The legend for a scale from 0 to `max`, in `unit`.
///
/// ```
/// use gridgov_tiles::colormap::legend;
/// let l = legend(120.0, "incidents per km²");
/// assert_eq!(l.stops.len(), 6);
/// assert_eq!(l.stops[5].value, 120.0);
/// ```
pub fn legend(max: f64, unit: &str) -> Legend {
    let stops = (0..=5)
        .map(|i| {
            let t = f64::from(i) / 5.0;
            let c = inferno(t as f32);
            LegendStop {
                value: (max * t * 100.0).round() / 100.0,
                color: format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]),
            }
        })
        .collect();
    Legend {
        unit: unit.to_string(),
        max,
        stops,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inferno_gets_lighter_all_the_way() {
        let lum = |c: [u8; 3]| {
            0.2126 * f32::from(c[0]) + 0.7152 * f32::from(c[1]) + 0.0722 * f32::from(c[2])
        };
        let mut last = -1.0;
        for i in 0..=100 {
            let l = lum(inferno(i as f32 / 100.0));
            assert!(l >= last - 0.5, "not monotonic at {i}");
            last = l;
        }
    }
}
