//! `gridgov cards`: the grid signs and contact cards of a grid or a
//! community as a PDF to print.

use std::path::PathBuf;
use std::process::ExitCode;

use gridgov_app::cards::{self, CardKind, Paper};

use super::{CliError, CliResult, DbArgs, OrInput};

/// Arguments of `gridgov cards`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("area").required(true).args(["grid", "community"])))]
pub struct CardsArgs {
    /// The grid whose buildings or households get them.
    #[arg(long, value_name = "CODE")]
    grid: Option<String>,
    /// Every grid of this community.
    #[arg(long, value_name = "CODE")]
    community: Option<String>,
    /// `sign` (one per building), `unit-sign` (one per unit) or `card`
    /// (one per household, ten to an A4 sheet).
    #[arg(long, default_value = "sign")]
    kind: String,
    /// The signs' paper: a4 or a5.
    #[arg(long, default_value = "a4")]
    paper: String,
    /// The service's public address, which the QR codes open (its
    /// residents' page, `/r`).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The PDF to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Font for the text (default GRIDGOV_FONT, else an installed CJK font).
    #[arg(long, value_name = "FILE")]
    font: Option<PathBuf>,
    /// The language: zh-CN (default) or en.
    #[arg(long, default_value = "zh-CN", value_parser = super::report::parse_lang)]
    lang: gridgov_spatial::i18n::Lang,
    /// The store.
    #[command(flatten)]
    db: DbArgs,
}

/// Runs `gridgov cards`.
pub fn run(a: &CardsArgs) -> CliResult {
    let kind: CardKind = a
        .kind
        .parse()
        .map_err(|e: cards::CardsError| e.to_string())
        .input()?;
    let paper: Paper = a
        .paper
        .parse()
        .map_err(|e: cards::CardsError| e.to_string())
        .input()?;
    if !(a.url.starts_with("http://") || a.url.starts_with("https://")) {
        return Err(CliError::input(format!(
            "--url {:?}: the service's address, http:// or https://",
            a.url
        )));
    }
    // The font is found before the work: a missing one is said at once.
    let (path, _) = gridgov_fonts::find(a.font.as_deref())?;
    let font = super::report::report_font(&path).input()?;
    let area = a
        .grid
        .as_deref()
        .or(a.community.as_deref())
        .unwrap_or_default();
    let d = super::commands::load(&a.db)?;
    let snap = gridgov_app::Snapshot::build(d, std::collections::HashMap::default(), 0);
    let level = snap
        .district
        .area_by_code(area)
        .map(|g| snap.district.area(g).level);
    match (level, a.grid.is_some()) {
        (Some(gridgov_spatial::Level::Grid), false) => {
            return Err(CliError::input(format!(
                "--community {area}: that is a grid; use --grid"
            )));
        }
        (Some(gridgov_spatial::Level::Community), true) => {
            return Err(CliError::input(format!(
                "--grid {area}: that is a community; use --community"
            )));
        }
        _ => {}
    }
    let items = cards::plan(&snap, area, kind, &a.url)
        .map_err(|e| e.to_string())
        .input()?;
    let pdf = cards::document(&items, kind, paper, a.lang, &snap.district.roles, &font)
        .map_err(|e| e.to_string())?;
    std::fs::write(&a.out, &pdf).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let what = match kind {
        CardKind::Sign => "building signs",
        CardKind::UnitSign => "unit signs",
        CardKind::Card => "household cards",
    };
    eprintln!("wrote {} ({} {what})", a.out.display(), items.len());
    Ok(ExitCode::SUCCESS)
}
