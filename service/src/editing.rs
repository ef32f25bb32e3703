//! Boundary editing over HTTP: drafts, validation, impact preview,
//! publishing with optimistic concurrency (per-grid versions as `ETag`s),
//! history and rollback. The rules are the application's
//! ([`gridgov_app::boundaries`]); this module reads requests and writes
//! answers.

use std::sync::Arc;

use axum::extract::State;

use crate::extract::{JsonBody, Path};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_app::boundaries::{BoundaryError, DraftIn};
use gridgov_app::{DraftStatus, GridVersion, VersionInfo};
use gridgov_spatial::validate::to_feature_collection;
use gridgov_spatial::{Level, Severity};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::cases::cancellable;
use super::error::ApiError;
use gridgov_spatial::access::Role;

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

/// The signed-in user, who is the author of what they send: a body's
/// `author`, when given, must be them.
fn sign(caller: &Caller, given: &str) -> Result<String, ApiError> {
    let me = &caller.principal.user;
    let given = given.trim();
    if !given.is_empty() && given != me {
        return Err(ApiError::unprocessable(
            "author",
            format!("the author is the signed-in user ({me}), not {given:?}: leave author out"),
        ));
    }
    Ok(me.clone())
}

/// An effective date in the past rewrites what `as_of` answers: only an
/// admin may set one, with a reason, and it is audited.
async fn check_backdate(
    st: &Arc<AppState>,
    caller: &Caller,
    date: Option<&str>,
    reason: &str,
    object: &str,
) -> Result<(), ApiError> {
    use gridgov_spatial::time::{CHINA_OFFSET_S, local_date, parse_date};
    // A date that does not parse is the application's to report.
    let Some(Ok(d)) = date.map(parse_date) else {
        return Ok(());
    };
    if d >= local_date(st.app.now(), CHINA_OFFSET_S) {
        return Ok(());
    }
    if caller.principal.role != Role::Admin {
        let mut e = ApiError::with_status(
            StatusCode::FORBIDDEN,
            format!(
                "effective_date {d} is in the past: only an admin may backdate boundaries (it changes what as_of answers for past dates)"
            ),
        );
        e.field = Some("effective_date".into());
        return Err(e);
    }
    if reason.trim().is_empty() {
        return Err(ApiError::unprocessable(
            "reason",
            "a backdated change needs a reason",
        ));
    }
    super::auth::record(
        st,
        vec![caller.audit("backdate", object, format!("effective {d}: {reason}"))],
    )
    .await;
    Ok(())
}

fn status_name(s: DraftStatus) -> (&'static str, Option<i64>) {
    match s {
        DraftStatus::Open => ("open", None),
        DraftStatus::Published(v) => ("published", Some(v)),
    }
}

/// `POST /drafts`.
#[utoipa::path(
    post,
    path = "/drafts",
    tag = "boundaries",
    summary = "A new boundary draft",
    request_body(content = serde_json::Value, description = "author, reason, effective_date, changes", content_type = "application/json"),
    responses(
        (status = 201, description = "the draft", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a boundary cannot be a grid's", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_draft(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(mut draft): JsonBody<DraftIn>,
) -> Result<Response, ApiError> {
    draft.author = sign(&caller, &draft.author)?;
    check_backdate(
        &st,
        &caller,
        draft.effective_date.as_deref(),
        &draft.reason,
        "draft",
    )
    .await?;
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
#[utoipa::path(
    get,
    path = "/drafts/{id}",
    tag = "boundaries",
    summary = "A draft and where it stands",
    params(
        ("id" = String, Path, description = "the draft id"),
    ),
    responses(
        (status = 200, description = "the draft", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such draft", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
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
#[utoipa::path(
    get,
    path = "/drafts/{id}/validate",
    tag = "boundaries",
    summary = "Every problem after the draft's change, as GeoJSON",
    params(
        ("id" = String, Path, description = "the draft id"),
    ),
    responses(
        (status = 200, description = "the problems, the errors it adds and grids changed since", body = serde_json::Value, content_type = "application/geo+json"),
        (status = 404, description = "no such draft", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn validate_draft(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let app = st.app.clone();
    let v = cancellable(move |cancel| Ok(app.validate_draft(&id, &cancel)?)).await?;
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
    fc["new_warnings"] = json!(
        v.added_warnings
            .iter()
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
    );
    // The new problems with their places, for the planner's list.
    fc["new_problems"] = serde_json::to_value(to_feature_collection(
        &v.added
            .iter()
            .chain(&v.added_warnings)
            .cloned()
            .collect::<Vec<_>>(),
    ))
    .map_err(ApiError::internal)?["features"]
        .take();
    fc["outdated"] = json!(v.outdated);
    let mut r = axum::Json(fc).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    Ok(r)
}

/// `GET /drafts/{id}/preview`: what moves from which grid to which.
#[utoipa::path(
    get,
    path = "/drafts/{id}/preview",
    tag = "boundaries",
    summary = "What the draft moves from which grid to which",
    params(
        ("id" = String, Path, description = "the draft id"),
    ),
    responses(
        (status = 200, description = "the impact", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such draft", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn preview_draft(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let app = st.app.clone();
    let p = cancellable(move |cancel| Ok(app.preview_draft(&id, &cancel)?)).await?;
    Ok(axum::Json(
        json!({"draft": p.draft, "impact": p.impact, "outdated": p.outdated}),
    ))
}

/// `POST /drafts/{id}/publish`.
#[utoipa::path(
    post,
    path = "/drafts/{id}/publish",
    tag = "boundaries",
    summary = "Publish a draft (one transaction; refused if it adds topology errors)",
    params(
        ("id" = String, Path, description = "the draft id"),
    ),
    responses(
        (status = 200, description = "the version published", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such draft", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "published already", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 412, description = "a grid changed since the draft was made", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the change adds topology errors", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn publish_draft(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let app = st.app.clone();
    let id2 = id.clone();
    let (d, _) = blocking(move || app.draft(&id2)).await?;
    check_backdate(
        &st,
        &caller,
        d.draft.effective_date.as_deref(),
        &d.draft.reason,
        &format!("draft {id}"),
    )
    .await?;
    let app = st.app.clone();
    let id2 = id.clone();
    let by = caller.principal.user.clone();
    let info = blocking(move || app.publish_draft(&id2, &by)).await?;
    Ok(axum::Json(json!({"draft": id, "published": info})))
}

/// `GET /grids/{code}`: the grid with its version as `ETag`.
#[utoipa::path(
    get,
    path = "/grids/{code}",
    tag = "boundaries",
    summary = "A grid with its version as ETag",
    params(
        ("code" = String, Path, description = "the grid code"),
    ),
    responses(
        (status = 200, description = "the grid", body = serde_json::Value, content_type = "application/geo+json"),
        (status = 404, description = "no such grid", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
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
    #[serde(default)]
    author: String,
    reason: String,
    #[serde(default)]
    effective_date: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// `PUT /grids/{code}` with `If-Match`: publish a new boundary for one grid.
#[utoipa::path(
    put,
    path = "/grids/{code}",
    tag = "boundaries",
    summary = "Publish a new boundary for one grid (If-Match: its ETag)",
    params(
        ("code" = String, Path, description = "the grid code"),
    ),
    request_body(content = serde_json::Value, description = "geometry, author, reason, effective_date, name", content_type = "application/json"),
    responses(
        (status = 200, description = "the version published", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such grid", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 412, description = "the grid changed since it was read", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the boundary is refused", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is required", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_grid(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    JsonBody(put): JsonBody<GridPut>,
) -> Result<Response, ApiError> {
    let author = sign(&caller, &put.author)?;
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
    check_backdate(
        &st,
        &caller,
        put.effective_date.as_deref(),
        &put.reason,
        &format!("grid {code}"),
    )
    .await?;
    let app = st.app.clone();
    let info = blocking(move || {
        app.publish_grid(
            &code,
            base,
            put.geometry,
            put.name,
            &author,
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
#[utoipa::path(
    get,
    path = "/versions",
    tag = "boundaries",
    summary = "Every published version",
    responses(
        (status = 200, description = "the versions", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn versions(State(st): State<Arc<AppState>>) -> Result<axum::Json<Value>, ApiError> {
    let store = st.app.store.clone();
    let v: Vec<VersionInfo> = blocking(move || Ok(store.versions()?)).await?;
    Ok(axum::Json(json!({"versions": v})))
}

/// `GET /grids/{code}/history`: every version of a grid, as GeoJSON.
#[utoipa::path(
    get,
    path = "/grids/{code}/history",
    tag = "boundaries",
    summary = "Every version of a grid, as GeoJSON",
    params(
        ("code" = String, Path, description = "the grid code"),
    ),
    responses(
        (status = 200, description = "its versions", body = serde_json::Value, content_type = "application/geo+json"),
        (status = 404, description = "no such grid", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
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
                    "staff": r.staff,
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
    #[serde(default)]
    author: String,
    reason: String,
    #[serde(default)]
    effective_date: Option<String>,
}

/// `POST /versions/{n}/rollback`: publishes the boundaries of version `n`
/// again, as a new version.
#[utoipa::path(
    post,
    path = "/versions/{n}/rollback",
    tag = "boundaries",
    summary = "Publish the boundaries of version n again, as a new version",
    params(
        ("n" = i64, Path, description = "the version"),
    ),
    request_body(content = serde_json::Value, description = "author, reason, effective_date", content_type = "application/json"),
    responses(
        (status = 200, description = "the version published", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such version", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "nothing to roll back", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rollback(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(n): Path<i64>,
    JsonBody(rb): JsonBody<RollbackIn>,
) -> Result<axum::Json<Value>, ApiError> {
    let author = sign(&caller, &rb.author)?;
    check_backdate(
        &st,
        &caller,
        rb.effective_date.as_deref(),
        &rb.reason,
        &format!("version {n}"),
    )
    .await?;
    let app = st.app.clone();
    let info = blocking(move || app.rollback(n, &author, &rb.reason, rb.effective_date.as_deref()))
        .await?;
    Ok(axum::Json(json!({"published": info})))
}

/// A member of a grid's team as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberIn {
    /// One of the district's roles for grid teams (`GET /roles`, scope
    /// `grid`): by default `grid_leader`, `instructor`, `grid_worker`,
    /// `volunteer`, `community_police`, `legal_adviser`, `law_enforcement`,
    /// `emergency_management`.
    #[schema(value_type = String)]
    role: gridgov_spatial::StaffRole,
    /// Full name.
    name: String,
    /// Contact phone number.
    phone: String,
    /// A party member.
    #[serde(default)]
    party_member: bool,
}

/// Body of `PUT /grids/{code}/team`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPut {
    /// The whole team.
    team: Vec<MemberIn>,
    /// Why it changes (kept with the version).
    reason: String,
}

/// `PUT /grids/{code}/team` with `If-Match`: replace a grid's team, as a
/// new version of the grid (admins and the community's own grid staff).
#[utoipa::path(
    put,
    path = "/grids/{code}/team",
    tag = "boundaries",
    summary = "Replace a grid's team, as a new version of the grid (If-Match: its ETag)",
    params(
        ("code" = String, Path, description = "the grid code"),
    ),
    request_body(content = TeamPut, description = "the whole team and why", content_type = "application/json"),
    responses(
        (status = 200, description = "the version published", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such grid", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 412, description = "the grid changed since it was read", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is required", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin or one of the community's grid staff", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_team(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    JsonBody(put): JsonBody<TeamPut>,
) -> Result<Response, ApiError> {
    let snap = st.current();
    let g = snap
        .district
        .area_by_code(&code)
        .filter(|&g| snap.district.area(g).level == Level::Grid)
        .ok_or_else(|| ApiError::not_found(format!("no grid {code:?}")))?;
    let community: Vec<&str> = snap
        .district
        .area(g)
        .parent
        .map(|c| {
            snap.district
                .children(c)
                .map(|x| snap.district.area(x).code.as_str())
                .collect()
        })
        .unwrap_or_default();
    caller.require(
        &gridgov_spatial::access::Thing::Team {
            grid: Some(code.as_str()),
            community: &community,
        },
        gridgov_spatial::access::Access::Write,
    )?;
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
    let team = put
        .team
        .into_iter()
        .map(|m| gridgov_spatial::Staff {
            role: m.role,
            name: m.name,
            phone: m.phone,
            party_member: m.party_member,
        })
        .collect();
    let author = caller.principal.user.clone();
    let app = st.app.clone();
    let info = blocking(move || app.change_team(&code, base, team, &author, &put.reason)).await?;
    let v = info.version;
    let mut r = axum::Json(json!({"published": info})).into_response();
    r.headers_mut().insert(header::ETAG, etag(v));
    Ok(r)
}
