//! The closed loop of a case: reported → accepted (or rejected with a
//! reason) → dispatched → handled → feedback → closed → evaluated
//! (satisfaction 1–5). Every step is an [`Event`] appended to the case's
//! history; nothing is overwritten. An illegal step is refused with the
//! steps that are allowed from where the case stands.
//!
//! Escalation: a case that is not done by the deadline of its level moves
//! up, grid → community → street → district; deadlines depend on the
//! category and the level ([`DeadlineRules`]).

use serde::{Deserialize, Serialize};

use crate::model::IncidentStatus;
use crate::time::Timestamp;

/// Who a case is dispatched to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Assignee {
    /// A grid, by code (its staff take it).
    Grid(String),
    /// A department (城管, 住建, …).
    Department(String),
    /// A named person.
    Person(String),
}

/// The level a case is handled at; escalation moves it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlingLevel {
    /// The grid's staff.
    Grid,
    /// The community (社区).
    Community,
    /// The street office (街道).
    Street,
    /// The district (区).
    District,
}

impl HandlingLevel {
    /// The next level up; `None` at the district.
    pub fn up(self) -> Option<HandlingLevel> {
        match self {
            HandlingLevel::Grid => Some(HandlingLevel::Community),
            HandlingLevel::Community => Some(HandlingLevel::Street),
            HandlingLevel::Street => Some(HandlingLevel::District),
            HandlingLevel::District => None,
        }
    }
}

/// A step in the loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Reported → accepted.
    Accept,
    /// Reported → rejected; the reason is required.
    Reject {
        /// Why.
        reason: String,
    },
    /// Accepted (or dispatched, to re-dispatch) → dispatched.
    Dispatch {
        /// To whom.
        to: Assignee,
    },
    /// Dispatched → handled.
    Handle,
    /// Handled → feedback (the reporter is told).
    Feedback,
    /// Feedback → closed.
    Close,
    /// Closed → evaluated, with the reporter's satisfaction.
    Evaluate {
        /// 1 (very unsatisfied) to 5 (very satisfied).
        satisfaction: u8,
    },
    /// Any open state: the case moves one level up (its status stays).
    Escalate,
    /// Any open state: the pin is moved and the case re-routed; the old
    /// and new places are both kept in the event.
    Move {
        /// The new place (WGS 84 longitude, latitude).
        to: [f64; 2],
        /// The old place.
        from: [f64; 2],
        /// The grid before the move, by code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_grid: Option<String>,
        /// The grid after the move (none: outside every grid).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_grid: Option<String>,
    },
    /// Any open state → merged: the case is a duplicate of `into`.
    Merge {
        /// The case it joins.
        into: i64,
    },
    /// Any open state: the duplicate `case` was merged into this one (the
    /// status stays).
    Absorb {
        /// The merged case.
        case: i64,
    },
    /// Any state before closing → closed: the monitoring point whose
    /// alarm opened the case reads below its level again (taken only by
    /// the point, never over the steps API).
    Clear {
        /// The reading that cleared it.
        value: f64,
    },
}

impl Action {
    /// The action's name, as in the API.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Reject { .. } => "reject",
            Action::Dispatch { .. } => "dispatch",
            Action::Handle => "handle",
            Action::Feedback => "feedback",
            Action::Close => "close",
            Action::Evaluate { .. } => "evaluate",
            Action::Escalate => "escalate",
            Action::Move { .. } => "move",
            Action::Merge { .. } => "merge",
            Action::Absorb { .. } => "absorb",
            Action::Clear { .. } => "clear",
        }
    }
}

/// One appended step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the case's history, from 1.
    pub seq: u32,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// Status before.
    #[serde(rename = "from_status")]
    pub from: IncidentStatus,
    /// Status after.
    #[serde(rename = "to_status")]
    pub to: IncidentStatus,
    /// Level after.
    pub level: HandlingLevel,
    /// What was done.
    #[serde(flatten)]
    pub action: Action,
    /// A free note.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Photos of what was found or done (ids of photos kept for the case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<i64>,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Not allowed from this status.
    #[error("cannot {attempted} a case that is {from}; allowed: {}", allowed.join(", "))]
    Illegal {
        /// Where the case stands.
        from: &'static str,
        /// What was tried.
        attempted: &'static str,
        /// What is allowed from there.
        allowed: Vec<&'static str>,
    },
    /// The step's data is wrong (an empty reason, satisfaction out of 1–5).
    #[error("{0}")]
    Invalid(String),
}

/// What may be done from `status`.
///
/// ```
/// use gridgov_spatial::{IncidentStatus, workflow::allowed};
/// assert_eq!(allowed(IncidentStatus::Reported)[..3], ["accept", "reject", "escalate"]);
/// assert!(allowed(IncidentStatus::Evaluated).is_empty());
/// ```
pub fn allowed(status: IncidentStatus) -> Vec<&'static str> {
    use IncidentStatus as S;
    let open = ["escalate", "move", "merge", "absorb"];
    let mut v = match status {
        S::Reported => vec!["accept", "reject"],
        S::Accepted => vec!["dispatch"],
        S::Dispatched => vec!["dispatch", "handle"],
        S::Handled => vec!["feedback"],
        S::Feedback => vec!["close"],
        S::Closed => vec!["evaluate"],
        S::Rejected | S::Evaluated | S::Merged => vec![],
    };
    // Cases still being worked on (not waiting on the reporter).
    if matches!(
        status,
        S::Reported | S::Accepted | S::Dispatched | S::Handled
    ) {
        v.extend(open);
    }
    v
}

/// A case's state as its history leaves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseState {
    /// Status.
    pub status: IncidentStatus,
    /// Level.
    pub level: HandlingLevel,
    /// When the status or level last changed: the deadline clock runs
    /// from here.
    pub since: Timestamp,
    /// Current assignee.
    pub assignee: Option<Assignee>,
    /// Steps so far.
    pub seq: u32,
    /// The case it was merged into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<i64>,
    /// The cases merged into it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absorbed: Vec<i64>,
}

impl CaseState {
    /// A new case, reported at `at`, handled at the grid.
    pub fn reported(at: Timestamp) -> CaseState {
        CaseState::with_status(IncidentStatus::Reported, at)
    }

    /// A case that came in with `status` (records imported from an older
    /// system, whose history before that is not known).
    pub fn with_status(status: IncidentStatus, at: Timestamp) -> CaseState {
        CaseState {
            status,
            level: HandlingLevel::Grid,
            since: at,
            assignee: None,
            seq: 0,
            merged_into: None,
            absorbed: Vec::new(),
        }
    }

    /// Replays a history from the report.
    pub fn replay(reported_at: Timestamp, events: &[Event]) -> CaseState {
        let mut s = CaseState::reported(reported_at);
        for e in events {
            s.absorb(e);
        }
        s
    }

    /// Replays a history from a case that came in with `status`.
    pub fn replay_from(
        status: IncidentStatus,
        reported_at: Timestamp,
        events: &[Event],
    ) -> CaseState {
        let mut s = CaseState::with_status(status, reported_at);
        for e in events {
            s.absorb(e);
        }
        s
    }

    fn absorb(&mut self, e: &Event) {
        if e.to != self.status || e.level != self.level {
            self.since = e.at;
        }
        self.status = e.to;
        self.level = e.level;
        self.seq = e.seq;
        match &e.action {
            Action::Dispatch { to } => self.assignee = Some(to.clone()),
            Action::Merge { into } => self.merged_into = Some(*into),
            Action::Absorb { case } => self.absorbed.push(*case),
            _ => {}
        }
    }

    /// The event `action` makes, or why it may not be done. The state is
    /// not changed: append the event, then [`CaseState::absorb`] it (or
    /// replay), so the history stays the one source.
    ///
    /// ```
    /// use gridgov_spatial::workflow::{Action, CaseState};
    /// let s = CaseState::reported("2026-11-01T09:00:00+08:00".parse().unwrap());
    /// let at = "2026-11-01T09:05:00+08:00".parse().unwrap();
    /// let e = s.step(&Action::Accept, "zhang", at, "").unwrap();
    /// assert_eq!(e.seq, 1);
    /// assert!(s.step(&Action::Close, "zhang", at, "").is_err());
    /// ```
    pub fn step(
        &self,
        action: &Action,
        actor: &str,
        at: Timestamp,
        note: &str,
    ) -> Result<Event, TransitionError> {
        use IncidentStatus as S;
        let to = match (self.status, action) {
            (S::Reported, Action::Accept) => S::Accepted,
            (S::Reported, Action::Reject { reason }) => {
                if reason.trim().is_empty() {
                    return Err(TransitionError::Invalid(
                        "a rejection needs a reason".into(),
                    ));
                }
                S::Rejected
            }
            (S::Accepted | S::Dispatched, Action::Dispatch { to }) => {
                let name = match to {
                    Assignee::Grid(n) | Assignee::Department(n) | Assignee::Person(n) => n,
                };
                if name.trim().is_empty() {
                    return Err(TransitionError::Invalid(
                        "dispatch needs someone to dispatch to".into(),
                    ));
                }
                S::Dispatched
            }
            (S::Dispatched, Action::Handle) => S::Handled,
            (S::Handled, Action::Feedback) => S::Feedback,
            (S::Feedback, Action::Close) => S::Closed,
            (S::Closed, Action::Evaluate { satisfaction }) => {
                if !(1..=5).contains(satisfaction) {
                    return Err(TransitionError::Invalid(format!(
                        "satisfaction must be 1 to 5, not {satisfaction}"
                    )));
                }
                S::Evaluated
            }
            (s @ (S::Reported | S::Accepted | S::Dispatched | S::Handled), Action::Escalate) => {
                if self.level.up().is_none() {
                    return Err(TransitionError::Invalid(
                        "the case is at the district already; it cannot go higher".into(),
                    ));
                }
                s
            }
            (
                s @ (S::Reported | S::Accepted | S::Dispatched | S::Handled),
                Action::Move { to, .. },
            ) => {
                if !(to[0].is_finite() && to[1].is_finite()) {
                    return Err(TransitionError::Invalid(
                        "the new place needs finite coordinates".into(),
                    ));
                }
                s
            }
            (S::Reported | S::Accepted | S::Dispatched | S::Handled, Action::Merge { .. }) => {
                S::Merged
            }
            (
                s @ (S::Reported | S::Accepted | S::Dispatched | S::Handled),
                Action::Absorb { .. },
            ) => s,
            (
                S::Reported | S::Accepted | S::Dispatched | S::Handled | S::Feedback,
                Action::Clear { value },
            ) => {
                if !value.is_finite() {
                    return Err(TransitionError::Invalid(
                        "a clearing reading is a number".into(),
                    ));
                }
                S::Closed
            }
            (from, a) => {
                return Err(TransitionError::Illegal {
                    from: from.as_str(),
                    attempted: a.name(),
                    allowed: allowed(from),
                });
            }
        };
        if actor.trim().is_empty() {
            return Err(TransitionError::Invalid("every step needs an actor".into()));
        }
        let level = if matches!(action, Action::Escalate) {
            self.level.up().unwrap_or(self.level)
        } else {
            self.level
        };
        Ok(Event {
            seq: self.seq + 1,
            at,
            actor: actor.to_string(),
            from: self.status,
            to,
            level,
            action: action.clone(),
            note: note.to_string(),
            photos: Vec::new(),
        })
    }

    /// Applies an event made by [`CaseState::step`].
    pub fn apply(&mut self, e: &Event) {
        self.absorb(e);
    }
}

/// Hours a case may stay at a level before it is overdue, per category
/// (with a default for the others).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadlineRules {
    /// Hours per level: grid, community, street, district.
    pub default_hours: [f64; 4],
    /// Per category, overriding the default.
    #[serde(default)]
    pub categories: Vec<(String, [f64; 4])>,
    /// Whether an overdue case moves up by itself.
    #[serde(default = "yes")]
    pub auto_escalate: bool,
}

fn yes() -> bool {
    true
}

impl Default for DeadlineRules {
    fn default() -> Self {
        DeadlineRules {
            default_hours: [24.0, 48.0, 72.0, 120.0],
            categories: vec![
                ("safety_hazard".into(), [2.0, 4.0, 8.0, 24.0]),
                ("water_heating".into(), [8.0, 24.0, 48.0, 72.0]),
                ("food_safety".into(), [4.0, 12.0, 24.0, 48.0]),
            ],
            auto_escalate: true,
        }
    }
}

impl DeadlineRules {
    /// Hours allowed for `category` at `level`.
    pub fn hours(&self, category: &str, level: HandlingLevel) -> f64 {
        let h = self
            .categories
            .iter()
            .find(|(c, _)| c == category)
            .map_or(&self.default_hours, |(_, h)| h);
        h[level as usize]
    }
}

/// A case past its deadline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overdue {
    /// Hours past the deadline.
    pub hours_over: f64,
    /// The deadline.
    pub deadline: Timestamp,
    /// Whether the rules move it up by themselves.
    pub escalate: bool,
}

impl DeadlineRules {
    /// When a case of `category` in `state` is due: cases waiting on the
    /// reporter (feedback, closed) and finished ones have no deadline.
    ///
    /// ```
    /// use gridgov_spatial::workflow::{CaseState, DeadlineRules};
    /// let s = CaseState::reported("2026-11-01T09:00:00+08:00".parse().unwrap());
    /// let due = DeadlineRules::default().deadline("safety_hazard", &s).unwrap();
    /// assert_eq!(due.to_string(), "2026-11-01T03:00:00Z");
    /// ```
    pub fn deadline(&self, category: &str, state: &CaseState) -> Option<Timestamp> {
        use IncidentStatus as S;
        if !matches!(
            state.status,
            S::Reported | S::Accepted | S::Dispatched | S::Handled
        ) {
            return None;
        }
        let secs = (self.hours(category, state.level) * 3600.0) as i64;
        Some(crate::time::from_epoch(
            state.since.as_second().saturating_add(secs),
        ))
    }

    /// Whether a case of `category` in `state` is overdue at `now`.
    pub fn overdue(&self, category: &str, state: &CaseState, now: Timestamp) -> Option<Overdue> {
        let deadline = self.deadline(category, state)?;
        (now > deadline).then(|| Overdue {
            hours_over: (now.as_second() - deadline.as_second()) as f64 / 3600.0,
            deadline,
            escalate: self.auto_escalate && state.level.up().is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentStatus as S;

    fn t0() -> Timestamp {
        "2026-11-01T09:00:00+08:00".parse().unwrap()
    }

    fn after(t: Timestamp, secs: i64) -> Timestamp {
        crate::time::from_epoch(t.as_second() + secs)
    }

    fn run(actions: &[Action]) -> Result<(CaseState, Vec<Event>), TransitionError> {
        let mut s = CaseState::reported(t0());
        let mut h = Vec::new();
        for a in actions {
            let e = s.step(a, "tester", t0(), "")?;
            s.apply(&e);
            h.push(e);
        }
        Ok((s, h))
    }

    fn all_actions() -> Vec<Action> {
        vec![
            Action::Accept,
            Action::Reject {
                reason: "duplicate".into(),
            },
            Action::Dispatch {
                to: Assignee::Grid("370402005001001".into()),
            },
            Action::Handle,
            Action::Feedback,
            Action::Close,
            Action::Evaluate { satisfaction: 4 },
            Action::Escalate,
            Action::Move {
                to: [117.5, 34.8],
                from: [117.4, 34.8],
                from_grid: None,
                to_grid: None,
            },
            Action::Merge { into: 7 },
            Action::Absorb { case: 8 },
        ]
    }

    #[test]
    fn every_step_survives_json() {
        let s = CaseState::reported(t0());
        for a in all_actions() {
            let e = Event {
                seq: 1,
                at: t0(),
                actor: "a".into(),
                from: s.status,
                to: S::Accepted,
                level: HandlingLevel::Grid,
                action: a,
                note: "n".into(),
                photos: vec![3],
            };
            let j = serde_json::to_string(&e).unwrap();
            let back: Event = serde_json::from_str(&j).unwrap_or_else(|x| panic!("{j}: {x}"));
            assert_eq!(back, e);
        }
    }

    #[test]
    fn the_whole_loop_runs_and_its_history_replays_to_the_same_state() {
        let (s, h) = run(&[
            Action::Accept,
            Action::Dispatch {
                to: Assignee::Department("城管".into()),
            },
            Action::Handle,
            Action::Feedback,
            Action::Close,
            Action::Evaluate { satisfaction: 5 },
        ])
        .unwrap();
        assert_eq!(s.status, S::Evaluated);
        assert_eq!(
            h.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        assert_eq!(CaseState::replay(t0(), &h), s);
        assert_eq!(s.assignee, Some(Assignee::Department("城管".into())));
    }

    #[test]
    fn every_status_allows_exactly_its_listed_actions() {
        // Reach each status, then try every action: the legal ones are
        // exactly `allowed(status)`, the others say what is allowed.
        let paths: Vec<(S, Vec<Action>)> = vec![
            (S::Reported, vec![]),
            (S::Accepted, vec![Action::Accept]),
            (
                S::Rejected,
                vec![Action::Reject {
                    reason: "spam".into(),
                }],
            ),
            (
                S::Dispatched,
                vec![Action::Accept, all_actions()[2].clone()],
            ),
            (
                S::Handled,
                vec![Action::Accept, all_actions()[2].clone(), Action::Handle],
            ),
            (
                S::Feedback,
                vec![
                    Action::Accept,
                    all_actions()[2].clone(),
                    Action::Handle,
                    Action::Feedback,
                ],
            ),
            (
                S::Closed,
                vec![
                    Action::Accept,
                    all_actions()[2].clone(),
                    Action::Handle,
                    Action::Feedback,
                    Action::Close,
                ],
            ),
        ];
        for (status, path) in paths {
            let (s, _) = run(&path).unwrap();
            assert_eq!(s.status, status);
            for a in all_actions() {
                let legal = allowed(status).contains(&a.name());
                match s.step(&a, "tester", t0(), "") {
                    Ok(_) => assert!(legal, "{} from {status:?} was allowed", a.name()),
                    Err(TransitionError::Illegal { allowed: al, .. }) => {
                        assert!(!legal, "{} from {status:?} was refused", a.name());
                        assert_eq!(al, allowed(status));
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        }
    }

    #[test]
    fn bad_step_data_is_refused_with_a_reason() {
        let s = CaseState::reported(t0());
        assert!(matches!(
            s.step(&Action::Reject { reason: " ".into() }, "a", t0(), ""),
            Err(TransitionError::Invalid(_))
        ));
        assert!(s.step(&Action::Accept, "", t0(), "").is_err());
        let (closed, _) = run(&[
            Action::Accept,
            all_actions()[2].clone(),
            Action::Handle,
            Action::Feedback,
            Action::Close,
        ])
        .unwrap();
        for bad in [0, 6] {
            assert!(
                closed
                    .step(&Action::Evaluate { satisfaction: bad }, "a", t0(), "")
                    .is_err()
            );
        }
    }

    #[test]
    fn escalation_climbs_to_the_district_and_stops_there() {
        let (s, h) = run(&[Action::Escalate, Action::Escalate, Action::Escalate]).unwrap();
        assert_eq!(s.level, HandlingLevel::District);
        assert_eq!(s.status, S::Reported);
        assert_eq!(h.last().unwrap().level, HandlingLevel::District);
        assert!(matches!(
            s.step(&Action::Escalate, "a", t0(), ""),
            Err(TransitionError::Invalid(_))
        ));
    }

    #[test]
    fn the_deadline_clock_runs_from_the_last_change_at_the_case_level() {
        let rules = DeadlineRules::default();
        let s = CaseState::reported(t0());
        let t0 = t0();
        // Safety hazards: 2 h at the grid.
        assert!(
            rules
                .overdue("safety_hazard", &s, after(t0, 7_100))
                .is_none()
        );
        let o = rules
            .overdue("safety_hazard", &s, after(t0, 3 * 3600))
            .unwrap();
        assert!((o.hours_over - 1.0).abs() < 1e-9 && o.escalate);
        // Other categories: 24 h.
        assert!(rules.overdue("noise", &s, after(t0, 3 * 3600)).is_none());
        assert!(rules.overdue("noise", &s, after(t0, 25 * 3600)).is_some());
        // Waiting on the reporter: no clock.
        let (fb, _) = run(&[
            Action::Accept,
            all_actions()[2].clone(),
            Action::Handle,
            Action::Feedback,
        ])
        .unwrap();
        assert!(
            rules
                .overdue("noise", &fb, after(t0, 1_000 * 3600))
                .is_none()
        );
        // At the district nothing is higher to escalate to.
        let (top, _) = run(&[Action::Escalate, Action::Escalate, Action::Escalate]).unwrap();
        assert!(
            !rules
                .overdue("noise", &top, after(t0, 1_000 * 3600))
                .unwrap()
                .escalate
        );
    }
}
