//! The district prepared for tiles: every layer projected to Web Mercator
//! once, with the attributes the tiles carry, behind R-trees. Built from a
//! district and its assignment; answers vector tiles, raster tiles and
//! heatmaps for any tile.

use std::collections::HashMap;
use std::sync::Arc;

use geo::Area;

use gridgov_spatial::{AreaStats, Assignment, District, GridKind, time};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::basemap::{BaseLayers, TileFrame};
use crate::clip::clip_polygon;
use crate::kde::{Density, RasterSpec, kde};
use crate::mvt::{LayerBuilder, Prop, encode};
use crate::simplify::simplify_ring;
use crate::tile::{TileId, lonlat_to_mercator};

/// Extent of the vector tiles (units per side).
pub const EXTENT: u32 = 4096;
/// Buffer around a vector tile, in tile units (so strokes and markers
/// crossing the edge draw on both sides).
pub const BUFFER: u32 = 64;
/// From this zoom on incidents are single points; below, counts per cell.
pub const INCIDENT_POINT_ZOOM: u8 = 15;

/// The layers of the vector tiles: the district's, then the base map's
/// (roads, water, place names; see [`crate::basemap`]).
pub const LAYERS: [&str; 9] = [
    "grids",
    "buildings",
    "units",
    "merchants",
    "cameras",
    "incidents",
    "roads",
    "water",
    "places",
];

pub(crate) type Polys = Vec<Vec<Vec<[f64; 2]>>>;

pub(crate) struct PolyFeature {
    pub(crate) polys: Polys,
    pub(crate) props: Vec<(&'static str, Prop)>,
    pub(crate) kind: Option<GridKind>,
    /// For grids: the name and a point inside to centre it on (Mercator).
    pub(crate) label: Option<(String, [f64; 2])>,
}

pub(crate) type Boxed = GeomWithData<Rectangle<[f64; 2]>, usize>;
pub(crate) type Pt = GeomWithData<[f64; 2], usize>;

pub(crate) struct PointLayer {
    tree: RTree<Pt>,
    pub(crate) props: Vec<Vec<(&'static str, Prop)>>,
}

/// Which incidents a heatmap or tile counts. Dates are local days (in
/// Beijing), inclusive; `None` means no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IncidentFilter {
    /// First day.
    pub from: Option<gridgov_spatial::Date>,
    /// Last day.
    pub to: Option<gridgov_spatial::Date>,
    /// Categories (any of).
    pub categories: Vec<String>,
    /// Sources (any of), as in the model (`hotline_12345`, `wechat`, …).
    pub sources: Vec<String>,
    /// Statuses (any of); `open` stands for every open status.
    pub statuses: Vec<String>,
}

/// One incident as the tiles see it.
#[derive(Clone, Copy, PartialEq)]
struct Row {
    xy: [f64; 2],
    /// Local day (days since 1970-01-01 in Beijing).
    day: i64,
    category: u16,
    source: &'static str,
    status: &'static str,
    open: bool,
    /// The grid (area index) it is in, for rates; `u32::MAX` for none.
    grid: u32,
}

/// Rows built from every incident at once, behind one R-tree.
struct Base {
    rows: Vec<Row>,
    tree: RTree<Pt>,
}

/// The incident layer: a base built from every incident, and the rows
/// changed or added since, in a small overlay with its own R-tree (a
/// write rebuilds the overlay, not the layer; past [`OVERLAY_ROWS`] the
/// layer is built again from every incident).
#[derive(Clone)]
struct Incidents {
    base: Arc<Base>,
    /// Rows changed or added since `base` was built, by index.
    changed: Arc<HashMap<u32, Row>>,
    changed_tree: Arc<RTree<Pt>>,
    /// Every category, in order of first appearance (indexes of `Row::category`).
    categories: Arc<Vec<String>>,
    /// Rows per category.
    per_category: Arc<Vec<u32>>,
    len: usize,
}

/// How many changed rows the incident layer keeps over its base before it
/// is built again from every incident.
pub const OVERLAY_ROWS: usize = 4096;

impl Incidents {
    fn row(&self, i: usize) -> &Row {
        self.changed
            .get(&(i as u32))
            .unwrap_or_else(|| &self.base.rows[i])
    }

    /// The rows within `b`, in index order.
    fn within(&self, b: [f64; 4]) -> Vec<usize> {
        let env = AABB::from_corners([b[0], b[1]], [b[2], b[3]]);
        let base = self.base.tree.locate_in_envelope(&env).map(|p| p.data);
        let mut v: Vec<usize> = if self.changed.is_empty() {
            base.collect()
        } else {
            base.filter(|&i| !self.changed.contains_key(&(i as u32)))
                .chain(self.changed_tree.locate_in_envelope(&env).map(|p| p.data))
                .collect()
        };
        v.sort_unstable();
        v
    }

    /// Every row's position.
    fn all_xy(&self) -> Vec<[f64; 2]> {
        (0..self.len).map(|i| self.row(i).xy).collect()
    }
}
/// A district ready for tiles.
///
/// Two parts: the layers that only change with boundaries, buildings,
/// units, merchants or cameras ([`TileLayers`], shared), and what depends
/// on the incidents (their layer and each grid's open cases), built for
/// each new set of incidents with [`TileSource::with_layers`], or changed
/// row by row with [`TileSource::with_changed_incidents`]. Cloning one
/// shares every layer.
#[derive(Clone)]
pub struct TileSource {
    pub(crate) grids: Arc<Vec<PolyFeature>>,
    grid_tree: Arc<RTree<Boxed>>,
    pub(crate) buildings: Arc<Vec<PolyFeature>>,
    building_tree: Arc<RTree<Boxed>>,
    pub(crate) units: Arc<PointLayer>,
    pub(crate) merchants: Arc<PointLayer>,
    pub(crate) cameras: Arc<PointLayer>,
    pub(crate) base: Arc<BaseLayers>,
    incidents: Incidents,
    /// Open incidents per grid feature (in the order of `grids`).
    grid_open: Vec<i64>,
    grid_households: Arc<Vec<u32>>,
    /// The district's Mercator bounds `[min_x, min_y, max_x, max_y]`.
    pub bounds: [f64; 4],
    /// The district's bounds in longitude/latitude.
    pub bounds_lonlat: [f64; 4],
}

/// The layers of a [`TileSource`] that do not depend on incidents, to
/// share with the next source when only incidents (or households) change.
#[derive(Clone)]
pub struct TileLayers {
    grids: Arc<Vec<PolyFeature>>,
    grid_tree: Arc<RTree<Boxed>>,
    buildings: Arc<Vec<PolyFeature>>,
    building_tree: Arc<RTree<Boxed>>,
    units: Arc<PointLayer>,
    merchants: Arc<PointLayer>,
    cameras: Arc<PointLayer>,
    base: Arc<BaseLayers>,
    grid_households: Arc<Vec<u32>>,
    bounds: [f64; 4],
    bounds_lonlat: [f64; 4],
}

pub(crate) fn project_polys(mp: &geo::MultiPolygon<f64>) -> (Polys, [f64; 4]) {
    let mut bb = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    let polys =
        mp.0.iter()
            .map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| {
                        r.0.iter()
                            .map(|c| {
                                let (x, y) = lonlat_to_mercator(c.x, c.y);
                                bb = [bb[0].min(x), bb[1].min(y), bb[2].max(x), bb[3].max(y)];
                                [x, y]
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
    (polys, bb)
}

pub(crate) fn boxes(items: &[[f64; 4]]) -> RTree<Boxed> {
    RTree::bulk_load(
        items
            .iter()
            .enumerate()
            .filter(|(_, b)| b[0].is_finite())
            .map(|(i, b)| GeomWithData::new(Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]), i))
            .collect(),
    )
}

/// The items whose boxes meet `b`, in index order (deterministic tiles).
pub(crate) fn boxes_in(tree: &RTree<Boxed>, b: [f64; 4]) -> Vec<usize> {
    let mut v: Vec<usize> = tree
        .locate_in_envelope_intersecting(&AABB::from_corners([b[0], b[1]], [b[2], b[3]]))
        .map(|g| g.data)
        .collect();
    v.sort_unstable();
    v
}

pub(crate) fn points(xy: &[[f64; 2]]) -> RTree<Pt> {
    RTree::bulk_load(
        xy.iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new(*p, i))
            .collect(),
    )
}

fn mercator(p: geo::Point<f64>) -> [f64; 2] {
    let (x, y) = lonlat_to_mercator(p.x(), p.y());
    [x, y]
}

/// Open incidents per grid, in the order of `d.grids()`.
fn grid_open<'a>(d: &District, stats: impl IntoIterator<Item = &'a AreaStats>) -> Vec<i64> {
    let open: HashMap<usize, usize> = stats
        .into_iter()
        .map(|s| (s.id.index(), s.counts.open_incidents))
        .collect();
    d.grids()
        .map(|g| open.get(&g.index()).copied().unwrap_or(0) as i64)
        .collect()
}

/// Incident `i` of `d` as a row, its category looked up (or added) in
/// `categories`.
fn row_of(d: &District, a: &Assignment, i: usize, categories: &mut Vec<String>) -> Row {
    let x = &d.incidents[i];
    let category = if let Some(c) = categories.iter().position(|c| *c == x.category) {
        c as u16
    } else {
        categories.push(x.category.clone());
        (categories.len() - 1) as u16
    };
    row(x, a.incidents[i], category)
}

/// Incident `x`, placed `p`, as a row of category `category`.
fn row(x: &gridgov_spatial::Incident, p: gridgov_spatial::Placement, category: u16) -> Row {
    Row {
        xy: mercator(x.location),
        day: time::local_day(x.reported_at, time::CHINA_OFFSET_S),
        category,
        source: x.source.as_str(),
        status: x.status.as_str(),
        open: x.status.is_open(),
        grid: p.responsible().map_or(u32::MAX, |g| g.index() as u32),
    }
}

/// The incident layer of `d`, built from every incident.
fn incidents_of(d: &District, a: &Assignment) -> Incidents {
    let mut categories: Vec<String> = Vec::new();
    let mut cat_index: HashMap<&str, u16> = HashMap::new();
    let mut rows = Vec::with_capacity(d.incidents.len());
    for (x, p) in d.incidents.iter().zip(a.incidents.iter()) {
        let next = cat_index.len() as u16;
        let category = *cat_index.entry(x.category.as_str()).or_insert_with(|| {
            categories.push(x.category.clone());
            next
        });
        rows.push(row(x, *p, category));
    }
    let mut per_category = vec![0u32; categories.len()];
    for r in &rows {
        per_category[r.category as usize] += 1;
    }
    let xy: Vec<[f64; 2]> = rows.iter().map(|r| r.xy).collect();
    Incidents {
        len: rows.len(),
        base: Arc::new(Base {
            tree: points(&xy),
            rows,
        }),
        changed: Arc::default(),
        changed_tree: Arc::new(RTree::new()),
        categories: Arc::new(categories),
        per_category: Arc::new(per_category),
    }
}

impl TileSource {
    /// Prepares `d` (with its assignment and statistics) for tiles.
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_tiles::{TileSource, TileId};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// let t = TileId::containing(117.555, 34.865, 14);
    /// assert!(!src.mvt(t).is_empty());
    /// ```
    pub fn new<'a>(
        d: &District,
        a: &Assignment,
        stats: impl IntoIterator<Item = &'a AreaStats>,
    ) -> Self {
        let stats: Vec<&AreaStats> = stats.into_iter().collect();
        let counts: HashMap<usize, &gridgov_spatial::Counts> =
            stats.iter().map(|s| (s.id.index(), &s.counts)).collect();
        let mut grid_households = vec![0u32; d.areas.len()];
        let mut grids = Vec::new();
        let mut grid_boxes = Vec::new();
        for g in d.grids() {
            let area = d.area(g);
            let c = counts.get(&g.index());
            let households = c.map_or(0, |c| c.households);
            grid_households[g.index()] = households as u32;
            let (polys, bb) = project_polys(&area.boundary);
            let community = area
                .parent
                .map(|p| d.area(p).name.clone())
                .unwrap_or_default();
            let label = area
                .boundary
                .0
                .iter()
                .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
                .and_then(geo::InteriorPoint::interior_point)
                .map(|p| (area.name.clone(), mercator(p)));
            grids.push(PolyFeature {
                polys,
                kind: area.kind,
                label,
                props: vec![
                    ("code", area.code.clone().into()),
                    ("name", area.name.clone().into()),
                    ("kind", area.kind.unwrap_or(GridKind::Basic).as_str().into()),
                    ("community", community.into()),
                    ("households", Prop::Int(households as i64)),
                ],
            });
            grid_boxes.push(bb);
        }
        let grid_code = |p: Option<gridgov_spatial::AreaId>| {
            p.map(|g| d.area(g).code.clone()).unwrap_or_default()
        };
        let mut buildings = Vec::with_capacity(d.buildings.len());
        let mut building_boxes = Vec::with_capacity(d.buildings.len());
        for (i, b) in d.buildings.iter().enumerate() {
            let (polys, bb) = project_polys(&b.footprint);
            buildings.push(PolyFeature {
                polys,
                kind: None,
                label: None,
                props: vec![
                    ("code", b.code.clone().into()),
                    ("address", b.address.clone().into()),
                    ("floors", Prop::Int(i64::from(b.floors))),
                    (
                        "grid",
                        grid_code(a.buildings[i].placement.responsible()).into(),
                    ),
                ],
            });
            building_boxes.push(bb);
        }
        let unit_xy: Vec<[f64; 2]> = d.units.iter().map(|u| mercator(u.location)).collect();
        let units = PointLayer {
            tree: points(&unit_xy),
            props: d
                .units
                .iter()
                .map(|u| {
                    vec![
                        ("label", u.label.clone().into()),
                        ("households", Prop::Int(i64::from(u.households))),
                    ]
                })
                .collect(),
        };
        let merchant_xy: Vec<[f64; 2]> = d.merchants.iter().map(|m| mercator(m.location)).collect();
        let merchants = PointLayer {
            tree: points(&merchant_xy),
            props: d
                .merchants
                .iter()
                .map(|m| {
                    vec![
                        ("name", m.name.clone().into()),
                        ("category", m.category.clone().into()),
                    ]
                })
                .collect(),
        };
        let camera_xy: Vec<[f64; 2]> = d.cameras.iter().map(|c| mercator(c.location)).collect();
        let cameras = PointLayer {
            tree: points(&camera_xy),
            props: d
                .cameras
                .iter()
                .map(|c| {
                    vec![
                        ("heading", Prop::Num(c.heading_deg)),
                        ("fov", Prop::Num(c.fov_deg)),
                        ("range_m", Prop::Num(c.range_m)),
                    ]
                })
                .collect(),
        };
        let mut bounds = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for b in &grid_boxes {
            bounds = [
                bounds[0].min(b[0]),
                bounds[1].min(b[1]),
                bounds[2].max(b[2]),
                bounds[3].max(b[3]),
            ];
        }
        if !bounds[0].is_finite() {
            bounds = [0.0; 4];
        }
        let (w, s) = crate::tile::mercator_to_lonlat(bounds[0], bounds[1]);
        let (e, n) = crate::tile::mercator_to_lonlat(bounds[2], bounds[3]);
        let layers = TileLayers {
            grid_tree: Arc::new(boxes(&grid_boxes)),
            grids: Arc::new(grids),
            building_tree: Arc::new(boxes(&building_boxes)),
            buildings: Arc::new(buildings),
            units: Arc::new(units),
            merchants: Arc::new(merchants),
            cameras: Arc::new(cameras),
            base: Arc::new(BaseLayers::new(d)),
            grid_households: Arc::new(grid_households),
            bounds,
            bounds_lonlat: [w, s, e, n],
        };
        Self::with_layers(&layers, d, a, stats)
    }

    /// The layers that do not depend on incidents, to share.
    pub fn layers(&self) -> TileLayers {
        TileLayers {
            grids: self.grids.clone(),
            grid_tree: self.grid_tree.clone(),
            buildings: self.buildings.clone(),
            building_tree: self.building_tree.clone(),
            units: self.units.clone(),
            merchants: self.merchants.clone(),
            cameras: self.cameras.clone(),
            base: self.base.clone(),
            grid_households: self.grid_households.clone(),
            bounds: self.bounds,
            bounds_lonlat: self.bounds_lonlat,
        }
    }

    /// A source over `layers` (made from a district with the same areas,
    /// buildings, units, merchants and cameras as `d`, and the same
    /// households per grid) with `d`'s incidents: only the incident layer
    /// and the grids' open cases are built.
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_tiles::{TileSource, TileId};
    /// let mut d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// d.incidents.clear();
    /// let a2 = assign(&d, &GridIndex::new(&d));
    /// let none = TileSource::with_layers(&src.layers(), &d, &a2, &stats(&d, &a2));
    /// let t = TileId::containing(117.555, 34.865, 14);
    /// assert_eq!(none.mvt(t), TileSource::new(&d, &a2, &stats(&d, &a2)).mvt(t));
    /// assert_ne!(none.mvt(t), src.mvt(t));
    /// ```
    pub fn with_layers<'a>(
        layers: &TileLayers,
        d: &District,
        a: &Assignment,
        stats: impl IntoIterator<Item = &'a AreaStats>,
    ) -> Self {
        let l = layers.clone();
        TileSource {
            grids: l.grids,
            grid_tree: l.grid_tree,
            buildings: l.buildings,
            building_tree: l.building_tree,
            units: l.units,
            merchants: l.merchants,
            cameras: l.cameras,
            base: l.base,
            incidents: incidents_of(d, a),
            grid_open: grid_open(d, stats),
            grid_households: l.grid_households,
            bounds: l.bounds,
            bounds_lonlat: l.bounds_lonlat,
        }
    }

    /// This source with the incidents `changed` (indexes into
    /// `d.incidents`: rows changed or added since it was made) as they are
    /// in `d`, which has the same areas, buildings, units, merchants and
    /// cameras. The rows go into the incident layer's overlay and every
    /// other part is shared, so the cost follows the changed rows, not
    /// the district; past [`OVERLAY_ROWS`] of them the incident layer is
    /// built again from every incident. Rows appended to `d` count as
    /// changed even when `changed` leaves them out.
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats, IncidentStatus};
    /// use gridgov_tiles::{TileSource, TileId};
    /// let mut d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// d.incidents[0].status = IncidentStatus::Closed;
    /// let changed = src.with_changed_incidents(&d, &a, &stats(&d, &a), &[0]);
    /// let t = TileId::containing(d.incidents[0].location.x(), d.incidents[0].location.y(), 16);
    /// assert_eq!(changed.mvt(t), TileSource::new(&d, &a, &stats(&d, &a)).mvt(t));
    /// ```
    #[must_use]
    pub fn with_changed_incidents<'a>(
        &self,
        d: &District,
        a: &Assignment,
        stats: impl IntoIterator<Item = &'a AreaStats>,
        changed: &[u32],
    ) -> Self {
        let old = &self.incidents;
        let n = d.incidents.len().min(a.incidents.len());
        let appended = old.len.min(n)..n;
        if old.changed.len() + changed.len() + appended.len() > OVERLAY_ROWS {
            return Self::with_layers(&self.layers(), d, a, stats);
        }
        let mut rows = HashMap::clone(&old.changed);
        let mut categories = Vec::clone(&old.categories);
        let mut per_category = Vec::clone(&old.per_category);
        let indexes = changed.iter().map(|&i| i as usize).chain(appended);
        for i in indexes.filter(|&i| i < n) {
            let before = rows
                .get(&(i as u32))
                .or_else(|| old.base.rows.get(i))
                .map(|r| r.category as usize);
            let r = row_of(d, a, i, &mut categories);
            per_category.resize(categories.len(), 0);
            if let Some(c) = before {
                per_category[c] -= 1;
            }
            per_category[r.category as usize] += 1;
            rows.insert(i as u32, r);
        }
        let tree = RTree::bulk_load(
            rows.iter()
                .map(|(&i, r)| GeomWithData::new(r.xy, i as usize))
                .collect(),
        );
        TileSource {
            incidents: Incidents {
                base: old.base.clone(),
                changed: Arc::new(rows),
                changed_tree: Arc::new(tree),
                categories: Arc::new(categories),
                per_category: Arc::new(per_category),
                len: n,
            },
            grid_open: grid_open(d, stats),
            ..self.clone()
        }
    }

    /// The incident categories present, in order of first appearance.
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_tiles::TileSource;
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// assert!(src.categories().contains(&d.incidents[0].category));
    /// ```
    pub fn categories(&self) -> Vec<String> {
        let inc = &self.incidents;
        inc.categories
            .iter()
            .zip(inc.per_category.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(c, _)| c.clone())
            .collect()
    }

    pub(crate) fn grids_in(&self, b: [f64; 4]) -> Vec<usize> {
        boxes_in(&self.grid_tree, b)
    }

    pub(crate) fn buildings_in(&self, b: [f64; 4]) -> Vec<usize> {
        boxes_in(&self.building_tree, b)
    }

    pub(crate) fn points_in(layer: &PointLayer, b: [f64; 4]) -> Vec<(usize, [f64; 2])> {
        let mut v: Vec<(usize, [f64; 2])> = layer
            .tree
            .locate_in_envelope(&AABB::from_corners([b[0], b[1]], [b[2], b[3]]))
            .map(|p| (p.data, *p.geom()))
            .collect();
        v.sort_unstable_by_key(|p| p.0);
        v
    }

    fn keep(&self, i: usize, f: &IncidentFilter, range: (i64, i64), cats: &[u16]) -> bool {
        let r = self.incidents.row(i);
        (r.day >= range.0 && r.day <= range.1)
            && (cats.is_empty() || cats.contains(&r.category))
            && (f.sources.is_empty() || f.sources.iter().any(|s| s == r.source))
            && (f.statuses.is_empty()
                || f.statuses
                    .iter()
                    .any(|s| s == r.status || (s == "open" && r.open)))
    }

    fn filter_parts(&self, f: &IncidentFilter) -> ((i64, i64), Vec<u16>) {
        let from = f.from.map_or(i64::MIN, time::day_number);
        let to = f.to.map_or(i64::MAX, time::day_number);
        let cats = f
            .categories
            .iter()
            .map(|c| {
                self.incidents
                    .categories
                    .iter()
                    .position(|x| x == c)
                    .map_or(u16::MAX, |i| i as u16)
            })
            .collect();
        ((from, to), cats)
    }

    /// Whether a filter passes everything (the fast path).
    fn is_all(f: &IncidentFilter) -> bool {
        f.from.is_none()
            && f.to.is_none()
            && f.categories.is_empty()
            && f.sources.is_empty()
            && f.statuses.is_empty()
    }

    /// The incidents passing `f` within `b` (Mercator), with weights per
    /// 1,000 households of their grid when `per_households`.
    fn incidents_in(
        &self,
        b: Option<[f64; 4]>,
        f: &IncidentFilter,
        per_households: bool,
    ) -> (Vec<[f64; 2]>, Option<Vec<f32>>) {
        let (range, cats) = self.filter_parts(f);
        let idx: Vec<usize> = match b {
            Some(b) => {
                let mut v = self.incidents.within(b);
                v.retain(|&i| self.keep(i, f, range, &cats));
                v
            }
            None => (0..self.incidents.len)
                .filter(|&i| self.keep(i, f, range, &cats))
                .collect(),
        };
        let xy = idx.iter().map(|&i| self.incidents.row(i).xy).collect();
        let w = per_households.then(|| {
            idx.iter()
                .map(|&i| {
                    let g = self.incidents.row(i).grid as usize;
                    let h = self.grid_households.get(g).copied().unwrap_or(0);
                    if h == 0 { 0.0 } else { 1000.0 / h as f32 }
                })
                .collect()
        });
        (xy, w)
    }

    /// Every incident passing `f`, in Mercator metres, with weights per
    /// 1,000 households of their grid when `per_households` (the input of
    /// [`TileSource::density`], for renderers that do their own KDE).
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_tiles::{TileSource, IncidentFilter};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// let (xy, w) = src.incident_points(&IncidentFilter::default(), false);
    /// assert_eq!(xy.len(), d.incidents.len());
    /// assert!(w.is_none());
    /// ```
    pub fn incident_points(
        &self,
        f: &IncidentFilter,
        per_households: bool,
    ) -> (Vec<[f64; 2]>, Option<Vec<f32>>) {
        self.incidents_in(None, f, per_households)
    }

    /// The incident density over a raster (Mercator bounds), per km², or
    /// per km² per 1,000 households of the incidents' grids.
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_tiles::{TileSource, IncidentFilter, kde::RasterSpec};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// let spec = RasterSpec { bounds: src.bounds, width: 64, height: 64 };
    /// let all = src.density(&spec, &IncidentFilter::default(), 150.0, false);
    /// let none = src.density(&spec, &IncidentFilter { categories: vec!["no such".into()], ..Default::default() }, 150.0, false);
    /// assert!(all.max() > 0.0 && none.max() == 0.0);
    /// ```
    pub fn density(
        &self,
        spec: &RasterSpec,
        f: &IncidentFilter,
        bandwidth_m: f64,
        per_households: bool,
    ) -> Density {
        if Self::is_all(f) && !per_households {
            return kde(&self.incidents.all_xy(), None, spec, bandwidth_m);
        }
        let pad = 4.0 * bandwidth_m
            / crate::tile::ground_scale(f64::midpoint(spec.bounds[1], spec.bounds[3]));
        let b = [
            spec.bounds[0] - pad,
            spec.bounds[1] - pad,
            spec.bounds[2] + pad,
            spec.bounds[3] + pad,
        ];
        let (xy, w) = self.incidents_in(Some(b), f, per_households);
        kde(&xy, w.as_deref(), spec, bandwidth_m)
    }

    /// The highest density over the whole district (the top of the
    /// heatmap's colour scale, the same for every tile).
    pub fn density_max(&self, f: &IncidentFilter, bandwidth_m: f64, per_households: bool) -> f32 {
        let w = self.bounds[2] - self.bounds[0];
        let h = self.bounds[3] - self.bounds[1];
        if w <= 0.0 || h <= 0.0 {
            return 0.0;
        }
        // A raster with pixels a fifth of the bandwidth: the peak is exact
        // to well under a percent.
        let px = (bandwidth_m
            / 5.0
            / crate::tile::ground_scale(f64::midpoint(self.bounds[1], self.bounds[3])))
        .max(w.max(h) / 2048.0);
        let spec = RasterSpec {
            bounds: [
                self.bounds[0],
                self.bounds[3] - (h / px).ceil() * px,
                self.bounds[0] + (w / px).ceil() * px,
                self.bounds[3],
            ],
            width: (w / px).ceil() as usize,
            height: (h / px).ceil() as usize,
        };
        self.density(&spec, f, bandwidth_m, per_households).max()
    }

    /// The vector tile `t` with every layer.
    pub fn mvt(&self, t: TileId) -> Vec<u8> {
        self.mvt_layers(t, &LAYERS)
    }

    /// The vector tile `t` with the named layers.
    pub fn mvt_layers(&self, t: TileId, layers: &[&str]) -> Vec<u8> {
        self.mvt_layers_where(t, layers, &IncidentFilter::default())
    }

    /// The vector tile `t` with the named layers, its incidents (points,
    /// or counts per cell at low zooms) only those `f` lets through: the
    /// same filter as the heatmap's, so both show the same cases.
    ///
    /// ```
    /// use gridgov_spatial::{assign, sample, stats, GridIndex};
    /// use gridgov_tiles::{IncidentFilter, TileId, TileSource};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// let t = TileId::containing(117.55, 34.86, 12);
    /// let none = IncidentFilter { categories: vec!["no such".into()], ..Default::default() };
    /// assert!(src.mvt_layers_where(t, &["incidents"], &none).len()
    ///     < src.mvt_layers(t, &["incidents"]).len());
    /// ```
    pub fn mvt_layers_where(&self, t: TileId, layers: &[&str], f: &IncidentFilter) -> Vec<u8> {
        let [x0, y0, x1, y1] = t.bounds();
        let size = x1 - x0;
        let scale = f64::from(EXTENT) / size;
        let buf = f64::from(BUFFER) / scale;
        let q = [x0 - buf, y0 - buf, x1 + buf, y1 + buf];
        let to_tile = |p: [f64; 2]| [(p[0] - x0) * scale, (y1 - p[1]) * scale];
        let lo = -f64::from(BUFFER);
        let hi = f64::from(EXTENT + BUFFER);
        let round = |r: &[[f64; 2]]| -> Vec<[i32; 2]> {
            r.iter()
                .map(|p| [p[0].round() as i32, p[1].round() as i32])
                .collect()
        };
        let tile_polys = |polys: &Polys| -> Vec<Vec<Vec<[i32; 2]>>> {
            polys
                .iter()
                .filter_map(|rings| {
                    let local: Vec<Vec<[f64; 2]>> = rings
                        .iter()
                        .map(|r| r.iter().map(|p| to_tile(*p)).collect())
                        .collect();
                    let clipped = clip_polygon(&local, lo, hi)?;
                    let simplified: Vec<Vec<[i32; 2]>> = clipped
                        .iter()
                        .map(|r| round(&simplify_ring(r, 1.0)))
                        .filter(|r| r.len() >= 3)
                        .collect();
                    (!simplified.is_empty()).then_some(simplified)
                })
                .collect()
        };
        let mut out = Vec::new();
        for &name in layers {
            let mut l = LayerBuilder::new(name, EXTENT);
            match name {
                "grids" => {
                    for i in self.grids_in(q) {
                        let g = &self.grids[i];
                        let mut props = g.props.clone();
                        props.push(("open_incidents", Prop::Int(self.grid_open[i])));
                        l.add_polygons(i as u64 + 1, &tile_polys(&g.polys), &props);
                    }
                }
                "buildings" if t.z >= 13 => {
                    for i in self.buildings_in(q) {
                        let b = &self.buildings[i];
                        l.add_polygons(i as u64 + 1, &tile_polys(&b.polys), &b.props);
                    }
                }
                "units" if t.z >= 16 => add_points(&mut l, &self.units, q, to_tile),
                "merchants" if t.z >= 14 => add_points(&mut l, &self.merchants, q, to_tile),
                "cameras" if t.z >= 14 => add_points(&mut l, &self.cameras, q, to_tile),
                "incidents" => self.add_incidents(&mut l, t, q, f, to_tile),
                "roads" | "water" | "places" => {
                    let frame = TileFrame {
                        t,
                        q,
                        to_tile: &to_tile,
                        clip: (lo, hi),
                        polys: &tile_polys,
                    };
                    self.base.add_to_mvt(name, &mut l, &frame);
                }
                _ => {}
            }
            out.push(l);
        }
        encode(out)
    }

    fn add_incidents(
        &self,
        l: &mut LayerBuilder,
        t: TileId,
        q: [f64; 4],
        f: &IncidentFilter,
        to_tile: impl Fn([f64; 2]) -> [f64; 2],
    ) {
        let inc = &self.incidents;
        let mut hits = inc.within(q);
        if !Self::is_all(f) {
            let (range, cats) = self.filter_parts(f);
            hits.retain(|&i| self.keep(i, f, range, &cats));
        }
        if t.z >= INCIDENT_POINT_ZOOM {
            for i in hits {
                let r = inc.row(i);
                let p = to_tile(r.xy);
                l.add_point(
                    i as u64 + 1,
                    [p[0].round() as i32, p[1].round() as i32],
                    &[
                        (
                            "category",
                            inc.categories[r.category as usize].clone().into(),
                        ),
                        ("source", r.source.into()),
                        ("status", r.status.into()),
                        ("open", Prop::Int(i64::from(r.open))),
                    ],
                );
            }
            return;
        }
        // Counts per cell of 128 tile units (32 per side), at the cell's
        // centre; only cells inside the tile proper.
        let cell = 128.0;
        let n = (f64::from(EXTENT) / cell) as usize;
        let mut counts = vec![(0u32, 0u32); n * n];
        for i in hits {
            let r = inc.row(i);
            let p = to_tile(r.xy);
            if p[0] < 0.0 || p[1] < 0.0 {
                continue;
            }
            let (cx, cy) = ((p[0] / cell) as usize, (p[1] / cell) as usize);
            if cx < n && cy < n {
                counts[cy * n + cx].0 += 1;
                counts[cy * n + cx].1 += u32::from(r.open);
            }
        }
        for (k, &(c, open)) in counts.iter().enumerate() {
            if c > 0 {
                let (cx, cy) = (k % n, k / n);
                let centre = [
                    ((cx as f64 + 0.5) * cell) as i32,
                    ((cy as f64 + 0.5) * cell) as i32,
                ];
                l.add_point(
                    k as u64 + 1,
                    centre,
                    &[
                        ("count", Prop::Int(i64::from(c))),
                        ("open", Prop::Int(i64::from(open))),
                    ],
                );
            }
        }
    }
}

fn add_points(
    l: &mut LayerBuilder,
    layer: &PointLayer,
    q: [f64; 4],
    to_tile: impl Fn([f64; 2]) -> [f64; 2],
) {
    for (i, p) in TileSource::points_in(layer, q) {
        let t = to_tile(p);
        l.add_point(
            i as u64 + 1,
            [t[0].round() as i32, t[1].round() as i32],
            &layer.props[i],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_spatial::{GridIndex, assign, sample, stats};

    #[test]
    fn a_date_filter_counts_the_days_in_beijing() {
        let mut d = sample::district(&sample::SampleSpec::default());
        // 23:30 UTC on 1 March is 07:30 on 2 March in Beijing.
        let late = time::parse_instant("2026-03-01T23:30:00Z").unwrap();
        for x in &mut d.incidents {
            x.reported_at = late;
        }
        let a = assign(&d, &GridIndex::new(&d));
        let src = TileSource::new(&d, &a, &stats(&d, &a));
        let on = |day: &str| {
            let day = time::parse_date(day).ok();
            let f = IncidentFilter {
                from: day,
                to: day,
                ..IncidentFilter::default()
            };
            src.incident_points(&f, false).0.len()
        };
        assert_eq!(on("2026-03-02"), d.incidents.len());
        assert_eq!(on("2026-03-01"), 0);
    }
}
