//! Assessment (考核): how each grid and each staff member did in a period —
//! the figures the streets compare and rank their grids by.
//!
//! # What is counted
//! The cases of a period are those reported in it (its local days), not
//! merged into another case, in the grid they are placed in now. For each
//! grid:
//! - `cases`; `handled` (a handling step recorded) and `closed` (closed
//!   or evaluated);
//! - the hours from the report to the first acceptance, the first
//!   dispatch and the closing, as the median and the 90th percentile of
//!   the cases that got there (percentiles interpolate between the two
//!   nearest ranks, as a spreadsheet's `PERCENTILE` does);
//! - `overdue_rate`: the share of cases that were past a deadline at some
//!   moment between their report and now;
//! - `reopen_rate`: the share of dispatched cases that were dispatched
//!   again (sent back and re-dispatched: 退回重派);
//! - `satisfaction`: the mean of the residents' evaluations (1–5);
//! - `visits`: household visits made on the period's days to the
//!   households of the grid.
//!
//! For each staff member (each account that took a step; the timer's
//! `system` and the residents are not staff): the cases they acted on,
//! how many they accepted, dispatched, handled and closed, the hours from
//! report to their acceptances and from dispatch to their handling, the
//! overdue and reopen rates and the mean satisfaction of the cases they
//! handled, and the visits they made.
//!
//! # The ranking
//! A grid's score (0–100) is the weighted mean of the parts it has:
//! closed share 30 %, on time (1 − overdue rate) 30 %, satisfaction
//! ((s − 1) / 4) 20 %, not reopened (1 − reopen rate) 20 %; a part with
//! nothing to measure (no evaluation, nothing dispatched) is left out and
//! the others weigh the more. Grids are ranked by score, then by cases
//! (more first), then by code; a grid without cases has no score and no
//! rank. Staff are scored alike on their handled cases — on time 40 %,
//! satisfaction 40 %, not reopened 20 % — and ranked by score, then by
//! cases handled, then by name.

use std::collections::{BTreeMap, HashMap, HashSet};

use gridgov_spatial::period::{Period, local_day};
use gridgov_spatial::workflow::{Action, DeadlineRules};
use gridgov_spatial::{AreaId, Level, Timestamp};
use serde::Serialize;

use crate::Snapshot;
use crate::cases::Book;
use crate::report::overdue::overdue_during;
use crate::visits::Visit;

/// Actors that are not staff: the escalation timer and the residents.
const NOT_STAFF: [&str; 2] = ["system", crate::resident::RESIDENT];

/// The median and 90th percentile of some durations, in hours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hours {
    /// How many durations.
    pub n: usize,
    /// Their median.
    pub median: Option<f64>,
    /// Their 90th percentile.
    pub p90: Option<f64>,
}

impl Hours {
    /// Of `xs` (hours, any order).
    ///
    /// ```
    /// use gridgov_app::report::assessment::Hours;
    /// let h = Hours::of(vec![1.0, 2.0, 3.0, 4.0, 10.0]);
    /// assert_eq!((h.n, h.median, h.p90), (5, Some(3.0), Some(7.6)));
    /// assert_eq!(Hours::of(vec![]).median, None);
    /// ```
    pub fn of(mut xs: Vec<f64>) -> Hours {
        xs.sort_by(f64::total_cmp);
        Hours {
            n: xs.len(),
            median: percentile(&xs, 0.5),
            p90: percentile(&xs, 0.9),
        }
    }
}

/// The `q` quantile of sorted `xs`, interpolated between the nearest
/// ranks; rounded to 0.01 h.
fn percentile(xs: &[f64], q: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let pos = q * (xs.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let v = xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64);
    Some(round2(v))
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn rate(n: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| (n as f64 / of as f64 * 10_000.0).round() / 10_000.0)
}

/// The weighted mean of the parts present, 0–100.
fn score(parts: &[(f64, Option<f64>)]) -> Option<f64> {
    let (w, s) = parts
        .iter()
        .filter_map(|(w, v)| v.map(|v| (*w, w * v)))
        .fold((0.0, 0.0), |(a, b), (w, x)| (a + w, b + x));
    (w > 0.0).then(|| (s / w * 1000.0).round() / 10.0)
}

/// One grid's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridAssessment {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its community's name.
    pub community: String,
    /// Cases reported in the period.
    pub cases: usize,
    /// Of them, with a handling step.
    pub handled: usize,
    /// Of them, closed (or evaluated).
    pub closed: usize,
    /// Report → first acceptance.
    pub to_accept: Hours,
    /// Report → first dispatch.
    pub to_dispatch: Hours,
    /// Report → closing.
    pub to_close: Hours,
    /// Cases past a deadline at some moment.
    pub overdue: usize,
    /// `overdue / cases`.
    pub overdue_rate: Option<f64>,
    /// Cases dispatched at least once.
    pub dispatched: usize,
    /// Of them, dispatched again.
    pub reopened: usize,
    /// `reopened / dispatched`.
    pub reopen_rate: Option<f64>,
    /// Evaluations given.
    pub evaluated: usize,
    /// Their mean (1–5).
    pub satisfaction: Option<f64>,
    /// Household visits made in the period.
    pub visits: usize,
    /// The score (0–100).
    pub score: Option<f64>,
    /// The place in the ranking, from 1.
    pub rank: Option<usize>,
}

/// One staff member's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffAssessment {
    /// The account.
    pub user: String,
    /// The grids of the cases they acted on, by code.
    pub grids: Vec<String>,
    /// Cases they took a step on.
    pub cases: usize,
    /// Acceptances.
    pub accepted: usize,
    /// Dispatches.
    pub dispatched: usize,
    /// Handling steps.
    pub handled: usize,
    /// Closings.
    pub closed: usize,
    /// Report → their acceptance.
    pub to_accept: Hours,
    /// Dispatch → their handling.
    pub to_handle: Hours,
    /// Of the cases they handled, past a deadline at some moment.
    pub overdue_rate: Option<f64>,
    /// Of the cases they handled, dispatched again.
    pub reopen_rate: Option<f64>,
    /// Mean evaluation of the cases they handled.
    pub satisfaction: Option<f64>,
    /// Household visits they made in the period.
    pub visits: usize,
    /// The score (0–100).
    pub score: Option<f64>,
    /// The place in the ranking, from 1.
    pub rank: Option<usize>,
}

/// The assessment of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// The period.
    pub period: Period,
    /// When it was made (the overdue figures run to here).
    pub generated_at: Timestamp,
    /// Every grid, in the order of the ranking (unranked last, by code).
    pub grids: Vec<GridAssessment>,
    /// Every staff member who acted on a case or made a visit, ranked.
    pub staff: Vec<StaffAssessment>,
}

#[derive(Default)]
struct GridAcc {
    cases: usize,
    handled: usize,
    closed: usize,
    accept: Vec<f64>,
    dispatch: Vec<f64>,
    close: Vec<f64>,
    overdue: usize,
    dispatched: usize,
    reopened: usize,
    scores: Vec<f64>,
    visits: usize,
}

#[derive(Default)]
struct StaffAcc {
    grids: std::collections::BTreeSet<String>,
    cases: HashSet<i64>,
    accepted: usize,
    dispatched: usize,
    handled_cases: HashSet<i64>,
    closed: usize,
    accept: Vec<f64>,
    handle: Vec<f64>,
    overdue: usize,
    reopened: usize,
    scores: Vec<f64>,
    visits: usize,
}

fn hours(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_second() - from.as_second()) as f64 / 3600.0
}

/// Assesses every grid and staff member for `period` from the snapshot
/// (where cases and households are), the case book, the household visits
/// and the deadline rules, with overdue counted up to `now`.
///
/// ```
/// use gridgov_app::{Snapshot, cases::Book};
/// use gridgov_app::report::assessment::assess;
/// use gridgov_spatial::period::Period;
/// let s = Snapshot::build(gridgov_spatial::sample::district(&Default::default()), Default::default(), 1);
/// let book = Book { cases: vec![] };
/// let now = "2026-12-01T00:00:00+08:00".parse().unwrap();
/// let a = assess(&s, &book, &[], &Default::default(), Period::parse("2026-11").unwrap(), now, 8 * 3600);
/// assert_eq!(a.grids.len(), s.district.grids().count());
/// assert!(a.grids.iter().all(|g| g.cases == 0 && g.rank.is_none()));
/// ```
pub fn assess(
    snap: &Snapshot,
    book: &Book,
    visits: &[Visit],
    rules: &DeadlineRules,
    period: Period,
    now: Timestamp,
    utc_offset_s: i64,
) -> Assessment {
    let d = &snap.district;
    let a = &snap.assignment;
    let mut grids: HashMap<AreaId, GridAcc> = HashMap::new();
    let mut staff: BTreeMap<String, StaffAcc> = BTreeMap::new();
    for c in &book.cases {
        if c.state.merged_into.is_some()
            || !period.contains(local_day(c.incident.reported_at, utc_offset_s))
        {
            continue;
        }
        let Some(g) = usize::try_from(c.id - 1)
            .ok()
            .and_then(|i| a.incidents.get(i))
            .and_then(|p| p.responsible())
        else {
            continue;
        };
        let code = d.area(g).code.clone();
        let reported = c.incident.reported_at;
        let first = |want: &str| c.history.iter().find(|e| e.action.name() == want);
        let dispatches: Vec<_> = c
            .history
            .iter()
            .filter(|e| matches!(e.action, Action::Dispatch { .. }))
            .collect();
        let reopened = dispatches.len() > 1;
        let overdue = overdue_during(rules, c, reported, now, now);
        let satisfaction = c.history.iter().rev().find_map(|e| match e.action {
            Action::Evaluate { satisfaction } => Some(f64::from(satisfaction)),
            _ => None,
        });
        let acc = grids.entry(g).or_default();
        acc.cases += 1;
        acc.handled += usize::from(first("handle").is_some());
        acc.closed += usize::from(first("close").is_some());
        if let Some(e) = first("accept") {
            acc.accept.push(hours(reported, e.at));
        }
        if let Some(e) = dispatches.first() {
            acc.dispatch.push(hours(reported, e.at));
            acc.dispatched += 1;
            acc.reopened += usize::from(reopened);
        }
        if let Some(e) = first("close") {
            acc.close.push(hours(reported, e.at));
        }
        acc.overdue += usize::from(overdue);
        acc.scores.extend(satisfaction);
        // Each staff member's part.
        let mut last_dispatch: Option<Timestamp> = None;
        for e in &c.history {
            if NOT_STAFF.contains(&e.actor.as_str()) {
                if matches!(e.action, Action::Dispatch { .. }) {
                    last_dispatch = Some(e.at);
                }
                continue;
            }
            let s = staff.entry(e.actor.clone()).or_default();
            s.grids.insert(code.clone());
            s.cases.insert(c.id);
            match e.action {
                Action::Accept => {
                    s.accepted += 1;
                    s.accept.push(hours(reported, e.at));
                }
                Action::Dispatch { .. } => {
                    s.dispatched += 1;
                    last_dispatch = Some(e.at);
                }
                Action::Handle if s.handled_cases.insert(c.id) => {
                    if let Some(t) = last_dispatch {
                        s.handle.push(hours(t, e.at));
                    }
                    s.overdue += usize::from(overdue);
                    s.reopened += usize::from(reopened);
                    s.scores.extend(satisfaction);
                }
                Action::Close => s.closed += 1,
                _ => {}
            }
        }
    }
    for v in visits {
        let Some(day) = gridgov_spatial::period::parse_date(&v.date) else {
            continue;
        };
        if !period.contains(day) {
            continue;
        }
        let g = usize::try_from(v.household)
            .ok()
            .and_then(|h| h.checked_sub(1))
            .and_then(|h| a.households.get(h))
            .and_then(|p| p.responsible());
        if let Some(g) = g {
            grids.entry(g).or_default().visits += 1;
            if !NOT_STAFF.contains(&v.by.as_str()) {
                let s = staff.entry(v.by.clone()).or_default();
                s.visits += 1;
                s.grids.insert(d.area(g).code.clone());
            }
        }
    }
    let community_of = |g: AreaId| {
        d.chain(g)
            .into_iter()
            .map(|x| d.area(x))
            .find(|x| x.level == Level::Community)
            .map_or_else(String::new, |x| x.name.clone())
    };
    let mean =
        |xs: &[f64]| (!xs.is_empty()).then(|| round2(xs.iter().sum::<f64>() / xs.len() as f64));
    let mut rows: Vec<GridAssessment> = d
        .grids()
        .map(|g| {
            let acc = grids.remove(&g).unwrap_or_default();
            let overdue_rate = rate(acc.overdue, acc.cases);
            let reopen_rate = rate(acc.reopened, acc.dispatched);
            let satisfaction = mean(&acc.scores);
            let score = (acc.cases > 0)
                .then(|| {
                    score(&[
                        (0.3, rate(acc.closed, acc.cases)),
                        (0.3, overdue_rate.map(|r| 1.0 - r)),
                        (0.2, satisfaction.map(|s| (s - 1.0) / 4.0)),
                        (0.2, reopen_rate.map(|r| 1.0 - r)),
                    ])
                })
                .flatten();
            GridAssessment {
                code: d.area(g).code.clone(),
                name: d.area(g).name.clone(),
                community: community_of(g),
                cases: acc.cases,
                handled: acc.handled,
                closed: acc.closed,
                to_accept: Hours::of(acc.accept),
                to_dispatch: Hours::of(acc.dispatch),
                to_close: Hours::of(acc.close),
                overdue: acc.overdue,
                overdue_rate,
                dispatched: acc.dispatched,
                reopened: acc.reopened,
                reopen_rate,
                evaluated: acc.scores.len(),
                satisfaction,
                visits: acc.visits,
                score,
                rank: None,
            }
        })
        .collect();
    rows.sort_by(|x, y| {
        y.score
            .unwrap_or(-1.0)
            .total_cmp(&x.score.unwrap_or(-1.0))
            .then(y.cases.cmp(&x.cases))
            .then_with(|| x.code.cmp(&y.code))
    });
    for (k, r) in rows.iter_mut().filter(|r| r.score.is_some()).enumerate() {
        r.rank = Some(k + 1);
    }
    let mut people: Vec<StaffAssessment> = staff
        .into_iter()
        .map(|(user, s)| {
            let handled = s.handled_cases.len();
            let overdue_rate = rate(s.overdue, handled);
            let reopen_rate = rate(s.reopened, handled);
            let satisfaction = mean(&s.scores);
            StaffAssessment {
                user,
                grids: s.grids.into_iter().collect(),
                cases: s.cases.len(),
                accepted: s.accepted,
                dispatched: s.dispatched,
                handled,
                closed: s.closed,
                to_accept: Hours::of(s.accept),
                to_handle: Hours::of(s.handle),
                overdue_rate,
                reopen_rate,
                satisfaction,
                visits: s.visits,
                score: score(&[
                    (0.4, overdue_rate.map(|r| 1.0 - r)),
                    (0.4, satisfaction.map(|s| (s - 1.0) / 4.0)),
                    (0.2, reopen_rate.map(|r| 1.0 - r)),
                ]),
                rank: None,
            }
        })
        .collect();
    people.sort_by(|x, y| {
        y.score
            .unwrap_or(-1.0)
            .total_cmp(&x.score.unwrap_or(-1.0))
            .then(y.handled.cmp(&x.handled))
            .then_with(|| x.user.cmp(&y.user))
    });
    for (k, r) in people.iter_mut().filter(|r| r.score.is_some()).enumerate() {
        r.rank = Some(k + 1);
    }
    Assessment {
        period,
        generated_at: now,
        grids: rows,
        staff: people,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::{Case, state_of};
    use gridgov_spatial::workflow::{Assignee, Event, HandlingLevel};
    use gridgov_spatial::{
        Area, Building, District, GridKind, Household, Incident, IncidentSource,
        IncidentStatus as S, Unit,
    };

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn plus(t0: Timestamp, h: f64) -> Timestamp {
        gridgov_spatial::time::from_epoch(t0.as_second() + (h * 3600.0) as i64)
    }

    fn square(x0: f64) -> geo::MultiPolygon<f64> {
        let ring = vec![
            (x0, 34.0),
            (x0 + 0.01, 34.0),
            (x0 + 0.01, 34.01),
            (x0, 34.01),
            (x0, 34.0),
        ];
        geo::MultiPolygon(vec![geo::Polygon::new(ring.into(), vec![])])
    }

    /// A street, a community and two grids side by side, one household in
    /// the first.
    fn district() -> District {
        let mut d = District::new("t");
        let s = d.add_area(Area::new(Level::Street, "370402005", "街道"));
        let mut c = Area::new(Level::Community, "370402005001", "光明社区");
        c.parent = Some(s);
        let c = d.add_area(c);
        for (k, x0) in [(1, 117.0), (2, 117.01)] {
            let mut g = Area::new(
                Level::Grid,
                format!("37040200500100{k}"),
                format!("第{k}网格"),
            );
            g.parent = Some(c);
            g.kind = Some(GridKind::Basic);
            g.boundary = square(x0);
            d.add_area(g);
        }
        d.buildings.push_back(Building {
            code: "B1".into(),
            address: "光明路1号".into(),
            floors: 6,
            footprint: square(117.004),
            source: None,
            leaders: Vec::new(),
        });
        d.units.push_back(Unit {
            building: gridgov_spatial::BuildingId(0),
            label: "1".into(),
            location: geo::Point::new(117.005, 34.005),
            households: 1,
        });
        d.households.push_back(Household {
            unit: gridgov_spatial::UnitId(0),
            room: "101".into(),
            headcount: 3,
            head_name: None,
            phone: None,
            id_number: None,
        });
        d
    }

    struct Steps {
        t0: Timestamp,
        status: S,
        events: Vec<Event>,
    }

    impl Steps {
        fn new(t0: Timestamp) -> Steps {
            Steps {
                t0,
                status: S::Reported,
                events: Vec::new(),
            }
        }
        fn step(mut self, h: f64, actor: &str, to: S, action: Action) -> Steps {
            self.events.push(Event {
                seq: self.events.len() as u32 + 1,
                at: plus(self.t0, h),
                actor: actor.into(),
                from: self.status,
                to,
                level: HandlingLevel::Grid,
                action,
                note: String::new(),
                photos: Vec::new(),
            });
            self.status = to;
            self
        }
    }

    fn dispatch() -> Action {
        Action::Dispatch {
            to: Assignee::Grid("370402005001001".into()),
        }
    }

    fn incident(lon: f64, at: Timestamp, status: S) -> Incident {
        Incident {
            location: geo::Point::new(lon, 34.005),
            reported_at: at,
            category: "environment".into(),
            source: IncidentSource::Hotline12345,
            status,
            description: String::new(),
            filed_by: None,
            reporter: None,
        }
    }

    #[test]
    fn the_figures_of_a_small_fixture_are_the_hand_computed_ones() {
        let mut d = district();
        let (g1, g2) = (117.002, 117.015);
        let r1 = t("2026-11-02T08:00:00+08:00");
        let r2 = t("2026-11-03T08:00:00+08:00");
        let r3 = t("2026-11-04T08:00:00+08:00");
        let r4 = t("2026-10-30T08:00:00+08:00");
        let r5 = t("2026-11-10T08:00:00+08:00");
        let r6 = t("2026-11-05T08:00:00+08:00");
        let histories = vec![
            (
                g1,
                r1,
                Steps::new(r1)
                    .step(1.0, "wang", S::Accepted, Action::Accept)
                    .step(2.0, "wang", S::Dispatched, dispatch())
                    .step(10.0, "li", S::Handled, Action::Handle)
                    .step(12.0, "wang", S::Feedback, Action::Feedback)
                    .step(20.0, "wang", S::Closed, Action::Close)
                    .step(
                        30.0,
                        "resident",
                        S::Evaluated,
                        Action::Evaluate { satisfaction: 5 },
                    ),
            ),
            // Sent back once; 28 hours dispatched: overdue.
            (
                g1,
                r2,
                Steps::new(r2)
                    .step(3.0, "wang", S::Accepted, Action::Accept)
                    .step(4.0, "wang", S::Dispatched, dispatch())
                    .step(6.0, "wang", S::Dispatched, dispatch())
                    .step(32.0, "li", S::Handled, Action::Handle)
                    .step(40.0, "wang", S::Feedback, Action::Feedback)
                    .step(50.0, "wang", S::Closed, Action::Close)
                    .step(
                        60.0,
                        "resident",
                        S::Evaluated,
                        Action::Evaluate { satisfaction: 3 },
                    ),
            ),
            // Accepted and left: overdue by now.
            (
                g1,
                r3,
                Steps::new(r3).step(5.0, "wang", S::Accepted, Action::Accept),
            ),
            // Before the period.
            (
                g2,
                r4,
                Steps::new(r4).step(1.0, "zhao", S::Accepted, Action::Accept),
            ),
            (
                g2,
                r5,
                Steps::new(r5).step(
                    1.0,
                    "zhao",
                    S::Rejected,
                    Action::Reject {
                        reason: "重复".into(),
                    },
                ),
            ),
            // A duplicate merged into case 1: not counted.
            (
                g1,
                r6,
                Steps::new(r6).step(1.0, "wang", S::Merged, Action::Merge { into: 1 }),
            ),
        ];
        let mut cases = Vec::new();
        for (k, (lon, at, steps)) in histories.into_iter().enumerate() {
            let x = incident(lon, at, steps.status);
            d.incidents.push_back(x.clone());
            cases.push(Case {
                id: k as i64 + 1,
                state: state_of(&x, &steps.events),
                incident: x,
                history: steps.events,
            });
        }
        let snap = Snapshot::build(d, HashMap::new(), 1);
        let visit = |id: i64, date: &str, by: &str| Visit {
            id,
            household: 1,
            date: date.into(),
            by: by.into(),
            note: String::new(),
            photo: None,
            recorded_at: t("2026-11-05T10:00:00+08:00"),
        };
        let visits = [visit(1, "2026-11-05", "li"), visit(2, "2026-10-20", "li")];
        let now = t("2026-12-01T00:00:00+08:00");
        let a = assess(
            &snap,
            &Book { cases },
            &visits,
            &DeadlineRules::default(),
            Period::parse("2026-11").unwrap(),
            now,
            8 * 3600,
        );
        let h = |n, median, p90| Hours { n, median, p90 };
        assert_eq!(
            a.grids[0],
            GridAssessment {
                code: "370402005001001".into(),
                name: "第1网格".into(),
                community: "光明社区".into(),
                cases: 3,
                handled: 2,
                closed: 2,
                to_accept: h(3, Some(3.0), Some(4.6)),
                to_dispatch: h(2, Some(3.0), Some(3.8)),
                to_close: h(2, Some(35.0), Some(47.0)),
                overdue: 2,
                overdue_rate: Some(0.6667),
                dispatched: 2,
                reopened: 1,
                reopen_rate: Some(0.5),
                evaluated: 2,
                satisfaction: Some(4.0),
                visits: 1,
                score: Some(55.0),
                rank: Some(1),
            }
        );
        let g = &a.grids[1];
        assert_eq!(
            (
                g.code.as_str(),
                g.cases,
                g.handled,
                g.overdue_rate,
                g.reopen_rate,
                g.satisfaction
            ),
            ("370402005001002", 1, 0, Some(0.0), None, None)
        );
        // Closed share 0 and on time 1, the parts with nothing to measure left out.
        assert_eq!((g.score, g.rank), (Some(50.0), Some(2)));

        let users: Vec<&str> = a.staff.iter().map(|s| s.user.as_str()).collect();
        assert_eq!(users, ["li", "wang", "zhao"]);
        let li = &a.staff[0];
        assert_eq!(
            (
                li.cases,
                li.handled,
                li.visits,
                li.overdue_rate,
                li.reopen_rate,
                li.satisfaction
            ),
            (2, 2, 1, Some(0.5), Some(0.5), Some(4.0))
        );
        assert_eq!(li.to_handle, h(2, Some(17.0), Some(24.2)));
        assert_eq!((li.score, li.rank), (Some(60.0), Some(1)));
        let wang = &a.staff[1];
        assert_eq!(
            (
                wang.cases,
                wang.accepted,
                wang.dispatched,
                wang.handled,
                wang.closed
            ),
            (3, 3, 3, 0, 2)
        );
        assert_eq!(wang.to_accept, h(3, Some(3.0), Some(4.6)));
        assert_eq!((wang.score, wang.rank), (None, None));
        assert_eq!(a.staff[2].grids, ["370402005001002"]);
    }
}
