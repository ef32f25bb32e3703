//! `gridgov import` and `gridgov import-incidents`: reads the files and
//! shows progress; the parsing is the application's
//! ([`gridgov_app::import`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gridgov_app::import::{incidents, layers, osm};
use gridgov_app::{Clock, Snapshot, SystemClock};
use gridgov_spatial::District;

use super::{CliError, CliResult, OrInput};

/// Reads a CSV mapping file, or the default mapping.
pub fn read_mapping(p: Option<&Path>) -> Result<incidents::Mapping, String> {
    match p {
        None => Ok(incidents::Mapping::default()),
        Some(p) => {
            let t = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            serde_json::from_str(&t)
                .map_err(|e| format!("{}: not a column mapping: {e}", p.display()))
        }
    }
}

/// `gridgov import-incidents`.
pub fn cmd_import_incidents(
    file: &Path,
    mapping: Option<&Path>,
    db: &str,
    seed: &Path,
    dry_run: bool,
    quiet: bool,
) -> CliResult {
    let t = std::time::Instant::now();
    let m = read_mapping(mapping).input()?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: {e}", file.display()))
        .input()?;
    let now = SystemClock.now();
    let store = gridgov_storage::open(db, seed, now)?.store;
    let snap = Snapshot::build(store.load()?, std::collections::HashMap::new(), 0);
    let rows = text.lines().count().saturating_sub(1) as u64;
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(rows);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let result = incidents::incidents_from_csv(&snap, &text, &m, crate::cli::now(), |n| {
        bar.set_position(n as u64);
    });
    bar.finish_and_clear();
    match result {
        Err(errors) => {
            for e in errors.iter().take(50) {
                eprintln!("{}:{}: {}", file.display(), e.line, e.message);
            }
            if errors.len() > 50 {
                eprintln!("… and {} more", errors.len() - 50);
            }
            Err(CliError::input(format!(
                "{} rows have problems; nothing was imported",
                errors.len()
            )))
        }
        Ok(xs) if dry_run => {
            println!("{} rows are fine; nothing imported (dry run)", xs.len());
            Ok(ExitCode::SUCCESS)
        }
        Ok(xs) => {
            let ids = store.add_incidents(&xs)?;
            match (ids.first(), ids.last()) {
                (Some(a), Some(b)) => println!(
                    "imported {} incidents (ids {a}–{b}) into {} in {:.2} s",
                    ids.len(),
                    store.describe(),
                    t.elapsed().as_secs_f64()
                ),
                _ => println!("the file has no rows"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Where `gridgov import` reads grid layers from.
#[derive(Clone, Copy)]
pub struct LayerSource<'a> {
    /// The mapping file.
    pub mapping: Option<&'a Path>,
    /// The directory of the layer files (default: the mapping's).
    pub dir: Option<&'a Path>,
    /// The coordinate system of layers that declare none.
    pub crs: Option<&'a str>,
}

/// `gridgov import`.
pub fn cmd_import(
    src: &LayerSource<'_>,
    osm: &[PathBuf],
    name: &str,
    out: &Path,
    json: bool,
    quiet: bool,
) -> CliResult {
    let LayerSource { mapping, dir, crs } = *src;
    if mapping.is_none() && osm.is_empty() {
        return Err(CliError::input(
            "import needs --mapping FILE (grid layers) and/or --osm FILE.osm.pbf",
        ));
    }
    let mut d = District::new(name);
    let progress = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let p = indicatif::ProgressBar::new_spinner();
        p.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        p
    };
    let mut report = serde_json::Map::new();
    if let Some(m) = mapping {
        progress.set_message(format!("reading grid layers from {}", m.display()));
        let text = std::fs::read_to_string(m)
            .map_err(|e| format!("{}: {e}", m.display()))
            .input()?;
        let mut mapping: layers::Mapping = serde_json::from_str(&text)
            .map_err(|e| format!("{}: {e}", m.display()))
            .input()?;
        if let Some(c) = crs {
            mapping.crs = Some(c.to_string());
        }
        let dir = dir.map_or_else(
            || m.parent().unwrap_or(Path::new(".")).to_path_buf(),
            Path::to_path_buf,
        );
        let read = |name: &str, layer: Option<&str>| {
            let l =
                gridgov_formats::read_layer(&dir.join(name), layer).map_err(|e| e.to_string())?;
            let mut notes = vec![format!("read as {}", l.format)];
            notes.extend(l.notes);
            Ok(layers::SourceLayer {
                features: l.features,
                crs: l.crs,
                notes,
            })
        };
        let r = layers::import_layers(&mapping, &read, &mut d).input()?;
        report.insert("layers".into(), serde_json::to_value(&r)?);
    }
    let mut osm_reports = Vec::new();
    for f in osm {
        progress.set_message(format!("reading {}", f.display()));
        let file = std::fs::File::open(f)
            .map_err(|e| format!("{}: {e}", f.display()))
            .input()?;
        let name = f.display().to_string();
        let mut tick = |n: usize| {
            progress.set_message(format!("{name}: {n} elements"));
            progress.tick();
        };
        osm_reports.push(
            osm::import_pbf(&name, std::io::BufReader::new(file), &mut d, &mut tick).input()?,
        );
    }
    progress.finish_and_clear();
    report.insert("osm".into(), serde_json::to_value(&osm_reports)?);
    let mut attribution = Vec::new();
    if !osm.is_empty() {
        attribution.push("© OpenStreetMap contributors (ODbL)".to_string());
    }
    if mapping.is_some() {
        attribution.push("grid layers: see the licence of the source layers".to_string());
    }
    d.attribution = attribution.join("; ");
    gridgov_storage::save_district(&out.to_string_lossy(), &d, SystemClock.now())?;
    // What `validate` finds in what was imported, told now rather than
    // discovered later: per kind, how many and the worst.
    let placed = gridgov_spatial::assign(&d, &gridgov_spatial::GridIndex::new(&d));
    let found =
        gridgov_spatial::validate(&d, &placed, &gridgov_spatial::ValidationOptions::default());
    let mut topology: std::collections::BTreeMap<
        String,
        (usize, Option<&gridgov_spatial::Problem>),
    > = std::collections::BTreeMap::new();
    for p in &found {
        let kind = serde_json::to_value(p.kind)?
            .as_str()
            .unwrap_or_default()
            .to_string();
        let e = topology.entry(kind).or_insert((0, None));
        e.0 += 1;
        if e.1
            .is_none_or(|w| p.area_m2.unwrap_or(0.0) > w.area_m2.unwrap_or(0.0))
        {
            e.1 = Some(p);
        }
    }
    report.insert(
        "topology".into(),
        topology
            .iter()
            .map(|(k, (n, w))| {
                (
                    k.clone(),
                    serde_json::json!({
                        "count": n,
                        "worst": w.map(|w| w.message.clone()),
                        "worst_m2": w.and_then(|w| w.area_m2),
                    }),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
    );
    report.insert(
        "district".into(),
        serde_json::json!({
            "file": out.display().to_string(),
            "areas": d.areas.len(),
            "grids": d.grids().count(),
            "buildings": d.buildings.len(),
            "units": d.units.len(),
            "merchants": d.merchants.len(),
            "cameras": d.cameras.len(),
        }),
    );
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        if let Some(l) = report.get("layers") {
            println!("grid layers: {}", l["areas"]);
            for n in l["notes"].as_array().into_iter().flatten() {
                println!("  {}", n.as_str().unwrap_or_default());
            }
            let problems = l["problems"].as_array().map_or(0, Vec::len);
            println!("  {problems} features repaired or skipped");
            for p in l["problems"].as_array().into_iter().flatten().take(10) {
                println!("  - {}", p.as_str().unwrap_or_default());
            }
        }
        if topology.is_empty() {
            println!("topology: no overlaps, gaps, slivers or invalid polygons");
        } else {
            println!("topology (gridgov validate lists every one):");
            for (k, (n, w)) in &topology {
                println!(
                    "  {n} {k}; worst: {}",
                    w.map(|w| w.message.as_str()).unwrap_or_default()
                );
            }
        }
        for r in &osm_reports {
            println!(
                "{}: {} buildings ({} with address), {} units, {} merchants, {} cameras; skipped {} cut at the edge, {} with broken rings",
                r.file,
                r.buildings,
                r.addressed_buildings,
                r.units,
                r.merchants,
                r.cameras,
                r.cut_at_edge,
                r.broken_rings
            );
            println!(
                "  base map: {} roads ({} named), {} waterways, {} water areas, {} place names",
                r.roads, r.named_roads, r.waterways, r.water_areas, r.places
            );
        }
        println!(
            "wrote {}: {} areas ({} grids), {} buildings",
            out.display(),
            d.areas.len(),
            d.grids().count(),
            d.buildings.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `gridgov basemap`: the base map of OSM extracts into an existing store.
pub fn basemap(db: &str, osm: &[PathBuf], json: bool) -> CliResult {
    let mut scratch = District::new("");
    let mut reports = Vec::new();
    for f in osm {
        let file = std::fs::File::open(f)
            .map_err(|e| format!("{}: {e}", f.display()))
            .input()?;
        let name = f.display().to_string();
        reports.push(
            osm::import_pbf(
                &name,
                std::io::BufReader::new(file),
                &mut scratch,
                &mut |_| {},
            )
            .input()?,
        );
    }
    let features: Vec<gridgov_spatial::MapFeature> = scratch.basemap.iter().cloned().collect();
    gridgov_storage::replace_basemap(db, &features)?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "db": db,
                "features": features.len(),
                "osm": reports,
            })
        );
    } else {
        for r in &reports {
            println!(
                "{}: {} roads ({} named), {} waterways, {} water areas, {} place names",
                r.file, r.roads, r.named_roads, r.waterways, r.water_areas, r.places
            );
        }
        println!(
            "{db}: base map replaced ({} features); a running service shows it after its next start",
            features.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
