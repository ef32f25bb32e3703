//! The command center's key figures for one day: new, open, overdue,
//! closed, satisfaction. Computed from the cases as they are in the store
//! (their states and histories), the same way `GET /incidents` filters
//! them, so the tiles on the screen and the lists behind them agree.

use gridgov_spatial::time::{local_day, start_of_day};
use gridgov_spatial::workflow::{Action, DeadlineRules};
use gridgov_spatial::{IncidentStatus, Timestamp};
use serde::Serialize;

use crate::cases::Case;

/// Satisfaction is averaged over the evaluations of this many days.
pub const SATISFACTION_DAYS: i64 = 30;

/// The key figures at a moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    /// The local day they are for (`YYYY-MM-DD`).
    pub day: String,
    /// Cases reported that day.
    pub new_today: usize,
    /// Cases open now (reported, accepted, dispatched, handled, feedback;
    /// merged duplicates not counted).
    pub open: usize,
    /// Open cases past their deadline now.
    pub overdue: usize,
    /// Cases closed that day (the close step, whatever came after).
    pub closed_today: usize,
    /// Mean satisfaction (1–5) of the evaluations in the last
    /// [`SATISFACTION_DAYS`] days, if any.
    pub satisfaction: Option<f64>,
    /// How many evaluations that mean is of.
    pub evaluations: usize,
}

/// The figures of `cases` at `now` (local days at `utc_offset_s`).
///
/// ```
/// use gridgov_app::cases::{Case, state_of};
/// use gridgov_app::overview::overview;
/// use gridgov_spatial::{Incident, IncidentSource, IncidentStatus};
/// use gridgov_spatial::workflow::DeadlineRules;
/// let now: gridgov_spatial::Timestamp = "2026-11-02T10:00:00+08:00".parse().unwrap();
/// let x = Incident {
///     location: geo::Point::new(117.55, 34.86),
///     reported_at: "2026-11-02T08:30:00+08:00".parse().unwrap(),
///     category: "noise".into(), source: IncidentSource::Wechat,
///     status: IncidentStatus::Reported, description: String::new(), filed_by: None, reporter: None,
/// };
/// let c = Case { id: 1, state: state_of(&x, &[]), incident: x, history: vec![] };
/// let o = overview(&[c], &DeadlineRules::default(), now, 8 * 3600);
/// assert_eq!((o.new_today, o.open, o.closed_today, o.day.as_str()), (1, 1, 0, "2026-11-02"));
/// ```
pub fn overview(
    cases: &[Case],
    rules: &DeadlineRules,
    now: Timestamp,
    utc_offset_s: i64,
) -> Overview {
    let today = local_day(now, utc_offset_s);
    let since = start_of_day(today - SATISFACTION_DAYS + 1, utc_offset_s)
        .map_or(i64::MIN, Timestamp::as_second);
    let mut o = Overview {
        day: gridgov_spatial::time::date_of_day(today).to_string(),
        new_today: 0,
        open: 0,
        overdue: 0,
        closed_today: 0,
        satisfaction: None,
        evaluations: 0,
    };
    let mut rated = 0u64;
    for c in cases {
        if c.state.merged_into.is_some() || c.state.status == IncidentStatus::Merged {
            continue;
        }
        if local_day(c.incident.reported_at, utc_offset_s) == today {
            o.new_today += 1;
        }
        if c.state.status.is_open() {
            o.open += 1;
            if rules.overdue(&c.incident.category, &c.state, now).is_some() {
                o.overdue += 1;
            }
        }
        for e in &c.history {
            match e.action {
                Action::Close if local_day(e.at, utc_offset_s) == today => o.closed_today += 1,
                Action::Evaluate { satisfaction } if e.at.as_second() >= since => {
                    rated += u64::from(satisfaction);
                    o.evaluations += 1;
                }
                _ => {}
            }
        }
    }
    if o.evaluations > 0 {
        o.satisfaction = Some(rated as f64 / o.evaluations as f64);
    }
    o
}
