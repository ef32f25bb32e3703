//! Resident identity card numbers (居民身份证号码, GB 11643-1999): six
//! digits of the issuing division, the birth date as `YYYYMMDD`, three
//! digits of sequence (odd for men, even for women) and a check character
//! (ISO 7064 MOD 11-2, `X` for ten).
//!
//! ```
//! use gridgov_spatial::idcard::{check_resident_id, resident_id};
//! let id = resident_id("370402", (1990, 1, 1), 123);
//! assert_eq!(id, "370402199001011238");
//! assert!(check_resident_id(&id).is_ok());
//! assert!(check_resident_id("370402199001011234").is_err());
//! ```

use thiserror::Error;

/// What is wrong with an identity card number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdNumberError {
    /// Not 18 characters long.
    #[error("an identity card number has 18 characters, this one has {0}")]
    Length(usize),
    /// Something other than digits in the first 17 places, or a last
    /// character other than a digit or `X`.
    #[error("an identity card number is 17 digits and a digit or X")]
    Characters,
    /// Places 7–14 are not a date between 1800 and 2099.
    #[error("{0} (places 7–14) is not a birth date")]
    BirthDate(String),
    /// The last character does not match the other seventeen.
    #[error("the check character is {found}, the number needs {expected}: a digit is mistyped")]
    CheckCharacter {
        /// The character the first seventeen digits call for.
        expected: char,
        /// The character given.
        found: char,
    },
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character for the first 17 digits, or `None` when `first17`
/// is not 17 ASCII digits.
///
/// ```
/// use gridgov_spatial::idcard::check_character;
/// assert_eq!(check_character("11010519491231002"), Some('X'));
/// assert_eq!(check_character("1101051949123100"), None);
/// ```
pub fn check_character(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(CHECK[(sum % 11) as usize])
}

/// A real date between 1800 and 2099 (the calendar is jiff's).
fn is_date(y: u32, m: u32, d: u32) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (i16::try_from(y), i8::try_from(m), i8::try_from(d)) else {
        return false;
    };
    (1800..=2099).contains(&y) && crate::time::Date::new(y, m, d).is_ok()
}

/// Checks an 18-character resident identity card number: its characters,
/// its birth date and its check character (a lower-case `x` is taken as
/// `X`).
///
/// ```
/// use gridgov_spatial::idcard::{check_resident_id, IdNumberError};
/// assert!(check_resident_id("11010519491231002X").is_ok());
/// assert_eq!(check_resident_id("1101051949123100"), Err(IdNumberError::Length(16)));
/// assert!(matches!(check_resident_id("110105194913310020"), Err(IdNumberError::BirthDate(_))));
/// ```
pub fn check_resident_id(s: &str) -> Result<(), IdNumberError> {
    let n = s.chars().count();
    if n != 18 {
        return Err(IdNumberError::Length(n));
    }
    if !s.is_ascii() {
        return Err(IdNumberError::Characters);
    }
    let (head, last) = s.split_at(17);
    let last = last.chars().next().map(|c| c.to_ascii_uppercase());
    let Some(expected) = check_character(head) else {
        return Err(IdNumberError::Characters);
    };
    let Some(found) = last.filter(|c| c.is_ascii_digit() || *c == 'X') else {
        return Err(IdNumberError::Characters);
    };
    let date = &head[6..14];
    let num = |r: std::ops::Range<usize>| date[r].parse::<u32>().unwrap_or(0);
    if !is_date(num(0..4), num(4..6), num(6..8)) {
        return Err(IdNumberError::BirthDate(date.to_string()));
    }
    if found != expected {
        return Err(IdNumberError::CheckCharacter { expected, found });
    }
    Ok(())
}

/// A well-formed number for the division `region` (six digits), a birth
/// date and a sequence number (taken modulo 1,000), with its check
/// character. Used to invent households for the sample district.
///
/// ```
/// use gridgov_spatial::idcard::{check_resident_id, resident_id};
/// let id = resident_id("370402", (1985, 2, 28), 7);
/// assert!(id.starts_with("37040219850228007"));
/// assert!(check_resident_id(&id).is_ok());
/// ```
pub fn resident_id(region: &str, birth: (u32, u32, u32), seq: u32) -> String {
    let (y, m, d) = birth;
    let head = format!("{region:0>6.6}{y:04}{m:02}{d:02}{:03}", seq % 1000);
    let c = check_character(&head).unwrap_or('0');
    format!("{head}{c}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;

    #[test]
    fn published_example_numbers_check_out() {
        // The examples printed in GB 11643-1999.
        assert!(check_resident_id("11010519491231002X").is_ok());
        assert!(check_resident_id("440524188001010014").is_ok());
        assert!(check_resident_id("11010519491231002x").is_ok());
    }

    #[test]
    fn every_single_digit_typo_is_caught() {
        let id = resident_id("370402", (1990, 1, 1), 123);
        for i in 0..17 {
            for d in b'0'..=b'9' {
                let mut b = id.clone().into_bytes();
                if b[i] == d {
                    continue;
                }
                b[i] = d;
                let typo = String::from_utf8(b).unwrap();
                assert!(check_resident_id(&typo).is_err(), "{typo} passed for {id}");
            }
        }
    }

    #[test]
    fn impossible_dates_and_characters_are_refused() {
        let bad_date = |s: &str| {
            let head = format!("370402{s}123");
            let id = format!("{head}{}", check_character(&head).unwrap());
            check_resident_id(&id)
        };
        assert!(matches!(
            bad_date("19900230"),
            Err(IdNumberError::BirthDate(_))
        ));
        assert!(matches!(
            bad_date("19001301"),
            Err(IdNumberError::BirthDate(_))
        ));
        assert!(matches!(
            bad_date("17991231"),
            Err(IdNumberError::BirthDate(_))
        ));
        assert!(bad_date("20000229").is_ok());
        assert!(matches!(
            bad_date("19000229"),
            Err(IdNumberError::BirthDate(_))
        ));
        assert_eq!(
            check_resident_id("37040219900101123A"),
            Err(IdNumberError::Characters)
        );
        assert_eq!(
            check_resident_id("3704021990010112３5"),
            Err(IdNumberError::Characters)
        );
        assert_eq!(check_resident_id(""), Err(IdNumberError::Length(0)));
    }

    #[test]
    fn invented_numbers_always_check_out() {
        let mut r = Rng::new(11643);
        for _ in 0..10_000 {
            let y = 1900 + (r.next_u64() % 200) as u32;
            let m = 1 + (r.next_u64() % 12) as u32;
            let d = 1 + (r.next_u64() % 28) as u32;
            let id = resident_id("370402", (y, m, d), r.next_u64() as u32);
            assert_eq!(check_resident_id(&id), Ok(()), "{id}");
        }
    }
}
