//! 360° panoramas over HTTP: planners upload equirectangular pictures
//! (the pose in the query, or read from the picture's EXIF), everyone
//! signed in sees them on the map and opens one with what it sees —
//! buildings, unit entrances, merchants and cameras at their yaw and
//! pitch, and the neighbouring panoramas to walk to. What is served is the
//! picture drawn again, without its metadata.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_app::panoramas::{PanoramaError, PanoramaInfo, PoseIn};
use gridgov_spatial::panorama::HotspotKind;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::extract::{Path, Query};

use super::auth::Caller;
use super::cases::blocking;
use super::{ApiError, AppState};

impl From<PanoramaError> for ApiError {
    fn from(e: PanoramaError) -> Self {
        match e {
            PanoramaError::TooLarge(_) => {
                ApiError::with_status(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
            }
            PanoramaError::NotAnImage(_) | PanoramaError::NotEquirectangular { .. } => {
                ApiError::unprocessable("body", e.to_string())
            }
            PanoramaError::NoPosition | PanoramaError::BadPose(_) => {
                ApiError::unprocessable("lon", e.to_string())
            }
            PanoramaError::NoHeading => ApiError::unprocessable("heading", e.to_string()),
            PanoramaError::Store(s) => s.into(),
        }
    }
}

/// What an upload says besides the picture.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    lon: Option<f64>,
    lat: Option<f64>,
    heading: Option<f64>,
    eye: Option<f64>,
    captured_at: Option<String>,
}

fn facts(p: &PanoramaInfo) -> Value {
    let url = format!("/panoramas/{}", p.id);
    json!({
        "id": p.id,
        "lon": p.pose.lon,
        "lat": p.pose.lat,
        "heading": p.pose.heading_deg,
        "eye": p.pose.eye_m,
        "captured_at": p.captured_at,
        "from_exif": p.from_exif,
        "by": p.by,
        "at": p.at,
        "width": p.width,
        "height": p.height,
        "image": format!("{url}/image"),
        "thumb": format!("{url}/thumb"),
    })
}

/// `POST /panoramas`.
#[utoipa::path(
    post,
    path = "/panoramas",
    tag = "panoramas",
    summary = "Keep a 360° panorama",
    description = "The body is an equirectangular picture (2:1, JPEG or PNG, at most 10 MiB). lon, lat and heading (degrees from north of the picture's centre) are read from its EXIF when not given; eye is the lens height (default 2.5 m). What is kept is drawn again, without EXIF.",
    params(
        ("lon" = Option<f64>, Query, description = "longitude"),
        ("lat" = Option<f64>, Query, description = "latitude"),
        ("heading" = Option<f64>, Query, description = "degrees from north of the picture's centre"),
        ("eye" = Option<f64>, Query, description = "lens height in metres"),
        ("captured_at" = Option<String>, Query, description = "when it was taken"),
    ),
    request_body(content = Vec<u8>, description = "the picture", content_type = "image/jpeg"),
    responses(
        (status = 201, description = "the panorama's facts and links", body = serde_json::Value, content_type = "application/json"),
        (status = 413, description = "over 10 MiB", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "not sent as image/jpeg or image/png", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "not a 2:1 picture, or no position or heading", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<UploadQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    super::photos::picture(&headers)?;
    let app = st.app.clone();
    let by = caller.principal.user.clone();
    let given = PoseIn {
        lon: q.lon,
        lat: q.lat,
        heading: q.heading,
        eye: q.eye,
    };
    let info = blocking(move || Ok(app.add_panorama(&body, given, &by, q.captured_at)?)).await?;
    let url = format!("/panoramas/{}", info.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, url)],
        Json(facts(&info)),
    )
        .into_response())
}

/// `GET /panoramas`: every panorama as a GeoJSON point.
#[utoipa::path(
    get,
    path = "/panoramas",
    tag = "panoramas",
    summary = "Every panorama, as GeoJSON points",
    responses(
        (status = 200, description = "the panoramas", body = serde_json::Value, content_type = "application/geo+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let app = st.app.clone();
    let all = blocking(move || Ok(app.panoramas()?)).await?;
    let features: Vec<Value> = all
        .iter()
        .map(|p| {
            json!({
                "type": "Feature",
                "id": p.id,
                "geometry": {"type": "Point", "coordinates": [p.pose.lon, p.pose.lat]},
                "properties": facts(p),
            })
        })
        .collect();
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "features": features})),
    )
        .into_response())
}

fn kind_name(k: HotspotKind) -> &'static str {
    match k {
        HotspotKind::Building => "building",
        HotspotKind::Unit => "unit",
        HotspotKind::Merchant => "merchant",
        HotspotKind::Camera => "camera",
        HotspotKind::Panorama => "panorama",
    }
}

/// `GET /panoramas/{id}`: the panorama and what it sees.
#[utoipa::path(
    get,
    path = "/panoramas/{id}",
    tag = "panoramas",
    summary = "A panorama and what it sees",
    description = "Each thing in view: kind (building, unit, merchant, camera, panorama), label, yaw (degrees clockwise from the picture's centre), pitch (degrees above the horizon), distance in metres, and for buildings, units, merchants and cameras the grid; for a neighbouring panorama its id.",
    params(("id" = i64, Path, description = "the panorama")),
    responses(
        (status = 200, description = "the panorama, its hotspots and its grid", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such panorama", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(st): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let app = st.app.clone();
    let found = blocking(move || Ok(app.panorama_view(id)?)).await?;
    let Some((me, hotspots, others)) = found else {
        return Err(ApiError::not_found(format!("no panorama {id}")));
    };
    let snap = st.current();
    let d = &snap.district;
    let a = &snap.assignment;
    let grid = |p: Option<&gridgov_spatial::Placement>| {
        p.and_then(|p| p.responsible())
            .map(|g| d.area(g).code.clone())
    };
    let hs: Vec<Value> = hotspots
        .iter()
        .map(|h| {
            let mut v = json!({
                "kind": kind_name(h.kind),
                "label": h.label,
                "of": h.of,
                "yaw": h.yaw_deg,
                "pitch": h.pitch_deg,
                "distance_m": h.distance_m,
            });
            match h.kind {
                HotspotKind::Building => {
                    v["building"] = json!(d.buildings.get(h.index).map(|b| b.code.clone()));
                    v["grid"] = json!(grid(a.buildings.get(h.index).map(|b| &b.placement)));
                }
                HotspotKind::Unit => {
                    let b = d.units.get(h.index).map(|u| u.building.index());
                    v["building"] =
                        json!(b.and_then(|b| d.buildings.get(b)).map(|b| b.code.clone()));
                    v["grid"] = json!(grid(a.units.get(h.index)));
                }
                HotspotKind::Merchant => v["grid"] = json!(grid(a.merchants.get(h.index))),
                HotspotKind::Camera => v["grid"] = json!(grid(a.cameras.get(h.index))),
                HotspotKind::Panorama => v["panorama"] = json!(others.get(h.index).map(|p| p.id)),
            }
            v
        })
        .collect();
    let here = gridgov_spatial::place_point(&snap.grids, me.pose.lon, me.pose.lat);
    Ok(Json(json!({
        "panorama": facts(&me),
        "grid": grid(Some(&here)),
        "hotspots": hs,
    })))
}

/// `GET /panorama?id=N`: the street view page.
#[utoipa::path(
    get,
    path = "/panorama",
    tag = "panoramas",
    summary = "The street view page: a panorama with the district's things placed in it",
    responses(
        (status = 200, description = "the page", body = String, content_type = "text/html"),
    )
)]
pub async fn page(headers: HeaderMap) -> Response {
    super::web::serve_named("p.html", &headers)
}

/// Which picture to send.
#[derive(Debug, Deserialize)]
pub struct Which {
    id: i64,
    what: String,
}

/// `GET /panoramas/{id}/{what}`: the picture (`image`) or its thumbnail
/// (`thumb`), as JPEG.
#[utoipa::path(
    get,
    path = "/panoramas/{id}/{what}",
    tag = "panoramas",
    summary = "A panorama's picture or thumbnail (JPEG, without metadata)",
    params(("id" = i64, Path, description = "the panorama"), ("what" = String, Path, description = "image or thumb")),
    responses(
        (status = 200, description = "the JPEG", body = Vec<u8>, content_type = "image/jpeg"),
        (status = 404, description = "no such panorama or picture", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn picture(
    State(st): State<Arc<AppState>>,
    Path(w): Path<Which>,
) -> Result<Response, ApiError> {
    let thumb = match w.what.as_str() {
        "image" => false,
        "thumb" => true,
        other => {
            return Err(ApiError::not_found(format!(
                "no {other:?} of a panorama: image or thumb"
            )));
        }
    };
    let app = st.app.clone();
    let id = w.id;
    let bytes = blocking(move || Ok(app.panorama_bytes(id, thumb)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no panorama {id}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=86400, immutable"),
        ],
        bytes,
    )
        .into_response())
}
