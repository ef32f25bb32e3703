//! The HTTP service: an adapter from HTTP to the spatial core, over a store.
//!
//! Readers work on an immutable [`Snapshot`] (district, indexes, assignment,
//! statistics) behind an `Arc`; a new snapshot is built off to the side and
//! swapped in whole, so a reader never sees half of a change and is never
//! blocked while one is built.

mod accounts;
pub mod auth;
mod cases;
mod editing;
mod error;
mod features;
pub mod harden;
mod households;
mod lookup;
mod open311;
mod openapi;
mod reports;
mod tiles;
pub mod tls;
mod web;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use gridgov_spatial::{
    AddressIndex, AreaStats, AreaSummary, Assignment, District, GridIndex, assign, stats,
};

pub use error::ApiError;

use crate::storage::Store;

/// Settings of a running service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Public base URL for links, without a trailing slash.
    pub base_url: String,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The font grid names on plan-map tiles are drawn in; none: no names.
    pub label_font: Option<gridgov_tiles::LabelFont>,
    /// Most bytes of rendered tiles kept per version; 0 renders every
    /// request afresh.
    pub tile_cache_bytes: usize,
    /// Deadlines per category and level, and whether overdue cases
    /// escalate by themselves.
    pub deadlines: gridgov_spatial::workflow::DeadlineRules,
    /// When two reports are suggested as duplicates.
    pub duplicates: gridgov_spatial::duplicates::DuplicateRule,
    /// Rate limit, time limit, CORS.
    pub guard: harden::Guard,
    /// Whether it is served over TLS (sign-in cookies are then `Secure`).
    pub tls: bool,
}

impl Default for Config {
    /// The settings of `gridgov serve` without options (no label font).
    fn default() -> Self {
        Config {
            base_url: "http://127.0.0.1:8080".into(),
            body_limit: 10 * 1024 * 1024,
            label_font: None,
            tile_cache_bytes: 64 << 20,
            deadlines: gridgov_spatial::workflow::DeadlineRules::default(),
            duplicates: gridgov_spatial::duplicates::DuplicateRule::default(),
            guard: harden::Guard::default(),
            tls: false,
        }
    }
}

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
    pub tiles: std::sync::OnceLock<gridgov_tiles::TileSource>,
}

impl Snapshot {
    /// Builds the indexes for a district.
    pub fn build(district: District, grid_versions: HashMap<String, i64>, version: i64) -> Self {
        let grids = GridIndex::new(&district);
        let assignment = assign(&district, &grids);
        let addresses = AddressIndex::new(&district, &assignment);
        let stats = stats(&district, &assignment);
        let chain_json = (0..district.areas.len())
            .map(|i| {
                let chain: Vec<AreaSummary> = district
                    .chain(gridgov_spatial::AreaId(i as u32))
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
            data_version: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_millis() as i64),
            tiles: std::sync::OnceLock::new(),
        }
    }
}

impl Snapshot {
    /// The same boundaries and buildings with other incidents: the grid
    /// and address indexes are shared, only the incidents are placed.
    #[must_use]
    pub fn with_incidents(&self, incidents: Vec<gridgov_spatial::Incident>) -> Snapshot {
        let mut district = self.district.clone();
        district.incidents = incidents;
        let mut assignment = self.assignment.clone();
        assignment.incidents = gridgov_spatial::assign_incidents(&district, &self.grids);
        let stats = stats(&district, &assignment);
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
            tiles: std::sync::OnceLock::new(),
        }
    }
}

impl Snapshot {
    /// The same with households or units changed by `change` (nothing
    /// moves: indexes and placement are shared; counts are redone).
    #[must_use]
    pub fn with_change(&self, change: impl FnOnce(&mut District)) -> Snapshot {
        let mut district = self.district.clone();
        change(&mut district);
        let stats = stats(&district, &self.assignment);
        Snapshot {
            district,
            grids: self.grids.clone(),
            assignment: self.assignment.clone(),
            addresses: self.addresses.clone(),
            stats,
            chain_json: self.chain_json.clone(),
            grid_versions: self.grid_versions.clone(),
            version: self.version,
            data_version: self.data_version + 1,
            tiles: std::sync::OnceLock::new(),
        }
    }
}

/// Shared state of the service.
pub struct AppState {
    snapshot: RwLock<Arc<Snapshot>>,
    /// One publish at a time in this process.
    pub publish_lock: tokio::sync::Mutex<()>,
    /// Snapshots of past versions, for `as_of` lookups.
    history: Mutex<HashMap<i64, Arc<Snapshot>>>,
    ids: AtomicU64,
    /// Rendered tiles of the current version.
    pub tile_cache: tiles::SharedTileCache,
    /// Where the data lives.
    pub store: Arc<dyn Store>,
    /// Settings.
    pub config: Config,
    /// Incidents changed in the store since the snapshot was built.
    incidents_dirty: std::sync::atomic::AtomicBool,
    /// One incident or household refresh at a time.
    refresh_lock: Mutex<()>,
    /// Requests per client address and per token.
    pub limiter: harden::Limiter,
    /// Tokens looked up lately.
    pub tokens: auth::TokenCache,
}

impl AppState {
    /// State over `store`, loading and indexing its district.
    pub fn new(
        store: Arc<dyn Store>,
        config: Config,
    ) -> Result<Self, crate::storage::StorageError> {
        let snapshot = Snapshot::build(
            store.load()?,
            store.grid_versions()?,
            store.latest_version()?,
        );
        Ok(AppState {
            snapshot: RwLock::new(Arc::new(snapshot)),
            publish_lock: tokio::sync::Mutex::new(()),
            history: Mutex::new(HashMap::new()),
            ids: AtomicU64::new(0),
            tile_cache: tiles::SharedTileCache::default(),
            store,
            config,
            incidents_dirty: std::sync::atomic::AtomicBool::new(false),
            refresh_lock: Mutex::new(()),
            limiter: harden::Limiter::default(),
            tokens: auth::TokenCache::default(),
        })
    }

    /// After incidents changed in the store: swaps in a snapshot with the
    /// store's incidents, so maps, tiles and counts show the change at
    /// once. Writers that change at the same time share one rebuild.
    /// Blocking.
    pub fn incidents_changed(&self) -> Result<(), crate::storage::StorageError> {
        self.incidents_dirty.store(true, Ordering::SeqCst);
        let _g = self
            .refresh_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !self.incidents_dirty.swap(false, Ordering::SeqCst) {
            // Another writer's rebuild read the store after this change.
            return Ok(());
        }
        let xs = self.store.incidents(None)?;
        let cur = self.current();
        self.swap(cur.with_incidents(xs.into_iter().map(|(_, x)| x).collect()));
        Ok(())
    }

    /// Swaps in a new snapshot; readers holding the old one finish on it.
    /// Versions only move forward: an older snapshot is dropped.
    pub fn swap(&self, next: Snapshot) {
        let mut cur = self
            .snapshot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if next.version >= cur.version {
            let mut next = next;
            next.data_version = next.data_version.max(cur.data_version + 1);
            *cur = Arc::new(next);
        }
    }

    /// Catches up with versions another process published in the same
    /// store: rebuilds the snapshot from the store's current grids when it
    /// is ahead. The caller holds `publish_lock`. Blocking: call it off
    /// the async threads. `true` when a new snapshot was swapped in.
    pub fn catch_up(&self) -> Result<bool, crate::storage::StorageError> {
        let latest = self.store.latest_version()?;
        let current = self.current();
        if latest <= current.version {
            return Ok(false);
        }
        self.swap(self.snapshot_from_store(&current, latest)?);
        tracing::info!(
            from = current.version,
            to = latest,
            "boundaries refreshed from the store"
        );
        Ok(true)
    }

    /// A snapshot of the store's grids at `version` over the rest of
    /// `base` (buildings, incidents, … do not change with boundaries).
    /// Blocking.
    pub fn snapshot_from_store(
        &self,
        base: &Snapshot,
        version: i64,
    ) -> Result<Snapshot, crate::storage::StorageError> {
        let grids = self.store.grids_at(version)?;
        let versions = self.store.grid_versions()?;
        let d = crate::storage::versions::with_grids(&base.district, &grids);
        Ok(Snapshot::build(d, versions, version))
    }

    /// Follows the store: when another replica publishes, this one
    /// catches up within about a second. The watcher stops with the state.
    pub fn follow_store(self: &Arc<Self>) -> Result<(), crate::storage::StorageError> {
        let weak = Arc::downgrade(self);
        self.store.watch(Box::new(move |version| {
            let Some(st) = weak.upgrade() else {
                return false;
            };
            if version > st.current().version {
                let _guard = st.publish_lock.blocking_lock();
                if let Err(e) = st.catch_up() {
                    tracing::warn!(error = %e, "cannot refresh the boundaries");
                }
            }
            true
        }))
    }

    /// A fresh id for drafts: time in microseconds and a counter.
    pub fn next_id(&self) -> String {
        let us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        format!("{us:x}{:x}", self.ids.fetch_add(1, Ordering::Relaxed))
    }

    /// The snapshot of the boundaries in force on `date` (YYYY-MM-DD).
    pub fn snapshot_on(&self, date: &str) -> Result<Arc<Snapshot>, ApiError> {
        let version = self
            .store
            .version_on(date)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found(format!("no boundaries were in force on {date}")))?;
        let current = self.current();
        if version == current.version {
            return Ok(current);
        }
        if let Some(s) = self
            .history
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&version)
        {
            return Ok(s.clone());
        }
        let grids = self.store.grids_at(version).map_err(ApiError::internal)?;
        let d = crate::storage::versions::with_grids(&current.district, &grids);
        let snap = Arc::new(Snapshot::build(d, HashMap::new(), version));
        self.history
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(version, snap.clone());
        Ok(snap)
    }

    /// The current snapshot; cheap (one `Arc` clone).
    pub fn current(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Now, in whole seconds.
pub fn now() -> gridgov_spatial::Timestamp {
    gridgov_spatial::time::whole_seconds(gridgov_spatial::Timestamp::now())
}

/// Now, as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    gridgov_spatial::time::stored(now())
}

/// The `now` parameter of a request (RFC 3339); the clock when absent.
pub(crate) fn now_param(s: Option<&str>) -> Result<gridgov_spatial::Timestamp, ApiError> {
    match s {
        None => Ok(now()),
        Some(t) => gridgov_spatial::time::parse_instant(t)
            .map_err(|e| ApiError::bad_request("now", e.to_string())),
    }
}

/// A comma-separated parameter as its non-empty items.
pub(crate) fn comma_list(s: Option<&str>) -> Vec<String> {
    s.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}

/// Seconds since the epoch now.
pub fn now_epoch() -> i64 {
    now().as_second()
}

/// Seconds since the epoch as RFC 3339 UTC.
pub fn rfc3339_of(secs: i64) -> String {
    gridgov_spatial::time::stored(gridgov_spatial::time::from_epoch(secs))
}

async fn health(
    axum::extract::State(st): axum::extract::State<Arc<AppState>>,
) -> impl IntoResponse {
    let snap = st.current();
    axum::Json(serde_json::json!({
        "status": "ok",
        "store": st.store.describe(),
        "grids": snap.district.grids().count(),
        "version": snap.version,
        "data_version": snap.data_version,
    }))
}

/// `GET /district.json`: the whole district at the current version (the
/// same JSON as the seed file), for clients that draw it themselves such
/// as `gridgov view --server`. `ETag` is the version.
async fn district_json(
    axum::extract::State(st): axum::extract::State<Arc<AppState>>,
    caller: auth::Caller,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::{HeaderValue, StatusCode, header};
    use gridgov_spatial::access::{Access, Thing, allows};
    let snap = st.current();
    // Incidents go to roles that read every one; anyone else gets those
    // of their grids (or dispatched to them), tagged as theirs.
    let every = caller.may(
        &Thing::Incident {
            grid: None,
            assignee: None,
            filed_by: None,
        },
        Access::Read,
    );
    let tag = if every {
        format!("\"{}\"", snap.data_version)
    } else {
        format!("\"{}-{}\"", snap.data_version, caller.principal.user)
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag))
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    // Households' personal fields are masked: nobody is entitled to them
    // over this endpoint.
    let p = caller.principal.clone();
    let body = tokio::task::spawn_blocking(move || {
        let mut d = gridgov_spatial::mask::masked_district(&snap.district);
        if !every {
            let keep: Vec<bool> = (0..d.incidents.len())
                .map(|i| {
                    let grid = snap.assignment.incidents[i]
                        .grid()
                        .map(|g| snap.district.area(g).code.as_str());
                    allows(
                        &p,
                        &Thing::Incident {
                            grid,
                            assignee: None,
                            filed_by: None,
                        },
                        Access::Read,
                    )
                })
                .collect();
            let mut k = keep.iter();
            d.incidents.retain(|_| *k.next().unwrap_or(&false));
        }
        serde_json::to_vec(&d)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    Ok(r)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no such resource: {}", uri.path()))
}

/// The router over `state`.
pub fn app(state: Arc<AppState>) -> Router {
    let limit = state.config.body_limit;
    Router::new()
        .route("/", get(web::root))
        .route("/map", get(web::page))
        .route("/web/{*path}", get(web::asset))
        .route("/conformance", get(features::conformance))
        .route("/collections", get(features::collections))
        .route("/collections/{id}", get(features::collection))
        .route("/collections/{id}/items", get(features::items))
        .route("/collections/{id}/items/{fid}", get(features::item))
        .route("/lookup", get(lookup::lookup))
        .route("/lookup/batch", post(lookup::batch))
        .route("/summary", get(lookup::summary))
        .route("/drafts", post(editing::create_draft))
        .route("/drafts/{id}", get(editing::get_draft))
        .route("/drafts/{id}/validate", get(editing::validate_draft))
        .route("/drafts/{id}/preview", get(editing::preview_draft))
        .route("/drafts/{id}/publish", post(editing::publish_draft))
        .route(
            "/grids/{code}",
            get(editing::get_grid).put(editing::put_grid),
        )
        .route("/grids/{code}/history", get(editing::grid_history))
        .route("/versions", get(editing::versions))
        .route("/versions/{n}/rollback", post(editing::rollback))
        .route("/incidents", get(cases::list).post(cases::file))
        .route("/incidents/escalate", post(cases::escalate))
        .route("/incidents/import", post(cases::import))
        .route("/incidents/{id}", get(cases::get))
        .route("/incidents/{id}/steps", post(cases::step))
        .route("/incidents/{id}/move", post(cases::move_pin))
        .route("/incidents/{id}/duplicates", get(cases::duplicates))
        .route("/incidents/{id}/merge", post(cases::merge))
        .route("/stats/incidents", get(reports::incident_stats))
        .route("/hotspots", get(reports::hotspots))
        .route("/reports", get(reports::index))
        .route("/reports/{name}", get(reports::report))
        .route("/open311/v2/services.json", get(open311::service_list))
        .route(
            "/open311/v2/services/{code}",
            get(open311::service_definition),
        )
        .route(
            "/open311/v2/requests.json",
            get(open311::get_requests).post(open311::post_request),
        )
        .route("/open311/v2/requests/{id}", get(open311::get_request))
        .route("/tiles.json", get(tiles::tilejson))
        .route("/tiles/heatmap/legend.json", get(tiles::heat_legend))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(tiles::tile))
        .route("/openapi.json", get(openapi::document))
        .route("/health", get(health))
        .route("/district.json", get(district_json))
        .route("/households", get(households::list))
        .route(
            "/households/{id}",
            get(households::get).put(households::put),
        )
        .route("/units/{id}", axum::routing::put(households::put_unit))
        .route("/login", post(accounts::login))
        .route("/logout", post(accounts::logout))
        .route("/me", get(accounts::me))
        .route(
            "/me/password",
            axum::routing::put(accounts::change_password),
        )
        .route("/users", get(accounts::users).post(accounts::create_user))
        .route(
            "/users/{name}",
            get(accounts::user).put(accounts::update_user),
        )
        .route("/tokens", get(accounts::tokens).post(accounts::issue_token))
        .route(
            "/tokens/{id}",
            axum::routing::delete(accounts::revoke_token),
        )
        .route("/audit", get(accounts::audit))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            harden::guard,
        ))
        .with_state(state)
}

/// How to run the service.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// The store: a GeoPackage path, or a `postgres://` URL.
    pub db: String,
    /// The district JSON the store is created from when missing.
    pub seed: std::path::PathBuf,
    /// Largest request body.
    pub body_limit: usize,
    /// The label font file; default: found among the installed fonts.
    pub font: Option<std::path::PathBuf>,
    /// Most bytes of rendered tiles kept.
    pub tile_cache_bytes: usize,
    /// Deadlines and escalation.
    pub deadlines: gridgov_spatial::workflow::DeadlineRules,
    /// Rate limit, time limit, CORS.
    pub guard: harden::Guard,
    /// Seconds between checks for overdue cases to escalate (0: never).
    pub escalate_every_s: u64,
    /// A PEM certificate chain and private key: serve HTTPS.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// Opens the store `db` names: a `postgres://` or `postgresql://` URL is a
/// PostGIS database, anything else a GeoPackage file. Either is created
/// from `seed` when empty. Returns the store and whether it was created.
pub fn open_store(
    db: &str,
    seed: &std::path::Path,
) -> Result<(Arc<dyn Store>, bool), crate::storage::StorageError> {
    if crate::store::is_postgres(std::path::Path::new(db)) {
        let (s, created) = crate::storage::PgStore::open_or_create(db, seed)?;
        Ok((Arc::new(s), created))
    } else {
        let (s, created) =
            crate::storage::GpkgStore::open_or_create(std::path::Path::new(db), seed)?;
        Ok((Arc::new(s), created))
    }
}

/// Runs the service until Ctrl-C or SIGTERM, then drains and stops.
pub fn serve(opts: &ServeOptions) -> Result<(), Box<dyn std::error::Error>> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
    let t = Instant::now();
    let (store, created) = open_store(&opts.db, &opts.seed)?;
    if created {
        tracing::info!(store = %store.describe(), seed = %opts.seed.display(), "created the store from the seed district");
    }
    if let Some(password) = crate::accounts::ensure_first_admin(store.as_ref(), &now_rfc3339())? {
        // Shown this once: only its hash is kept.
        println!(
            "first start: created user \"admin\" with password {password}\n\
             sign in with it and make your own users (see README); it is not shown again"
        );
    }
    let tls = match &opts.tls {
        Some((cert, key)) => Some(tls::server_config(cert, key)?),
        None => None,
    };
    let label_font = match gridgov_viewer::fonts::find(opts.font.as_deref()) {
        Ok((path, font)) => {
            tracing::info!(font = %path.display(), "grid names on plan maps");
            Some(font)
        }
        // A font named on the command line must work.
        Err(e) if opts.font.is_some() => return Err(e.into()),
        Err(e) => {
            tracing::warn!("plan-map tiles are drawn without grid names: {e}");
            None
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind(opts.addr))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let config = Config {
        base_url: format!("{scheme}://{}", listener.local_addr()?),
        body_limit: opts.body_limit,
        label_font,
        tile_cache_bytes: opts.tile_cache_bytes,
        deadlines: opts.deadlines.clone(),
        duplicates: gridgov_spatial::duplicates::DuplicateRule::default(),
        guard: opts.guard.clone(),
        tls: tls.is_some(),
    };
    let state = Arc::new(AppState::new(store.clone(), config)?);
    state.follow_store()?;
    let snap = state.current();
    tracing::info!(
        store = %store.describe(),
        grids = snap.district.grids().count(),
        buildings = snap.district.buildings.len(),
        incidents = snap.district.incidents.len(),
        startup_ms = t.elapsed().as_millis() as u64,
        "index built"
    );
    drop(snap);
    if opts.escalate_every_s > 0 && state.config.deadlines.auto_escalate {
        let weak = Arc::downgrade(&state);
        let every = Duration::from_secs(opts.escalate_every_s);
        rt.spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(st) = weak.upgrade() else { break };
                let r = tokio::task::spawn_blocking(move || {
                    let ids = crate::cases::escalate_overdue(
                        st.store.as_ref(),
                        &st.config.deadlines,
                        now(),
                    )?;
                    if !ids.is_empty() {
                        st.incidents_changed()?;
                    }
                    Ok::<_, crate::cases::CaseError>(ids)
                })
                .await;
                match r {
                    Ok(Ok(ids)) if !ids.is_empty() => {
                        tracing::info!(cases = ids.len(), "overdue cases escalated");
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "cannot escalate overdue cases"),
                    _ => {}
                }
            }
        });
    }
    rt.block_on(async move {
        let addr = listener.local_addr()?;
        if let Some(tls) = tls {
            tracing::info!(%addr, "serving HTTPS");
            let l = tls::TlsListener::new(listener, tls)?;
            axum::serve(
                l,
                app(state).into_make_service_with_connect_info::<tls::ClientAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        } else {
            tracing::info!(%addr, "serving");
            axum::serve(
                listener,
                app(state).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        }
        tracing::info!("stopped");
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    rt.shutdown_timeout(Duration::from_secs(5));
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests;

#[cfg(test)]
#[macro_use]
mod editing_tests;

#[cfg(test)]
mod access_tests;

#[cfg(test)]
mod cases_tests;

#[cfg(test)]
mod reports_tests;

#[cfg(test)]
mod corpus_tests;
