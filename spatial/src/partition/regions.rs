//! Regions of a graph: buildings (nodes, weighted by households) joined
//! where their cells share a border, cut into contiguous regions whose
//! weights lie in a band.
//!
//! The energy minimised, in order of weight:
//! 1. households outside the band, summed over regions (×[`BAND_WEIGHT`]);
//! 2. with an origin (today's grids), households moved away from it
//!    (×[`MOVE_WEIGHT`]);
//! 3. the length of the borders cut, a border between buildings a road or
//!    waterway separates counting [`ROAD_FACTOR`] of its length — short
//!    borders make compact regions, and cheap roads make regions follow
//!    them.
//!
//! How: regions are seeded by weighted k-means over the buildings'
//! centres and grown in turn, the lightest region taking its nearest
//! unclaimed neighbour; then a local search moves single buildings across
//! borders while that lowers the energy and leaves the region it leaves
//! connected. The best of a few seeded restarts wins. From an origin the
//! search starts from today's regions, splits or merges the fewest needed
//! to make the band reachable, and moves as little as the band needs.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::rng::Rng;

/// Weight of one household outside the band (in metres of border).
pub const BAND_WEIGHT: f64 = 1_000.0;
/// Weight of one household moved from its origin (in metres of border).
pub const MOVE_WEIGHT: f64 = 10.0;
/// The share of its length a border along a road costs.
pub const ROAD_FACTOR: f64 = 0.25;

/// The graph to cut.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    /// Households per node.
    pub weight: Vec<u32>,
    /// Centre of each node (m).
    pub pos: Vec<(f64, f64)>,
    /// Neighbours of each node with the cost of cutting between them.
    pub adj: Vec<Vec<(u32, f64)>>,
}

impl Graph {
    pub fn len(&self) -> usize {
        self.weight.len()
    }
}

/// What to aim for.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub min: u64,
    pub max: u64,
    /// Today's region of each node (`None`: a fresh cut).
    pub origin: Option<Vec<u32>>,
    pub seed: u64,
    /// Restarts of a fresh cut.
    pub restarts: usize,
    /// Raised when the answer is no longer wanted: the search stops where
    /// it is (the caller checks and discards the labels).
    pub cancel: crate::cancel::Cancel,
}

/// A node's region.
pub(crate) type Labels = Vec<u32>;

/// Households outside `[min, max]`.
pub(crate) fn deviation(h: u64, min: u64, max: u64) -> u64 {
    min.saturating_sub(h) + h.saturating_sub(max)
}

/// The number of regions for `total` households over `nodes` buildings:
/// the fewest households outside the band, then nearest the band's middle.
pub(crate) fn region_count(total: u64, nodes: usize, min: u64, max: u64) -> usize {
    if nodes == 0 {
        return 0;
    }
    let target = (min + max) as f64 / 2.0;
    let ideal = total as f64 / target.max(1.0);
    let hi = ((total / min.max(1)) as usize + 1).min(nodes).max(1);
    (1..=hi)
        .min_by(|&a, &b| {
            let dev = |k: usize| {
                let k = k as u64;
                total.saturating_sub(k * max) + (k * min).saturating_sub(total)
            };
            dev(a).cmp(&dev(b)).then(
                (a as f64 - ideal)
                    .abs()
                    .total_cmp(&(b as f64 - ideal).abs()),
            )
        })
        .unwrap_or(1)
}

/// The connected components of `g` restricted to the nodes `keep` says.
pub(crate) fn components(g: &Graph, keep: impl Fn(usize) -> bool) -> Vec<Vec<u32>> {
    let mut seen = vec![false; g.len()];
    let mut out = Vec::new();
    for s in 0..g.len() {
        if seen[s] || !keep(s) {
            continue;
        }
        seen[s] = true;
        let mut comp = vec![s as u32];
        let mut q = VecDeque::from([s]);
        while let Some(i) = q.pop_front() {
            for &(j, _) in &g.adj[i] {
                let j = j as usize;
                if !seen[j] && keep(j) {
                    seen[j] = true;
                    comp.push(j as u32);
                    q.push_back(j);
                }
            }
        }
        out.push(comp);
    }
    out
}

/// The state of a search: labels, region weights and sizes.
struct State<'g> {
    g: &'g Graph,
    p: &'g Params,
    label: Labels,
    weight: Vec<u64>,
    size: Vec<usize>,
}

impl<'g> State<'g> {
    fn new(g: &'g Graph, p: &'g Params, label: Labels, regions: usize) -> Self {
        Self::new_partial(g, p, label, regions)
    }

    fn band(&self, h: u64) -> f64 {
        deviation(h, self.p.min, self.p.max) as f64 * BAND_WEIGHT
    }

    fn moved(&self, i: usize, to: u32) -> f64 {
        match &self.p.origin {
            Some(o) if o[i] != to => f64::from(self.g.weight[i]) * MOVE_WEIGHT,
            _ => 0.0,
        }
    }

    /// The change in energy if node `i` moved to region `s`.
    fn delta(&self, i: usize, s: u32) -> f64 {
        let r = self.label[i];
        let w = u64::from(self.g.weight[i]);
        let (hr, hs) = (self.weight[r as usize], self.weight[s as usize]);
        let band = self.band(hr - w) - self.band(hr) + self.band(hs + w) - self.band(hs);
        let mut cut = 0.0;
        for &(j, c) in &self.g.adj[i] {
            let l = self.label[j as usize];
            if l == r {
                cut += c;
            } else if l == s {
                cut -= c;
            }
        }
        band + cut + self.moved(i, s) - self.moved(i, r)
    }

    /// Whether region `r` stays connected without node `i`.
    fn stays_connected(&self, i: usize, marks: &mut Marks) -> bool {
        let r = self.label[i];
        let rest = self.size[r as usize] - 1;
        if rest == 0 {
            return false;
        }
        let Some(&(start, _)) = self.g.adj[i]
            .iter()
            .find(|&&(j, _)| self.label[j as usize] == r)
        else {
            return false;
        };
        let stamp = marks.next(self.g.len());
        let mut q = VecDeque::from([start as usize]);
        marks.seen[start as usize] = stamp;
        marks.seen[i] = stamp;
        let mut seen = 1;
        while let Some(k) = q.pop_front() {
            for &(j, _) in &self.g.adj[k] {
                let j = j as usize;
                if marks.seen[j] != stamp && self.label[j] == r {
                    marks.seen[j] = stamp;
                    seen += 1;
                    q.push_back(j);
                }
            }
        }
        seen == rest
    }

    fn apply(&mut self, i: usize, s: u32) {
        let r = self.label[i];
        let w = u64::from(self.g.weight[i]);
        self.weight[r as usize] -= w;
        self.size[r as usize] -= 1;
        self.weight[s as usize] += w;
        self.size[s as usize] += 1;
        self.label[i] = s;
    }

    /// Moves single nodes across borders while that lowers the energy.
    fn local_search(&mut self, nodes: &[u32]) {
        let mut marks = Marks::default();
        for _pass in 0..200 {
            if self.p.cancel.check().is_err() {
                return;
            }
            let mut improved = false;
            for &i in nodes {
                let i = i as usize;
                let r = self.label[i];
                let mut best: Option<(f64, u32)> = None;
                for &(j, _) in &self.g.adj[i] {
                    let s = self.label[j as usize];
                    if s == r || best.is_some_and(|(_, b)| b == s) {
                        continue;
                    }
                    let d = self.delta(i, s);
                    if d < -1e-9 && best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, s));
                    }
                }
                if let Some((_, s)) = best
                    && self.stays_connected(i, &mut marks)
                {
                    self.apply(i, s);
                    improved = true;
                }
            }
            if !improved {
                break;
            }
        }
    }
}

/// Visited marks stamped by generation, so a search need not clear them.
#[derive(Default)]
struct Marks {
    seen: Vec<u32>,
    stamp: u32,
}

impl Marks {
    fn next(&mut self, n: usize) -> u32 {
        if self.seen.len() < n {
            self.seen.resize(n, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.stamp = 1;
        }
        self.stamp
    }
}

fn dist2(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

/// `k` centres by weighted k-means++ and a few Lloyd iterations.
fn centres(g: &Graph, nodes: &[u32], k: usize, rng: &mut Rng) -> Vec<(f64, f64)> {
    let w = |i: u32| f64::from(g.weight[i as usize]) + 1.0;
    let mut cs: Vec<(f64, f64)> = Vec::with_capacity(k);
    let weights: Vec<f64> = nodes.iter().map(|&i| w(i)).collect();
    cs.push(g.pos[nodes[rng.weighted(&weights)] as usize]);
    while cs.len() < k {
        let d: Vec<f64> = nodes
            .iter()
            .map(|&i| {
                let p = g.pos[i as usize];
                w(i) * cs
                    .iter()
                    .map(|&c| dist2(p, c))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        if d.iter().all(|&x| x <= 0.0) {
            cs.push(g.pos[nodes[rng.below(nodes.len() as u64) as usize] as usize]);
        } else {
            cs.push(g.pos[nodes[rng.weighted(&d)] as usize]);
        }
    }
    for _ in 0..10 {
        let mut sum = vec![(0.0, 0.0, 0.0); k];
        for &i in nodes {
            let p = g.pos[i as usize];
            let c = (0..k)
                .min_by(|&a, &b| dist2(p, cs[a]).total_cmp(&dist2(p, cs[b])))
                .unwrap_or(0);
            sum[c].0 += w(i) * p.0;
            sum[c].1 += w(i) * p.1;
            sum[c].2 += w(i);
        }
        for (c, s) in cs.iter_mut().zip(&sum) {
            if s.2 > 0.0 {
                *c = (s.0 / s.2, s.1 / s.2);
            }
        }
    }
    cs
}

/// Grows regions `first..first + centres.len()` over the unlabelled
/// `nodes` (which must be connected): each starts at the node nearest its
/// centre, then the lightest region with an unclaimed neighbour takes the
/// one nearest its centre. `label` holds `u32::MAX` for unclaimed nodes.
fn grow(g: &Graph, nodes: &[u32], cs: &[(f64, f64)], first: u32, label: &mut Labels) {
    let k = cs.len();
    let mut weight = vec![0u64; k];
    // Min-heaps of (distance to the centre, node), per region.
    let mut heaps: Vec<BinaryHeap<Reverse<(u64, u32)>>> = vec![BinaryHeap::new(); k];
    let key = |i: u32, r: usize| (dist2(g.pos[i as usize], cs[r]).sqrt() * 1000.0) as u64;
    let claim = |i: u32,
                 r: usize,
                 label: &mut Labels,
                 heaps: &mut Vec<BinaryHeap<Reverse<(u64, u32)>>>,
                 weight: &mut Vec<u64>| {
        label[i as usize] = first + r as u32;
        weight[r] += u64::from(g.weight[i as usize]);
        for &(j, _) in &g.adj[i as usize] {
            if label[j as usize] == u32::MAX {
                heaps[r].push(Reverse((key(j, r), j)));
            }
        }
    };
    for r in 0..k {
        let start = nodes
            .iter()
            .copied()
            .filter(|&i| label[i as usize] == u32::MAX)
            .min_by_key(|&i| key(i, r));
        if let Some(s) = start {
            claim(s, r, label, &mut heaps, &mut weight);
        }
    }
    loop {
        // Drop claimed nodes from the tops of the heaps.
        for h in &mut heaps {
            while h
                .peek()
                .is_some_and(|Reverse((_, i))| label[*i as usize] != u32::MAX)
            {
                h.pop();
            }
        }
        let Some(r) = (0..k)
            .filter(|&r| !heaps[r].is_empty())
            .min_by_key(|&r| weight[r])
        else {
            break;
        };
        if let Some(Reverse((_, i))) = heaps[r].pop() {
            claim(i, r, label, &mut heaps, &mut weight);
        }
    }
}

/// A fresh cut of `nodes` (connected) into `k` regions numbered from
/// `first`, the best of the restarts.
fn fresh(
    g: &Graph,
    p: &Params,
    nodes: &[u32],
    k: usize,
    first: u32,
    label: &mut Labels,
    rng: &mut Rng,
) {
    let mut best: Option<(f64, Vec<u32>)> = None;
    for _ in 0..p.restarts.max(1) {
        if best.is_some() && p.cancel.check().is_err() {
            break;
        }
        let mut trial = label.clone();
        let cs = centres(g, nodes, k, rng);
        grow(g, nodes, &cs, first, &mut trial);
        let regions = (first as usize) + k;
        let mut s = State::new_partial(g, p, trial, regions);
        s.local_search(nodes);
        let e = s.energy_of(nodes);
        let labels: Vec<u32> = nodes.iter().map(|&i| s.label[i as usize]).collect();
        if best.as_ref().is_none_or(|(b, _)| e < *b) {
            best = Some((e, labels));
        }
        if k == 1 {
            break;
        }
    }
    if let Some((_, labels)) = best {
        for (&i, l) in nodes.iter().zip(labels) {
            label[i as usize] = l;
        }
    }
}

impl<'g> State<'g> {
    /// A state where some nodes may still be unlabelled (`u32::MAX`,
    /// outside every count).
    fn new_partial(g: &'g Graph, p: &'g Params, label: Labels, regions: usize) -> Self {
        let mut weight = vec![0u64; regions];
        let mut size = vec![0usize; regions];
        for (i, &l) in label.iter().enumerate() {
            if l != u32::MAX {
                weight[l as usize] += u64::from(g.weight[i]);
                size[l as usize] += 1;
            }
        }
        State {
            g,
            p,
            label,
            weight,
            size,
        }
    }

    /// Households outside the band and households moved from `origin`,
    /// over the regions of `nodes`.
    fn score(&self, nodes: &[u32], origin: &[u32]) -> (u64, u64) {
        let mut regions: Vec<u32> = nodes.iter().map(|&i| self.label[i as usize]).collect();
        regions.sort_unstable();
        regions.dedup();
        let dev = regions
            .iter()
            .map(|&r| deviation(self.weight[r as usize], self.p.min, self.p.max))
            .sum();
        let moved = nodes
            .iter()
            .filter(|&&i| self.label[i as usize] != origin[i as usize])
            .map(|&i| u64::from(self.g.weight[i as usize]))
            .sum();
        (dev, moved)
    }

    /// The energy of the regions the nodes are in.
    fn energy_of(&self, nodes: &[u32]) -> f64 {
        let mut regions: Vec<u32> = nodes.iter().map(|&i| self.label[i as usize]).collect();
        regions.sort_unstable();
        regions.dedup();
        let band: f64 = regions
            .iter()
            .map(|&r| self.band(self.weight[r as usize]))
            .sum();
        let mut cut = 0.0;
        for &i in nodes {
            let i = i as usize;
            for &(j, c) in &self.g.adj[i] {
                if (j as usize) > i && self.label[j as usize] != self.label[i] {
                    cut += c;
                }
            }
        }
        band + cut
    }
}

/// Cuts `g` per `p`. Returns each node's region, numbered from 0; with an
/// origin, today's regions keep their numbers and new ones come after.
pub(crate) fn partition(g: &Graph, p: &Params) -> Labels {
    let n = g.len();
    let mut rng = Rng::new(p.seed);
    match &p.origin {
        None => {
            let mut label = vec![u32::MAX; n];
            let mut next = 0u32;
            for comp in components(g, |_| true) {
                let total: u64 = comp.iter().map(|&i| u64::from(g.weight[i as usize])).sum();
                let k = region_count(total, comp.len(), p.min, p.max);
                fresh(g, p, &comp, k, next, &mut label, &mut rng);
                next += k as u32;
            }
            label
        }
        Some(origin) => {
            // From today's regions, or a fresh cut renumbered after them,
            // whichever has fewer households out of the band, then moved.
            let kept = from_origin(g, p, origin, &mut rng);
            let fresh_p = Params {
                origin: None,
                ..p.clone()
            };
            let cut = renumber(g, &partition(g, &fresh_p), origin);
            let score = |l: &Labels| {
                let regions = l.iter().map(|&x| x as usize + 1).max().unwrap_or(0);
                let s = State::new(g, p, l.clone(), regions);
                let all: Vec<u32> = (0..g.len() as u32).collect();
                s.score(&all, origin)
            };
            let contiguous = |l: &Labels| {
                let regions = l.iter().map(|&x| x as usize + 1).max().unwrap_or(0);
                (0..regions as u32).all(|r| components(g, |i| l[i] == r).len() <= 1)
            };
            if contiguous(&cut) && score(&cut) < score(&kept) {
                cut
            } else {
                kept
            }
        }
    }
}

/// A cut's regions renumbered after today's: the pairs sharing the most
/// households first take today's numbers; the rest come after them.
fn renumber(g: &Graph, cut: &Labels, origin: &[u32]) -> Labels {
    use std::collections::HashMap;
    let today = origin
        .iter()
        .filter(|&&o| o != u32::MAX)
        .map(|&o| o as usize + 1)
        .max()
        .unwrap_or(0);
    let mut overlap: HashMap<(u32, u32), u64> = HashMap::new();
    for (i, (&c, &o)) in cut.iter().zip(origin).enumerate() {
        if o != u32::MAX {
            *overlap.entry((c, o)).or_default() += u64::from(g.weight[i]) * 1000 + 1;
        }
    }
    let mut pairs: Vec<((u32, u32), u64)> = overlap.into_iter().collect();
    pairs.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let mut to: HashMap<u32, u32> = HashMap::new();
    let mut used = vec![false; today];
    for ((c, o), _) in pairs {
        if !to.contains_key(&c) && !used[o as usize] {
            to.insert(c, o);
            used[o as usize] = true;
        }
    }
    let mut next = today as u32;
    let mut cuts: Vec<u32> = cut.clone();
    cuts.sort_unstable();
    cuts.dedup();
    for c in cuts {
        to.entry(c).or_insert_with(|| {
            next += 1;
            next - 1
        });
    }
    cut.iter().map(|c| to[c]).collect()
}

/// From today's regions: split or merge the fewest needed, then move as
/// little as the band needs.
fn from_origin(g: &Graph, p: &Params, origin: &[u32], rng: &mut Rng) -> Labels {
    let mut label: Labels = origin.to_vec();
    let mut regions = label
        .iter()
        .filter(|&&l| l != u32::MAX)
        .map(|&l| l as usize + 1)
        .max()
        .unwrap_or(0);
    // Nodes without a region today (outside every grid) join their
    // neighbours' by growth.
    settle_unlabelled(g, &mut label);
    if label.contains(&u32::MAX) {
        // A component with no region at all: a fresh region for it.
        for comp in components(g, |i| label[i] == u32::MAX) {
            let cs = centres(g, &comp, 1, rng);
            grow(g, &comp, &cs, regions as u32, &mut label);
            regions += 1;
        }
    }
    for comp in components(g, |_| true) {
        let total: u64 = comp.iter().map(|&i| u64::from(g.weight[i as usize])).sum();
        let want = region_count(total, comp.len(), p.min, p.max);
        loop {
            let mut present: Vec<u32> = comp.iter().map(|&i| label[i as usize]).collect();
            present.sort_unstable();
            present.dedup();
            let weight_of = |r: u32, label: &Labels| -> u64 {
                comp.iter()
                    .filter(|&&i| label[i as usize] == r)
                    .map(|&i| u64::from(g.weight[i as usize]))
                    .sum()
            };
            match present.len().cmp(&want) {
                std::cmp::Ordering::Less => {
                    // Split the heaviest region in two.
                    let Some(&r) = present.iter().max_by_key(|&&r| weight_of(r, &label)) else {
                        break;
                    };
                    let members: Vec<u32> = comp
                        .iter()
                        .copied()
                        .filter(|&i| label[i as usize] == r)
                        .collect();
                    if members.len() < 2 {
                        break;
                    }
                    for &i in &members {
                        label[i as usize] = u32::MAX;
                    }
                    let cs = centres(g, &members, 2, rng);
                    // The half nearer today's centre keeps the number.
                    let mut trial = label.clone();
                    grow(g, &members, &cs, regions as u32, &mut trial);
                    let a = regions as u32;
                    let wa = members.iter().filter(|&&i| trial[i as usize] == a).count();
                    let wb = members.len() - wa;
                    for &i in &members {
                        let l = trial[i as usize];
                        label[i as usize] = if (l == a) == (wa >= wb) {
                            r
                        } else {
                            regions as u32
                        };
                    }
                    regions += 1;
                }
                std::cmp::Ordering::Greater => {
                    // Dissolve the region whose loss moves the fewest
                    // households once the band is met: try the lightest few.
                    let mut cands: Vec<u32> = present.clone();
                    cands.sort_by_key(|&r| weight_of(r, &label));
                    cands.truncate(8);
                    let mut best: Option<((u64, u64), Labels)> = None;
                    for r in cands {
                        let mut trial = label.clone();
                        for &i in &comp {
                            if trial[i as usize] == r {
                                trial[i as usize] = u32::MAX;
                            }
                        }
                        settle_unlabelled(g, &mut trial);
                        let mut st = State::new_partial(g, p, trial, regions);
                        st.local_search(&comp);
                        let score = st.score(&comp, origin);
                        if best.as_ref().is_none_or(|(b, _)| score < *b) {
                            best = Some((score, st.label));
                        }
                    }
                    match best {
                        Some((_, l)) => label = l,
                        None => break,
                    }
                }
                std::cmp::Ordering::Equal => break,
            }
        }
    }
    let mut s = State::new(g, p, label, regions);
    let all: Vec<u32> = (0..g.len() as u32).collect();
    s.local_search(&all);
    s.label
}

/// Gives every unlabelled node (`u32::MAX`) reachable from a labelled one
/// the label of the lightest neighbouring region, nearest first.
fn settle_unlabelled(g: &Graph, label: &mut Labels) {
    let mut q: VecDeque<usize> = (0..g.len()).filter(|&i| label[i] != u32::MAX).collect();
    while let Some(i) = q.pop_front() {
        for &(j, _) in &g.adj[i] {
            let j = j as usize;
            if label[j] == u32::MAX {
                label[j] = label[i];
                q.push_back(j);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w × h` lattice of nodes of `households` each, 4-connected, unit cost.
    fn lattice(w: usize, h: usize, households: u32) -> Graph {
        let mut g = Graph::default();
        for y in 0..h {
            for x in 0..w {
                g.weight.push(households);
                g.pos.push((x as f64 * 10.0, y as f64 * 10.0));
                let mut adj = Vec::new();
                let i = (y * w + x) as u32;
                if x > 0 {
                    adj.push((i - 1, 10.0));
                }
                if x + 1 < w {
                    adj.push((i + 1, 10.0));
                }
                if y > 0 {
                    adj.push((i - w as u32, 10.0));
                }
                if y + 1 < h {
                    adj.push((i + w as u32, 10.0));
                }
                g.adj.push(adj);
            }
        }
        g
    }

    fn params(origin: Option<Vec<u32>>) -> Params {
        Params {
            min: 300,
            max: 500,
            origin,
            seed: 7,
            restarts: 4,
            cancel: crate::cancel::Cancel::never(),
        }
    }

    fn region_weights(g: &Graph, l: &Labels) -> Vec<u64> {
        let k = l.iter().map(|&x| x as usize + 1).max().unwrap_or(0);
        let mut w = vec![0u64; k];
        for (i, &x) in l.iter().enumerate() {
            w[x as usize] += u64::from(g.weight[i]);
        }
        w
    }

    fn connected(g: &Graph, l: &Labels) -> bool {
        let k = l.iter().map(|&x| x as usize + 1).max().unwrap_or(0);
        (0..k as u32).all(|r| components(g, |i| l[i] == r).len() <= 1)
    }

    #[test]
    fn the_region_count_keeps_the_most_households_in_the_band() {
        assert_eq!(region_count(1600, 100, 300, 500), 4);
        assert_eq!(region_count(450, 10, 300, 500), 1);
        assert_eq!(
            region_count(100, 10, 300, 500),
            1,
            "too few for the band: one region"
        );
        assert_eq!(
            region_count(2000, 3, 300, 500),
            3,
            "no more regions than buildings"
        );
        assert_eq!(region_count(0, 0, 300, 500), 0);
    }

    #[test]
    fn a_fresh_cut_of_a_lattice_is_contiguous_and_in_the_band() {
        let g = lattice(12, 10, 14); // 1,680 households
        let l = partition(&g, &params(None));
        let w = region_weights(&g, &l);
        assert_eq!(w.len(), 4);
        assert!(w.iter().all(|&h| (300..=500).contains(&h)), "{w:?}");
        assert!(connected(&g, &l));
    }

    #[test]
    fn from_todays_regions_in_the_band_nothing_moves() {
        let g = lattice(8, 8, 12); // 768 households, two halves of 384
        let origin: Vec<u32> = (0..64).map(|i| u32::from(i % 8 >= 4)).collect();
        let l = partition(&g, &params(Some(origin.clone())));
        assert_eq!(l, origin);
    }

    #[test]
    fn from_todays_regions_an_overfull_region_is_split_and_few_households_move() {
        let g = lattice(10, 6, 15); // 900 households, all in one region today
        let origin = vec![0u32; 60];
        let l = partition(&g, &params(Some(origin)));
        let w = region_weights(&g, &l);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w.iter().all(|&h| (300..=500).contains(&h)), "{w:?}");
        assert!(connected(&g, &l));
        let kept = l.iter().filter(|&&x| x == 0).count();
        assert!(kept >= 30, "the larger half keeps today's number");
    }
}
