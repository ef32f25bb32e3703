use std::fmt::Write as _;

use crate::util::{gridgov, s, sample, tmp_dir};

/// A hotline export of `n` rows from the sample's incidents: Chinese
/// column names, GCJ-02 coordinates, local times, Chinese categories.
fn export(n: usize) -> String {
    let d = sample();
    let mut t = String::from("工单号,经度,纬度,诉求类别,受理时间,诉求内容\n");
    for i in 0..n {
        let x = &d.incidents[i % d.incidents.len()];
        let (lon, lat) = gridgov_spatial::crs::wgs84_to_gcj02(x.location.x(), x.location.y());
        let cat = if x.category == "environment" {
            "环境卫生"
        } else {
            x.category.as_str()
        };
        // Local time in Beijing, as the hotline writes it.
        let when = jiff::tz::Offset::constant(8)
            .to_datetime(x.reported_at)
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string();
        writeln!(
            t,
            "GD{i:06},{lon:.7},{lat:.7},{cat},{when},\"诉求 \"\"{i}\"\", 请处理\""
        )
        .unwrap();
    }
    t
}

const MAPPING: &str = r#"{"lon": "经度", "lat": "纬度", "crs_value": "gcj02", "category": "诉求类别",
  "reported_at": "受理时间", "description": "诉求内容", "address": null, "source": null,
  "categories": {"环境卫生": "environment"}}"#;

fn count(db: &str) -> usize {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT count(*) FROM incidents", [], |r| r.get::<_, i64>(0))
        .unwrap() as usize
}

#[test]
fn a_hotline_export_of_25000_rows_is_imported_whole_and_a_malformed_one_not_at_all() {
    let dir = tmp_dir("import-incidents");
    let db = dir.join("t.gpkg");
    let db = s(&db);
    let mapping = dir.join("m.json");
    std::fs::write(&mapping, MAPPING).unwrap();
    let good = dir.join("good.csv");
    std::fs::write(&good, export(25_000)).unwrap();
    // A dry run checks (and makes the store on first use), imports nothing.
    let r = gridgov(&[
        "import-incidents",
        s(&good),
        "--mapping",
        s(&mapping),
        "--db",
        db,
        "--dry-run",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("25000 rows are fine"), "{}", r.stdout);
    let before = count(db);
    let r = gridgov(&[
        "import-incidents",
        s(&good),
        "--mapping",
        s(&mapping),
        "--db",
        db,
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("imported 25000 incidents"),
        "{}",
        r.stdout
    );
    assert_eq!(count(db), before + 25_000);
    // Row 4 has a bad latitude and row 6 too few fields: refused whole.
    let mut bad = export(10);
    let mut lines: Vec<String> = bad.lines().map(str::to_string).collect();
    lines[3] = lines[3].replacen(",3", ",north", 1);
    lines[5] = "GD9,117.5".into();
    bad = lines.join("\n");
    let badf = dir.join("bad.csv");
    std::fs::write(&badf, bad).unwrap();
    let r = gridgov(&[
        "import-incidents",
        s(&badf),
        "--mapping",
        s(&mapping),
        "--db",
        db,
        "--quiet",
    ]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("bad.csv:4:"), "{}", r.stderr);
    assert!(r.stderr.contains("bad.csv:6:"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was imported"));
    assert_eq!(count(db), before + 25_000, "nothing of the bad file");
    // A mapping naming a column the file lacks is refused up front.
    std::fs::write(&mapping, r#"{"category": "类型"}"#).unwrap();
    let r = gridgov(&[
        "import-incidents",
        s(&good),
        "--mapping",
        s(&mapping),
        "--db",
        db,
        "--quiet",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("\"类型\""), "{}", r.stderr);
}
