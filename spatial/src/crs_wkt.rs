//! The coordinate system a WKT text describes (a Shapefile's `.prj`, a
//! GeoPackage's `definition`), as one gridgov knows: [`Crs::Wgs84`] or
//! [`Crs::Epsg`].
//!
//! A WKT that names its EPSG code (`AUTHORITY["EPSG","4547"]` or
//! `ID["EPSG",4547]` on the outermost element) is taken at its word. ESRI
//! WKT, which GDAL writes into `.prj` files, names none: there the
//! projection's parameters (method, central meridian, latitude of origin,
//! scale, false easting and northing, ellipsoid) are matched against every
//! definition of `crs-definitions`, and the first EPSG code whose
//! definition has the same numbers is the answer (systems with the same
//! numbers convert the same way, whatever they are called).
//!
//! ```
//! use gridgov_spatial::{Crs, crs_wkt::from_wkt};
//! // What GDAL writes for EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E).
//! let prj = r#"PROJCS["CGCS2000_3_Degree_GK_CM_114E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",114.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
//! assert_eq!(from_wkt(prj).unwrap(), Crs::Epsg(4547));
//! assert_eq!(from_wkt(r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#).unwrap(), Crs::Wgs84);
//! assert!(from_wkt("LOCAL_CS[\"site grid\"]").is_err());
//! ```

use std::sync::LazyLock;

use crate::crs::{Crs, CrsError};

/// One element of a WKT text: `KEYWORD[arg, arg, …]`.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Number(f64),
    Element(String, Vec<Node>),
}

impl Node {
    fn children<'a, 'k>(
        &'a self,
        keyword: &'k str,
    ) -> impl Iterator<Item = &'a [Node]> + use<'a, 'k> {
        let args: &[Node] = match self {
            Node::Element(_, a) => a,
            _ => &[],
        };
        args.iter().filter_map(move |n| match n {
            Node::Element(k, a) if k.eq_ignore_ascii_case(keyword) => Some(a.as_slice()),
            _ => None,
        })
    }
    fn child(&self, keyword: &str) -> Option<&[Node]> {
        self.children(keyword).next()
    }
}

fn text(args: &[Node], i: usize) -> Option<&str> {
    match args.get(i) {
        Some(Node::Text(s)) => Some(s),
        _ => None,
    }
}

fn number(args: &[Node], i: usize) -> Option<f64> {
    match args.get(i) {
        Some(Node::Number(x)) => Some(*x),
        Some(Node::Text(s)) => s.parse().ok(),
        _ => None,
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }
    fn node(&mut self, depth: usize) -> Result<Node, String> {
        if depth > 32 {
            return Err("nested too deeply".into());
        }
        self.skip_ws();
        match self.s.get(self.i) {
            Some(b'"') => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.i) {
                        None => return Err("an unclosed quote".into()),
                        Some(b'"') if self.s.get(self.i + 1) == Some(&b'"') => {
                            out.push(b'"');
                            self.i += 2;
                        }
                        Some(b'"') => {
                            self.i += 1;
                            break;
                        }
                        Some(&c) => {
                            out.push(c);
                            self.i += 1;
                        }
                    }
                }
                Ok(Node::Text(String::from_utf8_lossy(&out).into_owned()))
            }
            Some(_) => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(|c| {
                    !matches!(c, b'[' | b'(' | b']' | b')' | b',') && !c.is_ascii_whitespace()
                }) {
                    self.i += 1;
                }
                let word = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                if word.is_empty() {
                    return Err(format!("unexpected character at {}", self.i));
                }
                self.skip_ws();
                if matches!(self.s.get(self.i), Some(b'[' | b'(')) {
                    self.i += 1;
                    let mut args = Vec::new();
                    loop {
                        self.skip_ws();
                        if matches!(self.s.get(self.i), Some(b']' | b')')) {
                            self.i += 1;
                            break;
                        }
                        args.push(self.node(depth + 1)?);
                        self.skip_ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']' | b')') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(format!("expected ',' or ']' at {}", self.i)),
                        }
                    }
                    Ok(Node::Element(word, args))
                } else if let Ok(x) = word.parse::<f64>() {
                    Ok(Node::Number(x))
                } else {
                    Ok(Node::Text(word))
                }
            }
            None => Err("it ends early".into()),
        }
    }
}

fn parse(wkt: &str) -> Result<Node, String> {
    let mut p = Parser {
        s: wkt.trim_start_matches('\u{feff}').as_bytes(),
        i: 0,
    };
    p.node(0)
}

/// The parameters that decide how a projected system converts.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Params {
    /// `tmerc` or `merc`.
    tmerc: bool,
    lon_0: f64,
    lat_0: f64,
    k: f64,
    x_0: f64,
    y_0: f64,
    a: f64,
    rf: f64,
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

impl Params {
    fn same(&self, o: &Params) -> bool {
        self.tmerc == o.tmerc
            && close(self.lon_0, o.lon_0)
            && close(self.lat_0, o.lat_0)
            && close(self.k, o.k)
            && close(self.x_0, o.x_0)
            && close(self.y_0, o.y_0)
            && close(self.a, o.a)
            && (close(self.rf, o.rf) || (self.rf.is_infinite() && o.rf.is_infinite()))
    }
}

/// Semi-major axis and inverse flattening of the proj4 ellipsoids met in
/// Transverse Mercator definitions.
fn ellipsoid(name: &str) -> Option<(f64, f64)> {
    Some(match name {
        "GRS80" => (6_378_137.0, 298.257_222_101),
        "WGS84" => (6_378_137.0, 298.257_223_563),
        "krass" => (6_378_245.0, 298.3),
        "intl" => (6_378_388.0, 297.0),
        "bessel" => (6_377_397.155, 299.152_812_8),
        "clrk66" => (6_378_206.4, 294.978_698_213_898),
        "clrk80" => (6_378_249.145, 293.465),
        "WGS72" => (6_378_135.0, 298.26),
        "aust_SA" => (6_378_160.0, 298.25),
        "IAU76" => (6_378_140.0, 298.257),
        _ => return None,
    })
}

/// The parameters of a proj4 definition, for Transverse Mercator and UTM
/// definitions without a datum shift.
fn proj4_params(def: &str) -> Option<Params> {
    let mut kv = std::collections::HashMap::new();
    for t in def.split_whitespace() {
        let t = t.strip_prefix('+')?;
        let (k, v) = t.split_once('=').unwrap_or((t, ""));
        kv.insert(k, v);
    }
    if kv
        .get("towgs84")
        .is_some_and(|v| v.split(',').any(|x| x.parse::<f64>() != Ok(0.0)))
        || kv.contains_key("nadgrids") && kv.get("proj") != Some(&"merc")
        || kv.get("units").is_some_and(|u| *u != "m")
        || kv.contains_key("to_meter")
        || kv.contains_key("pm")
    {
        return None;
    }
    let num = |k: &str, d: f64| kv.get(k).map_or(Some(d), |v| v.parse::<f64>().ok());
    let (a, rf) = if let Some(e) = kv.get("ellps") {
        ellipsoid(e)?
    } else if kv.get("datum") == Some(&"WGS84") {
        ellipsoid("WGS84")?
    } else {
        let a = num("a", f64::NAN)?;
        let rf = match (kv.get("rf"), kv.get("b")) {
            (Some(rf), _) => rf.parse().ok()?,
            (None, Some(b)) => {
                let b: f64 = b.parse().ok()?;
                if b == a { f64::INFINITY } else { a / (a - b) }
            }
            (None, None) => return None,
        };
        (a, rf)
    };
    match *kv.get("proj")? {
        "tmerc" => Some(Params {
            tmerc: true,
            lon_0: num("lon_0", 0.0)?,
            lat_0: num("lat_0", 0.0)?,
            k: num("k", num("k_0", 1.0)?)?,
            x_0: num("x_0", 0.0)?,
            y_0: num("y_0", 0.0)?,
            a,
            rf,
        }),
        "utm" => {
            let zone: f64 = kv.get("zone")?.parse().ok()?;
            Some(Params {
                tmerc: true,
                lon_0: zone * 6.0 - 183.0,
                lat_0: 0.0,
                k: 0.9996,
                x_0: 500_000.0,
                y_0: if kv.contains_key("south") {
                    10_000_000.0
                } else {
                    0.0
                },
                a,
                rf,
            })
        }
        _ => None,
    }
}

/// Every Transverse Mercator / UTM definition by EPSG code, read once.
static TMERC: LazyLock<Vec<(u16, Params)>> = LazyLock::new(|| {
    (1024..=32767u16)
        .filter_map(|c| {
            let d = crs_definitions::from_code(c)?;
            Some((c, proj4_params(d.proj4)?))
        })
        .collect()
});

fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The EPSG code an element names about itself, if any.
fn own_code(n: &Node) -> Option<u16> {
    n.child("AUTHORITY")
        .or_else(|| n.child("ID"))
        .filter(|a| text(a, 0).is_some_and(|o| o.eq_ignore_ascii_case("EPSG")))
        .and_then(|a| number(a, 1))
        .filter(|c| c.fract() == 0.0 && (1.0..=65535.0).contains(c))
        .map(|c| c as u16)
}

fn spheroid(geog: &Node) -> Option<(f64, f64)> {
    let datum = geog.child("DATUM")?;
    let d = Node::Element("DATUM".into(), datum.to_vec());
    let s = d.child("SPHEROID").or_else(|| d.child("ELLIPSOID"))?;
    let (a, rf) = (number(s, 1)?, number(s, 2)?);
    Some((a, if rf == 0.0 { f64::INFINITY } else { rf }))
}

fn unknown(wkt: &str, why: &str) -> CrsError {
    let head: String = wkt.chars().take(80).collect();
    CrsError::UnknownCrs(format!("{head}… ({why})"))
}

/// Reads a WKT coordinate system (WKT 1, ESRI or WKT 2) as a [`Crs`].
pub fn from_wkt(wkt: &str) -> Result<Crs, CrsError> {
    let root = parse(wkt).map_err(|e| unknown(wkt, &format!("not WKT: {e}")))?;
    let Node::Element(kw, _) = &root else {
        return Err(unknown(wkt, "not WKT"));
    };
    let kw = kw.to_ascii_uppercase();
    if let Some(code) = own_code(&root) {
        return format!("epsg:{code}").parse();
    }
    let geog_kw = ["GEOGCS", "GEOGCRS", "GEODCRS", "BASEGEOGCRS", "BASEGEODCRS"];
    match kw.as_str() {
        k if geog_kw.contains(&k) => {
            let (a, rf) = spheroid(&root).ok_or_else(|| unknown(wkt, "no ellipsoid"))?;
            let shifted = root
                .child("DATUM")
                .map(|d| Node::Element("DATUM".into(), d.to_vec()))
                .and_then(|d| d.child("TOWGS84").map(<[Node]>::to_vec))
                .is_some_and(|t| t.iter().any(|n| matches!(n, Node::Number(x) if *x != 0.0)));
            // WGS 84 and CGCS2000 (their ellipsoids differ in the 10th
            // digit of the flattening; gridgov takes them as one).
            if close(a, 6_378_137.0) && (rf - 298.257_22).abs() < 1e-4 && !shifted {
                Ok(Crs::Wgs84)
            } else {
                Err(unknown(
                    wkt,
                    "a longitude/latitude on a datum other than WGS 84 or CGCS2000",
                ))
            }
        }
        "PROJCS" | "PROJCRS" => {
            let geog = geog_kw
                .iter()
                .find_map(|k| {
                    root.child(k)
                        .map(|a| Node::Element((*k).into(), a.to_vec()))
                })
                .ok_or_else(|| unknown(wkt, "no geographic system"))?;
            let (a, rf) = spheroid(&geog).ok_or_else(|| unknown(wkt, "no ellipsoid"))?;
            // The method: WKT 1 PROJECTION, WKT 2 CONVERSION/METHOD.
            let conv = root
                .child("CONVERSION")
                .map(|c| Node::Element("CONVERSION".into(), c.to_vec()));
            let method = root
                .child("PROJECTION")
                .or_else(|| conv.as_ref().and_then(|c| c.child("METHOD")))
                .and_then(|a| text(a, 0))
                .map(norm)
                .unwrap_or_default();
            if method.contains("auxiliarysphere") || method.contains("pseudomercator") {
                return Ok(Crs::Epsg(3857));
            }
            if !matches!(method.as_str(), "transversemercator" | "gausskruger") {
                return Err(unknown(
                    wkt,
                    &format!(
                        "projection {method:?}: gridgov reads Transverse Mercator (Gauss-Krüger, UTM) and Web Mercator from .prj files; give --crs epsg:CODE"
                    ),
                ));
            }
            let params: Vec<&[Node]> = root
                .children("PARAMETER")
                .chain(conv.iter().flat_map(|c| c.children("PARAMETER")))
                .collect();
            let p = |names: &[&str], d: f64| {
                params
                    .iter()
                    .find(|a| text(a, 0).is_some_and(|n| names.contains(&norm(n).as_str())))
                    .and_then(|a| number(a, 1))
                    .unwrap_or(d)
            };
            let unit = root
                .child("UNIT")
                .or_else(|| root.child("LENGTHUNIT"))
                .and_then(|u| number(u, 1))
                .unwrap_or(1.0);
            if !close(unit, 1.0) {
                return Err(unknown(wkt, "its unit is not the metre"));
            }
            let want = Params {
                tmerc: true,
                lon_0: p(&["centralmeridian", "longitudeofnaturalorigin"], 0.0),
                lat_0: p(&["latitudeoforigin", "latitudeofnaturalorigin"], 0.0),
                k: p(&["scalefactor", "scalefactoratnaturalorigin"], 1.0),
                x_0: p(&["falseeasting"], 0.0),
                y_0: p(&["falsenorthing"], 0.0),
                a,
                rf,
            };
            // Systems with the same numbers convert alike; of them, the
            // one its datum's users know (UTM on WGS 84, Gauss-Krüger on
            // CGCS2000), else the lowest code.
            let datum = geog
                .child("DATUM")
                .and_then(|d| text(d, 0))
                .map(norm)
                .unwrap_or_default();
            let usual = |c: u16| {
                (datum.contains("wgs1984") || datum.contains("wgs84"))
                    && (32601..=32760).contains(&c)
                    || (datum.contains("china2000") || datum.contains("cgcs2000"))
                        && (4491..=4554).contains(&c)
            };
            TMERC
                .iter()
                .filter(|(_, q)| q.same(&want))
                .min_by_key(|(c, _)| (!usual(*c), *c))
                .map(|(c, _)| Crs::Epsg(*c))
                .ok_or_else(|| {
                    unknown(
                        wkt,
                        "no EPSG system has its parameters; give --crs epsg:CODE",
                    )
                })
        }
        _ => Err(unknown(wkt, "not a geographic or projected system")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ESRI WKT of a Transverse Mercator system: the ellipsoid and the
    /// false easting, false northing, central meridian and scale.
    fn esri_tm(name: &str, datum: &str, (a, rf): (f64, f64), [fe, fn_, cm, k]: [f64; 4]) -> String {
        format!(
            r#"PROJCS["{name}",GEOGCS["GCS",DATUM["{datum}",SPHEROID["S",{a},{rf}]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",{fe}],PARAMETER["False_Northing",{fn_}],PARAMETER["Central_Meridian",{cm}],PARAMETER["Scale_Factor",{k}],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#
        )
    }

    #[test]
    fn esri_prj_files_of_utm_and_gauss_kruger_zones_read_as_their_epsg_codes() {
        let wgs = (6_378_137.0, 298.257_223_563);
        let cgcs = (6_378_137.0, 298.257_222_101);
        let cases = [
            (
                esri_tm("UTM 50N", "D_WGS_1984", wgs, [5e5, 0.0, 117.0, 0.9996]),
                32650,
            ),
            (
                esri_tm("UTM 35S", "D_WGS_1984", wgs, [5e5, 1e7, 27.0, 0.9996]),
                32735,
            ),
            (
                esri_tm(
                    "GK zone 25",
                    "D_China_2000",
                    cgcs,
                    [25_500_000.0, 0.0, 75.0, 1.0],
                ),
                4513,
            ),
            (
                esri_tm("GK CM 114E", "D_China_2000", cgcs, [5e5, 0.0, 114.0, 1.0]),
                4547,
            ),
            (
                esri_tm(
                    "GK 6 zone 21",
                    "D_China_2000",
                    cgcs,
                    [21_500_000.0, 0.0, 123.0, 1.0],
                ),
                4499,
            ),
        ];
        for (wkt, code) in cases {
            // Of the codes with these numbers, the one GDAL meant.
            assert_eq!(from_wkt(&wkt).unwrap(), Crs::Epsg(code), "{wkt}");
        }
    }

    #[test]
    fn a_named_authority_wins_and_web_mercator_and_wkt2_are_understood() {
        let wkt1 = r#"PROJCS["X",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]]],PROJECTION["Transverse_Mercator"],AUTHORITY["EPSG","32633"]]"#;
        assert_eq!(from_wkt(wkt1).unwrap(), Crs::Epsg(32633));
        let merc = r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]],PROJECTION["Mercator_Auxiliary_Sphere"],UNIT["Meter",1.0]]"#;
        assert_eq!(from_wkt(merc).unwrap(), Crs::Epsg(3857));
        let wkt2 = r#"PROJCRS["CGCS2000 / 3-degree Gauss-Kruger CM 114E", BASEGEOGCRS["China Geodetic Coordinate System 2000", DATUM["China 2000", ELLIPSOID["CGCS2000",6378137,298.257222101, LENGTHUNIT["metre",1]]]], CONVERSION["GK", METHOD["Transverse Mercator"], PARAMETER["Latitude of natural origin",0], PARAMETER["Longitude of natural origin",114], PARAMETER["Scale factor at natural origin",1], PARAMETER["False easting",500000], PARAMETER["False northing",0]], CS[Cartesian,2], LENGTHUNIT["metre",1]]"#;
        let Crs::Epsg(c) = from_wkt(wkt2).unwrap() else {
            panic!()
        };
        let have = crs_definitions::from_code(c)
            .and_then(|d| proj4_params(d.proj4))
            .unwrap();
        assert!(have.same(&proj4_params(crs_definitions::EPSG_4547.proj4).unwrap()));
    }

    #[test]
    fn systems_gridgov_cannot_convert_are_refused_with_the_reason() {
        let lcc = r#"PROJCS["Lambert",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]],PROJECTION["Lambert_Conformal_Conic"],UNIT["Meter",1.0]]"#;
        assert!(
            from_wkt(lcc)
                .unwrap_err()
                .to_string()
                .contains("lambertconformalconic")
        );
        let feet = esri_tm(
            "ft",
            "D",
            (6_378_137.0, 298.257_223_563),
            [5e5, 0.0, 117.0, 0.9996],
        )
        .replace(
            r#"UNIT["Meter",1.0]]"#,
            r#"UNIT["Foot_US",0.3048006096012192]]"#,
        );
        assert!(from_wkt(&feet).unwrap_err().to_string().contains("metre"));
        let beijing = r#"GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954",SPHEROID["Krasovsky_1940",6378245.0,298.3]]]"#;
        assert!(from_wkt(beijing).is_err());
        assert!(from_wkt("PROJCS[\"unclosed").is_err());
    }
}
