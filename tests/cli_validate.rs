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

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // A district whose counts are far more than a pipe holds.
    let dir = crate::util::tmp_dir("closed-pipe");
    let d = dir.join("d.json");
    let made = gridgov(&["sample", "--scale", "10", "--out", crate::util::s(&d)]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args(["stats", "--json", "--db"])
        .arg(&d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read a little, then close the pipe, as `| head -c 100` does.
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(err.is_empty(), "{err}");
    assert_eq!(status.code(), Some(141), "{status:?}");
}
