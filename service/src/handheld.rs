//! The grid staff's handheld at `/m/`: an installable web app (manifest,
//! service worker) served from the binary like the web map, and the two
//! calls it syncs with: `GET /m/slice` (the whole slice of the caller's
//! grids) and `POST /m/slice/delta` (what changed since the copy the
//! phone holds). Both show personal data in full and are audited.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_app::handheld::{Known, Slice, SliceError};

use super::auth::{Caller, record};
use super::{ApiError, AppState};
use crate::extract::JsonBody;

impl From<SliceError> for ApiError {
    fn from(e: SliceError) -> Self {
        match e {
            SliceError::NoGrids(user) => ApiError::with_status(
                StatusCode::FORBIDDEN,
                format!("{user} serves no grid: a handheld slice is for grid staff with grids"),
            )
            .coded("handheld.no_grids", vec![("user", (&user).into())]),
            SliceError::Case(c) => c.into(),
            SliceError::Store(s) => s.into(),
        }
    }
}

/// `GET /m`: to the app's own path (its service worker's scope).
#[utoipa::path(
    get,
    path = "/m",
    tag = "web",
    summary = "The grid staff's handheld (redirects to /m/)",
    responses(
        (status = 308, description = "to /m/"),
    )
)]
pub async fn redirect() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, HeaderValue::from_static("/m/"))],
    )
        .into_response()
}

/// `GET /m/`: the handheld's page.
#[utoipa::path(
    get,
    path = "/m/",
    tag = "web",
    summary = "The grid staff's handheld: an installable web app that works offline",
    responses(
        (status = 200, description = "the page", body = String, content_type = "text/html"),
    )
)]
pub async fn page(headers: HeaderMap) -> Response {
    super::web::serve_named("m.html", &headers)
}

/// `GET /m/sw.js`: the handheld's service worker (its scope is `/m/`).
#[utoipa::path(
    get,
    path = "/m/sw.js",
    tag = "web",
    summary = "The handheld's service worker",
    responses(
        (status = 200, description = "the script", body = String, content_type = "text/javascript"),
    )
)]
pub async fn worker(headers: HeaderMap) -> Response {
    super::web::serve_named("sw.js", &headers)
}

/// `GET /m/manifest.webmanifest`: what a phone needs to install it.
#[utoipa::path(
    get,
    path = "/m/manifest.webmanifest",
    tag = "web",
    summary = "The handheld's web app manifest",
    responses(
        (status = 200, description = "the manifest", body = serde_json::Value, content_type = "application/manifest+json"),
    )
)]
pub async fn manifest(headers: HeaderMap) -> Response {
    super::web::serve_named("manifest.webmanifest", &headers)
}

async fn answer(
    st: Arc<AppState>,
    caller: Caller,
    headers: &HeaderMap,
    known: Option<Known>,
) -> Result<Response, ApiError> {
    let p = caller.principal.clone();
    let app = st.app.clone();
    let slice: Slice = tokio::task::spawn_blocking(move || app.slice(&p, known.as_ref())).await??;
    let n = slice.households.len();
    record(
        &st,
        vec![caller.audit(
            "read_personal",
            if slice.delta {
                "/m/slice/delta"
            } else {
                "/m/slice"
            },
            format!(
                "handheld slice of {}: {n} households in full",
                caller.principal.grids.join(", ")
            ),
        )],
    )
    .await;
    let mut v = serde_json::to_value(&slice).map_err(ApiError::internal)?;
    if let serde_json::Value::Object(o) = &mut v {
        o.insert(
            "expires_after_s".into(),
            (u64::from(st.config.slice_hours) * 3600).into(),
        );
        o.insert("made_at".into(), st.app.now().to_string().into());
    }
    let body = serde_json::to_vec(&v).map_err(ApiError::internal)?;
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.split(',')
                .any(|e| e.split(';').next().is_some_and(|e| e.trim() == "gzip"))
        });
    let mut r = if gzip {
        // A phone on a mobile network: the slice is mostly repeated keys
        // and codes, so it shrinks several times over.
        let packed = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(&body).and_then(|()| z.finish())
        })
        .await?
        .map_err(ApiError::internal)?;
        let mut r = packed.into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        body.into_response()
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(r)
}

/// `GET /m/slice`: the whole slice of the caller's grids.
#[utoipa::path(
    get,
    path = "/m/slice",
    tag = "households",
    summary = "The handheld's slice: the caller's grids, buildings, units, households in full, visits and open cases, with their versions",
    responses(
        (status = 200, description = "the slice (`version`, `grids`, `buildings`, `households`, `cases`, `visits`, `bbox`, `expires_after_s`)", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the caller serves no grid", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn slice(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    answer(st, caller, &headers, None).await
}

/// `POST /m/slice/delta` `{households: {id: etag}, cases: {id: step},
/// grids: {code: version}, visits_after}`: only what differs from that.
#[utoipa::path(
    post,
    path = "/m/slice/delta",
    tag = "households",
    summary = "What changed in the caller's slice since the copy described",
    request_body(content = serde_json::Value, description = "what the phone holds: households (id → ETag), cases (id → step), grids (code → version), visits_after", content_type = "application/json"),
    responses(
        (status = 200, description = "the delta: changed or new households and cases, removed_households, removed_cases, visits since, grids and buildings only when a boundary moved", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the caller serves no grid", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delta(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(known): JsonBody<Known>,
) -> Result<Response, ApiError> {
    answer(st, caller, &headers, Some(known)).await
}
