//! Monitoring points over HTTP: `GET /sensors` (every point with its
//! grid, last reading and open alarm), `PUT /sensors/{code}` (admins
//! define a point), `POST /sensors/{code}/readings` (a gateway posts
//! readings, as JSON or CSV; crossing the threshold opens a case routed to
//! the point's grid, falling back closes it) and
//! `GET /sensors/{code}/readings` (the series for a chart).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_app::sensors::SensorError;
use gridgov_spatial::Timestamp;
use gridgov_spatial::sensors::{Sensor, SensorState};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

impl From<SensorError> for ApiError {
    fn from(e: SensorError) -> Self {
        match e {
            SensorError::NotFound(_) => ApiError::not_found(e.to_string()),
            SensorError::Invalid(_) => ApiError::unprocessable("readings", e.to_string()),
            SensorError::Case(c) => c.into(),
            SensorError::Store(s) => ApiError::internal(s),
        }
    }
}

fn view(st: &AppState, s: &Sensor, state: &SensorState) -> Value {
    let snap = st.current();
    let grid = gridgov_spatial::place_point(&snap.grids, s.location.x(), s.location.y())
        .responsible()
        .map(|g| json!({"code": snap.district.area(g).code, "name": snap.district.area(g).name}));
    json!({
        "code": s.code,
        "name": s.name,
        "kind": s.kind,
        "unit": s.unit,
        "location": [s.location.x(), s.location.y()],
        "threshold": s.threshold,
        "clear_below": s.clear_level(),
        "category": s.category,
        "grid": grid,
        "last": state.last_at.map(|at| json!({"at": at, "value": state.last_value})),
        "alarm": state.alarm_case.map(|c| json!({"case": c})),
    })
}

/// `GET /sensors`.
#[utoipa::path(
    get,
    path = "/sensors",
    tag = "sensors",
    summary = "Every monitoring point with its grid, last reading and open alarm",
    responses(
        (status = 200, description = "`sensors`", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let st2 = st.clone();
    let xs = tokio::task::spawn_blocking(move || st2.app.store.sensors()).await??;
    let v: Vec<Value> = xs.iter().map(|(s, state)| view(&st, s, state)).collect();
    Ok(axum::Json(json!({ "sensors": v })).into_response())
}

/// Body of `PUT /sensors/{code}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SensorPut {
    /// What people call the place.
    name: String,
    /// What it measures (default `water_depth`).
    kind: Option<String>,
    /// The unit of its readings (default `cm`).
    unit: Option<String>,
    /// Longitude (WGS 84).
    lon: f64,
    /// Latitude.
    lat: f64,
    /// A reading at or above this raises an alarm.
    threshold: f64,
    /// A reading below this clears it (default: the threshold).
    clear_below: Option<f64>,
    /// The category of the alarm's case (default `waterlogging`).
    category: Option<String>,
}

/// `PUT /sensors/{code}`: an admin defines or changes a point.
#[utoipa::path(
    put,
    path = "/sensors/{code}",
    tag = "sensors",
    summary = "Define or change a monitoring point (admins)",
    params(("code" = String, Path, description = "the point's code")),
    request_body(content = SensorPut, description = "the point", content_type = "application/json"),
    responses(
        (status = 201, description = "defined", body = serde_json::Value, content_type = "application/json"),
        (status = 200, description = "changed (its state kept)", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "every problem of the definition", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put(
    State(st): State<Arc<AppState>>,
    Path(code): Path<String>,
    crate::extract::JsonBody(p): crate::extract::JsonBody<SensorPut>,
) -> Result<Response, ApiError> {
    let mut s = Sensor::water_depth(&code, p.name.trim(), p.lon, p.lat, p.threshold);
    s.clear_below = p.clear_below;
    if let Some(k) = p.kind {
        k.trim().clone_into(&mut s.kind);
    }
    if let Some(u) = p.unit {
        u.trim().clone_into(&mut s.unit);
    }
    if let Some(c) = p.category {
        c.trim().clone_into(&mut s.category);
    }
    // Written and read back (its state) in one blocking call.
    let st2 = st.clone();
    let s2 = s.clone();
    let (created, state) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let created = st2.app.put_sensor(&s2).map_err(|e| match e {
            SensorError::Invalid(_) => ApiError::unprocessable("sensor", e.to_string()),
            e => e.into(),
        })?;
        let state = st2
            .app
            .store
            .sensor(&s2.code)?
            .map(|x| x.1)
            .unwrap_or_default();
        Ok((created, state))
    })
    .await??;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(view(&st, &s, &state))).into_response())
}

/// One reading as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingIn {
    /// When it was taken (RFC 3339).
    at: String,
    /// The value, in the point's unit.
    value: f64,
}

/// Body of `POST /sensors/{code}/readings` as JSON.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingsIn {
    /// The readings, in any order.
    readings: Vec<ReadingIn>,
}

/// Reads `at,value` CSV (a header line first): every bad row named by
/// its line.
fn csv_readings(text: &str) -> Result<Vec<(Timestamp, f64)>, ApiError> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let head = r
        .headers()
        .map_err(|e| ApiError::bad_request("body", format!("the CSV: {e}")))?
        .clone();
    let col = |name: &str| head.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(ia), Some(iv)) = (col("at"), col("value")) else {
        return Err(ApiError::bad_request(
            "body",
            "the CSV needs the columns at and value",
        ));
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (k, rec) in r.records().enumerate() {
        let line = k + 2;
        let rec = match rec {
            Ok(x) => x,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let at = gridgov_spatial::time::parse_instant(rec.get(ia).unwrap_or(""));
        let v = rec.get(iv).unwrap_or("").parse::<f64>();
        match (at, v) {
            (Ok(at), Ok(v)) if v.is_finite() => out.push((at, v)),
            (Err(e), _) => problems.push(format!("line {line}: at: {e}")),
            _ => problems.push(format!("line {line}: value is not a number")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::unprocessable("body", problems.join("; ")))
    }
}

/// `POST /sensors/{code}/readings`.
#[utoipa::path(
    post,
    path = "/sensors/{code}/readings",
    tag = "sensors",
    summary = "Readings of a monitoring point (JSON or CSV `at,value`): an alarm opens or closes its case",
    params(("code" = String, Path, description = "the point's code")),
    request_body(content = ReadingsIn, description = "the readings (or text/csv with columns at, value)", content_type = "application/json"),
    responses(
        (status = 200, description = "`stored`, `late`, `opened`, `closed` (case ids), `state`", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such point", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "every bad reading", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_readings(
    State(st): State<Arc<AppState>>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("body", "the body is not UTF-8"))?;
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/csv"));
    let readings = if csv {
        csv_readings(text)?
    } else {
        let r: ReadingsIn = serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request("body", format!("not the readings: {e}")))?;
        let mut out = Vec::with_capacity(r.readings.len());
        let mut problems = Vec::new();
        for (k, x) in r.readings.into_iter().enumerate() {
            match gridgov_spatial::time::parse_instant(&x.at) {
                Ok(at) => out.push((at, x.value)),
                Err(e) => problems.push(format!("reading {}: at: {e}", k + 1)),
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::unprocessable("readings", problems.join("; ")));
        }
        out
    };
    let st2 = st.clone();
    let r = tokio::task::spawn_blocking(move || st2.app.record_readings(&code, readings))
        .await
        .map_err(ApiError::internal)??;
    Ok(axum::Json(r).into_response())
}

/// Query of `GET /sensors/{code}/readings`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    /// The hours back from now (default 24, at most 24 × 92).
    hours: Option<u32>,
}

/// `GET /sensors/{code}/readings?hours=`.
#[utoipa::path(
    get,
    path = "/sensors/{code}/readings",
    tag = "sensors",
    summary = "A monitoring point's readings of the last hours, for a chart",
    params(("code" = String, Path, description = "the point's code"), SeriesQuery),
    responses(
        (status = 200, description = "`readings` as `[time, value]`, oldest first, with the point's levels", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such point", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn series(
    State(st): State<Arc<AppState>>,
    Path(code): Path<String>,
    Query(q): Query<SeriesQuery>,
) -> Result<Response, ApiError> {
    let hours = i64::from(q.hours.unwrap_or(24).clamp(1, 24 * 92));
    let now = st.app.now();
    let from = gridgov_spatial::time::from_epoch(now.as_second() - hours * 3600);
    let st2 = st.clone();
    let (s, rows) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let (s, _) = st2
            .app
            .store
            .sensor(&code)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found(format!("there is no monitoring point {code:?}")))?;
        let rows = st2
            .app
            .store
            .readings(&code, from, now, 5_000)
            .map_err(ApiError::internal)?;
        Ok((s, rows))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(axum::Json(json!({
        "code": s.code,
        "unit": s.unit,
        "threshold": s.threshold,
        "clear_below": s.clear_level(),
        "readings": rows.iter().map(|(t, v)| json!([t, v])).collect::<Vec<_>>(),
    }))
    .into_response())
}
