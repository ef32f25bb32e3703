//! Reporting periods: ISO weeks (`2026-W46`), calendar months
//! (`2026-11`) and day ranges (`2026-11-01..2026-11-15`), in the
//! district's local days. A time belongs to the local day it falls on at
//! the district's UTC offset (China keeps `+08:00` all year), whatever
//! offset it was written with.
//!
//! ```
//! use gridgov_spatial::period::{Period, local_day};
//! let w = Period::parse("2026-W46").unwrap();
//! assert_eq!((w.first_date(), w.last_date()), ("2026-11-09".into(), "2026-11-15".into()));
//! assert_eq!(w.previous().label(), "2026-W45");
//! // 23:30 UTC on the 15th is already the 16th in Beijing.
//! let day = local_day("2026-11-15T23:30:00Z".parse().unwrap(), 8 * 3600);
//! assert!(!w.contains(day));
//! ```

use serde::{Serialize, Serializer};

use jiff::civil::{ISOWeekDate, Weekday};

use crate::time::{self, Date, Timestamp};

pub use crate::time::CHINA_OFFSET_S;

/// Why a period could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not one of the three forms.
    #[error(
        "{0:?} is not a period: write a week as 2026-W46, a month as 2026-11, or days as 2026-11-01..2026-11-15"
    )]
    Syntax(String),
    /// A week that the year does not have.
    #[error("{year} has weeks 1 to {weeks}, not {week}")]
    Week {
        /// The year.
        year: i64,
        /// The week asked for.
        week: u32,
        /// How many ISO weeks the year has.
        weeks: u32,
    },
    /// A month or day that does not exist.
    #[error("{0:?} is not a date")]
    Date(String),
    /// A range that ends before it starts, or is too long.
    #[error("{0}")]
    Range(String),
}

/// What kind of period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// Any run of whole days.
    Days,
}

/// A run of whole local days `[start, end)`, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// What kind.
    pub kind: PeriodKind,
    /// The first day.
    pub start: i64,
    /// The day after the last.
    pub end: i64,
}

/// Days since 1970-01-01 of a civil date; `None` when there is no such
/// date.
fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let y = i16::try_from(y).ok()?;
    let d = Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()?;
    Some(time::day_number(d))
}

/// Days since 1970-01-01 → (year, month, day).
fn civil_from_days(day: i64) -> (i64, u32, u32) {
    let d = time::date_of_day(day);
    (i64::from(d.year()), d.month() as u32, d.day() as u32)
}

/// `YYYY-MM-DD` of a day number.
///
/// ```
/// assert_eq!(gridgov_spatial::period::date(20_485), "2026-02-01");
/// ```
pub fn date(day: i64) -> String {
    time::date_of_day(day).to_string()
}

/// The day number of a `YYYY-MM-DD` date, checked.
///
/// ```
/// use gridgov_spatial::period::parse_date;
/// assert_eq!(parse_date("2026-02-01"), Some(20_485));
/// assert_eq!(parse_date("2026-02-30"), None);
/// ```
pub fn parse_date(s: &str) -> Option<i64> {
    time::parse_date(s).ok().map(time::day_number)
}

/// The local day (days since 1970-01-01) an instant falls on at
/// `utc_offset_s`.
///
/// ```
/// use gridgov_spatial::period::{local_day, CHINA_OFFSET_S};
/// let t = "2026-01-31T23:59:59Z".parse().unwrap();
/// assert_eq!(local_day(t, CHINA_OFFSET_S), 20_485);
/// ```
pub fn local_day(t: Timestamp, utc_offset_s: i64) -> i64 {
    time::local_day(t, utc_offset_s)
}

/// Monday = 0 … Sunday = 6.
fn weekday(day: i64) -> i64 {
    i64::from(time::date_of_day(day).weekday().to_monday_zero_offset())
}

/// The ISO week date of Monday of `week` in ISO year `year`, if the year
/// has that week.
fn iso_monday(year: i64, week: u32) -> Option<ISOWeekDate> {
    ISOWeekDate::new(
        i16::try_from(year).ok()?,
        i8::try_from(week).ok()?,
        Weekday::Monday,
    )
    .ok()
}

/// How many ISO weeks `year` has (52 or 53).
///
/// ```
/// use gridgov_spatial::period::iso_weeks;
/// assert_eq!(iso_weeks(2026), 53);
/// assert_eq!(iso_weeks(2025), 52);
/// ```
pub fn iso_weeks(year: i64) -> u32 {
    iso_monday(year, 1).map_or(0, |w| w.weeks_in_year() as u32)
}

/// The longest day range accepted (about ten years).
const MAX_DAYS: i64 = 3700;

impl Period {
    /// ISO week `week` of `year`.
    ///
    /// ```
    /// use gridgov_spatial::period::Period;
    /// assert_eq!(Period::week(2026, 1).unwrap().first_date(), "2025-12-29");
    /// assert!(Period::week(2025, 53).is_err());
    /// ```
    pub fn week(year: i64, week: u32) -> Result<Period, PeriodError> {
        let weeks = iso_weeks(year);
        let monday = iso_monday(year, week).filter(|_| (1..=9999).contains(&year));
        let Some(monday) = monday else {
            return Err(PeriodError::Week { year, week, weeks });
        };
        let start = time::day_number(monday.date());
        Ok(Period {
            kind: PeriodKind::Week,
            start,
            end: start + 7,
        })
    }

    /// Calendar month `month` of `year`.
    ///
    /// ```
    /// use gridgov_spatial::period::Period;
    /// let feb = Period::month(2028, 2).unwrap();
    /// assert_eq!(feb.days(), 29);
    /// ```
    pub fn month(year: i64, month: u32) -> Result<Period, PeriodError> {
        if !(1..=12).contains(&month) || !(1..=9999).contains(&year) {
            return Err(PeriodError::Date(format!("{year:04}-{month:02}")));
        }
        let bad = || PeriodError::Date(format!("{year:04}-{month:02}"));
        let start = days_from_civil(year, month, 1).ok_or_else(bad)?;
        let end = if month == 12 {
            days_from_civil(year + 1, 1, 1)
        } else {
            days_from_civil(year, month + 1, 1)
        }
        .ok_or_else(bad)?;
        Ok(Period {
            kind: PeriodKind::Month,
            start,
            end,
        })
    }

    /// The days `first..=last`.
    ///
    /// ```
    /// use gridgov_spatial::period::Period;
    /// let p = Period::days_between(20_485, 20_491).unwrap();
    /// assert_eq!(p.days(), 7);
    /// ```
    pub fn days_between(first: i64, last: i64) -> Result<Period, PeriodError> {
        if last < first {
            return Err(PeriodError::Range(format!(
                "{} is before {}",
                date(last),
                date(first)
            )));
        }
        if last - first >= MAX_DAYS {
            return Err(PeriodError::Range(format!(
                "a period may span at most {MAX_DAYS} days"
            )));
        }
        Ok(Period {
            kind: PeriodKind::Days,
            start: first,
            end: last + 1,
        })
    }

    /// Reads `2026-W46`, `2026-11` or `2026-11-01..2026-11-15`.
    ///
    /// ```
    /// use gridgov_spatial::period::{Period, PeriodKind};
    /// assert_eq!(Period::parse("2026-11").unwrap().kind, PeriodKind::Month);
    /// assert_eq!(Period::parse("2026-11-01..2026-11-03").unwrap().days(), 3);
    /// assert!(Period::parse("last week").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Period, PeriodError> {
        let s = s.trim();
        let syntax = || PeriodError::Syntax(s.to_owned());
        if let Some((a, b)) = s.split_once("..") {
            let first = parse_date(a).ok_or_else(|| PeriodError::Date(a.to_owned()))?;
            let last = parse_date(b).ok_or_else(|| PeriodError::Date(b.to_owned()))?;
            return Period::days_between(first, last);
        }
        let b = s.as_bytes();
        if b.len() >= 7 && b[4] == b'-' && (b[5] == b'W' || b[5] == b'w') {
            let year: i64 = s[..4].parse().map_err(|_| syntax())?;
            let week: u32 = s[6..].parse().map_err(|_| syntax())?;
            if s.len() > 8 {
                return Err(syntax());
            }
            return Period::week(year, week);
        }
        if b.len() == 7 && b[4] == b'-' {
            let year: i64 = s[..4].parse().map_err(|_| syntax())?;
            let month: u32 = s[5..].parse().map_err(|_| syntax())?;
            return Period::month(year, month);
        }
        if b.len() == 10 {
            let d = parse_date(s).ok_or_else(|| PeriodError::Date(s.to_owned()))?;
            return Period::days_between(d, d);
        }
        Err(syntax())
    }

    /// The week, month or day run of the same kind that contains `day`
    /// (a day run is that one day).
    ///
    /// ```
    /// use gridgov_spatial::period::{Period, PeriodKind, parse_date};
    /// let d = parse_date("2026-11-22").unwrap();
    /// assert_eq!(Period::containing(PeriodKind::Week, d).label(), "2026-W47");
    /// assert_eq!(Period::containing(PeriodKind::Month, d).label(), "2026-11");
    /// ```
    pub fn containing(kind: PeriodKind, day: i64) -> Period {
        match kind {
            PeriodKind::Week => {
                let start = day - weekday(day);
                Period {
                    kind,
                    start,
                    end: start + 7,
                }
            }
            PeriodKind::Month => {
                let (y, m, _) = civil_from_days(day);
                Period::month(y, m).unwrap_or(Period {
                    kind: PeriodKind::Days,
                    start: day,
                    end: day + 1,
                })
            }
            PeriodKind::Days => Period {
                kind,
                start: day,
                end: day + 1,
            },
        }
    }

    /// The period just before, of the same kind and (for day runs) length.
    ///
    /// ```
    /// use gridgov_spatial::period::Period;
    /// assert_eq!(Period::parse("2026-01").unwrap().previous().label(), "2025-12");
    /// assert_eq!(Period::parse("2026-W01").unwrap().previous().label(), "2025-W52");
    /// ```
    #[must_use]
    pub fn previous(&self) -> Period {
        match self.kind {
            PeriodKind::Week => Period {
                kind: self.kind,
                start: self.start - 7,
                end: self.start,
            },
            PeriodKind::Month => Period::containing(PeriodKind::Month, self.start - 1),
            PeriodKind::Days => Period {
                kind: self.kind,
                start: 2 * self.start - self.end,
                end: self.start,
            },
        }
    }

    /// The `n` ISO weeks ending with the one that holds this period's last
    /// day, oldest first (the series for emerging hot spots).
    ///
    /// ```
    /// use gridgov_spatial::period::Period;
    /// let w = Period::parse("2026-10").unwrap().weeks_ending(4);
    /// assert_eq!(w.iter().map(|p| p.label()).collect::<Vec<_>>(), ["2026-W41", "2026-W42", "2026-W43", "2026-W44"]);
    /// ```
    pub fn weeks_ending(&self, n: usize) -> Vec<Period> {
        let last = Period::containing(PeriodKind::Week, self.end - 1);
        (0..n as i64)
            .rev()
            .map(|k| Period {
                kind: PeriodKind::Week,
                start: last.start - 7 * k,
                end: last.end - 7 * k,
            })
            .collect()
    }

    /// Whether `day` is in it.
    pub fn contains(&self, day: i64) -> bool {
        (self.start..self.end).contains(&day)
    }

    /// How many days.
    pub fn days(&self) -> i64 {
        self.end - self.start
    }

    /// The first day, `YYYY-MM-DD`.
    pub fn first_date(&self) -> String {
        date(self.start)
    }

    /// The last day, `YYYY-MM-DD`.
    pub fn last_date(&self) -> String {
        date(self.end - 1)
    }

    /// How it is written: `2026-W46`, `2026-11`, `2026-11-01..2026-11-15`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Week => {
                let w = time::date_of_day(self.start).iso_week_date();
                format!("{:04}-W{:02}", w.year(), w.week())
            }
            PeriodKind::Month => {
                let (y, m, _) = civil_from_days(self.start);
                format!("{y:04}-{m:02}")
            }
            PeriodKind::Days => format!("{}..{}", self.first_date(), self.last_date()),
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct P {
            label: String,
            kind: PeriodKind,
            from: String,
            to: String,
            days: i64,
        }
        P {
            label: self.label(),
            kind: self.kind,
            from: self.first_date(),
            to: self.last_date(),
            days: self.days(),
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_week_of_forty_years_reads_back_from_its_label() {
        for year in 2000..2040 {
            let mut prev_end = None;
            for w in 1..=iso_weeks(year) {
                let p = Period::week(year, w).unwrap();
                assert_eq!(weekday(p.start), 0, "weeks start on Monday");
                assert_eq!(Period::parse(&p.label()).unwrap(), p);
                if let Some(e) = prev_end {
                    assert_eq!(p.start, e, "weeks follow one another");
                }
                prev_end = Some(p.end);
                assert_eq!(Period::containing(PeriodKind::Week, p.start + 4), p);
            }
            assert_eq!(prev_end, Some(Period::week(year + 1, 1).unwrap().start));
        }
    }

    #[test]
    fn months_tile_the_year_and_know_leap_days() {
        let mut day = days_from_civil(2024, 1, 1).unwrap();
        let lengths = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        for (m, len) in (1..=12).zip(lengths) {
            let p = Period::month(2024, m).unwrap();
            assert_eq!((p.start, p.days()), (day, len));
            assert_eq!(Period::parse(&p.label()).unwrap(), p);
            day = p.end;
        }
        assert_eq!(Period::month(2025, 2).unwrap().days(), 28);
    }

    #[test]
    fn bad_periods_say_what_is_wrong() {
        for (s, frag) in [
            ("2026-W54", "weeks 1 to 53"),
            ("2026-W00", "weeks 1 to 53"),
            ("2026-13", "not a date"),
            ("2026-02-30", "not a date"),
            ("2026-11-05..2026-11-01", "before"),
            ("next tuesday", "is not a period"),
            ("2026-Wxx", "is not a period"),
        ] {
            let e = Period::parse(s).unwrap_err().to_string();
            assert!(e.contains(frag), "{s}: {e}");
        }
    }

    #[test]
    fn a_day_run_before_itself_has_the_same_length() {
        let p = Period::parse("2026-11-01..2026-11-10").unwrap();
        let q = p.previous();
        assert_eq!(
            (q.first_date(), q.last_date()),
            ("2026-10-22".into(), "2026-10-31".into())
        );
    }
}
