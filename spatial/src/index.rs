//! The district index: which grid a point is in, how far the nearest grid
//! border is, and which grid is nearest to a point outside all of them.
//!
//! Grids are numbered for the [`CellIndex`] in order of precedence —
//! exclusive grids first, then basic ones, each by code — so where an
//! exclusive grid lies over a basic one the exclusive grid wins, and where
//! bad data makes two grids of the same kind overlap the smaller code wins.
//! Borders follow the rule of [`crate::pip`]: a point on a border belongs
//! to the grid east of it (north on an east–west border).
//!
//! ```
//! use gridgov_spatial::{sample, GridIndex};
//! let d = sample::district(&sample::SampleSpec::default());
//! let idx = GridIndex::new(&d);
//! let g = d.grids().next().unwrap();
//! let c = geo::Centroid::centroid(&d.area(g).boundary).unwrap();
//! assert!(idx.locate(c.x(), c.y()).is_some());
//! ```

use geo::{BoundingRect, Centroid, Line};
use rstar::AABB;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use crate::geodesy::LocalProjection;
use crate::pip::edges;
use crate::{AreaId, CellIndex, District, Level};

/// A grid edge in local metres, tagged with its grid.
type EdgeItem = GeomWithData<Line<f64>, AreaId>;
/// A grid's bounding box with its precedence rank.
type BoxItem = GeomWithData<Rectangle<[f64; 2]>, (u32, AreaId)>;

/// Fast grid lookups over one district's grid boundaries.
#[derive(Debug, Clone)]
pub struct GridIndex {
    cells: CellIndex,
    /// Polygon id in `cells` → grid.
    order: Vec<AreaId>,
    edges: RTree<EdgeItem>,
    /// Grid bounding boxes with their precedence rank.
    boxes: RTree<BoxItem>,
    projection: LocalProjection,
}

/// The nearest grid border to a point.
///
/// ```
/// use gridgov_spatial::NearestBorder;
/// let n = NearestBorder { grid: gridgov_spatial::AreaId(0), distance_m: 12.5 };
/// assert!(n.distance_m > 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearestBorder {
    /// The grid whose border it is.
    pub grid: AreaId,
    /// Distance in metres.
    pub distance_m: f64,
}

impl GridIndex {
    /// Indexes the grids of `district`.
    pub fn new(district: &District) -> Self {
        let mut order: Vec<AreaId> = district.grids().collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (district.area(a), district.area(b));
            let ka = a.kind.map_or(1, crate::GridKind::precedence);
            let kb = b.kind.map_or(1, crate::GridKind::precedence);
            ka.cmp(&kb).then_with(|| a.code.cmp(&b.code))
        });
        let polys: Vec<_> = order
            .iter()
            .map(|&g| district.area(g).boundary.clone())
            .collect();
        let cells = CellIndex::build(&polys);
        let projection = projection_for(district);
        let items: Vec<EdgeItem> = order
            .iter()
            .zip(&polys)
            .flat_map(|(&g, mp)| {
                edges(mp).filter_map(move |(a, b)| {
                    let (a, b) = (projection.coord(a), projection.coord(b));
                    (a.x.is_finite() && a.y.is_finite() && b.x.is_finite() && b.y.is_finite())
                        .then(|| GeomWithData::new(Line::new(a, b), g))
                })
            })
            .collect();
        let boxes = order
            .iter()
            .zip(&polys)
            .enumerate()
            .filter_map(|(rank, (&g, mp))| {
                mp.bounding_rect().map(|r| {
                    GeomWithData::new(
                        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                        (rank as u32, g),
                    )
                })
            })
            .collect();
        GridIndex {
            cells,
            order,
            edges: RTree::bulk_load(items),
            boxes: RTree::bulk_load(boxes),
            projection,
        }
    }

    /// The grid containing `(lon, lat)` (WGS 84), if any.
    #[inline]
    pub fn locate(&self, lon: f64, lat: f64) -> Option<AreaId> {
        self.cells.locate(lon, lat).map(|i| self.order[i as usize])
    }

    /// Locates many points on `threads` threads; `None` where outside.
    pub fn locate_many(&self, points: &[[f64; 2]], threads: usize) -> Vec<Option<AreaId>> {
        let mut out = vec![0u32; points.len()];
        self.cells.locate_many(points, &mut out, threads);
        out.into_iter()
            .map(|i| (i != u32::MAX).then(|| self.order[i as usize]))
            .collect()
    }

    /// The nearest grid border (of any grid) and its distance in metres.
    pub fn nearest_border(&self, lon: f64, lat: f64) -> Option<NearestBorder> {
        let (x, y) = self.projection.to_metres(lon, lat);
        let p = geo::Point::new(x, y);
        self.edges.nearest_neighbor(&p).map(|e| NearestBorder {
            grid: e.data,
            distance_m: rstar::PointDistance::distance_2(e.geom(), &p).sqrt(),
        })
    }

    /// Grids whose bounding box meets `rect`, in order of precedence.
    pub fn candidates(&self, rect: geo::Rect<f64>) -> Vec<AreaId> {
        let env = AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]);
        let mut v: Vec<(u32, AreaId)> = self
            .boxes
            .locate_in_envelope_intersecting(&env)
            .map(|b| b.data)
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, g)| g).collect()
    }

    /// The cell index underneath, for bulk work and statistics.
    pub fn cells(&self) -> &CellIndex {
        &self.cells
    }

    /// The metric projection used for distances.
    pub fn projection(&self) -> LocalProjection {
        self.projection
    }
}

/// A projection centred on the district's grids (or its other data).
pub fn projection_for(district: &District) -> LocalProjection {
    let centre = district
        .areas
        .iter()
        .filter(|a| a.level == Level::Grid)
        .filter_map(|a| a.boundary.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        })
        .map(|r| r.centroid())
        .or_else(|| {
            district
                .buildings
                .front()
                .and_then(|b| b.footprint.centroid())
        });
    match centre {
        Some(c) if c.x().is_finite() && c.y().is_finite() => LocalProjection::new(c.x(), c.y()),
        _ => LocalProjection::new(0.0, 0.0),
    }
}
