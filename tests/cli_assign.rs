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
        r.stderr.contains("not a longitude/latitude") && r.stderr.contains("/lookup/batch"),
        "{}",
        r.stderr
    );
}
