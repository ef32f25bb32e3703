//! Monitoring points: their definitions, their readings and the cases
//! their alarms open and close (the rule is
//! [`gridgov_spatial::sensors`]'s).
//!
//! Readings of one point are judged one batch at a time, in time order:
//! in this process under a lock, and across replicas over one PostGIS
//! under the store's lock of the point (an advisory lock). A raised alarm files a case at the point (source
//! `sensor`, the point's category, the reading in its description) that
//! is routed to the point's grid like any other, so the dashboard's live
//! list hears of it at once; the state (with the case) is written with
//! the readings up to it before the next reading is judged. When the
//! reading falls back the case is closed by the `system` with a `clear`
//! step (unless its staff closed it already).

use std::sync::Mutex;

use gridgov_spatial::sensors::{Sensor, SensorState, Verdict, judge};
use gridgov_spatial::workflow::Action;
use gridgov_spatial::{Incident, IncidentSource, IncidentStatus, Timestamp};

use crate::cases::{CaseError, StepRequest};
use crate::context::App;
use crate::ports::StoreError;

/// The most readings one request brings.
pub const MAX_READINGS: usize = 10_000;

/// Who closes an alarm case when its point's reading falls back.
pub const ACTOR: &str = "system";

/// Why a monitoring-point request was refused.
#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    /// No such point.
    #[error("there is no monitoring point {0:?}")]
    NotFound(String),
    /// The definition or the readings have problems: every one.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    /// An alarm's case could not be filed or closed.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a batch of readings did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Recorded {
    /// Readings kept.
    pub stored: usize,
    /// Of them, no later than one judged before (kept, not judged).
    pub late: usize,
    /// Cases opened by alarms.
    pub opened: Vec<i64>,
    /// Cases closed as their alarms cleared.
    pub closed: Vec<i64>,
    /// The point's state after them.
    pub state: SensorState,
}

/// One batch at a time, whatever the point (batches are short).
static JUDGING: Mutex<()> = Mutex::new(());

impl App {
    /// Adds or replaces a monitoring point (every problem named); whether
    /// it is new. Blocking.
    pub fn put_sensor(&self, s: &Sensor) -> Result<bool, SensorError> {
        let p = s.problems();
        if !p.is_empty() {
            return Err(SensorError::Invalid(p));
        }
        Ok(self.store.put_sensor(s)?)
    }

    /// Records readings `(time, value)` of point `code`, opening and
    /// closing alarm cases by the rule. Blocking.
    pub fn record_readings(
        &self,
        code: &str,
        mut readings: Vec<(Timestamp, f64)>,
    ) -> Result<Recorded, SensorError> {
        let mut problems = Vec::new();
        if readings.len() > MAX_READINGS {
            problems.push(format!(
                "at most {MAX_READINGS} readings at a time, not {}",
                readings.len()
            ));
        }
        for (k, (_, v)) in readings.iter().enumerate() {
            if !v.is_finite() {
                problems.push(format!("reading {}: the value is not a number", k + 1));
            }
        }
        if !problems.is_empty() {
            return Err(SensorError::Invalid(problems));
        }
        readings.sort_by_key(|r| r.0);
        let _g = JUDGING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Another replica may be judging the same point's readings.
        let _held = self.store.lock_sensor(code)?;
        let (s, mut state) = self
            .store
            .sensor(code)?
            .ok_or_else(|| SensorError::NotFound(code.to_owned()))?;
        let mut out = Recorded {
            stored: readings.len(),
            late: 0,
            opened: Vec::new(),
            closed: Vec::new(),
            state: state.clone(),
        };
        let mut pending: Vec<(Timestamp, f64)> = Vec::new();
        for (at, v) in readings {
            let (verdict, mut next) = judge(&s, &state, at, v);
            pending.push((at, v));
            match verdict {
                Verdict::Late => out.late += 1,
                Verdict::Nothing => state = next,
                Verdict::Raise => {
                    let id = self.open_alarm(&s, at, v)?;
                    next.alarm_case = Some(id);
                    state = next;
                    self.store.record_readings(code, &pending, &state)?;
                    pending.clear();
                    out.opened.push(id);
                }
                Verdict::Clear => {
                    if let Some(case) = state.alarm_case
                        && self.close_alarm(&s, case, at, v)?
                    {
                        out.closed.push(case);
                    }
                    state = next;
                    self.store.record_readings(code, &pending, &state)?;
                    pending.clear();
                }
            }
        }
        if !pending.is_empty() {
            self.store.record_readings(code, &pending, &state)?;
        }
        out.state = state;
        Ok(out)
    }

    /// Files the case of a raised alarm; its id.
    fn open_alarm(&self, s: &Sensor, at: Timestamp, value: f64) -> Result<i64, SensorError> {
        let x = Incident {
            location: s.location,
            reported_at: at,
            category: s.category.clone(),
            source: IncidentSource::Sensor,
            status: IncidentStatus::Reported,
            description: format!(
                "监测点 {}（{}）读数 {value} {}，达到阈值 {} {}",
                s.name, s.code, s.unit, s.threshold, s.unit
            ),
            filed_by: None,
            reporter: None,
        };
        let id = self.store.add_incidents(&[x])?[0];
        self.incidents_updated(&[id])?;
        Ok(id)
    }

    /// Closes an alarm's case with a `clear` step; `false` when it is not
    /// open any more (its staff closed it, or it was merged).
    fn close_alarm(
        &self,
        s: &Sensor,
        case: i64,
        at: Timestamp,
        value: f64,
    ) -> Result<bool, SensorError> {
        let req = StepRequest {
            action: Action::Clear { value },
            actor: ACTOR.into(),
            note: format!(
                "读数回落至 {value} {}（低于 {} {}）",
                s.unit,
                s.clear_level(),
                s.unit
            ),
            expected_seq: None,
            photos: Vec::new(),
        };
        match crate::cases::append_step(self.store.as_ref(), case, &req, at) {
            Ok(_) => {
                self.incidents_updated(&[case])?;
                Ok(true)
            }
            Err(CaseError::Transition { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
