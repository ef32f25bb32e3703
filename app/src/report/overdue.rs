//! Whether a case was overdue at some moment of a period, whatever came
//! after: a case the escalation timer moved up got a new deadline, but it
//! was overdue when it was moved, and the report counts it.

use gridgov_spatial::Timestamp;
use gridgov_spatial::workflow::DeadlineRules;

use crate::cases::{Case, state_of};

/// Whether `case` was past its deadline at some moment in `[from, to)`
/// (and before `now`): each state its history passed through is open
/// from its step to the next one, and due at the rules' deadline for it.
///
/// ```
/// use gridgov_app::cases::{Case, state_of};
/// use gridgov_app::report::overdue::overdue_during;
/// use gridgov_spatial::{Incident, IncidentSource, IncidentStatus, Timestamp};
/// use gridgov_spatial::workflow::DeadlineRules;
/// let t = |s: &str| s.parse::<Timestamp>().unwrap();
/// let x = Incident {
///     location: geo::Point::new(117.55, 34.86), reported_at: t("2026-11-02T08:00:00+08:00"),
///     category: "noise".into(), source: IncidentSource::Wechat, status: IncidentStatus::Reported,
///     description: String::new(), filed_by: None, reporter: None,
/// };
/// let c = Case { id: 1, state: state_of(&x, &[]), incident: x, history: vec![] };
/// let rules = DeadlineRules::default();
/// let due = rules.deadline("noise", &c.state).unwrap();
/// let after = gridgov_spatial::time::from_epoch(due.as_second() + 3600);
/// assert!(overdue_during(&rules, &c, t("2026-11-01T00:00:00+08:00"), after, after));
/// assert!(!overdue_during(&rules, &c, t("2026-11-01T00:00:00+08:00"), due, after));
/// ```
pub fn overdue_during(
    rules: &DeadlineRules,
    case: &Case,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> bool {
    if case.state.merged_into.is_some() {
        return false;
    }
    let end = to.min(now);
    let h = &case.history;
    (0..=h.len()).any(|k| {
        let state = state_of(&case.incident, &h[..k]);
        let Some(due) = rules.deadline(&case.incident.category, &state) else {
            return false;
        };
        // Overdue from the deadline until the next step (or now).
        let until = h.get(k).map_or(end, |e| e.at.min(end));
        due.max(from) < until
    })
}
