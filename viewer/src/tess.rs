//! Tessellation on the CPU: polygons with holes into triangles (earcut),
//! and polylines into strokes of a real width with mitred joins (bevelled
//! where a mitre would be too long).

use geo::{Coord, LineString, Polygon, TriangulateEarcut};

/// A triangle mesh: positions in scene metres, one colour per vertex.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mesh {
    /// Vertices.
    pub vertices: Vec<Vertex>,
    /// Triangles, three indices each.
    pub indices: Vec<u32>,
}

/// One vertex: a position in scene metres and a straight RGBA colour.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Vertex {
    /// x east, y north, metres from the scene's centre.
    pub pos: [f32; 2],
    /// Straight (not premultiplied) RGBA.
    pub colour: [u8; 4],
}

impl Mesh {
    /// The number of triangles.
    pub fn triangles(&self) -> usize {
        self.indices.len() / 3
    }

    /// The summed area of the triangles (square metres).
    ///
    /// ```
    /// use gridgov_viewer::tess::Mesh;
    /// let mut m = Mesh::default();
    /// m.fill(&[vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]], [0, 0, 0, 255]);
    /// assert!((m.area() - 4.0).abs() < 1e-6);
    /// ```
    pub fn area(&self) -> f64 {
        self.indices
            .chunks_exact(3)
            .map(|t| {
                let [a, b, c] = [0, 1, 2].map(|k| self.vertices[t[k] as usize].pos);
                let cross = (f64::from(b[0]) - f64::from(a[0]))
                    * (f64::from(c[1]) - f64::from(a[1]))
                    - (f64::from(c[0]) - f64::from(a[0])) * (f64::from(b[1]) - f64::from(a[1]));
                cross.abs() / 2.0
            })
            .sum()
    }

    /// Adds a polygon given as rings (exterior first, holes after; closing
    /// point optional), triangulated by earcut.
    ///
    /// ```
    /// use gridgov_viewer::tess::Mesh;
    /// let mut m = Mesh::default();
    /// let outer = vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
    /// let hole = vec![[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0]];
    /// m.fill(&[outer, hole], [255, 0, 0, 255]);
    /// assert!((m.area() - 96.0).abs() < 1e-3);
    /// ```
    pub fn fill(&mut self, rings: &[Vec<[f32; 2]>], colour: [u8; 4]) {
        let Some((outer, holes)) = rings.split_first() else {
            return;
        };
        let ls = |r: &Vec<[f32; 2]>| {
            LineString::from(
                r.iter()
                    .map(|p| Coord {
                        x: f64::from(p[0]),
                        y: f64::from(p[1]),
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let poly = Polygon::new(ls(outer), holes.iter().map(ls).collect());
        let raw = poly.earcut_triangles_raw();
        let base = self.vertices.len() as u32;
        for xy in &raw.vertices {
            self.vertices.push(Vertex {
                pos: [xy[0] as f32, xy[1] as f32],
                colour,
            });
        }
        self.indices
            .extend(raw.triangle_indices.iter().map(|&i| base + i as u32));
    }

    /// Adds a stroke `width` metres wide along `line`, closed back to its
    /// start when `closed`. Joins are mitred up to 4 widths, bevelled
    /// beyond; ends are butt.
    ///
    /// ```
    /// use gridgov_viewer::tess::Mesh;
    /// let mut m = Mesh::default();
    /// m.stroke(&[[0.0, 0.0], [10.0, 0.0]], 2.0, false, [0, 0, 0, 255]);
    /// assert!((m.area() - 20.0).abs() < 1e-4);
    /// ```
    pub fn stroke(&mut self, line: &[[f32; 2]], width: f32, closed: bool, colour: [u8; 4]) {
        let mut pts: Vec<[f32; 2]> = Vec::with_capacity(line.len());
        for p in line {
            if pts.last().is_none_or(|q: &[f32; 2]| dist(*q, *p) > 1e-4) {
                pts.push(*p);
            }
        }
        if closed && pts.len() > 2 && dist(pts[0], pts[pts.len() - 1]) <= 1e-4 {
            pts.pop();
        }
        let n = pts.len();
        if n < 2 {
            return;
        }
        let hw = width / 2.0;
        let segs = if closed { n } else { n - 1 };
        let normal = |i: usize| {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            let d = dist(a, b);
            [-(b[1] - a[1]) / d, (b[0] - a[0]) / d]
        };
        // Each segment as its own quad, then a join triangle pair at each
        // inner vertex: simple, watertight, correct for any turn.
        for i in 0..segs {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            let nm = normal(i);
            let off = [nm[0] * hw, nm[1] * hw];
            self.quad(
                [a[0] + off[0], a[1] + off[1]],
                [b[0] + off[0], b[1] + off[1]],
                [b[0] - off[0], b[1] - off[1]],
                [a[0] - off[0], a[1] - off[1]],
                colour,
            );
        }
        let joins: Vec<usize> = if closed {
            (0..n).collect()
        } else {
            (1..n - 1).collect()
        };
        for j in joins {
            let prev = (j + segs - 1) % segs;
            let (n0, n1) = (normal(prev), normal(j % segs));
            let turn = n0[0] * n1[1] - n0[1] * n1[0];
            if turn.abs() < 1e-6 && n0[0] * n1[0] + n0[1] * n1[1] > 0.0 {
                continue; // straight on
            }
            // The outer side of the turn is where the two quads leave a gap.
            let s = if turn > 0.0 { -1.0 } else { 1.0 };
            let p = pts[j];
            let a = [p[0] + s * n0[0] * hw, p[1] + s * n0[1] * hw];
            let b = [p[0] + s * n1[0] * hw, p[1] + s * n1[1] * hw];
            let m = [n0[0] + n1[0], n0[1] + n1[1]];
            let ml = (m[0] * m[0] + m[1] * m[1]).sqrt();
            let cos_half = ml / 2.0;
            if ml > 1e-6 && hw / cos_half <= 4.0 * width {
                let k = hw / cos_half / ml;
                let tip = [p[0] + s * m[0] * k, p[1] + s * m[1] * k];
                self.tri(p, a, tip, colour);
                self.tri(p, tip, b, colour);
            } else {
                self.tri(p, a, b, colour);
            }
        }
    }

    fn quad(&mut self, a: [f32; 2], b: [f32; 2], c: [f32; 2], d: [f32; 2], colour: [u8; 4]) {
        let base = self.vertices.len() as u32;
        for pos in [a, b, c, d] {
            self.vertices.push(Vertex { pos, colour });
        }
        self.indices
            .extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
    }

    fn tri(&mut self, a: [f32; 2], b: [f32; 2], c: [f32; 2], colour: [u8; 4]) {
        let base = self.vertices.len() as u32;
        for pos in [a, b, c] {
            self.vertices.push(Vertex { pos, colour });
        }
        self.indices.extend_from_slice(&[base, base + 1, base + 2]);
    }

    /// A filled circular sector: apex `at`, radius `r`, centred on
    /// `heading_deg` (clockwise from north), `fov_deg` wide.
    ///
    /// ```
    /// use gridgov_viewer::tess::Mesh;
    /// let mut m = Mesh::default();
    /// m.sector([0.0, 0.0], 10.0, 0.0, 360.0, [0, 0, 0, 255]);
    /// assert!((m.area() - std::f64::consts::PI * 100.0).abs() < 1.0);
    /// ```
    pub fn sector(
        &mut self,
        at: [f32; 2],
        r: f32,
        heading_deg: f32,
        fov_deg: f32,
        colour: [u8; 4],
    ) {
        let steps = (fov_deg / 5.0).ceil().max(2.0) as usize;
        let start = heading_deg - fov_deg / 2.0;
        let base = self.vertices.len() as u32;
        self.vertices.push(Vertex { pos: at, colour });
        for k in 0..=steps {
            let a = (start + fov_deg * k as f32 / steps as f32).to_radians();
            self.vertices.push(Vertex {
                pos: [at[0] + r * a.sin(), at[1] + r * a.cos()],
                colour,
            });
        }
        for k in 0..steps as u32 {
            self.indices
                .extend_from_slice(&[base, base + 1 + k, base + 2 + k]);
        }
    }
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_right_angle_stroke_covers_its_corner_without_overlap_gaps() {
        let mut m = Mesh::default();
        m.stroke(&[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]], 2.0, false, [0; 4]);
        // Two 10×2 quads plus the mitred corner square of 1×1 (the inner
        // 1×1 where the quads overlap counts twice in the sum).
        assert!((m.area() - 41.0).abs() < 1e-3, "{}", m.area());
    }

    #[test]
    fn a_very_sharp_turn_is_bevelled_not_spiked() {
        let mut m = Mesh::default();
        m.stroke(&[[0.0, 0.0], [10.0, 0.0], [0.0, 0.1]], 1.0, false, [0; 4]);
        let far = m.vertices.iter().map(|v| v.pos[0]).fold(f32::MIN, f32::max);
        assert!(far < 11.0, "a mitre spike reaches x = {far}");
    }

    #[test]
    fn a_closed_square_ring_has_four_mitred_corners() {
        let mut m = Mesh::default();
        let sq = [
            [0.0, 0.0],
            [10.0, 0.0],
            [10.0, 10.0],
            [0.0, 10.0],
            [0.0, 0.0],
        ];
        m.stroke(&sq, 2.0, true, [0; 4]);
        // Four 10×2 quads and four 1×1 mitres; the quads overlap by 1×1
        // inside each corner, so the band covered is 12² − 8² = 80.
        assert!((m.area() - 84.0).abs() < 1e-3, "{}", m.area());
    }
}
