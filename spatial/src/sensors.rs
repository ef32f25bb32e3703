//! Monitoring points (监测点): sensors at fixed places — water depth at a
//! waterlogging point, say — whose readings open a case when they cross
//! the point's threshold and close it when they fall back.
//!
//! # The rule
//! Readings are judged in time order, each against the point's state: a
//! reading at or above `threshold` while no alarm is open **raises** one
//! (one case, however many readings stay high); a reading below
//! `clear_below` (default: the threshold) while an alarm is open **clears**
//! it (its case closes). Between the two the state holds, so a reading
//! that hovers around the threshold does not open and close cases by the
//! minute. A reading no later than the last one judged is kept but
//! changes nothing.
//!
//! ```
//! use gridgov_spatial::sensors::{judge, Verdict, Sensor, SensorState};
//! let s = Sensor::water_depth("WL-01", "人民路下穿桥", 117.55, 34.86, 30.0);
//! let t = |m: i64| gridgov_spatial::time::from_epoch(1_764_000_000 + m * 60);
//! let mut st = SensorState::default();
//! let mut verdicts = vec![];
//! for (m, v) in [(0, 12.0), (1, 31.0), (2, 45.0), (3, 29.0), (4, 8.0)] {
//!     let (v, mut next) = judge(&s, &st, t(m), v);
//!     if v == Verdict::Raise {
//!         next.alarm_case = Some(1); // the case the caller filed
//!     }
//!     verdicts.push(v);
//!     st = next;
//! }
//! assert_eq!(verdicts, [Verdict::Nothing, Verdict::Raise, Verdict::Nothing, Verdict::Clear, Verdict::Nothing]);
//! ```

use geo::Point;
use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// A monitoring point.
///
/// ```
/// use gridgov_spatial::sensors::Sensor;
/// let s = Sensor::water_depth("WL-01", "人民路下穿桥", 117.55, 34.86, 30.0);
/// assert_eq!((s.unit.as_str(), s.category.as_str()), ("cm", "waterlogging"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensor {
    /// Its code, unique in the district.
    pub code: String,
    /// What people call the place.
    pub name: String,
    /// What it measures (`water_depth`, …).
    pub kind: String,
    /// Where it is (WGS 84).
    #[serde(with = "crate::geom_serde::point")]
    pub location: Point<f64>,
    /// The unit of its readings (`cm`).
    pub unit: String,
    /// A reading at or above this raises an alarm.
    pub threshold: f64,
    /// A reading below this clears it (default: the threshold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_below: Option<f64>,
    /// The category of the case an alarm opens.
    pub category: String,
}

impl Sensor {
    /// A water-depth point in centimetres whose alarms are waterlogging
    /// cases.
    pub fn water_depth(code: &str, name: &str, lon: f64, lat: f64, threshold_cm: f64) -> Sensor {
        Sensor {
            code: code.into(),
            name: name.into(),
            kind: "water_depth".into(),
            location: Point::new(lon, lat),
            unit: "cm".into(),
            threshold: threshold_cm,
            clear_below: None,
            category: "waterlogging".into(),
        }
    }

    /// The level below which an alarm clears.
    pub fn clear_level(&self) -> f64 {
        self.clear_below.unwrap_or(self.threshold)
    }

    /// Every problem of a point's definition: a code of 1–64 letters,
    /// digits, `-`, `_` or `.`; a name, kind, unit and category; a place
    /// on the Earth; finite levels with `clear_below` at most the
    /// threshold.
    ///
    /// ```
    /// use gridgov_spatial::sensors::Sensor;
    /// let mut s = Sensor::water_depth("WL 01", "", 200.0, 34.86, 30.0);
    /// s.clear_below = Some(40.0);
    /// assert_eq!(s.problems().len(), 4);
    /// ```
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let c = &self.code;
        if c.is_empty()
            || c.chars().count() > 64
            || !c
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
        {
            p.push(format!(
                "code {c:?}: 1 to 64 letters, digits, `-`, `_` or `.`"
            ));
        }
        for (what, v, max) in [
            ("name", &self.name, 100),
            ("kind", &self.kind, 40),
            ("unit", &self.unit, 16),
            ("category", &self.category, 64),
        ] {
            let n = v.trim().chars().count();
            if n == 0 || n > max || v.chars().any(char::is_control) {
                p.push(format!("{what}: 1 to {max} printable characters"));
            }
        }
        let (x, y) = (self.location.x(), self.location.y());
        if !((-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)) {
            p.push(format!("location {x}, {y} is not a longitude and latitude"));
        }
        if !self.threshold.is_finite() {
            p.push("threshold: a number".into());
        }
        if let Some(b) = self.clear_below
            && !(b.is_finite() && b <= self.threshold)
        {
            p.push(format!(
                "clear_below {b} must be a number at most the threshold {}",
                self.threshold
            ));
        }
        p
    }
}

/// Where a point stands: its last reading and its open alarm.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SensorState {
    /// When the last reading judged was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_at: Option<Timestamp>,
    /// Its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_value: Option<f64>,
    /// The case of the open alarm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_case: Option<i64>,
}

/// What one reading does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing changes but the last reading.
    Nothing,
    /// An alarm is raised: a case is to be opened.
    Raise,
    /// The open alarm clears: its case is to be closed.
    Clear,
    /// The reading is not later than the last one: kept, not judged.
    Late,
}

/// Judges a reading of `value` at `at` against `state`: what it does, and
/// the state after it (the caller sets `alarm_case` once a raised alarm's
/// case is filed).
pub fn judge(s: &Sensor, state: &SensorState, at: Timestamp, value: f64) -> (Verdict, SensorState) {
    if state.last_at.is_some_and(|t| at <= t) {
        return (Verdict::Late, state.clone());
    }
    let mut next = SensorState {
        last_at: Some(at),
        last_value: Some(value),
        alarm_case: state.alarm_case,
    };
    let verdict = match state.alarm_case {
        None if value >= s.threshold => Verdict::Raise,
        Some(_) if value < s.clear_level() => {
            next.alarm_case = None;
            Verdict::Clear
        }
        _ => Verdict::Nothing,
    };
    (verdict, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: i64) -> Timestamp {
        crate::time::from_epoch(1_764_000_000 + m * 60)
    }

    #[test]
    fn a_reading_hovering_between_the_levels_neither_opens_nor_closes_and_late_ones_change_nothing()
    {
        use Verdict::{Clear, Late, Nothing, Raise};
        let mut s = Sensor::water_depth("WL-01", "下穿桥", 117.55, 34.86, 30.0);
        s.clear_below = Some(20.0);
        let mut st = SensorState::default();
        let mut got = Vec::new();
        for (m, v) in [
            (0, 10.0),
            (1, 30.0),
            (2, 25.0),
            (3, 31.0),
            (2, 0.0),
            (4, 19.9),
            (5, 25.0),
            (6, 29.9),
        ] {
            let (v, mut next) = judge(&s, &st, t(m), v);
            if v == Raise {
                next.alarm_case = Some(7);
            }
            got.push(v);
            st = next;
        }
        assert_eq!(
            got,
            [
                Nothing, Raise, Nothing, Nothing, Late, Clear, Nothing, Nothing
            ]
        );
        assert_eq!((st.last_value, st.alarm_case), (Some(29.9), None));
    }
}
