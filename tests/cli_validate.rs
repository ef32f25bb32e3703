use crate::util::gridgov;

#[test]
fn validate_reports_the_samples_straddling_buildings_as_geojson_and_exits_1() {
    let r = gridgov(&["validate", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["type"], "FeatureCollection");
    let feats = v["features"].as_array().unwrap();
    let straddling: Vec<_> = feats
        .iter()
        .filter(|f| f["properties"]["kind"] == "straddling_building")
        .collect();
    assert!(straddling.len() >= 3);
    for f in straddling {
        assert_eq!(f["geometry"]["type"], "MultiPolygon");
        assert!(f["properties"]["ids"].as_array().unwrap().len() >= 3);
    }
}

#[test]
fn the_validate_table_ends_with_the_totals() {
    let r = gridgov(&["validate"]);
    let last = r.stdout.lines().last().unwrap();
    assert!(
        last.contains("errors,") && last.contains("warnings"),
        "{last}"
    );
}
