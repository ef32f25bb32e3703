//! Raster tiles compared with committed reference images, with a
//! tolerance (anti-aliasing may differ in the last bit between builds).
//! Regenerate after an intended change with `GRIDGOV_BLESS=1`.

#![allow(clippy::unwrap_used)]

use gridgov_spatial::{GridIndex, assign, sample, stats};
use gridgov_tiles::{IncidentFilter, TileId, TileSource};

fn source() -> TileSource {
    let d = sample::district(&sample::SampleSpec::default());
    let a = assign(&d, &GridIndex::new(&d));
    TileSource::new(&d, &a, &stats(&d, &a))
}

fn compare(name: &str, png: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("GRIDGOV_BLESS").is_some() {
        std::fs::write(&path, png).unwrap();
    }
    let want = image::open(&path)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with GRIDGOV_BLESS=1 to create)",
                path.display()
            )
        })
        .to_rgba8();
    let got = image::load_from_memory(png).unwrap().to_rgba8();
    assert_eq!(want.dimensions(), got.dimensions());
    let mut sum = 0u64;
    let mut off = 0usize;
    for (a, b) in want.pixels().zip(got.pixels()) {
        let d =
            a.0.iter()
                .zip(b.0.iter())
                .map(|(x, y)| x.abs_diff(*y))
                .max()
                .unwrap_or(0);
        sum += u64::from(d);
        if d > 16 {
            off += 1;
        }
    }
    let n = (want.width() * want.height()) as usize;
    let mean = sum as f64 / n as f64;
    assert!(
        mean < 1.0 && off * 200 < n,
        "{name}: mean difference {mean:.2}, {off} pixels off by more than 16"
    );
}

#[test]
fn the_plan_map_tile_matches_its_reference() {
    let src = source();
    let t = TileId::containing(117.555, 34.865, 16);
    compare("plan-z16.png", &src.plan_png(t, 256, None).unwrap());
}

#[test]
fn the_heatmap_tile_matches_its_reference() {
    let src = source();
    let f = IncidentFilter::default();
    let max = src.density_max(&f, 150.0, false);
    let t = TileId::containing(117.555, 34.865, 15);
    compare(
        "heatmap-z15.png",
        &src.heatmap_png(t, 256, &f, 150.0, false, max).unwrap(),
    );
}

#[test]
fn a_tile_far_from_the_district_is_background_only() {
    let src = source();
    let png = src
        .plan_png(TileId::containing(0.0, 0.0, 16), 256, None)
        .unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgba8();
    assert!(img.pixels().all(|p| p.0 == [0xf4, 0xf1, 0xea, 0xff]));
}
