//! The report as one self-contained HTML page, from the template
//! `templates/report.html` (askama: checked when the crate is built,
//! every value escaped): styles inline, the heatmap as an embedded PNG,
//! the hot-spot maps and the trend chart as inline SVG. Nothing is
//! fetched when it is opened, so it can be mailed or archived.

use std::fmt::Write as _;

use askama::Template;
use base64::Engine as _;
use gridgov_spatial::District;
use gridgov_spatial::hotspot_map::Spot;
use gridgov_spatial::hotspots::Emerging;
use gridgov_tiles::IncidentFilter;
use gridgov_tiles::tile::lonlat_to_mercator;

use gridgov_spatial::i18n::{self, Lang};

use super::{AreaRow, CategoryRow, Report};
use crate::Snapshot;

/// Width of the maps in CSS pixels.
const MAP_W: f64 = 640.0;

/// Width of the heatmap picture in pixels.
pub(super) const HEAT_W: u32 = 960;

/// The heatmap's kernel bandwidth in metres.
pub(super) const HEAT_BANDWIDTH_M: f64 = 150.0;

/// The incidents of the report's period, for its heatmap.
pub(super) fn period_filter(r: &Report) -> IncidentFilter {
    IncidentFilter {
        from: Some(gridgov_spatial::time::date_of_day(r.period.start)),
        to: Some(gridgov_spatial::time::date_of_day(r.period.end - 1)),
        ..IncidentFilter::default()
    }
}

/// A change in percent, coloured up or down.
pub(super) struct Change {
    pub(super) text: String,
    pub(super) class: &'static str,
}

pub(super) fn change(x: Option<f64>) -> Change {
    match x {
        None => Change {
            text: "–".into(),
            class: "",
        },
        Some(v) if v > 0.0 => Change {
            text: format!("+{v:.1}%"),
            class: "up",
        },
        Some(v) if v < 0.0 => Change {
            text: format!("{v:.1}%"),
            class: "down",
        },
        Some(_) => Change {
            text: "0.0%".into(),
            class: "",
        },
    }
}

pub(super) fn rate(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{v:.1}"))
}

/// The grids as SVG paths in a `MAP_W`-wide frame, and the frame height.
pub(super) struct Frame {
    x0: f64,
    y1: f64,
    k: f64,
    pub(super) h: f64,
}

impl Frame {
    fn of(d: &District) -> Option<Frame> {
        Frame::of_width(d, MAP_W)
    }

    /// The district's grids fitted into a frame `w` units wide, y down.
    pub(super) fn of_width(d: &District, w: f64) -> Option<Frame> {
        let bb = gridgov_spatial::sample::grids_bbox(d)?;
        let (x0, y0) = lonlat_to_mercator(bb[0], bb[1]);
        let (x1, y1) = lonlat_to_mercator(bb[2], bb[3]);
        let pad = 0.02 * (x1 - x0).max(y1 - y0).max(1.0);
        let k = w / (x1 - x0 + 2.0 * pad);
        Some(Frame {
            x0: x0 - pad,
            y1: y1 + pad,
            k,
            h: ((y1 - y0 + 2.0 * pad) * k).ceil(),
        })
    }

    /// A longitude and latitude in the frame.
    pub(super) fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (x, y) = lonlat_to_mercator(lon, lat);
        ((x - self.x0) * self.k, (self.y1 - y) * self.k)
    }

    fn path(&self, mp: &geo::MultiPolygon<f64>) -> String {
        let mut s = String::new();
        for p in &mp.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                for (i, c) in r.0.iter().enumerate() {
                    let (x, y) = lonlat_to_mercator(c.x, c.y);
                    let _ = write!(
                        s,
                        "{}{:.1},{:.1}",
                        if i == 0 { "M" } else { "L" },
                        (x - self.x0) * self.k,
                        (self.y1 - y) * self.k
                    );
                }
                s.push('Z');
            }
        }
        s
    }
}

pub(super) fn spot_colour(spot: Spot, p: f64) -> &'static str {
    match spot {
        Spot::Hot if p <= 0.001 => "#b2182b",
        Spot::Hot if p <= 0.01 => "#d6604d",
        Spot::Hot => "#f4a582",
        Spot::Cold if p <= 0.001 => "#2166ac",
        Spot::Cold if p <= 0.01 => "#4393c3",
        Spot::Cold => "#92c5de",
        Spot::NotSignificant => "#eeeeee",
    }
}

pub(super) fn emerging_name(e: Emerging) -> &'static str {
    match e {
        Emerging::New => "new",
        Emerging::Intensifying => "intensifying",
        Emerging::Persistent => "persistent",
        Emerging::Diminishing => "diminishing",
        Emerging::Sporadic => "sporadic",
        Emerging::None => "",
    }
}

/// One grid on the hot-spot map.
struct Shape {
    d: String,
    fill: &'static str,
    emerging: bool,
    title: String,
}

/// An emerging label's letter inside its grid.
struct Tag {
    x: String,
    y: String,
    letter: String,
}

/// One significant lattice cell.
struct Cell {
    x: String,
    y: String,
    w: String,
    h: String,
    fill: &'static str,
    title: String,
}

/// A map of the district in a `MAP_W`-wide frame.
struct MapSvg {
    h: f64,
    shapes: Vec<Shape>,
    tags: Vec<Tag>,
    cells: Vec<Cell>,
    outlines: Vec<String>,
}

fn with_label(label: &str) -> String {
    if label.is_empty() {
        String::new()
    } else {
        format!(", {label}")
    }
}

/// Greys from light to dark for `count` of `max`: the hot-spot map's fill
/// when no grid is significant, so that the map still says where the
/// incidents were.
pub(super) fn count_grey(count: usize, max: usize) -> &'static str {
    const RAMP: [&str; 5] = ["#f4f4f4", "#dddddd", "#c2c2c2", "#a3a3a3", "#808080"];
    if count == 0 || max == 0 {
        return RAMP[0];
    }
    RAMP[((count * (RAMP.len() - 1)).div_ceil(max)).min(RAMP.len() - 1)]
}

/// Whether no grid is a significant hot or cold spot.
pub(super) fn none_significant(r: &Report) -> bool {
    r.hotspots
        .iter()
        .all(|h| h.unit.spot == Spot::NotSignificant)
}

fn hotspot_map(r: &Report, d: &District) -> Option<MapSvg> {
    let f = Frame::of(d)?;
    let plain = none_significant(r);
    let max = r.hotspots.iter().map(|h| h.unit.count).max().unwrap_or(0);
    let shapes = r
        .hotspots
        .iter()
        .map(|h| Shape {
            d: f.path(&d.area(h.id).boundary),
            fill: if plain {
                count_grey(h.unit.count, max)
            } else {
                spot_colour(h.unit.spot, h.unit.gi.p_sim)
            },
            emerging: h.unit.emerging != Emerging::None,
            title: format!(
                "{} {} — {} incidents, z {:.2}, p {:.3}{}",
                h.code,
                h.name,
                h.unit.count,
                h.unit.gi.z,
                h.unit.gi.p_sim,
                with_label(emerging_name(h.unit.emerging))
            ),
        })
        .collect();
    // Emerging labels as letters at a point inside each grid.
    let tags = r
        .hotspots
        .iter()
        .filter(|h| h.unit.emerging != Emerging::None)
        .filter_map(|h| {
            let c = geo::InteriorPoint::interior_point(&d.area(h.id).boundary)?;
            let (x, y) = lonlat_to_mercator(c.x(), c.y());
            Some(Tag {
                x: format!("{:.1}", (x - f.x0) * f.k),
                y: format!("{:.1}", (f.y1 - y) * f.k),
                letter: emerging_name(h.unit.emerging)[..1].to_uppercase(),
            })
        })
        .collect();
    Some(MapSvg {
        h: f.h,
        shapes,
        tags,
        cells: Vec::new(),
        outlines: Vec::new(),
    })
}

fn lattice_map(r: &Report, d: &District) -> Option<MapSvg> {
    let f = Frame::of(d)?;
    let cells = r
        .lattice
        .cells
        .iter()
        .filter(|c| c.unit.spot != Spot::NotSignificant)
        .map(|c| {
            let (x0, y0) = lonlat_to_mercator(c.bounds[0], c.bounds[1]);
            let (x1, y1) = lonlat_to_mercator(c.bounds[2], c.bounds[3]);
            Cell {
                x: format!("{:.1}", (x0 - f.x0) * f.k),
                y: format!("{:.1}", (f.y1 - y1) * f.k),
                w: format!("{:.1}", (x1 - x0) * f.k),
                h: format!("{:.1}", (y1 - y0) * f.k),
                fill: spot_colour(c.unit.spot, c.unit.gi.p_sim),
                title: format!(
                    "{} incidents, z {:.2}, p {:.3}{}",
                    c.unit.count,
                    c.unit.gi.z,
                    c.unit.gi.p_sim,
                    with_label(emerging_name(c.unit.emerging))
                ),
            }
        })
        .collect();
    let outlines = d.grids().map(|g| f.path(&d.area(g).boundary)).collect();
    Some(MapSvg {
        h: f.h,
        shapes: Vec::new(),
        tags: Vec::new(),
        cells,
        outlines,
    })
}

/// One day's bar.
struct Bar {
    x: String,
    y: String,
    w: String,
    h: String,
    title: String,
}

/// The first and last day, under the chart.
struct Ends {
    first: String,
    last: String,
}

/// Incidents per day against the previous period.
struct Trend {
    w: f64,
    h: f64,
    pad: f64,
    base: f64,
    right: f64,
    top: usize,
    top_y: f64,
    unit_y: f64,
    label_y: f64,
    bars: Vec<Bar>,
    line: Option<String>,
    ends: Option<Ends>,
}

/// The top of the trend chart's scale: the most incidents of a day, this
/// period or the previous (at least 1).
pub(super) fn daily_top(r: &Report) -> usize {
    r.daily
        .iter()
        .map(|d| d.incidents.max(d.previous.unwrap_or(0)))
        .max()
        .unwrap_or(0)
        .max(1)
}

fn trend(r: &Report) -> Trend {
    let n = r.daily.len().max(1);
    let (w, h, pad) = (MAP_W, 180.0, 24.0);
    let top = daily_top(r);
    let bw = (w - 2.0 * pad) / n as f64;
    let y = |v: f64| h - pad - v / top as f64 * (h - 2.0 * pad);
    let bars = r
        .daily
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let x = pad + k as f64 * bw;
            let v = d.incidents as f64;
            Bar {
                x: format!("{:.1}", x + bw * 0.15),
                y: format!("{:.1}", y(v)),
                w: format!("{:.1}", bw * 0.7),
                h: format!("{:.1}", h - pad - y(v)),
                title: format!(
                    "{} — {} (previous {})",
                    d.date,
                    d.incidents,
                    d.previous.map_or_else(|| "–".into(), |p| p.to_string())
                ),
            }
        })
        .collect();
    let pts: Vec<String> = r
        .daily
        .iter()
        .enumerate()
        .filter_map(|(k, d)| {
            d.previous
                .map(|p| format!("{:.1},{:.1}", pad + (k as f64 + 0.5) * bw, y(p as f64)))
        })
        .collect();
    Trend {
        w,
        h,
        pad,
        base: h - pad,
        right: w - pad,
        top,
        top_y: pad + 4.0,
        unit_y: h / 2.0,
        label_y: h - 6.0,
        bars,
        line: (!pts.is_empty()).then(|| pts.join(" ")),
        ends: match (r.daily.first(), r.daily.last()) {
            (Some(a), Some(b)) => Some(Ends {
                first: a.date.clone(),
                last: b.date.clone(),
            }),
            _ => None,
        },
    }
}

const STYLE: &str = "body{font:14px/1.45 system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 16px}\
h1{font-size:22px;margin:0 0 4px}h3{font-size:15px;margin:16px 0 6px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}\
.meta{color:#666}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}\
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:130px}.card b{display:block;font-size:22px}\
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:left}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.up{color:#b2182b}.down{color:#2166ac}\
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle;border:1px solid #999}\
.tag{font:bold 11px sans-serif;fill:#111;text-anchor:middle;dominant-baseline:middle}.axis{font:11px sans-serif;fill:#555}\
img.heat,svg.map{max-width:100%;height:auto;border:1px solid #ddd}.note{color:#666;font-size:12px}\
.summary{font-size:15px;background:#f6f8fa;border-left:4px solid #3d5a80;padding:8px 12px}\
@page{size:A4;margin:18mm 14mm 16mm;@top-center{content:string(title);font-size:9pt;color:#666}@bottom-center{content:counter(page) \" / \" counter(pages);font-size:9pt;color:#666}}\
@media print{body{margin:0;max-width:none;padding:0;font-size:10.5pt}h1{string-set:title content()}h2{break-after:avoid}table,svg,img,.cards{break-inside:avoid}tr{break-inside:avoid}}";

/// A grid or community row.
pub(super) struct AreaView<'a> {
    pub(super) row: &'a AreaRow,
    pub(super) parent: &'a str,
    pub(super) change: Change,
    pub(super) rate: String,
    pub(super) top: String,
}

pub(super) fn areas(rows: &[AreaRow], lang: Lang) -> Vec<AreaView<'_>> {
    rows.iter()
        .map(|a| AreaView {
            row: a,
            parent: a.parent.as_deref().unwrap_or(""),
            change: change(a.change_pct),
            rate: rate(a.per_1000_households),
            top: a
                .top_category
                .as_deref()
                .map_or_else(String::new, |c| i18n::category(lang, c).into_owned()),
        })
        .collect()
}

/// A grid that is a hot or cold spot, or emerging.
pub(super) struct Notable<'a> {
    pub(super) code: &'a str,
    pub(super) name: &'a str,
    pub(super) count: String,
    pub(super) z: String,
    pub(super) p: String,
    pub(super) spot: String,
    pub(super) trend: String,
    pub(super) weekly: String,
}

/// An overdue case's row.
pub(super) struct OverdueView {
    pub(super) id: i64,
    pub(super) category: String,
    pub(super) grid: String,
    pub(super) status: String,
    pub(super) level: String,
    pub(super) reported: String,
    pub(super) hours: String,
}

/// A moment as the district's local date and time (`2026-11-05 09:30`).
pub(super) fn local_time(t: gridgov_spatial::Timestamp) -> String {
    gridgov_spatial::time::local_minute(t, gridgov_spatial::time::CHINA_OFFSET_S)
}

/// The most overdue cases the page lists (the JSON has them all).
pub(super) const OVERDUE_SHOWN: usize = 200;

/// The page's sentences in its language, shared with the PDF.
pub(super) struct Texts {
    pub(super) title: String,
    pub(super) meta: String,
    pub(super) summary: String,
    pub(super) vs_previous: String,
    pub(super) households: String,
    pub(super) still_open: String,
    pub(super) overdue_now: String,
    pub(super) heat_alt: String,
    pub(super) trend_note: String,
    pub(super) by_cell: String,
    pub(super) hot_cells_text: String,
    pub(super) overdue_title: String,
    pub(super) more_overdue_text: String,
}

impl Texts {
    pub(super) fn new(r: &Report, lang: Lang) -> Texts {
        let t = &r.totals;
        let tf = |k: &str, a: &[(&str, &dyn std::fmt::Display)]| i18n::tf(lang, k, a);
        Texts {
            title: tf(
                "report.title",
                &[("district", &r.district), ("period", &r.period.label())],
            ),
            meta: tf(
                "report.meta",
                &[
                    ("from", &r.period.first_date()),
                    ("to", &r.period.last_date()),
                    ("prev", &r.previous.label()),
                    ("pfrom", &r.previous.first_date()),
                    ("pto", &r.previous.last_date()),
                    ("version", &r.boundary_version),
                    ("at", &local_time(r.generated_at)),
                ],
            ),
            summary: summary(r, lang),
            vs_previous: tf("report.card.vs", &[("n", &t.previous)]),
            households: tf("report.card.households", &[("n", &t.households)]),
            still_open: tf("report.card.open", &[("n", &t.open)]),
            overdue_now: tf("report.card.overdue_now", &[("n", &t.overdue_now)]),
            heat_alt: tf("report.heat.alt", &[("period", &r.period.label())]),
            trend_note: tf(
                "report.trend.note",
                &[("period", &r.period.label()), ("prev", &r.previous.label())],
            ),
            by_cell: tf(
                "report.hotspots.cell",
                &[("m", &format!("{:.0}", r.lattice.cell_m))],
            ),
            hot_cells_text: tf(
                "report.hotspots.cells",
                &[
                    (
                        "hot",
                        &r.lattice
                            .cells
                            .iter()
                            .filter(|c| c.unit.spot == Spot::Hot)
                            .count(),
                    ),
                    ("n", &r.lattice.cells.len()),
                ],
            ),
            overdue_title: tf("report.overdue", &[("n", &r.overdue.len())]),
            more_overdue_text: tf(
                "report.overdue.more",
                &[("n", &r.overdue.len().saturating_sub(OVERDUE_SHOWN))],
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    lang: Lang,
    lang_code: &'static str,
    x: Texts,
    style: &'static str,
    r: &'a Report,
    totals_change: Change,
    per_1000: String,
    satisfaction: String,
    heat: Result<String, String>,
    trend: Trend,
    categories: Vec<(&'a CategoryRow, Change)>,
    top_grids: Vec<AreaView<'a>>,
    communities: Vec<AreaView<'a>>,
    map_w: f64,
    hotspot_map: Option<MapSvg>,
    lattice_map: Option<MapSvg>,
    /// No grid is significant: the map is shaded by incidents instead.
    plain_map: bool,
    notable: Vec<Notable<'a>>,
    overdue: Vec<OverdueView>,
    more_overdue: usize,
    assessment: Vec<Vec<String>>,
    staff_assessment: Vec<Vec<String>>,
    alarms: Vec<Vec<String>>,
}

impl Page<'_> {
    /// A text of the catalogue in the page's language.
    fn t<'k>(&self, key: &'k str) -> &'k str {
        i18n::t(self.lang, key)
    }

    /// A category's name in the page's language.
    fn category(&self, code: &str) -> String {
        i18n::category(self.lang, code).into_owned()
    }
}

/// The grids that are hot or cold spots, or emerging, as table rows.
pub(super) fn notable_rows(r: &Report, lang: Lang) -> Vec<Notable<'_>> {
    r.hotspots
        .iter()
        .filter(|h| h.unit.spot != Spot::NotSignificant || h.unit.emerging != Emerging::None)
        .map(|h| Notable {
            code: &h.code,
            name: &h.name,
            count: h.unit.count.to_string(),
            z: format!("{:.2}", h.unit.gi.z),
            p: format!("{:.3}", h.unit.gi.p_sim),
            spot: match h.unit.spot {
                Spot::Hot => i18n::t(lang, "report.spot.hot").to_string(),
                Spot::Cold => i18n::t(lang, "report.spot.cold").to_string(),
                Spot::NotSignificant => "–".to_string(),
            },
            trend: match emerging_name(h.unit.emerging) {
                "" => String::new(),
                e => i18n::label(lang, "emerging", e).into_owned(),
            },
            weekly: h
                .unit
                .weekly
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect()
}

/// A share as a percentage, `–` when there is nothing to measure.
fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{:.1}%", v * 100.0))
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.digits$}"))
}

/// The grids' assessment as table rows: rank, grid, cases, closed, median
/// hours to accept, overdue and reopen rates, satisfaction, visits, score.
pub(super) fn assessment_rows(r: &Report) -> Vec<Vec<String>> {
    r.assessment
        .iter()
        .map(|g| {
            vec![
                g.rank.map_or_else(String::new, |k| k.to_string()),
                format!("{} {}", g.code, g.name),
                g.cases.to_string(),
                g.closed.to_string(),
                opt(g.to_accept.median, 1),
                pct(g.overdue_rate),
                pct(g.reopen_rate),
                opt(g.satisfaction, 2),
                g.visits.to_string(),
                opt(g.score, 1),
            ]
        })
        .collect()
}

/// The staff's assessment as table rows: rank, user, handled, median
/// hours to handle, overdue and reopen rates, satisfaction, visits, score.
pub(super) fn staff_rows(r: &Report) -> Vec<Vec<String>> {
    r.staff_assessment
        .iter()
        .map(|s| {
            vec![
                s.rank.map_or_else(String::new, |k| k.to_string()),
                s.user.clone(),
                s.handled.to_string(),
                opt(s.to_handle.median, 1),
                pct(s.overdue_rate),
                pct(s.reopen_rate),
                opt(s.satisfaction, 2),
                s.visits.to_string(),
                opt(s.score, 1),
            ]
        })
        .collect()
}

/// The open alarms as table rows: case, grid, since, status, what.
pub(super) fn alarm_rows(r: &Report, lang: Lang) -> Vec<Vec<String>> {
    r.alarms
        .iter()
        .map(|a| {
            vec![
                a.id.to_string(),
                a.grid
                    .as_ref()
                    .map_or_else(String::new, |g| format!("{} {}", g.code, g.name)),
                local_time(a.reported_at),
                i18n::label(lang, "status", a.status.as_str()).into_owned(),
                a.description.clone(),
            ]
        })
        .collect()
}

/// The most overdue cases as table rows (at most [`OVERDUE_SHOWN`]).
pub(super) fn overdue_rows(r: &Report, lang: Lang) -> Vec<OverdueView> {
    r.overdue
        .iter()
        .take(OVERDUE_SHOWN)
        .map(|c| OverdueView {
            id: c.id,
            category: i18n::category(lang, &c.category).into_owned(),
            grid: c
                .grid
                .as_ref()
                .map_or_else(String::new, |g| format!("{} {}", g.code, g.name)),
            status: i18n::label(lang, "status", c.status.as_str()).into_owned(),
            level: i18n::label(lang, "handling", &format!("{:?}", c.level).to_lowercase())
                .into_owned(),
            reported: local_time(c.reported_at),
            hours: format!("{:.1}", c.hours_over),
        })
        .collect()
}

/// The report's summary paragraph: totals and their change, the top
/// categories and grids, hot spots, overdue, closed and open.
///
/// ```
/// # use gridgov_app::report::html::summary;
/// // (see the report tests for a whole report)
/// let _ = summary;
/// ```
pub fn summary(r: &Report, lang: Lang) -> String {
    let t = &r.totals;
    let sep = i18n::t(lang, "report.sep");
    let pct = |v: f64| format!("{:.1}%", v.abs());
    let change = match t.change_pct {
        None => i18n::t(lang, "report.summary.new").to_string(),
        Some(v) if v > 0.05 => i18n::tf(lang, "report.summary.up", &[("pct", &pct(v))]),
        Some(v) if v < -0.05 => i18n::tf(lang, "report.summary.down", &[("pct", &pct(v))]),
        Some(_) => i18n::t(lang, "report.summary.flat").to_string(),
    };
    let cats = r
        .categories
        .iter()
        .take(3)
        .map(|c| format!("{}（{}）", i18n::category(lang, &c.category), c.incidents))
        .collect::<Vec<_>>()
        .join(sep);
    let grids = r
        .top_grids
        .iter()
        .take(3)
        .map(|g| format!("{}（{}）", g.name, g.incidents))
        .collect::<Vec<_>>()
        .join(sep);
    let hot: Vec<&str> = r
        .hotspots
        .iter()
        .filter(|h| h.unit.spot == Spot::Hot)
        .take(5)
        .map(|h| h.name.as_str())
        .collect();
    let hot = if hot.is_empty() {
        i18n::t(lang, "report.summary.no_hot").to_string()
    } else {
        i18n::tf(lang, "report.summary.hot", &[("list", &hot.join(sep))])
    };
    let sat = t.satisfaction.map_or_else(String::new, |v| {
        i18n::tf(lang, "report.summary.sat", &[("v", &format!("{v:.2}"))])
    });
    let text = i18n::tf(
        lang,
        "report.summary.text",
        &[
            ("n", &t.incidents),
            ("prev", &t.previous),
            ("change", &change),
            ("rate", &rate(t.per_1000_households)),
            ("cats", &cats),
            ("grids", &grids),
            ("hot", &hot),
            ("overdue", &t.overdue_in_period),
            ("now", &t.overdue_now),
            ("closed", &t.closed),
            ("open", &t.open),
            ("sat", &sat),
        ],
    );
    if lang == Lang::En {
        text.replace('（', " (").replace('）', ")")
    } else {
        text
    }
}

/// The page in Chinese, with no names on the heatmap: see [`page_in`].
pub fn page(r: &Report, snap: &Snapshot) -> String {
    page_in(r, snap, Lang::Zh, None)
}

/// The page in `lang`: the summary paragraph and cards, heatmap, trend,
/// categories, top grids, communities, hot-spot maps and table, overdue
/// list; laid out for A4 when printed (running header, page numbers).
/// With a `font`, the heatmap carries road and place names.
pub fn page_in(
    r: &Report,
    snap: &Snapshot,
    lang: Lang,
    font: Option<&gridgov_tiles::LabelFont>,
) -> String {
    let d = &snap.district;
    let heat = snap
        .tile_source()
        .overview_png(HEAT_W, &period_filter(r), HEAT_BANDWIDTH_M, font)
        .map(|png| base64::engine::general_purpose::STANDARD.encode(png))
        .map_err(|e| e.to_string());
    let t = &r.totals;
    let page = Page {
        lang,
        lang_code: lang.code(),
        x: Texts::new(r, lang),
        style: STYLE,
        r,
        totals_change: change(t.change_pct),
        per_1000: rate(t.per_1000_households),
        satisfaction: t
            .satisfaction
            .map_or_else(|| "–".into(), |s| format!("{s:.2}")),
        heat,
        trend: trend(r),
        categories: r
            .categories
            .iter()
            .map(|c| (c, change(c.change_pct)))
            .collect(),
        top_grids: areas(&r.top_grids, lang),
        communities: areas(&r.communities, lang),
        map_w: MAP_W,
        hotspot_map: hotspot_map(r, d),
        lattice_map: lattice_map(r, d),
        plain_map: none_significant(r),
        notable: notable_rows(r, lang),
        overdue: overdue_rows(r, lang),
        more_overdue: r.overdue.len().saturating_sub(OVERDUE_SHOWN),
        assessment: assessment_rows(r),
        staff_assessment: staff_rows(r),
        alarms: alarm_rows(r, lang),
    };
    // Rendering only writes into a string; it fails only if a value's
    // Display does, which ours do not.
    page.render()
        .unwrap_or_else(|e| format!("<!doctype html><p>{e}</p>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_are_shaded_by_their_incidents_when_none_is_significant() {
        assert_eq!(count_grey(0, 10), "#f4f4f4");
        assert_eq!(count_grey(10, 10), "#808080");
        assert_ne!(count_grey(1, 10), count_grey(0, 10));
        assert_ne!(count_grey(3, 10), count_grey(10, 10));
        assert_eq!(count_grey(5, 0), "#f4f4f4");
    }

    #[test]
    fn changes_are_coloured_by_their_sign() {
        assert_eq!(change(Some(12.34)).text, "+12.3%");
        assert_eq!(change(Some(12.34)).class, "up");
        assert_eq!(change(Some(-5.0)).class, "down");
        assert_eq!(change(None).text, "–");
    }
}
