//! `POST /drafts/propose`: proposed grids for a community, stored as an
//! ordinary draft of the signed-in planner (validate, preview and publish
//! it as any other), with the proposal's figures, the notes on what falls
//! short, and the proposed grids as GeoJSON for the map.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_app::partition::draft_of;
use gridgov_spatial::partition::{PartitionOptions, Proposal};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::cases::cancellable;
use super::error::ApiError;
use super::extract::{JsonBody, UiLang};

/// What a planner asks for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeIn {
    /// The community's code.
    community: String,
    /// Fewest households per grid (default 300).
    #[serde(default)]
    min: Option<u32>,
    /// Most households per grid (default 500).
    #[serde(default)]
    max: Option<u32>,
    /// Start from today's grids and move as few households as the band
    /// needs.
    #[serde(default)]
    keep_existing: bool,
    /// Seed of the search (default 1).
    #[serde(default)]
    seed: Option<u64>,
    /// The draft's reason (default: says what was proposed).
    #[serde(default)]
    reason: Option<String>,
}

/// The proposal as the map shows it: each grid a feature.
fn features(p: &Proposal) -> Value {
    let features: Vec<Value> = p
        .grids
        .iter()
        .map(|g| {
            json!({
                "type": "Feature",
                "id": g.code,
                "geometry": (!g.boundary.0.is_empty()).then(|| geojson::Geometry::from(&g.boundary)),
                "properties": {
                    "code": g.code,
                    "name": g.name,
                    "fate": g.fate,
                    "households": g.households,
                    "buildings": g.buildings,
                    "in_band": g.in_band,
                    "compactness": g.compactness,
                },
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// `POST /drafts/propose`.
#[utoipa::path(
    post,
    path = "/drafts/propose",
    tag = "boundaries",
    summary = "Proposed grids for a community, as a draft",
    description = "Cuts the community's buildings (outside exclusive grids) into contiguous grids of min–max households that cover it exactly and keep every building whole, preferring borders on roads and water; with keep_existing, moves as few households from today's grids as the band needs. The result is stored as a draft of the caller.",
    request_body(content = serde_json::Value, description = "community, min, max, keep_existing, seed, reason", content_type = "application/json"),
    responses(
        (status = 201, description = "the draft, the proposal's figures and notes, and the grids as GeoJSON", body = serde_json::Value, content_type = "application/json"),
        (status = 200, description = "nothing to change: the figures and notes, no draft", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such community", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn propose(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    UiLang(lang): UiLang,
    JsonBody(req): JsonBody<ProposeIn>,
) -> Result<Response, ApiError> {
    let defaults = PartitionOptions::default();
    let opts = PartitionOptions {
        min: req.min.unwrap_or(defaults.min),
        max: req.max.unwrap_or(defaults.max),
        keep_existing: req.keep_existing,
        seed: req.seed.unwrap_or(defaults.seed),
    };
    let app = st.app.clone();
    let author = caller.principal.user.clone();
    let reason = req.reason.unwrap_or_default();
    let community = req.community;
    let (p, draft) = cancellable(move |cancel| {
        let (p, versions) = app.propose_grids(&community, &opts, &cancel)?;
        let mut body = draft_of(&p, &reason, &versions);
        if body.changes.is_empty() {
            return Ok((p, None));
        }
        body.author = author;
        let stored = app.create_draft(body)?;
        Ok::<_, ApiError>((p, Some(stored)))
    })
    .await?;
    let notes: Vec<Value> = p
        .notes
        .iter()
        .map(|n| {
            let mut v = json!(n);
            v["message"] = json!(n.message(lang));
            v
        })
        .collect();
    let body = json!({
        "id": draft.as_ref().map(|d| d.id.clone()),
        "draft": draft,
        "community": p.community,
        "options": p.options,
        "metrics": p.metrics,
        "today": p.today,
        "notes": notes,
        "runtime_ms": p.runtime_ms,
        "grids": features(&p),
    });
    let status = if draft.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut r = (status, axum::Json(body)).into_response();
    if let Some(d) = &draft
        && let Ok(loc) = HeaderValue::from_str(&format!("/drafts/{}", d.id))
    {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(r)
}
