//! When each open case falls due: an index on deadlines, so that the
//! escalation timer looks only at the cases whose deadline has passed
//! instead of reading every case each tick.
//!
//! Only cases that would escalate when overdue are in it (not merged,
//! still open, below the top level, with escalation on). The index is a
//! hint: the timer reads each due case again by its key and escalates it
//! only if the rules say so at that moment.

use std::collections::{BTreeSet, HashMap};

use gridgov_spatial::Timestamp;
use gridgov_spatial::workflow::{CaseState, DeadlineRules};

use crate::cases::Case;

/// Open cases by the second their deadline passes.
///
/// ```
/// use gridgov_app::deadlines::Deadlines;
/// let mut d = Deadlines::default();
/// d.set(7, Some(100));
/// d.set(8, Some(50));
/// d.set(9, Some(300));
/// d.set(9, None);
/// let now = gridgov_spatial::time::from_epoch(200);
/// assert_eq!(d.due(now), vec![8, 7]);
/// assert_eq!(d.len(), 2);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Deadlines {
    by_time: BTreeSet<(i64, i64)>,
    of: HashMap<i64, i64>,
}

/// The second at which case `state` (of `category`) would be escalated by
/// the timer once past, or `None` when it never would be as it stands.
///
/// ```
/// use gridgov_app::deadlines::escalates_after;
/// use gridgov_spatial::workflow::{CaseState, DeadlineRules};
/// let t: gridgov_spatial::Timestamp = "2026-11-01T09:00:00+08:00".parse().unwrap();
/// let s = CaseState::reported(t);
/// let rules = DeadlineRules::default();
/// let due = escalates_after(&rules, "safety_hazard", &s).unwrap();
/// assert_eq!(Some(due), rules.deadline("safety_hazard", &s).map(|d| d.as_second()));
/// ```
pub fn escalates_after(rules: &DeadlineRules, category: &str, state: &CaseState) -> Option<i64> {
    if !rules.auto_escalate || state.merged_into.is_some() || state.level.up().is_none() {
        return None;
    }
    rules.deadline(category, state).map(Timestamp::as_second)
}

impl Deadlines {
    /// The index of `cases` under `rules`.
    pub fn of_cases<'a>(rules: &DeadlineRules, cases: impl IntoIterator<Item = &'a Case>) -> Self {
        let mut d = Deadlines::default();
        for c in cases {
            d.set(c.id, escalates_after(rules, &c.incident.category, &c.state));
        }
        d
    }

    /// Sets when case `id` falls due (`None`: it does not).
    pub fn set(&mut self, id: i64, at: Option<i64>) {
        if let Some(old) = self.of.remove(&id) {
            self.by_time.remove(&(old, id));
        }
        if let Some(at) = at {
            self.of.insert(id, at);
            self.by_time.insert((at, id));
        }
    }

    /// The cases whose deadline has passed at `now`, earliest first.
    pub fn due(&self, now: Timestamp) -> Vec<i64> {
        self.by_time
            .range(..(now.as_second(), i64::MIN))
            .map(|&(_, id)| id)
            .chain(
                // A deadline in the same second as `now` has passed if
                // `now` is past the whole second.
                self.by_time
                    .range((now.as_second(), i64::MIN)..=(now.as_second(), i64::MAX))
                    .filter(|_| now.subsec_nanosecond() > 0)
                    .map(|&(_, id)| id),
            )
            .collect()
    }

    /// How many cases are indexed.
    pub fn len(&self) -> usize {
        self.of.len()
    }

    /// Whether no case is indexed.
    pub fn is_empty(&self) -> bool {
        self.of.is_empty()
    }
}

/// The index as the application keeps it: built on first use (one read of
/// every case), then kept up to date by each write.
#[derive(Debug, Default)]
pub(crate) enum Index {
    /// Not built yet, or out of date after a wholesale change.
    #[default]
    Unbuilt,
    /// Being built from a read of every case; the cases written meanwhile,
    /// to read again once it is (`stale`: a wholesale change meanwhile).
    Building { pending: Vec<i64>, stale: bool },
    /// Up to date.
    Built(Deadlines),
}

/// When case `id` as it is in `store` falls due (`None`: it does not, or
/// there is no such case).
fn read_due(
    store: &dyn crate::ports::CaseStore,
    rules: &DeadlineRules,
    id: i64,
) -> Result<Option<i64>, crate::ports::StoreError> {
    let Some(x) = store.incident(id)? else {
        return Ok(None);
    };
    let history: Vec<_> = store
        .steps(Some(id))?
        .into_iter()
        .map(|s| s.event)
        .collect();
    let state = crate::cases::state_of(&x, &history);
    Ok(escalates_after(rules, &x.category, &state))
}

/// How many cases one escalation transaction takes at most: a first tick
/// after a long downtime escalates the backlog in transactions of this
/// size, the read model updated after each.
pub const ESCALATION_BATCH: usize = 500;

impl crate::App {
    fn deadlines(&self) -> std::sync::MutexGuard<'_, Index> {
        self.deadlines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Builds the deadline index unless it is built or being built: one
    /// read of every case, then the cases written meanwhile read again.
    fn build_deadlines(&self) -> Result<(), crate::ports::StoreError> {
        {
            let mut g = self.deadlines();
            if !matches!(*g, Index::Unbuilt) {
                return Ok(());
            }
            *g = Index::Building {
                pending: Vec::new(),
                stale: false,
            };
        }
        let built = crate::cases::Book::read(self.store.as_ref())
            .map(|book| Deadlines::of_cases(&self.rules.deadlines, &book.cases));
        let mut d = match built {
            Ok(d) => d,
            Err(e) => {
                *self.deadlines() = Index::Unbuilt;
                return Err(e);
            }
        };
        loop {
            let pending = {
                let mut g = self.deadlines();
                match &mut *g {
                    Index::Building { stale: true, .. } => {
                        *g = Index::Unbuilt;
                        return Ok(());
                    }
                    Index::Building { pending, .. } if !pending.is_empty() => {
                        std::mem::take(pending)
                    }
                    Index::Building { .. } => {
                        *g = Index::Built(std::mem::take(&mut d));
                        return Ok(());
                    }
                    _ => return Ok(()),
                }
            };
            for id in pending {
                d.set(
                    id,
                    read_due(self.store.as_ref(), &self.rules.deadlines, id)?,
                );
            }
        }
    }

    /// After cases `ids` were written: their deadlines as they are now.
    pub(crate) fn deadlines_changed(&self, ids: &[i64]) -> Result<(), crate::ports::StoreError> {
        let mut g = self.deadlines();
        match &mut *g {
            Index::Unbuilt => {}
            Index::Building { pending, .. } => pending.extend_from_slice(ids),
            Index::Built(d) => {
                for &id in ids {
                    d.set(
                        id,
                        read_due(self.store.as_ref(), &self.rules.deadlines, id)?,
                    );
                }
            }
        }
        Ok(())
    }

    /// After a wholesale change (every incident read again): the index is
    /// built again on next use.
    pub(crate) fn deadlines_stale(&self) {
        let mut g = self.deadlines();
        match &mut *g {
            Index::Building { stale, .. } => *stale = true,
            _ => *g = Index::Unbuilt,
        }
    }

    /// How many cases the deadline index holds (`None` until it is built).
    pub fn deadlines_indexed(&self) -> Option<usize> {
        match &*self.deadlines() {
            Index::Built(d) => Some(d.len()),
            _ => None,
        }
    }

    /// Escalates every case overdue at `now` whose rules say so, one
    /// level, as the actor `system`: only the cases the deadline index
    /// says are due are read, each again by its key, and they are written
    /// in transactions of at most [`ESCALATION_BATCH`]. The first call
    /// builds the index (one read of every case). The cases escalated.
    pub fn escalate_overdue(&self, now: Timestamp) -> Result<Vec<i64>, crate::CaseError> {
        use gridgov_spatial::workflow::Action;
        self.build_deadlines()?;
        let due = match &*self.deadlines() {
            Index::Built(d) => d.due(now),
            // Another call is building it, or a wholesale change came.
            _ => return Ok(Vec::new()),
        };
        let rules = &self.rules.deadlines;
        let mut escalated = Vec::new();
        for chunk in due.chunks(ESCALATION_BATCH) {
            let mut batch = Vec::new();
            let mut not_now = Vec::new();
            for &id in chunk {
                let Some(x) = self.store.incident(id)? else {
                    not_now.push(id);
                    continue;
                };
                let history: Vec<_> = self
                    .store
                    .steps(Some(id))?
                    .into_iter()
                    .map(|s| s.event)
                    .collect();
                let s = crate::cases::state_of(&x, &history);
                let step = (s.merged_into.is_none())
                    .then(|| rules.overdue(&x.category, &s, now))
                    .flatten()
                    .filter(|o| o.escalate)
                    .and_then(|o| {
                        let note = format!("{:.1} h past the deadline", o.hours_over);
                        s.step(&Action::Escalate, "system", now, &note).ok()
                    });
                match step {
                    Some(e) => batch.push(crate::ports::Append {
                        case: id,
                        expected_seq: s.seq,
                        event: e,
                        location: None,
                    }),
                    None => not_now.push(id),
                }
            }
            if !batch.is_empty() {
                self.store.append_steps(&batch)?;
            }
            let ids: Vec<i64> = batch.iter().map(|a| a.case).collect();
            self.incidents_updated(&ids)?;
            self.deadlines_changed(&not_now)?;
            escalated.extend(ids);
        }
        Ok(escalated)
    }
}
