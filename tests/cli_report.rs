use crate::util::{gridgov, s, tmp_dir};

#[test]
fn a_weekly_report_of_the_sample_prints_a_summary_and_writes_html_and_json() {
    let dir = tmp_dir("report");
    let db = dir.join("r.gpkg");
    let now = "2026-10-05T09:00:00+08:00";
    let r = gridgov(&["report", "--week", "2026-W40", "--db", s(&db), "--now", now]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("incidents 2026-W40 (2026-09-28 to 2026-10-04)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("vs") && r.stdout.contains("2026-W39"));
    assert!(r.stdout.contains("per 1k hh"));

    let html = dir.join("w40.html");
    let r = gridgov(&[
        "report",
        "--week",
        "2026-W40",
        "--db",
        s(&db),
        "--now",
        now,
        "--out",
        s(&html),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains("data:image/png;base64,"));
    assert!(!page.contains("<script") && !page.contains("<link"));

    let json = dir.join("oct.json");
    let r = gridgov(&[
        "report",
        "--month",
        "2026-10",
        "--db",
        s(&db),
        "--now",
        "2026-11-02T09:00:00+08:00",
        "--out",
        s(&json),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["period"]["label"], "2026-10");
    assert_eq!(v["period"]["days"], 31);
    assert_eq!(v["previous"]["label"], "2026-09");
    let total = v["totals"]["incidents"].as_u64().unwrap();
    let daily: u64 = v["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["incidents"].as_u64().unwrap())
        .sum();
    assert_eq!(daily, total);
    assert!(
        v["lattice"]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["spot"] == "hot")
    );
}

#[test]
fn a_bad_period_or_output_is_refused_with_a_reason() {
    let dir = tmp_dir("report-bad");
    let db = dir.join("r.gpkg");
    for (args, says) in [
        (vec!["--week", "2026-11"], "not a week"),
        (vec!["--month", "2026-W46"], "not a month"),
        (vec!["--week", "2026-W54"], "weeks 1 to 53"),
        (vec!["--period", "soon"], "is not a period"),
        (
            vec!["--week", "2026-W46", "--out", "r.pdf"],
            ".html or .json",
        ),
        (vec!["--week", "2026-W46", "--now", "today"], "RFC 3339"),
    ] {
        let mut a = vec!["report", "--db", s(&db)];
        a.extend(args.iter().copied());
        let r = gridgov(&a);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
}
