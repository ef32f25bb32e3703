//! The OpenAPI document at `/openapi.json`, generated from the handlers'
//! `#[utoipa::path]` annotations as the routes are added (`routes.rs`):
//! a route is in the document because it is in the router, with the
//! access it needs (`security`, `x-gridgov-access`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, InfoBuilder, OpenApi, OpenApiBuilder, Server};

use super::AppState;

/// An RFC 7807 problem, as every error is answered.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Problem {
    /// Always `about:blank`.
    #[schema(rename = "type")]
    kind: String,
    /// A short, stable summary.
    title: String,
    /// The HTTP status.
    status: u16,
    /// What exactly went wrong.
    detail: String,
    /// The parameter, field or feature at fault.
    field: Option<String>,
}

/// Bytes: a tile, an image, a file.
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct Binary(Vec<u8>);

/// The document before any route is added: what the API is, how callers
/// sign in, the shared schemas.
pub fn base() -> OpenApi {
    let mut components = Components::new();
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A token from POST /login (12 hours) or an API token; the web map sends it as the gridgov_token cookie",
                ))
                .build(),
        ),
    );
    components.schemas.insert(
        "Problem".into(),
        <Problem as utoipa::PartialSchema>::schema(),
    );
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("gridgov")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Grid-based community governance: which grid a point or address belongs to; OGC API – Features over grids, buildings, units, merchants, cameras and incidents; tiles; boundary editing; the case loop; Open311; accounts.",
                ))
                .build(),
        )
        .components(Some(components))
        .build()
}

/// The finished document: path templates as OpenAPI writes them (a
/// catch-all `{*path}` is the parameter `{path}`).
pub fn finish(mut api: OpenApi) -> OpenApi {
    let paths = std::mem::take(&mut api.paths.paths);
    api.paths.paths = paths
        .into_iter()
        .map(|(k, v)| (k.replace("{*", "{"), v))
        .collect();
    api
}

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "api",
    summary = "This document",
    responses(
        (status = 200, description = "the OpenAPI 3.1 document", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn document(State(st): State<Arc<AppState>>, headers: HeaderMap) -> axum::Json<OpenApi> {
    let mut api = st.openapi.get().cloned().unwrap_or_else(base);
    api.servers = Some(vec![Server::new(super::features::base(&st, &headers))]);
    axum::Json(api)
}
