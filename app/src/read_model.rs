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
    AddressIndex, AreaId, AreaStats, AreaSummary, Assignment, BuildingIndex, Counts, District,
    GridIndex, Household, Incident, Level, Placement, Rows, Unit, assign, assign_incidents,
    place_point, stats,
};

/// Per area, the incidents placed inside it; and those inside no grid.
fn incident_lists(d: &District, a: &Assignment) -> (Rows<Rows<Near>>, Rows<Near>) {
    let mut by_grid = vec![Rows::new(); d.areas.len()];
    let mut outside = Rows::new();
    for (i, (p, x)) in a.incidents.iter().zip(d.incidents.iter()).enumerate() {
        let n = Near::of(i, x);
        match p.grid() {
            Some(g) => by_grid[g.index()].push_back(n),
            None => outside.push_back(n),
        }
    }
    (by_grid.into(), outside)
}

/// An incident in a per-grid list: its index into the district's
/// incidents, and where it is, to a metre (single precision), so that a
/// question about a small place skips most of a grid without reading
/// the incidents themselves.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Near {
    i: u32,
    at: [f32; 2],
}

impl Near {
    #[allow(clippy::cast_possible_truncation)]
    fn of(i: usize, x: &Incident) -> Near {
        Near {
            i: i as u32,
            at: [x.location.x() as f32, x.location.y() as f32],
        }
    }
}

/// `n + by`, never below zero.
fn add(n: usize, by: i64) -> usize {
    (n as i64).saturating_add(by).max(0) as usize
}
use gridgov_tiles::{TileLayers, TileSource};

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
    /// Counts per area (streets, communities, grids, each by code).
    pub stats: Rows<AreaStats>,
    /// Per area: its row in `stats`.
    stats_row: Arc<Vec<usize>>,
    /// Per area: its chain (area, parent, …) as JSON, shared by every
    /// lookup that lands in it.
    pub chain_json: Arc<Vec<String>>,
    /// The current version of each grid (its `ETag`).
    pub grid_versions: Arc<HashMap<String, i64>>,
    /// The boundary version this snapshot shows.
    pub version: i64,
    /// The version of all the data it shows (boundaries and incidents):
    /// moves whenever either changes, never backwards, and differs across
    /// restarts (it starts from the clock), so it can tag caches.
    pub data_version: i64,
    /// Per area: the incidents inside it (indexes into the district's
    /// incidents, in no order), for questions about one place.
    incidents_by_grid: Rows<Rows<Near>>,
    /// The incidents inside no grid.
    incidents_outside: Rows<Near>,
    /// Point → building, built on first use and shared by every snapshot
    /// with the same footprints.
    building_index: Arc<OnceLock<BuildingIndex>>,
    /// The district prepared for map tiles, built on first use.
    tiles: OnceLock<TileSource>,
    /// What this snapshot's tiles are made from: nothing yet, or what an
    /// earlier snapshot had built.
    tile_base: TileBase,
}

/// What a snapshot's tile source is made from, when an earlier snapshot
/// had built one and only incidents or households changed since.
#[derive(Clone, Default)]
enum TileBase {
    /// Nothing to share: every layer is built.
    #[default]
    None,
    /// The layers that do not depend on incidents: the first tile builds
    /// the incident layer.
    Layers(TileLayers),
    /// An earlier source and the incidents changed since (indexes): the
    /// first tile puts just those rows over its incident layer.
    Source(TileSource, Vec<u32>),
}

impl TileBase {
    /// The base for the next snapshot, from this one's built tiles (if
    /// any) or base, and the incidents the next one changes (`None`: all).
    fn next(built: Option<&TileSource>, base: &TileBase, changed: Option<&[u32]>) -> TileBase {
        let (src, before): (&TileSource, &[u32]) = match (built, base) {
            (Some(s), _) => (s, &[]),
            (None, TileBase::Source(s, c)) => (s, c),
            (None, TileBase::Layers(l)) => return TileBase::Layers(l.clone()),
            (None, TileBase::None) => return TileBase::None,
        };
        match changed {
            Some(c) if before.len() + c.len() <= gridgov_tiles::OVERLAY_ROWS => {
                TileBase::Source(src.clone(), [before, c].concat())
            }
            _ => TileBase::Layers(src.layers()),
        }
    }
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
        Self::build_placed(district, grids, assignment, None, grid_versions, version)
    }

    /// [`Snapshot::build`] with the grid index and the placements made
    /// already (by the caller, from `district`), and the address index
    /// when the caller has it.
    pub(crate) fn build_placed(
        district: District,
        grids: GridIndex,
        assignment: Assignment,
        addresses: Option<AddressIndex>,
        grid_versions: HashMap<String, i64>,
        version: i64,
    ) -> Self {
        let addresses = addresses.unwrap_or_else(|| AddressIndex::new(&district, &assignment));
        let stats = stats(&district, &assignment);
        let mut stats_row = vec![usize::MAX; district.areas.len()];
        for (row, a) in stats.iter().enumerate() {
            stats_row[a.id.index()] = row;
        }
        let (by_grid, outside) = incident_lists(&district, &assignment);
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
            stats: stats.into(),
            stats_row: Arc::new(stats_row),
            chain_json: Arc::new(chain_json),
            grid_versions: Arc::new(grid_versions),
            version,
            data_version: 0,
            incidents_by_grid: by_grid,
            incidents_outside: outside,
            building_index: Arc::new(OnceLock::new()),
            tiles: OnceLock::new(),
            tile_base: TileBase::None,
        }
    }

    /// The same boundaries and buildings with other incidents: the grid
    /// and address indexes are shared, every incident is placed again and
    /// the counts redone (an import, or a change made elsewhere).
    #[must_use]
    pub fn with_incidents(&self, incidents: Vec<Incident>) -> Snapshot {
        let mut district = self.district.clone();
        district.incidents = incidents.into();
        let mut assignment = self.assignment.clone();
        assignment.incidents = assign_incidents(&district, &self.grids);
        let stats = stats(&district, &assignment).into();
        let mut next = self.sharing_indexes(district, assignment, stats, None);
        (next.incidents_by_grid, next.incidents_outside) =
            incident_lists(&next.district, &next.assignment);
        next
    }

    /// The same with some incidents as they are now in the store, each
    /// `(id, incident)`: a known id replaces its row, the next id
    /// appends one. Only those rows are placed and counted again; every
    /// other row, index and the tables of the district are shared with
    /// this snapshot. `None` when the ids leave a gap (rows another writer
    /// added that are not among them): the caller reads them too.
    ///
    /// ```
    /// use gridgov_app::Snapshot;
    /// let d = gridgov_spatial::sample::district(&Default::default());
    /// let n = d.incidents.len() as i64;
    /// let s = Snapshot::build(d, Default::default(), 1);
    /// let mut x = s.district.incidents[0].clone();
    /// x.status = gridgov_spatial::IncidentStatus::Closed;
    /// let t = s.with_incident_rows(&[(1, x), (n + 1, s.district.incidents[1].clone())]).unwrap();
    /// assert_eq!(t.district.incidents.len() as i64, n + 1);
    /// assert!(s.with_incident_rows(&[(n + 2, s.district.incidents[1].clone())]).is_none());
    /// ```
    #[must_use]
    pub fn with_incident_rows(&self, rows: &[(i64, Incident)]) -> Option<Snapshot> {
        let mut district = self.district.clone();
        let mut assignment = self.assignment.clone();
        let mut counts = self.stats.clone();
        let mut by_grid = self.incidents_by_grid.clone();
        let mut outside = self.incidents_outside.clone();
        // Files incident `i` (at `x`) under `p`, or takes it out.
        let mut file = |i: usize, p: Placement, x: Option<&Incident>| {
            let list = match p.grid() {
                Some(g) => match by_grid.get_mut(g.index()) {
                    Some(l) => l,
                    None => return,
                },
                None => &mut outside,
            };
            match x {
                Some(x) => list.push_back(Near::of(i, x)),
                None => {
                    if let Some(k) = list.iter().position(|n| n.i as usize == i) {
                        list.remove(k);
                    }
                }
            }
        };
        let mut rows: Vec<&(i64, Incident)> = rows.iter().collect();
        rows.sort_by_key(|r| r.0);
        let mut changed = Vec::with_capacity(rows.len());
        for (id, x) in rows {
            let i = usize::try_from(id - 1).ok()?;
            changed.push(u32::try_from(i).ok()?);
            let n = district.incidents.len();
            let place = |old: Option<(&Incident, Placement)>| match old {
                Some((o, p)) if o.location == x.location => p,
                _ => place_point(&self.grids, x.location.x(), x.location.y()),
            };
            match i.cmp(&n) {
                std::cmp::Ordering::Less => {
                    let old = &district.incidents[i];
                    let was = assignment.incidents[i];
                    let open = i64::from(old.status.is_open());
                    self.count(&mut counts, was.responsible(), -1, -open);
                    let p = place(Some((old, was)));
                    self.count(
                        &mut counts,
                        p.responsible(),
                        1,
                        i64::from(x.status.is_open()),
                    );
                    if p != was || old.location != x.location {
                        file(i, was, None);
                        file(i, p, Some(x));
                    }
                    district.incidents.set(i, x.clone());
                    assignment.incidents.set(i, p);
                }
                std::cmp::Ordering::Equal => {
                    let p = place(None);
                    self.count(
                        &mut counts,
                        p.responsible(),
                        1,
                        i64::from(x.status.is_open()),
                    );
                    file(i, p, Some(x));
                    district.incidents.push_back(x.clone());
                    assignment.incidents.push_back(p);
                }
                std::cmp::Ordering::Greater => return None,
            }
        }
        let mut next = self.sharing_indexes(district, assignment, counts, Some(&changed));
        next.incidents_by_grid = by_grid;
        next.incidents_outside = outside;
        Some(next)
    }

    /// The same with household `i` changed (its row, and the residents
    /// it counts for where it is).
    ///
    /// ```
    /// use gridgov_app::Snapshot;
    /// let s = Snapshot::build(gridgov_spatial::sample::district(&Default::default()), Default::default(), 1);
    /// let mut h = s.district.households[0].clone();
    /// h.headcount += 2;
    /// let t = s.with_household(0, h);
    /// let people = |s: &Snapshot| s.stats.iter().map(|a| a.counts.residents).max().unwrap();
    /// assert_eq!(people(&t), people(&s) + 2);
    /// ```
    #[must_use]
    pub fn with_household(&self, i: usize, h: Household) -> Snapshot {
        let mut district = self.district.clone();
        let mut counts = self.stats.clone();
        if let Some(old) = district.households.get(i) {
            let by = i64::from(h.headcount) - i64::from(old.headcount);
            let g = self.assignment.households[i].responsible();
            self.adjust(&mut counts, g, |c| c.residents = add(c.residents, by));
            district.households.set(i, h);
        }
        self.sharing_indexes(district, self.assignment.clone(), counts, Some(&[]))
    }

    /// The same with building `i`'s leaders changed (nothing moves, no
    /// count changes, nothing drawn changes).
    #[must_use]
    pub fn with_building(&self, i: usize, b: gridgov_spatial::Building) -> Snapshot {
        let mut district = self.district.clone();
        if i < district.buildings.len() {
            district.buildings.set(i, b);
        }
        self.sharing_indexes(
            district,
            self.assignment.clone(),
            self.stats.clone(),
            Some(&[]),
        )
    }

    /// The building `(lon, lat)` (WGS 84) is in, by the rule of
    /// [`BuildingIndex`]; the index is built on the first call.
    ///
    /// ```
    /// use gridgov_app::Snapshot;
    /// let s = Snapshot::build(gridgov_spatial::sample::district(&Default::default()), Default::default(), 1);
    /// let b = &s.district.buildings[3];
    /// let p = geo::InteriorPoint::interior_point(&b.footprint).unwrap();
    /// assert_eq!(s.building_at(p.x(), p.y()).map(|b| b.index()), Some(3));
    /// ```
    pub fn building_at(&self, lon: f64, lat: f64) -> Option<gridgov_spatial::BuildingId> {
        self.building_index
            .get_or_init(|| BuildingIndex::new(&self.district))
            .at(&self.district, lon, lat)
    }

    /// The same snapshot sharing `prev`'s building index: for a snapshot
    /// made from `prev` with other boundaries but the same buildings.
    #[must_use]
    pub(crate) fn keeping_buildings_of(mut self, prev: &Snapshot) -> Snapshot {
        if self.district.buildings.len() == prev.district.buildings.len() {
            self.building_index = prev.building_index.clone();
        }
        self
    }

    /// The same with the district's list of staff roles replaced (nothing
    /// moves, no count changes, no tile shows a role).
    #[must_use]
    pub fn with_roles(&self, roles: gridgov_spatial::Roles) -> Snapshot {
        let mut district = self.district.clone();
        district.roles = roles;
        self.sharing_indexes(
            district,
            self.assignment.clone(),
            self.stats.clone(),
            Some(&[]),
        )
    }

    /// The same with unit `i` changed (its label and household count;
    /// nothing moves, no count changes).
    #[must_use]
    pub fn with_unit(&self, i: usize, u: Unit) -> Snapshot {
        let mut district = self.district.clone();
        if i < district.units.len() {
            district.units.set(i, u);
        }
        let mut next = self.sharing_indexes(
            district,
            self.assignment.clone(),
            self.stats.clone(),
            Some(&[]),
        );
        // Units are drawn with their labels and households: new layers.
        next.tile_base = TileBase::None;
        next
    }

    /// Counts an incident in or out (`incidents`, `open` of +1 or -1) of
    /// the grid responsible for it and the areas above it.
    fn count(&self, counts: &mut Rows<AreaStats>, g: Option<AreaId>, incidents: i64, open: i64) {
        self.adjust(counts, g, |c| {
            c.incidents = add(c.incidents, incidents);
            c.open_incidents = add(c.open_incidents, open);
        });
    }

    /// Applies `f` to the counts of `g` and of the areas its counts roll
    /// up into, as [`stats`] rolls them: grids into their parents,
    /// communities into theirs.
    fn adjust(&self, counts: &mut Rows<AreaStats>, g: Option<AreaId>, f: impl Fn(&mut Counts)) {
        let Some(mut cur) = g else { return };
        let d = &self.district;
        for _ in 0..8 {
            if let Some(c) = self
                .stats_row
                .get(cur.index())
                .and_then(|&r| counts.get_mut(r))
            {
                f(&mut c.counts);
            }
            let a = d.area(cur);
            match (a.level, a.parent) {
                (Level::Grid | Level::Community, Some(p)) => cur = p,
                _ => break,
            }
        }
    }

    fn sharing_indexes(
        &self,
        district: District,
        assignment: Assignment,
        stats: Rows<AreaStats>,
        changed: Option<&[u32]>,
    ) -> Snapshot {
        Snapshot {
            district,
            grids: self.grids.clone(),
            assignment,
            addresses: self.addresses.clone(),
            stats,
            stats_row: self.stats_row.clone(),
            incidents_by_grid: self.incidents_by_grid.clone(),
            incidents_outside: self.incidents_outside.clone(),
            chain_json: self.chain_json.clone(),
            grid_versions: self.grid_versions.clone(),
            version: self.version,
            data_version: self.data_version + 1,
            building_index: self.building_index.clone(),
            tiles: OnceLock::new(),
            tile_base: TileBase::next(self.tiles.get(), &self.tile_base, changed),
        }
    }

    /// The incidents (indexes into `district.incidents`) that may lie
    /// within `rect` (lon/lat): those of the grids whose boxes meet it and
    /// of no grid, that lie within it or within about ten metres of it
    /// (places are kept to a metre here; callers check exactly).
    ///
    /// ```
    /// use gridgov_app::Snapshot;
    /// let s = Snapshot::build(gridgov_spatial::sample::district(&Default::default()), Default::default(), 1);
    /// let p = s.district.incidents[0].location;
    /// let r = geo::Rect::new((p.x() - 1e-3, p.y() - 1e-3), (p.x() + 1e-3, p.y() + 1e-3));
    /// let near = s.incidents_near(r);
    /// assert!(near.contains(&0) && near.len() < s.district.incidents.len());
    /// ```
    pub fn incidents_near(&self, rect: geo::Rect<f64>) -> Vec<usize> {
        let m = 1e-4;
        #[allow(clippy::cast_possible_truncation)]
        let (x0, y0, x1, y1) = (
            (rect.min().x - m) as f32,
            (rect.min().y - m) as f32,
            (rect.max().x + m) as f32,
            (rect.max().y + m) as f32,
        );
        let inside = |n: &&Near| n.at[0] >= x0 && n.at[0] <= x1 && n.at[1] >= y0 && n.at[1] <= y1;
        let mut out: Vec<usize> = self
            .incidents_outside
            .iter()
            .filter(inside)
            .map(|n| n.i as usize)
            .collect();
        for g in self.grids.candidates(rect) {
            if let Some(l) = self.incidents_by_grid.get(g.index()) {
                out.extend(l.iter().filter(inside).map(|n| n.i as usize));
            }
        }
        out
    }

    /// The incidents grid `g` answers for (indexes into
    /// `district.incidents`): those inside it, and those outside every
    /// grid whose nearest grid it is. Costs what the grid holds.
    ///
    /// ```
    /// use gridgov_app::Snapshot;
    /// let s = Snapshot::build(gridgov_spatial::sample::district(&Default::default()), Default::default(), 1);
    /// let g = s.assignment.incidents[0].responsible().unwrap();
    /// assert!(s.incidents_of_grid(g).contains(&0));
    /// ```
    pub fn incidents_of_grid(&self, g: gridgov_spatial::AreaId) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .incidents_by_grid
            .get(g.index())
            .map(|l| l.iter().map(|n| n.i as usize).collect())
            .unwrap_or_default();
        out.extend(
            self.incidents_outside
                .iter()
                .map(|n| n.i as usize)
                .filter(|&i| {
                    self.assignment
                        .incidents
                        .get(i)
                        .and_then(|p| p.responsible())
                        == Some(g)
                }),
        );
        out.sort_unstable();
        out
    }

    /// The snapshot prepared for tiles (built on first use).
    pub fn tile_source(&self) -> &TileSource {
        let (d, a, s) = (&self.district, &self.assignment, &self.stats);
        self.tiles.get_or_init(|| match &self.tile_base {
            TileBase::Source(src, changed) => src.with_changed_incidents(d, a, s, changed),
            TileBase::Layers(l) => TileSource::with_layers(l, d, a, s),
            TileBase::None => TileSource::new(d, a, s),
        })
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

    /// Swaps in `make(current)` under the refresh lock, so that no write
    /// made meanwhile is lost from the read model (a publish, a catch-up:
    /// their new snapshot is made from the current one). Blocking.
    pub fn replace<E>(&self, make: impl FnOnce(&Snapshot) -> Result<Snapshot, E>) -> Result<(), E> {
        let _g = self
            .refresh_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let cur = self.current();
        let next = make(&cur)?;
        self.swap(next);
        Ok(())
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

    /// After some incidents changed in the store: `read`, given how many
    /// incidents the current snapshot has, reads the rows that changed
    /// (`(id, incident)`, with any rows added since by other writers), and
    /// the new snapshot replaces or appends just those
    /// ([`Snapshot::with_incident_rows`]). When the rows leave a gap,
    /// `read_all` reads every incident instead. Blocking.
    pub fn incident_rows_changed<E>(
        &self,
        read: impl FnOnce(usize) -> Result<Vec<(i64, Incident)>, E>,
        read_all: impl FnOnce() -> Result<Vec<Incident>, E>,
    ) -> Result<(), E> {
        let _g = self
            .refresh_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let cur = self.current();
        let rows = read(cur.district.incidents.len())?;
        let next = match cur.with_incident_rows(&rows) {
            Some(next) => next,
            None => cur.with_incidents(read_all()?),
        };
        self.swap(next);
        Ok(())
    }

    /// A change in place (households, units): under the refresh lock,
    /// `write` stores it and says how the snapshot changes (`None`: there
    /// was nothing to change), from the current one to the next.
    pub fn changed_in_place<E, F: FnOnce(&Snapshot) -> Snapshot>(
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
                self.swap(change(&cur));
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

#[cfg(test)]
mod near_tests {
    use super::*;

    #[test]
    fn no_more_than_a_few_past_snapshots_are_kept_however_many_dates_are_asked() {
        let d = gridgov_spatial::sample::district(&gridgov_spatial::sample::SampleSpec::default());
        let m = ReadModel::new(Snapshot::build(d, HashMap::new(), 100), 1);
        for v in 1..40 {
            let s = m
                .past(v, |cur| {
                    Ok::<_, ()>(Snapshot::build(cur.district.clone(), HashMap::new(), v))
                })
                .unwrap();
            assert_eq!(s.version, v);
        }
        m.history.run_pending_tasks();
        assert!(m.history.entry_count() <= HISTORY_SNAPSHOTS as u64);
        assert!(m.history.entry_count() > 0);
    }

    #[test]
    fn a_pin_moved_within_its_grid_is_found_where_it_went_not_where_it_was() {
        let s = Snapshot::build(
            gridgov_spatial::sample::district(&gridgov_spatial::sample::SampleSpec::default()),
            HashMap::new(),
            1,
        );
        let around = |p: geo::Point<f64>, r: f64| {
            let mut v = s.incidents_near(geo::Rect::new(
                (p.x() - r, p.y() - r),
                (p.x() + r, p.y() + r),
            ));
            v.sort_unstable();
            v
        };
        let mut checked = 0;
        for i in 0..s.district.incidents.len() {
            let mut x = s.district.incidents[i].clone();
            let from = x.location;
            x.location = geo::Point::new(from.x() + 6e-4, from.y() + 6e-4);
            let to = x.location;
            if place_point(&s.grids, to.x(), to.y()) != s.assignment.incidents[i] {
                continue; // moved out of its grid
            }
            let t = s.with_incident_rows(&[(i as i64 + 1, x)]).unwrap();
            let near = |p: geo::Point<f64>, r: f64| {
                let mut v = t.incidents_near(geo::Rect::new(
                    (p.x() - r, p.y() - r),
                    (p.x() + r, p.y() + r),
                ));
                v.sort_unstable();
                v
            };
            assert!(near(to, 1e-5).contains(&i), "incident {i} where it went");
            assert!(!near(from, 1e-5).contains(&i), "incident {i} where it was");
            assert!(around(from, 1e-5).contains(&i));
            checked += 1;
            if checked == 20 {
                break;
            }
        }
        assert_eq!(checked, 20);
    }
}
