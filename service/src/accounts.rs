//! Accounts over HTTP: sign in and out, who am I, users and tokens
//! (admins), and the audit log (admins).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::extract::{JsonBody, Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_spatial::access::Role;
use serde::Deserialize;
use serde_json::json;

use super::auth::{Caller, record};
use super::harden::too_many;
use super::{ApiError, AppState};
use gridgov_app::Revoke;
use gridgov_app::accounts::{self, AccountError, AuditQuery, TokenKind, User};

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginIn {
    name: String,
    password: String,
}

/// `POST /login` `{name, password}`: a sign-in token (also set as an
/// `HttpOnly` cookie for the web map), valid for 12 hours.
#[utoipa::path(
    post,
    path = "/login",
    tag = "accounts",
    summary = "Sign in: a 12-hour token (and an HttpOnly cookie)",
    request_body(content = LoginIn, description = "name, password", content_type = "application/json"),
    responses(
        (status = 200, description = "the token, its expiry and the user", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "wrong user name or password", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many attempts", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(input): JsonBody<LoginIn>,
) -> Result<Response, ApiError> {
    // The name as typed goes into the audit log: only so much of it.
    let name: String = input.name.chars().take(64).collect();
    let mut who = caller.clone();
    who.principal.user.clone_from(&name);
    // Guessing is slow: so many attempts per address, so many failures
    // per name.
    let throttled = caller
        .client
        .and_then(|ip| st.limiter.check_login_from(ip).err())
        .or_else(|| st.limiter.name_held(&name, caller.client));
    if let Some(wait) = throttled {
        record(&st, vec![who.audit("login_failed", "/login", "throttled")]).await;
        return Ok(too_many(
            format!(
                "too many sign-in attempts; try again in {:.0} s",
                wait.as_secs_f64().ceil()
            ),
            wait,
        ));
    }
    let st2 = st.clone();
    let r = blocking(move || {
        Ok(accounts::login(
            st2.app.store.as_ref(),
            &input.name,
            &input.password,
            st2.app.now(),
        ))
    })
    .await?;
    match r {
        Ok(accounts::SignedIn {
            token,
            record: rec,
            user,
        }) => {
            record(
                &st,
                vec![who.audit("login", "/login", format!("token {}", rec.id))],
            )
            .await;
            let cookie = super::auth::sign_in_cookie(Some(&token), st.config.tls);
            let mut resp = Json(json!({
                "token": token,
                "token_id": rec.id,
                "expires": rec.expires,
                "user": user,
            }))
            .into_response();
            resp.headers_mut().insert(header::SET_COOKIE, cookie);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(resp)
        }
        Err(AccountError::BadLogin) => {
            st.limiter.failed_login(&name, caller.client);
            record(&st, vec![who.audit("login_failed", "/login", "")]).await;
            Err(AccountError::BadLogin.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /logout`: revokes the token the request came with.
#[utoipa::path(
    post,
    path = "/logout",
    tag = "accounts",
    summary = "Sign out: the token is revoked",
    responses(
        (status = 204, description = "signed out"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn logout(State(st): State<Arc<AppState>>, caller: Caller) -> Result<Response, ApiError> {
    let Some(id) = caller.token.clone() else {
        return Err(caller.refusal());
    };
    let user = caller.principal.user.clone();
    let st2 = st.clone();
    blocking(move || {
        Ok(st2
            .app
            .store
            .revoke_tokens(&Revoke::Token { id, of: Some(user) }, st2.app.now())?)
    })
    .await?;
    st.tokens.clear();
    record(&st, vec![caller.audit("logout", "/logout", "")]).await;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        super::auth::sign_in_cookie(None, st.config.tls),
    );
    Ok(r)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordIn {
    current: String,
    new: String,
}

/// `PUT /me/password` `{current, new}`: changes one's own password; every
/// token of theirs is revoked, this one too (sign in again).
#[utoipa::path(
    put,
    path = "/me/password",
    tag = "accounts",
    summary = "Change one's own password (every token is revoked)",
    request_body(content = PasswordIn, description = "current, new", content_type = "application/json"),
    responses(
        (status = 204, description = "changed"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the current password is wrong", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the new password is refused", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_password(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(input): JsonBody<PasswordIn>,
) -> Result<Response, ApiError> {
    let name = caller.principal.user.clone();
    let st2 = st.clone();
    blocking(move || {
        Ok(accounts::change_password(
            st2.app.store.as_ref(),
            &name,
            &input.current,
            &input.new,
            st2.app.now(),
        )?)
    })
    .await
    .map_err(|e| {
        if e.status == StatusCode::UNAUTHORIZED {
            ApiError::with_status(StatusCode::FORBIDDEN, "the current password is wrong")
                .coded("account.wrong_password", Vec::new())
        } else {
            e
        }
    })?;
    st.tokens.clear();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /me`: the signed-in user, or `{"signed_in": false}`.
#[utoipa::path(
    get,
    path = "/me",
    tag = "accounts",
    summary = "Who is signed in",
    responses(
        (status = 200, description = "the user, or signed_in false", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn me(caller: Caller) -> Response {
    if !caller.signed_in() {
        return Json(json!({ "signed_in": false })).into_response();
    }
    Json(json!({
        "signed_in": true,
        "user": caller.principal.user,
        "role": caller.principal.role,
        "grids": caller.principal.grids,
        "department": caller.principal.department,
        "token_id": caller.token,
        // What the pages may offer: incident points on the map, the
        // dashboard's figures, boundary editing.
        "may": {
            "every_incident": caller.may(&gridgov_spatial::access::Thing::Incident { grid: None, assignee: None, filed_by: None }, gridgov_spatial::access::Access::Read),
            "aggregates": caller.may(&gridgov_spatial::access::Thing::Aggregate, gridgov_spatial::access::Access::Read),
            "edit_boundaries": caller.may(&gridgov_spatial::access::Thing::Boundary, gridgov_spatial::access::Access::Write),
        },
    }))
    .into_response()
}

/// `GET /users`.
#[utoipa::path(
    get,
    path = "/users",
    tag = "accounts",
    summary = "Every user",
    responses(
        (status = 200, description = "the users", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn users(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let us = blocking(move || Ok(st.app.store.users()?)).await?;
    Ok(Json(json!({ "users": us })).into_response())
}

/// `GET /users/{name}`.
#[utoipa::path(
    get,
    path = "/users/{name}",
    tag = "accounts",
    summary = "One user",
    params(
        ("name" = String, Path, description = "the user name"),
    ),
    responses(
        (status = 200, description = "the user", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such user", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn user(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let u = blocking(move || Ok(st.app.store.user(&name)?)).await?;
    match u {
        Some(r) => Ok(Json(r.user).into_response()),
        None => Err(ApiError::not_found("there is no such user")),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    name: Option<String>,
    #[schema(value_type = Option<String>)]
    role: Option<Role>,
    grids: Option<Vec<String>>,
    department: Option<String>,
    disabled: Option<bool>,
    password: Option<String>,
}

fn known_grid(st: &AppState) -> impl Fn(&str) -> bool + use<> {
    let snap = st.current();
    move |g: &str| {
        snap.district
            .grids()
            .any(|a| snap.district.area(a).code == g)
    }
}

/// `POST /users` `{name, role, grids?, department?, password?}`: a new
/// user; without a password one is made and answered once.
#[utoipa::path(
    post,
    path = "/users",
    tag = "accounts",
    summary = "Add a user (without a password one is made and answered once)",
    request_body(content = UserIn, description = "name, role, grids, department, password", content_type = "application/json"),
    responses(
        (status = 201, description = "the user", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "the name is taken", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is refused", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_user(
    State(st): State<Arc<AppState>>,
    JsonBody(input): JsonBody<UserIn>,
) -> Result<Response, ApiError> {
    let (Some(name), Some(role)) = (input.name, input.role) else {
        return Err(ApiError::bad_request(
            "body",
            "a user needs a name and a role",
        ));
    };
    let made = input.password.is_none();
    let password = match input.password {
        Some(p) => p,
        None => accounts::random_password()?,
    };
    let u = User {
        name,
        role,
        grids: input.grids.unwrap_or_default(),
        department: input.department,
        disabled: input.disabled.unwrap_or(false),
        created: st.app.now(),
    };
    let st2 = st.clone();
    let u2 = u.clone();
    blocking(move || {
        let known = known_grid(&st2);
        Ok(
            accounts::create_user(st2.app.store.as_ref(), &u2, &password, &known)
                .map(|()| password)?,
        )
    })
    .await
    .map(|password| {
        let mut v = json!({ "user": u });
        if made {
            v["password"] = json!(password);
        }
        (StatusCode::CREATED, Json(v)).into_response()
    })
}

/// `PUT /users/{name}` `{role?, grids?, department?, disabled?,
/// password?}`: changes what is given. Disabling or a new password
/// revokes the user's tokens.
#[utoipa::path(
    put,
    path = "/users/{name}",
    tag = "accounts",
    summary = "Change a user (disabling or a new password revokes their tokens)",
    params(
        ("name" = String, Path, description = "the user name"),
    ),
    request_body(content = UserIn, description = "role, grids, department, disabled, password", content_type = "application/json"),
    responses(
        (status = 200, description = "the user", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such user", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is refused", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_user(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
    JsonBody(input): JsonBody<UserIn>,
) -> Result<Response, ApiError> {
    if input.name.as_deref().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request("name", "a user cannot be renamed"));
    }
    let st2 = st.clone();
    let u = blocking(move || {
        let mut u = st2
            .app
            .store
            .user(&name)?
            .ok_or_else(|| ApiError::not_found(format!("there is no user {name:?}")))?
            .user;
        if let Some(r) = input.role {
            u.role = r;
            if r != Role::GridStaff && input.grids.is_none() {
                u.grids.clear();
            }
            if r != Role::DepartmentHandler && input.department.is_none() {
                u.department = None;
            }
        }
        if let Some(g) = input.grids {
            u.grids = g;
        }
        if input.department.is_some() {
            u.department = input.department;
        }
        if let Some(d) = input.disabled {
            u.disabled = d;
        }
        let known = known_grid(&st2);
        accounts::update_user(
            st2.app.store.as_ref(),
            &u,
            input.password.as_deref(),
            &known,
            st2.app.now(),
        )?;
        Ok(u)
    })
    .await?;
    st.tokens.clear();
    Ok(Json(u).into_response())
}

/// Filter of `GET /tokens`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokensQuery {
    /// Only this user's tokens.
    user: Option<String>,
}

/// `GET /tokens?user=`: tokens (never the tokens themselves).
#[utoipa::path(
    get,
    path = "/tokens",
    tag = "accounts",
    summary = "Tokens (never the tokens themselves)",
    params(
        TokensQuery,
    ),
    responses(
        (status = 200, description = "the tokens", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn tokens(
    State(st): State<Arc<AppState>>,
    Query(q): Query<TokensQuery>,
) -> Result<Response, ApiError> {
    let ts = blocking(move || Ok(st.app.store.tokens(q.user.as_deref())?)).await?;
    Ok(Json(json!({ "tokens": ts })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    user: String,
    #[serde(default)]
    label: String,
    days: Option<u32>,
}

/// `POST /tokens` `{user, label?, days?}`: an API token for a program
/// acting as `user` (default 90 days, at most 3,650), shown once.
#[utoipa::path(
    post,
    path = "/tokens",
    tag = "accounts",
    summary = "Issue an API token, shown once",
    request_body(content = TokenIn, description = "user, label, days", content_type = "application/json"),
    responses(
        (status = 201, description = "the token and its record", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such user", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn issue_token(
    State(st): State<Arc<AppState>>,
    JsonBody(input): JsonBody<TokenIn>,
) -> Result<Response, ApiError> {
    let days = input.days.unwrap_or(90);
    if !(1..=3650).contains(&days) {
        return Err(ApiError::bad_request("days", "days must be 1 to 3,650"));
    }
    let (token, rec) = blocking(move || {
        Ok(accounts::issue_token(
            st.app.store.as_ref(),
            &input.user,
            TokenKind::Api,
            &input.label,
            i64::from(days) * 86_400,
            st.app.now(),
        )?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": token, "record": rec, "expires": rec.expires })),
    )
        .into_response())
}

/// `DELETE /tokens/{id}`: revokes a token.
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    tag = "accounts",
    summary = "Revoke a token",
    params(
        ("id" = String, Path, description = "the token's public id"),
    ),
    responses(
        (status = 204, description = "revoked"),
        (status = 404, description = "no such token", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_token(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let st2 = st.clone();
    let id2 = id.clone();
    let n = blocking(move || {
        Ok(st2
            .app
            .store
            .revoke_tokens(&Revoke::Token { id: id2, of: None }, st2.app.now())?)
    })
    .await?;
    st.tokens.clear();
    if n == 0 {
        return Err(AccountError::NoToken(id).into());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /audit?user=&action=&object=&since=&until=&before=&limit=`: the
/// audit log, newest first; `next` pages on.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "accounts",
    summary = "The audit log, newest first",
    params(
        ("user" = Option<String>, Query, description = "Only this user's lines."),
        ("action" = Option<String>, Query, description = "Only this kind: login, login_failed, logout, read_personal, edit, denied, account."),
        ("object" = Option<String>, Query, description = "Only objects starting so."),
        ("since" = Option<String>, Query, description = "From this time (RFC 3339)."),
        ("until" = Option<String>, Query, description = "Before this time (RFC 3339)."),
        ("before" = Option<i64>, Query, description = "Only lines older than this id (paging)."),
        ("limit" = Option<usize>, Query, description = "At most this many (default 100, at most 10,000)."),
    ),
    responses(
        (status = 200, description = "the lines and the id to page on", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn audit(
    State(st): State<Arc<AppState>>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit();
    let entries = blocking(move || Ok(st.app.store.audit_log(&q)?)).await?;
    let next = (entries.len() == limit)
        .then(|| entries.last().map(|r| r.id))
        .flatten();
    Ok(Json(json!({ "entries": entries, "next_before": next })).into_response())
}
