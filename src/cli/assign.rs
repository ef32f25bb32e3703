//! `gridgov assign FILE`: one answer per row of a department's list —
//! its grid, community and street, how far it is from a border, whether it
//! is outside every grid — written beside the row's own columns. Rows that
//! cannot be placed are written too, with the reason, and listed by line;
//! they never stop the others. `--address-col` matches addresses to
//! buildings instead of reading coordinates. `--split-by grid` writes one
//! file per grid for the grid staff.
//!
//! The reading and writing are `gridgov_formats`'; the answers are the
//! spatial core's (`lookup_point`, the address index).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gridgov_formats::{PointColumns, Table, Value};
use gridgov_spatial::{AddressIndex, Crs, District, GridIndex, Level, lookup_point};

use super::{CliError, CliResult, DbArgs, OrInput};

/// Arguments of `gridgov assign`.
#[derive(Debug, clap::Args)]
pub struct AssignArgs {
    /// The list: CSV, XLSX, GeoJSON, Shapefile, GeoPackage or KML/KMZ.
    /// (Without it: the benchmark form, --grids and --points.)
    pub input: Option<PathBuf>,
    /// Where to write the answers: .csv, .xlsx, .geojson, .gpkg or .fgb
    /// (default: beside the input, `NAME.grids.csv`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The X (longitude, easting) column; default the one called lon, lng,
    /// longitude, x or 经度.
    #[arg(long, value_name = "COLUMN")]
    pub x: Option<String>,
    /// The Y (latitude, northing) column; default lat, latitude, y or 纬度.
    #[arg(long, value_name = "COLUMN")]
    pub y: Option<String>,
    /// The id column; default id or 编号.
    #[arg(long, value_name = "COLUMN")]
    pub id: Option<String>,
    /// Match this column's addresses to buildings instead of reading
    /// coordinates.
    #[arg(long, value_name = "COLUMN")]
    pub address_col: Option<String>,
    /// With --address-col: a best match less sure than this (0–1) is not
    /// taken; the row is written with the candidate, its confidence and
    /// the reason, to be checked by hand.
    #[arg(long, value_name = "0-1", default_value_t = 0.0)]
    pub min_confidence: f64,
    /// The sheet of a workbook, table of a GeoPackage, folder of a KML.
    #[arg(long, value_name = "NAME")]
    pub layer: Option<String>,
    /// The coordinates' system: wgs84, cgcs2000, gcj02, bd09 or an EPSG
    /// code (epsg:4547, epsg:32650, …); default what the file declares,
    /// else wgs84.
    #[arg(long, value_name = "CRS")]
    pub crs: Option<String>,
    /// `grid`: one file per grid (and one of the rows in no grid) in
    /// --out-dir.
    #[arg(long, value_name = "grid")]
    pub split_by: Option<String>,
    /// The directory of --split-by's files.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// A point closer than this to a border is flagged on_border (confirm
    /// it on the ground).
    #[arg(long, value_name = "METRES", default_value_t = 1.0)]
    pub on_border_m: f64,
    /// The language of the added columns and statuses: zh or en.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// The district.
    #[command(flatten)]
    pub db: DbArgs,
    /// Benchmark: grids as a GeoJSON FeatureCollection of (multi)polygons.
    #[arg(long, value_name = "FILE")]
    pub grids: Option<PathBuf>,
    /// Benchmark: points as little-endian f64 pairs (lon, lat).
    #[arg(long, value_name = "FILE")]
    pub points: Option<PathBuf>,
    /// Benchmark: threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Benchmark: repetitions; the best is reported.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
}

/// The words of the added columns, per language.
struct Words {
    header: [&'static str; 12],
    address_header: [&'static str; 4],
    placed: &'static str,
    outside: &'static str,
    failed: &'static str,
    unplaced_file: &'static str,
}

const ZH: Words = Words {
    header: [
        "网格编码",
        "网格名称",
        "社区",
        "街道",
        "距边界米",
        "边界上",
        "网格外",
        "最近网格",
        "WGS84经度",
        "WGS84纬度",
        "状态",
        "原因",
    ],
    address_header: ["匹配地址", "置信度", "楼栋", "单元"],
    placed: "已落格",
    outside: "网格外",
    failed: "未定位",
    unplaced_file: "未落格",
};

const EN: Words = Words {
    header: [
        "grid_code",
        "grid_name",
        "community",
        "street",
        "border_distance_m",
        "on_border",
        "outside",
        "nearest_grid",
        "wgs84_lon",
        "wgs84_lat",
        "status",
        "reason",
    ],
    address_header: ["matched_address", "confidence", "building", "unit"],
    placed: "placed",
    outside: "outside",
    failed: "failed",
    unplaced_file: "unplaced",
};

/// One row's answer.
struct Answer {
    cells: Vec<Value>,
    point: Option<(f64, f64)>,
    grid: Option<String>,
    failure: Option<String>,
    on_border: bool,
    outside: bool,
}

fn name_at(chain: &[gridgov_spatial::AreaSummary], level: Level) -> Value {
    chain
        .iter()
        .find(|a| a.level == level)
        .map_or(Value::Empty, |a| Value::Text(a.name.clone()))
}

fn failed(w: &Words, address: bool, reason: String) -> Answer {
    let mut cells = vec![Value::Empty; w.header.len() - 2];
    if address {
        cells.splice(0..0, std::iter::repeat_n(Value::Empty, 4));
    }
    cells.push(Value::Text(w.failed.into()));
    cells.push(Value::Text(reason.clone()));
    Answer {
        cells,
        point: None,
        grid: None,
        failure: Some(reason),
        on_border: false,
        outside: false,
    }
}

struct Ctx<'a> {
    d: &'a District,
    idx: &'a GridIndex,
    addresses: Option<&'a AddressIndex>,
    crs: Crs,
    on_border_m: f64,
    min_confidence: f64,
    w: &'a Words,
}

fn answer_point(c: &Ctx<'_>, lon: f64, lat: f64, crs: Crs, prefix: Vec<Value>) -> Answer {
    let address = c.addresses.is_some();
    let r = match lookup_point(c.d, c.idx, lon, lat, crs) {
        Ok(r) => r,
        Err(e) => return failed(c.w, address, e.to_string()),
    };
    let border = r.border_distance_m;
    let on_border = border.is_some_and(|b| b <= c.on_border_m);
    let grid = r.grid().cloned();
    let outside = grid.is_none();
    let mut cells = prefix;
    cells.extend([
        grid.as_ref()
            .map_or(Value::Empty, |g| Value::Text(g.code.clone())),
        grid.as_ref()
            .map_or(Value::Empty, |g| Value::Text(g.name.clone())),
        name_at(&r.chain, Level::Community),
        name_at(&r.chain, Level::Street),
        border.map_or(Value::Empty, |b| Value::Number((b * 100.0).round() / 100.0)),
        Value::Bool(on_border),
        Value::Bool(outside),
        r.nearest
            .as_ref()
            .map_or(Value::Empty, |n| Value::Text(n.code.clone())),
        Value::Number(r.wgs84[0]),
        Value::Number(r.wgs84[1]),
        Value::Text(if outside { c.w.outside } else { c.w.placed }.into()),
        Value::Empty,
    ]);
    Answer {
        cells,
        point: Some((r.wgs84[0], r.wgs84[1])),
        grid: grid.map(|g| g.code),
        failure: None,
        on_border,
        outside,
    }
}

fn answer(c: &Ctx<'_>, row: &gridgov_formats::PointRow) -> Answer {
    if let (Some(ix), Some(addr)) = (c.addresses, &row.address) {
        if addr.is_empty() {
            return failed(c.w, true, "no address".into());
        }
        let Some(m) = ix.lookup(c.d, addr, 1).into_iter().next() else {
            return failed(c.w, true, format!("no building matches {addr:?}"));
        };
        let confidence = (m.confidence * 1000.0).round() / 1000.0;
        if m.confidence < c.min_confidence {
            let mut f = failed(
                c.w,
                true,
                format!(
                    "the best match, {:?}, has confidence {confidence} (below --min-confidence {})",
                    m.address, c.min_confidence
                ),
            );
            f.cells[0] = Value::Text(m.address.clone());
            f.cells[1] = Value::Number(confidence);
            return f;
        }
        let b = &c.d.buildings[m.building.index()];
        let prefix = vec![
            Value::Text(m.address.clone()),
            Value::Number(confidence),
            Value::Text(b.code.clone()),
            m.unit.map_or(Value::Empty, |u| {
                Value::Text(c.d.units[u.index()].label.clone())
            }),
        ];
        let p =
            geo::Centroid::centroid(&b.footprint).map_or((f64::NAN, f64::NAN), |p| (p.x(), p.y()));
        return answer_point(c, p.0, p.1, Crs::Wgs84, prefix);
    }
    match row.xy {
        Ok((x, y)) => answer_point(c, x, y, c.crs, Vec::new()),
        Err(ref e) => failed(c.w, false, e.clone()),
    }
}

fn default_out(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("points");
    input.with_file_name(format!("{stem}.grids.csv"))
}

/// Characters a file name cannot hold, replaced.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// `gridgov assign FILE`.
pub fn cmd_assign_file(a: &AssignArgs, input: &Path) -> CliResult {
    let w = match a.lang.as_str() {
        "zh" => &ZH,
        "en" => &EN,
        other => return Err(CliError::input(format!("--lang {other:?}: use zh or en"))),
    };
    if !(0.0..=1.0).contains(&a.min_confidence) {
        return Err(CliError::input(format!(
            "--min-confidence {}: give a share from 0 to 1",
            a.min_confidence
        )));
    }
    let split = match a.split_by.as_deref() {
        None => false,
        Some("grid") => true,
        Some(other) => {
            return Err(CliError::input(format!("--split-by {other:?}: use grid")));
        }
    };
    if split && a.out_dir.is_none() {
        return Err(CliError::input("--split-by grid needs --out-dir DIR"));
    }
    let out = a.out.clone().unwrap_or_else(|| default_out(input));
    gridgov_formats::Format::of(&out)
        .map_err(|e| e.to_string())
        .input()?;
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("csv")
        .to_string();
    if !split
        && out.exists()
        && std::fs::canonicalize(&out).ok() == std::fs::canonicalize(input).ok()
    {
        return Err(CliError::input(format!(
            "--out {} is the input itself",
            out.display()
        )));
    }
    let cols = PointColumns {
        x: a.x.clone(),
        y: a.y.clone(),
        id: a.id.clone(),
        address: a.address_col.clone(),
        layer: a.layer.clone(),
    };
    let points = gridgov_formats::read_points(input, &cols)
        .map_err(|e| e.to_string())
        .input()?;
    let crs: Crs = match &a.crs {
        Some(c) => c.parse().input()?,
        None => points.crs.unwrap_or_default(),
    };
    let d = super::commands::load(&a.db)?;
    let idx = GridIndex::new(&d);
    let addresses = a
        .address_col
        .is_some()
        .then(|| AddressIndex::new(&d, &gridgov_spatial::assign(&d, &idx)));
    let ctx = Ctx {
        d: &d,
        idx: &idx,
        addresses: addresses.as_ref(),
        crs,
        on_border_m: a.on_border_m,
        min_confidence: a.min_confidence,
        w,
    };
    let mut header = points.header.clone();
    if a.address_col.is_some() {
        header.extend(w.address_header.iter().map(|s| (*s).to_string()));
    }
    header.extend(w.header.iter().map(|s| (*s).to_string()));
    let bar = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(points.size_hint as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    // A CSV is written row by row as the answers come; the other formats
    // (and --split-by) gather the rows first.
    let mut stream = match gridgov_formats::Format::of(&out) {
        Ok(gridgov_formats::Format::Csv) if !split => Some(
            gridgov_formats::CsvRows::create(&out, &header)
                .map_err(|e| e.to_string())
                .input()?,
        ),
        _ => None,
    };
    let mut rows: Vec<(gridgov_formats::Row, Option<String>)> = Vec::new();
    let mut total = 0usize;
    let (mut placed, mut outside, mut on_border) = (0usize, 0usize, 0usize);
    let mut failures: Vec<(usize, String)> = Vec::new();
    for r in points.rows {
        let r = r.map_err(|e| e.to_string()).input()?;
        bar.set_position(r.line as u64);
        let ans = answer(&ctx, &r);
        if let Some(f) = &ans.failure {
            failures.push((r.line, f.clone()));
        } else if ans.outside {
            outside += 1;
        } else {
            placed += 1;
        }
        on_border += usize::from(ans.on_border);
        let mut cells: Vec<Value> = r.fields.into_iter().map(Value::Text).collect();
        cells.resize(points.header.len(), Value::Empty);
        cells.extend(ans.cells);
        total += 1;
        match stream.as_mut() {
            Some(w) => w.push(&cells).map_err(|e| e.to_string())?,
            None => rows.push(((cells, ans.point), ans.grid)),
        }
    }
    bar.finish_and_clear();
    let mut files = Vec::new();
    if let Some(w) = stream {
        w.finish().map_err(|e| e.to_string())?;
        files.push(out);
    } else if split {
        let dir = a.out_dir.clone().unwrap_or_default();
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut by: BTreeMap<String, Table> = BTreeMap::new();
        for (row, grid) in rows {
            by.entry(grid.unwrap_or_else(|| w.unplaced_file.to_string()))
                .or_insert_with(|| Table {
                    header: header.clone(),
                    rows: Vec::new(),
                })
                .rows
                .push(row);
        }
        for (g, t) in &by {
            let p = dir.join(format!("{}.{ext}", file_safe(g)));
            files.extend(gridgov_formats::write_rows(&p, t).map_err(|e| e.to_string())?);
        }
    } else {
        let t = Table {
            header,
            rows: rows.into_iter().map(|(r, _)| r).collect(),
        };
        files.extend(gridgov_formats::write_rows(&out, &t).map_err(|e| e.to_string())?);
    }
    for (line, why) in failures.iter().take(20) {
        eprintln!("{}:{line}: {why}", input.display());
    }
    if failures.len() > 20 {
        eprintln!(
            "… and {} more rows without a place (each is in the output with its reason)",
            failures.len() - 20
        );
    }
    if a.db.json {
        println!(
            "{}",
            serde_json::json!({
                "rows": total, "placed": placed, "outside": outside, "failed": failures.len(),
                "on_border": on_border, "crs": crs.to_string(),
                "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
                "failures": failures.iter().map(|(l, w)| serde_json::json!({"line": l, "reason": w})).collect::<Vec<_>>(),
            })
        );
    } else {
        for n in &points.notes {
            println!("{}: {n}", input.display());
        }
        println!(
            "{total} rows: {placed} in a grid ({on_border} within {} m of a border), {outside} outside every grid, {} not placed; coordinates read as {crs}",
            a.on_border_m,
            failures.len()
        );
        match files.as_slice() {
            [one] => println!("wrote {}", one.display()),
            [one, side] if !split => println!(
                "wrote {} and, for the rows without a point, {}",
                one.display(),
                side.display()
            ),
            many => println!(
                "wrote {} files to {}",
                many.len(),
                a.out_dir.as_deref().unwrap_or(Path::new(".")).display()
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}
