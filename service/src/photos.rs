//! Photos of household visits and cases over HTTP. A photo is sent as
//! the body (`image/jpeg` or `image/png`), kept cleaned of its metadata
//! (no EXIF, no GPS position) with a thumbnail, and shown only to those
//! who may read what it is of: a household's to those who see its
//! personal data, a case's to those who may read the case.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_app::photos::{PhotoError, PhotoOwner, PhotoRefused};
use gridgov_spatial::access::{Access, Thing, sees_personal};
use serde::Deserialize;
use serde_json::json;

use crate::extract::{Path, Query};

use super::auth::Caller;
use super::{ApiError, AppState};

impl From<PhotoRefused> for ApiError {
    fn from(e: PhotoRefused) -> Self {
        match e {
            PhotoRefused::Photo(p @ PhotoError::TooLarge(_)) => ApiError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                title: "Payload too large",
                detail: p.to_string(),
                ..ApiError::default()
            }
            .coded(
                "photo.too_large",
                vec![("max", (&gridgov_app::photos::MAX_BYTES).into())],
            ),
            PhotoRefused::Photo(p) => ApiError::unprocessable("body", p.to_string())
                .coded("photo.not_an_image", Vec::new()),
            PhotoRefused::Store(s) => ApiError::internal(s),
        }
    }
}

/// The body must say it is a picture.
pub(crate) fn picture(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("image/jpeg") || ct.starts_with("image/png") {
        Ok(())
    } else {
        Err(ApiError::unsupported_media(format!(
            "send the photo as the body with Content-Type image/jpeg or image/png, not {ct:?}"
        )))
    }
}

fn created(info: &gridgov_app::photos::PhotoInfo) -> Response {
    let url = format!("/photos/{}", info.id);
    (
        StatusCode::CREATED,
        [(header::LOCATION, url.clone())],
        Json(json!({
            "id": info.id,
            "owner": info.owner,
            "by": info.by,
            "at": info.at,
            "width": info.width,
            "height": info.height,
            "url": url,
            "thumb": format!("{url}?thumb=true"),
        })),
    )
        .into_response()
}

/// `POST /households/{id}/photos`: grid staff of the household's grid
/// (and admins) keep a photo for it, e.g. one taken on a visit.
#[utoipa::path(
    post,
    path = "/households/{id}/photos",
    tag = "households",
    summary = "Keep a photo of a household (for a visit)",
    params(("id" = String, Path, description = "the household id")),
    request_body(content = Vec<u8>, description = "the picture", content_type = "image/jpeg"),
    responses(
        (status = 201, description = "the photo's facts and links", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such household", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "over 8 MiB", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "not sent as image/jpeg or image/png", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "not a picture", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_household(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let snap = st.current();
    let i = super::households::index_of(&id, snap.district.households.len())?;
    let g = super::households::grid_of(&snap, &snap.district.households[i]);
    caller.require(&Thing::Household { grid: g.as_deref() }, Access::Write)?;
    let owner = PhotoOwner::Household(u32::try_from(i + 1).map_err(ApiError::internal)?);
    keep(&st, &caller, owner, &headers, body).await
}

/// Keeps the photo in `body` for `owner` (whose access is checked); the
/// answer to its upload.
async fn keep(
    st: &Arc<AppState>,
    caller: &Caller,
    owner: PhotoOwner,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    picture(headers)?;
    let app = st.app.clone();
    let by = caller.principal.user.clone();
    // A phone whose answer was lost sends the photo again with the same
    // `Idempotency-Key`: it is kept once.
    let what = format!("photo:{}:{}", owner.kind(), owner.id());
    Ok(
        super::idempotency::once(st, &caller.principal.user, headers, &what, async move {
            match tokio::task::spawn_blocking(move || app.add_photo(owner, &by, &body)).await {
                Ok(Ok(info)) => created(&info),
                Ok(Err(e)) => ApiError::from(e).into_response(),
                Err(e) => ApiError::from(e).into_response(),
            }
        })
        .await,
    )
}

/// `POST /incidents/{id}/photos`: those who may work a case keep a photo
/// of it (what was found, what was done).
#[utoipa::path(
    post,
    path = "/incidents/{id}/photos",
    tag = "incidents",
    summary = "Keep a photo of a case",
    params(("id" = String, Path, description = "the incident id")),
    request_body(content = Vec<u8>, description = "the picture", content_type = "image/jpeg"),
    responses(
        (status = 201, description = "the photo's facts and links", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such incident", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "over 8 MiB", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "not sent as image/jpeg or image/png", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "not a picture", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_case(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = super::cases::case_id(&id)?;
    let st2 = st.clone();
    let c2 = caller.clone();
    tokio::task::spawn_blocking(move || super::cases::check_case(&st2, &c2, id, Access::Write))
        .await??;
    keep(&st, &caller, PhotoOwner::Case(id), &headers, body).await
}

/// Query of `GET /photos/{id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhotoQuery {
    /// The thumbnail instead of the picture.
    #[serde(default)]
    thumb: bool,
}

/// `GET /photos/{id}?thumb=`: a photo (JPEG, no metadata) for those who
/// may read what it is of.
#[utoipa::path(
    get,
    path = "/photos/{id}",
    tag = "households",
    summary = "A photo of a household or case",
    params(("id" = i64, Path, description = "the photo id"), PhotoQuery),
    responses(
        (status = 200, description = "the picture", body = Vec<u8>, content_type = "image/jpeg"),
        (status = 404, description = "no such photo", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<PhotoQuery>,
) -> Result<Response, ApiError> {
    let st2 = st.clone();
    let c2 = caller.clone();
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let none = || ApiError::not_found(format!("there is no photo {id}"));
        let info = st2.app.store.photo_info(id)?.ok_or_else(none)?;
        match info.owner {
            PhotoOwner::Household(h) => {
                let snap = st2.current();
                let household = (h as usize)
                    .checked_sub(1)
                    .and_then(|i| snap.district.households.get(i))
                    .ok_or_else(none)?;
                let g = super::households::grid_of(&snap, household);
                if !sees_personal(&c2.principal, g.as_deref()) {
                    return Err(c2.refusal());
                }
            }
            PhotoOwner::Case(c) => super::cases::check_case(&st2, &c2, c, Access::Read)?,
        }
        st2.app.store.photo_bytes(id, q.thumb)?.ok_or_else(none)
    })
    .await??;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}
