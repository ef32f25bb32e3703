//! A local metric plane for distances and areas inside one district.
//!
//! Longitude/latitude are scaled to metres around a reference latitude
//! with the series for the WGS 84 ellipsoid's degree lengths; within 50 km
//! of the reference the error is far below a metre.
//!
//! ```
//! use gridgov_spatial::LocalProjection;
//! let p = LocalProjection::new(117.55, 34.86);
//! let (x, y) = p.to_metres(117.56, 34.86);
//! assert!((x - 913.6).abs() < 1.0 && y.abs() < 1e-9);
//! let (lon, lat) = p.to_lon_lat(x, y);
//! assert!((lon - 117.56).abs() < 1e-12 && (lat - 34.86).abs() < 1e-12);
//! ```

use geo::{Coord, MapCoords, MultiPolygon};

/// Equirectangular projection scaled to metres at a reference point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalProjection {
    lon0: f64,
    lat0: f64,
    /// Metres per degree of longitude at the reference latitude.
    pub kx: f64,
    /// Metres per degree of latitude at the reference latitude.
    pub ky: f64,
}

impl LocalProjection {
    /// A projection centred on `(lon0, lat0)`.
    pub fn new(lon0: f64, lat0: f64) -> Self {
        let phi = lat0.to_radians();
        let ky = 111_132.954 - 559.822 * (2.0 * phi).cos() + 1.175 * (4.0 * phi).cos();
        let kx = 111_412.84 * phi.cos() - 93.5 * (3.0 * phi).cos();
        LocalProjection { lon0, lat0, kx, ky }
    }

    /// Degrees → metres east and north of the reference.
    pub fn to_metres(&self, lon: f64, lat: f64) -> (f64, f64) {
        ((lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky)
    }

    /// Metres → degrees.
    pub fn to_lon_lat(&self, x: f64, y: f64) -> (f64, f64) {
        (self.lon0 + x / self.kx, self.lat0 + y / self.ky)
    }

    /// A coordinate in metres.
    pub fn coord(&self, c: Coord<f64>) -> Coord<f64> {
        let (x, y) = self.to_metres(c.x, c.y);
        Coord { x, y }
    }

    /// A whole multipolygon in metres.
    pub fn multi_polygon(&self, mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
        mp.map_coords(|c| self.coord(c))
    }
}

/// Great-circle distance in metres (haversine, mean Earth radius).
///
/// ```
/// use gridgov_spatial::geodesy::haversine_m;
/// let d = haversine_m(24.9384, 60.1699, 18.0686, 59.3293); // Helsinki → Stockholm
/// assert!((d - 396_000.0).abs() < 5_000.0);
/// ```
pub fn haversine_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * a.sqrt().asin()
}
