//! Coordinate systems met in the field, converted at the edge.
//!
//! - **WGS 84 / CGCS2000**: GPS, surveys and national data (the two agree to
//!   within centimetres, so gridgov treats them as one). Everything inside
//!   gridgov is stored in this system.
//! - **GCJ-02**: what phones and Chinese web maps (AMap, Tencent) report: WGS 84
//!   shifted by a published obfuscation formula, by up to a few hundred
//!   metres inside China and not at all outside it.
//! - **BD-09**: Baidu's further shift of GCJ-02.
//!
//! The forward formulas are the published ones (Krasovsky 1940 ellipsoid);
//! the inverses are solved by fixed-point iteration to better than 1e-9°
//! (about 0.1 mm), not the one-step approximation (up to metres off).
//!
//! ```
//! use gridgov_spatial::Crs;
//! let (lon, lat) = Crs::Gcj02.to_wgs84(117.5556, 34.8612).unwrap();
//! let (glon, glat) = Crs::Gcj02.from_wgs84(lon, lat);
//! assert!((glon - 117.5556).abs() < 1e-9 && (glat - 34.8612).abs() < 1e-9);
//! ```

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

/// Errors converting coordinates.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CrsError {
    /// Longitude or latitude is NaN, infinite or out of range.
    #[error(
        "coordinates out of range: lon {lon} must be in [-180, 180] and lat {lat} in [-90, 90]"
    )]
    OutOfRange {
        /// Longitude as given.
        lon: f64,
        /// Latitude as given.
        lat: f64,
    },
    /// Unknown name of a coordinate system.
    #[error(
        "unknown coordinate system {0:?}: use wgs84, cgcs2000, gcj02, bd09 or an EPSG code (epsg:4547, epsg:32650, epsg:3857, …)"
    )]
    UnknownCrs(String),
    /// Projected coordinates that are not numbers, or that the system
    /// cannot take back to longitude/latitude.
    #[error("{x}, {y} is not a point of {crs}")]
    NotInSystem {
        /// The system.
        crs: String,
        /// As given.
        x: f64,
        /// As given.
        y: f64,
    },
}

/// A coordinate system that input may come in: longitude/latitude (WGS
/// 84, CGCS2000, GCJ-02, BD-09) or any projected system by its EPSG code
/// (CGCS2000 Gauss-Krüger zones, UTM, Web Mercator, …), converted with
/// proj4rs from the definitions of `crs-definitions`. CGCS2000 and WGS 84
/// are taken as one (they differ by centimetres).
///
/// ```
/// use gridgov_spatial::Crs;
/// assert_eq!("gcj-02".parse::<Crs>().unwrap(), Crs::Gcj02);
/// assert_eq!("EPSG:4490".parse::<Crs>().unwrap(), Crs::Wgs84);
/// assert_eq!("epsg:4547".parse::<Crs>().unwrap(), Crs::Epsg(4547));
/// assert!("utm".parse::<Crs>().is_err());
/// assert!("epsg:1".parse::<Crs>().is_err());
/// // A point in CGCS2000 3° Gauss-Krüger zone 39 (with its prefix).
/// let (lon, lat) = Crs::Epsg(4527).to_wgs84(39_545_695.0, 3_862_271.0).unwrap();
/// assert!((lon - 117.5).abs() < 1e-3 && (lat - 34.88).abs() < 1e-2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Crs {
    /// WGS 84 or CGCS2000 (EPSG:4326 / EPSG:4490).
    #[default]
    Wgs84,
    /// GCJ-02 ("Mars coordinates").
    Gcj02,
    /// BD-09 (Baidu).
    Bd09,
    /// A projected system by its EPSG code.
    Epsg(u16),
}

impl TryFrom<String> for Crs {
    type Error = CrsError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Crs> for String {
    fn from(c: Crs) -> String {
        c.to_string()
    }
}

/// The proj4rs definition of EPSG `code`, made once.
fn projection(code: u16) -> Option<std::sync::Arc<proj4rs::Proj>> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, RwLock};
    type Made = RwLock<HashMap<u16, Option<Arc<proj4rs::Proj>>>>;
    static MADE: LazyLock<Made> = LazyLock::new(Default::default);
    if let Some(p) = MADE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&code)
    {
        return p.clone();
    }
    let p = proj4rs::Proj::from_epsg_code(code).ok().map(Arc::new);
    MADE.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(code, p.clone());
    p
}

/// WGS 84 longitude/latitude, for proj4rs.
fn wgs84() -> std::sync::Arc<proj4rs::Proj> {
    use std::sync::{Arc, LazyLock};
    static P: LazyLock<Arc<proj4rs::Proj>> = LazyLock::new(|| {
        Arc::new(
            proj4rs::Proj::from_proj_string("+proj=longlat +ellps=WGS84 +datum=WGS84 +no_defs")
                .unwrap_or_else(|e| unreachable!("the WGS 84 definition is fixed: {e}")),
        )
    });
    P.clone()
}

impl std::str::FromStr for Crs {
    type Err = CrsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let k: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == ':')
            .collect::<String>()
            .to_ascii_lowercase();
        match k.as_str() {
            "wgs84" | "epsg:4326" | "4326" | "cgcs2000" | "epsg:4490" | "4490" | "crs84" => {
                Ok(Crs::Wgs84)
            }
            "gcj02" | "gcj" | "mars" | "amap" | "gaode" | "tencent" => Ok(Crs::Gcj02),
            "bd09" | "bd09ll" | "baidu" => Ok(Crs::Bd09),
            _ => {
                let code = k
                    .strip_prefix("epsg:")
                    .or_else(|| k.strip_prefix("urn:ogc:def:crs:epsg::"))
                    .unwrap_or(&k);
                match code.parse::<u16>() {
                    Ok(c) if projection(c).is_some() => Ok(Crs::Epsg(c)),
                    _ => Err(CrsError::UnknownCrs(s.to_string())),
                }
            }
        }
    }
}

impl std::fmt::Display for Crs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Crs::Wgs84 => f.write_str("wgs84"),
            Crs::Gcj02 => f.write_str("gcj02"),
            Crs::Bd09 => f.write_str("bd09"),
            Crs::Epsg(c) => write!(f, "epsg:{c}"),
        }
    }
}

/// Checks that a longitude/latitude pair is finite and in range.
///
/// ```
/// use gridgov_spatial::crs::check_lon_lat;
/// assert!(check_lon_lat(117.5, 34.8).is_ok());
/// assert!(check_lon_lat(34.8, 117.5).is_err()); // swapped
/// ```
pub fn check_lon_lat(lon: f64, lat: f64) -> Result<(), CrsError> {
    if lon.is_finite()
        && lat.is_finite()
        && (-180.0..=180.0).contains(&lon)
        && (-90.0..=90.0).contains(&lat)
    {
        Ok(())
    } else {
        Err(CrsError::OutOfRange { lon, lat })
    }
}

impl Crs {
    /// Converts a point in this system to WGS 84, checking the input.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        if let Crs::Epsg(code) = self {
            let (x, y) = (lon, lat);
            let bad = || CrsError::NotInSystem {
                crs: self.to_string(),
                x,
                y,
            };
            let from = projection(code).ok_or_else(bad)?;
            if !x.is_finite() || !y.is_finite() {
                return Err(bad());
            }
            let mut p = if from.is_latlong() {
                (x.to_radians(), y.to_radians(), 0.0)
            } else {
                (x, y, 0.0)
            };
            proj4rs::transform::transform(&from, &wgs84(), &mut p).map_err(|_| bad())?;
            let (lon, lat) = (p.0.to_degrees(), p.1.to_degrees());
            check_lon_lat(lon, lat).map_err(|_| bad())?;
            return Ok((lon, lat));
        }
        check_lon_lat(lon, lat)?;
        Ok(match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
            Crs::Bd09 => {
                let (glon, glat) = bd09_to_gcj02(lon, lat);
                gcj02_to_wgs84(glon, glat)
            }
            Crs::Epsg(_) => unreachable!("handled above"),
        })
    }

    /// Converts a WGS 84 point into this system.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        if let Crs::Epsg(code) = self {
            let Some(to) = projection(code) else {
                return (f64::NAN, f64::NAN);
            };
            let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
            if proj4rs::transform::transform(&wgs84(), &to, &mut p).is_err() {
                return (f64::NAN, f64::NAN);
            }
            return if to.is_latlong() {
                (p.0.to_degrees(), p.1.to_degrees())
            } else {
                (p.0, p.1)
            };
        }
        match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => {
                let (glon, glat) = wgs84_to_gcj02(lon, lat);
                gcj02_to_bd09(glon, glat)
            }
            Crs::Epsg(_) => unreachable!("handled above"),
        }
    }
}

const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

/// True where GCJ-02 applies no shift (the published rectangle around China).
pub fn out_of_china(lon: f64, lat: f64) -> bool {
    !((72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat))
}

fn shift_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn shift_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS 84 → GCJ-02 by the published formula.
///
/// ```
/// use gridgov_spatial::crs::wgs84_to_gcj02;
/// let (lon, lat) = wgs84_to_gcj02(116.404, 39.915);
/// assert!((lon - 116.410_244_499_169_38).abs() < 1e-12);
/// assert!((lat - 39.916_404_281_501_64).abs() < 1e-12);
/// ```
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let mut dlat = shift_lat(lon - 105.0, lat - 35.0);
    let mut dlon = shift_lon(lon - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * radlat.sin() * radlat.sin();
    let sqrt_magic = magic.sqrt();
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * radlat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS 84, solved by iteration to 1e-10°.
///
/// ```
/// use gridgov_spatial::crs::{gcj02_to_wgs84, wgs84_to_gcj02};
/// let (lon, lat) = gcj02_to_wgs84(121.531541859215, 31.17530398364597);
/// assert!((lon - 121.5272106).abs() < 1e-6 && (lat - 31.1774276).abs() < 1e-6);
/// ```
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..30 {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (elon, elat) = (glon - lon, glat - lat);
        wlon -= elon;
        wlat -= elat;
        if elon.abs() < 1e-10 && elat.abs() < 1e-10 {
            break;
        }
    }
    (wlon, wlat)
}

const X_PI: f64 = PI * 3000.0 / 180.0;

/// GCJ-02 → BD-09 by the published formula.
///
/// ```
/// use gridgov_spatial::crs::gcj02_to_bd09;
/// let (lon, lat) = gcj02_to_bd09(116.404, 39.915);
/// assert!((lon - 116.410_369_493_710_29).abs() < 1e-12 && (lat - 39.921_336_993_510_21).abs() < 1e-12);
/// ```
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.000_02 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000_003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02, the published approximation refined by iteration.
///
/// ```
/// use gridgov_spatial::crs::{bd09_to_gcj02, gcj02_to_bd09};
/// let (glon, glat) = bd09_to_gcj02(116.404, 39.915);
/// let (blon, blat) = gcj02_to_bd09(glon, glat);
/// assert!((blon - 116.404).abs() < 1e-10 && (blat - 39.915).abs() < 1e-10);
/// ```
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * X_PI).cos();
    let (mut glon, mut glat) = (z * theta.cos(), z * theta.sin());
    for _ in 0..10 {
        let (blon, blat) = gcj02_to_bd09(glon, glat);
        let (elon, elat) = (blon - lon, blat - lat);
        glon -= elon;
        glat -= elat;
        if elon.abs() < 1e-11 && elat.abs() < 1e-11 {
            break;
        }
    }
    (glon, glat)
}

/// What coordinates that are not longitude/latitude most likely are, from
/// their ranges: a hint for the person whose layer it is (the file alone
/// cannot say for certain).
///
/// ```
/// use gridgov_spatial::crs::guess_projected;
/// // Zaozhuang in CGCS2000 3° Gauss-Krüger zone 39, with the zone prefix.
/// assert!(guess_projected(39_550_000.0, 3_860_000.0).contains("EPSG:4527"));
/// assert!(guess_projected(551_000.0, 4_181_000.0).contains("UTM"));
/// assert!(guess_projected(13_083_000.0, 4_145_000.0).contains("EPSG:3857"));
/// ```
pub fn guess_projected(x: f64, y: f64) -> String {
    let zone = (x / 1e6).floor();
    if (25e6..46e6).contains(&x) && (0.0..1e7).contains(&y) {
        // 3° zones 25–45 are EPSG:4513–4533.
        let z = zone as i64;
        return format!(
            "they look like CGCS2000 3-degree Gauss-Krüger metres with the zone number in front (zone {z}, EPSG:{})",
            4513 + z - 25
        );
    }
    if (13e6..24e6).contains(&x) && (0.0..1e7).contains(&y) {
        let z = zone as i64;
        return format!(
            "they look like Web Mercator metres (EPSG:3857), or CGCS2000 6-degree Gauss-Krüger with the zone number in front (zone {z}, EPSG:{})",
            4491 + z - 13
        );
    }
    if (100_000.0..1_000_000.0).contains(&x) && (0.0..10_000_000.0).contains(&y) {
        return "they look like UTM metres (EPSG:326xx north, 327xx south) or CGCS2000 Gauss-Krüger without the zone number (EPSG:4534–4554)".into();
    }
    if x.abs() <= 20_037_508.35 && y.abs() <= 20_048_966.11 {
        return "they look like metres of a projected system (Web Mercator is EPSG:3857)".into();
    }
    "they are too large for any system on Earth".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published pairs (coordtransform's test, eviltransform's tests).
    #[test]
    fn forward_conversions_match_published_reference_pairs() {
        let (lon, lat) = wgs84_to_gcj02(116.404, 39.915);
        assert!((lon - 116.410_244_499_169_38).abs() < 1e-12);
        assert!((lat - 39.916_404_281_501_64).abs() < 1e-12);
        let (lon, lat) = gcj02_to_bd09(116.404, 39.915);
        assert!((lon - 116.410_369_493_710_29).abs() < 1e-12);
        assert!((lat - 39.921_336_993_510_21).abs() < 1e-12);
        // eviltransform uses the WGS 84 radius where the original uses
        // Krasovsky's: the two agree to 1e-6° (10 cm).
        for (wlat, wlon, glat, glon) in [
            (
                31.177_427_6,
                121.527_210_6,
                31.175_303_983_645_97,
                121.531_541_859_215,
            ),
            (
                22.543_847,
                113.912_316,
                22.540_796_131_694_766,
                113.917_176_480_836_3,
            ),
            (
                39.911_954,
                116.377_817,
                39.913_345_455_360_69,
                116.384_047_224_556_57,
            ),
        ] {
            let (lon, lat) = wgs84_to_gcj02(wlon, wlat);
            assert!(
                (lon - glon).abs() < 1e-6 && (lat - glat).abs() < 1e-6,
                "{wlat},{wlon}"
            );
        }
    }

    #[test]
    fn inverse_conversions_match_published_pairs_and_round_trip() {
        // bd09 → gcj02 published: (116.39762729119315, 39.90865673957631).
        let (lon, lat) = bd09_to_gcj02(116.404, 39.915);
        assert!(
            (lon - 116.397_627_291_193_15).abs() < 2e-6
                && (lat - 39.908_656_739_576_31).abs() < 2e-6
        );
        for (lon, lat) in [
            (117.55, 34.86),
            (121.4737, 31.2304),
            (87.6, 43.8),
            (126.6, 45.75),
        ] {
            for crs in [Crs::Gcj02, Crs::Bd09] {
                let (x, y) = crs.from_wgs84(lon, lat);
                let (blon, blat) = crs.to_wgs84(x, y).unwrap();
                assert!(
                    (blon - lon).abs() < 1e-9 && (blat - lat).abs() < 1e-9,
                    "{crs} {lon},{lat}"
                );
            }
        }
    }

    #[test]
    fn points_outside_china_are_not_shifted_by_gcj02() {
        assert_eq!(wgs84_to_gcj02(24.94, 60.17), (24.94, 60.17));
        assert_eq!(Crs::Gcj02.to_wgs84(24.94, 60.17).unwrap(), (24.94, 60.17));
    }

    #[test]
    fn out_of_range_and_non_finite_coordinates_are_rejected() {
        assert!(Crs::Wgs84.to_wgs84(f64::NAN, 0.0).is_err());
        assert!(Crs::Gcj02.to_wgs84(200.0, 0.0).is_err());
        assert!(Crs::Bd09.to_wgs84(117.0, -91.0).is_err());
    }
}
