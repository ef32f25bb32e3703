//! The application: a store, the read model over it, the clock and the
//! rules, shared by the HTTP service and the command line. Its methods
//! block (they call the store): adapters call them off their async
//! threads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use gridgov_spatial::duplicates::DuplicateRule;
use gridgov_spatial::workflow::DeadlineRules;
use gridgov_spatial::{Date, Timestamp};

use crate::clock::Clock;
use crate::ports::{Change, Store, StoreError};
use crate::read_model::{ReadModel, Snapshot};

/// The rules cases run by.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Deadlines per category and level, and whether overdue cases
    /// escalate by themselves.
    pub deadlines: DeadlineRules,
    /// When two reports are suggested as duplicates.
    pub duplicates: DuplicateRule,
}

/// Told which cases changed after each write the application sees (its
/// own, the escalation timer's, another replica's): the ids, or none for
/// "all of them may have" (an import, a reload). Called on the writer's
/// thread: it should hand the news on, not work on it.
pub type CaseListener = Box<dyn Fn(&App, &[i64]) + Send + Sync>;

/// The application over one store.
pub struct App {
    /// Where the data lives.
    pub store: Arc<dyn Store>,
    /// What readers see.
    pub model: ReadModel,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Deadlines and duplicates.
    pub rules: Rules,
    /// One publish at a time in this process.
    publish_lock: Mutex<()>,
    ids: AtomicU64,
    /// When each open case falls due, for the escalation timer.
    pub(crate) deadlines: Mutex<crate::deadlines::Index>,
    /// Who hears of changed cases.
    listeners: Mutex<Vec<CaseListener>>,
    /// The panoramas' scene index and the data version it was made for.
    pub(crate) scene: Mutex<Option<(i64, Arc<gridgov_spatial::panorama::SceneIndex>)>>,
}

impl App {
    /// The application over `store`: loads and indexes its district.
    /// Blocking.
    pub fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rules: Rules,
    ) -> Result<Self, StoreError> {
        let first = Snapshot::build(
            store.load()?,
            store.grid_versions()?,
            store.latest_version()?,
        );
        let started = clock.now().as_second().saturating_mul(1000);
        Ok(App {
            store,
            model: ReadModel::new(first, started),
            clock,
            rules,
            publish_lock: Mutex::new(()),
            ids: AtomicU64::new(0),
            deadlines: Mutex::default(),
            listeners: Mutex::default(),
            scene: Mutex::default(),
        })
    }

    /// Adds a listener told of every change to cases from now on.
    pub fn on_cases_changed(&self, f: CaseListener) {
        self.listeners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(f);
    }

    fn cases_changed(&self, ids: &[i64]) {
        let ls = self
            .listeners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for l in ls.iter() {
            l(self, ids);
        }
    }

    /// The current snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        self.model.current()
    }

    /// Now, by the application's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Every incident in the store, in id order.
    fn all_incidents(&self) -> Result<Vec<gridgov_spatial::Incident>, StoreError> {
        Ok(self
            .store
            .incidents()?
            .into_iter()
            .map(|x| x.incident)
            .collect())
    }

    /// After incidents changed in the store: the maps, tiles and counts
    /// show the change at once.
    pub fn incidents_changed(&self) -> Result<(), StoreError> {
        self.deadlines_stale();
        self.model.incidents_changed(|| self.all_incidents())?;
        self.cases_changed(&[]);
        Ok(())
    }

    /// After incidents `ids` changed in the store (filed, stepped, moved,
    /// merged): the snapshot takes just those rows from the store, and any
    /// another writer added since; the rest is shared. Blocking.
    pub fn incidents_updated(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        if ids.len() > 4096 {
            // A large import: one read of every row beats one per row.
            return self.incidents_changed();
        }
        let mut read: Vec<i64> = ids.to_vec();
        self.model.incident_rows_changed(
            |have| {
                let mut want: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
                if let Some(&last) = want.last() {
                    // Ids are dense: rows up to the last one asked for
                    // that the snapshot lacks were added by someone.
                    want.extend(have as i64 + 1..last);
                }
                read = want.iter().copied().collect();
                let mut rows = Vec::with_capacity(want.len());
                for id in want {
                    if let Some(x) = self.store.incident(id)? {
                        rows.push((id, x));
                    }
                }
                Ok(rows)
            },
            || self.all_incidents(),
        )?;
        self.deadlines_changed(&read)?;
        self.cases_changed(&read);
        Ok(())
    }

    /// Holds the publish lock (one publish at a time in this process).
    pub(crate) fn publishing(&self) -> MutexGuard<'_, ()> {
        self.publish_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Catches up with versions another process published in the same
    /// store: rebuilds the snapshot from the store's current grids when
    /// it is ahead. The caller holds the publish lock. `true` when a new
    /// snapshot was swapped in.
    pub(crate) fn catch_up_locked(&self) -> Result<bool, StoreError> {
        let latest = self.store.latest_version()?;
        let current = self.current();
        if latest <= current.version {
            return Ok(false);
        }
        self.model
            .replace(|cur| self.snapshot_from_store(cur, latest))?;
        tracing::info!(
            from = current.version,
            to = latest,
            "boundaries refreshed from the store"
        );
        Ok(true)
    }

    /// Catches up with versions another process published (see
    /// [`App::follow_store`]). `true` when a new snapshot was swapped in.
    pub fn catch_up(&self) -> Result<bool, StoreError> {
        let _g = self.publishing();
        self.catch_up_locked()
    }

    /// A snapshot of the store's grids at `version` over the rest of
    /// `base` (buildings, incidents, … do not change with boundaries).
    pub(crate) fn snapshot_from_store(
        &self,
        base: &Snapshot,
        version: i64,
    ) -> Result<Snapshot, StoreError> {
        let grids = self.store.grids_at(version)?;
        let versions = self.store.grid_versions()?;
        let d = crate::boundaries::with_grids(&base.district, &grids);
        Ok(Snapshot::build(d, versions, version).keeping_buildings_of(base))
    }

    /// Follows the store: when another replica publishes, this one
    /// catches up within about a second. The watcher stops with the
    /// application.
    pub fn follow_store(self: &Arc<Self>) -> Result<(), StoreError> {
        let weak = Arc::downgrade(self);
        self.store.watch(Box::new(move |change| {
            let Some(app) = weak.upgrade() else {
                return false;
            };
            let r = match change {
                Change::Version(v) if v > app.current().version => app.catch_up().map(|_| ()),
                Change::Version(_) => Ok(()),
                Change::Incidents(ids) => app.incidents_updated(&ids),
                Change::AllIncidents => app.incidents_changed(),
                Change::Household(id) => app.household_refreshed(id),
                Change::Unit(id) => app.unit_refreshed(id),
                Change::Building(id) => app.building_refreshed(id),
                Change::Roles => app.roles_refreshed(),
            };
            if let Err(e) = r {
                tracing::warn!(error = %e, "cannot apply another replica's writes");
            }
            true
        }))
    }

    /// The snapshot of the boundaries in force on `date`; `None` when no
    /// boundaries were in force then. The latest few are kept.
    pub fn snapshot_on(&self, date: Date) -> Result<Option<Arc<Snapshot>>, StoreError> {
        let Some(version) = self.store.version_on(date)? else {
            return Ok(None);
        };
        self.model
            .past(version, |current| {
                let grids = self.store.grids_at(version)?;
                let d = crate::boundaries::with_grids(&current.district, &grids);
                Ok(Snapshot::build(
                    d,
                    std::collections::HashMap::new(),
                    version,
                ))
            })
            .map(Some)
    }

    /// A fresh id: the clock in seconds, a counter and 32 random bits,
    /// in hex (replicas sharing a store never make the same one).
    pub fn next_id(&self) -> String {
        let s = self.now().as_second();
        let mut r = [0u8; 4];
        // Without randomness the counter and the clock still tell this
        // process's ids apart.
        let _ = getrandom::fill(&mut r);
        format!(
            "{s:x}{:04x}{:08x}",
            self.ids.fetch_add(1, Ordering::Relaxed) & 0xffff,
            u32::from_le_bytes(r)
        )
    }
}
