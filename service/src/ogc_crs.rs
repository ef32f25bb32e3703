//! Coordinate systems of OGC API – Features Part 2 (`crs`, `bbox-crs`,
//! `storageCrs`, `Content-Crs`): a system named by its URI, with the axis
//! order its definition gives. The conversion is the spatial core's
//! [`Crs`]; what is ours is the URIs and the axis orders.
//!
//! Axis order, as the EPSG registry defines it (and as Part 2 requires
//! responses to follow): CRS84 is longitude, latitude; EPSG:4326 and
//! EPSG:4490 are latitude, longitude; the CGCS2000 Gauss-Krüger systems
//! (EPSG:4491–4554) are northing, easting; UTM (326xx, 327xx) and Web
//! Mercator (3857) are easting, northing. Systems whose axis order is not
//! known here are not offered, rather than answered in a guessed order.

use gridgov_spatial::Crs;

use crate::error::ApiError;

/// The URI of CRS84, the storage system.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// A system a request may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OgcCrs {
    /// How to convert.
    pub crs: Crs,
    /// Its EPSG code; `None` for CRS84.
    pub code: Option<u16>,
    /// Whether its first axis is northing/latitude.
    pub north_first: bool,
}

impl OgcCrs {
    /// CRS84: longitude, latitude.
    pub const CRS84: OgcCrs = OgcCrs {
        crs: Crs::Wgs84,
        code: None,
        north_first: false,
    };

    /// The system of an EPSG code, if its axis order is known here.
    pub fn epsg(code: u16) -> Option<OgcCrs> {
        let (crs, north_first) = match code {
            4326 | 4490 => (Crs::Wgs84, true),
            4491..=4554 => (Crs::Epsg(code), true),
            3857 | 32601..=32660 | 32701..=32760 => (Crs::Epsg(code), false),
            _ => return None,
        };
        Some(OgcCrs {
            crs,
            code: Some(code),
            north_first,
        })
    }

    /// Its URI.
    pub fn uri(&self) -> String {
        self.code.map_or_else(
            || CRS84.to_string(),
            |c| format!("http://www.opengis.net/def/crs/EPSG/0/{c}"),
        )
    }

    /// Parses a URI (`http://www.opengis.net/def/crs/EPSG/0/4547`), a safe
    /// CURIE (`[EPSG:4547]`) or `EPSG:4547`.
    pub fn parse(field: &str, s: &str) -> Result<OgcCrs, ApiError> {
        let t = s.trim().trim_start_matches('[').trim_end_matches(']');
        let lower = t.to_ascii_lowercase();
        if lower.ends_with("/ogc/1.3/crs84") || lower == "ogc:crs84" || lower == "crs84" {
            return Ok(OgcCrs::CRS84);
        }
        let code = lower
            .strip_prefix("http://www.opengis.net/def/crs/epsg/0/")
            .or_else(|| lower.strip_prefix("https://www.opengis.net/def/crs/epsg/0/"))
            .or_else(|| lower.strip_prefix("epsg:"))
            .and_then(|c| c.parse::<u16>().ok());
        code.and_then(OgcCrs::epsg).ok_or_else(|| {
            ApiError::bad_request(
                field,
                format!(
                    "{field} {s:?} is not offered: use CRS84, EPSG:4326, EPSG:4490, a CGCS2000 Gauss-Krüger system (EPSG:4491–4554), UTM (EPSG:326xx, 327xx) or EPSG:3857, as a URI like http://www.opengis.net/def/crs/EPSG/0/4547"
                ),
            )
        })
    }

    /// A longitude/latitude point in this system, in its axis order.
    pub fn project(self, lon: f64, lat: f64) -> (f64, f64) {
        let (x, y) = self.crs.from_wgs84(lon, lat);
        if self.north_first { (y, x) } else { (x, y) }
    }

    /// A point in this system (its axis order) as longitude/latitude.
    pub fn unproject(self, a: f64, b: f64) -> Option<(f64, f64)> {
        let (x, y) = if self.north_first { (b, a) } else { (a, b) };
        self.crs.to_wgs84(x, y).ok()
    }
}

/// The systems a collection lists: CRS84, EPSG:4326, CGCS2000 (4490), Web
/// Mercator, and the UTM zone and CGCS2000 Gauss-Krüger zones (3° with and
/// without the zone number, 6° with and without) the district lies in.
pub fn offered(lon: f64, lat: f64) -> Vec<OgcCrs> {
    let mut codes: Vec<u16> = vec![4326, 4490, 3857];
    let utm = ((lon + 180.0) / 6.0).floor().clamp(0.0, 59.0) as u16 + 1;
    codes.push(if lat >= 0.0 { 32600 } else { 32700 } + utm);
    // CGCS2000 zones exist over China's longitudes only.
    if (73.5..=136.5).contains(&lon) {
        let z3 = ((lon + 1.5) / 3.0).floor() as u16; // 25..=45
        let z6 = ((lon + 6.0) / 6.0).floor() as u16; // 13..=23
        if (25..=45).contains(&z3) {
            codes.push(4513 + z3 - 25); // with the zone number
            codes.push(4534 + z3 - 25); // without
        }
        if (13..=23).contains(&z6) {
            codes.push(4491 + z6 - 13);
            codes.push(4502 + z6 - 13);
        }
    }
    std::iter::once(OgcCrs::CRS84)
        .chain(codes.into_iter().filter_map(OgcCrs::epsg))
        .collect()
}

/// Every `[x, y]` of a GeoJSON geometry's `coordinates`, converted.
pub fn convert_coordinates(v: &mut serde_json::Value, f: &dyn Fn(f64, f64) -> (f64, f64)) {
    let Some(a) = v.as_array_mut() else { return };
    if let (Some(x), Some(y)) = (
        a.first().and_then(serde_json::Value::as_f64),
        a.get(1).and_then(serde_json::Value::as_f64),
    ) {
        let (nx, ny) = f(x, y);
        a[0] = serde_json::json!(nx);
        a[1] = serde_json::json!(ny);
        a.truncate(2);
        return;
    }
    for c in a {
        convert_coordinates(c, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_curies_and_codes_name_the_same_systems_with_their_axis_order() {
        let gk = OgcCrs::parse("crs", "http://www.opengis.net/def/crs/EPSG/0/4547").unwrap();
        assert_eq!(gk, OgcCrs::parse("crs", "[EPSG:4547]").unwrap());
        assert!(gk.north_first);
        assert!(OgcCrs::parse("crs", "EPSG:4326").unwrap().north_first);
        assert!(!OgcCrs::parse("crs", CRS84).unwrap().north_first);
        assert!(!OgcCrs::parse("crs", "EPSG:32650").unwrap().north_first);
        assert_eq!(
            OgcCrs::parse("bbox-crs", "EPSG:27700")
                .unwrap_err()
                .field
                .as_deref(),
            Some("bbox-crs")
        );
        // Northing first for Gauss-Krüger, and back again.
        let (n, e) = gk.project(114.3, 30.6);
        assert!(n > 3_000_000.0 && (400_000.0..600_000.0).contains(&e));
        let (lon, lat) = gk.unproject(n, e).unwrap();
        assert!((lon - 114.3).abs() < 1e-9 && (lat - 30.6).abs() < 1e-9);
    }

    #[test]
    fn a_district_in_zaozhuang_is_offered_its_utm_and_gauss_kruger_zones() {
        let codes: Vec<Option<u16>> = offered(117.55, 34.86).iter().map(|c| c.code).collect();
        for c in [4326, 4490, 3857, 32650, 4527, 4548, 4498, 4509] {
            assert!(codes.contains(&Some(c)), "{c} in {codes:?}");
        }
        assert_eq!(codes[0], None);
    }
}
