//! `gridgov report`: the weekly or monthly incident report of a store, as
//! a summary in the terminal, or written as HTML or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use gridgov_spatial::hotspot_map::Spot;
use gridgov_spatial::period::{Period, PeriodKind};

use super::table::render;
use super::{CliError, CliResult, OrInput};
use gridgov_app::report::{ReportOptions, build, html};

/// Arguments of `gridgov report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// An ISO week, e.g. 2026-W46.
    #[arg(long, conflicts_with_all = ["month", "period"])]
    week: Option<String>,
    /// A month, e.g. 2026-11.
    #[arg(long, conflicts_with = "period")]
    month: Option<String>,
    /// Any run of days, e.g. 2026-11-01..2026-11-15 (or a week or month).
    /// Without --week, --month or --period: the last full week.
    #[arg(long)]
    period: Option<String>,
    /// The store (GeoPackage or `postgres://` URL; default the embedded
    /// one).
    #[arg(long, value_name = "FILE|URL", default_value = gridgov_storage::DEFAULT_GPKG)]
    db: PathBuf,
    /// District JSON the store is created from when missing.
    #[arg(long, value_name = "FILE", default_value = gridgov_storage::DEFAULT_DISTRICT)]
    seed: PathBuf,
    /// Deadline rules (JSON, as for `serve --deadlines`).
    #[arg(long, value_name = "FILE")]
    deadlines: Option<PathBuf>,
    /// Write the report to FILE: `.html` for the page, `.pdf` for the
    /// printable A4 document (needs a font that draws Chinese), `.json`
    /// for the data.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the JSON report instead of the summary.
    #[arg(long)]
    json: bool,
    /// The time overdue cases are judged at (RFC 3339; default now).
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Permutations for the hot-spot p-values.
    #[arg(long, default_value_t = 999)]
    permutations: usize,
    /// Rows in the top lists.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Font for the names on the heatmap and the PDF's text; default:
    /// GRIDGOV_FONT, else an installed CJK font (without one the heatmap
    /// has no names, and no PDF can be written).
    #[arg(long, value_name = "FILE")]
    font: Option<std::path::PathBuf>,
    /// The language of the page and the summary: zh-CN (default) or en.
    #[arg(long, default_value = "zh-CN", value_parser = parse_lang)]
    lang: gridgov_spatial::i18n::Lang,
}

/// `--lang`: a language there is a catalogue for.
pub fn parse_lang(s: &str) -> Result<gridgov_spatial::i18n::Lang, String> {
    gridgov_spatial::i18n::Lang::parse(s).ok_or_else(|| format!("{s:?}: use zh-CN or en"))
}

/// Reads deadline rules from a JSON file, or the defaults.
pub fn read_deadlines(
    p: Option<&std::path::Path>,
) -> Result<gridgov_spatial::workflow::DeadlineRules, CliError> {
    match p {
        None => Ok(gridgov_spatial::workflow::DeadlineRules::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("{}: {e}", p.display()))
                .input()?;
            serde_json::from_str(&text)
                .map_err(|e| format!("{}: not deadline rules: {e}", p.display()))
                .input()
        }
    }
}

fn period_of(
    a: &ReportArgs,
    now: gridgov_spatial::Timestamp,
    offset: i64,
) -> Result<Period, String> {
    let parse = |s: &str, kind: Option<PeriodKind>, flag: &str| {
        let p = Period::parse(s).map_err(|e| format!("--{flag}: {e}"))?;
        match kind {
            Some(k) if p.kind != k => Err(format!(
                "--{flag} {s:?}: not a {}",
                if k == PeriodKind::Week {
                    "week (2026-W46)"
                } else {
                    "month (2026-11)"
                }
            )),
            _ => Ok(p),
        }
    };
    if let Some(w) = &a.week {
        return parse(w, Some(PeriodKind::Week), "week");
    }
    if let Some(m) = &a.month {
        return parse(m, Some(PeriodKind::Month), "month");
    }
    if let Some(p) = &a.period {
        return parse(p, None, "period");
    }
    let today = gridgov_spatial::time::local_day(now, offset);
    Ok(Period::containing(PeriodKind::Week, today).previous())
}

/// Runs `gridgov report`.
pub fn run(a: &ReportArgs) -> CliResult {
    let opts = ReportOptions {
        top: a.top.max(1),
        hotspots: gridgov_spatial::hotspot_map::HotspotOptions {
            permutations: a.permutations,
            ..Default::default()
        },
        ..ReportOptions::default()
    };
    let now = match &a.now {
        None => crate::cli::now(),
        Some(t) => gridgov_spatial::time::parse_instant(t)
            .map_err(|e| format!("--now: {e}"))
            .input()?,
    };
    let period = period_of(a, now, opts.utc_offset_s).input()?;
    let format = match &a.out {
        Some(p) => match p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("html" | "htm") => Some(Format::Html),
            // The PDF's font is found before the work: a missing one is
            // said at once.
            Some("pdf") => Some(Format::Pdf(Box::new(pdf_font(a.font.as_deref())?))),
            Some("json") => Some(Format::Json),
            _ => {
                return Err(CliError::input(format!(
                    "--out {}: name a .html, .pdf or .json file",
                    p.display()
                )));
            }
        },
        None => None,
    };
    let rules = read_deadlines(a.deadlines.as_deref())?;
    let store = gridgov_storage::open(&a.db.to_string_lossy(), &a.seed, crate::cli::now())?.store;
    let snap = gridgov_app::Snapshot::build(
        store.load()?,
        store.grid_versions()?,
        store.latest_version()?,
    );
    let book = gridgov_app::cases::Book::read(store.as_ref())?;
    let visits = store.visits_after(0)?;
    let r = build(&snap, &book, &visits, &rules, period, now, &opts)?;
    match (format, &a.out) {
        (Some(Format::Pdf(fonts)), Some(p)) => {
            let (font, label) = fonts.as_ref();
            let pdf = gridgov_app::report::pdf::document(&r, &snap, a.lang, font, Some(label))
                .map_err(|e| e.to_string())?;
            std::fs::write(p, pdf).map_err(|e| format!("{}: {e}", p.display()))?;
            eprintln!("wrote {} ({})", p.display(), period.label());
        }
        (Some(Format::Html), Some(p)) => {
            // A font asked for must be there; the one looked for may not be.
            let font = match gridgov_fonts::find(a.font.as_deref()) {
                Ok((_, f)) => Some(f),
                Err(e) if a.font.is_some() => return Err(e.into()),
                Err(e) => {
                    eprintln!("no names on the heatmap: {e}");
                    None
                }
            };
            std::fs::write(p, html::page_in(&r, &snap, a.lang, font.as_ref()))
                .map_err(|e| format!("{}: {e}", p.display()))?;
            eprintln!("wrote {} ({})", p.display(), period.label());
        }
        (Some(Format::Json), Some(p)) => {
            std::fs::write(p, serde_json::to_string_pretty(&r)?)
                .map_err(|e| format!("{}: {e}", p.display()))?;
            eprintln!("wrote {} ({})", p.display(), period.label());
        }
        _ if a.json => println!("{}", serde_json::to_string_pretty(&r)?),
        _ => print!("{}", summary(&r, a.lang)),
    }
    Ok(ExitCode::SUCCESS)
}

/// What `--out` writes.
#[derive(Debug)]
enum Format {
    Html,
    /// With the font its text is set in and the heatmap's labels.
    Pdf(Box<(gridgov_app::report::pdf::PdfFont, gridgov_tiles::LabelFont)>),
    Json,
}

/// The font of a PDF report: `--font`, `GRIDGOV_FONT` or an installed
/// CJK font.
fn pdf_font(
    explicit: Option<&std::path::Path>,
) -> Result<(gridgov_app::report::pdf::PdfFont, gridgov_tiles::LabelFont), CliError> {
    let (path, label) = gridgov_fonts::find(explicit)?;
    Ok((report_font(&path).input()?, label))
}

/// The font file at `path` as the PDF reports' font (the one the labels
/// were found in), or why it cannot be.
pub fn report_font(path: &std::path::Path) -> Result<gridgov_app::report::pdf::PdfFont, String> {
    std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| gridgov_app::report::pdf::PdfFont::from_bytes(b).map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn signed(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{v:+.1}%"))
}

/// The report in a few terminal tables.
fn summary(r: &gridgov_app::report::Report, lang: gridgov_spatial::i18n::Lang) -> String {
    let t = &r.totals;
    let mut o = format!(
        "{} — incidents {} ({} to {})\n\n{} incidents ({} vs {} in {}), {} per 1,000 households; {} closed, {} open; satisfaction {}; {} cases overdue now, {} overdue during the period\n\n{}\n\n",
        r.district,
        r.period.label(),
        r.period.first_date(),
        r.period.last_date(),
        t.incidents,
        signed(t.change_pct),
        t.previous,
        r.previous.label(),
        t.per_1000_households
            .map_or_else(|| "–".into(), |v| format!("{v:.1}")),
        t.closed,
        t.open,
        t.satisfaction
            .map_or_else(|| "–".into(), |v| format!("{v:.2}")),
        t.overdue_now,
        t.overdue_in_period,
        html::summary(r, lang)
    );
    let cats: Vec<Vec<String>> = r
        .categories
        .iter()
        .take(8)
        .map(|c| {
            vec![
                c.category.clone(),
                c.incidents.to_string(),
                c.previous.to_string(),
                signed(c.change_pct),
            ]
        })
        .collect();
    o.push_str(&render(
        &["category", "incidents", "previous", "change"],
        &cats,
        &[1, 2, 3],
    ));
    o.push('\n');
    let grids: Vec<Vec<String>> = r
        .top_grids
        .iter()
        .map(|g| {
            vec![
                g.code.clone(),
                g.name.clone(),
                g.incidents.to_string(),
                signed(g.change_pct),
                g.per_1000_households
                    .map_or_else(|| "–".into(), |v| format!("{v:.1}")),
                g.top_category.clone().unwrap_or_default(),
            ]
        })
        .collect();
    o.push_str(&render(
        &[
            "grid",
            "name",
            "incidents",
            "change",
            "per 1k hh",
            "top category",
        ],
        &grids,
        &[2, 3, 4],
    ));
    o.push('\n');
    let hot: Vec<Vec<String>> = r
        .hotspots
        .iter()
        .filter(|h| h.unit.spot == Spot::Hot)
        .map(|h| {
            vec![
                h.code.clone(),
                h.name.clone(),
                h.unit.count.to_string(),
                format!("{:.2}", h.unit.gi.z),
                format!("{:.3}", h.unit.gi.p_sim),
                serde_json::to_value(h.unit.emerging)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    if hot.is_empty() {
        o.push_str("no significant hot spots\n");
    } else {
        o.push_str("hot spots:\n");
        o.push_str(&render(
            &["grid", "name", "incidents", "z", "p", "trend"],
            &hot,
            &[2, 3, 4],
        ));
    }
    o
}
