use crate::util::{gridgov, repo, s, tmp_dir};

fn sample_json() -> String {
    repo()
        .join("data/sample-district.json")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn partition_writes_a_draft_and_the_cells_and_reports_every_grid_in_the_band() {
    let dir = tmp_dir("partition");
    let (draft, cells) = (dir.join("draft.json"), dir.join("cells.geojson"));
    let db = sample_json();
    let r = gridgov(&[
        "partition",
        "--db",
        &db,
        "--community",
        "370402005004",
        "--out",
        s(&draft),
        "--cells",
        s(&cells),
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["metrics"]["share_in_band"], 1.0, "{}", v["metrics"]);
    assert!(v["today"]["share_in_band"].as_f64().unwrap() < 1.0);
    assert!(
        v["grids"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g.get("boundary").is_none())
    );
    // The draft is what POST /drafts takes: a reason and the changes.
    let d: serde_json::Value = serde_json::from_slice(&std::fs::read(&draft).unwrap()).unwrap();
    assert!(
        d["reason"].as_str().unwrap().contains("网格自动划分"),
        "{}",
        d["reason"]
    );
    let changes = d["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for c in changes {
        assert!(
            c["geometry"]["type"] == "MultiPolygon" || c["remove"] == true,
            "{c}"
        );
    }
    // The cells: one per building, every household of the proposal in them.
    let fc: serde_json::Value = serde_json::from_slice(&std::fs::read(&cells).unwrap()).unwrap();
    let cells = fc["features"].as_array().unwrap();
    let households: u64 = cells
        .iter()
        .map(|f| f["properties"]["households"].as_u64().unwrap())
        .sum();
    let proposed: u64 = v["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["households"].as_u64().unwrap())
        .sum();
    assert_eq!(households, proposed);
    assert!(
        cells
            .iter()
            .all(|f| f["geometry"]["type"] == "MultiPolygon")
    );
}

#[test]
fn the_partition_table_sets_the_proposal_against_todays_grids() {
    let r = gridgov(&[
        "partition",
        "--db",
        &sample_json(),
        "--community",
        "370402005001",
        "--keep-existing",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let today = r.stdout.lines().find(|l| l.starts_with("today")).unwrap();
    let proposed = r
        .stdout
        .lines()
        .find(|l| l.starts_with("proposed"))
        .unwrap();
    assert!(today.contains("33%"), "{today}");
    assert!(proposed.contains("100%"), "{proposed}");
    assert!(r.stdout.contains("reshaped"), "{}", r.stdout);
}

#[test]
fn partition_refuses_a_grid_code_and_an_empty_band_with_exit_2() {
    let db = sample_json();
    let r = gridgov(&["partition", "--db", &db, "--community", "370402005001001"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a community"), "{}", r.stderr);
    let r = gridgov(&[
        "partition",
        "--db",
        &db,
        "--community",
        "370402005001",
        "--min",
        "600",
        "--max",
        "300",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("min"), "{}", r.stderr);
    let r = gridgov(&["partition", "--db", &db, "--community", "nope"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}
