use gridgov_spatial::pip::contains_multi;

use crate::util::{gridgov, s, tmp_dir};

#[test]
fn bulk_assignment_agrees_with_a_brute_force_scan_of_the_same_files() {
    let dir = tmp_dir("assign");
    let r = gridgov(&[
        "bench-data",
        "--workload",
        "district",
        "--points",
        "30000",
        "--out",
        s(&dir),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = gridgov(&[
        "assign",
        "--grids",
        s(&dir.join("grids.geojson")),
        "--points",
        s(&dir.join("points.f64")),
        "--repeat",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    // Brute force over the same files.
    let fc: geojson::FeatureCollection = std::fs::read_to_string(dir.join("grids.geojson"))
        .unwrap()
        .parse()
        .unwrap();
    let polys: Vec<geo::MultiPolygon<f64>> = fc
        .features
        .iter()
        .map(|f| {
            let g: geo::Geometry<f64> = f.geometry.clone().unwrap().try_into().unwrap();
            match g {
                geo::Geometry::Polygon(p) => geo::MultiPolygon::new(vec![p]),
                geo::Geometry::MultiPolygon(m) => m,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    let bytes = std::fs::read(dir.join("points.f64")).unwrap();
    let (mut inside, mut checksum) = (0u64, 0u64);
    for c in bytes.chunks_exact(16) {
        let x = f64::from_le_bytes(c[..8].try_into().unwrap());
        let y = f64::from_le_bytes(c[8..].try_into().unwrap());
        if let Some(i) = polys.iter().position(|p| contains_multi(p, x, y)) {
            inside += 1;
            checksum += i as u64;
        }
    }
    assert_eq!(v["inside"], inside);
    assert_eq!(v["checksum"], checksum);
}

#[test]
fn a_points_file_of_the_wrong_length_is_a_clear_error() {
    let dir = tmp_dir("assign_bad");
    std::fs::write(dir.join("p.f64"), [0u8; 17]).unwrap();
    gridgov(&["bench-data", "--points", "10", "--out", s(&dir)]);
    let r = gridgov(&[
        "assign",
        "--grids",
        s(&dir.join("grids.geojson")),
        "--points",
        s(&dir.join("p.f64")),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a multiple of 16"), "{}", r.stderr);
}

#[test]
fn a_file_that_is_not_raw_lon_lat_pairs_is_refused_not_placed_nowhere() {
    let dir = tmp_dir("assign-not-points");
    let r = gridgov(&[
        "bench-data",
        "--workload",
        "district",
        "--points",
        "10",
        "--out",
        s(&dir),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A gzip of a CSV, cut to a multiple of 16 bytes.
    let mut gz = Vec::new();
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::default());
        for i in 0..500 {
            writeln!(e, "{i},117.5{i},34.8{i}").unwrap();
        }
        e.finish().unwrap();
    }
    gz.truncate(gz.len() / 16 * 16);
    std::fs::write(dir.join("points.csv.gz"), &gz).unwrap();
    let r = gridgov(&[
        "assign",
        "--grids",
        s(&dir.join("grids.geojson")),
        "--points",
        s(&dir.join("points.csv.gz")),
    ]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("not a longitude/latitude") && r.stderr.contains("gridgov assign FILE"),
        "{}",
        r.stderr
    );
}

/// Seeded points over the sample district (and a margin outside it), with
/// the grid each is in as the spatial core answers in-process.
fn sample_points(n: usize) -> Vec<(f64, f64, Option<String>)> {
    let d = crate::util::sample();
    let idx = gridgov_spatial::GridIndex::new(&d);
    let mut rng = gridgov_spatial::Rng::new(7);
    let bb = geo::BoundingRect::bounding_rect(&geo::MultiPolygon::new(
        d.grids()
            .flat_map(|g| d.area(g).boundary.0.clone())
            .collect(),
    ))
    .unwrap();
    // The grids' box and a tenth more on each side.
    let (w, h) = (bb.width() * 1.2, bb.height() * 1.2);
    let (x0, y0) = (
        bb.min().x - bb.width() * 0.1,
        bb.min().y - bb.height() * 0.1,
    );
    (0..n)
        .map(|_| {
            let (lon, lat) = (x0 + rng.f64() * w, y0 + rng.f64() * h);
            let g = idx.locate(lon, lat).map(|g| d.area(g).code.clone());
            (lon, lat, g)
        })
        .collect()
}

fn read_csv(p: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(p).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    r.records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{name} in {header:?}"))
}

#[test]
fn a_csv_with_quoted_fields_gets_one_answer_per_row_and_bad_rows_are_written_with_their_reason() {
    let dir = tmp_dir("assign-csv");
    let pts = sample_points(2_000);
    let mut w = csv::Writer::from_path(dir.join("list.csv")).unwrap();
    w.write_record(["编号", "住户", "备注", "经度", "纬度"])
        .unwrap();
    for (i, (lon, lat, _)) in pts.iter().enumerate() {
        w.write_record([
            i.to_string(),
            format!("张{i}, 李{i}"),
            format!("第一行\n第二行 \"引号\" {i}"),
            lon.to_string(),
            lat.to_string(),
        ])
        .unwrap();
    }
    // Rows that cannot be placed: no coordinates, not a number, swapped.
    w.write_record(["a", "无坐标", "", "", ""]).unwrap();
    w.write_record(["b", "坏数", "", "117.5x", "34.86"])
        .unwrap();
    w.write_record(["c", "颠倒", "", "34.86", "117.55"])
        .unwrap();
    w.flush().unwrap();
    drop(w);
    let sample = crate::util::repo().join("data/sample-district.json");
    let out = dir.join("answers.csv");
    let r = gridgov(&[
        "assign",
        s(&dir.join("list.csv")),
        "--db",
        s(&sample),
        "--out",
        s(&out),
        "--quiet",
        "--lang",
        "en",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        (v["rows"].as_u64(), v["failed"].as_u64()),
        (Some(2_003), Some(3)),
        "{v}"
    );
    // Each bad row is named by its line (the header is line 1, and every
    // good row spans two lines).
    let lines: Vec<u64> = v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [4_002, 4_003, 4_004]);
    assert!(
        r.stderr
            .contains("list.csv:4003: X \"117.5x\" is not a number"),
        "{}",
        r.stderr
    );
    let rows = read_csv(&out);
    let (h, body) = rows.split_first().unwrap();
    assert_eq!(body.len(), 2_003);
    let (grid, status, reason) = (col(h, "grid_code"), col(h, "status"), col(h, "reason"));
    for (i, ((lon, lat, g), row)) in pts.iter().zip(body).enumerate() {
        // The row's own fields come back exactly, quotes, commas and
        // line breaks included.
        assert_eq!(
            row[..5],
            [
                i.to_string(),
                format!("张{i}, 李{i}"),
                format!("第一行\n第二行 \"引号\" {i}"),
                lon.to_string(),
                lat.to_string()
            ]
        );
        assert_eq!(row[grid], g.clone().unwrap_or_default(), "{lon},{lat}");
        assert_eq!(row[status], if g.is_some() { "placed" } else { "outside" });
    }
    assert_eq!(body[2_000][status], "failed");
    assert_eq!(body[2_000][reason], "no coordinates");
    assert!(
        body[2_002][reason].contains("out of range"),
        "{:?}",
        body[2_002]
    );
    assert!(pts.iter().filter(|p| p.2.is_some()).count() > 1_000);
}

#[test]
fn an_xlsx_written_by_gdal_round_trips_and_a_utm_file_is_assigned_without_conversion() {
    let dir = tmp_dir("assign-xlsx");
    let pts = sample_points(500);
    let mut w = csv::Writer::from_path(dir.join("in.csv")).unwrap();
    w.write_record(["id", "name", "lon", "lat"]).unwrap();
    for (i, (lon, lat, _)) in pts.iter().enumerate() {
        w.write_record([
            format!("P{i}"),
            format!("王{i}, \"户主\""),
            lon.to_string(),
            lat.to_string(),
        ])
        .unwrap();
    }
    drop(w);
    // GDAL writes the workbook (numbers as numbers) and a Shapefile of the
    // same points in UTM zone 50N.
    let gdal = crate::util::ogr2ogr;
    gdal(&[
        "-f",
        "XLSX",
        s(&dir.join("in.xlsx")),
        s(&dir.join("in.csv")),
        "-oo",
        "AUTODETECT_TYPE=YES",
        "-nln",
        "名单",
    ]);
    gdal(&[
        "-f",
        "ESRI Shapefile",
        s(&dir.join("utm.shp")),
        s(&dir.join("in.csv")),
        "-oo",
        "X_POSSIBLE_NAMES=lon",
        "-oo",
        "Y_POSSIBLE_NAMES=lat",
        "-s_srs",
        "EPSG:4326",
        "-t_srs",
        "EPSG:32650",
    ]);
    let sample = crate::util::repo().join("data/sample-district.json");
    let run = |input: &str, out: &str| {
        let r = gridgov(&[
            "assign",
            s(&dir.join(input)),
            "--db",
            s(&sample),
            "--out",
            s(&dir.join(out)),
            "--quiet",
            "--json",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let v = run("in.xlsx", "out.xlsx");
    assert_eq!(v["failed"], 0, "{v}");
    // Read the answers back with the workbook reader.
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.join("out.xlsx")).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut wb, 0)
        .unwrap()
        .unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect();
    let (h, body) = rows.split_first().unwrap();
    assert_eq!(body.len(), 500);
    let grid = col(h, "网格编码");
    for (i, ((_, _, g), row)) in pts.iter().zip(body).enumerate() {
        assert_eq!(
            (row[0].as_str(), row[1].as_str()),
            (
                format!("P{i}").as_str(),
                format!("王{i}, \"户主\"").as_str()
            )
        );
        assert_eq!(row[grid], g.clone().unwrap_or_default());
    }
    // The UTM Shapefile: its .prj says EPSG:32650 and the answers are the
    // same grids (the points are far from borders by more than the
    // round trip's millimetre, or on the same side of them).
    let v = run("utm.shp", "utm.csv");
    assert_eq!(
        (v["crs"].as_str(), v["failed"].as_u64()),
        (Some("epsg:32650"), Some(0)),
        "{v}"
    );
    let rows = read_csv(&dir.join("utm.csv"));
    let (h, body) = rows.split_first().unwrap();
    let (grid, id) = (col(h, "网格编码"), col(h, "id"));
    for row in body {
        let i: usize = row[id].trim_start_matches('P').parse().unwrap();
        assert_eq!(row[grid], pts[i].2.clone().unwrap_or_default(), "{row:?}");
    }
    // And a CSV of UTM eastings/northings, named columns and --crs.
    let mut w = csv::Writer::from_path(dir.join("xy.csv")).unwrap();
    w.write_record(["点号", "东坐标", "北坐标"]).unwrap();
    for (i, (lon, lat, _)) in pts.iter().enumerate() {
        let (x, y) = gridgov_spatial::Crs::Epsg(32650).from_wgs84(*lon, *lat);
        w.write_record([i.to_string(), format!("{x:.3}"), format!("{y:.3}")])
            .unwrap();
    }
    drop(w);
    let r = gridgov(&[
        "assign",
        s(&dir.join("xy.csv")),
        "--db",
        s(&sample),
        "--x",
        "东坐标",
        "--y",
        "北坐标",
        "--id",
        "点号",
        "--crs",
        "epsg:32650",
        "--out",
        s(&dir.join("xy.out.csv")),
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = read_csv(&dir.join("xy.out.csv"));
    let grid = col(&rows[0], "网格编码");
    let agree = rows[1..]
        .iter()
        .zip(&pts)
        .filter(|(row, p)| row[grid] == p.2.clone().unwrap_or_default())
        .count();
    // Coordinates cut to millimetres may cross a border only when within a
    // millimetre of it.
    assert!(agree >= 499, "{agree} of 500");
}

#[test]
fn split_by_grid_writes_one_file_per_grid_holding_exactly_its_rows() {
    let dir = tmp_dir("assign-split");
    let pts = sample_points(800);
    let mut w = csv::Writer::from_path(dir.join("list.csv")).unwrap();
    w.write_record(["lon", "lat"]).unwrap();
    for (lon, lat, _) in &pts {
        w.write_record([lon.to_string(), lat.to_string()]).unwrap();
    }
    drop(w);
    let sample = crate::util::repo().join("data/sample-district.json");
    let out = dir.join("by-grid");
    let r = gridgov(&[
        "assign",
        s(&dir.join("list.csv")),
        "--db",
        s(&sample),
        "--split-by",
        "grid",
        "--out-dir",
        s(&out),
        "--out",
        "x.csv",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut total = 0;
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_str().unwrap().to_string();
        let rows = read_csv(&p);
        let grid = col(&rows[0], "网格编码");
        for row in &rows[1..] {
            let want = if name == "未落格" {
                String::new()
            } else {
                name.clone()
            };
            assert_eq!(row[grid], want);
        }
        total += rows.len() - 1;
    }
    assert_eq!(total, 800);
    let outside = pts.iter().filter(|p| p.2.is_none()).count();
    assert!(outside > 0 && read_csv(&out.join("未落格.csv")).len() - 1 == outside);
}

#[test]
fn a_gbk_csv_from_excel_is_read_as_gbk_and_answered_in_utf8() {
    let dir = tmp_dir("assign-gbk");
    let utf8 = "编号,住户,经度,纬度\r\n1,\"张三, 李四\",117.5265,34.8717\r\n2,王五,,\r\n";
    std::fs::write(dir.join("utf8.csv"), utf8).unwrap();
    let out = std::process::Command::new("iconv")
        .args(["-f", "UTF-8", "-t", "GBK", s(&dir.join("utf8.csv"))])
        .output()
        .expect("iconv");
    assert!(out.status.success());
    assert!(std::str::from_utf8(&out.stdout).is_err(), "really GBK");
    std::fs::write(dir.join("gbk.csv"), &out.stdout).unwrap();
    let sample = crate::util::repo().join("data/sample-district.json");
    let r = gridgov(&[
        "assign",
        s(&dir.join("gbk.csv")),
        "--db",
        s(&sample),
        "--out",
        s(&dir.join("out.csv")),
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("read as GBK"), "{}", r.stdout);
    let rows = read_csv(&dir.join("out.csv"));
    assert_eq!(rows[0][..4], ["编号", "住户", "经度", "纬度"]);
    assert_eq!(rows[1][1], "张三, 李四");
    assert_eq!(rows[1][col(&rows[0], "状态")], "已落格");
    assert_eq!(rows[2][col(&rows[0], "原因")], "no coordinates");
}

#[test]
fn a_flatgeobuf_of_points_from_gdal_is_assigned_and_the_answers_written_as_flatgeobuf_read_back_in_gdal()
 {
    let dir = tmp_dir("assign-fgb");
    let pts = sample_points(300);
    let mut w = csv::Writer::from_path(dir.join("in.csv")).unwrap();
    w.write_record(["id", "name", "lon", "lat"]).unwrap();
    for (i, (lon, lat, _)) in pts.iter().enumerate() {
        w.write_record([
            format!("P{i}"),
            format!("李{i}"),
            lon.to_string(),
            lat.to_string(),
        ])
        .unwrap();
    }
    // A row with no coordinates: written back with its reason.
    w.write_record(["P300", "无坐标", "", ""]).unwrap();
    drop(w);
    crate::util::ogr2ogr(&[
        "-f",
        "FlatGeobuf",
        s(&dir.join("pts.fgb")),
        s(&dir.join("in.csv")),
        "-oo",
        "X_POSSIBLE_NAMES=lon",
        "-oo",
        "Y_POSSIBLE_NAMES=lat",
        "-s_srs",
        "EPSG:4326",
        "-t_srs",
        "EPSG:32650",
    ]);
    let sample = crate::util::repo().join("data/sample-district.json");
    let r = gridgov(&[
        "assign",
        s(&dir.join("pts.fgb")),
        "--db",
        s(&sample),
        "--out",
        s(&dir.join("out.fgb")),
        "--quiet",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["crs"], "epsg:32650", "{v}");
    // GDAL reads the answers: every row, its grid, WGS 84 in the header.
    crate::util::ogr2ogr(&[
        "-f",
        "CSV",
        s(&dir.join("out.csv")),
        s(&dir.join("out.fgb")),
    ]);
    let info = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so", "-al", s(&dir.join("out.fgb"))])
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("WGS 84") && info.contains("Point"), "{info}");
    let rows = read_csv(&dir.join("out.csv"));
    let (h, body) = rows.split_first().unwrap();
    let (grid, id) = (col(h, "网格编码"), col(h, "id"));
    // (GDAL leaves the row without coordinates out of its FlatGeobuf.)
    assert_eq!(body.len(), 300);
    for row in body {
        let i: usize = row[id].trim_start_matches('P').parse().unwrap();
        assert_eq!(row[grid], pts[i].2.clone().unwrap_or_default(), "{row:?}");
    }
    // From the CSV: a FlatGeobuf feature always has a geometry, so the row
    // without coordinates goes, with its reason, to a CSV beside it.
    let r = gridgov(&[
        "assign",
        s(&dir.join("in.csv")),
        "--db",
        s(&sample),
        "--out",
        s(&dir.join("csv.fgb")),
        "--quiet",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let side = dir.join("csv.unplaced.csv");
    assert_eq!(
        r.json()["files"],
        serde_json::json!([s(&dir.join("csv.fgb")), s(&side)])
    );
    crate::util::ogr2ogr(&[
        "-f",
        "CSV",
        s(&dir.join("csv.csv")),
        s(&dir.join("csv.fgb")),
    ]);
    assert_eq!(read_csv(&dir.join("csv.csv")).len(), 1 + 300);
    let rows = read_csv(&side);
    let (h, body) = rows.split_first().unwrap();
    assert_eq!(body.len(), 1);
    assert_eq!(body[0][col(h, "id")], "P300");
    assert_eq!(body[0][col(h, "原因")], "no coordinates");
    // Written again with every row placed, the side file goes.
    let r = gridgov(&[
        "assign",
        s(&dir.join("pts.fgb")),
        "--db",
        s(&sample),
        "--out",
        s(&dir.join("csv.fgb")),
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!side.exists());
}

#[test]
fn a_list_of_addresses_is_matched_to_buildings_and_an_unsure_match_is_left_for_a_person() {
    let dir = tmp_dir("assign-addresses");
    let input = dir.join("名单.csv");
    std::fs::write(
        &input,
        "编号,地址\n1,振兴街24号1号楼\n2,振兴路24号1号楼\n3,火星路999号\n4,\n5,\"振兴街24号9号楼\"\n",
    )
    .unwrap();
    let sample = crate::util::repo().join("data/sample-district.json");
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "assign",
            s(&input),
            "--db",
            s(&sample),
            "--address-col",
            "地址",
            "--out",
        ];
        let out = dir.join(out);
        args.push(s(&out));
        args.push("--quiet");
        args.extend_from_slice(extra);
        let r = gridgov(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        read_csv(&out)
    };
    let rows = run("all.csv", &[]);
    let h = &rows[0];
    let (matched, conf, building, grid, status, why) = (
        col(h, "匹配地址"),
        col(h, "置信度"),
        col(h, "楼栋"),
        col(h, "网格编码"),
        col(h, "状态"),
        col(h, "原因"),
    );
    // The building's own address: sure, and the grid the index gives it.
    let d = crate::util::sample();
    let b = d
        .buildings
        .iter()
        .find(|b| b.address == "振兴街24号1号楼")
        .unwrap();
    assert_eq!(
        (
            rows[1][matched].as_str(),
            rows[1][conf].as_str(),
            rows[1][building].as_str()
        ),
        ("振兴街24号1号楼", "1", b.code.as_str())
    );
    assert_eq!(rows[1][grid], "370402005001001");
    // A near miss (路 for 街) finds the same building, less sure.
    assert_eq!(rows[2][matched], "振兴街24号1号楼");
    let c: f64 = rows[2][conf].parse().unwrap();
    assert!(c > 0.5 && c < 1.0, "{c}");
    // No building, no address: written with the reason.
    assert_eq!(rows[3][status], "未定位");
    assert!(rows[3][why].contains("火星路999号"), "{:?}", rows[3]);
    assert_eq!(rows[4][why], "no address");
    assert_eq!(rows[5][matched], "振兴街24号9号楼");
    // With a cut-off above the near miss: it is not taken, but its
    // candidate and confidence stay for the person checking the list.
    let rows = run("sure.csv", &["--min-confidence", "0.95"]);
    assert_eq!(rows[1][grid], "370402005001001");
    assert_eq!(rows[2][grid], "");
    assert_eq!(rows[2][status], "未定位");
    assert_eq!(rows[2][matched], "振兴街24号1号楼");
    assert_eq!(rows[2][conf].parse::<f64>().unwrap(), c);
    assert!(
        rows[2][why].contains("--min-confidence 0.95"),
        "{:?}",
        rows[2]
    );
    // A cut-off that is no share is refused.
    let r = gridgov(&[
        "assign",
        s(&input),
        "--db",
        s(&sample),
        "--address-col",
        "地址",
        "--min-confidence",
        "80",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--min-confidence"), "{}", r.stderr);
}
