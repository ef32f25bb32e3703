//! `GET /cards`: a grid's or a community's signs and contact cards as a
//! PDF to print.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_app::cards::{self, CardKind, CardsError, Paper};
use gridgov_spatial::access::{Access, Thing};
use gridgov_spatial::{AreaId, Level};
use serde::Deserialize;

use crate::auth::Caller;
use crate::extract::{Query, UiLang};

use super::{ApiError, AppState};

impl From<CardsError> for ApiError {
    fn from(e: CardsError) -> Self {
        match e {
            CardsError::UnknownArea(_) | CardsError::Empty { .. } => {
                ApiError::not_found(e.to_string())
            }
            CardsError::Street(_) => ApiError::bad_request("grid", e.to_string()),
            CardsError::Kind(_) => ApiError::bad_request("kind", e.to_string()),
            CardsError::Paper(_) => ApiError::bad_request("paper", e.to_string()),
            CardsError::TooMany { .. } => ApiError::unprocessable("community", e.to_string()),
            CardsError::Qr(_) | CardsError::Pdf(_) => ApiError::internal(e),
        }
    }
}

/// Query of `GET /cards`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CardsQuery {
    /// A grid's code.
    grid: Option<String>,
    /// A community's code (every grid of it), instead of `grid`.
    community: Option<String>,
    /// `sign` (per building, default), `unit-sign` (per unit) or `card`
    /// (per household, ten to an A4 sheet).
    kind: Option<String>,
    /// The signs' paper: `a4` (default) or `a5`.
    paper: Option<String>,
}

/// `GET /cards?grid=|community=&kind=&paper=`.
#[utoipa::path(
    get,
    path = "/cards",
    tag = "households",
    summary = "Grid signs and household contact cards with the team and a QR code to report, as a PDF",
    params(CardsQuery),
    responses(
        (status = 200, description = "the PDF", body = crate::openapi::Binary, content_type = "application/pdf"),
        (status = 400, description = "a bad parameter, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such grid or community, or nothing to print", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "more than one document holds", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "the service has no font that draws Chinese", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a grid's own staff or an admin", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cards(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    UiLang(lang): UiLang,
    Query(q): Query<CardsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let kind: CardKind = q.kind.as_deref().unwrap_or("sign").parse()?;
    let paper: Paper = q.paper.as_deref().unwrap_or("a4").parse()?;
    let (area, want) = match (&q.grid, &q.community) {
        (Some(g), None) => (g.clone(), Level::Grid),
        (None, Some(c)) => (c.clone(), Level::Community),
        _ => {
            return Err(ApiError::bad_request(
                "grid",
                "give one grid= or community=",
            ));
        }
    };
    let snap = st.current();
    let id = snap
        .district
        .area_by_code(&area)
        .ok_or_else(|| ApiError::not_found(format!("no grid or community {area:?}")))?;
    let level = snap.district.area(id).level;
    if level != want {
        return Err(ApiError::bad_request(
            if want == Level::Grid {
                "grid"
            } else {
                "community"
            },
            format!("{area} is a {}", level.as_str()),
        ));
    }
    // Cards name the households' rooms: printed by those who keep the
    // households of every grid in question.
    let grids: Vec<AreaId> = if level == Level::Grid {
        vec![id]
    } else {
        snap.district.children(id).collect()
    };
    for g in &grids {
        caller.require(
            &Thing::Household {
                grid: Some(snap.district.area(*g).code.as_str()),
            },
            Access::Read,
        )?;
    }
    let font = st.config.report_font.clone().ok_or_else(|| {
        ApiError::with_status(
            StatusCode::SERVICE_UNAVAILABLE,
            "this service has no font that draws Chinese, so it prints no cards; \
             install one (fonts-wqy-microhei or fonts-noto-cjk) or start it with --font",
        )
    })?;
    let base = super::features::base(&st, &headers);
    let pdf = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let items = cards::plan(&snap, &area, kind, &base)?;
        Ok(cards::document(
            &items,
            kind,
            paper,
            lang,
            &snap.district.roles,
            &font,
        )?)
    })
    .await??;
    let name = match kind {
        CardKind::Sign => "signs",
        CardKind::UnitSign => "unit-signs",
        CardKind::Card => "cards",
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
