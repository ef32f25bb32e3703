//! Lookup by point: which grid a spot belongs to, its chain up to the
//! street, who serves it, and how close the nearest grid border is.
//!
//! ```
//! use gridgov_spatial::{lookup_point, sample, Crs, GridIndex};
//! let d = sample::district(&sample::SampleSpec::default());
//! let idx = GridIndex::new(&d);
//! let c = geo::Centroid::centroid(&d.buildings[0].footprint).unwrap();
//! let r = lookup_point(&d, &idx, c.x(), c.y(), Crs::Wgs84).unwrap();
//! assert_eq!(r.chain.len(), 3); // grid, community, street
//! assert!(r.border_distance_m.unwrap() > 0.0);
//! ```

use serde::Serialize;

use crate::{
    AreaId, Crs, CrsError, District, GridIndex, GridKind, Level, Placement, Staff, place_point,
};

/// An area as a lookup reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaSummary {
    /// Its id in the district.
    pub id: AreaId,
    /// Street, community or grid.
    pub level: Level,
    /// Official code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Basic or exclusive (grids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<GridKind>,
    /// Who serves it.
    pub staff: Vec<Staff>,
}

impl AreaSummary {
    /// Summary of area `id`.
    ///
    /// ```
    /// use gridgov_spatial::{AreaSummary, sample};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let s = AreaSummary::of(&d, gridgov_spatial::AreaId(0));
    /// assert_eq!(s.name, "龙山路街道");
    /// ```
    pub fn of(d: &District, id: AreaId) -> Self {
        let a = d.area(id);
        AreaSummary {
            id,
            level: a.level,
            code: a.code.clone(),
            name: a.name.clone(),
            kind: a.kind,
            staff: a.staff.clone(),
        }
    }
}

/// The answer to a point lookup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointLookup {
    /// The point as given.
    pub input: [f64; 2],
    /// The system it was given in.
    pub crs: Crs,
    /// The point in WGS 84 / CGCS2000.
    pub wgs84: [f64; 2],
    /// Grid, community, street — empty when outside every grid.
    pub chain: Vec<AreaSummary>,
    /// The building the point is in (the level between the grid and its
    /// units), when it was looked for ([`PointLookup::in_building`]) and
    /// found.
    pub building: Option<PointBuilding>,
    /// Distance to the nearest grid border in metres (a caller should
    /// confirm on the ground when it is small).
    pub border_distance_m: Option<f64>,
    /// When outside every grid: the nearest one.
    pub nearest: Option<AreaSummary>,
}

impl PointLookup {
    /// The grid found, if inside one.
    pub fn grid(&self) -> Option<&AreaSummary> {
        self.chain.first()
    }

    /// The same answer naming building `b` of `d` (found by a
    /// [`crate::BuildingIndex`]) as the one the point is in.
    ///
    /// ```
    /// use gridgov_spatial::{lookup_point, sample, BuildingIndex, Crs, GridIndex};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let p = geo::InteriorPoint::interior_point(&d.buildings[0].footprint).unwrap();
    /// let r = lookup_point(&d, &GridIndex::new(&d), p.x(), p.y(), Crs::Wgs84).unwrap();
    /// let r = r.in_building(&d, BuildingIndex::new(&d).at(&d, p.x(), p.y()));
    /// assert_eq!(r.building.unwrap().code, d.buildings[0].code);
    /// ```
    #[must_use]
    pub fn in_building(mut self, d: &District, b: Option<crate::BuildingId>) -> Self {
        self.building = b
            .and_then(|b| d.buildings.get(b.index()))
            .map(|b| PointBuilding {
                code: b.code.clone(),
                address: b.address.clone(),
                floors: b.floors,
                leaders: b.leaders.clone(),
            });
        self
    }
}

/// The building a looked-up point is in.
///
/// ```
/// use gridgov_spatial::PointBuilding;
/// let b = PointBuilding { code: "B1".into(), address: "光明路1号".into(), floors: 6, leaders: vec![] };
/// assert_eq!(b.floors, 6);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointBuilding {
    /// Building code.
    pub code: String,
    /// Street address.
    pub address: String,
    /// Floors above ground (0 when unknown).
    pub floors: u16,
    /// Its leaders (楼栋长).
    pub leaders: Vec<Staff>,
}

/// Looks up the grid of `(lon, lat)` given in `crs`.
pub fn lookup_point(
    d: &District,
    idx: &GridIndex,
    lon: f64,
    lat: f64,
    crs: Crs,
) -> Result<PointLookup, CrsError> {
    let (wlon, wlat) = crs.to_wgs84(lon, lat)?;
    let placement = place_point(idx, wlon, wlat);
    let border = idx.nearest_border(wlon, wlat);
    let (chain, nearest) = match placement {
        Placement::Inside(g) => (
            d.chain(g)
                .into_iter()
                .map(|a| AreaSummary::of(d, a))
                .collect(),
            None,
        ),
        Placement::Outside { nearest, .. } => (Vec::new(), Some(AreaSummary::of(d, nearest))),
        Placement::Unplaced => (Vec::new(), None),
    };
    Ok(PointLookup {
        input: [lon, lat],
        crs,
        wgs84: [wlon, wlat],
        chain,
        building: None,
        border_distance_m: border.map(|b| b.distance_m),
        nearest,
    })
}
