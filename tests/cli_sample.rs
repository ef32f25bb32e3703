use crate::util::{gridgov, repo, s, tmp_dir};

#[test]
fn the_committed_sample_is_exactly_what_gridgov_sample_generates() {
    let dir = tmp_dir("sample_regen");
    let out = dir.join("d.json");
    let r = gridgov(&["sample", "--out", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fresh = std::fs::read(&out).unwrap();
    let committed = std::fs::read(repo().join("data/sample-district.json")).unwrap();
    assert!(
        fresh == committed,
        "data/sample-district.json is stale: run `gridgov sample`"
    );
}

#[test]
fn stats_count_the_sample_like_the_real_street() {
    let r = gridgov(&["stats", "--level", "street", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let c = &v[0]["counts"];
    assert_eq!(c["grids"], 52);
    assert_eq!(c["buildings"], 453);
    assert_eq!(c["merchants"], 1100);
    assert_eq!(c["cameras"], 220);
    assert_eq!(c["incidents"], 5700);
    let units = c["units"].as_u64().unwrap();
    assert!((1150..1250).contains(&units), "{units}");
}

#[test]
fn stats_per_grid_add_up_to_the_street() {
    let all = gridgov(&["stats", "--json"]).json();
    let rows = all.as_array().unwrap();
    let sum = |level: &str, key: &str| -> u64 {
        rows.iter()
            .filter(|r| r["level"] == level)
            .map(|r| r["counts"][key].as_u64().unwrap())
            .sum()
    };
    for key in [
        "buildings",
        "households",
        "merchants",
        "incidents",
        "open_incidents",
    ] {
        assert_eq!(sum("grid", key), sum("street", key), "{key}");
        assert_eq!(sum("community", key), sum("street", key), "{key}");
    }
}

#[test]
fn the_stats_table_lines_up_chinese_names() {
    let r = gridgov(&["stats", "--level", "community"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("辛庄居委会"));
    assert_eq!(r.stdout.lines().count(), 2 + 8);
}

#[test]
fn a_district_file_that_is_not_json_is_a_clear_error() {
    let dir = tmp_dir("bad_db");
    let f = dir.join("bad.json");
    std::fs::write(&f, "{ not json").unwrap();
    let r = gridgov(&["stats", "--db", s(&f)]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("bad.json") && r.stderr.contains("not a gridgov district file"),
        "{}",
        r.stderr
    );
    let r = gridgov(&["stats", "--db", "/nonexistent/d.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent/d.json"), "{}", r.stderr);
}

#[test]
fn a_store_that_cannot_be_reached_is_a_failure_exit_1_not_bad_input() {
    // Nothing listens on port 1: the input is fine, the store is not there.
    let r = gridgov(&["stats", "--db", "postgres://gridgov@127.0.0.1:1/gridgov"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("Connection refused"), "{}", r.stderr);
    // The same command with a bad argument is bad input.
    let r = gridgov(&["stats", "--level", "planet"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--level"), "{}", r.stderr);
}

#[test]
fn a_larger_scale_writes_several_streets_with_everything_scaled() {
    let dir = tmp_dir("sample_scale");
    let out = dir.join("d.json");
    let r = gridgov(&["sample", "--scale", "3", "--out", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = gridgov(&["stats", "--db", s(&out), "--level", "street", "--json"]).json();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let total = |k: &str| {
        rows.iter()
            .map(|r| r["counts"][k].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(total("grids"), 156);
    assert_eq!(total("buildings"), 3 * 453);
    assert_eq!(total("incidents"), 3 * 5700);
    let r = gridgov(&["sample", "--scale", "huge", "--out", s(&out)]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--scale"), "{}", r.stderr);
}
