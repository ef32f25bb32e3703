//! Grid auto-partition: proposed basic grids for a community, from its
//! buildings and their households, following roads and water where it can.
//!
//! 1. [`cells`]: the community is cut into one cell per building (a
//!    Voronoi diagram of points along the footprints), so any set of
//!    buildings has an outline that keeps each building whole, and
//!    neighbouring cells know how long their border is and whether a road
//!    or waterway runs between their buildings.
//! 2. [`regions`]: the buildings are cut into contiguous regions with
//!    households in the band (300–500 by default), short borders and
//!    borders on roads preferred; from today's grids (`keep_existing`),
//!    moving as few households as the band needs.
//! 3. Each region's outline is the union of its buildings' cells, clipped
//!    to the community (or, keeping today's grids, to the grids that
//!    change), so the grids cover it exactly; pieces cut off from their
//!    buildings go to the neighbour they border most, and a footprint a
//!    cell did not hold whole is given to its grid.
//!
//! Exclusive grids and the buildings in them are left as they are.
//!
//! ```
//! use gridgov_spatial::{assign, sample, GridIndex, Level};
//! use gridgov_spatial::partition::{partition, PartitionOptions};
//! let d = sample::district(&sample::SampleSpec::default());
//! let a = assign(&d, &GridIndex::new(&d));
//! let community = d.areas.iter().position(|x| x.level == Level::Community).unwrap();
//! let p = partition(&d, &a, gridgov_spatial::AreaId(community as u32), &PartitionOptions::default(), &gridgov_spatial::cancel::Cancel::never()).unwrap();
//! assert!(p.metrics.grids >= 1);
//! assert!(p.grids.iter().all(|g| g.households == 0 || g.boundary.0.len() == 1));
//! ```

pub mod cells;
pub mod regions;

use std::collections::{BTreeSet, HashMap};

use geo::{Area as _, BooleanOps, BoundingRect, Coord, InteriorPoint, MultiPolygon, Polygon};
use rstar::RTree;
use serde::{Deserialize, Serialize};

use crate::edit::GridChange;
use crate::geodesy::LocalProjection;
use crate::i18n::{Lang, tf};
use crate::pip::{contains_multi, edges};
use crate::{AreaId, Assignment, District, GridKind, Level, MapKind, MapShape};

use cells::{Seg, Site, edge_tree};
use regions::{Graph, Params, deviation, region_count};

/// The most grids one proposal may make.
pub const MAX_GRIDS: usize = 2_000;

/// How near a road's centre line a grid border must run to count as on
/// the road, in metres.
pub const ROAD_NEAR_M: f64 = 20.0;

/// What to propose.
///
/// ```
/// let o = gridgov_spatial::partition::PartitionOptions::default();
/// assert_eq!((o.min, o.max, o.keep_existing), (300, 500, false));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOptions {
    /// Fewest households a grid should serve.
    pub min: u32,
    /// Most households a grid should serve.
    pub max: u32,
    /// Start from today's grids and move as few households as the band
    /// needs.
    pub keep_existing: bool,
    /// Seed of the restarts (the same seed, the same proposal).
    pub seed: u64,
}

impl Default for PartitionOptions {
    fn default() -> Self {
        PartitionOptions {
            min: 300,
            max: 500,
            keep_existing: false,
            seed: 1,
        }
    }
}

/// What becomes of a grid.
///
/// ```
/// use gridgov_spatial::partition::GridFate;
/// assert_eq!(serde_json::to_string(&GridFate::New).unwrap(), "\"new\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridFate {
    /// Unchanged.
    Kept,
    /// A new boundary for a grid of today.
    Reshaped,
    /// A grid that does not exist today.
    New,
    /// A grid of today that the proposal does without.
    Removed,
}

/// One grid of a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedGrid {
    /// Its code (today's, or a new one under the community's).
    pub code: String,
    /// Its name.
    pub name: String,
    /// What becomes of it.
    pub fate: GridFate,
    /// Households it serves.
    pub households: u64,
    /// Buildings in it.
    pub buildings: usize,
    /// Polsby–Popper compactness, 4πA/P² (1 for a circle); 0 when removed.
    pub compactness: f64,
    /// Whether its households lie in the band.
    pub in_band: bool,
    /// Its boundary (WGS 84); empty when removed.
    #[serde(with = "crate::geom_serde::multi_polygon")]
    pub boundary: MultiPolygon<f64>,
}

/// Figures of a set of grids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PartitionMetrics {
    /// Number of basic grids.
    pub grids: usize,
    /// Fewest households in a grid.
    pub households_min: u64,
    /// Median households per grid.
    pub households_median: f64,
    /// Most households in a grid.
    pub households_max: u64,
    /// Share of grids whose households lie in the band.
    pub share_in_band: f64,
    /// Mean Polsby–Popper compactness.
    pub compactness_mean: f64,
    /// The least compact grid's.
    pub compactness_worst: f64,
    /// Share of the borders between grids that runs along a road or
    /// waterway (within [`ROAD_NEAR_M`]).
    pub road_share: f64,
    /// Households whose grid changes.
    pub households_moved: u64,
    /// Buildings whose grid changes.
    pub buildings_moved: usize,
}

/// Why a part of a proposal falls short, or what a planner should know.
///
/// ```
/// use gridgov_spatial::partition::PartitionNote;
/// use gridgov_spatial::i18n::Lang;
/// let n = PartitionNote::BuildingOverMax { building: "B1".into(), households: 620, max: 500 };
/// assert!(n.message(Lang::Zh).contains("B1"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PartitionNote {
    /// The community has no buildings outside exclusive grids.
    NoBuildings,
    /// Too few households for even one grid in the band.
    TooFewHouseholds {
        /// The community's households.
        households: u64,
        /// The band's lower end.
        min: u32,
    },
    /// No number of grids puts every household in the band.
    BandUnreachable {
        /// The households of the part of the community that is one piece.
        households: u64,
        /// Grids chosen for it.
        grids: usize,
    },
    /// One building alone has more households than a grid should.
    BuildingOverMax {
        /// The building's code.
        building: String,
        /// Its households.
        households: u64,
        /// The band's upper end.
        max: u32,
    },
    /// A grid of the proposal outside the band, and why none better was
    /// found.
    GridOutOfBand {
        /// The grid.
        grid: String,
        /// Its households.
        households: u64,
    },
    /// A building reaching outside the community cannot be whole in any
    /// of its grids.
    BuildingOutsideCommunity {
        /// The building's code.
        building: String,
    },
    /// New grids have no team yet.
    NewGridsWithoutTeam {
        /// The grids.
        grids: Vec<String>,
    },
    /// Every grid is in the band already: nothing to change.
    NothingToChange,
}

impl PartitionNote {
    /// The note in words.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            PartitionNote::NoBuildings => tf(lang, "partition.note.no_buildings", &[]),
            PartitionNote::TooFewHouseholds { households, min } => tf(
                lang,
                "partition.note.too_few",
                &[("households", households), ("min", min)],
            ),
            PartitionNote::BandUnreachable { households, grids } => tf(
                lang,
                "partition.note.unreachable",
                &[("households", households), ("grids", grids)],
            ),
            PartitionNote::BuildingOverMax {
                building,
                households,
                max,
            } => tf(
                lang,
                "partition.note.building_over",
                &[
                    ("building", building),
                    ("households", households),
                    ("max", max),
                ],
            ),
            PartitionNote::GridOutOfBand { grid, households } => tf(
                lang,
                "partition.note.out_of_band",
                &[("grid", grid), ("households", households)],
            ),
            PartitionNote::BuildingOutsideCommunity { building } => tf(
                lang,
                "partition.note.building_outside",
                &[("building", building)],
            ),
            PartitionNote::NewGridsWithoutTeam { grids } => tf(
                lang,
                "partition.note.no_team",
                &[
                    ("n", &grids.len()),
                    (
                        "grids",
                        &grids.join(if lang == Lang::Zh { "、" } else { ", " }),
                    ),
                ],
            ),
            PartitionNote::NothingToChange => tf(lang, "partition.note.nothing", &[]),
        }
    }
}

/// A proposal for a community's basic grids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The community's code.
    pub community: String,
    /// Its name.
    pub community_name: String,
    /// What was asked.
    pub options: PartitionOptions,
    /// Every basic grid: kept, reshaped, new and removed.
    pub grids: Vec<ProposedGrid>,
    /// The proposal's figures.
    pub metrics: PartitionMetrics,
    /// Today's grids' figures, to compare.
    pub today: PartitionMetrics,
    /// What falls short, and why.
    pub notes: Vec<PartitionNote>,
    /// Run time in milliseconds.
    pub runtime_ms: f64,
}

impl Proposal {
    /// The proposal as grid changes (a draft): reshaped and new grids with
    /// their boundaries, removed ones without; kept grids are left out.
    ///
    /// ```
    /// use gridgov_spatial::partition::{Proposal, PartitionOptions, PartitionMetrics};
    /// let p = Proposal { community: "C".into(), community_name: "社区".into(), options: PartitionOptions::default(),
    ///     grids: vec![], metrics: PartitionMetrics::default(), today: PartitionMetrics::default(), notes: vec![], runtime_ms: 0.0 };
    /// assert!(p.changes().is_empty());
    /// ```
    pub fn changes(&self) -> Vec<GridChange> {
        self.grids
            .iter()
            .filter_map(|g| match g.fate {
                GridFate::Kept => None,
                GridFate::Reshaped => Some(GridChange::reshape(&g.code, g.boundary.clone())),
                GridFate::Removed => Some(GridChange {
                    boundary: None,
                    ..GridChange::reshape(&g.code, MultiPolygon::new(vec![]))
                }),
                GridFate::New => Some(GridChange {
                    name: Some(g.name.clone()),
                    parent_code: Some(self.community.clone()),
                    kind: Some(GridKind::Basic),
                    ..GridChange::reshape(&g.code, g.boundary.clone())
                }),
            })
            .collect()
    }
}

/// Why no proposal can be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PartitionError {
    /// The area is not a community.
    #[error("{0} is not a community")]
    NotACommunity(String),
    /// The band is empty or zero.
    #[error("the household band {min}–{max} is empty: give 1 ≤ min ≤ max")]
    BadBand {
        /// Lower end.
        min: u32,
        /// Upper end.
        max: u32,
    },
    /// The community has no boundary.
    #[error("community {0} has no boundary")]
    NoBoundary(String),
    /// The band would make too many grids.
    #[error(
        "the band {min}–{max} would cut {households} households into {grids} grids; at most {MAX_GRIDS} at once"
    )]
    TooManyGrids {
        /// Households.
        households: u64,
        /// Grids it would make.
        grids: usize,
        /// Lower end.
        min: u32,
        /// Upper end.
        max: u32,
    },
    /// The cells could not be made.
    #[error(transparent)]
    Cells(#[from] cells::CellsError),
    /// Stopped: the answer was no longer wanted.
    #[error(transparent)]
    Cancelled(#[from] crate::cancel::Cancelled),
}

/// One building's cell: the part of the community nearer it than any
/// other building (see [`cells`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildingCell {
    /// The building's code.
    pub building: String,
    /// Its households.
    pub households: u64,
    /// Today's grid (its code), if any.
    pub grid: Option<String>,
    /// The cell (WGS 84).
    #[serde(with = "crate::geom_serde::multi_polygon")]
    pub cell: MultiPolygon<f64>,
}

/// The cells of a community's buildings outside exclusive grids: the
/// units a regionalisation works on (what `partition` cuts afresh).
///
/// ```
/// use gridgov_spatial::{assign, sample, GridIndex, Level, AreaId};
/// use gridgov_spatial::partition::building_cells;
/// let d = sample::district(&sample::SampleSpec::default());
/// let a = assign(&d, &GridIndex::new(&d));
/// let c = AreaId(d.areas.iter().position(|x| x.level == Level::Community).unwrap() as u32);
/// let cells = building_cells(&d, &a, c).unwrap();
/// assert!(cells.iter().all(|c| c.cell.0.len() >= 1));
/// ```
pub fn building_cells(
    d: &District,
    a: &Assignment,
    community: AreaId,
) -> Result<Vec<BuildingCell>, PartitionError> {
    if d.area(community).level != Level::Community {
        return Err(PartitionError::NotACommunity(
            d.area(community).code.clone(),
        ));
    }
    let inp = input(d, a, community)?;
    let sites = inp.sites();
    let c = cells::cells(&sites, &inp.community, &inp.roads)?;
    Ok(c.faces
        .iter()
        .enumerate()
        .map(|(i, f)| BuildingCell {
            building: d.buildings[inp.building[i]].code.clone(),
            households: inp.households[i],
            grid: (inp.origin[i] != u32::MAX)
                .then(|| d.area(inp.basic[inp.origin[i] as usize]).code.clone()),
            cell: to_lon_lat(&inp.proj, &tidy(cells::outline(f.iter(), &inp.community))),
        })
        .collect())
}

/// The buildings of one community the partition works on.
struct Input {
    proj: LocalProjection,
    community: MultiPolygon<f64>,
    /// Today's basic grids of the community.
    basic: Vec<AreaId>,
    /// Per node: building index, households, footprint (m), a point in it
    /// (m), today's grid (index into `basic`, `u32::MAX` when none).
    building: Vec<usize>,
    households: Vec<u64>,
    footprint: Vec<MultiPolygon<f64>>,
    inside: Vec<Coord<f64>>,
    origin: Vec<u32>,
    roads: RTree<Seg>,
}

impl Input {
    /// The buildings as the cells see them.
    fn sites(&self) -> Vec<Site> {
        self.footprint
            .iter()
            .map(|f| Site {
                footprint: f.clone(),
            })
            .collect()
    }
}

fn households_per_building(d: &District) -> Vec<u64> {
    let mut per = vec![0u64; d.buildings.len()];
    if d.households.is_empty() {
        for u in &d.units {
            per[u.building.index()] += u64::from(u.households);
        }
    } else {
        for h in &d.households {
            if let Some(u) = d.units.get(h.unit.index()) {
                per[u.building.index()] += 1;
            }
        }
    }
    per
}

fn input(d: &District, a: &Assignment, community: AreaId) -> Result<Input, PartitionError> {
    let c = d.area(community);
    let boundary = crate::dissolved(d, community);
    let Some(bb) = boundary.bounding_rect() else {
        return Err(PartitionError::NoBoundary(c.code.clone()));
    };
    let centre = bb.center();
    let proj = LocalProjection::new(centre.x, centre.y);
    let community_m = proj.multi_polygon(&boundary);
    let basic: Vec<AreaId> = d
        .children(community)
        .filter(|&g| {
            let a = d.area(g);
            a.level == Level::Grid && a.kind != Some(GridKind::Exclusive)
        })
        .collect();
    let index: HashMap<AreaId, u32> = basic
        .iter()
        .enumerate()
        .map(|(i, &g)| (g, i as u32))
        .collect();
    let per = households_per_building(d);
    let mut inp = Input {
        proj,
        community: community_m,
        basic,
        building: Vec::new(),
        households: Vec::new(),
        footprint: Vec::new(),
        inside: Vec::new(),
        origin: Vec::new(),
        roads: RTree::new(),
    };
    for (bi, b) in d.buildings.iter().enumerate() {
        let Some(p) = a.buildings.get(bi) else {
            continue;
        };
        let origin = if let crate::Placement::Inside(g) = p.placement {
            // Another community's grid, or an exclusive one: not ours.
            let Some(&i) = index.get(&g) else { continue };
            i
        } else {
            // Outside every grid: the community's only if it lies in it.
            let Some(pt) = b.footprint.interior_point() else {
                continue;
            };
            if !contains_multi(&boundary, pt.x(), pt.y()) {
                continue;
            }
            u32::MAX
        };
        let fp = inp.proj.multi_polygon(&b.footprint);
        let Some(pt) = fp.interior_point() else {
            continue;
        };
        inp.building.push(bi);
        inp.households.push(per[bi]);
        inp.footprint.push(fp);
        inp.inside.push(pt.0);
        inp.origin.push(origin);
    }
    // Roads and water near the community, as segments in metres.
    let margin = 50.0 / 111_000.0;
    let (x0, y0, x1, y1) = (
        bb.min().x - margin,
        bb.min().y - margin,
        bb.max().x + margin,
        bb.max().y + margin,
    );
    let mut segs = Vec::new();
    let mut push_line = |pts: &[Coord<f64>]| {
        for w in pts.windows(2) {
            let (a, b) = (w[0], w[1]);
            if a.x.max(b.x) < x0 || a.x.min(b.x) > x1 || a.y.max(b.y) < y0 || a.y.min(b.y) > y1 {
                continue;
            }
            segs.push(Seg(inp.proj.coord(a), inp.proj.coord(b)));
        }
    };
    for f in &d.basemap {
        if !matches!(f.kind, MapKind::Road | MapKind::Water) {
            continue;
        }
        match &f.shape {
            MapShape::Line(l) => push_line(&l.0),
            MapShape::Area(mp) => {
                for p in &mp.0 {
                    push_line(&p.exterior().0);
                    for h in p.interiors() {
                        push_line(&h.0);
                    }
                }
            }
            MapShape::Point(_) => {}
        }
    }
    inp.roads = RTree::bulk_load(segs);
    Ok(inp)
}

/// Polsby–Popper compactness of a polygon in metres.
fn compactness(mp: &MultiPolygon<f64>) -> f64 {
    let area = mp.unsigned_area();
    let perimeter: f64 = edges(mp).map(|(a, b)| (b.x - a.x).hypot(b.y - a.y)).sum();
    if perimeter <= 0.0 {
        0.0
    } else {
        4.0 * std::f64::consts::PI * area / (perimeter * perimeter)
    }
}

/// Share of the borders between `grids` (metres) that runs within
/// [`ROAD_NEAR_M`] of a road; the community's own border is left out.
fn road_share(grids: &[&MultiPolygon<f64>], community: &RTree<Seg>, roads: &RTree<Seg>) -> f64 {
    let (mut all, mut on) = (0.0, 0.0);
    let step = 2.0;
    for g in grids {
        for (a, b) in edges(g) {
            let len = (b.x - a.x).hypot(b.y - a.y);
            let n = (len / step).ceil().max(1.0) as usize;
            for k in 0..n {
                let t = (k as f64 + 0.5) / n as f64;
                let p = [a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)];
                if community
                    .nearest_neighbor(&p)
                    .is_some_and(|s| rstar::PointDistance::distance_2(s, &p) < 0.25)
                {
                    continue;
                }
                all += len / n as f64;
                if roads.nearest_neighbor(&p).is_some_and(|s| {
                    rstar::PointDistance::distance_2(s, &p) <= ROAD_NEAR_M * ROAD_NEAR_M
                }) {
                    on += len / n as f64;
                }
            }
        }
    }
    if all > 0.0 { on / all } else { 0.0 }
}

fn median(v: &mut [u64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
    }
}

fn metrics(
    households: &[u64],
    polys: &[&MultiPolygon<f64>],
    opts: &PartitionOptions,
    inp: &Input,
) -> PartitionMetrics {
    let mut h = households.to_vec();
    let pp: Vec<f64> = polys.iter().map(|p| compactness(p)).collect();
    let in_band = h
        .iter()
        .filter(|&&x| deviation(x, u64::from(opts.min), u64::from(opts.max)) == 0)
        .count();
    let community_edges = edge_tree(&inp.community);
    PartitionMetrics {
        grids: h.len(),
        households_min: h.iter().copied().min().unwrap_or(0),
        households_max: h.iter().copied().max().unwrap_or(0),
        households_median: median(&mut h),
        share_in_band: if households.is_empty() {
            0.0
        } else {
            in_band as f64 / households.len() as f64
        },
        compactness_mean: if pp.is_empty() {
            0.0
        } else {
            pp.iter().sum::<f64>() / pp.len() as f64
        },
        compactness_worst: pp
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .clamp(0.0, 1.0),
        road_share: road_share(polys, &community_edges, &inp.roads),
        households_moved: 0,
        buildings_moved: 0,
    }
}

/// The graph of the buildings' cells.
fn graph(inp: &Input, borders: &HashMap<(u32, u32), cells::Border>) -> Graph {
    let n = inp.building.len();
    let mut g = Graph {
        weight: inp
            .households
            .iter()
            .map(|&h| h.min(u64::from(u32::MAX)) as u32)
            .collect(),
        pos: inp.inside.iter().map(|c| (c.x, c.y)).collect(),
        adj: vec![Vec::new(); n],
    };
    for (&(a, b), br) in borders {
        let cost = (br.len - (1.0 - regions::ROAD_FACTOR) * br.on_road).max(0.0);
        g.adj[a as usize].push((b, cost));
        g.adj[b as usize].push((a, cost));
    }
    for a in &mut g.adj {
        a.sort_by_key(|x| x.0);
    }
    g
}

/// A code under the community that no area has, and its number.
fn new_code(d: &District, community: &str, taken: &mut BTreeSet<String>) -> (String, usize) {
    for n in 1..1000 {
        let code = format!("{community}{n:03}");
        if !taken.contains(&code) {
            taken.insert(code.clone());
            return (code, n);
        }
    }
    let n = d.areas.len() + taken.len();
    let code = format!("{community}{n}");
    taken.insert(code.clone());
    (code, n)
}

/// Proposes basic grids for `community` (see the module).
pub fn partition(
    d: &District,
    a: &Assignment,
    community: AreaId,
    opts: &PartitionOptions,
    cancel: &crate::cancel::Cancel,
) -> Result<Proposal, PartitionError> {
    let started = std::time::Instant::now();
    let c = d.area(community);
    if c.level != Level::Community {
        return Err(PartitionError::NotACommunity(c.code.clone()));
    }
    if opts.min == 0 || opts.min > opts.max {
        return Err(PartitionError::BadBand {
            min: opts.min,
            max: opts.max,
        });
    }
    let inp = input(d, a, community)?;
    let (min, max) = (u64::from(opts.min), u64::from(opts.max));
    let total: u64 = inp.households.iter().sum();
    let want = region_count(total, inp.building.len(), min, max);
    if want > MAX_GRIDS {
        return Err(PartitionError::TooManyGrids {
            households: total,
            grids: want,
            min: opts.min,
            max: opts.max,
        });
    }
    let mut notes = Vec::new();
    let sites = inp.sites();
    // Fresh: one tiling of the community. Keeping today's grids: a tiling
    // of each grid, so a building that moves takes its piece of today's
    // grid with it and the grids it does not touch stay as they are.
    let tiling = if opts.keep_existing {
        local_tiling(d, &inp, &sites)?
    } else {
        let c = cells::cells(&sites, &inp.community, &inp.roads)?;
        let within = vec![None; sites.len()];
        Tiling {
            faces: c.faces,
            within,
            borders: c.borders,
        }
    };
    let g = graph(&inp, &tiling.borders);
    cancel.check()?;
    let labels = if inp.building.is_empty() {
        Vec::new()
    } else {
        regions::partition(
            &g,
            &Params {
                min,
                max,
                origin: opts.keep_existing.then(|| inp.origin.clone()),
                seed: opts.seed,
                restarts: 6,
                cancel: cancel.clone(),
            },
        )
    };
    cancel.check()?;
    let regions_n = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let members: Vec<Vec<usize>> = {
        let mut m = vec![Vec::new(); regions_n];
        for (i, &l) in labels.iter().enumerate() {
            m[l as usize].push(i);
        }
        m
    };
    // Which of today's grids each region is.
    let mut code_of: Vec<Option<usize>> = vec![None; regions_n];
    if opts.keep_existing {
        for (r, c) in code_of.iter_mut().enumerate() {
            if r < inp.basic.len() && !members[r].is_empty() {
                *c = Some(r);
            }
        }
    } else {
        // Greedy: the pair sharing the most households (then buildings)
        // first.
        let mut overlap: HashMap<(usize, usize), u64> = HashMap::new();
        for (i, &l) in labels.iter().enumerate() {
            if inp.origin[i] != u32::MAX {
                *overlap
                    .entry((l as usize, inp.origin[i] as usize))
                    .or_default() += inp.households[i] * 1000 + 1;
            }
        }
        let mut pairs: Vec<((usize, usize), u64)> = overlap.into_iter().collect();
        pairs.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        let mut used = vec![false; inp.basic.len()];
        for ((r, o), _) in pairs {
            if code_of[r].is_none() && !used[o] {
                code_of[r] = Some(o);
                used[o] = true;
            }
        }
    }
    // Which regions change: all when cut afresh; with today's grids kept,
    // those whose buildings differ from today's.
    let mut redrawn = vec![!opts.keep_existing; regions_n];
    if opts.keep_existing {
        for (i, &l) in labels.iter().enumerate() {
            let o = inp.origin[i];
            if code_of[l as usize] != Some(o as usize) {
                redrawn[l as usize] = true;
                if let Some(r) = code_of.iter().position(|&c| c == Some(o as usize)) {
                    redrawn[r] = true;
                }
            }
        }
    }
    let kept_today: Vec<bool> = (0..inp.basic.len())
        .map(|o| {
            code_of
                .iter()
                .enumerate()
                .any(|(r, &c)| c == Some(o) && !redrawn[r])
        })
        .collect();
    // The area the redrawn grids share.
    let area = if opts.keep_existing {
        let parts: Vec<Polygon<f64>> = inp
            .basic
            .iter()
            .enumerate()
            .filter(|&(o, _)| !kept_today[o])
            .flat_map(|(_, &g)| inp.proj.multi_polygon(&d.area(g).boundary).0)
            .collect();
        geo::unary_union(parts.iter())
    } else {
        inp.community.clone()
    };
    let mut shapes: Vec<MultiPolygon<f64>> = vec![MultiPolygon::new(vec![]); regions_n];
    for r in (0..regions_n).filter(|&r| redrawn[r]) {
        shapes[r] = tiling.outline(&members[r], &inp, d, &area);
    }
    cancel.check()?;
    if redrawn.iter().any(|&x| x) {
        mend(&mut shapes, &redrawn, &members, &inp, &area);
    }
    for s in &mut shapes {
        *s = tidy(std::mem::replace(s, MultiPolygon::new(vec![])));
    }
    // No buildings at all: the community is one grid.
    if inp.building.is_empty() {
        notes.push(PartitionNote::NoBuildings);
    }
    if total < min && !inp.building.is_empty() {
        notes.push(PartitionNote::TooFewHouseholds {
            households: total,
            min: opts.min,
        });
    }
    for (i, &h) in inp.households.iter().enumerate() {
        if h > max {
            notes.push(PartitionNote::BuildingOverMax {
                building: d.buildings[inp.building[i]].code.clone(),
                households: h,
                max: opts.max,
            });
        }
        let outside = inp.footprint[i].difference(&inp.community).unsigned_area();
        if outside > 0.01 * inp.footprint[i].unsigned_area().max(1.0) {
            notes.push(PartitionNote::BuildingOutsideCommunity {
                building: d.buildings[inp.building[i]].code.clone(),
            });
        }
    }
    for comp in regions::components(&g, |_| true) {
        let h: u64 = comp.iter().map(|&i| inp.households[i as usize]).sum();
        let k = region_count(h, comp.len(), min, max);
        let k64 = k as u64;
        if h >= min && (h > k64 * max || h < k64 * min) {
            notes.push(PartitionNote::BandUnreachable {
                households: h,
                grids: k,
            });
        }
    }
    // The grids, today's order first.
    let mut taken: BTreeSet<String> = d.areas.iter().map(|x| x.code.clone()).collect();
    let short = c
        .name
        .trim_end_matches("居委会")
        .trim_end_matches("社区")
        .to_string();
    let mut grids = Vec::new();
    let mut new_grids = Vec::new();
    let mut region_households = Vec::new();
    let mut region_polys: Vec<MultiPolygon<f64>> = Vec::new();
    let mut order: Vec<usize> = (0..regions_n).filter(|&r| !members[r].is_empty()).collect();
    order.sort_by_key(|&r| (code_of[r].unwrap_or(usize::MAX), r));
    for r in order {
        let households: u64 = members[r].iter().map(|&i| inp.households[i]).sum();
        let (code, name, fate, shape_m) = if let Some(o) = code_of[r] {
            {
                let area = d.area(inp.basic[o]);
                if redrawn[r] {
                    (
                        area.code.clone(),
                        area.name.clone(),
                        GridFate::Reshaped,
                        shapes[r].clone(),
                    )
                } else {
                    (
                        area.code.clone(),
                        area.name.clone(),
                        GridFate::Kept,
                        inp.proj.multi_polygon(&area.boundary),
                    )
                }
            }
        } else {
            let (code, n) = new_code(d, &c.code, &mut taken);
            new_grids.push(code.clone());
            (
                code,
                format!("{short}第{n}网格"),
                GridFate::New,
                shapes[r].clone(),
            )
        };
        let in_band = deviation(households, min, max) == 0;
        if !in_band && total >= min {
            notes.push(PartitionNote::GridOutOfBand {
                grid: code.clone(),
                households,
            });
        }
        let boundary = if fate == GridFate::Kept {
            d.area(inp.basic[code_of[r].unwrap_or(0)]).boundary.clone()
        } else {
            to_lon_lat(&inp.proj, &shape_m)
        };
        grids.push(ProposedGrid {
            code,
            name,
            fate,
            households,
            buildings: members[r].len(),
            compactness: compactness(&shape_m),
            in_band,
            boundary,
        });
        region_households.push(households);
        region_polys.push(shape_m);
    }
    if inp.building.is_empty() {
        // One grid: the first of today's, or a new one, over the whole
        // community.
        let boundary = to_lon_lat(&inp.proj, &inp.community);
        let (code, name, fate) = if let Some(&g) = inp.basic.first() {
            (
                d.area(g).code.clone(),
                d.area(g).name.clone(),
                GridFate::Reshaped,
            )
        } else {
            let (code, n) = new_code(d, &c.code, &mut taken);
            (code, format!("{short}第{n}网格"), GridFate::New)
        };
        grids.push(ProposedGrid {
            code,
            name,
            fate,
            households: 0,
            buildings: 0,
            compactness: compactness(&inp.community),
            in_band: false,
            boundary,
        });
        region_households.push(0);
        region_polys.push(inp.community.clone());
    }
    if !new_grids.is_empty() {
        notes.push(PartitionNote::NewGridsWithoutTeam { grids: new_grids });
    }
    let used: BTreeSet<String> = grids.iter().map(|g| g.code.clone()).collect();
    for &g in &inp.basic {
        let a = d.area(g);
        if !used.contains(&a.code) {
            grids.push(ProposedGrid {
                code: a.code.clone(),
                name: a.name.clone(),
                fate: GridFate::Removed,
                households: 0,
                buildings: 0,
                compactness: 0.0,
                in_band: false,
                boundary: MultiPolygon::new(vec![]),
            });
        }
    }
    if grids.iter().all(|g| g.fate == GridFate::Kept) {
        notes.push(PartitionNote::NothingToChange);
    }
    let polys: Vec<&MultiPolygon<f64>> = region_polys.iter().collect();
    let mut m = metrics(&region_households, &polys, opts, &inp);
    for (i, &l) in labels.iter().enumerate() {
        if code_of[l as usize] != Some(inp.origin[i] as usize) {
            m.households_moved += inp.households[i];
            m.buildings_moved += 1;
        }
    }
    // Today's figures.
    let mut today_h = vec![0u64; inp.basic.len()];
    for (i, &o) in inp.origin.iter().enumerate() {
        if o != u32::MAX {
            today_h[o as usize] += inp.households[i];
        }
    }
    let today_polys: Vec<MultiPolygon<f64>> = inp
        .basic
        .iter()
        .map(|&g| inp.proj.multi_polygon(&d.area(g).boundary))
        .collect();
    let today = metrics(
        &today_h,
        &today_polys.iter().collect::<Vec<_>>(),
        opts,
        &inp,
    );
    Ok(Proposal {
        community: c.code.clone(),
        community_name: c.name.clone(),
        options: opts.clone(),
        grids,
        metrics: m,
        today,
        notes,
        runtime_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The pieces buildings' shapes are drawn from.
struct Tiling {
    /// Per node: its Voronoi faces.
    faces: Vec<Vec<Polygon<f64>>>,
    /// Per node: the grid of today its faces are cut to (`None`: the
    /// region given).
    within: Vec<Option<usize>>,
    borders: HashMap<(u32, u32), cells::Border>,
}

impl Tiling {
    /// The shape of a set of nodes within `area`: its faces united in one
    /// overlay per grid of today they come from, cut to that grid.
    fn outline(
        &self,
        nodes: &[usize],
        inp: &Input,
        d: &District,
        area: &MultiPolygon<f64>,
    ) -> MultiPolygon<f64> {
        let mut by: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
        for &i in nodes {
            by.entry(self.within[i]).or_default().push(i);
        }
        let mut parts: Vec<MultiPolygon<f64>> = by
            .into_iter()
            .map(|(w, ns)| {
                let faces = ns.iter().flat_map(|&i| self.faces[i].iter());
                match w {
                    None => cells::outline(faces, area),
                    Some(o) => cells::outline(
                        faces,
                        &inp.proj.multi_polygon(&d.area(inp.basic[o]).boundary),
                    ),
                }
            })
            .collect();
        match parts.len() {
            0 => MultiPolygon::new(vec![]),
            1 => parts.remove(0),
            _ => {
                // Parts cut from different grids meet along today's
                // borders, but each overlay put its own vertices on them a
                // micrometre off the line: closing the union by a
                // millimetre (out, then back in, with mitred corners)
                // joins them.
                use geo::{
                    Buffer,
                    buffer::{BufferStyle, LineJoin},
                };
                let polys: Vec<Polygon<f64>> = parts.into_iter().flat_map(|m| m.0).collect();
                let u = geo::unary_union(polys.iter());
                if u.0.len() <= 1 {
                    return u;
                }
                let style = |d: f64| BufferStyle::new(d).line_join(LineJoin::Miter(100.0));
                u.buffer_with_style(style(1e-3))
                    .buffer_with_style(style(-1e-3))
            }
        }
    }
}

/// Cells of each of today's grids' buildings within that grid, and the
/// borders between them: inside a grid from its Voronoi diagram, across
/// grids where two buildings' cells meet along the grids' shared border.
/// A building in no grid today borders its nearest neighbour.
fn local_tiling(d: &District, inp: &Input, sites: &[Site]) -> Result<Tiling, PartitionError> {
    let n = sites.len();
    let mut faces = vec![Vec::new(); n];
    let mut within = vec![None; n];
    let mut borders: HashMap<(u32, u32), cells::Border> = HashMap::new();
    let mut shape: Vec<MultiPolygon<f64>> = vec![MultiPolygon::new(vec![]); n];
    for o in 0..inp.basic.len() {
        let nodes: Vec<usize> = (0..n).filter(|&i| inp.origin[i] == o as u32).collect();
        if nodes.is_empty() {
            continue;
        }
        let grid = inp.proj.multi_polygon(&d.area(inp.basic[o]).boundary);
        let s: Vec<Site> = nodes.iter().map(|&i| sites[i].clone()).collect();
        let c = cells::cells(&s, &grid, &inp.roads)?;
        for (&(a, b), br) in &c.borders {
            let (a, b) = (nodes[a as usize] as u32, nodes[b as usize] as u32);
            borders.insert((a.min(b), a.max(b)), *br);
        }
        for (k, f) in c.faces.into_iter().enumerate() {
            shape[nodes[k]] = cells::outline(f.iter(), &grid);
            faces[nodes[k]] = f;
            within[nodes[k]] = Some(o);
        }
    }
    // Across grids: cells that meet along a border of today's grids.
    let boxes: Vec<Option<geo::Rect<f64>>> =
        shape.iter().map(BoundingRect::bounding_rect).collect();
    let tree: RTree<
        rstar::primitives::GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, usize>,
    > = RTree::bulk_load(
        boxes
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                b.map(|b| {
                    rstar::primitives::GeomWithData::new(
                        rstar::primitives::Rectangle::from_corners(
                            [b.min().x - 0.01, b.min().y - 0.01],
                            [b.max().x + 0.01, b.max().y + 0.01],
                        ),
                        i,
                    )
                })
            })
            .collect(),
    );
    for a in 0..n {
        let Some(ba) = boxes[a] else { continue };
        let env = rstar::AABB::from_corners(
            [ba.min().x - 0.01, ba.min().y - 0.01],
            [ba.max().x + 0.01, ba.max().y + 0.01],
        );
        let edges_a = edge_tree(&shape[a]);
        for hit in tree.locate_in_envelope_intersecting(&env) {
            let b = hit.data;
            if b <= a || inp.origin[a] == inp.origin[b] {
                continue;
            }
            let len = shared_length_within(&shape[b], &edges_a, 1e-3);
            if len <= 0.0 {
                continue;
            }
            let (p, q) = (inp.inside[a], inp.inside[b]);
            let env = rstar::AABB::from_corners(
                [p.x.min(q.x), p.y.min(q.y)],
                [p.x.max(q.x), p.y.max(q.y)],
            );
            let separated = inp
                .roads
                .locate_in_envelope_intersecting(&env)
                .any(|s| cells::segments_meet(p, q, s.0, s.1));
            borders.insert(
                (a as u32, b as u32),
                cells::Border {
                    len,
                    on_road: if separated { len } else { 0.0 },
                },
            );
        }
    }
    // Buildings in no grid today: joined to the nearest building.
    for a in (0..n).filter(|&i| inp.origin[i] == u32::MAX) {
        let near = (0..n).filter(|&b| b != a).min_by(|&x, &y| {
            let dx = (inp.inside[x].x - inp.inside[a].x).hypot(inp.inside[x].y - inp.inside[a].y);
            let dy = (inp.inside[y].x - inp.inside[a].x).hypot(inp.inside[y].y - inp.inside[a].y);
            dx.total_cmp(&dy)
        });
        if let Some(b) = near {
            borders.insert(
                ((a.min(b)) as u32, (a.max(b)) as u32),
                cells::Border {
                    len: 0.0,
                    on_road: 0.0,
                },
            );
        }
    }
    Ok(Tiling {
        faces,
        within,
        borders,
    })
}

/// Drops what the overlays leave as noise: holes and pieces under a
/// hundredth of a square metre.
fn tidy(mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    MultiPolygon::new(
        mp.0.into_iter()
            .filter(|p| p.unsigned_area() >= 1e-2)
            .map(|p| {
                let (ext, holes) = p.into_inner();
                let holes = holes
                    .into_iter()
                    .filter(|h| Polygon::new(h.clone(), vec![]).unsigned_area() >= 1e-2)
                    .collect();
                Polygon::new(ext, holes)
            })
            .collect(),
    )
}

fn to_lon_lat(proj: &LocalProjection, mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::MapCoords;
    mp.map_coords(|c| {
        let (x, y) = proj.to_lon_lat(c.x, c.y);
        Coord { x, y }
    })
}

/// Mends the redrawn shapes: a piece holding none of its region's
/// buildings goes to the redrawn neighbour it borders most; a footprint
/// its grid does not hold whole is given to it.
fn mend(
    shapes: &mut [MultiPolygon<f64>],
    redrawn: &[bool],
    members: &[Vec<usize>],
    inp: &Input,
    area: &MultiPolygon<f64>,
) {
    let n = shapes.len();
    // Footprints first: each building whole in its region's shape.
    for r in (0..n).filter(|&r| redrawn[r]) {
        for &i in &members[r] {
            let fp = &inp.footprint[i];
            if fp.difference(&shapes[r]).unsigned_area() <= 1e-6 {
                continue;
            }
            let fp_in = fp.intersection(area);
            shapes[r] = shapes[r].union(&fp_in);
            for s in (0..n).filter(|&s| s != r && redrawn[s]) {
                if shapes[s]
                    .bounding_rect()
                    .is_some_and(|b| fp.bounding_rect().is_some_and(|f| overlaps(b, f)))
                {
                    shapes[s] = shapes[s].difference(fp);
                }
            }
        }
    }
    // Then pieces cut off from their buildings.
    for _round in 0..4 {
        let mut moved = false;
        for r in (0..n).filter(|&r| redrawn[r]) {
            if shapes[r].0.len() <= 1 {
                continue;
            }
            let (keep, orphans): (Vec<Polygon<f64>>, Vec<Polygon<f64>>) =
                shapes[r].0.iter().cloned().partition(|p| {
                    members[r]
                        .iter()
                        .any(|&i| crate::pip::contains(p, inp.inside[i].x, inp.inside[i].y))
                });
            if orphans.is_empty() {
                continue;
            }
            let mut kept = keep;
            for o in orphans {
                if o.unsigned_area() < 1e-4 {
                    continue; // noise of the overlay
                }
                let tree = edge_tree(&MultiPolygon::new(vec![o.clone()]));
                let best = (0..n)
                    .filter(|&s| s != r && redrawn[s] && !shapes[s].0.is_empty())
                    .map(|s| (s, shared_length_within(&shapes[s], &tree, 1e-3)))
                    .filter(|&(_, l)| l > 0.0)
                    .max_by(|x, y| x.1.total_cmp(&y.1));
                match best {
                    Some((s, _)) => {
                        shapes[s] = shapes[s].union(&MultiPolygon::new(vec![o]));
                        moved = true;
                    }
                    None => kept.push(o),
                }
            }
            shapes[r] = MultiPolygon::new(kept);
        }
        if !moved {
            break;
        }
    }
}

fn overlaps(a: geo::Rect<f64>, b: geo::Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

/// The length of `mp`'s edges whose midpoints lie within `tol` metres of
/// an edge in `tree`.
fn shared_length_within(mp: &MultiPolygon<f64>, tree: &RTree<Seg>, tol: f64) -> f64 {
    edges(mp)
        .filter(|(a, b)| {
            let m = [f64::midpoint(a.x, b.x), f64::midpoint(a.y, b.y)];
            tree.nearest_neighbor(&m)
                .is_some_and(|s| rstar::PointDistance::distance_2(s, &m) < tol * tol)
        })
        .map(|(a, b)| (b.x - a.x).hypot(b.y - a.y))
        .sum()
}

#[cfg(test)]
mod tests;
