use crate::util::{gridgov, repo, s, shared_data, tmp_dir};

fn import_helsinki(dir: &std::path::Path) -> serde_json::Value {
    let data = shared_data().join("helsinki");
    let out = dir.join("helsinki.json");
    let r = gridgov(&[
        "import",
        "--mapping",
        s(&repo().join("examples/helsinki.mapping.json")),
        "--dir",
        s(&data.join("grids")),
        "--osm",
        s(&data.join("Helsinki.osm.pbf")),
        "--name",
        "Helsinki",
        "--out",
        s(&out),
        "--json",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

#[test]
fn helsinki_imports_with_its_three_level_hierarchy_and_osm_features() {
    let dir = tmp_dir("helsinki");
    let v = import_helsinki(&dir);
    assert_eq!(v["layers"]["areas"]["grid"], 404);
    assert_eq!(v["layers"]["areas"]["community"], 148);
    assert_eq!(v["layers"]["areas"]["street"], 8);
    let osm = &v["osm"][0];
    assert!(osm["buildings"].as_u64().unwrap() > 400, "{osm}");
    assert!(osm["units"].as_u64().unwrap() > 250, "{osm}");
    assert!(osm["merchants"].as_u64().unwrap() > 1000, "{osm}");
    assert!(osm["cameras"].as_u64().unwrap() > 200, "{osm}");
    // Buildings cut at the extract's edge are reported, not imported half.
    assert!(osm["cut_at_edge"].as_u64().unwrap() > 0);

    let db = dir.join("helsinki.json");
    // Helsinki Central Station is in Kluuvi (sub-district 040), Southern major district.
    let r = gridgov(&[
        "lookup",
        "--db",
        s(&db),
        "--at",
        "24.9414,60.1710",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let chain = r.json()["chain"].clone();
    assert_eq!(chain.as_array().unwrap().len(), 3, "{chain}");
    assert_eq!(chain[1]["name"], "Kluuvi");
    assert_eq!(chain[2]["name"], "ETELÄINEN");

    // An OSM address resolves to a building and its grid.
    let r = gridgov(&[
        "lookup",
        "--db",
        s(&db),
        "--address",
        "Mannerheimintie 5",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.json()["candidates"][0]["chain"].is_array());

    // The real data's dirty parts show up in validation.
    let r = gridgov(&["validate", "--db", s(&db), "--json"]);
    let feats = r.json()["features"].as_array().unwrap().clone();
    let count = |k: &str| {
        feats
            .iter()
            .filter(|f| f["properties"]["kind"] == k)
            .count()
    };
    assert!(count("invalid_polygon") >= 1, "invalid polygons");
    assert!(count("straddling_building") >= 1, "straddling buildings");
    // Every grid nests in a community and every community in a street.
    assert_eq!(count("bad_parent"), 0);
}

#[test]
fn berlin_and_copenhagen_extracts_import_with_reports() {
    let dir = tmp_dir("osm_more");
    for (f, min_buildings) in [
        ("berlin-alexanderplatz-2020", 200),
        ("osrm-kbh-copenhagen-2012", 5000),
    ] {
        let out = dir.join(format!("{f}.json"));
        let pbf = shared_data().join(format!("osm/{f}.osm.pbf"));
        let r = gridgov(&[
            "import",
            "--osm",
            s(&pbf),
            "--out",
            s(&out),
            "--json",
            "--quiet",
        ]);
        assert_eq!(r.code, 0, "{f}: {}", r.stderr);
        let osm = r.json()["osm"][0].clone();
        assert!(
            osm["buildings"].as_u64().unwrap() > min_buildings,
            "{f}: {osm}"
        );
        assert!(
            osm["addressed_buildings"].as_u64().unwrap() > 0,
            "{f}: {osm}"
        );
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const MAPPING: &str = r#"{"grids": {"file": "grids.geojson", "id": "{code}", "name": "{name}"}}"#;

#[test]
fn a_malformed_geojson_layer_is_a_clear_error_naming_the_file() {
    let dir = tmp_dir("bad_layer");
    let m = write(&dir, "m.json", MAPPING);
    write(
        &dir,
        "grids.geojson",
        r#"{"type": "FeatureCollection", "features": [ {"type": "Feat"#,
    );
    let r = gridgov(&[
        "import",
        "--mapping",
        s(&m),
        "--out",
        s(&dir.join("o.json")),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("grids.geojson") && r.stderr.contains("not a GeoJSON FeatureCollection"),
        "{}",
        r.stderr
    );
    assert!(!dir.join("o.json").exists(), "nothing written on error");
}

#[test]
fn bad_features_are_reported_by_id_and_the_good_ones_imported() {
    let dir = tmp_dir("bad_features");
    let m = write(&dir, "m.json", MAPPING);
    write(
        &dir,
        "grids.geojson",
        r#"{"type": "FeatureCollection", "features": [
          {"type": "Feature", "properties": {"code": "G1", "name": "good"},
           "geometry": {"type": "Polygon", "coordinates": [[[117.5,34.8],[117.51,34.8],[117.51,34.81],[117.5,34.81],[117.5,34.8]]]}},
          {"type": "Feature", "properties": {"code": "G2", "name": "swapped"},
           "geometry": {"type": "Polygon", "coordinates": [[[34.8,117.5],[34.8,117.51],[34.81,117.51],[34.8,117.5]]]}},
          {"type": "Feature", "properties": {"code": "G3", "name": "unclosed"},
           "geometry": {"type": "Polygon", "coordinates": [[[117.52,34.8],[117.53,34.8],[117.53,34.81],[117.52,34.81]]]}},
          {"type": "Feature", "properties": {"code": "G4", "name": "a line"},
           "geometry": {"type": "LineString", "coordinates": [[117.5,34.8],[117.6,34.9]]}},
          {"type": "Feature", "properties": {"name": "no code"},
           "geometry": {"type": "Polygon", "coordinates": [[[117.5,34.8],[117.51,34.8],[117.51,34.81],[117.5,34.8]]]}},
          {"type": "Feature", "properties": {"code": "G6", "name": "too short"},
           "geometry": {"type": "Polygon", "coordinates": [[[117.5,34.8],[117.51,34.8],[117.5,34.8]]]}}
        ]}"#,
    );
    let out = dir.join("o.json");
    let r = gridgov(&[
        "import",
        "--mapping",
        s(&m),
        "--out",
        s(&out),
        "--json",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["layers"]["areas"]["grid"], 2, "{v}"); // G1 and G3 (closed)
    let problems: Vec<String> = v["layers"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let mentions =
        |id: &str, what: &str| problems.iter().any(|p| p.contains(id) && p.contains(what));
    assert!(mentions("G2", "not a longitude/latitude"), "{problems:?}");
    assert!(mentions("G3", "not closed"), "{problems:?}");
    assert!(mentions("G4", "not a Polygon"), "{problems:?}");
    assert!(
        mentions("grid feature 4", "\"code\" is missing"),
        "{problems:?}"
    );
    assert!(mentions("G6", "at least 4"), "{problems:?}");
}

/// Runs GDAL's `ogr2ogr` (gdal-bin, which `.ci/run` installs): it must
/// be there and succeed.
fn ogr2ogr(args: &[&str]) {
    let out = std::process::Command::new("ogr2ogr")
        .args(args)
        .output()
        .expect("ogr2ogr (gdal-bin) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every number of a WKT text, in order.
fn wkt_numbers(wkt: &str) -> Vec<f64> {
    wkt.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+')))
        .filter(|t| t.chars().any(|c| c.is_ascii_digit()))
        .map(|t| t.parse::<f64>().unwrap())
        .collect()
}

#[test]
fn every_vertex_of_a_real_layer_is_read_exactly_as_gdal_reads_it() {
    let layer = shared_data().join("helsinki/grids/pienalueet.geojson");
    let dir = tmp_dir("exact");
    let csv = dir.join("gdal.csv");
    // GDAL's reading, printed with 17 significant digits (enough to give
    // back every double exactly).
    ogr2ogr(&[
        "-f",
        "CSV",
        s(&csv),
        s(&layer),
        "-lco",
        "GEOMETRY=AS_WKT",
        "--config",
        "OGR_WKT_PRECISION",
        "17",
    ]);
    let mut gdal = Vec::new();
    let mut rows = csv::Reader::from_path(&csv).unwrap();
    for r in rows.records() {
        gdal.extend(wkt_numbers(&r.unwrap()[0]));
    }
    // gridgov's reading, through the function its import and assign use.
    let text = std::fs::read_to_string(&layer).unwrap();
    let ours: Vec<f64> = gridgov_app::import::layers::polygons_from_geojson(&text)
        .unwrap()
        .iter()
        .flat_map(|mp| mp.0.iter())
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.0.iter().flat_map(|c| [c.x, c.y]))
        .collect();
    assert!(gdal.len() > 10_000, "{} numbers", gdal.len());
    assert_eq!(ours.len(), gdal.len());
    let off: Vec<(usize, f64, f64)> = ours
        .iter()
        .zip(&gdal)
        .enumerate()
        .filter(|(_, (a, b))| a.to_bits() != b.to_bits())
        .map(|(i, (a, b))| (i, *a, *b))
        .take(5)
        .collect();
    assert!(off.is_empty(), "read differently from GDAL: {off:?}");
}

#[test]
fn a_layer_of_grids_alone_imports_and_validates_without_parents() {
    let dir = tmp_dir("grids-only");
    let out = dir.join("d.json");
    let r = gridgov(&[
        "import",
        "--mapping",
        s(&repo().join("examples/grids-only.mapping.json")),
        "--dir",
        s(&shared_data().join("helsinki/grids")),
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The import tells what validate will find, as it goes.
    assert!(
        r.stdout.contains("3 invalid_polygon; worst: grid "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(" sliver; worst: "), "{}", r.stdout);
    let v = gridgov(&["validate", "--json", "--db", s(&out)]);
    let problems = v.json();
    let kinds: Vec<&str> = problems["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["properties"]["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.is_empty());
    assert!(!kinds.contains(&"bad_parent"), "{kinds:?}");
    // What is left are the layer's own faults, as GEOS finds them too:
    // three self-intersecting grids, and slivers between neighbours.
    assert_eq!(
        kinds.iter().filter(|k| **k == "invalid_polygon").count(),
        3,
        "{kinds:?}"
    );
}

#[test]
fn a_layer_in_utm_imports_as_its_original_and_without_its_crs_is_refused() {
    let dir = tmp_dir("utm-layer");
    // GDAL writes the Helsinki grids in UTM zone 35N, naming the system
    // in the file's `crs` member.
    let utm = dir.join("pienalueet.geojson");
    let original = shared_data().join("helsinki/grids/pienalueet.geojson");
    ogr2ogr(&[
        "-f",
        "GeoJSON",
        "-t_srs",
        "EPSG:32635",
        s(&utm),
        s(&original),
    ]);
    let import = |from: &std::path::Path, to: &std::path::Path| {
        gridgov(&[
            "import",
            "--mapping",
            s(&repo().join("examples/grids-only.mapping.json")),
            "--dir",
            s(from),
            "--out",
            s(to),
        ])
    };
    let (a, b) = (dir.join("utm.json"), dir.join("lonlat.json"));
    let r = import(&dir, &a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = import(&shared_data().join("helsinki/grids"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let read = |p: &std::path::Path| -> gridgov_spatial::District {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (du, dl) = (read(&a), read(&b));
    assert_eq!(du.areas.len(), dl.areas.len());
    for (x, y) in du.areas.iter().zip(dl.areas.iter()) {
        assert_eq!(x.code, y.code);
        let cx: Vec<_> = x
            .boundary
            .0
            .iter()
            .flat_map(|p| p.exterior().0.iter())
            .collect();
        let cy: Vec<_> = y
            .boundary
            .0
            .iter()
            .flat_map(|p| p.exterior().0.iter())
            .collect();
        assert_eq!(cx.len(), cy.len(), "{}", x.code);
        for (p, q) in cx.iter().zip(&cy) {
            // A millimetre is about 1e-8 degrees here.
            assert!(
                (p.x - q.x).abs() < 2e-8 && (p.y - q.y).abs() < 1e-8,
                "{}: {p:?} {q:?}",
                x.code
            );
        }
    }
    // The same file without its `crs` member cannot be read as lon/lat:
    // refused, naming what it most likely is, and nothing written.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&utm).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("crs");
    std::fs::write(&utm, v.to_string()).unwrap();
    let c = dir.join("none.json");
    let r = import(&dir, &c);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("not longitude/latitude") && r.stderr.contains("UTM"),
        "{}",
        r.stderr
    );
    assert!(!c.exists(), "nothing is written");
}
