//! The read model: everything a reader needs, built once per version of
//! the data ([`Snapshot`]), and how it changes ([`ReadModel`]).
//!
//! Readers work on an immutable snapshot behind an `Arc`; a new one is
//! built off to the side and swapped in whole, so a reader never sees
//! half of a change and is never blocked while one is built. A change
//! that moves no boundary (a new case, a household edited) shares the
//! grid and address indexes with the snapshot before it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use gridgov_spatial::{
    AddressIndex, AreaId, AreaStats, AreaSummary, Assignment, District, GridIndex, Incident,
    assign, assign_incidents, stats,
};
use gridgov_tiles::TileSource;

/// Everything a reader needs, built once per version of the data.
pub struct Snapshot {
    /// The district.
    pub district: District,
    /// Point → grid.
    pub grids: Arc<GridIndex>,
    /// Every entity's grid.
    pub assignment: Assignment,
    /// Address → building.
    pub addresses: Arc<AddressIndex>,
    /// Counts per area.
    pub stats: Vec<AreaStats>,
    /// Per area: its chain (area, parent, …) as JSON, shared by every
    /// lookup that lands in it.
    pub chain_json: Arc<Vec<String>>,
    /// The current version of each grid (its `ETag`).
    pub grid_versions: HashMap<String, i64>,
    /// The boundary version this snapshot shows.
    pub version: i64,
    /// The version of all the data it shows (boundaries and incidents):
    /// moves whenever either changes, never backwards, and differs across
    /// restarts (it starts from the clock), so it can tag caches.
    pub data_version: i64,
    /// The district prepared for map tiles, built on first use.
    tiles: OnceLock<TileSource>,
}

impl Snapshot {
    /// Builds the indexes for a district.
    ///
    /// ```
    /// use gridgov_app::Snapshot;
    /// let d = gridgov_spatial::sample::district(&Default::default());
    /// let s = Snapshot::build(d, Default::default(), 1);
    /// assert_eq!(s.district.grids().count(), 52);
    /// ```
    pub fn build(district: District, grid_versions: HashMap<String, i64>, version: i64) -> Self {
        let grids = GridIndex::new(&district);
        let assignment = assign(&district, &grids);
        let addresses = AddressIndex::new(&district, &assignment);
        let stats = stats(&district, &assignment);
        let chain_json = (0..district.areas.len())
            .map(|i| {
                let chain: Vec<AreaSummary> = district
                    .chain(AreaId(i as u32))
                    .into_iter()
                    .map(|a| AreaSummary::of(&district, a))
                    .collect();
                serde_json::to_string(&chain).unwrap_or_else(|_| "[]".into())
            })
            .collect();
        Snapshot {
            district,
            grids: Arc::new(grids),
            assignment,
            addresses: Arc::new(addresses),
            stats,
            chain_json: Arc::new(chain_json),
            grid_versions,
            version,
            data_version: 0,
            tiles: OnceLock::new(),
        }
    }

    /// The same boundaries and buildings with other incidents: the grid
    /// and address indexes are shared, only the incidents are placed.
    #[must_use]
    pub fn with_incidents(&self, incidents: Vec<Incident>) -> Snapshot {
        let mut district = self.district.clone();
        district.incidents = incidents;
        let mut assignment = self.assignment.clone();
        assignment.incidents = assign_incidents(&district, &self.grids);
        let stats = stats(&district, &assignment);
        self.sharing_indexes(district, assignment, stats)
    }

    /// The same with households or units changed by `change` (nothing
    /// moves: indexes and placement are shared; counts are redone).
    #[must_use]
    pub fn with_change(&self, change: impl FnOnce(&mut District)) -> Snapshot {
        let mut district = self.district.clone();
        change(&mut district);
        let stats = stats(&district, &self.assignment);
        self.sharing_indexes(district, self.assignment.clone(), stats)
    }

    fn sharing_indexes(
        &self,
        district: District,
        assignment: Assignment,
        stats: Vec<AreaStats>,
    ) -> Snapshot {
        Snapshot {
            district,
            grids: self.grids.clone(),
            assignment,
            addresses: self.addresses.clone(),
            stats,
            chain_json: self.chain_json.clone(),
            grid_versions: self.grid_versions.clone(),
            version: self.version,
            data_version: self.data_version + 1,
            tiles: OnceLock::new(),
        }
    }

    /// The snapshot prepared for tiles (built on first use).
    pub fn tile_source(&self) -> &TileSource {
        self.tiles
            .get_or_init(|| TileSource::new(&self.district, &self.assignment, &self.stats))
    }
}

/// How many past versions' snapshots are kept for `as_of` lookups.
pub const HISTORY_SNAPSHOTS: usize = 8;

/// The current snapshot and how it changes.
pub struct ReadModel {
    current: RwLock<Arc<Snapshot>>,
    /// Snapshots of past versions, for `as_of` lookups: the few most
    /// useful.
    history: moka::sync::Cache<i64, Arc<Snapshot>>,
    /// Incidents changed in the store since the snapshot was built.
    incidents_dirty: AtomicBool,
    /// One incident refresh at a time.
    refresh_lock: Mutex<()>,
}

impl ReadModel {
    /// A model showing `first`, its data version starting at `data_version`
    /// (the clock in milliseconds, so that it differs across restarts).
    pub fn new(mut first: Snapshot, data_version: i64) -> Self {
        first.data_version = data_version;
        ReadModel {
            current: RwLock::new(Arc::new(first)),
            history: moka::sync::Cache::new(HISTORY_SNAPSHOTS as u64),
            incidents_dirty: AtomicBool::new(false),
            refresh_lock: Mutex::new(()),
        }
    }

    /// The current snapshot; cheap (one `Arc` clone).
    pub fn current(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Swaps in a new snapshot; readers holding the old one finish on it.
    /// Versions only move forward: an older snapshot is dropped.
    pub fn swap(&self, next: Snapshot) {
        let mut cur = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if next.version >= cur.version {
            let mut next = next;
            next.data_version = next.data_version.max(cur.data_version + 1);
            *cur = Arc::new(next);
        }
    }

    /// After incidents changed in the store: swaps in a snapshot with
    /// `read()`'s incidents. Writers that change at the same time share
    /// one rebuild. Blocking.
    pub fn incidents_changed<E>(
        &self,
        read: impl FnOnce() -> Result<Vec<Incident>, E>,
    ) -> Result<(), E> {
        self.incidents_dirty.store(true, Ordering::SeqCst);
        let _g = self
            .refresh_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !self.incidents_dirty.swap(false, Ordering::SeqCst) {
            // Another writer's rebuild read the store after this change.
            return Ok(());
        }
        let xs = read()?;
        let cur = self.current();
        self.swap(cur.with_incidents(xs));
        Ok(())
    }

    /// A change in place (households, units): under the refresh lock,
    /// `write` stores it and says how the district changes (`None`: there
    /// was nothing to change); the new snapshot shares every index.
    pub fn changed_in_place<E, F: FnOnce(&mut District)>(
        &self,
        write: impl FnOnce() -> Result<Option<F>, E>,
    ) -> Result<Option<()>, E> {
        let _g = self
            .refresh_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match write()? {
            Some(change) => {
                let cur = self.current();
                self.swap(cur.with_change(change));
                Ok(Some(()))
            }
            None => Ok(None),
        }
    }

    /// A past version's snapshot, kept or built by `build` (and then
    /// kept, at most [`HISTORY_SNAPSHOTS`] of them).
    pub fn past<E>(
        &self,
        version: i64,
        build: impl FnOnce(&Snapshot) -> Result<Snapshot, E>,
    ) -> Result<Arc<Snapshot>, E> {
        let current = self.current();
        if version == current.version {
            return Ok(current);
        }
        if let Some(s) = self.history.get(&version) {
            return Ok(s);
        }
        let snap = Arc::new(build(&current)?);
        self.history.insert(version, snap.clone());
        Ok(snap)
    }
}
