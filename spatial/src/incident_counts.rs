//! Incident counts per grid, community and street, per category and
//! period, with rates per 1,000 households.
//!
//! An incident counts for the grid responsible for it (the grid it is in,
//! or the nearest grid when it lies outside every grid), and rolls up to
//! that grid's community and street. Cases merged into another case are
//! not counted again. Periods are local days at the query's UTC offset.
//!
//! ```
//! use gridgov_spatial::{assign, sample, GridIndex, Level};
//! use gridgov_spatial::incident_counts::{incident_counts, IncidentQuery};
//! use gridgov_spatial::period::Period;
//! let d = sample::district(&sample::SampleSpec::default());
//! let a = assign(&d, &GridIndex::new(&d));
//! let q = IncidentQuery { period: Some(Period::parse("2026-10").unwrap()), ..Default::default() };
//! let rows = incident_counts(&d, &a, &q);
//! let street = rows.iter().find(|r| r.level == Level::Street).unwrap();
//! let grids: usize = rows.iter().filter(|r| r.level == Level::Grid).map(|r| r.incidents).sum();
//! assert_eq!(street.incidents, grids);
//! assert!(street.per_1000_households.unwrap() > 0.0);
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use crate::period::{CHINA_OFFSET_S, Period, local_day};
use crate::{AreaId, Assignment, District, Incident, IncidentStatus, Level};

/// Which incidents to count.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentQuery {
    /// Reported in this period (local days); `None`: any time.
    pub period: Option<Period>,
    /// Of these categories (any of); empty: all.
    pub categories: Vec<String>,
    /// The district's UTC offset in seconds (default `+08:00`).
    pub utc_offset_s: i64,
}

impl Default for IncidentQuery {
    fn default() -> Self {
        IncidentQuery {
            period: None,
            categories: Vec::new(),
            utc_offset_s: CHINA_OFFSET_S,
        }
    }
}

impl IncidentQuery {
    /// The same query over another period.
    ///
    /// ```
    /// use gridgov_spatial::incident_counts::IncidentQuery;
    /// use gridgov_spatial::period::Period;
    /// let w = Period::parse("2026-W40").unwrap();
    /// assert_eq!(IncidentQuery::default().over(w).period, Some(w));
    /// ```
    #[must_use]
    pub fn over(&self, period: Period) -> IncidentQuery {
        IncidentQuery {
            period: Some(period),
            ..self.clone()
        }
    }

    /// Whether an incident counts: not merged into another case, of one
    /// of the categories, reported in the period. Incidents whose time
    /// cannot be read count only when there is no period.
    ///
    /// ```
    /// use gridgov_spatial::incident_counts::IncidentQuery;
    /// use gridgov_spatial::{sample, period::Period};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let q = IncidentQuery { period: Some(Period::parse("2020-01").unwrap()), ..Default::default() };
    /// assert!(!d.incidents.iter().any(|x| q.matches(x)));
    /// ```
    pub fn matches(&self, x: &Incident) -> bool {
        if x.status == IncidentStatus::Merged {
            return false;
        }
        if !self.categories.is_empty() && !self.categories.contains(&x.category) {
            return false;
        }
        match &self.period {
            None => true,
            Some(p) => p.contains(local_day(x.reported_at, self.utc_offset_s)),
        }
    }

    /// The local day of an incident that matches, `None` otherwise.
    pub fn day_of(&self, x: &Incident) -> Option<i64> {
        if self.matches(x) {
            Some(local_day(x.reported_at, self.utc_offset_s))
        } else {
            None
        }
    }
}

/// The incidents of one area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaIncidents {
    /// The area.
    pub id: AreaId,
    /// Its level.
    pub level: Level,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its parent's code (a grid's community, a community's street).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Households in it.
    pub households: usize,
    /// Incidents counted.
    pub incidents: usize,
    /// Of those, still open now.
    pub open: usize,
    /// Incidents per 1,000 households; `None` where there are none.
    pub per_1000_households: Option<f64>,
    /// Incidents per category.
    pub by_category: BTreeMap<String, usize>,
}

/// Per area: incidents matching `q` (see the module docs), streets first,
/// then communities, then grids, each by code.
pub fn incident_counts(d: &District, a: &Assignment, q: &IncidentQuery) -> Vec<AreaIncidents> {
    let n = d.areas.len();
    let mut households = vec![0usize; n];
    for p in &a.households {
        if let Some(g) = p.responsible() {
            households[g.index()] += 1;
        }
    }
    let mut total = vec![0usize; n];
    let mut open = vec![0usize; n];
    let mut cats: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); n];
    for (x, p) in d.incidents.iter().zip(&a.incidents) {
        let Some(g) = p.responsible() else { continue };
        if !q.matches(x) {
            continue;
        }
        let i = g.index();
        total[i] += 1;
        open[i] += usize::from(x.status.is_open());
        *cats[i].entry(x.category.clone()).or_default() += 1;
    }
    for level in [Level::Grid, Level::Community] {
        for id in d.areas_at(level).collect::<Vec<_>>() {
            if let Some(p) = d.area(id).parent {
                let (c, p) = (id.index(), p.index());
                households[p] += households[c];
                total[p] += total[c];
                open[p] += open[c];
                let add = std::mem::take(&mut cats[c]);
                for (k, v) in &add {
                    *cats[p].entry(k.clone()).or_default() += v;
                }
                cats[c] = add;
            }
        }
    }
    let mut rows: Vec<AreaIncidents> = d
        .areas
        .iter()
        .enumerate()
        .map(|(i, area)| AreaIncidents {
            id: AreaId(i as u32),
            level: area.level,
            code: area.code.clone(),
            name: area.name.clone(),
            parent: area.parent.map(|p| d.area(p).code.clone()),
            households: households[i],
            incidents: total[i],
            open: open[i],
            per_1000_households: (households[i] > 0)
                .then(|| total[i] as f64 * 1000.0 / households[i] as f64),
            by_category: std::mem::take(&mut cats[i]),
        })
        .collect();
    rows.sort_by(|x, y| x.level.cmp(&y.level).then_with(|| x.code.cmp(&y.code)));
    rows
}

/// Incidents matching `q` per local day of its period, first day first
/// (empty without a period).
///
/// ```
/// use gridgov_spatial::sample;
/// use gridgov_spatial::incident_counts::{daily_counts, IncidentQuery};
/// use gridgov_spatial::period::Period;
/// let d = sample::district(&sample::SampleSpec::default());
/// let days = daily_counts(&d, &IncidentQuery::default().over(Period::parse("2026-W40").unwrap()));
/// assert_eq!(days.len(), 7);
/// assert!(days.iter().sum::<usize>() > 0);
/// ```
pub fn daily_counts(d: &District, q: &IncidentQuery) -> Vec<usize> {
    let Some(p) = q.period else {
        return Vec::new();
    };
    let mut out = vec![0usize; p.days().max(0) as usize];
    for x in &d.incidents {
        if let Some(day) = q.day_of(x) {
            out[(day - p.start) as usize] += 1;
        }
    }
    out
}

/// Incidents matching `q` per category, most first (ties by name).
///
/// ```
/// use gridgov_spatial::sample;
/// use gridgov_spatial::incident_counts::{category_counts, IncidentQuery};
/// let d = sample::district(&sample::SampleSpec::default());
/// let c = category_counts(&d, &IncidentQuery::default());
/// assert_eq!(c.iter().map(|(_, n)| n).sum::<usize>(), d.incidents.len());
/// assert!(c.windows(2).all(|w| w[0].1 >= w[1].1));
/// ```
pub fn category_counts(d: &District, q: &IncidentQuery) -> Vec<(String, usize)> {
    let mut m: BTreeMap<&str, usize> = BTreeMap::new();
    for x in d.incidents.iter().filter(|x| q.matches(x)) {
        *m.entry(x.category.as_str()).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = m.into_iter().map(|(k, n)| (k.to_owned(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GridIndex, assign, sample};

    #[test]
    fn counts_roll_up_and_match_a_plain_count_of_the_period() {
        let d = sample::district(&sample::SampleSpec::default());
        let a = assign(&d, &GridIndex::new(&d));
        let p = Period::parse("2026-W40").unwrap();
        let q = IncidentQuery::default().over(p);
        let rows = incident_counts(&d, &a, &q);
        // By hand: the local date is the date in Beijing, read off the
        // time as written there.
        let (from, to) = (p.first_date(), p.last_date());
        let plain = d
            .incidents
            .iter()
            .filter(|x| {
                let local = jiff::tz::Offset::constant(8)
                    .to_datetime(x.reported_at)
                    .date()
                    .to_string();
                (from.as_str()..=to.as_str()).contains(&local.as_str())
            })
            .count();
        let street: usize = rows
            .iter()
            .filter(|r| r.level == Level::Street)
            .map(|r| r.incidents)
            .sum();
        assert_eq!(street, plain);
        for r in rows.iter().filter(|r| r.level != Level::Grid) {
            let children: Vec<&AreaIncidents> = rows
                .iter()
                .filter(|c| c.parent.as_deref() == Some(r.code.as_str()))
                .collect();
            assert_eq!(
                r.incidents,
                children.iter().map(|c| c.incidents).sum::<usize>()
            );
            assert_eq!(
                r.households,
                children.iter().map(|c| c.households).sum::<usize>()
            );
            assert_eq!(r.by_category.values().sum::<usize>(), r.incidents);
        }
    }

    #[test]
    fn a_category_filter_and_merged_cases_reduce_the_count() {
        let mut d = sample::district(&sample::SampleSpec::default());
        let a = assign(&d, &GridIndex::new(&d));
        let cat = d.incidents[0].category.clone();
        let q = IncidentQuery {
            categories: vec![cat.clone()],
            ..Default::default()
        };
        let before = category_counts(&d, &q);
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].0, cat);
        d.incidents[0].status = IncidentStatus::Merged;
        let after = category_counts(&d, &q);
        assert_eq!(after[0].1 + 1, before[0].1);
        let rows = incident_counts(&d, &a, &q);
        assert_eq!(rows[0].incidents, after[0].1);
    }

    #[test]
    fn rates_are_per_thousand_households() {
        let d = sample::district(&sample::SampleSpec::default());
        let a = assign(&d, &GridIndex::new(&d));
        for r in incident_counts(&d, &a, &IncidentQuery::default()) {
            match r.per_1000_households {
                Some(x) => {
                    assert!((x - r.incidents as f64 * 1000.0 / r.households as f64).abs() < 1e-9);
                }
                None => assert_eq!(r.households, 0),
            }
        }
    }
}
