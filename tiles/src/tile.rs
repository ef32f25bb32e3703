//! Web Mercator (EPSG:3857) and XYZ tile coordinates.

use std::f64::consts::PI;

/// Earth radius of the spherical Mercator projection, metres.
pub const EARTH_RADIUS: f64 = 6_378_137.0;
/// Half the width of the Mercator world, metres.
pub const HALF_WORLD: f64 = PI * EARTH_RADIUS;
/// The latitude limit of Web Mercator, degrees.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;
/// The deepest zoom served.
pub const MAX_ZOOM: u8 = 24;

/// Why a tile address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// Zoom above [`MAX_ZOOM`].
    #[error("zoom {0} is above the deepest zoom {MAX_ZOOM}")]
    Zoom(u32),
    /// Column or row outside the zoom's 2^z × 2^z tiles.
    #[error("tile {x}/{y} does not exist at zoom {z} (0 ≤ x, y < {n})")]
    OutOfRange {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
        /// Tiles per side.
        n: u64,
    },
}

/// A checked XYZ tile address (y grows southwards, as in OSM/Google).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom.
    pub z: u8,
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
}

impl TileId {
    /// A tile, when it exists.
    ///
    /// ```
    /// use gridgov_tiles::TileId;
    /// assert!(TileId::new(14, 13_541, 6_497).is_ok());
    /// assert!(TileId::new(2, 4, 0).is_err());
    /// assert!(TileId::new(25, 0, 0).is_err());
    /// ```
    pub fn new(z: u32, x: u32, y: u32) -> Result<Self, TileError> {
        if z > u32::from(MAX_ZOOM) {
            return Err(TileError::Zoom(z));
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileError::OutOfRange {
                z: z as u8,
                x,
                y,
                n,
            });
        }
        Ok(TileId { z: z as u8, x, y })
    }

    /// The tile holding a point at zoom `z`.
    ///
    /// ```
    /// use gridgov_tiles::TileId;
    /// let t = TileId::containing(117.55, 34.86, 14);
    /// assert_eq!((t.x, t.y), (13_541, 6_497));
    /// ```
    pub fn containing(lon: f64, lat: f64, z: u8) -> Self {
        let (mx, my) = lonlat_to_mercator(lon, lat);
        let n = f64::from(1u32 << z.min(MAX_ZOOM));
        let size = 2.0 * HALF_WORLD / n;
        let max = (1u32 << z.min(MAX_ZOOM)) - 1;
        let x = ((mx + HALF_WORLD) / size)
            .floor()
            .clamp(0.0, f64::from(max)) as u32;
        let y = ((HALF_WORLD - my) / size)
            .floor()
            .clamp(0.0, f64::from(max)) as u32;
        TileId { z, x, y }
    }

    /// The tile's Mercator bounds `[min_x, min_y, max_x, max_y]` in metres.
    ///
    /// ```
    /// use gridgov_tiles::{TileId, tile::HALF_WORLD};
    /// let b = TileId::new(0, 0, 0).unwrap().bounds();
    /// assert_eq!(b, [-HALF_WORLD, -HALF_WORLD, HALF_WORLD, HALF_WORLD]);
    /// ```
    pub fn bounds(self) -> [f64; 4] {
        let size = self.size();
        let min_x = -HALF_WORLD + f64::from(self.x) * size;
        let max_y = HALF_WORLD - f64::from(self.y) * size;
        [min_x, max_y - size, min_x + size, max_y]
    }

    /// The tile's width in Mercator metres.
    pub fn size(self) -> f64 {
        2.0 * HALF_WORLD / (1u64 << self.z) as f64
    }

    /// The tile's bounds in longitude/latitude `[west, south, east, north]`.
    pub fn bounds_lonlat(self) -> [f64; 4] {
        let [a, b, c, d] = self.bounds();
        let (w, s) = mercator_to_lonlat(a, b);
        let (e, n) = mercator_to_lonlat(c, d);
        [w, s, e, n]
    }
}

/// Longitude/latitude (degrees) → Web Mercator metres; latitude clamped to
/// the projection's limit.
///
/// ```
/// use gridgov_tiles::tile::{lonlat_to_mercator, mercator_to_lonlat};
/// let (x, y) = lonlat_to_mercator(117.55, 34.86);
/// let (lon, lat) = mercator_to_lonlat(x, y);
/// assert!((lon - 117.55).abs() < 1e-9 && (lat - 34.86).abs() < 1e-9);
/// ```
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    (
        EARTH_RADIUS * lon.to_radians(),
        EARTH_RADIUS * (PI / 4.0 + lat / 2.0).tan().ln(),
    )
}

/// Web Mercator metres → longitude/latitude (degrees).
pub fn mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    (
        (x / EARTH_RADIUS).to_degrees(),
        (2.0 * (y / EARTH_RADIUS).exp().atan() - PI / 2.0).to_degrees(),
    )
}

/// Ground metres per Mercator metre at a Mercator northing (the scale
/// factor is 1/cos φ).
pub fn ground_scale(y: f64) -> f64 {
    let (_, lat) = mercator_to_lonlat(0.0, y);
    lat.to_radians().cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tile_contains_the_point_it_was_found_for_and_neighbours_share_edges() {
        for &(lon, lat) in &[
            (117.55, 34.86),
            (-0.1, 51.5),
            (24.94, 60.17),
            (0.001, 0.001),
        ] {
            for z in [0u8, 5, 14, 20] {
                let t = TileId::containing(lon, lat, z);
                let [w, s, e, n] = t.bounds_lonlat();
                assert!(
                    w <= lon && lon < e && s <= lat && lat < n,
                    "{lon},{lat} z{z}"
                );
            }
        }
        let a = TileId::new(14, 100, 200).unwrap().bounds();
        let b = TileId::new(14, 101, 200).unwrap().bounds();
        assert!((a[2] - b[0]).abs() < 1e-6);
    }

    #[test]
    fn out_of_range_tiles_say_why() {
        let e = TileId::new(3, 8, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "tile 8/0 does not exist at zoom 3 (0 ≤ x, y < 8)"
        );
        assert!(TileId::new(24, (1 << 24) - 1, 0).is_ok());
    }
}
