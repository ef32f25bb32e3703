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

#[test]
fn a_sample_with_histories_has_realistic_step_times_that_the_assessment_ranks() {
    let dir = crate::util::tmp_dir("sample_histories");
    let db = dir.join("h.gpkg");
    let r = crate::util::gridgov(&["sample", "--histories", "--out", crate::util::s(&db)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let store = gridgov_storage::open(
        crate::util::s(&db),
        std::path::Path::new(""),
        "2026-12-01T00:00:00+08:00".parse().unwrap(),
    )
    .unwrap()
    .store;
    let book = gridgov_app::cases::Book::read(store.as_ref()).unwrap();
    let with_steps = book.cases.iter().filter(|c| !c.history.is_empty()).count();
    assert!(with_steps > 5_000, "{with_steps} cases with steps");
    let d = store.load().unwrap();
    let snap = gridgov_app::Snapshot::build(d, std::collections::HashMap::default(), 1);
    let a = gridgov_app::report::assessment::assess(
        &snap,
        &book,
        &[],
        &gridgov_spatial::workflow::DeadlineRules::default(),
        gridgov_spatial::period::Period::parse("2026-10").unwrap(),
        "2026-12-01T00:00:00+08:00".parse().unwrap(),
        8 * 3600,
    );
    let ranked: Vec<_> = a.grids.iter().filter(|g| g.rank.is_some()).collect();
    assert!(ranked.len() >= 40, "{} grids ranked", ranked.len());
    let cases: usize = ranked.iter().map(|g| g.cases).sum();
    let accept: Vec<f64> = ranked.iter().filter_map(|g| g.to_accept.median).collect();
    let mean_accept = accept.iter().sum::<f64>() / accept.len() as f64;
    assert!(
        (0.7..2.5).contains(&mean_accept),
        "median hours to accept {mean_accept}"
    );
    let sat: Vec<f64> = ranked.iter().filter_map(|g| g.satisfaction).collect();
    let mean_sat = sat.iter().sum::<f64>() / sat.len() as f64;
    assert!((3.9..4.7).contains(&mean_sat), "satisfaction {mean_sat}");
    let overdue: usize = ranked.iter().map(|g| g.overdue).sum();
    assert!(
        overdue > 0 && overdue < cases,
        "{overdue} of {cases} overdue"
    );
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    // The staff are the grids' own leaders and workers.
    let top = snap
        .district
        .area(snap.district.area_by_code(&ranked[0].code).unwrap());
    assert!(
        top.staff
            .iter()
            .any(|m| a.staff.iter().any(|s| s.user == m.name)),
        "none of {:?} among the staff assessed",
        top.staff
    );
}
