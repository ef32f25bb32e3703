//! Household visits: what grid staff record at each door — the day, who
//! went, a note. Append-only, like the audit log: a record is never
//! changed or deleted (a wrong one is corrected by a later one), and the
//! service audits each write like every other write of personal data.

use gridgov_spatial::{HouseholdId, Timestamp};
use serde::Serialize;

use crate::context::App;
use crate::households::HouseholdError;

/// The longest note a visit keeps, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// How many days back a visit may be recorded (a phone that was offline
/// for a while sends it late).
pub const MAX_DAYS_BACK: i64 = 90;

/// A visit to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    /// The household visited.
    pub household: HouseholdId,
    /// The local day of the visit (`YYYY-MM-DD`).
    pub date: String,
    /// The account that made it.
    pub by: String,
    /// What was found or agreed.
    pub note: String,
    /// A photo taken on the visit (one kept for this household).
    pub photo: Option<i64>,
    /// When it was recorded.
    pub recorded_at: Timestamp,
}

/// A visit as recorded.
///
/// ```
/// use gridgov_app::visits::Visit;
/// let v = Visit { id: 1, household: 7, date: "2026-11-02".into(), by: "wang".into(),
///     note: "独居老人，已登记".into(), photo: None, recorded_at: "2026-11-02T10:00:00+08:00".parse().unwrap() };
/// assert_eq!(serde_json::to_value(&v).unwrap()["household"], 7);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Visit {
    /// Its number, in the order recorded.
    pub id: i64,
    /// The household's id (its index plus one, as in `GET /households`).
    pub household: u32,
    /// The local day of the visit.
    pub date: String,
    /// The account that made it.
    pub by: String,
    /// The note.
    pub note: String,
    /// Its photo.
    pub photo: Option<i64>,
    /// When it was recorded.
    pub recorded_at: Timestamp,
}

/// Checks a visit before it is recorded: every problem, by field.
///
/// ```
/// use gridgov_app::visits::{NewVisit, check};
/// let now: gridgov_spatial::Timestamp = "2026-11-02T10:00:00+08:00".parse().unwrap();
/// let v = NewVisit { household: gridgov_spatial::HouseholdId(0), date: "2026-11-03".into(),
///     by: "wang".into(), note: String::new(), photo: None, recorded_at: now };
/// let problems = check(&v, 8 * 3600);
/// assert_eq!(problems[0].0, "date");
/// ```
pub fn check(v: &NewVisit, utc_offset_s: i64) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let today = gridgov_spatial::time::local_day(v.recorded_at, utc_offset_s);
    match gridgov_spatial::period::parse_date(&v.date) {
        None => out.push(("date", format!("{:?} is not a day (YYYY-MM-DD)", v.date))),
        Some(d) if d > today => out.push((
            "date",
            format!(
                "{} is after today ({})",
                v.date,
                gridgov_spatial::period::date(today)
            ),
        )),
        Some(d) if (today - d) > MAX_DAYS_BACK => out.push((
            "date",
            format!("{} is more than {MAX_DAYS_BACK} days ago", v.date),
        )),
        Some(_) => {}
    }
    if v.note.chars().count() > MAX_NOTE_CHARS {
        out.push((
            "note",
            format!("a note has at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    out
}

impl App {
    /// Records a visit to a household; the record as stored.
    pub fn record_visit(&self, v: &NewVisit) -> Result<Visit, HouseholdError> {
        let n = v.household.index();
        if n >= self.current().district.households.len() {
            return Err(HouseholdError::NotFound(format!(
                "there is no household {}",
                n + 1
            )));
        }
        let problems = check(v, gridgov_spatial::time::CHINA_OFFSET_S);
        if let Some((field, _)) = problems.first() {
            // Every problem is told; the first one's field is named.
            let message = problems
                .iter()
                .map(|(f, m)| format!("{f}: {m}"))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(HouseholdError::Invalid { field, message });
        }
        if let Some(p) = v.photo {
            let of_it = self.store.photo_info(p)?.is_some_and(|i| {
                i.owner == crate::photos::PhotoOwner::Household(v.household.0 + 1)
            });
            if !of_it {
                return Err(HouseholdError::Invalid {
                    field: "photo",
                    message: format!("photo {p} is not one of household {}", n + 1),
                });
            }
        }
        let id = self.store.append_visit(v)?;
        Ok(Visit {
            id,
            household: v.household.0 + 1,
            date: v.date.clone(),
            by: v.by.clone(),
            note: v.note.clone(),
            photo: v.photo,
            recorded_at: v.recorded_at,
        })
    }

    /// The visits to a household, oldest first.
    pub fn visits(&self, household: HouseholdId) -> Result<Vec<Visit>, HouseholdError> {
        Ok(self.store.visits(household)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn visit(date: &str, note: &str) -> NewVisit {
        NewVisit {
            household: HouseholdId(0),
            date: date.into(),
            by: "wang".into(),
            note: note.into(),
            photo: None,
            recorded_at: at("2026-11-02T00:30:00+08:00"),
        }
    }

    #[test]
    fn a_visit_is_on_a_real_day_of_the_last_ninety_with_a_note_of_bounded_length() {
        let off = gridgov_spatial::time::CHINA_OFFSET_S;
        // Half past midnight in Beijing is still the day before in UTC:
        // "today" is the district's day.
        assert!(check(&visit("2026-11-02", ""), off).is_empty());
        assert!(check(&visit("2026-08-04", "x"), off).is_empty());
        assert_eq!(check(&visit("2026-08-03", ""), off)[0].0, "date");
        assert_eq!(check(&visit("2026-11-03", ""), off)[0].0, "date");
        assert_eq!(check(&visit("2026-02-30", ""), off)[0].0, "date");
        let long = "长".repeat(MAX_NOTE_CHARS + 1);
        let both = check(&visit("tomorrow", &long), off);
        assert_eq!(
            both.iter().map(|p| p.0).collect::<Vec<_>>(),
            ["date", "note"],
            "every problem is told"
        );
        assert!(check(&visit("2026-11-02", &"长".repeat(MAX_NOTE_CHARS)), off).is_empty());
    }
}
