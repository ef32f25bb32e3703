//! Boundary editing over HTTP: drafts, validation, impact preview,
//! publishing with optimistic concurrency (per-grid versions as `ETag`s),
//! history and rollback. The rules are the application's
//! ([`gridgov_app::boundaries`]); this module reads requests and writes
//! answers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_app::boundaries::{BoundaryError, DraftIn};
use gridgov_app::{DraftStatus, GridVersion, VersionInfo};
use gridgov_spatial::validate::to_feature_collection;
use gridgov_spatial::{Level, Severity};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("body", format!("invalid request body: {e}")))
}

fn etag(v: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{v}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

fn parse_etag(h: &HeaderValue) -> Option<i64> {
    h.to_str()
        .ok()?
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .ok()
}

/// Runs a blocking call of the application off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BoundaryError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)??)
}

fn status_name(s: DraftStatus) -> (&'static str, Option<i64>) {
    match s {
        DraftStatus::Open => ("open", None),
        DraftStatus::Published(v) => ("published", Some(v)),
    }
}

/// `POST /drafts`.
pub async fn create_draft(
    State(st): State<Arc<AppState>>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let draft: DraftIn = parse_json(&body?)?;
    let app = st.app.clone();
    let stored = blocking(move || app.create_draft(draft)).await?;
    let id = stored.id.clone();
    let mut r = (
        StatusCode::CREATED,
        axum::Json(json!({"id": id, "status": "open", "draft": stored})),
    )
        .into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!("/drafts/{id}")) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(r)
}

/// `GET /drafts/{id}`.
pub async fn get_draft(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let app = st.app.clone();
    let id2 = id.clone();
    let (d, s) = blocking(move || app.draft(&id2)).await?;
    let (status, v) = status_name(s);
    Ok(axum::Json(
        json!({"id": id, "status": status, "published_version": v, "draft": d}),
    ))
}

/// `GET /drafts/{id}/validate`: every problem after the change, as GeoJSON.
pub async fn validate_draft(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let app = st.app.clone();
    let v = blocking(move || app.validate_draft(&id)).await?;
    let mut fc =
        serde_json::to_value(to_feature_collection(&v.problems)).map_err(ApiError::internal)?;
    let count = |s: Severity| v.problems.iter().filter(|p| p.severity == s).count();
    fc["errors"] = json!(count(Severity::Error));
    fc["warnings"] = json!(count(Severity::Warning));
    fc["new_errors"] = json!(
        v.added
            .iter()
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
    );
    fc["outdated"] = json!(v.outdated);
    let mut r = axum::Json(fc).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    Ok(r)
}

/// `GET /drafts/{id}/preview`: what moves from which grid to which.
pub async fn preview_draft(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let app = st.app.clone();
    let p = blocking(move || app.preview_draft(&id)).await?;
    Ok(axum::Json(
        json!({"draft": p.draft, "impact": p.impact, "outdated": p.outdated}),
    ))
}

/// `POST /drafts/{id}/publish`.
pub async fn publish_draft(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let app = st.app.clone();
    let id2 = id.clone();
    let info = blocking(move || app.publish_draft(&id2)).await?;
    Ok(axum::Json(json!({"draft": id, "published": info})))
}

/// `GET /grids/{code}`: the grid with its version as `ETag`.
pub async fn get_grid(
    State(st): State<Arc<AppState>>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let snap = st.current();
    let n = snap
        .district
        .areas_at(Level::Grid)
        .position(|a| snap.district.area(a).code == code)
        .ok_or_else(|| ApiError::not_found(format!("no grid {code:?}")))?;
    let mut f = super::features::feature(&snap, "grids", n)
        .ok_or_else(|| ApiError::not_found(format!("no grid {code:?}")))?;
    let v = snap.grid_versions.get(&code).copied().unwrap_or(0);
    f["properties"]["version"] = json!(v);
    let mut r = axum::Json(f).into_response();
    r.headers_mut().insert(header::ETAG, etag(v));
    Ok(r)
}

/// Body of `PUT /grids/{code}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridPut {
    geometry: Value,
    author: String,
    reason: String,
    #[serde(default)]
    effective_date: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// `PUT /grids/{code}` with `If-Match`: publish a new boundary for one grid.
pub async fn put_grid(
    State(st): State<Arc<AppState>>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(tag) = headers.get(header::IF_MATCH) else {
        return Err(ApiError {
            status: StatusCode::PRECONDITION_REQUIRED,
            title: "If-Match required",
            detail: format!("send If-Match with the ETag from GET /grids/{code}"),
            field: Some("If-Match".into()),
            ..ApiError::default()
        });
    };
    let base = parse_etag(tag).ok_or_else(|| {
        ApiError::bad_request("If-Match", "If-Match is not an ETag from this service")
    })?;
    let put: GridPut = parse_json(&body?)?;
    let app = st.app.clone();
    let info = blocking(move || {
        app.publish_grid(
            &code,
            base,
            put.geometry,
            put.name,
            &put.author,
            &put.reason,
            put.effective_date.as_deref(),
        )
    })
    .await?;
    let v = info.version;
    let mut r = axum::Json(json!({"published": info})).into_response();
    r.headers_mut().insert(header::ETAG, etag(v));
    Ok(r)
}

/// `GET /versions`.
pub async fn versions(State(st): State<Arc<AppState>>) -> Result<axum::Json<Value>, ApiError> {
    let store = st.app.store.clone();
    let v: Vec<VersionInfo> = blocking(move || Ok(store.versions()?)).await?;
    Ok(axum::Json(json!({"versions": v})))
}

/// `GET /grids/{code}/history`: every version of a grid, as GeoJSON.
pub async fn grid_history(
    State(st): State<Arc<AppState>>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let store = st.app.store.clone();
    let c = code.clone();
    let (h, all): (Vec<GridVersion>, Vec<VersionInfo>) =
        blocking(move || Ok((store.grid_history(&c)?, store.versions()?))).await?;
    if h.is_empty() {
        return Err(ApiError::not_found(format!(
            "no grid {code:?} in any version"
        )));
    }
    let features: Vec<Value> = h
        .iter()
        .map(|g| {
            let (v, r) = (g.version, &g.record);
            let info = all.iter().find(|x| x.version == v);
            json!({
                "type": "Feature",
                "id": format!("{code}@{v}"),
                "geometry": r.boundary.as_ref().map(geojson::Geometry::from),
                "properties": {"code": code, "version": v, "name": r.name, "removed": r.boundary.is_none(),
                    "author": info.map(|i| i.author.clone()), "published_at": info.map(|i| i.published_at),
                    "reason": info.map(|i| i.reason.clone()), "effective_date": info.map(|i| i.effective_date)}
            })
        })
        .collect();
    let mut r =
        axum::Json(json!({"type": "FeatureCollection", "features": features})).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    Ok(r)
}

/// Body of a rollback.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackIn {
    author: String,
    reason: String,
    #[serde(default)]
    effective_date: Option<String>,
}

/// `POST /versions/{n}/rollback`: publishes the boundaries of version `n`
/// again, as a new version.
pub async fn rollback(
    State(st): State<Arc<AppState>>,
    Path(n): Path<i64>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let rb: RollbackIn = parse_json(&body?)?;
    let app = st.app.clone();
    let info =
        blocking(move || app.rollback(n, &rb.author, &rb.reason, rb.effective_date.as_deref()))
            .await?;
    Ok(axum::Json(json!({"published": info})))
}
