//! Histories for the sample's cases: the steps that took each generated
//! case from its report to its status, with realistic times, so that
//! what is measured of handling (time to accept, dispatch and close,
//! overdue, re-dispatch, satisfaction) has something to measure.
//!
//! Each case's steps come from its own seeded stream: the grid leader
//! accepts (about 1.7 h after the report, exponential) or rejects it,
//! dispatches it to the grid (about 1.2 h later); about 7 % are sent back
//! and dispatched again (about 3 h later); a grid worker handles it
//! (about 15 h later, so some run past the 24-hour deadline); the leader
//! tells the reporter (about 3.5 h) and closes it (about 8.5 h); the
//! resident evaluates (about a day later; 5 stars for 55 %, 4 for 30 %, 3
//! for 10 %, 2 for 3 %, 1 for 2 %). A case's steps never reach past its
//! status.
//!
//! ```
//! use gridgov_spatial::{sample, sample_history};
//! let d = sample::district(&sample::SampleSpec { incidents: 200, ..Default::default() });
//! let hs = sample_history::histories(&d, 7);
//! let (i, steps) = &hs[0];
//! let replayed = gridgov_spatial::workflow::CaseState::replay(d.incidents[*i].reported_at, steps);
//! assert_eq!(replayed.status, d.incidents[*i].status);
//! ```

use crate::workflow::{Action, Assignee, CaseState, Event};
use crate::{District, GridIndex, IncidentStatus, Level, Rng, StaffRole, Timestamp};

/// The name that takes a step for the residents.
const RESIDENT: &str = "resident";

/// Every case of `d` past its report with the steps that took it to its
/// status, `(incident index, steps)`, from `seed`.
pub fn histories(d: &District, seed: u64) -> Vec<(usize, Vec<Event>)> {
    let idx = GridIndex::new(d);
    let mut out = Vec::new();
    for (i, x) in d.incidents.iter().enumerate() {
        if matches!(x.status, IncidentStatus::Reported | IncidentStatus::Merged) {
            continue;
        }
        let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let grid = idx.locate(x.location.x(), x.location.y());
        let name_of = |role: &StaffRole, fallback: &str| {
            grid.and_then(|g| {
                d.area(g)
                    .staff
                    .iter()
                    .find(|s| s.role == *role)
                    .map(|s| s.name.clone())
            })
            .unwrap_or_else(|| fallback.to_owned())
        };
        let leader = name_of(&StaffRole::GRID_LEADER, "网格长");
        let worker = name_of(&StaffRole::GRID_WORKER, "网格员");
        let code = grid.map_or_else(
            || "unplaced".to_owned(),
            |g| {
                debug_assert_eq!(d.area(g).level, Level::Grid);
                d.area(g).code.clone()
            },
        );
        let plan = plan(x.status, &mut rng, &code);
        let mut state = CaseState::reported(x.reported_at);
        let mut at = x.reported_at;
        let mut steps = Vec::with_capacity(plan.len());
        for (hours, action) in plan {
            at = later(at, hours);
            let actor = match action {
                Action::Handle => worker.as_str(),
                Action::Evaluate { .. } => RESIDENT,
                _ => leader.as_str(),
            };
            let Ok(e) = state.step(&action, actor, at, "") else {
                break;
            };
            state.apply(&e);
            steps.push(e);
        }
        out.push((i, steps));
    }
    out
}

/// An exponential wait with this mean, in hours, plus `min`.
fn wait(rng: &mut Rng, min: f64, mean: f64) -> f64 {
    min - mean * (1.0 - rng.f64()).ln()
}

fn later(t: Timestamp, hours: f64) -> Timestamp {
    crate::time::from_epoch(t.as_second() + (hours * 3600.0).round() as i64)
}

/// The steps (each after so many hours) from the report to `status`.
fn plan(status: IncidentStatus, rng: &mut Rng, grid: &str) -> Vec<(f64, Action)> {
    use IncidentStatus as S;
    if status == S::Rejected {
        return vec![(
            wait(rng, 0.2, 1.5),
            Action::Reject {
                reason: "不属于受理范围".into(),
            },
        )];
    }
    let dispatch = || Action::Dispatch {
        to: Assignee::Grid(grid.to_owned()),
    };
    let mut v = vec![(wait(rng, 0.2, 1.5), Action::Accept)];
    let depth = match status {
        S::Accepted => 1,
        S::Dispatched => 2,
        S::Handled => 3,
        S::Feedback => 4,
        S::Closed => 5,
        _ => 6,
    };
    if depth >= 2 {
        v.push((wait(rng, 0.2, 1.0), dispatch()));
        if rng.f64() < 0.07 {
            v.push((wait(rng, 0.5, 2.5), dispatch()));
        }
    }
    if depth >= 3 {
        v.push((wait(rng, 1.0, 14.0), Action::Handle));
    }
    if depth >= 4 {
        v.push((wait(rng, 0.5, 3.0), Action::Feedback));
    }
    if depth >= 5 {
        v.push((wait(rng, 0.5, 8.0), Action::Close));
    }
    if depth >= 6 {
        let stars = [1u8, 2, 3, 4, 5][rng.weighted(&[2.0, 3.0, 10.0, 30.0, 55.0])];
        v.push((
            wait(rng, 2.0, 22.0),
            Action::Evaluate {
                satisfaction: stars,
            },
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    #[test]
    fn every_generated_history_replays_to_its_cases_status_and_the_times_are_plausible() {
        let d = sample::district(&sample::SampleSpec::default());
        let hs = histories(&d, 2022);
        let past_report = d
            .incidents
            .iter()
            .filter(|x| !matches!(x.status, IncidentStatus::Reported | IncidentStatus::Merged))
            .count();
        assert_eq!(hs.len(), past_report);
        let mut accept = Vec::new();
        let mut redispatched = 0;
        for (i, steps) in &hs {
            let x = &d.incidents[*i];
            let s = CaseState::replay(x.reported_at, steps);
            assert_eq!(s.status, x.status, "case {i}");
            assert!(steps.windows(2).all(|w| w[0].at <= w[1].at));
            assert!(steps[0].at > x.reported_at);
            if let Some(a) = steps.iter().find(|e| e.action == Action::Accept) {
                accept.push((a.at.as_second() - x.reported_at.as_second()) as f64 / 3600.0);
            }
            redispatched += usize::from(
                steps
                    .iter()
                    .filter(|e| matches!(e.action, Action::Dispatch { .. }))
                    .count()
                    > 1,
            );
        }
        let mean = accept.iter().sum::<f64>() / accept.len() as f64;
        assert!((1.2..2.3).contains(&mean), "mean hours to accept {mean}");
        assert!(redispatched > 100 && redispatched < 700, "{redispatched}");
        // The same seed, the same histories.
        assert_eq!(histories(&d, 2022)[5], hs[5]);
    }
}
