//! The commands.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use gridgov_spatial::sample::SampleSpec;
use gridgov_spatial::{
    AreaSummary, BuildingIndex, Crs, District, GridIndex, Level, PointLookup, assign, lookup_point,
    sample, stats,
};

use super::table::render;
use super::{Cli, CliError, CliResult, Command, DbArgs, OrInput};

/// Runs one command.
pub fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Serve {
            db,
            seed,
            addr,
            body_limit,
            batch_body_limit,
            rate_limit,
            request_timeout,
            header_timeout,
            max_connections,
            max_connections_per_client,
            cors_origin,
            font,
            tile_cache_mb,
            deadlines,
            escalate_every,
            slice_hours,
            tls_cert,
            tls_key,
            hotline_callback,
        } => {
            if let Some(u) = &hotline_callback {
                gridgov_service::hotline::check_callback(u).input()?;
            }
            let deadlines = super::report::read_deadlines(deadlines.as_deref())?;
            super::serve::run(super::serve::ServeArgs {
                db: db.to_string_lossy().into_owned(),
                seed,
                opts: gridgov_service::ServeOptions {
                    addr,
                    escalate_every_s: escalate_every,
                    tls: tls_cert.zip(tls_key),
                    connections: gridgov_service::conn::ConnLimits {
                        per_client: max_connections_per_client.max(1),
                        total: max_connections.max(1),
                        header_timeout: std::time::Duration::from_secs(header_timeout.max(1)),
                    },
                },
                body_limit,
                batch_body_limit,
                font,
                tile_cache_bytes: tile_cache_mb << 20,
                slice_hours,
                deadlines,
                hotline_callback,
                guard: gridgov_service::harden::Guard {
                    rate_per_s: rate_limit.max(0.0),
                    burst: (rate_limit * 10.0).max(1.0),
                    timeout: std::time::Duration::from_secs(request_timeout.max(1)),
                    cors_origins: cors_origin,
                },
            })
        }
        Command::Sample {
            out,
            scale,
            buildings,
            incidents,
            seed,
            histories,
        } => cmd_sample(&out, &scale, buildings, incidents, seed, histories),
        Command::Import {
            mapping,
            dir,
            crs,
            osm,
            name,
            out,
            json,
            quiet,
        } => super::import::cmd_import(
            &super::import::LayerSource {
                mapping: mapping.as_deref(),
                dir: dir.as_deref(),
                crs: crs.as_deref(),
            },
            &osm,
            &name,
            &out,
            json,
            quiet,
        ),
        Command::ImportIncidents {
            file,
            mapping,
            db,
            seed,
            dry_run,
            quiet,
        } => super::import::cmd_import_incidents(
            &file,
            mapping.as_deref(),
            &db.to_string_lossy(),
            &seed,
            dry_run,
            quiet,
        ),
        Command::Lookup {
            db,
            at,
            crs,
            address,
            limit,
        } => cmd_lookup(&db, at.as_deref(), &crs, address.as_deref(), limit),
        Command::Validate { db } => cmd_validate(&db),
        Command::Check { db } => cmd_check(&db.to_string_lossy()),
        Command::Basemap { db, osm, json } => {
            super::import::basemap(&db.to_string_lossy(), &osm, json)
        }
        Command::Render(args) => super::render::run(&args),
        Command::Report(args) => super::report::run(&args),
        Command::Cards(args) => super::cards::run(&args),
        Command::Partition(args) => super::partition::run(&args),
        #[cfg(feature = "window")]
        Command::View(args) => super::view::run(&args),
        Command::Users(c) => super::users::users(c),
        Command::Roles(c) => super::roles::roles(c),
        Command::Tokens(c) => super::users::tokens(c),
        Command::Audit(a) => super::users::audit(&a),
        Command::Stats { db, level } => cmd_stats(&db, level.as_deref()),
        Command::Export {
            db,
            out,
            level,
            crs,
            encoding,
        } => cmd_export(&db, &out, &level, &crs, encoding.as_deref()),
        Command::Assign(a) => match (&a.input, &a.grids, &a.points) {
            (Some(input), None, None) => super::assign::cmd_assign_file(&a, input),
            (None, Some(grids), Some(points)) => cmd_assign(grids, points, a.threads, a.repeat),
            _ => Err(CliError::input(
                "assign FILE [--out FILE] answers a list of points; the benchmark form is assign --grids FILE --points FILE",
            )),
        },
        Command::BenchData {
            workload,
            points,
            out,
        } => cmd_bench_data(&workload, points, &out),
    }
}

/// Reads the district: from the default store (created from the sample on
/// first use), a GeoPackage, a PostGIS database or a district JSON file.
pub(super) fn load(db: &DbArgs) -> Result<District, CliError> {
    let seed = Path::new(gridgov_storage::DEFAULT_DISTRICT);
    let now = gridgov_app::Clock::now(&gridgov_app::SystemClock);
    match &db.db {
        Some(p) => Ok(gridgov_storage::load_district(
            &p.to_string_lossy(),
            seed,
            now,
        )?),
        None => Ok(
            gridgov_storage::open(gridgov_storage::DEFAULT_GPKG, seed, now)?
                .store
                .load()?,
        ),
    }
}

fn cmd_sample(
    out: &Path,
    scale: &str,
    buildings: Option<usize>,
    incidents: Option<usize>,
    seed: u64,
    histories: bool,
) -> CliResult {
    let base = match scale {
        "city" => SampleSpec::city(),
        n => match n.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => SampleSpec::streets(n),
            _ => {
                return Err(CliError::input(format!(
                    "--scale {n:?}: use a number of streets (1–1000) or `city`"
                )));
            }
        },
    };
    let spec = SampleSpec {
        seed,
        // Other numbers of buildings than the street's have the units
        // they come with.
        units: base.units.filter(|_| buildings.is_none()),
        buildings: buildings.unwrap_or(base.buildings),
        incidents: incidents.unwrap_or(base.incidents),
        ..base
    };
    let t = Instant::now();
    let mut d = sample::district(&spec);
    if histories {
        d.sample_histories = Some(seed);
    }
    gridgov_storage::save_district(
        &out.to_string_lossy(),
        &d,
        gridgov_app::Clock::now(&gridgov_app::SystemClock),
    )?;
    eprintln!(
        "wrote {}: {} grids, {} buildings, {} units, {} households, {} merchants, {} cameras, {} incidents ({:.1} s)",
        out.display(),
        d.grids().count(),
        d.buildings.len(),
        d.units.len(),
        d.households.len(),
        d.merchants.len(),
        d.cameras.len(),
        d.incidents.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Parses `LON,LAT` with a clear message.
fn parse_at(s: &str) -> Result<(f64, f64), String> {
    let parts: Vec<&str> = s
        .split([',', ' ', '，'])
        .filter(|p| !p.is_empty())
        .collect();
    let [lon, lat] = parts.as_slice() else {
        return Err(format!("--at {s:?}: expected LON,LAT, e.g. 117.55,34.86"));
    };
    let num = |p: &str, what: &str| {
        p.trim()
            .parse::<f64>()
            .map_err(|_| format!("--at {s:?}: {what} {p:?} is not a number"))
    };
    Ok((num(lon, "longitude")?, num(lat, "latitude")?))
}

fn chain_text(chain: &[AreaSummary]) -> String {
    chain
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(" ← ")
}

fn print_point_lookup(r: &PointLookup, roles: &gridgov_spatial::Roles) {
    println!(
        "point     {:.7}, {:.7} ({}) = {:.7}, {:.7} (wgs84)",
        r.input[0], r.input[1], r.crs, r.wgs84[0], r.wgs84[1]
    );
    match r.grid() {
        Some(g) => {
            println!("grid      {} {}", g.code, g.name);
            println!("chain     {}", chain_text(&r.chain));
            if let Some(k) = g.kind {
                println!("kind      {}", k.as_str());
            }
            for s in &g.staff {
                println!(
                    "staff     {} {} {}",
                    roles.title(&s.role, gridgov_spatial::i18n::Lang::Zh),
                    s.name,
                    s.phone
                );
            }
            if let Some(b) = &r.building {
                println!("building  {} {}", b.code, b.address);
                for s in &b.leaders {
                    let red = if s.party_member { " (党员)" } else { "" };
                    println!("leader    {} {}{red}", s.name, s.phone);
                }
            }
        }
        None => match &r.nearest {
            Some(n) => println!(
                "grid      none: outside every grid; nearest is {} {}",
                n.code, n.name
            ),
            None => println!("grid      none"),
        },
    }
    if let Some(d) = r.border_distance_m {
        let note = if d < 10.0 {
            "  (near a border: confirm on site)"
        } else {
            ""
        };
        println!("border    {d:.1} m{note}");
    }
}

fn cmd_lookup(
    db: &DbArgs,
    at: Option<&str>,
    crs: &str,
    address: Option<&str>,
    limit: usize,
) -> CliResult {
    let d = load(db)?;
    if let Some(at) = at {
        let (lon, lat) = parse_at(at).input()?;
        let crs: Crs = crs.parse().input()?;
        let idx = GridIndex::new(&d);
        let r = lookup_point(&d, &idx, lon, lat, crs)?;
        let [wlon, wlat] = r.wgs84;
        let r = r.in_building(&d, BuildingIndex::new(&d).at(&d, wlon, wlat));
        if db.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            print_point_lookup(&r, &d.roles);
        }
        return Ok(if r.grid().is_some() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    if let Some(address) = address {
        return super::address::lookup_address(&d, db.json, address, limit);
    }
    Err(CliError::input(
        "lookup needs --at LON,LAT or --address TEXT",
    ))
}

fn cmd_export(
    db: &DbArgs,
    out: &Path,
    level: &str,
    crs: &str,
    encoding: Option<&str>,
) -> CliResult {
    let levels: &[Level] = match level {
        "grid" => &[Level::Grid],
        "community" => &[Level::Community],
        "street" => &[Level::Street],
        "all" => &[Level::Street, Level::Community, Level::Grid],
        other => {
            return Err(CliError::input(format!(
                "--level {other:?}: use grid, community, street or all"
            )));
        }
    };
    let crs: Crs = crs.parse().input()?;
    let d = load(db)?;
    let mut layer = gridgov_formats::AreaLayer {
        header: ["code", "name", "level", "kind", "parent"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    let mut unioned = 0usize;
    for &l in levels {
        for id in d.areas_at(l) {
            let a = d.area(id);
            // A level derived from the grids' attributes has no boundary
            // of its own: it is drawn as the union of its grids.
            let boundary = if a.boundary.0.is_empty() {
                unioned += 1;
                gridgov_spatial::dissolved(&d, id)
            } else {
                a.boundary.clone()
            };
            if boundary.0.is_empty() {
                continue;
            }
            layer.rows.push((
                vec![
                    a.code.clone(),
                    a.name.clone(),
                    a.level.as_str().to_string(),
                    a.kind.map_or(String::new(), |k| k.as_str().to_string()),
                    a.parent.map_or(String::new(), |p| d.area(p).code.clone()),
                ],
                boundary,
            ));
        }
    }
    gridgov_formats::write_layer(out, &layer, crs, encoding)
        .map_err(|e| e.to_string())
        .input()?;
    println!(
        "wrote {} areas to {} in {crs}",
        layer.rows.len(),
        out.display()
    );
    if unioned > 0 {
        println!(
            "  {unioned} of them have no boundary of their own: drawn as the union of their grids"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_stats(db: &DbArgs, level: Option<&str>) -> CliResult {
    let d = load(db)?;
    let level = match level {
        None => None,
        Some("street") => Some(Level::Street),
        Some("community") => Some(Level::Community),
        Some("grid") => Some(Level::Grid),
        Some(other) => {
            return Err(CliError::input(format!(
                "--level {other:?}: use street, community or grid"
            )));
        }
    };
    let idx = GridIndex::new(&d);
    let a = assign(&d, &idx);
    let rows: Vec<_> = stats(&d, &a)
        .into_iter()
        .filter(|r| level.is_none_or(|l| r.level == l))
        .collect();
    if db.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let c = &r.counts;
            vec![
                r.level.as_str().to_string(),
                r.code.clone(),
                r.name.clone(),
                r.kind.map_or(String::new(), |k| k.as_str().to_string()),
                c.grids.to_string(),
                c.buildings.to_string(),
                c.units.to_string(),
                c.households.to_string(),
                c.merchants.to_string(),
                c.cameras.to_string(),
                c.incidents.to_string(),
                c.open_incidents.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        render(
            &[
                "level",
                "code",
                "name",
                "kind",
                "grids",
                "buildings",
                "units",
                "households",
                "merchants",
                "cameras",
                "incidents",
                "open",
            ],
            &body,
            &[4, 5, 6, 7, 8, 9, 10, 11],
        )
    );
    Ok(ExitCode::SUCCESS)
}

fn cmd_check(db: &str) -> CliResult {
    let problems = gridgov_storage::check(db)
        .map_err(|e| e.to_string())
        .input()?;
    if problems.is_empty() {
        println!("{db}: no damage found");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{db}: damaged ({} problems):", problems.len());
    for p in problems.iter().take(100) {
        println!("  {p}");
    }
    println!("Restore it from a backup; gridgov serve refuses to open it.");
    Ok(ExitCode::from(1))
}

fn cmd_validate(db: &DbArgs) -> CliResult {
    let d = load(db)?;
    super::validate::run(&d, db.json)
}

fn read_points(path: &Path) -> Result<Vec<[f64; 2]>, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("{}: {e}", path.display()))
        .input()?;
    if bytes.len() % 16 != 0 {
        return Err(CliError::input(format!(
            "{}: length {} is not a multiple of 16 (f64 pairs)",
            path.display(),
            bytes.len()
        )));
    }
    let pts: Vec<[f64; 2]> = bytes
        .chunks_exact(16)
        .map(|c| {
            let mut a = [0u8; 8];
            let mut b = [0u8; 8];
            a.copy_from_slice(&c[..8]);
            b.copy_from_slice(&c[8..]);
            [f64::from_le_bytes(a), f64::from_le_bytes(b)]
        })
        .collect();
    // Any file of the right length reads as numbers: a CSV, a gzip or a
    // picture would "place" nothing and exit 0. Refuse what is not
    // longitude/latitude.
    if let Some(i) = pts
        .iter()
        .position(|[x, y]| gridgov_spatial::crs::check_lon_lat(*x, *y).is_err())
    {
        return Err(CliError::input(format!(
            "{}: pair {i} ({}, {}) is not a longitude/latitude: --points is a file of raw little-endian f64 lon,lat pairs (as `gridgov bench-data` writes); for a CSV, XLSX, GeoJSON or Shapefile of points use `gridgov assign FILE` (or POST /lookup/batch)",
            path.display(),
            pts[i][0],
            pts[i][1]
        )));
    }
    Ok(pts)
}

fn cmd_assign(grids: &Path, points: &Path, threads: usize, repeat: usize) -> CliResult {
    let text = std::fs::read_to_string(grids)
        .map_err(|e| format!("{}: {e}", grids.display()))
        .input()?;
    let polys = gridgov_app::import::polygons_from_geojson(&text)
        .map_err(|e| format!("{}: {e}", grids.display()))
        .input()?;
    let pts = read_points(points)?;
    let t = Instant::now();
    let idx = gridgov_spatial::CellIndex::build(&polys);
    let build = t.elapsed().as_secs_f64();
    let mut out = vec![0u32; pts.len()];
    let mut best = f64::INFINITY;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        idx.locate_many(&pts, &mut out, threads);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let inside = out.iter().filter(|&&g| g != u32::MAX).count();
    // A checksum both implementations can compare: sum of grid numbers.
    let checksum: u64 = out
        .iter()
        .filter(|&&g| g != u32::MAX)
        .map(|&g| u64::from(g))
        .sum();
    println!(
        "{{\"points\": {}, \"grids\": {}, \"inside\": {inside}, \"checksum\": {checksum}, \"build_s\": {build:.4}, \"best_s\": {best:.4}, \"points_per_s\": {:.0}}}",
        pts.len(),
        polys.len(),
        pts.len() as f64 / best
    );
    Ok(ExitCode::SUCCESS)
}

fn cmd_bench_data(workload: &str, n: usize, out: &Path) -> CliResult {
    use gridgov_spatial::synthetic::{TilingSpec, city_spec, clustered_points, tiling};
    let spec = match workload {
        "district" => TilingSpec::default(),
        "city" => city_spec(),
        other => {
            return Err(CliError::input(format!(
                "--workload {other:?}: use district or city"
            )));
        }
    };
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let polys = tiling(&spec, 2026);
    let features: Vec<String> = polys
        .iter()
        .enumerate()
        .map(|(i, mp)| {
            let ring: Vec<String> = mp.0[0].exterior().0.iter().map(|c| format!("[{},{}]", c.x, c.y)).collect();
            format!(
                "{{\"type\":\"Feature\",\"properties\":{{\"id\":{i}}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}}}",
                ring.join(",")
            )
        })
        .collect();
    std::fs::write(
        out.join("grids.geojson"),
        format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}\n",
            features.join(",\n")
        ),
    )?;
    let pts = clustered_points(spec.bbox, n, 7);
    let mut bytes = Vec::with_capacity(n * 16);
    for p in &pts {
        bytes.extend_from_slice(&p[0].to_le_bytes());
        bytes.extend_from_slice(&p[1].to_le_bytes());
    }
    std::fs::write(out.join("points.f64"), bytes)?;
    eprintln!(
        "wrote {} grids and {} points to {}",
        polys.len(),
        n,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
