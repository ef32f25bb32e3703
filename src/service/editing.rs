//! Boundary editing for planners: drafts, validation, impact preview,
//! publishing with optimistic concurrency (per-grid versions as `ETag`s),
//! history, rollback.
//!
//! A publish runs under one lock in this process: the store's transaction
//! checks that every grid it changes is still at the version the planner
//! started from (else 412 with the current versions), then a new snapshot
//! is built off to the side from the current one and swapped in whole.
//! Publishing refuses (422) a change that adds topology errors.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_spatial::validate::to_feature_collection;
use gridgov_spatial::{
    District, GridChange, GridKind, Level, Problem, Severity, ValidationOptions, apply_changes,
    assign, impact, validate,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::ApiError;
use super::{AppState, Snapshot, now_rfc3339};
use crate::storage::versions::{GridRecord, Publication, PublishError};

/// A change as planners send it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeIn {
    /// Grid code.
    pub code: String,
    /// New boundary (GeoJSON Polygon or MultiPolygon); absent with
    /// `remove: true` to remove the grid.
    #[serde(default)]
    pub geometry: Option<Value>,
    /// Remove the grid.
    #[serde(default)]
    pub remove: bool,
    /// New name (required for a new grid).
    #[serde(default)]
    pub name: Option<String>,
    /// Community code (required for a new grid).
    #[serde(default)]
    pub parent_code: Option<String>,
    /// `basic` or `exclusive`.
    #[serde(default)]
    pub kind: Option<GridKind>,
    /// The grid version the planner started from; default: current.
    #[serde(default)]
    pub base_version: Option<i64>,
}

/// A draft as planners send it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DraftIn {
    /// Who.
    pub author: String,
    /// Why.
    pub reason: String,
    /// In force from (YYYY-MM-DD); default: today.
    #[serde(default)]
    pub effective_date: Option<String>,
    /// The changes.
    pub changes: Vec<ChangeIn>,
}

fn today() -> String {
    now_rfc3339()[..10].to_string()
}

fn check_date(s: &str) -> Result<(), ApiError> {
    super::features::check_date("effective_date", s).map(|_| ())
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error_like(de)
}

/// Deserialises with the path of the failing field in the message.
fn serde_path_to_error_like<T: serde::de::DeserializeOwned>(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
) -> Result<T, ApiError> {
    T::deserialize(de)
        .map_err(|e| ApiError::bad_request("body", format!("invalid request body: {e}")))
}

/// Turns the planner's changes into model changes, checking geometry.
/// The most vertices one grid's boundary may have.
const MAX_VERTICES: usize = 100_000;

/// How far (degrees, about 10 km) a changed grid may reach beyond the
/// district's grids.
const MAX_REACH_DEG: f64 = 0.1;

/// A boundary a grid can have: not too many vertices, and valid (no ring
/// crossing itself or another, no hole outside its shell).
fn check_shape(mp: &geo::MultiPolygon<f64>) -> Result<(), String> {
    use geo::{CoordsIter, Validation};
    let n = mp.coords_count();
    if n > MAX_VERTICES {
        return Err(format!(
            "{n} vertices; a grid may have at most {MAX_VERTICES}"
        ));
    }
    if let Err(e) = mp.check_validation() {
        return Err(format!("not a valid polygon: {e}"));
    }
    Ok(())
}

/// Every changed boundary lies within reach of the district's grids.
fn check_reach(d: &gridgov_spatial::District, changes: &[GridChange]) -> Result<(), ApiError> {
    use geo::BoundingRect;
    let Some(bb) = gridgov_spatial::sample::grids_bbox(d) else {
        return Ok(());
    };
    for (i, c) in changes.iter().enumerate() {
        let Some(r) = c.boundary.as_ref().and_then(BoundingRect::bounding_rect) else {
            continue;
        };
        let far = (bb[0] - r.min().x)
            .max(r.max().x - bb[2])
            .max(bb[1] - r.min().y)
            .max(r.max().y - bb[3]);
        if far > MAX_REACH_DEG {
            return Err(ApiError::unprocessable(
                format!("changes[{i}].geometry"),
                format!(
                    "grid {}: the boundary reaches {:.0} km beyond the district; a grid must lie within 10 km of it",
                    c.code,
                    far * 111.0
                ),
            ));
        }
    }
    Ok(())
}

fn to_changes(d: &DraftIn) -> Result<Vec<GridChange>, ApiError> {
    if d.author.trim().is_empty() {
        return Err(ApiError::bad_request("author", "author is required"));
    }
    if d.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason", "reason is required"));
    }
    if let Some(e) = &d.effective_date {
        check_date(e)?;
    }
    if d.changes.is_empty() {
        return Err(ApiError::bad_request("changes", "changes is empty"));
    }
    d.changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let field = format!("changes[{i}]");
            let boundary = match (&c.geometry, c.remove) {
                (Some(_), true) => {
                    return Err(ApiError::bad_request(
                        field,
                        format!("grid {}: give a geometry or remove, not both", c.code),
                    ));
                }
                (None, false) => {
                    return Err(ApiError::bad_request(
                        field,
                        format!("grid {}: a geometry is required (or remove: true)", c.code),
                    ));
                }
                (None, true) => None,
                (Some(g), false) => {
                    let geom: geojson::Geometry =
                        serde_json::from_value(g.clone()).map_err(|e| {
                            ApiError::bad_request(
                                format!("{field}.geometry"),
                                format!("grid {}: not a GeoJSON geometry: {e}", c.code),
                            )
                        })?;
                    let mut notes = Vec::new();
                    let mp = crate::import::to_multi_polygon(&geom, &mut notes, &c.code).map_err(
                        |e| {
                            ApiError::bad_request(
                                format!("{field}.geometry"),
                                format!("grid {}: {e}", c.code),
                            )
                        },
                    )?;
                    if !notes.is_empty() {
                        return Err(ApiError::bad_request(
                            format!("{field}.geometry"),
                            format!("grid {}: {}", c.code, notes.join("; ")),
                        ));
                    }
                    check_shape(&mp).map_err(|e| {
                        ApiError::unprocessable(
                            format!("{field}.geometry"),
                            format!("grid {}: {e}", c.code),
                        )
                    })?;
                    Some(mp)
                }
            };
            Ok(GridChange {
                code: c.code.clone(),
                boundary,
                name: c.name.clone(),
                parent_code: c.parent_code.clone(),
                kind: c.kind,
            })
        })
        .collect()
}

fn change_error(e: &gridgov_spatial::ChangeError) -> ApiError {
    ApiError::bad_request("changes", e.to_string())
}

/// Stored draft: what the planner sent plus the base versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredDraft {
    id: String,
    #[serde(flatten)]
    draft: DraftIn,
    base: HashMap<String, i64>,
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

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)
}

fn problem_key(p: &Problem) -> (String, Vec<String>) {
    let mut ids = p.ids.clone();
    ids.sort();
    (format!("{:?}", p.kind), ids)
}

/// Validation of the district after the change, and which errors it adds.
fn check(before: &Snapshot, after: &District) -> (Vec<Problem>, Vec<Problem>) {
    let opts = ValidationOptions::default();
    let a_after = assign(after, &gridgov_spatial::GridIndex::new(after));
    let problems = validate(after, &a_after, &opts);
    let old: BTreeSet<(String, Vec<String>)> =
        validate(&before.district, &before.assignment, &opts)
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(problem_key)
            .collect();
    let added = problems
        .iter()
        .filter(|p| p.severity == Severity::Error && !old.contains(&problem_key(p)))
        .cloned()
        .collect();
    (problems, added)
}

/// `POST /drafts`.
pub async fn create_draft(
    State(st): State<Arc<AppState>>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let draft: DraftIn = parse_json(&body?)?;
    let changes = to_changes(&draft)?;
    let snap = st.current();
    check_reach(&snap.district, &changes)?;
    apply_changes(&snap.district, &changes).map_err(|e| change_error(&e))?;
    let base: HashMap<String, i64> = draft
        .changes
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                c.base_version
                    .unwrap_or_else(|| snap.grid_versions.get(&c.code).copied().unwrap_or(0)),
            )
        })
        .collect();
    let id = format!("d{}", st.next_id());
    let stored = StoredDraft {
        id: id.clone(),
        draft,
        base,
    };
    let text = serde_json::to_string(&stored).map_err(ApiError::internal)?;
    let store = st.store.clone();
    let id2 = id.clone();
    blocking(move || store.save_draft(&id2, &text))
        .await?
        .map_err(ApiError::internal)?;
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

async fn load_draft(
    st: &AppState,
    id: &str,
) -> Result<(StoredDraft, String, Option<i64>), ApiError> {
    let store = st.store.clone();
    let id2 = id.to_string();
    let row = blocking(move || store.load_draft(&id2))
        .await?
        .map_err(ApiError::internal)?;
    let (body, status, v) = row.ok_or_else(|| ApiError::not_found(format!("no draft {id:?}")))?;
    let d: StoredDraft = serde_json::from_str(&body).map_err(ApiError::internal)?;
    Ok((d, status, v))
}

/// `GET /drafts/{id}`.
pub async fn get_draft(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let (d, status, v) = load_draft(&st, &id).await?;
    Ok(axum::Json(
        json!({"id": id, "status": status, "published_version": v, "draft": d}),
    ))
}

fn outdated(snap: &Snapshot, base: &HashMap<String, i64>) -> Vec<Value> {
    base.iter()
        .filter_map(|(code, b)| {
            let now = snap.grid_versions.get(code).copied().unwrap_or(0);
            (now != *b).then(|| json!({"grid": code, "base_version": b, "current_version": now}))
        })
        .collect()
}

/// `GET /drafts/{id}/validate`: every problem after the change, as GeoJSON.
pub async fn validate_draft(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (d, _, _) = load_draft(&st, &id).await?;
    let changes = to_changes(&d.draft)?;
    let snap = st.current();
    let body = blocking(move || -> Result<Value, ApiError> {
        let after = apply_changes(&snap.district, &changes).map_err(|e| change_error(&e))?;
        let (problems, added) = check(&snap, &after);
        let mut fc =
            serde_json::to_value(to_feature_collection(&problems)).map_err(ApiError::internal)?;
        fc["errors"] = json!(
            problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .count()
        );
        fc["warnings"] = json!(
            problems
                .iter()
                .filter(|p| p.severity == Severity::Warning)
                .count()
        );
        fc["new_errors"] = json!(added.iter().map(|p| p.message.clone()).collect::<Vec<_>>());
        fc["outdated"] = json!(outdated(&snap, &d.base));
        Ok(fc)
    })
    .await??;
    let mut r = axum::Json(body).into_response();
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
    let (d, _, _) = load_draft(&st, &id).await?;
    let changes = to_changes(&d.draft)?;
    let snap = st.current();
    blocking(move || -> Result<axum::Json<Value>, ApiError> {
        let after = apply_changes(&snap.district, &changes).map_err(|e| change_error(&e))?;
        let aa = assign(&after, &gridgov_spatial::GridIndex::new(&after));
        let i = impact(&snap.district, &snap.assignment, &after, &aa);
        Ok(axum::Json(
            json!({"draft": d.id, "impact": i, "outdated": outdated(&snap, &d.base)}),
        ))
    })
    .await?
}

/// The shared publish path: apply, check, store, swap.
async fn publish_changes(
    st: &Arc<AppState>,
    draft: &DraftIn,
    changes: Vec<GridChange>,
    base: HashMap<String, i64>,
    rollback_of: Option<i64>,
) -> Result<crate::storage::versions::VersionInfo, ApiError> {
    let _guard = st.publish_lock.lock().await;
    // Another replica may have published since this one last looked.
    let st3 = st.clone();
    blocking(move || st3.catch_up())
        .await?
        .map_err(ApiError::internal)?;
    let snap = st.current();
    let st2 = st.clone();
    let author = draft.author.clone();
    let reason = draft.reason.clone();
    let effective_date = draft.effective_date.clone().unwrap_or_else(today);
    let (info, next) = blocking(move || -> Result<_, ApiError> {
        let after = apply_changes(&snap.district, &changes).map_err(|e| change_error(&e))?;
        if rollback_of.is_none() {
            let (_, added) = check(&snap, &after);
            if !added.is_empty() {
                return Err(ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    title: "The change adds topology errors",
                    detail: added
                        .iter()
                        .map(|p| p.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                    field: Some("changes".into()),
                });
            }
        }
        let records = changes
            .iter()
            .map(|c| GridRecord::from_district(&after, &c.code))
            .collect();
        let p = Publication {
            author,
            reason,
            effective_date,
            base,
            records,
            rollback_of,
        };
        let info = st2.store.publish(&p).map_err(|e| match e {
            PublishError::Conflict(c) => ApiError {
                status: StatusCode::PRECONDITION_FAILED,
                title: "Changed since read",
                detail: c
                    .iter()
                    .map(|(g, v)| format!("grid {g} is now at version {v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
                field: Some("base_version".into()),
            },
            PublishError::Storage(e) => ApiError::internal(e),
        })?;
        let mut versions = snap.grid_versions.clone();
        for c in &changes {
            if c.boundary.is_some() {
                versions.insert(c.code.clone(), info.version);
            } else {
                versions.remove(&c.code);
            }
        }
        let next = if info.version == snap.version + 1 {
            Snapshot::build(after, versions, info.version)
        } else {
            // Someone published in between: rebuild from the store.
            st2.snapshot_from_store(&snap, info.version)
                .map_err(ApiError::internal)?
        };
        Ok((info, next))
    })
    .await??;
    st.swap(next);
    tracing::info!(version = info.version, author = %info.author, grids = ?info.grids, "published");
    Ok(info)
}

/// `POST /drafts/{id}/publish`.
pub async fn publish_draft(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let (d, status, v) = load_draft(&st, &id).await?;
    if status == "published" {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            title: "Already published",
            detail: format!(
                "draft {id} was published as version {}",
                v.unwrap_or_default()
            ),
            field: None,
        });
    }
    let changes = to_changes(&d.draft)?;
    let info = publish_changes(&st, &d.draft, changes, d.base.clone(), None).await?;
    let store = st.store.clone();
    let (id2, ver) = (id.clone(), info.version);
    blocking(move || store.mark_published(&id2, ver))
        .await?
        .map_err(ApiError::internal)?;
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
        });
    };
    let base = parse_etag(tag).ok_or_else(|| {
        ApiError::bad_request("If-Match", "If-Match is not an ETag from this service")
    })?;
    let put: GridPut = parse_json(&body?)?;
    if st.current().district.area_by_code(&code).is_none() {
        return Err(ApiError::not_found(format!("no grid {code:?}")));
    }
    let draft = DraftIn {
        author: put.author,
        reason: put.reason,
        effective_date: put.effective_date,
        changes: vec![ChangeIn {
            code: code.clone(),
            geometry: Some(put.geometry),
            remove: false,
            name: put.name,
            parent_code: None,
            kind: None,
            base_version: Some(base),
        }],
    };
    let changes = to_changes(&draft)?;
    let info = publish_changes(&st, &draft, changes, HashMap::from([(code, base)]), None).await?;
    let v = info.version;
    let mut r = axum::Json(json!({"published": info})).into_response();
    r.headers_mut().insert(header::ETAG, etag(v));
    Ok(r)
}

/// `GET /versions`.
pub async fn versions(State(st): State<Arc<AppState>>) -> Result<axum::Json<Value>, ApiError> {
    let store = st.store.clone();
    let v = blocking(move || store.versions())
        .await?
        .map_err(ApiError::internal)?;
    Ok(axum::Json(json!({"versions": v})))
}

/// `GET /grids/{code}/history`: every version of a grid, as GeoJSON.
pub async fn grid_history(
    State(st): State<Arc<AppState>>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let store = st.store.clone();
    let c = code.clone();
    let h = blocking(move || store.grid_history(&c))
        .await?
        .map_err(ApiError::internal)?;
    if h.is_empty() {
        return Err(ApiError::not_found(format!(
            "no grid {code:?} in any version"
        )));
    }
    let all = {
        let store = st.store.clone();
        blocking(move || store.versions())
            .await?
            .map_err(ApiError::internal)?
    };
    let features: Vec<Value> = h
        .iter()
        .map(|(v, r)| {
            let info = all.iter().find(|x| x.version == *v);
            json!({
                "type": "Feature",
                "id": format!("{code}@{v}"),
                "geometry": r.boundary.as_ref().map(geojson::Geometry::from),
                "properties": {"code": code, "version": v, "name": r.name, "removed": r.boundary.is_none(),
                    "author": info.map(|i| i.author.clone()), "published_at": info.map(|i| i.published_at.clone()),
                    "reason": info.map(|i| i.reason.clone()), "effective_date": info.map(|i| i.effective_date.clone())}
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
    let store = st.store.clone();
    let latest = {
        let s = store.clone();
        blocking(move || s.latest_version())
            .await?
            .map_err(ApiError::internal)?
    };
    if n < 1 || n > latest {
        return Err(ApiError::not_found(format!(
            "no version {n}; the latest is {latest}"
        )));
    }
    let old = blocking(move || store.grids_at(n))
        .await?
        .map_err(ApiError::internal)?;
    let snap = st.current();
    // Every grid that differs between now and version n.
    let mut changes = Vec::new();
    let mut base = HashMap::new();
    let old_codes: BTreeSet<&str> = old.iter().map(|r| r.code.as_str()).collect();
    for r in &old {
        let now = GridRecord::from_district(&snap.district, &r.code);
        if now != *r {
            base.insert(
                r.code.clone(),
                snap.grid_versions.get(&r.code).copied().unwrap_or(0),
            );
            changes.push(GridChange {
                code: r.code.clone(),
                boundary: r.boundary.clone(),
                name: Some(r.name.clone()),
                parent_code: r.parent_code.clone(),
                kind: Some(r.kind),
            });
        }
    }
    for g in snap.district.grids() {
        let code = &snap.district.area(g).code;
        if !old_codes.contains(code.as_str()) {
            base.insert(
                code.clone(),
                snap.grid_versions.get(code).copied().unwrap_or(0),
            );
            changes.push(GridChange {
                code: code.clone(),
                boundary: None,
                name: None,
                parent_code: None,
                kind: None,
            });
        }
    }
    if changes.is_empty() {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            title: "Nothing to roll back",
            detail: format!("the current boundaries are those of version {n}"),
            field: None,
        });
    }
    let draft = DraftIn {
        author: rb.author,
        reason: rb.reason,
        effective_date: rb.effective_date,
        changes: Vec::new(),
    };
    if draft.author.trim().is_empty() || draft.reason.trim().is_empty() {
        return Err(ApiError::bad_request(
            "author",
            "author and reason are required",
        ));
    }
    if let Some(e) = &draft.effective_date {
        check_date(e)?;
    }
    let info = publish_changes(&st, &draft, changes, base, Some(n)).await?;
    Ok(axum::Json(json!({"published": info})))
}
