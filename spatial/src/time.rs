//! Dates and times, by one set of rules for all of gridgov, on one crate
//! (`jiff`): instants are [`Timestamp`]s (UTC, RFC 3339 in JSON),
//! calendar dates are [`Date`]s, and a local day is the day an instant
//! falls on at the district's fixed UTC offset (China keeps `+08:00` all
//! year, with no daylight saving).
//!
//! Text is read strictly: an instant needs its offset (`Z` or `±HH:MM`),
//! a date must exist (`2026-02-31` is refused). Stored text is written
//! by [`stored`] in one sortable form, whole seconds in UTC.
//!
//! ```
//! use gridgov_spatial::time::{local_day, parse_date, parse_instant, stored, CHINA_OFFSET_S};
//! let t = parse_instant("2026-11-15T23:30:00Z").unwrap();
//! // Already the 16th in Beijing.
//! assert_eq!(local_day(t, CHINA_OFFSET_S), local_day(parse_instant("2026-11-16T12:00:00+08:00").unwrap(), CHINA_OFFSET_S));
//! assert_eq!(stored(parse_instant("2026-11-01T09:00:00+08:00").unwrap()), "2026-11-01T01:00:00Z");
//! assert!(parse_date("2026-02-31").is_err());
//! ```

pub use jiff::Timestamp;
pub use jiff::civil::Date;

/// China Standard Time, `+08:00`, in seconds.
pub const CHINA_OFFSET_S: i64 = 8 * 3600;

/// The district's time zone as the IANA names it: the zone of
/// [`CHINA_OFFSET_S`], in which screens and reports show times.
pub const DISTRICT_TIME_ZONE: &str = "Asia/Shanghai";

const DAY_S: i64 = 86_400;

/// A date or time that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not an RFC 3339 date-time with an offset.
    #[error("{0:?} is not an RFC 3339 time with an offset (such as 2026-11-01T09:00:00+08:00)")]
    Instant(String),
    /// Not an existing `YYYY-MM-DD` date.
    #[error("{0:?} is not a date: expected YYYY-MM-DD")]
    Date(String),
    /// Outside the range of dates gridgov keeps (years 1 to 9999).
    #[error("{0} is out of range")]
    Range(i64),
}

/// Reads an RFC 3339 instant: `2026-11-01T09:00:00+08:00`, `…Z`, with or
/// without fractions of a second.
///
/// ```
/// use gridgov_spatial::time::parse_instant;
/// assert_eq!(parse_instant("1970-01-01T08:00:00+08:00").unwrap().as_second(), 0);
/// assert!(parse_instant("2026-11-01T09:00:00").is_err()); // no offset
/// assert!(parse_instant("2026-02-30T09:00:00Z").is_err());
/// ```
pub fn parse_instant(s: &str) -> Result<Timestamp, TimeError> {
    let t = s.trim();
    // jiff also reads RFC 9557 annotations (`[Asia/Shanghai]`); gridgov
    // takes plain RFC 3339 only.
    if t.len() < 20 || t.contains('[') {
        return Err(TimeError::Instant(s.to_owned()));
    }
    t.parse::<Timestamp>()
        .map_err(|_| TimeError::Instant(s.to_owned()))
        .and_then(|ts| {
            if (1..=9999).contains(&i64::from(utc_date(ts).year())) {
                Ok(ts)
            } else {
                Err(TimeError::Instant(s.to_owned()))
            }
        })
}

/// Reads a `YYYY-MM-DD` date that exists.
///
/// ```
/// use gridgov_spatial::time::parse_date;
/// assert_eq!(parse_date("2028-02-29").unwrap().to_string(), "2028-02-29");
/// assert!(parse_date("2026-02-29").is_err());
/// assert!(parse_date("2026-2-1").is_err());
/// ```
pub fn parse_date(s: &str) -> Result<Date, TimeError> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !b[..4].iter().all(u8::is_ascii_digit) {
        return Err(TimeError::Date(s.to_owned()));
    }
    s.parse::<Date>()
        .map_err(|_| TimeError::Date(s.to_owned()))
        .and_then(|d| {
            if d.year() >= 1 {
                Ok(d)
            } else {
                Err(TimeError::Date(s.to_owned()))
            }
        })
}

/// Reads a date or an instant; a date is the start of that local day at
/// `utc_offset_s`.
///
/// ```
/// use gridgov_spatial::time::{parse_date_or_instant, CHINA_OFFSET_S};
/// let a = parse_date_or_instant("2026-03-01", CHINA_OFFSET_S).unwrap();
/// let b = parse_date_or_instant("2026-03-01T00:00:00+08:00", CHINA_OFFSET_S).unwrap();
/// assert_eq!(a, b);
/// ```
pub fn parse_date_or_instant(s: &str, utc_offset_s: i64) -> Result<Timestamp, TimeError> {
    let t = s.trim();
    if t.len() == 10 {
        let d = parse_date(t)?;
        return start_of_day(day_number(d), utc_offset_s);
    }
    parse_instant(t)
}

/// The instant local day `day` (days since 1970-01-01) begins at
/// `utc_offset_s`.
pub fn start_of_day(day: i64, utc_offset_s: i64) -> Result<Timestamp, TimeError> {
    day.checked_mul(DAY_S)
        .and_then(|s| s.checked_sub(utc_offset_s))
        .and_then(|s| Timestamp::from_second(s).ok())
        .ok_or(TimeError::Range(day))
}

/// The instant `secs` seconds after 1970-01-01T00:00:00Z (clamped to the
/// range an instant can have).
///
/// ```
/// assert_eq!(gridgov_spatial::time::from_epoch(86_400).to_string(), "1970-01-02T00:00:00Z");
/// ```
pub fn from_epoch(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap_or(if secs < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// The local day (days since 1970-01-01) `t` falls on at `utc_offset_s`.
///
/// ```
/// use gridgov_spatial::time::{local_day, parse_instant, CHINA_OFFSET_S};
/// let t = parse_instant("2026-02-01T07:59:59+08:00").unwrap();
/// assert_eq!(local_day(t, CHINA_OFFSET_S), 20_485);
/// ```
pub fn local_day(t: Timestamp, utc_offset_s: i64) -> i64 {
    (t.as_second() + utc_offset_s).div_euclid(DAY_S)
}

/// The local date `t` falls on at `utc_offset_s`.
pub fn local_date(t: Timestamp, utc_offset_s: i64) -> Date {
    date_of_day(local_day(t, utc_offset_s))
}

fn utc_date(t: Timestamp) -> Date {
    jiff::tz::Offset::UTC.to_datetime(t).date()
}

/// Days since 1970-01-01 of a date.
///
/// ```
/// use gridgov_spatial::time::{day_number, parse_date};
/// assert_eq!(day_number(parse_date("1970-01-01").unwrap()), 0);
/// assert_eq!(day_number(parse_date("2026-02-01").unwrap()), 20_485);
/// ```
pub fn day_number(d: Date) -> i64 {
    // Midnight UTC of the date, in whole days.
    jiff::tz::Offset::UTC
        .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        .map_or(0, |t| t.as_second().div_euclid(DAY_S))
}

/// The date `day` days after 1970-01-01 (clamped to years 1–9999).
///
/// ```
/// use gridgov_spatial::time::date_of_day;
/// assert_eq!(date_of_day(20_485).to_string(), "2026-02-01");
/// ```
pub fn date_of_day(day: i64) -> Date {
    let secs = day.clamp(-719_162, 2_932_896).saturating_mul(DAY_S);
    utc_date(from_epoch(secs))
}

/// `t` as gridgov stores it: whole seconds, UTC, `YYYY-MM-DDTHH:MM:SSZ`,
/// so that stored times sort as text.
pub fn stored(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `t` in whole seconds (what the clock gives and the stores keep).
///
/// ```
/// use gridgov_spatial::time::{parse_instant, whole_seconds};
/// let t = parse_instant("2026-11-01T09:00:00.75+08:00").unwrap();
/// assert_eq!(whole_seconds(t).to_string(), "2026-11-01T01:00:00Z");
/// ```
pub fn whole_seconds(t: Timestamp) -> Timestamp {
    from_epoch(t.as_second())
}

/// A moment as a local date and time to the minute, as people read it:
/// `2026-11-05 09:30`.
///
/// ```
/// use gridgov_spatial::time::{local_minute, CHINA_OFFSET_S};
/// let t: jiff::Timestamp = "2026-11-05T01:30:59Z".parse().unwrap();
/// assert_eq!(local_minute(t, CHINA_OFFSET_S), "2026-11-05 09:30");
/// ```
pub fn local_minute(t: Timestamp, utc_offset_s: i64) -> String {
    let s = from_epoch(t.as_second().saturating_add(utc_offset_s)).to_string();
    // RFC 3339 of the shifted moment: its date and clock are the local ones.
    format!(
        "{} {}",
        s.get(..10).unwrap_or(""),
        s.get(11..16).unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_and_dates_agree_for_four_centuries() {
        let mut d = parse_date("1900-01-01").unwrap();
        let first = day_number(d);
        for n in first..first + 146_097 {
            assert_eq!(date_of_day(n), d);
            assert_eq!(day_number(d), n);
            d = d.tomorrow().unwrap();
        }
    }

    #[test]
    fn instants_need_an_offset_and_a_real_date() {
        for bad in [
            "",
            "2026-11-01",
            "2026-11-01T09:00:00",
            "2026-11-31T09:00:00Z",
            "2026-11-01T24:00:00Z",
            "2026-11-01T09:00:00+08:00[Asia/Shanghai]",
            "yesterday",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad}");
        }
        let t = parse_instant("2026-11-01T09:00:00.5+08:00").unwrap();
        assert_eq!(stored(t), "2026-11-01T01:00:00Z");
        assert_eq!(parse_instant(&stored(t)).unwrap(), whole_seconds(t));
    }

    #[test]
    fn a_date_means_the_start_of_its_local_day() {
        let t = parse_date_or_instant("2026-11-16", CHINA_OFFSET_S).unwrap();
        assert_eq!(stored(t), "2026-11-15T16:00:00Z");
        assert_eq!(local_date(t, CHINA_OFFSET_S).to_string(), "2026-11-16");
        assert!(parse_date_or_instant("2026-11-31", CHINA_OFFSET_S).is_err());
    }
}
