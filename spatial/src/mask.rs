//! Masking personal data: households' names, phone numbers and ID
//! numbers are shown in full only to those entitled to them; everyone
//! else sees enough to tell records apart and no more.
//!
//! ```
//! use gridgov_spatial::mask::{mask_phone, mask_name, mask_id_number};
//! assert_eq!(mask_phone("13812341234"), "138****1234");
//! assert_eq!(mask_name("李华梓"), "李**");
//! assert_eq!(mask_id_number("370402199001011234"), "370402********1234");
//! ```

use crate::{District, Household};

/// A phone number with all but its first three and last four digits
/// hidden (`138****1234`); short numbers keep only their last two.
pub fn mask_phone(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let n = c.len();
    if n >= 11 {
        let mut o: String = c[..3].iter().collect();
        o.push_str(&"*".repeat(n - 7));
        o.extend(&c[n - 4..]);
        o
    } else if n > 2 {
        let mut o = "*".repeat(n - 2);
        o.extend(&c[n - 2..]);
        o
    } else {
        "*".repeat(n)
    }
}

/// A name with only its first character (the surname) shown: `李**`.
pub fn mask_name(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        None => String::new(),
        Some(first) => {
            let rest = c.count();
            let mut o = String::from(first);
            o.push_str(&"*".repeat(rest.max(1)));
            o
        }
    }
}

/// A resident ID number with its birth date and sequence hidden: the
/// region (first six) and last four characters stay.
pub fn mask_id_number(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let n = c.len();
    if n <= 10 {
        return "*".repeat(n);
    }
    let mut o: String = c[..6].iter().collect();
    o.push_str(&"*".repeat(n - 10));
    o.extend(&c[n - 4..]);
    o
}

/// A household with its personal fields masked.
///
/// ```
/// use gridgov_spatial::{Household, UnitId, mask::masked};
/// let h = Household {
///     unit: UnitId(0), room: "301".into(), headcount: 3,
///     head_name: Some("王芳".into()), phone: Some("13912345678".into()),
///     id_number: Some("370402199001011238".into()),
/// };
/// let m = masked(&h);
/// assert_eq!(m.head_name.as_deref(), Some("王*"));
/// assert_eq!(m.phone.as_deref(), Some("139****5678"));
/// assert_eq!(m.id_number.as_deref(), Some("370402********1238"));
/// assert_eq!(m.room, "301");
/// ```
pub fn masked(h: &Household) -> Household {
    Household {
        head_name: h.head_name.as_deref().map(mask_name),
        phone: h.phone.as_deref().map(mask_phone),
        id_number: h.id_number.as_deref().map(mask_id_number),
        ..h.clone()
    }
}

/// The district with every household's personal fields masked.
///
/// ```
/// use gridgov_spatial::{sample, mask::masked_district};
/// let d = sample::district(&sample::SampleSpec::default());
/// let m = masked_district(&d);
/// assert!(m.households.iter().all(|h| h.phone.as_deref().is_none_or(|p| p.contains("****"))));
/// assert_eq!(m.households.len(), d.households.len());
/// ```
pub fn masked_district(d: &District) -> District {
    let mut m = District {
        households: d.households.iter().map(masked).collect(),
        ..d.clone()
    };
    for x in &mut m.incidents {
        x.filed_by = None;
        x.reporter = None;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_never_show_more_than_they_should() {
        assert_eq!(mask_phone("0632-1234567"), "063*****4567");
        assert_eq!(mask_phone("12345"), "***45");
        assert_eq!(mask_phone("1"), "*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_id_number("37040219900101123X"), "370402********123X");
        assert_eq!(mask_id_number("12345"), "*****");
    }
}
