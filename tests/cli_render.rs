use crate::util::{gridgov, s, tmp_dir};

#[test]
fn render_writes_the_one_screen_png_of_the_sample_with_a_heatmap() {
    let dir = tmp_dir("render");
    let out = dir.join("onescreen.png");
    let r = gridgov(&[
        "render",
        "--db",
        "data/sample-district.json",
        "--out",
        s(&out),
        "--size",
        "1000x562",
        "--heatmap",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("1000×562"), "{}", r.stderr);
    let img = image::open(&out).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), (1000, 562));
    // The heatmap's warm colours and the map's many colours are there.
    let warm = img
        .pixels()
        .filter(|p| p.0[0] > 200 && p.0[1] > 120 && p.0[2] < 90)
        .count();
    assert!(warm > 200, "{warm} warm pixels");
    let colours: std::collections::HashSet<[u8; 4]> = img.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 500, "{} colours", colours.len());
}

#[test]
fn render_zooms_to_a_grid_and_draws_the_real_view() {
    let dir = tmp_dir("render-grid");
    let out = dir.join("grid.png");
    let r = gridgov(&[
        "render",
        "--db",
        "data/sample-district.json",
        "--out",
        s(&out),
        "--size",
        "640x360",
        "--grid",
        "370402005013001",
        "--tilt",
        "45",
        "--rotate",
        "-30",
        "--layers",
        "grids,buildings,labels,blindspots",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let img = image::open(&out).unwrap().to_rgba8();
    // The grid's outline and the unseen buildings in red.
    let red = img
        .pixels()
        .filter(|p| p.0[0] > 170 && p.0[1] < 80 && p.0[2] < 70)
        .count();
    assert!(red > 100, "{red} red pixels");
}

#[test]
fn bad_render_options_exit_2_naming_the_option_and_write_nothing() {
    let dir = tmp_dir("render-bad");
    let out = dir.join("x.png");
    for (args, says) in [
        (vec!["--size", "big"], "--size"),
        (vec!["--size", "0x100"], "--size"),
        (vec!["--layers", "grids,rivers"], "rivers"),
        (vec!["--grid", "nope"], "nope"),
        (vec!["--from", "March"], "--from"),
        (vec!["--tilt", "80"], "--tilt"),
        (
            vec!["--font", "/nonexistent/font.ttc"],
            "/nonexistent/font.ttc",
        ),
    ] {
        let mut a = vec![
            "render",
            "--db",
            "data/sample-district.json",
            "--out",
            s(&out),
        ];
        a.extend(args);
        let r = gridgov(&a);
        assert_eq!(r.code, 2, "{a:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{a:?}: {}", r.stderr);
        assert!(!out.exists(), "{a:?} wrote an image");
    }
}
