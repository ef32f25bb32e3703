//! The residents' page and what it calls, none of it behind a sign-in:
//! `GET /r` (the page), `GET /r/place` (a QR code's building or a point:
//! its grid and the team to call), and, with the tracking token the
//! filing answer gave (`X-Tracking-Token`), `GET /r/cases/{id}`,
//! `POST /r/cases/{id}/photos` and `POST /r/cases/{id}/evaluation`.
//! Filing itself is Open311's `POST /open311/v2/requests.json`, limited
//! per address like every anonymous report.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gridgov_app::resident::ResidentError;
use serde::Deserialize;
use serde_json::json;

use crate::extract::{JsonBody, Path, Query};

use super::{ApiError, AppState};

/// The header that carries a resident's tracking token.
pub const TOKEN_HEADER: &str = "x-tracking-token";

impl From<ResidentError> for ApiError {
    fn from(e: ResidentError) -> Self {
        match e {
            ResidentError::NotFound(_)
            | ResidentError::NoBuilding(_)
            | ResidentError::NoUnit { .. } => ApiError::not_found(e.to_string()),
            ResidentError::Photos(m) => ApiError::conflict(m),
            ResidentError::Photo(p) => p.into(),
            ResidentError::Case(c) => c.into(),
            ResidentError::Random | ResidentError::Store(_) => ApiError::internal(e),
        }
    }
}

fn token(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 100)
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::with_status(
                StatusCode::UNAUTHORIZED,
                "send the tracking token the report's answer gave, in X-Tracking-Token",
            )
        })
}

/// `GET /r`: the residents' page.
#[utoipa::path(
    get,
    path = "/r",
    tag = "residents",
    summary = "The residents' page: report a problem from a phone, follow it, evaluate it",
    responses(
        (status = 200, description = "the page", body = String, content_type = "text/html"),
    )
)]
pub async fn page(headers: HeaderMap) -> Response {
    super::web::serve_named("r.html", &headers)
}

/// Query of `GET /r/place`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaceQuery {
    /// A building's code (from a sign's or card's QR code).
    b: Option<String>,
    /// The unit's label, with `b`.
    u: Option<String>,
    /// Longitude (WGS 84), without `b`.
    lon: Option<String>,
    /// Latitude.
    lat: Option<String>,
}

/// `GET /r/place?b=&u=` or `?lon=&lat=`.
#[utoipa::path(
    get,
    path = "/r/place",
    tag = "residents",
    summary = "A building's (or a point's) grid chain and the team to call",
    params(PlaceQuery),
    responses(
        (status = 200, description = "the place", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such building or unit", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn place(
    State(st): State<Arc<AppState>>,
    Query(q): Query<PlaceQuery>,
) -> Result<Response, ApiError> {
    let snap = st.current();
    let p = match (&q.b, &q.lon, &q.lat) {
        (Some(b), _, _) => {
            gridgov_app::resident::place_of_building(&snap, b.trim(), q.u.as_deref())?
        }
        (None, Some(lon), Some(lat)) => {
            let n = |s: &str, f: &str| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| ApiError::bad_request(f, format!("{f} {s:?} is not a number")))
            };
            let (lon, lat) = (n(lon, "lon")?, n(lat, "lat")?);
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(ApiError::bad_request(
                    "lon,lat",
                    "lon is -180 to 180 and lat -90 to 90",
                ));
            }
            gridgov_app::resident::place_at(&snap, lon, lat)
        }
        _ => {
            return Err(ApiError::bad_request(
                "b",
                "give a building (b=, from the QR code) or a point (lon=&lat=)",
            ));
        }
    };
    Ok(Json(p).into_response())
}

/// `GET /r/cases/{id}` with `X-Tracking-Token`: the resident's case.
#[utoipa::path(
    get,
    path = "/r/cases/{id}",
    tag = "residents",
    summary = "A resident's case: where it stands, its steps, whether it may be evaluated",
    params(
        ("id" = String, Path, description = "the case number"),
        ("X-Tracking-Token" = String, Header, description = "the token the report's answer gave"),
    ),
    responses(
        (status = 200, description = "the case", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "no token", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such case with this token", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn case(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = super::cases::case_id(&id)?;
    let t = token(&headers)?;
    let app = st.app.clone();
    let c = tokio::task::spawn_blocking(move || app.resident_case(id, &t)).await??;
    Ok(Json(c).into_response())
}

/// The body of `POST /r/cases/{id}/evaluation`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationIn {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    satisfaction: u8,
    /// What the resident adds.
    #[serde(default)]
    note: String,
}

/// `POST /r/cases/{id}/evaluation` with `X-Tracking-Token`.
#[utoipa::path(
    post,
    path = "/r/cases/{id}/evaluation",
    tag = "residents",
    summary = "The resident's satisfaction with their closed case (1–5)",
    params(
        ("id" = String, Path, description = "the case number"),
        ("X-Tracking-Token" = String, Header, description = "the token the report's answer gave"),
    ),
    request_body(content = EvaluationIn, description = "satisfaction and a note", content_type = "application/json"),
    responses(
        (status = 201, description = "the case after it", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "no token", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such case with this token", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "not closed (or evaluated already)", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "satisfaction not 1 to 5", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn evaluate(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<EvaluationIn>,
) -> Result<Response, ApiError> {
    let id = super::cases::case_id(&id)?;
    let t = token(&headers)?;
    let app = st.app.clone();
    let c = tokio::task::spawn_blocking(move || {
        app.evaluate_as_resident(id, &t, input.satisfaction, &input.note)?;
        app.resident_case(id, &t)
    })
    .await??;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// `POST /r/cases/{id}/photos` with `X-Tracking-Token`: a photo of the
/// problem, while the case is new (at most three).
#[utoipa::path(
    post,
    path = "/r/cases/{id}/photos",
    tag = "residents",
    summary = "A resident's photo of their new case",
    params(
        ("id" = String, Path, description = "the case number"),
        ("X-Tracking-Token" = String, Header, description = "the token the report's answer gave"),
    ),
    request_body(content = Vec<u8>, description = "the picture", content_type = "image/jpeg"),
    responses(
        (status = 201, description = "the photo's facts", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "no token", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such case with this token", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "taken up already, or three photos", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "over 8 MiB", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "not sent as image/jpeg or image/png", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "not a picture", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn photo(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = super::cases::case_id(&id)?;
    let t = token(&headers)?;
    super::photos::picture(&headers)?;
    let app = st.app.clone();
    let info = tokio::task::spawn_blocking(move || app.add_resident_photo(id, &t, &body)).await??;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": info.id, "width": info.width, "height": info.height, "at": info.at})),
    )
        .into_response())
}

/// `GET /r/district`: the district's name and extent, where the
/// residents' map opens.
#[utoipa::path(
    get,
    path = "/r/district",
    tag = "residents",
    summary = "The district's name, extent and centre for the residents' map",
    responses(
        (status = 200, description = "name, bbox [west, south, east, north] and center", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn district(State(st): State<Arc<AppState>>) -> Response {
    use geo::BoundingRect;
    let snap = st.current();
    let d = &snap.district;
    // The streets cover the district; without streets, every area.
    let top = d
        .areas
        .iter()
        .filter(|a| a.level == gridgov_spatial::Level::Street)
        .count();
    let rect = d
        .areas
        .iter()
        .filter(|a| top == 0 || a.level == gridgov_spatial::Level::Street)
        .filter_map(|a| a.boundary.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        });
    let (bbox, center) = rect.map_or((None, None), |r| {
        (
            Some([r.min().x, r.min().y, r.max().x, r.max().y]),
            Some([r.center().x, r.center().y]),
        )
    });
    Json(json!({"name": d.name, "bbox": bbox, "center": center})).into_response()
}
