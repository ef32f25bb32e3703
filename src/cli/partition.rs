//! `gridgov partition`: proposed grids for a community, written as a draft
//! (the body `POST /drafts` takes), with the proposal's figures and what
//! falls short.

use std::path::PathBuf;
use std::process::ExitCode;

use gridgov_spatial::cancel::Cancel;
use gridgov_spatial::i18n::Lang;
use gridgov_spatial::partition::{PartitionMetrics, PartitionOptions, building_cells, partition};
use gridgov_spatial::{GridIndex, Level, assign};

use super::table::render;
use super::{CliError, CliResult, DbArgs, OrInput};

/// Arguments of `gridgov partition`.
#[derive(Debug, clap::Args)]
pub struct PartitionArgs {
    /// The community to cut into grids.
    #[arg(long, value_name = "CODE")]
    community: String,
    /// Fewest households per grid.
    #[arg(long, default_value_t = 300)]
    min: u32,
    /// Most households per grid.
    #[arg(long, default_value_t = 500)]
    max: u32,
    /// Start from today's grids and move as few households as the band
    /// needs.
    #[arg(long)]
    keep_existing: bool,
    /// Seed of the search (the same seed, the same proposal).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the draft (JSON for `POST /drafts`).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The draft's reason (default: says what was proposed).
    #[arg(long, default_value = "")]
    reason: String,
    /// Also write the buildings' cells (GeoJSON: building, households,
    /// today's grid), the units a regionalisation works on.
    #[arg(long, value_name = "FILE")]
    cells: Option<PathBuf>,
    /// The language of the notes: zh-CN (default) or en.
    #[arg(long, default_value = "zh-CN", value_parser = super::report::parse_lang)]
    lang: Lang,
    /// The store.
    #[command(flatten)]
    db: DbArgs,
}

fn metric_rows(label: &str, m: &PartitionMetrics, rows: &mut Vec<Vec<String>>) {
    rows.push(vec![
        label.to_owned(),
        m.grids.to_string(),
        format!(
            "{} / {} / {}",
            m.households_min, m.households_median, m.households_max
        ),
        format!("{:.0}%", m.share_in_band * 100.0),
        format!("{:.2} / {:.2}", m.compactness_mean, m.compactness_worst),
        format!("{:.0}%", m.road_share * 100.0),
        m.households_moved.to_string(),
    ]);
}

/// Runs `gridgov partition`.
pub fn run(a: &PartitionArgs) -> CliResult {
    if a.min == 0 || a.min > a.max {
        return Err(CliError::input(format!(
            "--min {} --max {}: give 1 ≤ min ≤ max",
            a.min, a.max
        )));
    }
    let d = super::commands::load(&a.db)?;
    let Some(c) = d.area_by_code(&a.community) else {
        return Err(CliError::input(format!(
            "--community {}: no such area",
            a.community
        )));
    };
    if d.area(c).level != Level::Community {
        return Err(CliError::input(format!(
            "--community {}: that is a {}, not a community",
            a.community,
            d.area(c).level.as_str()
        )));
    }
    let asg = assign(&d, &GridIndex::new(&d));
    let opts = PartitionOptions {
        min: a.min,
        max: a.max,
        keep_existing: a.keep_existing,
        seed: a.seed,
    };
    if let Some(path) = &a.cells {
        let cells = building_cells(&d, &asg, c)
            .map_err(|e| e.to_string())
            .input()?;
        let features: Vec<serde_json::Value> = cells
            .iter()
            .map(|x| {
                use geo::MapCoords;
                // To a centimetre, so neighbouring cells share vertices.
                let r = |v: f64| (v * 1e7).round() / 1e7;
                let cell = x.cell.map_coords(|p| geo::Coord { x: r(p.x), y: r(p.y) });
                serde_json::json!({
                    "type": "Feature",
                    "geometry": geojson::Geometry::from(&cell),
                    "properties": {"building": x.building, "households": x.households, "grid": x.grid},
                })
            })
            .collect();
        let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
        std::fs::write(path, serde_json::to_string(&fc)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {} ({} building cells)", path.display(), cells.len());
    }
    let p = partition(&d, &asg, c, &opts, &Cancel::never())
        .map_err(|e| e.to_string())
        .input()?;
    if let Some(out) = &a.out {
        let draft =
            gridgov_app::partition::draft_of(&p, &a.reason, &std::collections::HashMap::new());
        std::fs::write(out, serde_json::to_string_pretty(&draft)?)
            .map_err(|e| format!("{}: {e}", out.display()))?;
        eprintln!("wrote {} ({} changes)", out.display(), draft.changes.len());
    }
    if a.db.json {
        let mut v = serde_json::to_value(&p)?;
        for (k, n) in p.notes.iter().enumerate() {
            v["notes"][k]["message"] = serde_json::json!(n.message(a.lang));
        }
        // The figures, not the boundaries (those are in the draft).
        if let Some(gs) = v["grids"].as_array_mut() {
            for g in gs {
                if let Some(o) = g.as_object_mut() {
                    o.remove("boundary");
                }
            }
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = p
        .grids
        .iter()
        .map(|g| {
            vec![
                g.code.clone(),
                g.name.clone(),
                serde_json::to_value(g.fate)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                g.households.to_string(),
                g.buildings.to_string(),
                if g.fate == gridgov_spatial::partition::GridFate::Removed {
                    String::new()
                } else {
                    format!("{:.2}", g.compactness)
                },
            ]
        })
        .collect();
    print!(
        "{}",
        render(
            &[
                "grid",
                "name",
                "fate",
                "households",
                "buildings",
                "compactness"
            ],
            &rows,
            &[3, 4, 5]
        )
    );
    let mut m = Vec::new();
    metric_rows("today", &p.today, &mut m);
    metric_rows("proposed", &p.metrics, &mut m);
    println!();
    print!(
        "{}",
        render(
            &[
                "",
                "grids",
                "households min/median/max",
                "in band",
                "compactness mean/worst",
                "on roads",
                "households moved"
            ],
            &m,
            &[1, 3, 5, 6],
        )
    );
    for n in &p.notes {
        println!("- {}", n.message(a.lang));
    }
    println!(
        "{} buildings moved, {:.0} ms",
        p.metrics.buildings_moved, p.runtime_ms
    );
    Ok(ExitCode::SUCCESS)
}
