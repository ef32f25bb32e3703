//! Duplicate reports: the same problem reported twice (a neighbour calls
//! the hotline, another writes on WeChat). Two cases are suggested as
//! duplicates when they have the same category, lie within a radius of
//! each other and were reported within a time window; the closest in
//! space (then in time) come first.

use serde::{Deserialize, Serialize};

use crate::geodesy::haversine_m;

/// When two reports count as the same problem.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DuplicateRule {
    /// Greatest distance apart, in metres.
    pub radius_m: f64,
    /// Greatest time apart, in hours.
    pub window_hours: f64,
}

impl Default for DuplicateRule {
    fn default() -> Self {
        DuplicateRule {
            radius_m: 50.0,
            window_hours: 72.0,
        }
    }
}

/// A case as duplicate detection sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSketch<'a> {
    /// The case id.
    pub id: i64,
    /// WGS 84 longitude, latitude.
    pub location: [f64; 2],
    /// Category.
    pub category: &'a str,
    /// Report time, seconds since the epoch.
    pub reported: i64,
    /// Whether the case is still open (closed ones are not suggested).
    pub open: bool,
}

/// A suggested duplicate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Duplicate {
    /// The other case.
    pub id: i64,
    /// How far apart, in metres.
    pub distance_m: f64,
    /// How far apart in time, in hours.
    pub hours_apart: f64,
}

/// The open cases among `others` that look like duplicates of `case`,
/// closest first.
///
/// ```
/// use gridgov_spatial::duplicates::{duplicates, CaseSketch, DuplicateRule};
/// let a = CaseSketch { id: 1, location: [117.5, 34.8], category: "road", reported: 0, open: true };
/// let b = CaseSketch { id: 2, location: [117.5002, 34.8], category: "road", reported: 3600, open: true };
/// let c = CaseSketch { id: 3, location: [117.5002, 34.8], category: "noise", reported: 3600, open: true };
/// let d = duplicates(&DuplicateRule::default(), &a, &[b, c]);
/// assert_eq!(d.len(), 1);
/// assert_eq!(d[0].id, 2);
/// assert!((d[0].distance_m - 18.3).abs() < 0.5);
/// ```
pub fn duplicates(
    rule: &DuplicateRule,
    case: &CaseSketch,
    others: &[CaseSketch],
) -> Vec<Duplicate> {
    let window = rule.window_hours * 3600.0;
    let mut out: Vec<Duplicate> = others
        .iter()
        .filter(|o| o.id != case.id && o.open && o.category == case.category)
        .filter_map(|o| {
            let dt = (o.reported - case.reported).abs() as f64;
            if dt > window {
                return None;
            }
            let d = haversine_m(
                case.location[0],
                case.location[1],
                o.location[0],
                o.location[1],
            );
            (d <= rule.radius_m).then_some(Duplicate {
                id: o.id,
                distance_m: d,
                hours_apart: dt / 3600.0,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then(a.hours_apart.total_cmp(&b.hours_apart))
            .then(a.id.cmp(&b.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn sketch(id: i64, lon: f64, lat: f64, cat: &'static str, t: i64) -> CaseSketch<'static> {
        CaseSketch {
            id,
            location: [lon, lat],
            category: cat,
            reported: t,
            open: true,
        }
    }

    #[test]
    fn suggestions_match_a_brute_force_check_of_the_rule() {
        let mut rng = Rng::new(11);
        let cats = ["road", "noise", "environment"];
        let cases: Vec<CaseSketch> = (0..400)
            .map(|i| {
                sketch(
                    i,
                    117.5 + rng.f64() * 0.005,
                    34.8 + rng.f64() * 0.005,
                    cats[(rng.next_u64() % 3) as usize],
                    (rng.f64() * 10.0 * 86_400.0) as i64,
                )
            })
            .collect();
        let rule = DuplicateRule::default();
        for c in &cases {
            let got: Vec<i64> = {
                let mut v: Vec<i64> = duplicates(&rule, c, &cases).iter().map(|d| d.id).collect();
                v.sort_unstable();
                v
            };
            let want: Vec<i64> = cases
                .iter()
                .filter(|o| {
                    o.id != c.id
                        && o.category == c.category
                        && (o.reported - c.reported).abs() <= 72 * 3600
                        && haversine_m(c.location[0], c.location[1], o.location[0], o.location[1])
                            <= 50.0
                })
                .map(|o| o.id)
                .collect();
            assert_eq!(got, want, "case {}", c.id);
        }
    }

    #[test]
    fn closed_cases_and_the_case_itself_are_never_suggested() {
        let a = sketch(1, 117.5, 34.8, "road", 0);
        let mut b = sketch(2, 117.5, 34.8, "road", 0);
        b.open = false;
        assert!(duplicates(&DuplicateRule::default(), &a, &[a.clone(), b]).is_empty());
    }
}
