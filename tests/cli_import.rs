use crate::util::{gridgov, ogr2ogr, repo, s, shared_data, tmp_dir};

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
        r.stderr.contains("grids.geojson") && r.stderr.contains("not a valid GeoJSON file"),
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

/// The Helsinki grids moved into China (+90° longitude, −30° latitude: on
/// 3° Gauss-Krüger zone 38, central meridian 114°E), with ASCII field
/// names a Shapefile keeps and Chinese grid names — a layer as a
/// natural-resources bureau would hand it over, derived from real data.
fn china_layer(dir: &std::path::Path) -> std::path::PathBuf {
    let text =
        std::fs::read_to_string(shared_data().join("helsinki/grids/pienalueet.geojson")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let shift = |ring: &serde_json::Value| -> serde_json::Value {
        ring.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                serde_json::json!([p[0].as_f64().unwrap() + 90.0, p[1].as_f64().unwrap() - 30.0])
            })
            .collect()
    };
    let features: Vec<serde_json::Value> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let g = &f["geometry"];
            let coords: serde_json::Value = match g["type"].as_str().unwrap() {
                "Polygon" => g["coordinates"].as_array().unwrap().iter().map(shift).collect(),
                _ => g["coordinates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_array().unwrap().iter().map(shift).collect::<Vec<_>>())
                    .collect(),
            };
            let p = &f["properties"];
            serde_json::json!({
                "type": "Feature",
                "properties": {
                    "sub": p["osaalue_tunnus"],
                    "code": p["tunnus"],
                    "name_zh": format!("振兴街道{}社区第{}网格", p["osaalue_tunnus"].as_str().unwrap(), p["tunnus"].as_str().unwrap()),
                },
                "geometry": {"type": g["type"], "coordinates": coords},
            })
        })
        .collect();
    let out = dir.join("china.geojson");
    std::fs::write(
        &out,
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    out
}

fn import_grids(
    dir: &std::path::Path,
    file: &str,
    extra: &[&str],
) -> (crate::util::Run, gridgov_spatial::District) {
    let mapping = dir.join(format!("{file}.mapping.json"));
    std::fs::write(
        &mapping,
        serde_json::json!({"grids": {"file": file, "id": "{sub}-{code}", "name": "{name_zh}"}})
            .to_string(),
    )
    .unwrap();
    let out = dir.join(format!("{file}.district.json"));
    let mut args = vec!["import", "--mapping", s(&mapping), "--out", s(&out)];
    args.extend_from_slice(extra);
    let r = gridgov(&args);
    let d = if r.code == 0 {
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
    } else {
        gridgov_spatial::District::new("failed")
    };
    (r, d)
}

/// Asserts two districts have the same grids, names and vertices (within
/// `tol` degrees), and place 20,000 seeded points alike wherever a point is
/// more than a centimetre from every border.
fn assert_same_grids(a: &gridgov_spatial::District, b: &gridgov_spatial::District, tol: f64) {
    let grids = |d: &gridgov_spatial::District| -> Vec<gridgov_spatial::Area> {
        d.grids().map(|g| d.area(g).clone()).collect()
    };
    let (ga, gb) = (grids(a), grids(b));
    assert_eq!(ga.len(), gb.len());
    for y in &gb {
        let x = ga
            .iter()
            .find(|x| x.code == y.code)
            .unwrap_or_else(|| panic!("{}", y.code));
        assert_eq!(&x.name, &y.name);
        let rings = |d: &gridgov_spatial::Area| -> Vec<Vec<(f64, f64)>> {
            d.boundary
                .0
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .map(|r| r.0.iter().map(|c| (c.x, c.y)).collect())
                .collect()
        };
        let (rx, ry) = (rings(x), rings(y));
        assert_eq!(rx.len(), ry.len(), "{}", x.code);
        let near =
            |p: &(f64, f64), q: &(f64, f64)| (p.0 - q.0).abs() <= tol && (p.1 - q.1).abs() <= tol;
        for (r, q) in rx.iter().zip(&ry) {
            assert_eq!(r.len(), q.len(), "{}", x.code);
            // A Shapefile's outer rings run clockwise: GDAL may have
            // reversed a ring, keeping its first vertex.
            let same = r.iter().zip(q).all(|(a, b)| near(a, b));
            let reversed = r.iter().zip(q.iter().rev()).all(|(a, b)| near(a, b));
            assert!(
                same || reversed,
                "{}: {:?}… vs {:?}…",
                x.code,
                &r[..2],
                &q[..2]
            );
        }
    }
    let (ia, ib) = (
        gridgov_spatial::GridIndex::new(a),
        gridgov_spatial::GridIndex::new(b),
    );
    let mut rng = gridgov_spatial::Rng::new(16);
    let bb = geo::BoundingRect::bounding_rect(&geo::MultiPolygon::new(
        ga.iter().flat_map(|g| g.boundary.0.clone()).collect(),
    ))
    .unwrap();
    let (mut compared, mut inside) = (0, 0);
    for _ in 0..20_000 {
        let (lon, lat) = (
            bb.min().x + rng.f64() * bb.width(),
            bb.min().y + rng.f64() * bb.height(),
        );
        if ia
            .nearest_border(lon, lat)
            .is_some_and(|n| n.distance_m < 0.01)
        {
            continue;
        }
        let code = |d: &gridgov_spatial::District, g: Option<gridgov_spatial::AreaId>| {
            g.map(|g| d.area(g).code.clone())
        };
        assert_eq!(
            code(a, ia.locate(lon, lat)),
            code(b, ib.locate(lon, lat)),
            "{lon},{lat}"
        );
        compared += 1;
        inside += usize::from(ia.locate(lon, lat).is_some());
    }
    assert!(compared > 19_000 && inside > 5_000, "{compared} {inside}");
}

#[test]
fn a_gbk_shapefile_in_cgcs2000_gauss_kruger_written_by_gdal_imports_and_answers_like_its_geojson() {
    let dir = tmp_dir("shp-gk");
    let geojson = china_layer(&dir);
    // GDAL writes it in EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM
    // 114E, ESRI WKT in the .prj) with GBK attributes (.cpg says so).
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-t_srs",
        "EPSG:4547",
        "-lco",
        "ENCODING=GBK",
        s(&dir.join("grids.shp")),
        s(&geojson),
    ]);
    assert_eq!(
        std::fs::read_to_string(dir.join("grids.cpg"))
            .unwrap()
            .trim(),
        "GBK"
    );
    let dbf = std::fs::read(dir.join("grids.dbf")).unwrap();
    assert!(
        std::str::from_utf8(&dbf).is_err(),
        "the attributes really are GBK"
    );
    let (r0, original) = import_grids(&dir, "china.geojson", &[]);
    assert_eq!(r0.code, 0, "{}", r0.stderr);
    let (r, shp) = import_grids(&dir, "grids.shp", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("read as Shapefile")
            && r.stdout.contains("GBK")
            && r.stdout.contains("epsg:4547"),
        "{}",
        r.stdout
    );
    assert_eq!(shp.areas.len(), 404);
    assert!(shp.areas.iter().any(|a| a.name == "振兴街道420社区第3网格"));
    // Projected and back: within 1e-8° (about a millimetre).
    assert_same_grids(&original, &shp, 1e-8);

    // The same file without its .prj is refused with the likely system,
    // and imports with --crs.
    std::fs::remove_file(dir.join("grids.prj")).unwrap();
    let (r, _) = import_grids(&dir, "grids.shp", &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("not longitude/latitude") && r.stderr.contains("--crs"),
        "{}",
        r.stderr
    );
    let (r, again) = import_grids(&dir, "grids.shp", &["--crs", "epsg:4547"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_same_grids(&original, &again, 1e-8);

    // With a zone-prefixed system (EPSG:4526, 3° zone 38 with "38" in
    // front of the easting) and without a .cpg: GBK is recognised.
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-t_srs",
        "EPSG:4526",
        "-lco",
        "ENCODING=GBK",
        s(&dir.join("zoned.shp")),
        s(&geojson),
    ]);
    std::fs::remove_file(dir.join("zoned.cpg")).unwrap();
    let (r, zoned) = import_grids(&dir, "zoned.shp", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("read as GBK"), "{}", r.stdout);
    assert_same_grids(&original, &zoned, 1e-8);

    // The same Shapefile zipped, as it comes by mail, in a folder.
    {
        let f = std::fs::File::create(dir.join("mailed.zip")).unwrap();
        let mut z = zip::ZipWriter::new(f);
        for ext in ["shp", "shx", "dbf", "prj"] {
            z.start_file(
                format!("网格/zoned.{ext}"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            std::io::Write::write_all(
                &mut z,
                &std::fs::read(dir.join(format!("zoned.{ext}"))).unwrap(),
            )
            .unwrap();
        }
        z.finish().unwrap();
    }
    let (r, mailed) = import_grids(&dir, "mailed.zip", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("网格/zoned.shp in the zip"),
        "{}",
        r.stdout
    );
    assert_same_grids(&original, &mailed, 1e-8);
}

#[test]
fn kml_kmz_and_geopackage_layers_written_by_gdal_import_like_their_geojson() {
    let dir = tmp_dir("kml-gpkg");
    let geojson = china_layer(&dir);
    let (r0, original) = import_grids(&dir, "china.geojson", &[]);
    assert_eq!(r0.code, 0, "{}", r0.stderr);
    // GeoPackage in lon/lat: binary doubles, bit-exact.
    ogr2ogr(&[
        "-f",
        "GPKG",
        s(&dir.join("grids.gpkg")),
        s(&geojson),
        "-nln",
        "wangge",
    ]);
    let (r, gpkg) = import_grids(&dir, "grids.gpkg", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_same_grids(&original, &gpkg, 0.0);
    // GeoPackage in CGCS2000 Gauss-Krüger: the SRS table names EPSG:4547.
    ogr2ogr(&[
        "-f",
        "GPKG",
        "-t_srs",
        "EPSG:4547",
        s(&dir.join("gk.gpkg")),
        s(&geojson),
    ]);
    let (r, gk) = import_grids(&dir, "gk.gpkg", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("epsg:4547"), "{}", r.stdout);
    assert_same_grids(&original, &gk, 1e-8);
    // FlatGeobuf, as GDAL writes it: in lon/lat bit-exact, and in
    // Gauss-Krüger with its system in the header.
    ogr2ogr(&["-f", "FlatGeobuf", s(&dir.join("grids.fgb")), s(&geojson)]);
    let (r, fgb) = import_grids(&dir, "grids.fgb", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("read as FlatGeobuf"), "{}", r.stdout);
    assert_same_grids(&original, &fgb, 0.0);
    ogr2ogr(&[
        "-f",
        "FlatGeobuf",
        "-t_srs",
        "EPSG:4547",
        s(&dir.join("gk.fgb")),
        s(&geojson),
    ]);
    let (r, gk) = import_grids(&dir, "gk.fgb", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("epsg:4547"), "{}", r.stdout);
    assert_same_grids(&original, &gk, 1e-8);
    // A cut-off FlatGeobuf is refused, naming the file.
    let bytes = std::fs::read(dir.join("gk.fgb")).unwrap();
    std::fs::write(dir.join("cut.fgb"), &bytes[..bytes.len() / 2]).unwrap();
    let (r, _) = import_grids(&dir, "cut.fgb", &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("cut.fgb"), "{}", r.stderr);
    // KML (GDAL writes 15 significant digits: within 1e-12°) and the
    // same zipped as KMZ.
    ogr2ogr(&["-f", "KML", s(&dir.join("grids.kml")), s(&geojson)]);
    let (r, kml) = import_grids(&dir, "grids.kml", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_same_grids(&original, &kml, 1e-12);
    // A KMZ: that KML zipped as doc.kml.
    {
        let f = std::fs::File::create(dir.join("grids.kmz")).unwrap();
        let mut z = zip::ZipWriter::new(f);
        z.start_file("doc.kml", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut z, &std::fs::read(dir.join("grids.kml")).unwrap()).unwrap();
        z.finish().unwrap();
    }
    let (r, kmz) = import_grids(&dir, "grids.kmz", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_same_grids(&original, &kmz, 1e-12);
    // GDAL's LIBKML driver writes a KMZ whose doc.kml links one file per
    // layer; it leaves out the 3 self-intersecting grids.
    ogr2ogr(&["-f", "LIBKML", s(&dir.join("libkml.kmz")), s(&geojson)]);
    let (r, lib) = import_grids(&dir, "libkml.kmz", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lib.grids().count(), 401);
    for a in &lib.areas {
        let o = original.areas.iter().find(|o| o.code == a.code).unwrap();
        assert_eq!((&o.name, o.boundary.0.len()), (&a.name, a.boundary.0.len()));
    }
}

#[test]
fn a_layer_file_of_an_unknown_or_broken_format_is_refused_naming_the_file() {
    let dir = tmp_dir("bad-format");
    std::fs::write(dir.join("grids.dxf"), "0\nSECTION\n").unwrap();
    let (r, _) = import_grids(&dir, "grids.dxf", &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("grids.dxf") && r.stderr.contains(".shp"),
        "{}",
        r.stderr
    );
    std::fs::write(dir.join("grids.kml"), "<kml><Placemark><Polygon>").unwrap();
    let (r, _) = import_grids(&dir, "grids.kml", &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("grids.kml") && r.stderr.contains("KML"),
        "{}",
        r.stderr
    );
    std::fs::write(dir.join("grids.shp"), "not a shapefile").unwrap();
    let (r, _) = import_grids(&dir, "grids.shp", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("grids.shp"), "{}", r.stderr);
}

#[test]
fn the_districts_grids_exported_as_shapefile_geopackage_flatgeobuf_kml_and_geojson_are_read_alike_by_gdal_and_by_gridgov()
 {
    let dir = tmp_dir("export");
    let sample = repo().join("data/sample-district.json");
    let original: gridgov_spatial::District =
        serde_json::from_str(&std::fs::read_to_string(&sample).unwrap()).unwrap();
    for (file, crs, extra, tol, gdal_srs) in [
        (
            "grids.shp",
            "epsg:4527",
            &["--encoding", "gbk"][..],
            1e-8,
            "Gauss-Kruger zone 39",
        ),
        (
            "grids.gpkg",
            "epsg:4548",
            &[][..],
            1e-8,
            "Gauss-Kruger CM 117E",
        ),
        (
            "grids.fgb",
            "epsg:4527",
            &[][..],
            1e-8,
            "Gauss-Kruger zone 39",
        ),
        ("grids.kml", "wgs84", &[][..], 0.0, "WGS 84"),
        ("grids.geojson", "epsg:32650", &[][..], 1e-8, "UTM zone 50N"),
    ] {
        let out = dir.join(file);
        let mut args = vec!["export", "--db", s(&sample), "--out", s(&out), "--crs", crs];
        args.extend_from_slice(extra);
        let r = gridgov(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        // GDAL reads the file, its system and its Chinese names.
        let o = std::process::Command::new("ogrinfo")
            .args(["-ro", "-al", s(&out)])
            .output()
            .unwrap();
        let info = String::from_utf8_lossy(&o.stdout);
        assert!(
            info.contains("Feature Count: 52") && info.contains(gdal_srs),
            "{file}: {}",
            &info[..info.len().min(3000)]
        );
        assert!(info.contains("辛庄第1网格"), "{file}: names");
        // And gridgov reads it back as the same grids.
        std::fs::write(
            dir.join("m.json"),
            serde_json::json!({"grids": {"file": file, "id": "{code}", "name": "{name}", "kind": "{kind}"}})
                .to_string(),
        )
        .unwrap();
        let back = dir.join(format!("{file}.json"));
        let r = gridgov(&[
            "import",
            "--mapping",
            s(&dir.join("m.json")),
            "--out",
            s(&back),
            "--quiet",
        ]);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        let d: gridgov_spatial::District =
            serde_json::from_str(&std::fs::read_to_string(&back).unwrap()).unwrap();
        assert_same_grids(&original, &d, tol);
    }
    // KML is WGS 84 by definition: another system is refused.
    let r = gridgov(&[
        "export",
        "--db",
        s(&sample),
        "--out",
        s(&dir.join("x.kml")),
        "--crs",
        "epsg:4527",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("KML"), "{}", r.stderr);
}

#[test]
fn osm_roads_and_place_names_are_read_as_gdal_reads_them() {
    let dir = tmp_dir("osm-basemap");
    let v = import_helsinki(&dir);
    let osm = &v["osm"][0];
    let d: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("helsinki.json")).unwrap()).unwrap();
    let basemap = d["basemap"].as_array().expect("a base map").clone();
    // GDAL's OSM driver on the same extract: its `lines` layer holds every
    // way with a `highway` tag, its `points` layer the place nodes.
    let lines = dir.join("lines.csv");
    let pbf = shared_data().join("helsinki/Helsinki.osm.pbf");
    ogr2ogr(&[
        "-f",
        "CSV",
        s(&lines),
        s(&pbf),
        "lines",
        "-lco",
        "GEOMETRY=AS_WKT",
    ]);
    let not_roads = [
        "",
        "proposed",
        "construction",
        "abandoned",
        "platform",
        "raceway",
        "bus_stop",
        "elevator",
    ];
    // (way id, class) → vertices, from GDAL (7 decimals, OSM's own precision).
    let mut want: std::collections::BTreeMap<String, (String, String, Vec<f64>)> =
        std::collections::BTreeMap::new();
    for row in csv::Reader::from_path(&lines).unwrap().deserialize() {
        let row: std::collections::HashMap<String, String> = row.unwrap();
        let class = row["highway"].clone();
        if not_roads.contains(&class.as_str()) || row["other_tags"].contains("\"area\"=>\"yes\"") {
            continue;
        }
        // Our name prefers name:zh; Helsinki's ways have none but say so.
        assert!(!row["other_tags"].contains("name:zh"), "{row:?}");
        want.insert(
            row["osm_id"].clone(),
            (class, row["name"].clone(), wkt_numbers(&row["WKT"])),
        );
    }
    let mut got: std::collections::BTreeMap<String, (String, String, Vec<f64>)> =
        std::collections::BTreeMap::new();
    for f in basemap.iter().filter(|f| f["kind"] == "road") {
        let id = f["source"]
            .as_str()
            .unwrap()
            .trim_start_matches("osm:way/")
            .to_string();
        let coords: Vec<f64> = f["shape"]["line"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| [c[0].as_f64().unwrap(), c[1].as_f64().unwrap()])
            .map(|x| (x * 1e7).round() / 1e7)
            .collect();
        let prev = got.insert(
            id.clone(),
            (
                f["class"].as_str().unwrap().into(),
                f["name"].as_str().unwrap().into(),
                coords,
            ),
        );
        assert!(
            prev.is_none(),
            "way {id} is whole in the extract, so one part"
        );
    }
    assert_eq!(got.len(), want.len());
    assert_eq!(got.len() as u64, osm["roads"].as_u64().unwrap());
    for (id, w) in &want {
        let g = got
            .get(id)
            .unwrap_or_else(|| panic!("way {id} ({w:?}) missing"));
        assert_eq!(g, w, "way {id}");
    }
    let named = got.values().filter(|(_, n, _)| !n.is_empty()).count();
    assert_eq!(named as u64, osm["named_roads"].as_u64().unwrap());
    assert!(
        got.values()
            .any(|(c, n, _)| n == "Mannerheimintie" && c == "primary")
    );

    // Place names: GDAL's points with a `place` tag and a name.
    let points = dir.join("points.csv");
    ogr2ogr(&[
        "-f",
        "CSV",
        s(&points),
        s(&pbf),
        "points",
        "-lco",
        "GEOMETRY=AS_WKT",
    ]);
    let places = [
        "city",
        "town",
        "district",
        "suburb",
        "quarter",
        "neighbourhood",
        "village",
        "hamlet",
        "isolated_dwelling",
        "locality",
        "square",
        "island",
    ];
    let mut want_places = Vec::new();
    for row in csv::Reader::from_path(&points).unwrap().deserialize() {
        let row: std::collections::HashMap<String, String> = row.unwrap();
        let tags = &row["other_tags"];
        let Some(class) = places.iter().find(|p| row["place"] == **p) else {
            continue;
        };
        // name:zh wins over name, as on the map.
        let zh = tags
            .split("\",\"")
            .find_map(|kv| kv.trim_matches('"').strip_prefix("name:zh\"=>\""))
            .map(|v| v.trim_end_matches('"').to_string());
        let name = zh.unwrap_or_else(|| row["name"].clone());
        if !name.is_empty() {
            want_places.push((row["osm_id"].clone(), (*class).to_string(), name));
        }
    }
    let mut got_places: Vec<(String, String, String)> = basemap
        .iter()
        .filter(|f| f["kind"] == "place")
        .map(|f| {
            (
                f["source"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("osm:node/")
                    .to_string(),
                f["class"].as_str().unwrap().to_string(),
                f["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    want_places.sort();
    got_places.sort();
    assert_eq!(got_places, want_places);
    assert!(
        got_places.iter().any(|p| p.2 == "赫爾辛基"),
        "Helsinki's name:zh"
    );
    assert!(got_places.iter().any(|p| p.2 == "Kluuvi"));
}

/// `gridgov basemap` into the store `db` (sample district already there):
/// the base map is the extract's, read back by `read` as (kind, name)
/// pairs; the grids are untouched.
fn basemap_replaced_in(db: &str, read: &dyn Fn() -> Vec<(String, String)>) {
    let before = read();
    assert!(
        before.iter().any(|(_, n)| n == "振兴街"),
        "the sample's roads first"
    );
    let pbf = shared_data().join("osm/berlin-alexanderplatz-2020.osm.pbf");
    let r = gridgov(&["basemap", "--db", db, "--osm", s(&pbf), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let after = read();
    assert_eq!(after.len() as u64, v["features"].as_u64().unwrap());
    assert!(
        after
            .iter()
            .any(|(k, n)| k == "road" && n == "Alexanderstraße")
    );
    assert!(
        !after.iter().any(|(_, n)| n == "振兴街"),
        "the old base map is gone"
    );
    let water = after.iter().filter(|(k, _)| k == "water").count() as u64;
    assert_eq!(water, v["osm"][0]["water_areas"].as_u64().unwrap());
    // Grids and everything else as they were.
    let r = gridgov(&["stats", "--db", db, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json().as_array().map(Vec::len), Some(52 + 8 + 1));
    // A file that is no extract changes nothing.
    let r = gridgov(&["basemap", "--db", db, "--osm", "/etc/hostname"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(read().len(), after.len());
}

#[test]
fn the_base_map_of_a_geopackage_store_is_replaced_from_an_extract_and_gdal_reads_it() {
    let dir = tmp_dir("basemap-gpkg");
    let db = dir.join("d.gpkg");
    let r = gridgov(&["sample", "--out", s(&db)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let read = || {
        let csv = dir.join("basemap.csv");
        let _ = std::fs::remove_file(&csv);
        ogr2ogr(&["-f", "CSV", s(&csv), s(&db), "basemap"]);
        csv::Reader::from_path(&csv)
            .unwrap()
            .deserialize::<std::collections::HashMap<String, String>>()
            .map(|r| {
                let r = r.unwrap();
                (r["kind"].clone(), r["name"].clone())
            })
            .collect()
    };
    basemap_replaced_in(s(&db), &read);
}

#[test]
fn the_base_map_of_a_postgis_store_is_replaced_from_an_extract() {
    let Some(url) = crate::util::postgis_database("basemap") else {
        return;
    };
    let r = gridgov(&["sample", "--out", &url]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let read = || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.query("SELECT kind, name FROM basemap ORDER BY fid", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    basemap_replaced_in(&url, &read);
}

#[test]
fn streets_derived_from_the_grids_attributes_are_exported_as_the_union_of_their_grids_as_geos_unions_them()
 {
    let dir = tmp_dir("export-union");
    let v = import_helsinki(&dir);
    assert_eq!(v["layers"]["areas"]["street"], 8);
    let out = dir.join("streets.geojson");
    let r = gridgov(&[
        "export",
        "--db",
        s(&dir.join("helsinki.json")),
        "--out",
        s(&out),
        "--level",
        "street",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("8 of them have no boundary of their own"),
        "{}",
        r.stdout
    );
    // GEOS (through GDAL's SQLite dialect) on the grid layer itself.
    let geos = dir.join("geos.csv");
    ogr2ogr(&[
        "-f",
        "CSV",
        s(&geos),
        s(&shared_data().join("helsinki/grids/pienalueet.geojson")),
        "-dialect",
        "SQLite",
        "-sql",
        "SELECT suurpiiri_tunnus AS code, ST_Area(ST_Union(geometry)) AS area FROM pienalueet GROUP BY suurpiiri_tunnus",
    ]);
    let want: std::collections::HashMap<String, String> = csv::Reader::from_path(&geos)
        .unwrap()
        .deserialize::<(String, String)>()
        .map(Result::unwrap)
        .collect();
    let fc: geojson::FeatureCollection = std::fs::read_to_string(&out).unwrap().parse().unwrap();
    assert_eq!(fc.features.len(), 8);
    let mut compared = 0;
    for f in &fc.features {
        let code = f.property("code").unwrap().as_str().unwrap().to_string();
        let g: geo::Geometry<f64> = f.geometry.clone().unwrap().try_into().unwrap();
        let geo::Geometry::MultiPolygon(mp) = g else {
            panic!("{code}: not a multipolygon");
        };
        // Grids that share their edges dissolve into one polygon.
        assert_eq!(mp.0.len(), 1, "{code}");
        let ours = geo::Area::unsigned_area(&mp);
        // GEOS gives up on two streets with a self-intersecting grid.
        if let Some(Ok(theirs)) = want
            .get(&code)
            .filter(|a| !a.is_empty())
            .map(|a| a.parse::<f64>())
        {
            assert!(
                ((ours - theirs) / theirs).abs() < 1e-6,
                "{code}: {ours} vs GEOS {theirs}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 6, "{compared} streets compared");
}
