//! GPU tests. They run on whatever adapter there is — in CI, Mesa's
//! lavapipe — and never skip: no adapter is a failure.

#![allow(clippy::unwrap_used)]

use gridgov_spatial::{GridIndex, assign, sample, stats};
use gridgov_tiles::{IncidentFilter, TileSource, kde};
use gridgov_viewer::{Camera, Gpu, GpuHeat, HeatRaster, Layers, Scene};

fn gpu() -> Gpu {
    Gpu::headless().unwrap_or_else(|e| panic!("GPU tests need an adapter: {e}"))
}

struct Fixture {
    scene: Scene,
    src: TileSource,
}

fn fixture() -> Fixture {
    let d = sample::district(&sample::SampleSpec::default());
    let a = assign(&d, &GridIndex::new(&d));
    let st = stats(&d, &a);
    Fixture {
        scene: Scene::build(&d, &a, &st, Layers::default()),
        src: TileSource::new(&d, &a, &st),
    }
}

/// The GPU density against the CPU reference on the same raster:
/// the largest difference relative to the maximum.
fn compare(f: &Fixture, gpu: &Gpu, cam: &Camera, bandwidth: f64) -> f32 {
    let (xy, _) = f.src.incident_points(&IncidentFilter::default(), false);
    let pts = f.scene.scene_points(&xy);
    let heat = GpuHeat::new(gpu, &pts, None);
    let b = cam.ground_bounds();
    let raster = HeatRaster {
        corner: [b[0], b[3]],
        px: cam.metres_per_px,
        width: cam.width,
        height: cam.height,
    };
    let (g, gmax) = heat
        .density(gpu, raster, f.scene.origin, bandwidth)
        .unwrap();
    let c = kde(&xy, None, &raster.spec(f.scene.origin), bandwidth);
    let cmax = c.max();
    assert!(cmax > 0.0);
    assert!(
        (gmax - cmax).abs() / cmax < 0.02,
        "GPU max {gmax} vs CPU max {cmax}"
    );
    g.iter()
        .zip(&c.values)
        .map(|(a, b)| (a - b).abs() / cmax)
        .fold(0.0, f32::max)
}

#[test]
fn the_gpu_heatmap_matches_the_cpu_kde_within_two_percent() {
    let f = fixture();
    let gpu = gpu();
    // The whole district at 960×540 (a wide kernel: the coarse path).
    let cam = Camera::fit(f.scene.bounds, 960, 540, 0);
    let err = compare(&f, &gpu, &cam, 150.0);
    assert!(err < 0.02, "max relative error {err} ({})", gpu.describe());
    // Zoomed in so that σ is 4–12 pixels: binning at output resolution.
    let mut near = cam;
    near.metres_per_px = 20.0;
    let err = compare(&f, &gpu, &near, 150.0);
    assert!(err < 0.02, "max relative error {err} at σ ≈ 7.5 px");
    // Zoomed out so that σ is under 4 pixels: binning three times finer.
    let mut far = cam;
    far.metres_per_px = 60.0;
    far.width = 200;
    far.height = 120;
    let err = compare(&f, &gpu, &far, 150.0);
    assert!(err < 0.02, "max relative error {err} at σ ≈ 2.5 px");
}

fn font() -> gridgov_tiles::LabelFont {
    gridgov_fonts::find(None)
        .unwrap_or_else(|e| panic!("the one-screen view needs a CJK font: {e}"))
        .1
}

/// The share of pixels differing by more than `tol` in any channel.
fn differing(a: &image::RgbaImage, b: &image::RgbaImage, tol: u8) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let bad = a
        .pixels()
        .zip(b.pixels())
        .filter(|(p, q)| (0..4).any(|k| p.0[k].abs_diff(q.0[k]) > tol))
        .count();
    bad as f64 / f64::from(a.width() * a.height())
}

fn golden(name: &str, got: &image::RgbaImage) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var("GRIDGOV_BLESS").as_deref() == Ok("1") || !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        got.save(&path).unwrap();
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{name} was missing; it has been written, commit it"
        );
    }
    let want = image::open(&path).unwrap().to_rgba8();
    let d = differing(got, &want, 24);
    if d >= 0.01 {
        // Kept on purpose (not a temporary folder): the image is for a look
        // after the test has failed.
        let out = std::env::temp_dir().join(format!("actual-{name}"));
        got.save(&out).unwrap();
        panic!(
            "{:.2}% of pixels differ from {name}; the image drawn is at {}",
            d * 100.0,
            out.display()
        );
    }
}

fn draw(f: &Fixture, gpu: &Gpu, cam: &Camera, heat: bool) -> image::RgbaImage {
    use gridgov_viewer::overlay::{CountRow, OverlayText};
    let renderer = gridgov_viewer::Renderer::new(
        gpu,
        f.scene.clone(),
        gridgov_viewer::TextureFormat::Rgba8Unorm,
    );
    let (xy, _) = f.src.incident_points(&IncidentFilter::default(), false);
    let pts = f.scene.scene_points(&xy);
    let g = GpuHeat::new(gpu, &pts, None);
    let max = f.src.density_max(&IncidentFilter::default(), 150.0, false);
    let layer = gridgov_viewer::HeatLayer {
        heat: &g,
        bandwidth_m: 150.0,
        scale_max: Some(max),
        opacity: 0.85,
    };
    let text = OverlayText {
        title: f.scene.title.clone(),
        subtitle: "5700 incidents · all dates".into(),
        timestamp: "Drawn 2026-11-01T00:00:00Z".into(),
        legend: Some((max, "Incident density (incidents per km²)".into())),
        counts: vec![CountRow {
            name: "道南第5网格".into(),
            bar: 1.0,
            text: "458 (35 open)".into(),
        }],
        counts_title: "Incidents per grid".into(),
        highlight: Some("370402005013001".into()),
        sensors: Vec::new(),
    };
    let overlay = gridgov_viewer::overlay::draw(&f.scene, cam, &font(), &text);
    let (rgba, _) = renderer
        .render_rgba(gpu, cam, heat.then_some(&layer), Some(overlay.data()))
        .unwrap();
    image::RgbaImage::from_raw(cam.width, cam.height, rgba).unwrap()
}

#[test]
fn the_one_screen_view_of_the_sample_matches_its_golden_image() {
    let f = fixture();
    let gpu = gpu();
    // An odd width: rows are padded to 256 bytes in the read-back.
    let cam = Camera::fit(f.scene.bounds, 961, 540, 20);
    let img = draw(&f, &gpu, &cam, true);
    golden("onescreen-961x540.png", &img);
    let mut tilted = cam;
    tilted.tilt_deg = 45.0;
    tilted.rotation_deg = 30.0;
    tilted.metres_per_px /= 3.0;
    golden("real-view-961x540.png", &draw(&f, &gpu, &tilted, false));
}

#[test]
fn picking_a_pixel_finds_the_grid_the_spatial_index_finds() {
    let d = sample::district(&sample::SampleSpec::default());
    let idx = GridIndex::new(&d);
    let f = fixture();
    for (rot, tilt) in [(0.0, 0.0), (30.0, 0.0), (-20.0, 40.0)] {
        let mut cam = Camera::fit(f.scene.bounds, 800, 600, 0);
        cam.rotation_deg = rot;
        cam.tilt_deg = tilt;
        for (x, y) in [
            (400.0, 300.0),
            (120.0, 90.0),
            (700.0, 500.0),
            (250.0, 450.0),
        ] {
            let g = cam.to_ground([x, y]);
            let (mx, my) = (
                f.scene.origin[0] + f64::from(g[0]),
                f.scene.origin[1] + f64::from(g[1]),
            );
            let (lon, lat) = gridgov_tiles::tile::mercator_to_lonlat(mx, my);
            let want = idx.locate(lon, lat).map(|a| d.area(a).code.clone());
            let got = f.scene.grid_at(g).map(|i| f.scene.grids[i].code.clone());
            assert_eq!(got, want, "pixel ({x}, {y}) at rotation {rot}, tilt {tilt}");
            let back = cam.to_screen(g);
            assert!((back[0] - x).abs() < 0.05 && (back[1] - y).abs() < 0.05);
        }
    }
}

#[test]
fn a_monitoring_point_in_alarm_is_a_red_dot_at_its_place_and_a_quiet_one_blue() {
    use gridgov_viewer::overlay::{OverlayText, SensorMark, sensor_colour};
    let f = fixture();
    let cam = Camera::fit(f.scene.bounds, 960, 540, 20);
    let d = sample::district(&sample::SampleSpec::default());
    let at = |i: usize| {
        let c = geo::Centroid::centroid(&d.area(d.grids().nth(i).unwrap()).boundary).unwrap();
        (c.x(), c.y())
    };
    let mark = |(lon, lat): (f64, f64), alarm: bool| SensorMark {
        lon,
        lat,
        alarm,
        label: "积水点 41 cm".into(),
        series: vec![8.0, 22.0, 35.0, 41.0],
        threshold: 30.0,
    };
    let (a, q) = (at(3), at(30));
    let text = OverlayText {
        sensors: vec![mark(a, true), mark(q, false)],
        ..OverlayText::default()
    };
    let pm = gridgov_viewer::overlay::draw(&f.scene, &cam, &font(), &text);
    for ((lon, lat), alarm) in [(a, true), (q, false)] {
        let s = cam.to_screen(f.scene.project(lon, lat));
        let px = pm.pixel(s[0] as u32, s[1] as u32).unwrap().demultiply();
        let want = sensor_colour(alarm);
        let got = [px.red(), px.green(), px.blue(), px.alpha()];
        assert!(
            got.iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 8),
            "the dot at ({lon}, {lat}) is {got:?}, not {want:?}"
        );
    }
    // Without points, no dot is drawn there.
    let empty = gridgov_viewer::overlay::draw(&f.scene, &cam, &font(), &OverlayText::default());
    let s = cam.to_screen(f.scene.project(a.0, a.1));
    let px = empty.pixel(s[0] as u32, s[1] as u32).unwrap().demultiply();
    let red = sensor_colour(true);
    assert!(
        [px.red(), px.green(), px.blue()]
            .iter()
            .zip(red)
            .any(|(g, w)| g.abs_diff(w) > 40),
        "a red dot with no point"
    );
}
