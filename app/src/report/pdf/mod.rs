//! The report as a PDF a street office prints or files: the HTML page's
//! content, in the same words, on A4 pages — the summary paragraph and
//! key figures, the heatmap with place names, the daily trend with its
//! axes, the tables of categories, grids and communities, the hot-spot
//! maps with their legend and table, and the overdue cases — with the
//! report's title atop every page and its number at the foot. The font is
//! embedded (the subset of glyphs used), so the file reads the same on a
//! machine without Chinese fonts, and its text can be searched and
//! extracted.

mod writer;

#[cfg(test)]
pub(crate) use writer::test_font;
pub use writer::{PdfError, PdfFont, hex};
pub(crate) use writer::{Rgb, Writer};

use gridgov_spatial::hotspot_map::Spot;
use gridgov_spatial::hotspots::Emerging;
use gridgov_spatial::i18n::{self, Lang};
use gridgov_tiles::LabelFont;

use super::Report;
use super::html::{
    self, AreaView, Frame, HEAT_BANDWIDTH_M, HEAT_W, Texts, change, count_grey, emerging_name,
    none_significant, period_filter, spot_colour,
};
use crate::Snapshot;
use writer::{MARGIN_X, PAGE_W};

/// The width of the text column.
const COLUMN: f32 = PAGE_W - 2.0 * MARGIN_X;
const INK: Rgb = [0.13, 0.13, 0.13];
const GREY: Rgb = [0.4, 0.4, 0.4];
const RULE: Rgb = [0.85, 0.85, 0.85];
const ACCENT: Rgb = [0.239, 0.353, 0.502];
const UP: Rgb = [0.698, 0.094, 0.169];
const DOWN: Rgb = [0.129, 0.4, 0.675];
/// The tallest a map or picture is drawn.
const MAX_FIGURE_H: f32 = 470.0;

/// The report as a PDF file in `lang`, its text set in `font` (embedded).
/// With `labels`, the heatmap carries road and place names.
///
/// ```no_run
/// # fn demo(r: &gridgov_app::report::Report, snap: &gridgov_app::Snapshot) -> Result<(), Box<dyn std::error::Error>> {
/// use gridgov_app::report::pdf::{PdfFont, document};
/// let font = PdfFont::from_bytes(std::fs::read("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")?)?;
/// let pdf = document(r, snap, gridgov_spatial::i18n::Lang::Zh, &font, None)?;
/// assert!(pdf.starts_with(b"%PDF-1.7"));
/// # Ok(()) }
/// ```
pub fn document(
    r: &Report,
    snap: &Snapshot,
    lang: Lang,
    font: &PdfFont,
    labels: Option<&LabelFont>,
) -> Result<Vec<u8>, PdfError> {
    let x = Texts::new(r, lang);
    let t = |k: &'static str| i18n::t(lang, k);
    let mut w = Writer::new(font)?;

    w.paragraph(MARGIN_X, COLUMN, 18.0, 24.0, ACCENT, &x.title);
    w.y += 2.0;
    w.paragraph(MARGIN_X, COLUMN, 8.5, 12.0, GREY, &x.meta);

    heading(&mut w, t("report.summary"));
    summary_box(&mut w, &x.summary);
    cards(&mut w, r, &x, lang);

    heading(&mut w, t("report.heat"));
    let d = &snap.district;
    match snap
        .tile_source()
        .overview_image(HEAT_W, &period_filter(r), HEAT_BANDWIDTH_M, labels)
    {
        Ok(img) => {
            let (iw, ih) = (img.width(), img.height());
            let (bw, bh) = fit_box(iw as f32, ih as f32);
            w.ensure(bh + 4.0);
            let y = w.y;
            w.image(img.as_raw(), iw, ih, (MARGIN_X, y, bw, bh));
            w.stroke_rect(MARGIN_X, y, bw, bh, RULE, 0.5);
            w.y += bh + 4.0;
            note(&mut w, t("report.heat.note"));
        }
        Err(e) => {
            let s = format!("{} {e}", t("report.heat.none"));
            w.paragraph(MARGIN_X, COLUMN, 9.5, 14.0, INK, &s);
        }
    }

    heading(&mut w, t("report.trend"));
    trend(&mut w, r, lang);
    note(&mut w, &x.trend_note);

    heading(&mut w, t("report.categories"));
    let rows: Vec<Vec<Cell>> = r
        .categories
        .iter()
        .map(|c| {
            let ch = change(c.change_pct);
            vec![
                Cell::text(i18n::category(lang, &c.category)),
                Cell::text(c.incidents.to_string()),
                Cell::text(c.previous.to_string()),
                Cell::change(ch.text, ch.class),
            ]
        })
        .collect();
    table(
        &mut w,
        &[
            Col::left(t("report.col.category"), 4.0),
            Col::right(t("report.col.incidents"), 1.0),
            Col::right(t("report.col.previous"), 1.0),
            Col::right(t("report.col.change"), 1.0),
        ],
        &rows,
    );

    heading(&mut w, t("report.top_grids"));
    areas(
        &mut w,
        &html::areas(&r.top_grids, lang),
        lang,
        "report.col.community",
    );
    heading(&mut w, t("report.communities"));
    areas(
        &mut w,
        &html::areas(&r.communities, lang),
        lang,
        "report.col.street",
    );

    // The heading goes with its first map.
    if let Some((f, _)) = frame(d) {
        w.ensure(f.h as f32 + 70.0);
    }
    heading(&mut w, t("report.hotspots"));
    hotspot_map(&mut w, r, d, t("report.hotspots.grid"));
    if none_significant(r) {
        note(&mut w, t("report.hotspots.none_map"));
    }
    legend(&mut w, lang);
    lattice_map(&mut w, r, d, &x.by_cell);
    w.paragraph(MARGIN_X, COLUMN, 9.5, 14.0, INK, &x.hot_cells_text);
    note(&mut w, &format!("{}.", r.hotspot_method));
    let notable = html::notable_rows(r, lang);
    if notable.is_empty() {
        w.paragraph(MARGIN_X, COLUMN, 9.5, 14.0, INK, t("report.hotspots.none"));
    } else {
        let rows: Vec<Vec<Cell>> = notable
            .iter()
            .map(|h| {
                vec![
                    Cell::text(h.code),
                    Cell::text(h.name),
                    Cell::text(h.count.clone()),
                    Cell::text(h.z.clone()),
                    Cell::text(h.p.clone()),
                    Cell::text(h.spot.clone()),
                    Cell::text(h.trend.clone()),
                    Cell::text(h.weekly.clone()),
                ]
            })
            .collect();
        table(
            &mut w,
            &[
                Col::left(t("report.col.code"), 1.6),
                Col::left(t("report.col.name"), 2.2),
                Col::right(t("report.col.incidents"), 0.8),
                Col::right(t("report.col.z"), 1.0),
                Col::right(t("report.col.p"), 1.2),
                Col::left(t("report.col.spot"), 0.8),
                Col::left(t("report.col.trend"), 0.9),
                Col::left(t("report.col.weekly"), 1.8),
            ],
            &rows,
        );
    }

    heading(&mut w, t("report.assessment"));
    let grids = html::assessment_rows(r);
    if grids.is_empty() {
        w.paragraph(
            MARGIN_X,
            COLUMN,
            9.5,
            14.0,
            INK,
            t("report.assessment.none"),
        );
    } else {
        let cells = |rows: Vec<Vec<String>>| -> Vec<Vec<Cell>> {
            rows.into_iter()
                .map(|r| r.into_iter().map(Cell::text).collect())
                .collect()
        };
        table(
            &mut w,
            &[
                Col::right(t("report.col.rank"), 0.5),
                Col::left(t("report.col.grid"), 2.6),
                Col::right(t("report.col.cases"), 0.6),
                Col::right(t("report.col.closed"), 0.6),
                Col::right(t("report.col.to_accept"), 1.1),
                Col::right(t("report.col.overdue_rate"), 0.8),
                Col::right(t("report.col.reopen_rate"), 0.8),
                Col::right(t("report.col.satisfaction"), 0.8),
                Col::right(t("report.col.visits"), 0.6),
                Col::right(t("report.col.score"), 0.6),
            ],
            &cells(grids),
        );
        let staff = html::staff_rows(r);
        if !staff.is_empty() {
            table(
                &mut w,
                &[
                    Col::right(t("report.col.rank"), 0.5),
                    Col::left(t("report.col.staff"), 1.6),
                    Col::right(t("report.col.handled"), 0.7),
                    Col::right(t("report.col.to_handle"), 1.2),
                    Col::right(t("report.col.overdue_rate"), 0.8),
                    Col::right(t("report.col.reopen_rate"), 0.8),
                    Col::right(t("report.col.satisfaction"), 0.8),
                    Col::right(t("report.col.visits"), 0.6),
                    Col::right(t("report.col.score"), 0.6),
                ],
                &cells(staff),
            );
        }
        note(&mut w, t("report.assessment.method"));
    }

    heading(&mut w, t("report.alarms"));
    let alarms = html::alarm_rows(r, lang);
    if alarms.is_empty() {
        w.paragraph(MARGIN_X, COLUMN, 9.5, 14.0, INK, t("report.alarms.none"));
    } else {
        let rows: Vec<Vec<Cell>> = alarms
            .into_iter()
            .map(|r| r.into_iter().map(Cell::text).collect())
            .collect();
        table(
            &mut w,
            &[
                Col::right(t("report.col.case"), 0.7),
                Col::left(t("report.col.grid"), 2.2),
                Col::left(t("report.col.reported"), 1.5),
                Col::left(t("report.col.status"), 0.9),
                Col::left(t("report.col.what"), 3.4),
            ],
            &rows,
        );
    }

    heading(&mut w, &x.overdue_title);
    let overdue = html::overdue_rows(r, lang);
    if overdue.is_empty() {
        w.paragraph(MARGIN_X, COLUMN, 9.5, 14.0, INK, t("report.overdue.none"));
    } else {
        let rows: Vec<Vec<Cell>> = overdue
            .into_iter()
            .map(|c| {
                vec![
                    Cell::text(c.id.to_string()),
                    Cell::text(c.category),
                    Cell::text(c.grid),
                    Cell::text(c.status),
                    Cell::text(c.level),
                    Cell::text(c.reported),
                    Cell::text(c.hours),
                ]
            })
            .collect();
        table(
            &mut w,
            &[
                Col::right(t("report.col.case"), 0.8),
                Col::left(t("report.col.category"), 1.5),
                Col::left(t("report.col.grid"), 2.4),
                Col::left(t("report.col.status"), 1.0),
                Col::left(t("report.col.level"), 1.0),
                Col::left(t("report.col.reported"), 1.6),
                Col::right(t("report.col.hours"), 0.9),
            ],
            &rows,
        );
        if r.overdue.len() > html::OVERDUE_SHOWN {
            note(&mut w, &x.more_overdue_text);
        }
    }

    w.finish(&x.title, &x.title, |n, total| {
        i18n::tf(lang, "report.pdf.page", &[("n", &n), ("total", &total)])
    })
}

/// A picture `iw × ih` scaled to the column, and down again to at most
/// [`MAX_FIGURE_H`] tall.
fn fit_box(iw: f32, ih: f32) -> (f32, f32) {
    let mut bw = COLUMN;
    let mut bh = COLUMN * ih / iw.max(1.0);
    if bh > MAX_FIGURE_H {
        bw *= MAX_FIGURE_H / bh;
        bh = MAX_FIGURE_H;
    }
    (bw, bh)
}

/// A section heading with a rule under it; it starts a page rather than
/// end one.
fn heading(w: &mut Writer<'_>, s: &str) {
    w.ensure(90.0);
    w.y += 12.0;
    w.paragraph(MARGIN_X, COLUMN, 13.0, 17.0, ACCENT, s);
    let y = w.y;
    w.polyline(&[(MARGIN_X, y), (MARGIN_X + COLUMN, y)], RULE, 0.7);
    w.y += 7.0;
}

/// A subheading kept on the page of the `h` points that follow it.
fn subheading(w: &mut Writer<'_>, s: &str, h: f32) {
    w.ensure(h + 22.0);
    w.y += 4.0;
    w.paragraph(MARGIN_X, COLUMN, 10.5, 15.0, INK, s);
    w.y += 2.0;
}

fn note(w: &mut Writer<'_>, s: &str) {
    w.paragraph(MARGIN_X, COLUMN, 8.0, 11.5, GREY, s);
    w.y += 3.0;
}

/// The summary paragraph on a shaded band with an accent bar.
fn summary_box(w: &mut Writer<'_>, s: &str) {
    let (size, leading) = (10.5, 16.0);
    let lines = w.wrap(s, size, COLUMN - 20.0);
    let h = lines.len() as f32 * leading + 10.0;
    w.ensure(h.min(300.0));
    let top = w.y;
    if h <= w.room() {
        w.fill_rect(MARGIN_X, top, COLUMN, h, [0.965, 0.973, 0.98]);
        w.fill_rect(MARGIN_X, top, 3.0, h, ACCENT);
    }
    w.y += 5.0;
    for line in lines {
        w.ensure(leading);
        let y = w.y + size;
        w.text(MARGIN_X + 12.0, y, size, INK, &line);
        w.y += leading;
    }
    w.y += 9.0;
}

/// A key figure: its label's key, the figure, and the small print under
/// it in its colours.
type Card = (&'static str, String, Vec<(String, Rgb)>);

/// The key figures as a row of boxes.
fn cards(w: &mut Writer<'_>, r: &Report, x: &Texts, lang: Lang) {
    let t = &r.totals;
    let ch = change(t.change_pct);
    let cards: [Card; 5] = [
        (
            "report.card.incidents",
            t.incidents.to_string(),
            vec![
                (ch.text, class_colour(ch.class)),
                (x.vs_previous.clone(), GREY),
            ],
        ),
        (
            "report.card.rate",
            html::rate(t.per_1000_households),
            vec![(x.households.clone(), GREY)],
        ),
        (
            "report.card.closed",
            t.closed.to_string(),
            vec![(x.still_open.clone(), GREY)],
        ),
        (
            "report.card.satisfaction",
            t.satisfaction
                .map_or_else(|| "–".into(), |s| format!("{s:.2}")),
            vec![(i18n::t(lang, "report.card.evaluated").to_owned(), GREY)],
        ),
        (
            "report.card.overdue_period",
            t.overdue_in_period.to_string(),
            vec![(x.overdue_now.clone(), GREY)],
        ),
    ];
    let gap = 8.0;
    let cw = (COLUMN - gap * 4.0) / 5.0;
    let h = 60.0;
    w.ensure(h + 10.0);
    let top = w.y;
    for (k, (label, value, subs)) in cards.iter().enumerate() {
        let x0 = MARGIN_X + k as f32 * (cw + gap);
        w.stroke_rect(x0, top, cw, h, RULE, 0.7);
        let label = w.fit(i18n::t(lang, label), 8.0, cw - 10.0);
        w.text(x0 + 6.0, top + 13.0, 8.0, GREY, &label);
        w.text(x0 + 6.0, top + 34.0, 17.0, INK, value);
        let mut sx = x0 + 6.0;
        for (s, colour) in subs {
            let s = w.fit(s, 7.5, x0 + cw - 4.0 - sx);
            w.text(sx, top + 50.0, 7.5, *colour, &s);
            sx += w.measure(&s, 7.5) + 3.0;
        }
    }
    w.y = top + h + 8.0;
}

fn class_colour(class: &str) -> Rgb {
    match class {
        "up" => UP,
        "down" => DOWN,
        _ => GREY,
    }
}

/// Incidents per day as bars, the previous period's same days as a line,
/// with the scale on the left and the first and last day below.
fn trend(w: &mut Writer<'_>, r: &Report, lang: Lang) {
    let h = 150.0;
    let (left, bottom) = (34.0, 18.0);
    w.ensure(h + 6.0);
    let top = w.y;
    let x0 = MARGIN_X + left;
    let width = COLUMN - left;
    let base = top + h - bottom;
    let plot_h = h - bottom - 8.0;
    let max = html::daily_top(r);
    let y_of = |v: usize| base - v as f32 / max as f32 * plot_h;
    // Gridlines and the scale: 0, half, top.
    for v in [0, max / 2, max] {
        let y = y_of(v);
        w.polyline(
            &[(x0, y), (x0 + width, y)],
            if v == 0 { GREY } else { RULE },
            0.5,
        );
        w.text_right(x0 - 4.0, y + 3.0, 7.5, GREY, &v.to_string());
    }
    w.text(
        MARGIN_X,
        top + 8.0,
        7.5,
        GREY,
        i18n::t(lang, "report.axis.cases"),
    );
    let n = r.daily.len().max(1) as f32;
    let bw = width / n;
    for (k, d) in r.daily.iter().enumerate() {
        let y = y_of(d.incidents);
        w.fill_rect(
            x0 + k as f32 * bw + bw * 0.15,
            y,
            bw * 0.7,
            base - y,
            ACCENT,
        );
    }
    let line: Vec<(f32, f32)> = r
        .daily
        .iter()
        .enumerate()
        .filter_map(|(k, d)| d.previous.map(|p| (x0 + (k as f32 + 0.5) * bw, y_of(p))))
        .collect();
    w.polyline(&line, hex("#e07a5f"), 1.5);
    if let (Some(a), Some(b)) = (r.daily.first(), r.daily.last()) {
        w.text(x0, base + 12.0, 7.5, GREY, &a.date);
        w.text_right(x0 + width, base + 12.0, 7.5, GREY, &b.date);
        let unit = i18n::t(lang, "report.axis.day");
        w.text_centred(x0 + width / 2.0, base + 12.0, 7.5, GREY, unit);
    }
    w.y = top + h + 4.0;
}

/// One column of a table: its title, share of the width and alignment.
struct Col<'a> {
    title: &'a str,
    share: f32,
    right: bool,
}

impl<'a> Col<'a> {
    fn left(title: &'a str, share: f32) -> Col<'a> {
        Col {
            title,
            share,
            right: false,
        }
    }

    fn right(title: &'a str, share: f32) -> Col<'a> {
        Col {
            title,
            share,
            right: true,
        }
    }
}

/// A table cell's text and colour.
struct Cell {
    text: String,
    colour: Rgb,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell {
            text: s.into(),
            colour: INK,
        }
    }

    fn change(text: String, class: &str) -> Cell {
        Cell {
            text,
            colour: class_colour(class),
        }
    }
}

/// A table across the column; the header row comes again on each page it
/// runs onto; a cell too long for its column ends in an ellipsis.
fn table(w: &mut Writer<'_>, cols: &[Col<'_>], rows: &[Vec<Cell>]) {
    let (size, row_h, pad) = (8.5, 15.0, 4.0);
    let total: f32 = cols.iter().map(|c| c.share).sum();
    let widths: Vec<f32> = cols.iter().map(|c| c.share / total * COLUMN).collect();
    let header = |w: &mut Writer<'_>| {
        let top = w.y;
        w.fill_rect(MARGIN_X, top, COLUMN, row_h, [0.94, 0.95, 0.96]);
        let mut x = MARGIN_X;
        for (c, cw) in cols.iter().zip(&widths) {
            let s = w.fit(c.title, size - 0.5, cw - 2.0 * pad);
            if c.right {
                w.text_right(x + cw - pad, top + 10.5, size - 0.5, GREY, &s);
            } else {
                w.text(x + pad, top + 10.5, size - 0.5, GREY, &s);
            }
            x += cw;
        }
        w.y += row_h;
    };
    w.ensure(row_h * 3.0);
    header(w);
    for row in rows {
        if w.room() < row_h {
            w.new_page();
            header(w);
        }
        let top = w.y;
        let mut x = MARGIN_X;
        for ((c, cw), cell) in cols.iter().zip(&widths).zip(row) {
            let s = w.fit(&cell.text, size, cw - 2.0 * pad);
            if c.right {
                w.text_right(x + cw - pad, top + 10.5, size, cell.colour, &s);
            } else {
                w.text(x + pad, top + 10.5, size, cell.colour, &s);
            }
            x += cw;
        }
        w.polyline(
            &[(MARGIN_X, top + row_h), (MARGIN_X + COLUMN, top + row_h)],
            RULE,
            0.4,
        );
        w.y += row_h;
    }
    w.y += 6.0;
}

/// The grid or community table.
fn areas(w: &mut Writer<'_>, rows: &[AreaView<'_>], lang: Lang, parent: &'static str) {
    let t = |k: &'static str| i18n::t(lang, k);
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|a| {
            vec![
                Cell::text(a.row.code.clone()),
                Cell::text(a.row.name.clone()),
                Cell::text(a.parent),
                Cell::text(a.row.incidents.to_string()),
                Cell::text(a.row.previous.to_string()),
                Cell::change(a.change.text.clone(), a.change.class),
                Cell::text(a.rate.clone()),
                Cell::text(a.top.clone()),
            ]
        })
        .collect();
    table(
        w,
        &[
            Col::left(t("report.col.code"), 1.7),
            Col::left(t("report.col.name"), 2.0),
            Col::left(t(parent), 1.6),
            Col::right(t("report.col.incidents"), 0.8),
            Col::right(t("report.col.previous"), 0.8),
            Col::right(t("report.col.change"), 0.9),
            Col::right(t("report.col.rate"), 0.9),
            Col::left(t("report.col.top"), 1.4),
        ],
        &cells,
    );
}

/// The district fitted to the column (no taller than [`MAX_FIGURE_H`]):
/// the frame and its width.
fn frame(d: &gridgov_spatial::District) -> Option<(Frame, f32)> {
    let f = Frame::of_width(d, f64::from(COLUMN))?;
    let (bw, _) = fit_box(COLUMN, f.h as f32);
    if (bw - COLUMN).abs() < 0.5 {
        Some((f, COLUMN))
    } else {
        Frame::of_width(d, f64::from(bw)).map(|f| (f, bw))
    }
}

fn rings(f: &Frame, mp: &geo::MultiPolygon<f64>, (ox, oy): (f32, f32)) -> Vec<Vec<(f32, f32)>> {
    mp.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .map(|r| {
            r.0.iter()
                .map(|c| {
                    let (x, y) = f.xy(c.x, c.y);
                    (ox + x as f32, oy + y as f32)
                })
                .collect()
        })
        .collect()
}

/// Grids coloured by their hot or cold spot (or, when none is
/// significant, shaded by incidents), with the emerging letters.
fn hotspot_map(w: &mut Writer<'_>, r: &Report, d: &gridgov_spatial::District, title: &str) {
    let Some((f, _)) = frame(d) else { return };
    let h = f.h as f32;
    subheading(w, title, h);
    let o = (MARGIN_X, w.y);
    let plain = none_significant(r);
    let max = r.hotspots.iter().map(|h| h.unit.count).max().unwrap_or(0);
    for g in &r.hotspots {
        let fill = if plain {
            count_grey(g.unit.count, max)
        } else {
            spot_colour(g.unit.spot, g.unit.gi.p_sim)
        };
        let shape = rings(&f, &d.area(g.id).boundary, o);
        w.shape(&shape, Some(hex(fill)), Some((hex("#555555"), 0.5)));
    }
    for g in r
        .hotspots
        .iter()
        .filter(|g| g.unit.emerging != Emerging::None)
    {
        if let Some(c) = geo::InteriorPoint::interior_point(&d.area(g.id).boundary) {
            let (x, y) = f.xy(c.x(), c.y());
            let letter = emerging_name(g.unit.emerging)[..1].to_uppercase();
            w.text_centred(o.0 + x as f32, o.1 + y as f32 + 2.5, 7.0, INK, &letter);
        }
    }
    w.y += h + 4.0;
}

/// The lattice's significant cells under the grid outlines.
fn lattice_map(w: &mut Writer<'_>, r: &Report, d: &gridgov_spatial::District, title: &str) {
    let Some((f, bw)) = frame(d) else { return };
    let h = f.h as f32;
    subheading(w, title, h);
    let o = (MARGIN_X, w.y);
    w.fill_rect(o.0, o.1, bw, h, [0.97; 3]);
    // Cells at the district's edge reach beyond the frame.
    w.clip(o.0, o.1, bw, h);
    for c in r
        .lattice
        .cells
        .iter()
        .filter(|c| c.unit.spot != Spot::NotSignificant)
    {
        let (x0, y0) = f.xy(c.bounds[0], c.bounds[1]);
        let (x1, y1) = f.xy(c.bounds[2], c.bounds[3]);
        let fill = hex(spot_colour(c.unit.spot, c.unit.gi.p_sim));
        w.fill_rect(
            o.0 + x0 as f32,
            o.1 + y1 as f32,
            (x1 - x0) as f32,
            (y0 - y1) as f32,
            fill,
        );
    }
    for g in d.grids() {
        let shape = rings(&f, &d.area(g).boundary, o);
        w.shape(&shape, None, Some((hex("#555555"), 0.4)));
    }
    w.unclip();
    w.y += h + 6.0;
}

/// The hot-spot colours and what they mean.
fn legend(w: &mut Writer<'_>, lang: Lang) {
    let t = |k: &'static str| i18n::t(lang, k);
    let groups: [(&str, &[&str]); 3] = [
        ("report.hotspots.legend", &["#b2182b", "#d6604d", "#f4a582"]),
        ("report.hotspots.cold", &["#2166ac", "#4393c3", "#92c5de"]),
        ("report.hotspots.ns", &["#eeeeee"]),
    ];
    let size = 8.0;
    w.ensure(30.0);
    let y = w.y + 9.0;
    let mut x = MARGIN_X;
    for (label, colours) in groups {
        let label = t(label);
        w.text(x, y, size, INK, label);
        x += w.measure(label, size) + 4.0;
        for c in colours {
            w.fill_rect(x, y - 8.0, 9.0, 9.0, hex(c));
            w.stroke_rect(x, y - 8.0, 9.0, 9.0, [0.6; 3], 0.4);
            x += 11.0;
        }
        x += 10.0;
    }
    w.y += 14.0;
    note(w, t("report.hotspots.letters"));
}
