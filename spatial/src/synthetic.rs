//! Synthetic tilings and clustered points: the shared workload for
//! benchmarks and the seeded random data for brute-force tests.
//!
//! A tiling is a jittered lattice of `cols × rows` cells whose shared edges
//! are wiggly polylines, identical (vertex for vertex) on both sides, so the
//! polygons cover the box with no gap and no overlap.
//!
//! ```
//! use gridgov_spatial::synthetic::{tiling, TilingSpec};
//! let t = tiling(&TilingSpec { cols: 4, rows: 3, vertices_per_side: 8, ..TilingSpec::default() }, 7);
//! assert_eq!(t.len(), 12);
//! ```

use geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::Rng;

/// Shape of a synthetic tiling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TilingSpec {
    /// Cells west–east.
    pub cols: usize,
    /// Cells south–north.
    pub rows: usize,
    /// West, south, east, north of the tiled box.
    pub bbox: [f64; 4],
    /// Vertices on each side of a cell (≥ 1); a cell has about 4× this many.
    pub vertices_per_side: usize,
    /// Jitter of lattice corners, as a share of the cell size.
    pub jitter: f64,
    /// Sideways wiggle of side vertices, as a share of the side length.
    pub wiggle: f64,
}

impl Default for TilingSpec {
    /// The district workload: 52 grids (13 × 4) tiling 4.7 × 3.4 km at
    /// Longshan Road Street, 124–284 vertices each.
    fn default() -> Self {
        TilingSpec {
            cols: 13,
            rows: 4,
            bbox: district_bbox(),
            vertices_per_side: 50,
            jitter: 0.25,
            wiggle: 0.04,
        }
    }
}

/// The 4.7 × 3.4 km box around Longshan Road Street (117.55 E, 34.86 N).
pub fn district_bbox() -> [f64; 4] {
    let (lon, lat): (f64, f64) = (117.55, 34.86);
    let dlon = 4700.0 / (111_320.0 * lat.to_radians().cos());
    let dlat = 3400.0 / 110_574.0;
    [
        lon - dlon / 2.0,
        lat - dlat / 2.0,
        lon + dlon / 2.0,
        lat + dlat / 2.0,
    ]
}

/// The city workload: 5,000 grids (100 × 50) over a 47 × 34 km box.
pub fn city_spec() -> TilingSpec {
    let b = district_bbox();
    let (cx, cy) = (f64::midpoint(b[0], b[2]), f64::midpoint(b[1], b[3]));
    let (hw, hh) = ((b[2] - b[0]) * 5.0, (b[3] - b[1]) * 5.0);
    TilingSpec {
        cols: 100,
        rows: 50,
        bbox: [cx - hw, cy - hh, cx + hw, cy + hh],
        vertices_per_side: 50,
        jitter: 0.25,
        wiggle: 0.04,
    }
}

/// A jittered lattice with wiggly sides: the skeleton of a tiling. Any
/// rectangular block of cells gives a polygon, and blocks that share a side
/// share it vertex for vertex.
#[derive(Debug, Clone)]
pub struct Lattice {
    cols: usize,
    rows: usize,
    corner: Vec<Vec<Coord<f64>>>,
    /// `h[r][c]`: points strictly between `corner[r][c]` and `corner[r][c+1]`.
    h: Vec<Vec<Vec<Coord<f64>>>>,
    /// `v[r][c]`: points strictly between `corner[r][c]` and `corner[r+1][c]`.
    v: Vec<Vec<Vec<Coord<f64>>>>,
}

impl Lattice {
    /// A lattice by `spec`; the outer border is straight, so blocks cover
    /// exactly `spec.bbox`.
    pub fn new(spec: &TilingSpec, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let (cols, rows) = (spec.cols.max(1), spec.rows.max(1));
        let [x0, y0, x1, y1] = spec.bbox;
        let (cw, ch) = ((x1 - x0) / cols as f64, (y1 - y0) / rows as f64);
        let mut corner = vec![vec![Coord { x: 0.0, y: 0.0 }; cols + 1]; rows + 1];
        for (r, row) in corner.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                let mut x = x0 + c as f64 * cw;
                let mut y = y0 + r as f64 * ch;
                if c > 0 && c < cols {
                    x += rng.range(-spec.jitter, spec.jitter) * cw;
                }
                if r > 0 && r < rows {
                    y += rng.range(-spec.jitter, spec.jitter) * ch;
                }
                if c == cols {
                    x = x1;
                }
                if r == rows {
                    y = y1;
                }
                *v = Coord { x, y };
            }
        }
        let n = spec.vertices_per_side.max(1);
        // Sides wiggle smoothly (two random sine waves plus a little noise),
        // tapered to zero at both ends: each side stays a simple curve and
        // sides meeting at a corner cannot cross, so the tiling is valid.
        let mut side = |a: Coord<f64>, b: Coord<f64>, on_border: bool| -> Vec<Coord<f64>> {
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let (k1, p1) = (
                1.0 + rng.below(3) as f64,
                rng.range(0.0, std::f64::consts::TAU),
            );
            let (k2, p2) = (
                3.0 + rng.below(4) as f64,
                rng.range(0.0, std::f64::consts::TAU),
            );
            (1..n)
                .map(|k| {
                    let t = k as f64 / n as f64;
                    let wave = 0.6 * (std::f64::consts::TAU * k1 * t + p1).sin()
                        + 0.3 * (std::f64::consts::TAU * k2 * t + p2).sin()
                        + 0.1 * rng.range(-1.0, 1.0);
                    let off = if on_border {
                        0.0
                    } else {
                        spec.wiggle * (std::f64::consts::PI * t).sin() * wave
                    };
                    Coord {
                        x: a.x + t * dx - off * dy,
                        y: a.y + t * dy + off * dx,
                    }
                })
                .collect()
        };
        let h = (0..=rows)
            .map(|r| {
                (0..cols)
                    .map(|c| side(corner[r][c], corner[r][c + 1], r == 0 || r == rows))
                    .collect()
            })
            .collect();
        let v = (0..rows)
            .map(|r| {
                (0..=cols)
                    .map(|c| side(corner[r][c], corner[r + 1][c], c == 0 || c == cols))
                    .collect()
            })
            .collect();
        Lattice {
            cols,
            rows,
            corner,
            h,
            v,
        }
    }

    /// Number of cells west–east and south–north.
    pub fn size(&self) -> (usize, usize) {
        (self.cols, self.rows)
    }

    /// Lattice corner `(c, r)`.
    pub fn corner(&self, c: usize, r: usize) -> Coord<f64> {
        self.corner[r][c]
    }

    /// The line between cell rows `r - 1` and `r` (`r` in `0..=rows`),
    /// west to east, vertex for vertex as the blocks' borders have it.
    ///
    /// ```
    /// use gridgov_spatial::synthetic::{Lattice, TilingSpec};
    /// let l = Lattice::new(&TilingSpec { cols: 3, rows: 2, vertices_per_side: 4, ..TilingSpec::default() }, 1);
    /// let line = l.row_line(1);
    /// assert_eq!(line.len(), 3 * 4 + 1);
    /// assert_eq!((line[0], line[12]), (l.corner(0, 1), l.corner(3, 1)));
    /// ```
    pub fn row_line(&self, r: usize) -> Vec<Coord<f64>> {
        let mut line = Vec::new();
        for c in 0..self.cols {
            line.push(self.corner[r][c]);
            line.extend(&self.h[r][c]);
        }
        line.push(self.corner[r][self.cols]);
        line
    }

    /// The line between cell columns `c - 1` and `c` (`c` in `0..=cols`),
    /// south to north.
    ///
    /// ```
    /// use gridgov_spatial::synthetic::{Lattice, TilingSpec};
    /// let l = Lattice::new(&TilingSpec { cols: 3, rows: 2, vertices_per_side: 4, ..TilingSpec::default() }, 1);
    /// let line = l.col_line(2);
    /// assert_eq!((line[0], line[8]), (l.corner(2, 0), l.corner(2, 2)));
    /// ```
    pub fn col_line(&self, c: usize) -> Vec<Coord<f64>> {
        let mut line = Vec::new();
        for r in 0..self.rows {
            line.push(self.corner[r][c]);
            line.extend(&self.v[r][c]);
        }
        line.push(self.corner[self.rows][c]);
        line
    }

    /// The middle point of the side going north from corner `(c, r)`: a
    /// point on the border between cells `(c - 1, r)` and `(c, r)`.
    pub fn mid_vertical_side(&self, c: usize, r: usize) -> Coord<f64> {
        let pts = &self.v[r][c];
        if pts.is_empty() {
            let (a, b) = (self.corner[r][c], self.corner[r + 1][c]);
            Coord {
                x: f64::midpoint(a.x, b.x),
                y: f64::midpoint(a.y, b.y),
            }
        } else {
            pts[pts.len() / 2]
        }
    }

    /// The polygon of the block of cells `cols × rows` (half-open ranges),
    /// counter-clockwise.
    pub fn block(
        &self,
        cols: std::ops::Range<usize>,
        rows: std::ops::Range<usize>,
    ) -> MultiPolygon<f64> {
        let (c0, c1, r0, r1) = (cols.start, cols.end, rows.start, rows.end);
        let mut ring = Vec::new();
        for c in c0..c1 {
            ring.push(self.corner[r0][c]);
            ring.extend(&self.h[r0][c]);
        }
        for r in r0..r1 {
            ring.push(self.corner[r][c1]);
            ring.extend(&self.v[r][c1]);
        }
        for c in (c0..c1).rev() {
            ring.push(self.corner[r1][c + 1]);
            ring.extend(self.h[r1][c].iter().rev());
        }
        for r in (r0..r1).rev() {
            ring.push(self.corner[r + 1][c0]);
            ring.extend(self.v[r][c0].iter().rev());
        }
        ring.push(self.corner[r0][c0]);
        MultiPolygon::new(vec![Polygon::new(LineString::new(ring), vec![])])
    }
}

/// A tiling by `spec`; polygon `r * cols + c` is the cell in row `r`
/// (from the south) and column `c` (from the west). The outer border is
/// straight so the tiles cover exactly `spec.bbox`.
pub fn tiling(spec: &TilingSpec, seed: u64) -> Vec<MultiPolygon<f64>> {
    let lattice = Lattice::new(spec, seed);
    let (cols, rows) = lattice.size();
    (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (c, r)))
        .map(|(c, r)| lattice.block(c..c + 1, r..r + 1))
        .collect()
}

/// `n` points clustered the way incidents are: 70% around a few hundred
/// Gaussian hot spots, 30% uniform, all inside `bbox`.
///
/// ```
/// use gridgov_spatial::synthetic::{clustered_points, district_bbox};
/// let p = clustered_points(district_bbox(), 1000, 1);
/// assert_eq!(p.len(), 1000);
/// ```
pub fn clustered_points(bbox: [f64; 4], n: usize, seed: u64) -> Vec<[f64; 2]> {
    let mut rng = Rng::new(seed);
    let [x0, y0, x1, y1] = bbox;
    let centres: Vec<(f64, f64, f64)> = (0..300)
        .map(|_| {
            (
                rng.range(x0, x1),
                rng.range(y0, y1),
                rng.range(0.002, 0.02) * (x1 - x0),
            )
        })
        .collect();
    (0..n)
        .map(|_| {
            if rng.f64() < 0.7 {
                let &(cx, cy, s) = rng.pick(&centres);
                // Redraw strays rather than clamping them onto the border.
                loop {
                    let (x, y) = (cx + rng.normal() * s, cy + rng.normal() * s);
                    if x > x0 && x < x1 && y > y0 && y < y1 {
                        break [x, y];
                    }
                }
            } else {
                [rng.range(x0, x1), rng.range(y0, y1)]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, BooleanOps, Validation};

    #[test]
    fn synthetic_tilings_are_valid_and_cover_their_box_without_overlap() {
        for spec in [
            TilingSpec::default(),
            TilingSpec {
                cols: 20,
                rows: 10,
                ..city_spec()
            },
        ] {
            let t = tiling(&spec, 2026);
            assert!(t.iter().all(Validation::is_valid), "invalid tile");
            let [x0, y0, x1, y1] = spec.bbox;
            let total: f64 = t.iter().map(Area::unsigned_area).sum();
            let bbox = (x1 - x0) * (y1 - y0);
            assert!((total - bbox).abs() / bbox < 1e-9, "{total} vs {bbox}");
            let union = geo::unary_union(t.iter());
            assert!(
                (union.unsigned_area() - bbox).abs() / bbox < 1e-6,
                "union {}",
                union.unsigned_area()
            );
            let _ = union.intersection(&t[0]);
        }
    }
}
