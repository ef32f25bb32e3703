//! A cell index for exact point → polygon assignment at tens of millions of
//! points per second.
//!
//! The bounding box of all polygons is cut into a regular lattice of cells.
//! A cell that no polygon edge touches is *uniform*: every point in it has
//! the same answer, stored in the cell, so a lookup is two multiplications
//! and one memory read. A cell some edges touch is *mixed*: it stores those
//! edges and the exact containment state of a reference point, its
//! south-east corner `r`. A point `p` in the cell is answered by counting
//! the edges crossed by the path `p → (r.x, p.y) → r` (east, then south),
//! which flips the state of the polygon owning each crossed edge.
//!
//! Every test uses exact orientation predicates and the boundary rule of
//! [`crate::pip`] (points are moved by `(ε, ε²)`), so the index answers
//! *exactly* what the brute-force crossing test answers, for every finite
//! point, on borders and vertices too. Cell boxes are widened by a small
//! margin so rounding in the cell computation can never put a point outside
//! the box its cell was built for.
//!
//! When several polygons contain a point (overlapping data, or exclusive
//! grids over basic ones) the one with the **lowest polygon id** wins:
//! callers number polygons in order of precedence.
//!
//! ```
//! use gridgov_spatial::CellIndex;
//! use geo::{polygon, MultiPolygon};
//! let a = MultiPolygon::new(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)]]);
//! let b = MultiPolygon::new(vec![polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0)]]);
//! let idx = CellIndex::build(&[a, b]);
//! assert_eq!(idx.locate(0.5, 0.5), Some(0));
//! assert_eq!(idx.locate(1.0, 0.5), Some(1)); // on the border: the polygon to the east
//! assert_eq!(idx.locate(5.0, 5.0), None);
//! ```

use geo::{BoundingRect, MultiPolygon};

use crate::pip::{contains_multi, crosses_east_ray, edges, orient};

const EMPTY: u32 = u32::MAX;
const MIXED: u32 = 1 << 31;
/// Mixed cells with more distinct polygons than this fall back to full tests.
const MAX_SLOTS: usize = 64;

const FLAG_BEYOND_X: u8 = 1;
const FLAG_VERTICAL: u8 = 2;

#[derive(Debug, Clone, Copy)]
struct LocalEdge {
    ax: f64,
    ay: f64,
    bx: f64,
    by: f64,
    slot: u8,
    flags: u8,
}

#[derive(Debug, Clone, Copy)]
struct Mixed {
    /// Right edge of the widened cell box: the reference point's x.
    x_ref: f64,
    edge_start: u32,
    edge_len: u32,
    slot_start: u32,
    slot_len: u32,
    /// Which slots contain the reference point.
    base: u64,
}

/// Exact point-in-polygon lookups over a fixed set of polygons.
#[derive(Debug, Clone)]
pub struct CellIndex {
    x0: f64,
    y0: f64,
    inv_cw: f64,
    inv_ch: f64,
    nx: usize,
    ny: usize,
    cells: Vec<u32>,
    mixed: Vec<Mixed>,
    edges: Vec<LocalEdge>,
    slots: Vec<u32>,
    /// Polygons, for mixed cells with too many polygons to track in a mask.
    polygons: Vec<MultiPolygon<f64>>,
}

/// Statistics about an index, for tuning and reports.
///
/// ```
/// use gridgov_spatial::CellIndex;
/// let idx = CellIndex::build(&[]);
/// assert_eq!(idx.stats().cells, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellIndexStats {
    /// Number of cells in the lattice.
    pub cells: usize,
    /// Cells that need edge tests.
    pub mixed_cells: usize,
    /// Edges stored across all mixed cells (an edge may be in several).
    pub stored_edges: usize,
    /// Approximate heap size in bytes.
    pub bytes: usize,
}

impl CellIndex {
    /// Builds the index; polygon `i` is answered as `i`, and lower ids win
    /// where polygons overlap. Chooses about 16 cells per polygon edge, at most 4 M cells.
    pub fn build(polygons: &[MultiPolygon<f64>]) -> Self {
        let n_edges: usize = polygons.iter().map(|p| edges(p).count()).sum();
        Self::build_with_cells(polygons, (n_edges * 16).clamp(1024, 1 << 22))
    }

    /// Builds the index with about `target_cells` cells.
    pub fn build_with_cells(polygons: &[MultiPolygon<f64>], target_cells: usize) -> Self {
        let bbox = polygons
            .iter()
            .filter_map(BoundingRect::bounding_rect)
            .filter(|r| r.min().x.is_finite() && r.max().x.is_finite())
            .reduce(|a, b| {
                geo::Rect::new(
                    (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                    (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
                )
            });
        let Some(bbox) = bbox else {
            return CellIndex {
                x0: 0.0,
                y0: 0.0,
                inv_cw: 1.0,
                inv_ch: 1.0,
                nx: 0,
                ny: 0,
                cells: Vec::new(),
                mixed: Vec::new(),
                edges: Vec::new(),
                slots: Vec::new(),
                polygons: polygons.to_vec(),
            };
        };
        // Pad the box so every polygon lies strictly inside.
        let w = (bbox.width()).max(1e-9);
        let h = (bbox.height()).max(1e-9);
        let x0 = bbox.min().x - w * 1e-6;
        let y0 = bbox.min().y - h * 1e-6;
        let (w, h) = (w * (1.0 + 2e-6), h * (1.0 + 2e-6));
        let aspect = w / h;
        let t = target_cells.max(1) as f64;
        let nx = ((t * aspect).sqrt().ceil() as usize).clamp(1, 1 << 14);
        let ny = ((t / aspect).sqrt().ceil() as usize).clamp(1, 1 << 14);
        let cw = w / nx as f64;
        let ch = h / ny as f64;
        Builder {
            polygons,
            x0,
            y0,
            cw,
            ch,
            nx,
            ny,
        }
        .build()
    }

    /// The polygon containing `(x, y)` under the boundary rule, the lowest
    /// id where several do; `None` outside all of them (or for NaN).
    #[inline]
    pub fn locate(&self, x: f64, y: f64) -> Option<u32> {
        let fx = (x - self.x0) * self.inv_cw;
        let fy = (y - self.y0) * self.inv_ch;
        if !(fx >= 0.0 && fy >= 0.0 && fx < self.nx as f64 && fy < self.ny as f64) {
            return None;
        }
        let cell = fy as usize * self.nx + fx as usize;
        let tag = self.cells[cell];
        if tag & MIXED == 0 {
            return Some(tag);
        }
        if tag == EMPTY {
            return None;
        }
        self.locate_mixed(&self.mixed[(tag & !MIXED) as usize], x, y)
    }

    #[inline]
    fn locate_mixed(&self, m: &Mixed, px: f64, py: f64) -> Option<u32> {
        let slots = &self.slots[m.slot_start as usize..(m.slot_start + m.slot_len) as usize];
        if m.slot_len as usize > MAX_SLOTS {
            return slots
                .iter()
                .copied()
                .find(|&s| contains_multi(&self.polygons[s as usize], px, py));
        }
        let mut mask = m.base;
        let xr = m.x_ref;
        let edges = &self.edges[m.edge_start as usize..(m.edge_start + m.edge_len) as usize];
        for e in edges {
            let (a, b) = ((e.ax, e.ay), (e.bx, e.by));
            // Leg 1: east from p to (xr, py).
            let a_above = e.ay > py;
            let b_above = e.by > py;
            if a_above != b_above && !(e.ax <= px && e.bx <= px) {
                let left_ok = (e.ax > px && e.bx > px) || {
                    let o = orient(a, b, (px, py));
                    if b_above { o > 0.0 } else { o < 0.0 }
                };
                if left_ok {
                    let right_ok = e.flags & FLAG_BEYOND_X == 0 || {
                        let o = orient(a, b, (xr, py));
                        if b_above { o <= 0.0 } else { o >= 0.0 }
                    };
                    if right_ok {
                        mask ^= 1u64 << e.slot;
                    }
                }
            }
            // Leg 2: south along x = xr from py down to the reference point.
            if e.flags & FLAG_VERTICAL != 0 {
                let (l, r) = if e.ax <= e.bx { (a, b) } else { (b, a) };
                let o = orient(l, r, (xr, py));
                if o > 0.0 || (o == 0.0 && r.1 <= l.1) {
                    mask ^= 1u64 << e.slot;
                }
            }
        }
        if mask == 0 {
            None
        } else {
            Some(slots[mask.trailing_zeros() as usize])
        }
    }

    /// Locates many points, using up to `threads` threads; `out[i]` is the
    /// polygon of `points[i]` or `u32::MAX` when none.
    ///
    /// ```
    /// use gridgov_spatial::CellIndex;
    /// use geo::{polygon, MultiPolygon};
    /// let a = MultiPolygon::new(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)]]);
    /// let idx = CellIndex::build(&[a]);
    /// let mut out = vec![0; 2];
    /// idx.locate_many(&[[0.9, 0.1], [0.1, 0.9]], &mut out, 2);
    /// assert_eq!(out, vec![0, u32::MAX]);
    /// ```
    pub fn locate_many(&self, points: &[[f64; 2]], out: &mut [u32], threads: usize) {
        assert_eq!(points.len(), out.len(), "one output slot per point");
        let threads = threads.max(1);
        if threads == 1 || points.len() < 4096 {
            for (p, o) in points.iter().zip(out.iter_mut()) {
                *o = self.locate(p[0], p[1]).unwrap_or(u32::MAX);
            }
            return;
        }
        let chunk = points.len().div_ceil(threads);
        std::thread::scope(|s| {
            for (pc, oc) in points.chunks(chunk).zip(out.chunks_mut(chunk)) {
                s.spawn(move || {
                    for (p, o) in pc.iter().zip(oc.iter_mut()) {
                        *o = self.locate(p[0], p[1]).unwrap_or(u32::MAX);
                    }
                });
            }
        });
    }

    /// When every cell under the box `[xmin, xmax] × [ymin, ymax]` is
    /// uniform with one answer, that answer (`Some(None)` for "outside
    /// everything"); `None` when the box meets a border or leaves the index.
    ///
    /// ```
    /// use gridgov_spatial::CellIndex;
    /// use geo::{polygon, MultiPolygon};
    /// let a = MultiPolygon::new(vec![polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)]]);
    /// let idx = CellIndex::build_with_cells(&[a], 100);
    /// assert_eq!(idx.uniform_over(4.0, 4.0, 6.0, 6.0), Some(Some(0)));
    /// assert_eq!(idx.uniform_over(-1.0, 4.0, 6.0, 6.0), None);
    /// ```
    pub fn uniform_over(&self, xmin: f64, ymin: f64, xmax: f64, ymax: f64) -> Option<Option<u32>> {
        let fx0 = (xmin - self.x0) * self.inv_cw;
        let fy0 = (ymin - self.y0) * self.inv_ch;
        let fx1 = (xmax - self.x0) * self.inv_cw;
        let fy1 = (ymax - self.y0) * self.inv_ch;
        let (nx, ny) = (self.nx as f64, self.ny as f64);
        if !(fx0 >= 0.0 && fy0 >= 0.0 && fx1 < nx && fy1 < ny && fx0 <= fx1 && fy0 <= fy1) {
            return None;
        }
        // Widen by one cell: rounding may put a box edge in the neighbour.
        let (i0, i1) = (
            (fx0 as usize).saturating_sub(1),
            (fx1 as usize + 1).min(self.nx - 1),
        );
        let (j0, j1) = (
            (fy0 as usize).saturating_sub(1),
            (fy1 as usize + 1).min(self.ny - 1),
        );
        let first = self.cells[j0 * self.nx + i0];
        for j in j0..=j1 {
            for &t in &self.cells[j * self.nx + i0..=j * self.nx + i1] {
                if t != first || (t & MIXED != 0 && t != EMPTY) {
                    return None;
                }
            }
        }
        Some((first != EMPTY).then_some(first))
    }

    /// Sizes, for tuning.
    pub fn stats(&self) -> CellIndexStats {
        CellIndexStats {
            cells: self.cells.len(),
            mixed_cells: self.mixed.len(),
            stored_edges: self.edges.len(),
            bytes: self.cells.len() * 4
                + self.mixed.len() * std::mem::size_of::<Mixed>()
                + self.edges.len() * std::mem::size_of::<LocalEdge>()
                + self.slots.len() * 4,
        }
    }
}

struct Builder<'a> {
    polygons: &'a [MultiPolygon<f64>],
    x0: f64,
    y0: f64,
    cw: f64,
    ch: f64,
    nx: usize,
    ny: usize,
}

struct FlatEdge {
    a: (f64, f64),
    b: (f64, f64),
    poly: u32,
}

impl Builder<'_> {
    fn margin_x(&self) -> f64 {
        self.cw * 1e-3
    }
    fn margin_y(&self) -> f64 {
        self.ch * 1e-3
    }
    /// Widened box of cell (i, j): (xmin, ymin, xmax, ymax).
    fn cell_box(&self, i: usize, j: usize) -> (f64, f64, f64, f64) {
        let (mx, my) = (self.margin_x(), self.margin_y());
        (
            self.x0 + i as f64 * self.cw - mx,
            self.y0 + j as f64 * self.ch - my,
            self.x0 + (i + 1) as f64 * self.cw + mx,
            self.y0 + (j + 1) as f64 * self.ch + my,
        )
    }

    fn build(self) -> CellIndex {
        let flat: Vec<FlatEdge> = self
            .polygons
            .iter()
            .enumerate()
            .flat_map(|(pi, mp)| {
                edges(mp).map(move |(a, b)| FlatEdge {
                    a: (a.x, a.y),
                    b: (b.x, b.y),
                    poly: pi as u32,
                })
            })
            .filter(|e| {
                e.a.0.is_finite() && e.a.1.is_finite() && e.b.0.is_finite() && e.b.1.is_finite()
            })
            .collect();

        // 1. Which edges touch which widened cell boxes: (cell, edge) pairs.
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (ei, e) in flat.iter().enumerate() {
            let (xmin, xmax) = (e.a.0.min(e.b.0), e.a.0.max(e.b.0));
            let (ymin, ymax) = (e.a.1.min(e.b.1), e.a.1.max(e.b.1));
            // Candidate range widened by twice the margin; the exact touch
            // test below decides.
            let i0 = self.col_floor(xmin - 2.0 * self.margin_x());
            let i1 = self.col_floor(xmax + 2.0 * self.margin_x());
            let j0 = self.row_floor(ymin - 2.0 * self.margin_y());
            let j1 = self.row_floor(ymax + 2.0 * self.margin_y());
            for j in j0..=j1 {
                for i in i0..=i1 {
                    let bx = self.cell_box(i, j);
                    if segment_touches_box(e.a, e.b, bx) {
                        pairs.push(((j * self.nx + i) as u32, ei as u32));
                    }
                }
            }
        }
        pairs.sort_unstable();

        // 2. Reference states: row by row, the polygons containing each
        //    cell's reference point (its widened south-east corner).
        let mut row_edges: Vec<Vec<u32>> = vec![Vec::new(); self.ny];
        for (ei, e) in flat.iter().enumerate() {
            let (ymin, ymax) = (e.a.1.min(e.b.1), e.a.1.max(e.b.1));
            let j0 = self.row_floor(ymin - self.margin_y());
            let j1 = self.row_floor(ymax + self.margin_y());
            for (j, row) in row_edges.iter_mut().enumerate().take(j1 + 1).skip(j0) {
                let yr = self.cell_box(0, j).1;
                if (e.a.1 > yr) != (e.b.1 > yr) {
                    row.push(ei as u32);
                }
            }
        }

        // Offsets of each cell's run in `pairs`.
        let ncells = self.nx * self.ny;
        let mut cell_start = vec![0u32; ncells + 1];
        for &(c, _) in &pairs {
            cell_start[c as usize + 1] += 1;
        }
        for c in 0..ncells {
            cell_start[c + 1] += cell_start[c];
        }

        let mut cells = vec![EMPTY; ncells];
        let mut mixed = Vec::new();
        let mut local = Vec::new();
        let mut slots = Vec::new();
        let mut toggles_at: Vec<Vec<u32>> = vec![Vec::new(); self.nx + 1];
        for (j, row) in row_edges.iter().enumerate() {
            let yr = self.cell_box(0, j).1;
            // For each edge straddling the reference line, k = the number of
            // cells (from the west) whose reference point sees it east.
            for t in &mut toggles_at {
                t.clear();
            }
            for &ei in row {
                let e = &flat[ei as usize];
                toggles_at[self.crossing_cell_count(e, yr)].push(e.poly);
            }
            // Sweep east → west: `active` = polygons containing the
            // reference point of cell i (odd number of crossings east of it).
            let mut active: Vec<u32> = Vec::new();
            for i in (0..self.nx).rev() {
                for &p in &toggles_at[i + 1] {
                    toggle(&mut active, p);
                }
                let cell = j * self.nx + i;
                let run = &pairs[cell_start[cell] as usize..cell_start[cell + 1] as usize];
                if run.is_empty() {
                    cells[cell] = active.first().copied().unwrap_or(EMPTY);
                    continue;
                }
                let (_, _, xr, _) = self.cell_box(i, j);
                let mut cell_slots: Vec<u32> = active.clone();
                cell_slots.extend(run.iter().map(|&(_, ei)| flat[ei as usize].poly));
                cell_slots.sort_unstable();
                cell_slots.dedup();
                let mut base = 0u64;
                if cell_slots.len() <= MAX_SLOTS {
                    for p in &active {
                        if let Ok(s) = cell_slots.binary_search(p) {
                            base |= 1 << s;
                        }
                    }
                }
                let edge_start = local.len() as u32;
                for &(_, ei) in run {
                    let e = &flat[ei as usize];
                    let slot = cell_slots
                        .binary_search(&e.poly)
                        .unwrap_or(0)
                        .min(MAX_SLOTS - 1);
                    local.push(LocalEdge {
                        ax: e.a.0,
                        ay: e.a.1,
                        bx: e.b.0,
                        by: e.b.1,
                        slot: slot as u8,
                        flags: edge_flags(e.a, e.b, xr, yr),
                    });
                }
                cells[cell] = MIXED | mixed.len() as u32;
                mixed.push(Mixed {
                    x_ref: xr,
                    edge_start,
                    edge_len: run.len() as u32,
                    slot_start: slots.len() as u32,
                    slot_len: cell_slots.len() as u32,
                    base,
                });
                slots.extend_from_slice(&cell_slots);
            }
        }
        CellIndex {
            x0: self.x0,
            y0: self.y0,
            inv_cw: 1.0 / self.cw,
            inv_ch: 1.0 / self.ch,
            nx: self.nx,
            ny: self.ny,
            cells,
            mixed,
            edges: local,
            slots,
            polygons: self.polygons.to_vec(),
        }
    }

    fn col_floor(&self, x: f64) -> usize {
        (((x - self.x0) / self.cw).floor().max(0.0) as usize).min(self.nx - 1)
    }
    fn row_floor(&self, y: f64) -> usize {
        (((y - self.y0) / self.ch).floor().max(0.0) as usize).min(self.ny - 1)
    }

    /// Number of cells `i` in a row whose reference point `(x_ref(i), yr)`
    /// has the edge's crossing strictly to its east (the edge counts for
    /// that point's ray). Monotone in `i`, found by an estimate and exact
    /// correction.
    fn crossing_cell_count(&self, e: &FlatEdge, yr: f64) -> usize {
        let xref = |i: usize| self.cell_box(i, 0).2;
        let counts = |i: usize| crosses_east_ray(e.a, e.b, xref(i), yr);
        // Estimate the crossing x.
        let t = (yr - e.a.1) / (e.b.1 - e.a.1);
        let xi = e.a.0 + t * (e.b.0 - e.a.0);
        let mut k = (((xi - self.x0) / self.cw).floor().max(0.0) as usize).min(self.nx);
        while k > 0 && !counts(k - 1) {
            k -= 1;
        }
        while k < self.nx && counts(k) {
            k += 1;
        }
        k
    }
}

/// Flips membership of `p` in a small sorted set.
fn toggle(set: &mut Vec<u32>, p: u32) {
    match set.binary_search(&p) {
        Ok(i) => {
            set.remove(i);
        }
        Err(i) => set.insert(i, p),
    }
}

/// Flags of a local edge for a cell whose reference point is `(xr, yr)`.
fn edge_flags(a: (f64, f64), b: (f64, f64), xr: f64, yr: f64) -> u8 {
    let mut flags = 0;
    if a.0.max(b.0) > xr {
        flags |= FLAG_BEYOND_X;
    }
    // Crosses the line x = xr + ε at a height above yr + ε²?
    if (a.0 > xr) != (b.0 > xr) {
        let (l, r) = if a.0 <= b.0 { (a, b) } else { (b, a) };
        let o = orient(l, r, (xr, yr));
        if o < 0.0 || (o == 0.0 && r.1 > l.1) {
            flags |= FLAG_VERTICAL;
        }
    }
    flags
}

/// Does the closed segment `a–b` touch the closed box? Exact: bounding boxes
/// overlap and the box's corners are not all strictly on one side.
fn segment_touches_box(a: (f64, f64), b: (f64, f64), bx: (f64, f64, f64, f64)) -> bool {
    let (xmin, ymin, xmax, ymax) = bx;
    if a.0.max(b.0) < xmin || a.0.min(b.0) > xmax || a.1.max(b.1) < ymin || a.1.min(b.1) > ymax {
        return false;
    }
    let s = [
        orient(a, b, (xmin, ymin)),
        orient(a, b, (xmax, ymin)),
        orient(a, b, (xmax, ymax)),
        orient(a, b, (xmin, ymax)),
    ];
    !(s.iter().all(|&o| o > 0.0) || s.iter().all(|&o| o < 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;
    use crate::synthetic::{TilingSpec, tiling};
    use geo::{Coord, LineString, Polygon};

    fn brute(polys: &[MultiPolygon<f64>], x: f64, y: f64) -> Option<u32> {
        polys
            .iter()
            .position(|p| contains_multi(p, x, y))
            .map(|i| i as u32)
    }

    /// Random points, every vertex, points along edges and on cell lines.
    fn probe_points(polys: &[MultiPolygon<f64>], bbox: [f64; 4], seed: u64) -> Vec<(f64, f64)> {
        let mut rng = Rng::new(seed);
        let [x0, y0, x1, y1] = bbox;
        let (w, h) = (x1 - x0, y1 - y0);
        let mut pts: Vec<(f64, f64)> = (0..20_000)
            .map(|_| {
                (
                    rng.range(x0 - 0.05 * w, x1 + 0.05 * w),
                    rng.range(y0 - 0.05 * h, y1 + 0.05 * h),
                )
            })
            .collect();
        for (a, b) in polys.iter().flat_map(edges) {
            pts.push((a.x, a.y));
            pts.push((f64::midpoint(a.x, b.x), f64::midpoint(a.y, b.y)));
            pts.push((a.x, f64::midpoint(a.y, b.y)));
            pts.push((f64::midpoint(a.x, b.x), a.y));
        }
        pts
    }

    fn assert_agrees(polys: &[MultiPolygon<f64>], bbox: [f64; 4], seed: u64, target_cells: usize) {
        let idx = CellIndex::build_with_cells(polys, target_cells);
        for (x, y) in probe_points(polys, bbox, seed) {
            assert_eq!(
                idx.locate(x, y),
                brute(polys, x, y),
                "at ({x}, {y}) with {target_cells} cells"
            );
        }
    }

    #[test]
    fn the_index_agrees_with_brute_force_on_random_tilings() {
        for seed in 0..6 {
            let spec = TilingSpec {
                cols: 5,
                rows: 4,
                bbox: [0.0, 0.0, 10.0, 8.0],
                vertices_per_side: 6,
                ..TilingSpec::default()
            };
            let polys = tiling(&spec, seed);
            for cells in [16, 400, 5000] {
                assert_agrees(&polys, spec.bbox, seed, cells);
            }
        }
    }

    #[test]
    fn the_index_agrees_with_brute_force_on_an_axis_aligned_lattice_with_points_on_every_border() {
        let spec = TilingSpec {
            cols: 6,
            rows: 5,
            bbox: [0.0, 0.0, 6.0, 5.0],
            vertices_per_side: 4,
            jitter: 0.0,
            wiggle: 0.0,
        };
        let polys = tiling(&spec, 1);
        // Cell lines of the index fall on the lattice lines with 6×5 cells.
        for cells in [30, 120, 7] {
            assert_agrees(&polys, spec.bbox, 3, cells);
        }
        let idx = CellIndex::build_with_cells(&polys, 30);
        let mut y = 0.0;
        while y <= 5.0 {
            let mut x = 0.0;
            while x <= 6.0 {
                assert_eq!(idx.locate(x, y), brute(&polys, x, y), "({x},{y})");
                x += 0.125;
            }
            y += 0.125;
        }
    }

    #[test]
    fn every_point_of_a_tiling_gets_exactly_one_polygon() {
        let spec = TilingSpec {
            cols: 4,
            rows: 4,
            bbox: [0.0, 0.0, 4.0, 4.0],
            vertices_per_side: 5,
            ..TilingSpec::default()
        };
        let polys = tiling(&spec, 9);
        for (x, y) in probe_points(&polys, spec.bbox, 4) {
            let inside_box = (0.0..4.0).contains(&x) && (0.0..4.0).contains(&y);
            let n = polys.iter().filter(|p| contains_multi(p, x, y)).count();
            if inside_box {
                assert_eq!(n, 1, "({x},{y})");
            }
        }
    }

    #[test]
    fn lower_ids_win_where_polygons_overlap_and_holes_are_respected() {
        let sq = |x0: f64, y0: f64, x1: f64, y1: f64| {
            LineString::new(vec![
                Coord { x: x0, y: y0 },
                Coord { x: x1, y: y0 },
                Coord { x: x1, y: y1 },
                Coord { x: x0, y: y1 },
                Coord { x: x0, y: y0 },
            ])
        };
        let exclusive = MultiPolygon::new(vec![Polygon::new(sq(2.0, 2.0, 4.0, 4.0), vec![])]);
        let ring = MultiPolygon::new(vec![Polygon::new(
            sq(0.0, 0.0, 10.0, 10.0),
            vec![sq(6.0, 6.0, 8.0, 8.0)],
        )]);
        let polys = vec![exclusive, ring];
        assert_agrees(&polys, [0.0, 0.0, 10.0, 10.0], 5, 50);
        let idx = CellIndex::build(&polys);
        assert_eq!(idx.locate(3.0, 3.0), Some(0));
        assert_eq!(idx.locate(1.0, 1.0), Some(1));
        assert_eq!(idx.locate(7.0, 7.0), None);
    }

    #[test]
    fn many_polygons_meeting_in_one_cell_fall_back_to_full_tests() {
        // 80 thin wedges around one point: more than 64 in the centre cell.
        let n = 80;
        let polys: Vec<MultiPolygon<f64>> = (0..n)
            .map(|k| {
                let a0 = k as f64 / n as f64 * std::f64::consts::TAU;
                let a1 = (k + 1) as f64 / n as f64 * std::f64::consts::TAU;
                let ring = LineString::new(vec![
                    Coord { x: 0.0, y: 0.0 },
                    Coord {
                        x: 10.0 * a0.cos(),
                        y: 10.0 * a0.sin(),
                    },
                    Coord {
                        x: 10.0 * a1.cos(),
                        y: 10.0 * a1.sin(),
                    },
                    Coord { x: 0.0, y: 0.0 },
                ]);
                MultiPolygon::new(vec![Polygon::new(ring, vec![])])
            })
            .collect();
        assert_agrees(&polys, [-10.0, -10.0, 10.0, 10.0], 8, 16);
    }

    #[test]
    fn edges_through_the_reference_corners_of_cells_are_counted_exactly() {
        // A known lattice, and polygons whose vertices sit exactly on cell
        // reference corners (and whose edges pass through them).
        let (nx, ny) = (8, 8);
        let b = Builder {
            polygons: &[],
            x0: 0.0,
            y0: 0.0,
            cw: 1.0,
            ch: 1.0,
            nx,
            ny,
        };
        let corner = |i: usize, j: usize| {
            let (_, y, x, _) = b.cell_box(i, j);
            Coord { x, y }
        };
        let mut rng = Rng::new(11);
        for _ in 0..40 {
            let pts: Vec<Coord<f64>> = (0..5)
                .map(|_| corner(rng.below(7) as usize, 1 + rng.below(7) as usize))
                .collect();
            let mut ring = pts.clone();
            ring.push(pts[0]);
            // Frame the lattice so the index keeps exactly this geometry.
            let frame = LineString::new(vec![
                Coord { x: 0.0, y: 0.0 },
                Coord { x: 8.0, y: 0.0 },
                Coord { x: 8.0, y: 8.0 },
                Coord { x: 0.0, y: 8.0 },
                Coord { x: 0.0, y: 0.0 },
            ]);
            let polys = vec![
                MultiPolygon::new(vec![Polygon::new(LineString::new(ring), vec![])]),
                MultiPolygon::new(vec![Polygon::new(frame, vec![])]),
            ];
            let idx = Builder {
                polygons: &polys,
                ..b
            }
            .build();
            let mut probes = probe_points(&polys, [0.0, 0.0, 8.0, 8.0], rng.next_u64());
            for i in 0..nx {
                for j in 0..ny {
                    let c = corner(i, j);
                    probes.extend([(c.x, c.y), (c.x - 0.25, c.y + 0.5), (c.x - 0.5, c.y)]);
                }
            }
            for (x, y) in probes {
                assert_eq!(idx.locate(x, y), brute(&polys, x, y), "({x},{y})");
            }
        }
    }

    #[test]
    fn nan_and_far_away_points_are_outside() {
        let polys = tiling(&TilingSpec::default(), 1);
        let idx = CellIndex::build(&polys);
        assert_eq!(idx.locate(f64::NAN, 34.86), None);
        assert_eq!(idx.locate(0.0, 0.0), None);
        assert_eq!(idx.locate(f64::INFINITY, 34.86), None);
    }
}
