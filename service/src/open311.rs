//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>), so that
//! existing 311 clients can file and track cases: `services.json`,
//! `services/{code}.json`, `requests.json` (POST, form-encoded or JSON;
//! GET with the standard filters) and `requests/{id}.json`. Our detailed
//! state (status, level, grid, history length) rides in
//! `extended_attributes.gridgov`. Errors are the spec's
//! `[{"code": …, "description": …}]`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::extract::{Path, Query, UiLang};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_spatial::i18n::{self, Lang};
use gridgov_spatial::{Incident, IncidentStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use super::cases::file_report;
use super::{ApiError, AppState};
use gridgov_app::cases::{Book, NewReport, Place};

fn error(status: StatusCode, description: impl Into<String>) -> Response {
    (
        status,
        Json(json!([{ "code": status.as_u16(), "description": description.into() }])),
    )
        .into_response()
}

/// An error in Open311's own shape (a list of codes and descriptions);
/// the cause of an internal one goes to the log as for any other answer.
fn failure(e: ApiError) -> Response {
    let mut r = error(e.status, e.detail);
    if let Some(c) = e.cause {
        r.extensions_mut()
            .insert(super::error::InternalCause(c.into()));
    }
    r
}

/// The services: one per incident category the district knows.
fn services(st: &AppState) -> Vec<String> {
    let snap = st.current();
    let mut v: Vec<String> = snap
        .district
        .incidents
        .iter()
        .map(|x| x.category.clone())
        .chain(
            st.app
                .rules
                .deadlines
                .categories
                .iter()
                .map(|(c, _)| c.clone()),
        )
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A category's name in `lang` (Open311's `service_name`; the code stays
/// the `service_code`).
fn service_name(lang: Lang, code: &str) -> String {
    i18n::category(lang, code).into_owned()
}

/// `GET /open311/v2/services.json`.
#[utoipa::path(
    get,
    path = "/open311/v2/services.json",
    tag = "open311",
    summary = "Open311: the services (incident categories)",
    responses(
        (status = 200, description = "the services", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn service_list(State(st): State<Arc<AppState>>, UiLang(lang): UiLang) -> Response {
    let list: Vec<Value> = services(&st)
        .into_iter()
        .map(|c| {
            json!({
                "service_code": c,
                "service_name": service_name(lang, &c),
                "description": i18n::tf(lang, "open311.description", &[("category", &service_name(lang, &c))]),
                "metadata": false,
                "type": "realtime",
                "keywords": c,
                "group": "grid governance",
            })
        })
        .collect();
    Json(list).into_response()
}

/// `GET /open311/v2/services/{code}.json`: no extra attributes.
#[utoipa::path(
    get,
    path = "/open311/v2/services/{code}",
    tag = "open311",
    summary = "Open311: one service",
    params(
        ("code" = String, Path, description = "the service code with .json"),
    ),
    responses(
        (status = 200, description = "the service", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such service", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn service_definition(
    State(st): State<Arc<AppState>>,
    Path(code): Path<String>,
) -> Response {
    let code = code.trim_end_matches(".json").to_string();
    if !services(&st).contains(&code) {
        return error(StatusCode::NOT_FOUND, format!("no service {code:?}"));
    }
    Json(json!({ "service_code": code, "attributes": [] })).into_response()
}

/// A POSTed request (the spec's field names).
#[derive(Debug, Deserialize)]
struct RequestIn {
    service_code: Option<String>,
    lat: Option<String>,
    long: Option<String>,
    address_string: Option<String>,
    #[serde(default)]
    description: String,
}

fn num(s: Option<&str>, what: &str) -> Result<Option<f64>, ApiError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<f64>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(what, format!("{what} {v:?} is not a number"))),
    }
}

/// `POST /open311/v2/requests.json`.
#[utoipa::path(
    post,
    path = "/open311/v2/requests.json",
    tag = "open311",
    summary = "Open311: file a service request",
    request_body(content = String, description = "service_code, lat/long or address_string, description (form or JSON)", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "the new request", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad request", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn post_request(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("application/x-www-form-urlencoded"));
    let input: Result<RequestIn, String> = if form {
        serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    };
    let input = match input {
        Ok(i) => i,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request: {e}"),
            );
        }
    };
    if !caller.signed_in()
        && let Some(wait) = caller
            .client
            .and_then(|ip| st.limiter.check_filing_from(ip).err())
    {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "this address has filed {} reports without signing in; the next may be filed in {:.0} s (or sign in)",
                super::harden::ANONYMOUS_FILING_BURST,
                wait.as_secs_f64().ceil()
            ),
        );
        if let Ok(v) =
            axum::http::HeaderValue::from_str(&format!("{}", wait.as_secs_f64().ceil().max(1.0)))
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let who = if caller.signed_in() {
        caller.principal.user.clone()
    } else {
        caller.client.map_or_else(String::new, |c| c.to_string())
    };
    let st3 = st.clone();
    super::idempotency::once(&st3, &who, &headers, "open311", async move {
    let r = async {
        let Some(code) = input.service_code.filter(|c| !c.trim().is_empty()) else {
            return Err(ApiError::bad_request(
                "service_code",
                "service_code is required",
            ));
        };
        if !services(&st).contains(&code) {
            return Err(ApiError::bad_request(
                "service_code",
                format!("no service {code:?}"),
            ));
        }
        let report = NewReport {
            place: Place {
                lon: num(input.long.as_deref(), "long")?,
                lat: num(input.lat.as_deref(), "lat")?,
                crs: None,
                address: input.address_string,
            },
            category: code,
            source: Some("web".into()),
            description: input.description,
            reported_at: None,
        };
        let st2 = st.clone();
        tokio::task::spawn_blocking(move || {
            let who = caller.signed_in().then_some(caller.principal.user.as_str());
            file_report(&st2, &report, who)
        })
        .await?
    }
    .await;
    match r {
        Ok((id, view, _, _)) => {
            let notice = view
                .route
                .grid
                .map_or_else(String::new, |g| format!("sent to {} ({})", g.name, g.code));
            (
                StatusCode::CREATED,
                Json(json!([{ "service_request_id": id.to_string(), "service_notice": notice, "account_id": null }])),
            )
                .into_response()
        }
        Err(f) => failure(f),
    }
    })
    .await
}

fn open311_status(s: IncidentStatus) -> &'static str {
    if s.is_open() { "open" } else { "closed" }
}

/// A coordinate to three decimals (about 110 m of latitude, 90 m of
/// longitude here): enough to see the street, not the door.
fn coarse(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// A request as Open311 shows it. What the resident said and the notes
/// of the steps may hold personal data (a hotline caller's name and
/// number): they are shown only to those who may read the case; the
/// public sees where, what kind and how far along.
fn request_json(
    snap: &super::Snapshot,
    p: &gridgov_spatial::access::Principal,
    id: i64,
    x: &Incident,
    h: &[gridgov_spatial::workflow::Event],
    s: &gridgov_spatial::workflow::CaseState,
    lang: Lang,
) -> Value {
    let route = gridgov_app::cases::route(
        &snap.district,
        &snap.grids,
        [x.location.x(), x.location.y()],
    );
    let full = gridgov_spatial::access::allows(
        p,
        &gridgov_spatial::access::Thing::Incident {
            grid: route.grid.as_ref().map(|g| g.code.as_str()),
            assignee: s.assignee.as_ref(),
            filed_by: x.filed_by.as_deref(),
        },
        gridgov_spatial::access::Access::Read,
    );
    let updated = h.last().map_or(x.reported_at, |e| e.at);
    let notes = h.last().map_or(String::new(), |e| {
        if !full {
            return e.action.name().to_string();
        }
        if e.note.is_empty() {
            e.action.name().to_string()
        } else {
            format!("{}: {}", e.action.name(), e.note)
        }
    });
    json!({
        "service_request_id": id.to_string(),
        "status": open311_status(s.status),
        "status_notes": notes,
        "service_name": service_name(lang, &x.category),
        "service_code": x.category,
        "description": if full { x.description.as_str() } else { "" },
        "agency_responsible": route.grid.as_ref().map(|g| g.name.clone()),
        "service_notice": "",
        "requested_datetime": x.reported_at,
        "updated_datetime": updated,
        "expected_datetime": null,
        "address": "",
        "address_id": null,
        "zipcode": null,
        // Exactly where, to those who may read the case; to a hundred
        // metres or so (three decimals) to everyone else.
        "lat": if full { x.location.y() } else { coarse(x.location.y()) },
        "long": if full { x.location.x() } else { coarse(x.location.x()) },
        "media_url": null,
        "extended_attributes": {
            "gridgov": {
                "status": s.status,
                "level": s.level,
                "grid": route.grid.as_ref().map(|g| g.code.clone()),
                "steps": s.seq,
                "merged_into": s.merged_into,
            }
        }
    })
}

/// Filters of `GET /open311/v2/requests.json`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// Comma-separated ids.
    service_request_id: Option<String>,
    /// Only this service (category).
    service_code: Option<String>,
    /// Requested from (W3C date-time).
    start_date: Option<String>,
    /// Requested until (W3C date-time).
    end_date: Option<String>,
    /// `open` or `closed`.
    status: Option<String>,
}

/// `GET /open311/v2/requests.json`: by ids, or the latest 1,000 matching
/// the filters (default: the last 90 days).
#[utoipa::path(
    get,
    path = "/open311/v2/requests.json",
    tag = "open311",
    summary = "Open311: service requests",
    params(
        RequestsQuery,
    ),
    responses(
        (status = 200, description = "the requests", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "bad filters", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn get_requests(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    UiLang(lang): UiLang,
    q: Result<Query<RequestsQuery>, ApiError>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return failure(e),
    };
    let ids: Option<Vec<i64>> = match &q.service_request_id {
        None => None,
        Some(s) => match s.split(',').map(|p| p.trim().parse::<i64>()).collect() {
            Ok(v) => Some(v),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("bad service_request_id {s:?}"),
                );
            }
        },
    };
    let when = |s: &Option<String>, what: &str| -> Result<Option<i64>, String> {
        match s {
            None => Ok(None),
            Some(t) => gridgov_spatial::time::parse_instant(t)
                .map(|t| Some(t.as_second()))
                .map_err(|_| format!("{what} {t:?} is not a W3C date-time")),
        }
    };
    let (start, end) = match (
        when(&q.start_date, "start_date"),
        when(&q.end_date, "end_date"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(m), _) | (_, Err(m)) => return error(StatusCode::BAD_REQUEST, m),
    };
    if let Some(s) = q.status.as_deref()
        && s != "open"
        && s != "closed"
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("status is open or closed, not {s:?}"),
        );
    }
    let st2 = st.clone();
    let r = tokio::task::spawn_blocking(move || -> Result<Vec<Value>, ApiError> {
        let book = Book::read(st2.app.store.as_ref())?;
        let snap = st2.current();
        let start = start.or_else(|| {
            ids.is_none()
                .then(|| st2.app.now().as_second() - 90 * 86_400)
        });
        let mut out = Vec::new();
        for c in book.cases.iter().rev() {
            let (id, x, h, s) = (&c.id, &c.incident, &c.history, &c.state);
            if let Some(ids) = &ids {
                if !ids.contains(id) {
                    continue;
                }
            } else {
                let t = x.reported_at.as_second();
                if start.is_some_and(|a| t < a) || end.is_some_and(|b| t > b) {
                    continue;
                }
                if q.service_code.as_deref().is_some_and(|c| c != x.category)
                    || q.status
                        .as_deref()
                        .is_some_and(|f| f != open311_status(s.status))
                {
                    continue;
                }
            }
            out.push(request_json(&snap, &caller.principal, *id, x, h, s, lang));
            if out.len() >= 1000 {
                break;
            }
        }
        Ok(out)
    })
    .await;
    match r {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(f)) => failure(f),
        Err(e) => failure(ApiError::internal(e)),
    }
}

/// `GET /open311/v2/requests/{id}.json`.
#[utoipa::path(
    get,
    path = "/open311/v2/requests/{id}",
    tag = "open311",
    summary = "Open311: one service request",
    params(
        ("id" = String, Path, description = "the request id with .json"),
    ),
    responses(
        (status = 200, description = "the request", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such request", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn get_request(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    UiLang(lang): UiLang,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.trim_end_matches(".json").parse::<i64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a service request id"),
        );
    };
    let st2 = st.clone();
    let r = tokio::task::spawn_blocking(move || -> Result<Value, ApiError> {
        let c = gridgov_app::cases::case(st2.app.store.as_ref(), id).map_err(|e| match e {
            gridgov_app::CaseError::NotFound(id) => {
                ApiError::not_found(format!("no service request {id}"))
            }
            e => e.into(),
        })?;
        Ok(json!([request_json(
            &st2.current(),
            &caller.principal,
            id,
            &c.incident,
            &c.history,
            &c.state,
            lang
        )]))
    })
    .await;
    match r {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(f)) => failure(f),
        Err(e) => failure(ApiError::internal(e)),
    }
}
