//! Tile and heatmap timings: `cargo bench -p gridgov-tiles`.
//!
//! - the Gaussian KDE of 10 M clustered points into a 1920×1080 image
//!   (datashader's aggregate + spread + shade, which is not a KDE, takes
//!   ~395 ms for the same on this machine);
//! - uncached vector tiles of the sample district at zoom 14, per second;
//! - plan-map raster tiles at zoom 16, per second.

use std::time::Instant;

use gridgov_spatial::{GridIndex, assign, sample, stats};
use gridgov_tiles::colormap::shade;
use gridgov_tiles::{IncidentFilter, RasterSpec, TileId, TileSource, kde};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench -p gridgov-tiles -- mvt png` runs only those sections.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let d = sample::district(&sample::SampleSpec::default());
    let a = assign(&d, &GridIndex::new(&d));
    let src = TileSource::new(&d, &a, &stats(&d, &a));
    let [x0, y0, x1, y1] = src.bounds;

    // 10 M points clustered like incidents: around 400 hot spots.
    let n = 10_000_000;
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let centres: Vec<[f64; 2]> = (0..400)
        .map(|_| [x0 + next() * (x1 - x0), y0 + next() * (y1 - y0)])
        .collect();
    let pts: Vec<[f64; 2]> = (0..if run("kde") { n } else { 0 })
        .map(|i| {
            let c = centres[i % centres.len()];
            let (u, v) = (next().max(1e-12), next());
            let r = (-2.0 * u.ln()).sqrt() * 120.0;
            let t = std::f64::consts::TAU * v;
            [c[0] + r * t.cos(), c[1] + r * t.sin()]
        })
        .collect();
    let w = x1 - x0;
    let h = w * 1080.0 / 1920.0;
    let cy = f64::midpoint(y0, y1);
    let spec = RasterSpec {
        bounds: [x0, cy - h / 2.0, x1, cy + h / 2.0],
        width: 1920,
        height: 1080,
    };
    let mut times = Vec::new();
    let mut shaded = vec![0; 1920 * 1080 * 4];
    for _ in 0..if run("kde") { 5 } else { 0 } {
        let t = Instant::now();
        let dens = kde(&pts, None, &spec, 150.0);
        shaded = shade(&dens, dens.max(), 0.85);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    if run("kde") {
        println!(
            "heatmap: 10,000,000 points → 1920×1080, Gaussian KDE (150 m) + colour map: median {:.0} ms (runs {:?})",
            median(times.clone()),
            times.iter().map(|t| t.round() as i64).collect::<Vec<_>>()
        );
    }
    assert_eq!(shaded.len(), 1920 * 1080 * 4);

    // Vector tiles at z14 over the district, uncached.
    let tiles = |z: u8| -> Vec<TileId> {
        let a = TileId::containing(src.bounds_lonlat[0], src.bounds_lonlat[3], z);
        let b = TileId::containing(src.bounds_lonlat[2], src.bounds_lonlat[1], z);
        (a.x..=b.x)
            .flat_map(|x| (a.y..=b.y).map(move |y| TileId { z, x, y }))
            .collect()
    };
    let z14 = tiles(14);
    let rounds = if run("mvt") { 2000 } else { 0 };
    let t = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..rounds {
        for &tile in &z14 {
            bytes += src.mvt(tile).len();
        }
    }
    let secs = t.elapsed().as_secs_f64();
    if run("mvt") {
        println!(
            "mvt: {} tiles at z14 × {rounds}: {:.0} tiles/s on one thread (mean {:.1} KiB)",
            z14.len(),
            (z14.len() * rounds) as f64 / secs,
            bytes as f64 / (z14.len() * rounds) as f64 / 1024.0
        );
    }
    if !run("png") {
        return;
    }
    let z16 = tiles(16);
    let t = Instant::now();
    for &tile in &z16 {
        let _ = src.plan_png(tile, 256, None);
    }
    println!(
        "png: {} plan-map tiles at z16: {:.0} tiles/s on one thread",
        z16.len(),
        z16.len() as f64 / t.elapsed().as_secs_f64()
    );
    let f = IncidentFilter::default();
    let max = src.density_max(&f, 150.0, false);
    let t = Instant::now();
    for &tile in &z16 {
        let _ = src.heatmap_png(tile, 256, &f, 150.0, false, max);
    }
    println!(
        "heatmap png: {} tiles at z16 (sample's 5,700 incidents): {:.0} tiles/s on one thread",
        z16.len(),
        z16.len() as f64 / t.elapsed().as_secs_f64()
    );
}
