//! Weekly and monthly incident reports: totals against the previous
//! period, the top categories, grids and communities (with rates per
//! 1,000 households), the daily trend, the hot spots (Gi* over grid
//! adjacency with the emerging labels) and the cases overdue now.
//!
//! [`build`] gathers the numbers from a snapshot and the case book; the
//! same [`Report`] is answered as JSON, drawn as a self-contained HTML
//! page by [`html::page`] and set on A4 pages as a PDF by
//! [`pdf::document`].

pub mod assessment;
pub mod html;
pub mod overdue;
pub mod pdf;

use gridgov_spatial::hotspot_map::{
    GridHotspot, HotspotError, HotspotOptions, LatticeHotspots, grid_hotspots, lattice_hotspots,
};
use gridgov_spatial::incident_counts::{
    AreaIncidents, IncidentQuery, category_counts, daily_counts, incident_counts,
};
use gridgov_spatial::period::{Period, date};
use gridgov_spatial::workflow::DeadlineRules;
use gridgov_spatial::{IncidentStatus, Level};
use serde::Serialize;

use crate::Snapshot;
use crate::cases::{Book, Case};

/// How a report is made.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Rows in the top lists.
    pub top: usize,
    /// Hot-spot settings.
    pub hotspots: HotspotOptions,
    /// The district's UTC offset in seconds.
    pub utc_offset_s: i64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            top: 10,
            hotspots: HotspotOptions::default(),
            utc_offset_s: gridgov_spatial::period::CHINA_OFFSET_S,
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The district's name.
    pub district: String,
    /// The period reported.
    pub period: Period,
    /// The period compared against.
    pub previous: Period,
    /// When it was made.
    pub generated_at: gridgov_spatial::Timestamp,
    /// The boundary version the grids come from.
    pub boundary_version: i64,
    /// Totals.
    pub totals: Totals,
    /// Every category with incidents in either period, most first.
    pub categories: Vec<CategoryRow>,
    /// The grids with the most incidents.
    pub top_grids: Vec<AreaRow>,
    /// Every community.
    pub communities: Vec<AreaRow>,
    /// Incidents per day of the period, with the same day of the previous
    /// period beside it.
    pub daily: Vec<DayRow>,
    /// How the hot spots were found.
    pub hotspot_method: String,
    /// Every grid's hot-spot result, the highest z-score first.
    pub hotspots: Vec<GridHotspot>,
    /// The same over a lattice of square cells (finer than grids, and
    /// blind to their borders).
    pub lattice: LatticeHotspots,
    /// Cases past their deadline at `generated_at`, the longest overdue
    /// first.
    pub overdue: Vec<OverdueRow>,
    /// The grids' assessment, the best `top` of the ranking
    /// ([`assessment`]).
    pub assessment: Vec<assessment::GridAssessment>,
    /// The staff's assessment, the best `top` of the ranking.
    pub staff_assessment: Vec<assessment::StaffAssessment>,
    /// Monitoring points' alarms open at `generated_at`, the oldest first.
    pub alarms: Vec<AlarmRow>,
}

/// Totals of the period.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Incidents reported in the period.
    pub incidents: usize,
    /// In the previous period.
    pub previous: usize,
    /// Change in percent; `None` when the previous period had none.
    pub change_pct: Option<f64>,
    /// Of the period's incidents, closed or evaluated now.
    pub closed: usize,
    /// Of the period's incidents, still open now.
    pub open: usize,
    /// Households in the district.
    pub households: usize,
    /// Incidents per 1,000 households.
    pub per_1000_households: Option<f64>,
    /// Mean satisfaction (1–5) of the period's evaluated cases.
    pub satisfaction: Option<f64>,
    /// Cases overdue now (whenever reported).
    pub overdue_now: usize,
    /// Cases past their deadline at some moment of the period (whenever
    /// reported, whatever escalation did since).
    pub overdue_in_period: usize,
}

/// One category.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryRow {
    /// The category.
    pub category: String,
    /// Incidents in the period.
    pub incidents: usize,
    /// In the previous period.
    pub previous: usize,
    /// Change in percent.
    pub change_pct: Option<f64>,
}

/// One grid or community.
#[derive(Debug, Clone, Serialize)]
pub struct AreaRow {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The community (grids) or street (communities) it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Incidents in the period.
    pub incidents: usize,
    /// In the previous period.
    pub previous: usize,
    /// Change in percent.
    pub change_pct: Option<f64>,
    /// Per 1,000 households.
    pub per_1000_households: Option<f64>,
    /// Its most frequent category in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_category: Option<String>,
}

/// One day.
#[derive(Debug, Clone, Serialize)]
pub struct DayRow {
    /// The date.
    pub date: String,
    /// Incidents that day.
    pub incidents: usize,
    /// The same day of the previous period (`None` past its end).
    pub previous: Option<usize>,
}

/// An area named by its code and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaRef {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
}

/// One overdue case.
#[derive(Debug, Clone, Serialize)]
pub struct OverdueRow {
    /// The case.
    pub id: i64,
    /// Category.
    pub category: String,
    /// Its grid.
    pub grid: Option<AreaRef>,
    /// Status now.
    pub status: IncidentStatus,
    /// Handling level now.
    pub level: gridgov_spatial::workflow::HandlingLevel,
    /// When it was reported.
    pub reported_at: gridgov_spatial::Timestamp,
    /// Hours past the deadline.
    pub hours_over: f64,
    /// Whether the rules escalate it.
    pub escalate: bool,
}

/// A monitoring point's alarm still open: its case.
#[derive(Debug, Clone, Serialize)]
pub struct AlarmRow {
    /// The case.
    pub id: i64,
    /// Its grid.
    pub grid: Option<AreaRef>,
    /// When the point crossed its threshold.
    pub reported_at: gridgov_spatial::Timestamp,
    /// Status now.
    pub status: IncidentStatus,
    /// The point and its reading, as the case says.
    pub description: String,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Bad hot-spot settings.
    #[error(transparent)]
    Hotspots(#[from] HotspotError),
}

fn change(now: usize, before: usize) -> Option<f64> {
    (before > 0).then(|| ((now as f64 - before as f64) * 1000.0 / before as f64).round() / 10.0)
}

fn rows(
    now: &[AreaIncidents],
    before: &[AreaIncidents],
    level: Level,
    d: &gridgov_spatial::District,
) -> Vec<AreaRow> {
    now.iter()
        .zip(before)
        .filter(|(r, _)| r.level == level)
        .map(|(r, b)| AreaRow {
            code: r.code.clone(),
            name: r.name.clone(),
            parent: d.area(r.id).parent.map(|p| d.area(p).name.clone()),
            incidents: r.incidents,
            previous: b.incidents,
            change_pct: change(r.incidents, b.incidents),
            per_1000_households: r.per_1000_households.map(|x| (x * 10.0).round() / 10.0),
            top_category: r
                .by_category
                .iter()
                .max_by(|x, y| x.1.cmp(y.1).then_with(|| y.0.cmp(x.0)))
                .map(|(k, _)| k.clone()),
        })
        .collect()
}

/// Makes the report of `period` from a snapshot (the district and where
/// everything is), the case book (states and deadlines) and the household
/// visits, with the overdue list as of `now`.
pub fn build(
    snap: &Snapshot,
    book: &Book,
    visits: &[crate::visits::Visit],
    rules: &DeadlineRules,
    period: Period,
    now: gridgov_spatial::Timestamp,
    o: &ReportOptions,
) -> Result<Report, ReportError> {
    let d = &snap.district;
    let a = &snap.assignment;
    let previous = period.previous();
    let base = IncidentQuery {
        period: None,
        categories: Vec::new(),
        utc_offset_s: o.utc_offset_s,
    };
    let (q, qp) = (base.over(period), base.over(previous));
    let now_rows = incident_counts(d, a, &q);
    let before_rows = incident_counts(d, a, &qp);
    let district_now: usize = now_rows
        .iter()
        .filter(|r| r.level == Level::Street)
        .map(|r| r.incidents)
        .sum();
    let district_before: usize = before_rows
        .iter()
        .filter(|r| r.level == Level::Street)
        .map(|r| r.incidents)
        .sum();
    let households = a
        .households
        .iter()
        .filter(|p| p.responsible().is_some())
        .count();
    let in_period: Vec<usize> = (0..d.incidents.len())
        .filter(|&i| q.matches(&d.incidents[i]))
        .collect();
    let closed = in_period
        .iter()
        .filter(|&&i| {
            matches!(
                d.incidents[i].status,
                IncidentStatus::Closed | IncidentStatus::Evaluated
            )
        })
        .count();
    let open = in_period
        .iter()
        .filter(|&&i| d.incidents[i].status.is_open())
        .count();
    // Satisfaction from the evaluations in the history of the period's
    // cases (the book's ids are dense: id − 1 is the district index).
    let mut scores = Vec::new();
    let mut overdue = Vec::new();
    let (p_from, p_to) = (
        gridgov_spatial::time::start_of_day(period.start, o.utc_offset_s).unwrap_or(now),
        gridgov_spatial::time::start_of_day(period.end, o.utc_offset_s).unwrap_or(now),
    );
    let overdue_in_period = book
        .cases
        .iter()
        .filter(|c| overdue::overdue_during(rules, c, p_from, p_to, now))
        .count();
    for Case {
        id,
        incident: x,
        history,
        state,
    } in &book.cases
    {
        let idx = usize::try_from(*id - 1).ok();
        if idx.is_some_and(|i| i < d.incidents.len() && q.matches(&d.incidents[i])) {
            for e in history {
                if let gridgov_spatial::workflow::Action::Evaluate { satisfaction } = e.action {
                    scores.push(f64::from(satisfaction));
                }
            }
        }
        if state.merged_into.is_some() {
            continue;
        }
        if let Some(over) = rules.overdue(&x.category, state, now) {
            let grid = gridgov_spatial::place_point(&snap.grids, x.location.x(), x.location.y())
                .responsible()
                .map(|g| AreaRef {
                    code: d.area(g).code.clone(),
                    name: d.area(g).name.clone(),
                });
            overdue.push(OverdueRow {
                id: *id,
                category: x.category.clone(),
                grid,
                status: state.status,
                level: state.level,
                reported_at: x.reported_at,
                hours_over: (over.hours_over * 10.0).round() / 10.0,
                escalate: over.escalate,
            });
        }
    }
    overdue.sort_by(|x, y| y.hours_over.total_cmp(&x.hours_over).then(x.id.cmp(&y.id)));
    let mut cats: Vec<CategoryRow> = Vec::new();
    let before_cats = category_counts(d, &qp);
    for (c, n) in category_counts(d, &q) {
        let b = before_cats.iter().find(|x| x.0 == c).map_or(0, |x| x.1);
        cats.push(CategoryRow {
            change_pct: change(n, b),
            category: c,
            incidents: n,
            previous: b,
        });
    }
    for (c, b) in before_cats {
        if !cats.iter().any(|x| x.category == c) {
            cats.push(CategoryRow {
                category: c,
                incidents: 0,
                previous: b,
                change_pct: Some(-100.0),
            });
        }
    }
    let mut top_grids = rows(&now_rows, &before_rows, Level::Grid, d);
    top_grids.sort_by(|x, y| {
        y.incidents
            .cmp(&x.incidents)
            .then_with(|| x.code.cmp(&y.code))
    });
    top_grids.retain(|r| r.incidents > 0);
    top_grids.truncate(o.top);
    let mut communities = rows(&now_rows, &before_rows, Level::Community, d);
    communities.sort_by(|x, y| {
        y.incidents
            .cmp(&x.incidents)
            .then_with(|| x.code.cmp(&y.code))
    });
    let days_now = daily_counts(d, &q);
    let days_before = daily_counts(d, &qp);
    let daily = days_now
        .iter()
        .enumerate()
        .map(|(k, &n)| DayRow {
            date: date(period.start + k as i64),
            incidents: n,
            previous: days_before.get(k).copied(),
        })
        .collect();
    let mut hotspots = grid_hotspots(d, a, &q, &o.hotspots)?;
    hotspots.sort_by(|x, y| {
        y.unit
            .gi
            .z
            .total_cmp(&x.unit.gi.z)
            .then_with(|| x.code.cmp(&y.code))
    });
    let lattice = lattice_hotspots(d, lattice_cell_m(d), &q, &o.hotspots)?;
    let alarms = book
        .cases
        .iter()
        .filter(|c| {
            c.incident.source == gridgov_spatial::IncidentSource::Sensor
                && c.state.status.is_open()
                && c.state.merged_into.is_none()
        })
        .map(|c| {
            let x = &c.incident;
            AlarmRow {
                id: c.id,
                grid: gridgov_spatial::place_point(&snap.grids, x.location.x(), x.location.y())
                    .responsible()
                    .map(|g| AreaRef {
                        code: d.area(g).code.clone(),
                        name: d.area(g).name.clone(),
                    }),
                reported_at: x.reported_at,
                status: c.state.status,
                description: x.description.clone(),
            }
        })
        .collect();
    let mut assessed = assessment::assess(snap, book, visits, rules, period, now, o.utc_offset_s);
    assessed.grids.retain(|g| g.rank.is_some());
    assessed.grids.truncate(o.top);
    assessed.staff.retain(|s| s.rank.is_some());
    assessed.staff.truncate(o.top);
    Ok(Report {
        district: d.name.clone(),
        period,
        previous,
        generated_at: now,
        boundary_version: snap.version,
        totals: Totals {
            incidents: district_now,
            previous: district_before,
            change_pct: change(district_now, district_before),
            closed,
            open,
            households,
            per_1000_households: (households > 0)
                .then(|| (district_now as f64 * 10_000.0 / households as f64).round() / 10.0),
            satisfaction: (!scores.is_empty()).then(|| {
                (scores.iter().sum::<f64>() / scores.len() as f64 * 100.0).round() / 100.0
            }),
            overdue_now: overdue.len(),
            overdue_in_period,
        },
        categories: cats,
        top_grids,
        communities,
        daily,
        hotspot_method: format!(
            "Getis–Ord Gi* of incident counts per grid over queen contiguity and per cell of a square lattice over queen contiguity, {} conditional permutations, Benjamini–Hochberg FDR {}; emerging labels from the Mann–Kendall trend of {} weekly Gi* z-scores ending {}",
            o.hotspots.permutations,
            o.hotspots.fdr,
            o.hotspots.weeks,
            period.weeks_ending(1)[0].label()
        ),
        hotspots,
        lattice,
        overdue,
        assessment: assessed.grids,
        staff_assessment: assessed.staff,
        alarms,
    })
}

/// The lattice's cell size: 200 m, or larger so that the district's
/// grids fit in about 2,500 cells.
fn lattice_cell_m(d: &gridgov_spatial::District) -> f64 {
    let Some(bb) = gridgov_spatial::sample::grids_bbox(d) else {
        return 200.0;
    };
    let p = gridgov_spatial::LocalProjection::new(bb[0], bb[1]);
    let (w, h) = p.to_metres(bb[2], bb[3]);
    let fit = (w.abs() * h.abs() / 2500.0).sqrt();
    if fit <= 200.0 {
        200.0
    } else {
        (fit / 50.0).ceil() * 50.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_spatial::hotspot_map::Spot;
    use gridgov_spatial::workflow::{Action, CaseState, Event, HandlingLevel};

    fn snapshot() -> Snapshot {
        let d = gridgov_spatial::sample::district(&gridgov_spatial::sample::SampleSpec::default());
        Snapshot::build(d, std::collections::HashMap::new(), 1)
    }

    /// Every incident with its own status and no history.
    fn book_of(snap: &Snapshot) -> Book {
        Book {
            cases: snap
                .district
                .incidents
                .iter()
                .enumerate()
                .map(|(i, x)| Case {
                    id: i as i64 + 1,
                    incident: x.clone(),
                    history: Vec::new(),
                    state: crate::cases::state_of(x, &[]),
                })
                .collect(),
        }
    }

    fn at(s: &str) -> gridgov_spatial::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_weekly_report_of_the_sample_adds_up() {
        let snap = snapshot();
        let p = Period::parse("2026-W40").unwrap();
        let r = build(
            &snap,
            &book_of(&snap),
            &[],
            &DeadlineRules::default(),
            p,
            at("2026-10-05T09:00:00+08:00"),
            &ReportOptions::default(),
        )
        .unwrap();
        assert_eq!(r.period.label(), "2026-W40");
        assert_eq!(r.previous.label(), "2026-W39");
        assert!(r.totals.incidents > 50, "{:?}", r.totals);
        assert_eq!(
            r.daily.iter().map(|d| d.incidents).sum::<usize>(),
            r.totals.incidents
        );
        assert_eq!(
            r.daily.iter().filter_map(|d| d.previous).sum::<usize>(),
            r.totals.previous
        );
        assert_eq!(
            r.categories.iter().map(|c| c.incidents).sum::<usize>(),
            r.totals.incidents
        );
        assert_eq!(
            r.communities.iter().map(|c| c.incidents).sum::<usize>(),
            r.totals.incidents
        );
        assert_eq!(
            r.totals.closed + r.totals.open,
            r.totals.incidents - rejected(&snap, p)
        );
        assert!(r.top_grids.len() <= 10);
        assert!(
            r.top_grids
                .windows(2)
                .all(|w| w[0].incidents >= w[1].incidents)
        );
        assert_eq!(r.hotspots.len(), snap.district.grids().count());
        assert!(
            r.hotspots
                .windows(2)
                .all(|w| w[0].unit.gi.z >= w[1].unit.gi.z)
        );
        assert_eq!(r.lattice.cells.len(), r.lattice.cols * r.lattice.rows);
        assert_eq!(r.lattice.cell_m, 200.0);
        // The sample's open cases from the autumn are overdue by October.
        assert!(!r.overdue.is_empty());
        assert!(
            r.overdue
                .windows(2)
                .all(|w| w[0].hours_over >= w[1].hours_over)
        );
        assert_eq!(r.totals.overdue_now, r.overdue.len());
        // The assessment: the best ranked grids, in order; each counts the
        // week's cases of its grid.
        assert!(!r.assessment.is_empty() && r.assessment.len() <= 10);
        assert!(
            r.assessment
                .iter()
                .enumerate()
                .all(|(k, g)| g.rank == Some(k + 1) && g.cases > 0)
        );
        let html = html::page(&r, &snap);
        assert!(html.contains("网格考核排名") && html.contains("class=\"assessment\""));
        assert!(html.contains(&format!(
            "{} {}",
            r.assessment[0].code, r.assessment[0].name
        )));
    }

    /// The sample's October report, judged on 2 November.
    fn october() -> (Snapshot, Report) {
        let snap = snapshot();
        let r = build(
            &snap,
            &book_of(&snap),
            &[],
            &DeadlineRules::default(),
            Period::parse("2026-10").unwrap(),
            at("2026-11-02T09:00:00+08:00"),
            &ReportOptions::default(),
        )
        .unwrap();
        (snap, r)
    }

    #[test]
    fn the_summary_names_totals_change_top_categories_grids_and_overdue() {
        let (_, r) = october();
        let zh = html::summary(&r, gridgov_spatial::i18n::Lang::Zh);
        let t = &r.totals;
        assert!(
            zh.starts_with(&format!(
                "本期共上报事件 {} 件，较上期（{} 件）",
                t.incidents, t.previous
            )),
            "{zh}"
        );
        let top = &r.categories[0];
        assert!(
            zh.contains(&format!(
                "{}（{}）",
                gridgov_spatial::i18n::category(gridgov_spatial::i18n::Lang::Zh, &top.category),
                top.incidents
            )),
            "{zh}"
        );
        assert!(
            zh.contains(&format!(
                "{}（{}）",
                r.top_grids[0].name, r.top_grids[0].incidents
            )),
            "{zh}"
        );
        assert!(
            zh.contains(&format!(
                "本期内有 {} 件案件超过办理期限，目前仍超期 {} 件",
                t.overdue_in_period, t.overdue_now
            )),
            "{zh}"
        );
        let en = html::summary(&r, gridgov_spatial::i18n::Lang::En);
        assert!(
            en.starts_with(&format!("{} incidents were reported", t.incidents)),
            "{en}"
        );
        assert!(!en.contains('（'), "{en}");
    }

    #[test]
    fn a_case_escalated_for_being_late_still_counts_as_overdue_in_its_period() {
        use gridgov_spatial::workflow::{Action, CaseState, HandlingLevel};
        let rules = DeadlineRules::default();
        let x = gridgov_spatial::Incident {
            location: geo::Point::new(117.55, 34.86),
            reported_at: at("2026-10-05T09:00:00+08:00"),
            category: "noise".into(),
            source: gridgov_spatial::IncidentSource::Wechat,
            status: gridgov_spatial::IncidentStatus::Reported,
            description: String::new(),
            filed_by: None,
            reporter: None,
        };
        let s0 = CaseState::reported(x.reported_at);
        let due = rules.deadline("noise", &s0).unwrap();
        // The timer moved it up an hour after its deadline: a new level,
        // a new clock, not overdue any more.
        let esc_at = gridgov_spatial::time::from_epoch(due.as_second() + 3600);
        let history = vec![gridgov_spatial::workflow::Event {
            seq: 1,
            at: esc_at,
            actor: "system".into(),
            from: gridgov_spatial::IncidentStatus::Reported,
            to: gridgov_spatial::IncidentStatus::Reported,
            level: HandlingLevel::Community,
            action: Action::Escalate,
            note: String::new(),
            photos: Vec::new(),
        }];
        let c = Case {
            id: 1,
            state: crate::cases::state_of(&x, &history),
            incident: x,
            history,
        };
        let now = gridgov_spatial::time::from_epoch(esc_at.as_second() + 60);
        assert!(
            rules.overdue("noise", &c.state, now).is_none(),
            "not overdue now"
        );
        let (from, to) = (
            at("2026-10-01T00:00:00+08:00"),
            at("2026-11-01T00:00:00+08:00"),
        );
        assert!(
            overdue::overdue_during(&rules, &c, from, to, now),
            "but it was, in October"
        );
        // A period that ended before its deadline: not overdue then.
        assert!(!overdue::overdue_during(&rules, &c, from, due, now));
        // A period after the escalation, while within the new deadline: no.
        assert!(!overdue::overdue_during(&rules, &c, esc_at, now, now));
    }

    #[test]
    fn the_pdf_is_a4_pages_with_the_font_subset_embedded_and_mapped_to_unicode() {
        let Some(font) = pdf::test_font() else { return };
        let (snap, r) = october();
        let bytes = pdf::document(&r, &snap, gridgov_spatial::i18n::Lang::Zh, &font, None).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(bytes.starts_with(b"%PDF-1.7"));
        assert!(text.trim_end().ends_with("%%EOF"));
        assert!(text.contains("/MediaBox [0 0 595.28 841.89]"));
        let pages: usize = text
            .split("/Count ")
            .nth(1)
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(pages >= 3, "{pages} pages");
        assert!(text.contains("/Identity-H") && text.contains("/ToUnicode"));
        assert!(text.contains("/FontFile2") || text.contains("/FontFile3"));
        // The ToUnicode map names the characters of the headings.
        for c in "摘要事件热点".chars() {
            assert!(
                text.contains(&format!("<{:04X}>", u32::from(c))),
                "{c} is not in the ToUnicode map"
            );
        }
        // A subset: far smaller than the CJK font file it came from.
        assert!(bytes.len() < 2_000_000, "{} bytes", bytes.len());
        // The English document carries English headings.
        let en = pdf::document(&r, &snap, gridgov_spatial::i18n::Lang::En, &font, None).unwrap();
        assert_ne!(en, bytes);
    }

    #[test]
    fn the_html_page_is_self_contained_and_shows_every_part() {
        let (snap, r) = october();
        let page = html::page(&r, &snap);
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("<html lang=\"zh-CN\">"));
        for part in [
            "摘要",
            "事件聚集区域",
            "趋势",
            "类别",
            "事件最多的网格",
            "热点分析",
            "当前超期案件",
        ] {
            assert!(page.contains(&format!("<h2>{part}")), "{part}");
        }
        // Categories by their Chinese names (codes only in the JSON), the
        // summary paragraph, axis units, the A4 print layout.
        assert!(page.contains("<td>占道经营</td>") && !page.contains("<td>street_vending</td>"));
        assert!(page.contains("<p class=\"summary\">本期共上报事件"));
        assert!(page.contains(">件</text>"));
        assert!(page.contains("@page{size:A4") && page.contains("counter(page)"));
        let en = html::page_in(&r, &snap, gridgov_spatial::i18n::Lang::En, None);
        for part in [
            "Summary",
            "Where incidents cluster",
            "Trend",
            "Categories",
            "Top grids",
            "Hot spots",
            "Overdue cases now",
        ] {
            assert!(en.contains(&format!("<h2>{part}")), "{part}");
        }
        assert!(en.contains("<td>street vending</td>"));
        // The heatmap is an embedded PNG, the maps inline SVG; nothing is
        // fetched from elsewhere.
        assert!(page.contains("src=\"data:image/png;base64,iVBORw0KGgo"));
        assert!(
            !page.contains("src=\"http") && !page.contains("<link") && !page.contains("<script")
        );
        // Grids on both hot-spot maps; a bar per day; the significant
        // cells, among them the sample's market clusters.
        assert_eq!(
            page.matches("<path ").count(),
            2 * snap.district.grids().count()
        );
        assert_eq!(page.matches("<rect x=").count(), 31);
        let cells: Vec<_> = r
            .lattice
            .cells
            .iter()
            .filter(|c| c.unit.spot != gridgov_spatial::hotspot_map::Spot::NotSignificant)
            .collect();
        assert_eq!(page.matches("<rect class=\"cell\"").count(), cells.len());
        assert!(
            cells
                .iter()
                .any(|c| c.unit.spot == gridgov_spatial::hotspot_map::Spot::Hot)
        );
        let top = &r.top_grids[0];
        assert!(page.contains(&format!("<td>{}</td>", top.code)));
    }

    fn rejected(snap: &Snapshot, p: Period) -> usize {
        let q = IncidentQuery::default().over(p);
        snap.district
            .incidents
            .iter()
            .filter(|x| q.matches(x) && x.status == IncidentStatus::Rejected)
            .count()
    }

    #[test]
    fn the_change_against_the_previous_period_is_in_percent() {
        assert_eq!(change(15, 10), Some(50.0));
        assert_eq!(change(5, 10), Some(-50.0));
        assert_eq!(change(3, 0), None);
        assert_eq!(change(2, 3), Some(-33.3));
    }

    #[test]
    fn satisfaction_comes_from_the_evaluations_of_the_periods_cases() {
        let snap = snapshot();
        let p = Period::parse("2026-W40").unwrap();
        let q = IncidentQuery::default().over(p);
        let mut book = book_of(&snap);
        let i = snap
            .district
            .incidents
            .iter()
            .position(|x| q.matches(x))
            .unwrap();
        let x = &snap.district.incidents[i];
        let mut s = CaseState::reported(x.reported_at);
        let mut h: Vec<Event> = Vec::new();
        for a in [
            Action::Accept,
            Action::Dispatch {
                to: gridgov_spatial::workflow::Assignee::Grid("G".into()),
            },
            Action::Handle,
            Action::Feedback,
            Action::Close,
            Action::Evaluate { satisfaction: 4 },
        ] {
            let e = s.step(&a, "t", x.reported_at, "").unwrap();
            s.apply(&e);
            h.push(e);
        }
        assert_eq!(s.level, HandlingLevel::Grid);
        book.cases[i] = Case {
            id: i as i64 + 1,
            incident: x.clone(),
            history: h,
            state: s,
        };
        let r = build(
            &snap,
            &book,
            &[],
            &DeadlineRules::default(),
            p,
            at("2026-10-05T09:00:00+08:00"),
            &ReportOptions::default(),
        )
        .unwrap();
        assert_eq!(r.totals.satisfaction, Some(4.0));
        let _ = Spot::Hot;
    }
}
