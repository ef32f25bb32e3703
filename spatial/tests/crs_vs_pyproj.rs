//! Coordinate systems against PROJ: the reference points of
//! `tests/fixtures/crs.json` (written by `scripts/crs_fixtures.py` with
//! pyproj) converted both ways, each within a millimetre.

#![allow(clippy::unwrap_used)]

use gridgov_spatial::Crs;

#[test]
fn every_reference_point_converts_both_ways_within_a_millimetre_of_proj() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/crs.json"
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let points = v["points"].as_array().unwrap();
    assert!(points.len() >= 40);
    let mut systems = std::collections::BTreeSet::new();
    for p in points {
        let code = p["epsg"].as_u64().unwrap();
        let crs: Crs = format!("EPSG:{code}").parse().unwrap();
        let f = |k: &str| p[k].as_f64().unwrap();
        let (lon, lat, x, y) = (f("lon"), f("lat"), f("x"), f("y"));
        // x/y → lon/lat, the error in metres on the ground.
        let (glon, glat) = crs.to_wgs84(x, y).unwrap();
        let m_per_deg = 111_320.0;
        let off =
            ((glon - lon) * m_per_deg * lat.to_radians().cos()).hypot((glat - lat) * m_per_deg);
        assert!(
            off < 0.001,
            "EPSG:{code} {x}, {y}: {glon}, {glat} is {off} m from PROJ's {lon}, {lat}"
        );
        // lon/lat → x/y.
        let (px, py) = crs.from_wgs84(lon, lat);
        let off = if matches!(crs, Crs::Wgs84) {
            ((px - x) * m_per_deg).hypot((py - y) * m_per_deg)
        } else {
            (px - x).hypot(py - y)
        };
        assert!(
            off < 0.001,
            "EPSG:{code} {lon}, {lat}: {px}, {py} is {off} m from PROJ's {x}, {y}"
        );
        systems.insert(code);
    }
    assert!(systems.len() >= 9, "{systems:?}");
}

#[test]
fn points_a_system_cannot_take_are_refused_not_misplaced() {
    let utm: Crs = "epsg:32650".parse().unwrap();
    assert!(utm.to_wgs84(f64::NAN, 3_850_000.0).is_err());
    let e = "epsg:99999".parse::<Crs>().unwrap_err();
    assert!(e.to_string().contains("EPSG code"), "{e}");
}
