//! Cases over HTTP: file a report, read a case, take a step, move its
//! pin, find and merge duplicates, list overdue cases, escalate.
//!
//! A case's `ETag` is its step number; a step sent with `If-Match` is
//! taken only if the case is still there (else 409 with where it is). An
//! illegal step answers 409 with the steps that are allowed, as the
//! problem's `allowed` member.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::extract::{JsonBody, Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_spatial::workflow::Action;
use serde::Deserialize;

use gridgov_spatial::access::{Access, Thing};
use gridgov_spatial::cancel::Cancel;

use super::auth::Caller;
use super::{ApiError, AppState};
use gridgov_app::cases::{self, Book, NewReport, Place, StepRequest};

/// Runs a blocking call of the application off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await?
}

/// [`blocking`] for work that may run long: `f` gets a flag that is
/// raised when this future is dropped — the client went away or the
/// request's time limit struck — and stops at its next look at it.
pub(super) async fn cancellable<T: Send + 'static>(
    f: impl FnOnce(Cancel) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    struct RaiseOnDrop(Cancel);
    impl Drop for RaiseOnDrop {
        fn drop(&mut self) {
            self.0.cancel();
        }
    }
    let cancel = Cancel::new();
    let _raise = RaiseOnDrop(cancel.clone());
    tokio::task::spawn_blocking(move || f(cancel)).await?
}

fn with_etag(mut r: Response, seq: u32) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{seq}\"")) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// 201 with the step and the state after it; `ETag` the new step.
fn step_taken(
    e: &gridgov_spatial::workflow::Event,
    s: &gridgov_spatial::workflow::CaseState,
) -> Response {
    with_etag(
        (
            StatusCode::CREATED,
            Json(serde_json::json!({ "event": e, "state": s })),
        )
            .into_response(),
        s.seq,
    )
}

pub(crate) fn case_id(s: &str) -> Result<i64, ApiError> {
    s.trim_end_matches(".json")
        .parse::<i64>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            ApiError::bad_request(
                "id",
                format!("{s:?} is not an incident id (a positive number)"),
            )
        })
}

/// `Ok` when `caller` may have `access` to case `id` (its grid and
/// assignee decide). Blocking.
pub(crate) fn check_case(
    st: &AppState,
    caller: &Caller,
    id: i64,
    access: Access,
) -> Result<(), ApiError> {
    let snap = st.current();
    let w = cases::whereabouts(st.app.store.as_ref(), &snap, id)?;
    caller.require(
        &Thing::Incident {
            grid: w.grid.as_deref(),
            assignee: w.assignee.as_ref(),
            filed_by: w.filed_by.as_deref(),
        },
        access,
    )?;
    Ok(())
}

/// Files a report (shared with Open311): the new case and what was found.
pub fn file_report(
    st: &AppState,
    report: &NewReport,
    filed_by: Option<&str>,
    tracking: Option<String>,
    hotline_case: Option<String>,
) -> Result<
    (
        i64,
        cases::CaseView,
        cases::Located,
        Vec<gridgov_spatial::duplicates::Duplicate>,
    ),
    ApiError,
> {
    let snap = st.current();
    let (mut x, at) = cases::incident_of(&snap, report, st.app.now())?;
    x.filed_by = filed_by.map(String::from);
    if let Some(t) = tracking {
        x.reporter.get_or_insert_with(Default::default).tracking = Some(t);
    }
    if let Some(n) = hotline_case {
        x.reporter.get_or_insert_with(Default::default).hotline_case = Some(n);
    }
    let id = st.app.store.add_incidents(&[x])?[0];
    st.app.incidents_updated(&[id])?;
    let view = cases::read(
        st.app.store.as_ref(),
        &snap,
        &st.app.rules.deadlines,
        id,
        st.app.now(),
    )?;
    let dups = cases::duplicates_in(&st.current(), &st.app.rules.duplicates, id)?;
    Ok((id, view, at, dups))
}

/// `POST /incidents`: files a report; it is placed in its grid at once.
#[utoipa::path(
    post,
    path = "/incidents",
    tag = "incidents",
    summary = "File a report; it is routed to its grid at once",
    request_body(content = serde_json::Value, description = "lon/lat (crs) or address, category, source, description, reported_at", content_type = "application/json"),
    responses(
        (status = 201, description = "the case, where it was placed and likely duplicates", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn file(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    JsonBody(report): JsonBody<NewReport>,
) -> Response {
    let who = caller.principal.user.clone();
    let st2 = st.clone();
    super::idempotency::once(&st2, &who, &headers, "incidents", async move {
        file_once(st, caller, report)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

async fn file_once(
    st: Arc<AppState>,
    caller: Caller,
    report: NewReport,
) -> Result<Response, ApiError> {
    // A resident's report is received now, through the web: the time and
    // channel are the service's to record (staff entering a hotline call
    // or a patrol's note say when and how it came).
    if caller.principal.role == gridgov_spatial::access::Role::Public {
        for (field, given) in [
            ("reported_at", report.reported_at.is_some()),
            (
                "source",
                report
                    .source
                    .as_deref()
                    .is_some_and(|s| !s.is_empty() && s != "web"),
            ),
        ] {
            if given {
                return Err(ApiError::unprocessable(
                    field,
                    format!("{field} is set by the service for residents' reports: leave it out"),
                ));
            }
        }
    }
    let st2 = st.clone();
    let who = caller.principal.user.clone();
    let (id, view, at, dups) =
        blocking(move || file_report(&st2, &report, Some(who.as_str()), None, None)).await?;
    let seq = view.state.seq;
    let mut v = serde_json::to_value(&view).map_err(ApiError::internal)?;
    if let serde_json::Value::Object(o) = &mut v {
        o.insert(
            "located".into(),
            serde_json::to_value(&at).map_err(ApiError::internal)?,
        );
        o.insert(
            "duplicates".into(),
            serde_json::to_value(&dups).map_err(ApiError::internal)?,
        );
    }
    let mut resp = (StatusCode::CREATED, Json(v)).into_response();
    if let Ok(l) = HeaderValue::from_str(&format!("{}/incidents/{id}", st.config.base_url)) {
        resp.headers_mut().insert(header::LOCATION, l);
    }
    Ok(with_etag(resp, seq))
}

/// `GET /incidents/{id}`: the case, its history and what may come next.
#[utoipa::path(
    get,
    path = "/incidents/{id}",
    tag = "incidents",
    summary = "A case: its report, history, state, deadline and the steps allowed",
    params(
        ("id" = String, Path, description = "the case id"),
    ),
    responses(
        (status = 200, description = "the case; ETag is its step", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such case", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = case_id(&id)?;
    let (view, photos) = blocking(move || {
        check_case(&st, &caller, id, Access::Read)?;
        let snap = st.current();
        let view = cases::read(
            st.app.store.as_ref(),
            &snap,
            &st.app.rules.deadlines,
            id,
            st.app.now(),
        )?;
        // Every photo kept of the case: the staff's and the resident's.
        let photos = st
            .app
            .store
            .photos_of(gridgov_app::photos::PhotoOwner::Case(id))?;
        Ok((view, photos))
    })
    .await?;
    let seq = view.state.seq;
    let mut v = serde_json::to_value(&view).map_err(ApiError::internal)?;
    v["photos"] = serde_json::to_value(&photos).map_err(ApiError::internal)?;
    Ok(with_etag(Json(v).into_response(), seq))
}

/// The body of a step.
#[derive(Debug, Deserialize)]
pub struct StepIn {
    #[serde(flatten)]
    action: Action,
    #[serde(default)]
    note: String,
    /// Photos kept for this case (`POST /incidents/{id}/photos`).
    #[serde(default)]
    photos: Vec<i64>,
}

fn if_match(h: &HeaderMap) -> Result<Option<u32>, ApiError> {
    match crate::extract::if_match_tag(h)? {
        None => Ok(None),
        Some(v) => v.trim_matches('"').parse::<u32>().map(Some).map_err(|_| {
            ApiError::bad_request(
                "If-Match",
                format!("{v:?} is not a case's ETag (its step number)"),
            )
        }),
    }
}

/// `POST /incidents/{id}/steps`: accept, reject, dispatch, handle,
/// feedback, close, evaluate, escalate.
#[utoipa::path(
    post,
    path = "/incidents/{id}/steps",
    tag = "incidents",
    summary = "Take a step: accept, reject, dispatch, handle, feedback, close, evaluate, escalate (If-Match: the step seen)",
    params(
        ("id" = String, Path, description = "the case id"),
    ),
    request_body(content = serde_json::Value, description = "action and its data, note", content_type = "application/json"),
    responses(
        (status = 201, description = "the step and the state after it", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such case", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "not allowed from where the case is (allowed lists what is), or it moved on", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "bad step data", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn step(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<StepIn>,
) -> Response {
    // A step sent again with the same `Idempotency-Key` (a phone whose
    // answer was lost) is taken once: the first answer is given again.
    let who = caller.principal.user.clone();
    let st2 = st.clone();
    let h2 = headers.clone();
    super::idempotency::once(&st2, &who, &h2, "steps", async move {
        take_step(st, caller, id, headers, input)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

async fn take_step(
    st: Arc<AppState>,
    caller: Caller,
    id: String,
    headers: HeaderMap,
    input: StepIn,
) -> Result<Response, ApiError> {
    let id = case_id(&id)?;
    let expected = if_match(&headers)?;
    let (e, s) = blocking(move || {
        check_case(&st, &caller, id, Access::Write)?;
        // A step may show only photos of its own case.
        for &p in &input.photos {
            let of_it = st
                .app
                .store
                .photo_info(p)?
                .is_some_and(|i| i.owner == gridgov_app::photos::PhotoOwner::Case(id));
            if !of_it {
                return Err(ApiError::unprocessable(
                    "photos",
                    format!("photo {p} is not one of incident {id}"),
                ));
            }
        }
        let r = cases::step(
            st.app.store.as_ref(),
            id,
            &StepRequest {
                action: input.action,
                actor: caller.principal.user.clone(),
                note: input.note,
                expected_seq: expected,
                photos: input.photos,
            },
            st.app.now(),
        )?;
        st.app.incidents_updated(&[id])?;
        Ok(r)
    })
    .await?;
    Ok(step_taken(&e, &s))
}

/// The body of a pin move.
#[derive(Debug, Deserialize)]
pub struct MoveIn {
    #[serde(flatten)]
    place: Place,
    #[serde(default)]
    note: String,
}

/// `POST /incidents/{id}/move`: moves the pin and re-routes the case.
#[utoipa::path(
    post,
    path = "/incidents/{id}/move",
    tag = "incidents",
    summary = "Move the pin and re-route the case",
    params(
        ("id" = String, Path, description = "the case id"),
    ),
    request_body(content = serde_json::Value, description = "lon/lat (crs) or address, note", content_type = "application/json"),
    responses(
        (status = 201, description = "the step and the state after it", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such case", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "not allowed now", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn move_pin(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<MoveIn>,
) -> Result<Response, ApiError> {
    let id = case_id(&id)?;
    let (e, s) = blocking(move || {
        check_case(&st, &caller, id, Access::Write)?;
        let snap = st.current();
        let at = cases::locate(&snap, &input.place)?;
        let r = cases::move_pin(
            st.app.store.as_ref(),
            &snap,
            id,
            at.wgs84,
            &caller.principal.user,
            &input.note,
            st.app.now(),
        )?;
        st.app.incidents_updated(&[id])?;
        Ok(r)
    })
    .await?;
    Ok(step_taken(&e, &s))
}

/// `GET /incidents/{id}/duplicates`: open cases that look like the same
/// problem.
#[utoipa::path(
    get,
    path = "/incidents/{id}/duplicates",
    tag = "incidents",
    summary = "Open cases that look like the same problem",
    params(
        ("id" = String, Path, description = "the case id"),
    ),
    responses(
        (status = 200, description = "the rule and the duplicates", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such case", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn duplicates(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = case_id(&id)?;
    let rule = st.app.rules.duplicates;
    let d = blocking(move || {
        check_case(&st, &caller, id, Access::Read)?;
        Ok(cases::duplicates_in(&st.current(), &rule, id)?)
    })
    .await?;
    Ok(Json(serde_json::json!({ "rule": rule, "duplicates": d })).into_response())
}

/// The body of a merge.
#[derive(Debug, Deserialize)]
pub struct MergeIn {
    into: i64,
    #[serde(default)]
    note: String,
}

/// `POST /incidents/{id}/merge`: the case joins `into`; both histories stay.
#[utoipa::path(
    post,
    path = "/incidents/{id}/merge",
    tag = "incidents",
    summary = "Merge the case into another; both histories stay",
    params(
        ("id" = String, Path, description = "the case id"),
    ),
    request_body(content = serde_json::Value, description = "into, note", content_type = "application/json"),
    responses(
        (status = 201, description = "the surviving case", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such case", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "not allowed now", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn merge(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<MergeIn>,
) -> Result<Response, ApiError> {
    let id = case_id(&id)?;
    let view = blocking(move || {
        check_case(&st, &caller, id, Access::Write)?;
        check_case(&st, &caller, input.into, Access::Write)?;
        cases::merge(
            st.app.store.as_ref(),
            id,
            input.into,
            &caller.principal.user,
            &input.note,
            st.app.now(),
        )?;
        st.app.incidents_updated(&[id, input.into])?;
        let snap = st.current();
        Ok(cases::read(
            st.app.store.as_ref(),
            &snap,
            &st.app.rules.deadlines,
            input.into,
            st.app.now(),
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Filters of `GET /incidents`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only cases at this status (`reported`, `accepted`, …).
    status: Option<String>,
    /// Only cases routed to this grid (its code).
    grid: Option<String>,
    /// Only this category.
    category: Option<String>,
    /// Only cases past their deadline, the longest overdue first.
    #[serde(default)]
    overdue: bool,
    /// Newest first (the last filed first) instead of in filing order.
    #[serde(default)]
    newest: bool,
    /// At most this many (default 100, at most 10,000).
    limit: Option<usize>,
    /// Skip this many.
    offset: Option<usize>,
}

/// `GET /incidents`: cases by status, grid, category, overdue.
#[utoipa::path(
    get,
    path = "/incidents",
    tag = "incidents",
    summary = "Cases the caller may read, by status, grid, category, overdue",
    params(
        ListQuery,
    ),
    responses(
        (status = 200, description = "the cases", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(100).min(10_000);
    let offset = q.offset.unwrap_or(0);
    let v = blocking(move || {
        let snap = st.current();
        let book = Book::read(st.app.store.as_ref())?;
        let now = st.app.now();
        let rules = &st.app.rules.deadlines;
        let mut rows = Vec::new();
        for c in &book.cases {
            let (id, x, s) = (&c.id, &c.incident, &c.state);
            if q.status.as_deref().is_some_and(|f| f != s.status.as_str())
                || q.category.as_deref().is_some_and(|f| f != x.category)
            {
                continue;
            }
            let over = rules.overdue(&x.category, s, now);
            if q.overdue && over.is_none() {
                continue;
            }
            let r = cases::route(
                &snap.district,
                &snap.grids,
                [x.location.x(), x.location.y()],
            );
            let code = r.grid.as_ref().map(|g| g.code.clone());
            if q.grid
                .as_deref()
                .is_some_and(|f| Some(f) != code.as_deref())
                || !caller.may(
                    &Thing::Incident {
                        grid: code.as_deref(),
                        assignee: s.assignee.as_ref(),
                        filed_by: x.filed_by.as_deref(),
                    },
                    Access::Read,
                )
            {
                continue;
            }
            rows.push((
                over.as_ref().map_or(0.0, |o| -o.hours_over),
                *id,
                serde_json::json!({
                    "id": id,
                    "category": x.category,
                    "source": x.source,
                    "reported_at": x.reported_at,
                    "location": [x.location.x(), x.location.y()],
                    "grid": code,
                    "status": s.status,
                    "level": s.level,
                    "seq": s.seq,
                    "overdue": over,
                }),
            ));
        }
        if q.newest {
            rows.reverse();
        }
        if q.overdue {
            rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        let total = rows.len();
        let items: Vec<serde_json::Value> = rows
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|r| r.2)
            .collect();
        Ok(serde_json::json!({ "total": total, "offset": offset, "cases": items }))
    })
    .await?;
    Ok(Json(v).into_response())
}

/// Query of `POST /incidents/escalate`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EscalateQuery {
    /// The time to judge deadlines at (RFC 3339); default now.
    now: Option<String>,
}

/// `POST /incidents/escalate`: escalates the overdue cases now (the
/// service also does it on a timer).
#[utoipa::path(
    post,
    path = "/incidents/escalate",
    tag = "incidents",
    summary = "Escalate every overdue case now",
    params(
        EscalateQuery,
    ),
    responses(
        (status = 200, description = "the cases escalated", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn escalate(
    State(st): State<Arc<AppState>>,
    Query(q): Query<EscalateQuery>,
) -> Result<Response, ApiError> {
    let now = super::now_param(&st, q.now.as_deref())?;
    let ids = blocking(move || Ok(st.app.escalate_overdue(now)?)).await?;
    Ok(Json(serde_json::json!({ "escalated": ids })).into_response())
}

/// Query of `POST /incidents/import`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The column mapping as JSON; default: columns named after the fields.
    mapping: Option<String>,
}

/// `POST /incidents/import` (`text/csv`): a hotline export, imported
/// whole or not at all; 422 lists every bad row.
#[utoipa::path(
    post,
    path = "/incidents/import",
    tag = "incidents",
    summary = "Import a hotline CSV export, whole or not at all",
    params(
        ImportQuery,
    ),
    request_body(content = String, description = "a CSV export", content_type = "text/csv"),
    responses(
        (status = 201, description = "how many, and their ids", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "every bad row, by line", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // Residents file one case at a time; bulk imports are the staff's.
    if caller.principal.role == gridgov_spatial::access::Role::Public {
        return Err(caller.refusal());
    }
    let mapping: gridgov_app::import::incidents::Mapping = match q.mapping.as_deref() {
        None => gridgov_app::import::incidents::Mapping::default(),
        Some(m) => serde_json::from_str(m)
            .map_err(|e| ApiError::bad_request("mapping", format!("not a column mapping: {e}")))?,
    };
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("body", "the CSV is not UTF-8"))?;
    let r = blocking(move || {
        let snap = st.current();
        match gridgov_app::import::incidents::incidents_from_csv(
            &snap,
            &text,
            &mapping,
            st.app.now(),
            |_| {},
        ) {
            Err(errors) => Ok(Err(errors)),
            Ok(xs) => {
                let ids = st.app.store.add_incidents(&xs)?;
                st.app.incidents_updated(&ids)?;
                Ok(Ok(ids))
            }
        }
    })
    .await?;
    match r {
        Ok(ids) => Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({
                "imported": ids.len(),
                "first_id": ids.first(),
                "last_id": ids.last(),
            })),
        )
            .into_response()),
        Err(errors) => Err(ApiError::unprocessable(
            "body",
            format!("{} rows have problems; nothing was imported", errors.len()),
        )
        .member(
            "errors",
            serde_json::to_value(&errors).map_err(ApiError::internal)?,
        )),
    }
}
