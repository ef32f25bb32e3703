//! `gridgov render`: the one-screen view, headless, to a PNG.

use std::path::PathBuf;
use std::process::ExitCode;

use gridgov_spatial::{GridIndex, assign, stats};
use gridgov_tiles::{IncidentFilter, TileSource};
use gridgov_viewer::overlay::{CountRow, OverlayText};
use gridgov_viewer::{Camera, Gpu, GpuHeat, HeatLayer, Layers, Renderer, Scene};

use super::{CliError, CliResult, DbArgs, OrInput};

/// Options of `gridgov render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The PNG to write.
    #[arg(long, value_name = "FILE", default_value = "onescreen.png")]
    out: PathBuf,
    /// Image size, WIDTHxHEIGHT.
    #[arg(long, default_value = "3840x2160")]
    size: String,
    /// Layers: grids, buildings, merchants, cameras, labels, roads (the
    /// base map: roads and water), blindspots (buildings coloured by the
    /// share no camera sees; the panel then shows camera coverage per
    /// grid).
    #[arg(long, default_value = "grids,buildings,merchants,cameras,labels,roads")]
    layers: String,
    /// Draw the incident heatmap.
    #[arg(long)]
    heatmap: bool,
    /// First day of incidents (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Last day of incidents (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    /// Incident categories, comma-separated.
    #[arg(long)]
    category: Option<String>,
    /// Heatmap bandwidth in metres.
    #[arg(long, default_value_t = 150.0)]
    bandwidth: f64,
    /// Show this grid: zoom to it and outline it.
    #[arg(long, value_name = "CODE")]
    grid: Option<String>,
    /// Map bearing at the top, degrees clockwise from north.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    rotate: f32,
    /// Tilt for the 2.5D view (buildings extruded by floors), 0–60 degrees.
    #[arg(long, default_value_t = 0.0)]
    tilt: f32,
    /// Font for Chinese text; default: GRIDGOV_FONT, else an installed CJK font.
    #[arg(long, value_name = "FILE")]
    font: Option<PathBuf>,
    /// The language of the overlay's words: zh-CN (default) or en.
    #[arg(long, default_value = "zh-CN", value_parser = crate::cli::report::parse_lang)]
    lang: gridgov_spatial::i18n::Lang,
}

/// Room for the title (top left), the counts panel (right) and the legend
/// (bottom left), as the overlay lays them out (1 unit = 1/1080 of the
/// height), plus `pad`.
fn margins(width: u32, height: u32, pad: u32) -> [u32; 4] {
    let u = height as f32 / 1080.0;
    let panel = (448.0 * u) as u32;
    // Narrow images keep the map whole and let the panel cover it.
    let right = if width > 3 * panel { panel } else { 0 };
    [pad, (150.0 * u) as u32, right + pad, (130.0 * u) as u32]
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X', '×'])
        .ok_or_else(|| format!("--size {s:?}: expected WIDTHxHEIGHT, e.g. 3840x2160"))?;
    let n = |v: &str| -> Result<u32, String> {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| (16..=16384).contains(&n))
            .ok_or_else(|| format!("--size {s:?}: each side must be 16 to 16384 pixels"))
    };
    Ok((n(w)?, n(h)?))
}

fn check_date(flag: &str, v: &str) -> Result<gridgov_spatial::Date, String> {
    gridgov_spatial::time::parse_date(v).map_err(|e| format!("{flag}: {e}"))
}

/// Runs `gridgov render`.
/// A moment as the district's local date and time (`2026-11-05 09:30`).
fn local_time(t: gridgov_spatial::Timestamp) -> String {
    gridgov_spatial::time::local_minute(t, gridgov_spatial::time::CHINA_OFFSET_S)
}

pub fn run(a: &RenderArgs) -> CliResult {
    let tf = |k: &str, args: &[(&str, &dyn std::fmt::Display)]| {
        gridgov_spatial::i18n::tf(a.lang, k, args)
    };
    let (width, height) = parse_size(&a.size).input()?;
    let layers = Layers::parse(&a.layers).input()?;
    let from = a
        .from
        .as_deref()
        .map(|v| check_date("--from", v))
        .transpose()
        .input()?;
    let to =
        a.to.as_deref()
            .map(|v| check_date("--to", v))
            .transpose()
            .input()?;
    if !(a.bandwidth.is_finite() && (10.0..=5000.0).contains(&a.bandwidth)) {
        return Err(CliError::input(
            "--bandwidth must be between 10 and 5000 metres",
        ));
    }
    if !(0.0..=60.0).contains(&a.tilt) {
        return Err(CliError::input("--tilt must be between 0 and 60 degrees"));
    }
    let (font_path, font) = gridgov_fonts::find(a.font.as_deref())?;
    let d = super::commands::load(&a.db)?;
    let idx = GridIndex::new(&d);
    let asg = assign(&d, &idx);
    let st = stats(&d, &asg);
    let scene = Scene::build(&d, &asg, &st, layers);
    if scene.grids.is_empty() {
        return Err(CliError::input("the district has no grids to draw"));
    }
    let filter = IncidentFilter {
        from,
        to,
        categories: a
            .category
            .as_deref()
            .map(|c| {
                c.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        ..IncidentFilter::default()
    };
    let mut camera = match &a.grid {
        Some(code) => {
            let g = scene
                .grids
                .iter()
                .find(|g| &g.code == code)
                .ok_or_else(|| format!("--grid {code:?}: no such grid"))
                .input()?;
            let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
            for p in g.polygons.iter().flatten().flatten() {
                b = [
                    b[0].min(p[0]),
                    b[1].min(p[1]),
                    b[2].max(p[0]),
                    b[3].max(p[1]),
                ];
            }
            Camera::fit_margins(b, width, height, margins(width, height, height / 6))
        }
        None => Camera::fit_margins(
            scene.bounds,
            width,
            height,
            margins(width, height, height / 20),
        ),
    };
    camera.rotation_deg = a.rotate;
    camera.tilt_deg = a.tilt;

    // Incidents in the period, per grid, for the panel (and the heatmap).
    let src = TileSource::new(&d, &asg, &st);
    let (xy, _) = src.incident_points(&filter, false);
    let in_period: Vec<usize> = d
        .incidents
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            let day = gridgov_spatial::time::local_date(
                i.reported_at,
                gridgov_spatial::time::CHINA_OFFSET_S,
            );
            from.is_none_or(|f| day >= f)
                && to.is_none_or(|t| day <= t)
                && (filter.categories.is_empty() || filter.categories.contains(&i.category))
        })
        .map(|(k, _)| k)
        .collect();
    let mut per_grid: std::collections::HashMap<String, (usize, usize)> =
        std::collections::HashMap::new();
    for k in &in_period {
        if let Some(g) = asg.incidents[*k].responsible() {
            let e = per_grid.entry(d.area(g).code.clone()).or_default();
            e.0 += 1;
            e.1 += usize::from(d.incidents[*k].status.is_open());
        }
    }
    // The panel: incidents per grid, or with the blind-spot layer the
    // camera coverage per grid, worst first.
    let (counts_title, counts) = if layers.blind_spots {
        let mut rows: Vec<(f64, CountRow)> = scene
            .grids
            .iter()
            .filter_map(|g| {
                let c = g.coverage.as_ref()?;
                Some((
                    c.share,
                    CountRow {
                        name: g.name.clone(),
                        bar: c.share as f32,
                        text: tf(
                            "render.coverage.row",
                            &[
                                ("pct", &format!("{:.0}", c.share * 100.0)),
                                ("n", &c.blind_buildings),
                            ],
                        ),
                    },
                ))
            })
            .collect();
        rows.sort_by(|x, y| x.0.total_cmp(&y.0).then_with(|| x.1.name.cmp(&y.1.name)));
        (
            tf("render.coverage", &[]),
            rows.into_iter().map(|r| r.1).collect(),
        )
    } else {
        let mut rows: Vec<(usize, usize, String)> = scene
            .grids
            .iter()
            .filter_map(|g| {
                per_grid
                    .get(&g.code)
                    .map(|&(count, open)| (count, open, g.name.clone()))
            })
            .collect();
        rows.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.2.cmp(&y.2)));
        let top = rows.first().map_or(1, |r| r.0.max(1)) as f32;
        (
            tf("render.per_grid", &[]),
            rows.into_iter()
                .map(|(count, open, name)| CountRow {
                    name,
                    bar: count as f32 / top,
                    // Past periods have no open cases: only the count.
                    text: if open > 0 {
                        tf("render.per_grid.row", &[("count", &count), ("open", &open)])
                    } else {
                        tf("render.per_grid.closed", &[("count", &count)])
                    },
                })
                .collect(),
        )
    };

    let gpu = Gpu::headless()?;
    let renderer = Renderer::new(&gpu, scene, wgpu_format());
    let pts = renderer.scene.scene_points(&xy);
    let heat = a.heatmap.then(|| GpuHeat::new(&gpu, &pts, None));
    // The colour scale's top: the district-wide maximum for the filter,
    // the same as the map tiles', so that images compare.
    let scale_max = a
        .heatmap
        .then(|| src.density_max(&filter, a.bandwidth, false));
    let period = match (&a.from, &a.to) {
        (None, None) => tf("render.all_dates", &[]),
        (f, t) => format!(
            "{} – {}",
            f.as_deref().unwrap_or("…"),
            t.as_deref().unwrap_or("…")
        ),
    };
    let cats = if filter.categories.is_empty() {
        tf("render.all_categories", &[])
    } else {
        filter
            .categories
            .iter()
            .map(|c| gridgov_spatial::i18n::category(a.lang, c).into_owned())
            .collect::<Vec<_>>()
            .join(gridgov_spatial::i18n::t(a.lang, "report.sep"))
    };
    let text = OverlayText {
        title: renderer.scene.title.clone(),
        subtitle: tf(
            "render.subtitle",
            &[
                ("n", &in_period.len()),
                ("period", &period),
                ("cats", &cats),
            ],
        ),
        timestamp: tf(
            "render.drawn",
            &[
                ("time", &local_time(crate::cli::now())),
                ("zone", &tf("render.zone", &[])),
            ],
        ),
        legend: scale_max.map(|m| (m, tf("render.density", &[]))),
        counts_title,
        counts,
        highlight: a.grid.clone(),
        // A still image of the district's data: the live monitoring
        // points are the window's (`gridgov view`).
        sensors: Vec::new(),
    };
    let overlay = gridgov_viewer::overlay::draw(&renderer.scene, &camera, &font, &text);
    let layer = heat.as_ref().map(|h| HeatLayer {
        heat: h,
        bandwidth_m: a.bandwidth,
        scale_max,
        opacity: 0.85,
    });
    let t = std::time::Instant::now();
    let (rgba, _) = renderer.render_rgba(&gpu, &camera, layer.as_ref(), Some(overlay.data()))?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let png = gridgov_viewer::encode_png(width, height, rgba)?;
    std::fs::write(&a.out, png).map_err(|e| format!("{}: {e}", a.out.display()))?;
    eprintln!(
        "wrote {} ({width}×{height}, {ms:.0} ms on {}; font {})",
        a.out.display(),
        gpu.describe(),
        font_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn wgpu_format() -> gridgov_viewer::TextureFormat {
    gridgov_viewer::TextureFormat::Rgba8Unorm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dates_are_checked_with_the_flag_named() {
        assert_eq!(parse_size("3840x2160"), Ok((3840, 2160)));
        assert_eq!(parse_size("1280×720"), Ok((1280, 720)));
        assert!(parse_size("3840").unwrap_err().contains("--size"));
        assert!(parse_size("0x10").is_err());
        assert!(parse_size("99999x10").is_err());
        assert!(check_date("--from", "2026-03-01").is_ok());
        assert!(
            check_date("--from", "2026-13-01")
                .unwrap_err()
                .contains("--from")
        );
        assert!(check_date("--to", "yesterday").is_err());
        assert!(check_date("--to", "2026-02-31").is_err());
    }
}
