//! Bulk assignment and single lookup on the shared synthetic workload.
//!
//! `cargo bench -p gridgov-spatial --bench assign` prints points per second
//! for the district (52 grids) and the city (5,000 grids), one and two
//! threads, and the time of a single lookup.

use std::hint::black_box;
use std::time::Instant;

use gridgov_spatial::sample::{SampleSpec, district};
use gridgov_spatial::synthetic::{TilingSpec, city_spec, clustered_points, tiling};
use gridgov_spatial::{CellIndex, Crs, GridIndex, lookup_point};

fn measure(name: &str, spec: &TilingSpec, n_points: usize, cells_factor: Option<usize>) {
    let polys = tiling(spec, 2026);
    let verts: usize = polys.iter().map(|p| p.0[0].exterior().0.len() - 1).sum();
    let t = Instant::now();
    let idx = match cells_factor {
        Some(f) => CellIndex::build_with_cells(&polys, verts * f),
        None => CellIndex::build(&polys),
    };
    let build = t.elapsed();
    let st = idx.stats();
    let pts = clustered_points(spec.bbox, n_points, 7);
    let mut out = vec![0u32; pts.len()];
    for threads in [1, 2] {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            idx.locate_many(&pts, &mut out, threads);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{name:9} factor {:>3} threads {threads}: {:7.1} M points/s  (build {:6.1} ms, {} cells, {:.1}% mixed, {:.1} MB)",
            cells_factor.map_or("def".to_string(), |f| f.to_string()),
            pts.len() as f64 / best / 1e6,
            build.as_secs_f64() * 1e3,
            st.cells,
            100.0 * st.mixed_cells as f64 / st.cells as f64,
            st.bytes as f64 / 1e6,
        );
    }
    black_box(&out);
    // Single lookups, one at a time, on a shuffled sample.
    let sample: Vec<[f64; 2]> = pts.iter().step_by(7).take(1_000_000).copied().collect();
    let t = Instant::now();
    let mut acc = 0u64;
    for p in &sample {
        acc = acc.wrapping_add(u64::from(black_box(&idx).locate(p[0], p[1]).unwrap_or(0)));
    }
    let per = t.elapsed().as_secs_f64() / sample.len() as f64;
    println!("{name:9} single lookup: {:.3} µs ({acc})", per * 1e6);
}

/// Full point lookups on the sample district: grid + chain + staff +
/// border distance, and the grid alone.
fn lookups() {
    let d = district(&SampleSpec::default());
    let idx = GridIndex::new(&d);
    let bbox = gridgov_spatial::sample::grids_bbox(&d).expect("grids");
    let pts = clustered_points(bbox, 200_000, 3);
    let t = Instant::now();
    let mut n = 0usize;
    for p in &pts {
        n += usize::from(black_box(&idx).locate(p[0], p[1]).is_some());
    }
    let grid_only = t.elapsed().as_secs_f64() / pts.len() as f64;
    let t = Instant::now();
    for p in &pts {
        let r = lookup_point(&d, &idx, p[0], p[1], Crs::Wgs84).expect("valid");
        n += r.chain.len();
    }
    let full = t.elapsed().as_secs_f64() / pts.len() as f64;
    let t = Instant::now();
    for p in &pts {
        let (x, y) = Crs::Gcj02.from_wgs84(p[0], p[1]);
        n += usize::from(
            lookup_point(&d, &idx, x, y, Crs::Gcj02)
                .expect("valid")
                .grid()
                .is_some(),
        );
    }
    let gcj = t.elapsed().as_secs_f64() / pts.len() as f64;
    println!(
        "sample    GridIndex::locate {:.3} µs; lookup_point (chain, staff, border distance) {:.2} µs; from GCJ-02 {:.2} µs ({n})",
        grid_only * 1e6,
        full * 1e6,
        gcj * 1e6
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    lookups();
    let n = if quick { 1_000_000 } else { 10_000_000 };
    measure("district", &TilingSpec::default(), n, None);
    measure("city", &city_spec(), n, None);
    if std::env::args().any(|a| a == "--sweep") {
        for f in [2, 4, 8, 16, 32, 64] {
            measure("district", &TilingSpec::default(), n, Some(f));
        }
        for f in [2, 4, 8, 16] {
            measure("city", &city_spec(), n, Some(f));
        }
    }
}
