//! # gridgov-service
//!
//! The HTTP adapter of gridgov: OGC API – Features, lookups, tiles, boundary
//! editing, cases, Open311, accounts and the web map, on axum, over the
//! application ([`gridgov_app::App`]). Handlers parse the request, call the
//! application off the async threads (`spawn_blocking`: the application
//! blocks on its store) and answer; every error is one [`ApiError`]
//! answered as RFC 7807 problem+json.

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

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use gridgov_app::{App, Snapshot};

pub use error::ApiError;

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
            guard: harden::Guard::default(),
            tls: false,
        }
    }
}

/// Shared state of the service.
pub struct AppState {
    /// The application.
    pub app: Arc<App>,
    /// Rendered tiles of the current version.
    pub tile_cache: tiles::SharedTileCache,
    /// Settings.
    pub config: Config,
    /// Requests per client address and per token.
    pub limiter: harden::Limiter,
    /// Tokens looked up lately.
    pub tokens: auth::TokenCache,
}

impl AppState {
    /// State over the application `app`.
    pub fn new(app: Arc<App>, config: Config) -> Self {
        AppState {
            app,
            tile_cache: tiles::SharedTileCache::default(),
            config,
            limiter: harden::Limiter::default(),
            tokens: auth::TokenCache::default(),
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

async fn health(
    axum::extract::State(st): axum::extract::State<Arc<AppState>>,
) -> impl IntoResponse {
    let snap = st.current();
    axum::Json(serde_json::json!({
        "status": "ok",
        "store": st.app.store.describe(),
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
    /// Seconds between checks for overdue cases to escalate (0: never).
    pub escalate_every_s: u64,
    /// A PEM certificate chain and private key: serve HTTPS.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
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
                let r = tokio::task::spawn_blocking(move || {
                    let app = &st.app;
                    let ids = gridgov_app::cases::escalate_overdue(
                        app.store.as_ref(),
                        &app.rules.deadlines,
                        app.now(),
                    )?;
                    if !ids.is_empty() {
                        app.incidents_changed()?;
                    }
                    Ok::<_, gridgov_app::CaseError>(ids)
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
