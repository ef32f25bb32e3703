//! # gridgov-service
//!
//! The HTTP adapter of gridgov: OGC API – Features, lookups, tiles, boundary
//! editing, cases, Open311, accounts and the web map, on axum, over the
//! application ([`gridgov_app::App`]). Handlers parse the request, call the
//! application off the async threads (`spawn_blocking`: the application
//! blocks on its store) and answer; every error is one [`ApiError`]
//! answered as RFC 7807 problem+json.

mod accounts;
mod assessment;
pub mod auth;
mod batch_body;
mod cards;
mod cases;
pub mod conn;
mod editing;
mod error;
mod events;
pub mod extract;
mod features;
mod handheld;
pub mod harden;
pub mod hotline;
mod households;
mod idempotency;
mod lookup;
mod ogc_crs;
mod open311;
mod openapi;
mod panoramas;
mod partition;
mod photos;
mod reports;
mod resident;
mod roles;
mod routes;
mod sensors;
mod tiles;
pub mod tls;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use gridgov_app::{App, Snapshot};

pub use error::{ApiError, Arg, Coded};

/// Settings of a running service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Public base URL for links, without a trailing slash.
    pub base_url: String,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Largest `POST /lookup/batch` body, in bytes: read as it streams
    /// in, so memory follows the points, not the body.
    pub batch_body_limit: usize,
    /// The font grid names on plan-map tiles are drawn in; none: no names.
    pub label_font: Option<gridgov_tiles::LabelFont>,
    /// The font PDF reports are set in (embedded in each); none: reports
    /// are answered as HTML and JSON only.
    pub report_font: Option<std::sync::Arc<gridgov_app::report::pdf::PdfFont>>,
    /// Most bytes of rendered tiles kept per version; 0 renders every
    /// request afresh.
    pub tile_cache_bytes: usize,
    /// Hours a grid staff phone keeps its slice without reaching the
    /// service (it is wiped there after).
    pub slice_hours: u32,
    /// Rate limit, time limit, CORS.
    pub guard: harden::Guard,
    /// Whether it is served over TLS (sign-in cookies are then `Secure`).
    pub tls: bool,
    /// Where the 12345 hotline platform hears of its cases' status
    /// changes (set by the admin; none: they are not sent).
    pub hotline_callback: Option<String>,
}

impl Default for Config {
    /// The settings of `gridgov serve` without options (no label font).
    fn default() -> Self {
        Config {
            base_url: "http://127.0.0.1:8080".into(),
            body_limit: 10 * 1024 * 1024,
            batch_body_limit: 256 * 1024 * 1024,
            label_font: None,
            report_font: None,
            tile_cache_bytes: 64 << 20,
            slice_hours: 72,
            guard: harden::Guard::default(),
            tls: false,
            hotline_callback: None,
        }
    }
}

/// Shared state of the service.
pub struct AppState {
    /// The application.
    pub app: Arc<App>,
    /// Rendered tiles of the current version.
    pub tile_cache: tiles::TileCache,
    /// Settings.
    pub config: Config,
    /// Requests per client address and per token.
    pub limiter: harden::Limiter,
    /// Tokens looked up lately.
    pub tokens: auth::TokenCache,
    /// The API document, made with the router.
    pub openapi: std::sync::OnceLock<utoipa::openapi::OpenApi>,
    /// Turns for batch lookups ([`BATCHES_AT_ONCE`] at a time): each holds
    /// its body and its answer in memory.
    pub batches: Arc<tokio::sync::Semaphore>,
    /// First answers by `Idempotency-Key`.
    replays: idempotency::Replays,
    /// The live feed of changed cases (`GET /events`).
    pub events: Arc<events::Events>,
    /// The hotline platform's cases and their status callbacks.
    pub hotline: Arc<hotline::Hotline>,
    /// The last key figures (`GET /stats/overview`), by data version and
    /// minute.
    overview: std::sync::Mutex<Option<((i64, i64), serde_json::Value)>>,
}

/// Batch lookups worked on at once; more wait their turn.
pub const BATCHES_AT_ONCE: usize = 2;

impl AppState {
    /// State over the application `app`.
    pub fn new(app: Arc<App>, config: Config) -> Self {
        let events = Arc::new(events::Events::default());
        events.listen(&app);
        let hotline = hotline::Hotline::new(config.hotline_callback.clone());
        hotline.listen(&app);
        AppState {
            events,
            hotline,
            overview: std::sync::Mutex::default(),
            app,
            tile_cache: tiles::TileCache::new(config.tile_cache_bytes),
            limiter: harden::Limiter::new(&config.guard),
            config,
            tokens: auth::TokenCache::default(),
            openapi: std::sync::OnceLock::new(),
            batches: Arc::new(tokio::sync::Semaphore::new(BATCHES_AT_ONCE)),
            replays: idempotency::Replays::default(),
        }
    }

    /// The current snapshot; cheap (one `Arc` clone).
    pub fn current(&self) -> Arc<Snapshot> {
        self.app.current()
    }
}

/// The `now` parameter of a request (RFC 3339); the clock when absent.
pub(crate) fn now_param(
    st: &AppState,
    s: Option<&str>,
) -> Result<gridgov_spatial::Timestamp, ApiError> {
    match s {
        None => Ok(st.app.now()),
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

#[utoipa::path(
    get,
    path = "/health",
    tag = "service",
    summary = "Liveness, the store, the boundary and data versions",
    responses(
        (status = 200, description = "ok", body = serde_json::Value, content_type = "application/json"),
    )
)]
async fn health(
    axum::extract::State(st): axum::extract::State<Arc<AppState>>,
    caller: auth::Caller,
) -> impl IntoResponse {
    let snap = st.current();
    let mut v = serde_json::json!({
        "status": "ok",
        "version": snap.version,
        "data_version": snap.data_version,
    });
    // Where the store is and how big the district is are for staff.
    if caller.token.is_some() {
        v["store"] = serde_json::json!(st.app.store.describe());
        v["grids"] = serde_json::json!(snap.district.grids().count());
    }
    axum::Json(v)
}

/// `GET /district.json`: the whole district at the current version (the
/// same JSON as the seed file), for clients that draw it themselves such
/// as `gridgov view --server`. `ETag` is the version.
#[utoipa::path(
    get,
    path = "/district.json",
    tag = "service",
    summary = "The whole district (households the caller may read, masked; incidents the caller may read)",
    responses(
        (status = 200, description = "the district; ETag its data version", body = serde_json::Value, content_type = "application/json"),
        (status = 304, description = "not modified"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
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
    // Households go only to those who may read them: grid staff get
    // their grids', admins all (masked either way).
    let all_households = caller.may(&Thing::Household { grid: None }, Access::Read);
    let tag = if every && all_households {
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
    // in full over this endpoint.
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
        if !all_households {
            let keep: Vec<bool> = snap
                .assignment
                .households
                .iter()
                .map(|h| {
                    let grid = h.grid().map(|g| snap.district.area(g).code.as_str());
                    allows(&p, &Thing::Household { grid }, Access::Read)
                })
                .collect();
            let mut k = keep.iter();
            d.households.retain(|_| *k.next().unwrap_or(&false));
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
        .coded("request.no_route", vec![("path", (&uri.path()).into())])
}

/// The router over `state`: every route of [`routes::routes`], the
/// fallback (404 as problem+json), the body limit, and the two layers
/// every request passes — the guard (rate per address, time limit, CORS,
/// secure headers, problem+json for framework errors, the error log)
/// and the caller's identification (`auth::layer`).
pub fn app(state: Arc<AppState>) -> Router {
    let (router, api) = routes::routes(&state).split_for_parts();
    let _ = state.openapi.set(openapi::finish(api));
    harden::around(router.fallback(not_found), &state).with_state(state)
}

/// How to run the service.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Seconds between checks for overdue cases to escalate (0: never).
    pub escalate_every_s: u64,
    /// A PEM certificate chain and private key: serve HTTPS.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// Connection caps and the header time limit (the total is lowered
    /// below the open-file limit at start).
    pub connections: conn::ConnLimits,
}

/// Runs the service over `app` until Ctrl-C or SIGTERM, then drains and
/// stops. `config.base_url` is set from the address it listens on.
pub fn serve(
    application: Arc<App>,
    mut config: Config,
    opts: &ServeOptions,
) -> Result<(), Box<dyn std::error::Error>> {
    let tls = match &opts.tls {
        Some((cert, key)) => Some(tls::server_config(cert, key)?),
        None => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let limits = opts.connections.within_files(conn::raise_file_limit());
    let listener = rt.block_on(tokio::net::TcpListener::bind(opts.addr))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    config.base_url = format!("{scheme}://{}", listener.local_addr()?);
    config.tls = tls.is_some();
    application.follow_store()?;
    let state = Arc::new(AppState::new(application, config));
    if opts.escalate_every_s > 0 && state.app.rules.deadlines.auto_escalate {
        let weak = Arc::downgrade(&state);
        let every = Duration::from_secs(opts.escalate_every_s);
        rt.spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(st) = weak.upgrade() else { break };
                let r = tokio::task::spawn_blocking(move || st.app.escalate_overdue(st.app.now()))
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
    let events = state.events.clone();
    rt.block_on(async move {
        let addr = listener.local_addr()?;
        tracing::info!(%addr, https = tls.is_some(), max_connections = limits.total,
            max_connections_per_client = limits.per_client, "serving");
        conn::serve(
            listener,
            tls.map(tokio_rustls::TlsAcceptor::from),
            app(state),
            limits,
            async move {
                shutdown_signal().await;
                // Live feeds never end by themselves: end them, so the
                // drain does not wait for them.
                events.close();
            },
            Duration::from_secs(30),
        )
        .await;
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
#[macro_use]
mod test_support;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod editing_tests;

#[cfg(test)]
mod access_tests;

#[cfg(test)]
mod cases_tests;

#[cfg(test)]
mod reports_tests;

#[cfg(test)]
mod corpus_tests;

#[cfg(test)]
mod screens_tests;

#[cfg(test)]
mod visits_tests;

#[cfg(test)]
mod assessment_tests;
#[cfg(test)]
mod handheld_tests;
#[cfg(test)]
mod hotline_tests;
#[cfg(test)]
mod leaders_tests;
#[cfg(test)]
mod open311_tests;
#[cfg(test)]
mod panoramas_tests;
#[cfg(test)]
mod partition_tests;
#[cfg(test)]
mod resident_tests;
#[cfg(test)]
mod roles_tests;
#[cfg(test)]
mod sensors_tests;
#[cfg(test)]
mod teams_tests;
