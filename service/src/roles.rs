//! The district's list of staff roles: `GET /roles` for everyone (the
//! titles are what every page shows beside a name), `PUT /roles` for
//! admins, who replace the whole list; every problem is named, a role
//! someone holds is not dropped. The pages' catalogue (`GET /i18n`) carries
//! the district's titles as `staff.<code>`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::auth::{Caller, record};
use crate::error::ApiError;
use crate::extract::JsonBody;

/// Body of `PUT /roles`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesPut {
    /// The whole list, in the order teams are listed: each `{code, zh,
    /// en, scope}` with `scope` `grid` (a grid's team, the default) or
    /// `building` (a building's leaders).
    #[schema(value_type = Vec<Object>)]
    roles: gridgov_spatial::Roles,
}

/// `GET /roles`: the roles staff may hold, in the order teams are listed.
#[utoipa::path(
    get,
    path = "/roles",
    tag = "accounts",
    summary = "The roles of grid teams and building leaders",
    responses(
        (status = 200, description = "`roles`: each `{code, zh, en, scope}`", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn get_roles(State(st): State<Arc<AppState>>) -> Response {
    axum::Json(json!({"roles": st.current().district.roles})).into_response()
}

/// `PUT /roles`: an admin replaces the list of roles.
#[utoipa::path(
    put,
    path = "/roles",
    tag = "accounts",
    summary = "Replace the roles of grid teams and building leaders (admins)",
    request_body(content = RolesPut, description = "the whole list", content_type = "application/json"),
    responses(
        (status = 200, description = "`roles` as they are now", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the list has problems (every one named), or drops a role someone holds", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_roles(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(put): JsonBody<RolesPut>,
) -> Result<Response, ApiError> {
    let app = st.app.clone();
    let roles = tokio::task::spawn_blocking(move || app.change_roles(put.roles)).await??;
    let codes: Vec<&str> = roles.0.iter().map(|r| r.code.as_str()).collect();
    record(
        &st,
        vec![caller.audit("change_roles", "/roles", codes.join(","))],
    )
    .await;
    Ok(axum::Json(json!({"roles": roles})).into_response())
}
