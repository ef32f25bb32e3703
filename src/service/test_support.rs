//! What router tests share: an admin's token per state, and the router
//! with it on every request that brings none of its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use gridgov_spatial::access::Role;

use super::{AppState, app, now_epoch, now_rfc3339};

static TOKENS: std::sync::LazyLock<Mutex<HashMap<(usize, String), String>>> =
    std::sync::LazyLock::new(|| Mutex::new(HashMap::new()));

/// A token of user `name` (created with `role`, `grids` and `department`
/// when missing) on `st`'s store; made off the async threads (the
/// PostgreSQL client blocks) and remembered per state.
pub(super) fn token_for(
    st: &Arc<AppState>,
    name: &str,
    role: Role,
    grids: &[&str],
    department: Option<&str>,
) -> String {
    let key = (Arc::as_ptr(st) as usize, name.to_owned());
    if let Some(t) = TOKENS.lock().unwrap().get(&key) {
        return t.clone();
    }
    let st2 = st.clone();
    let (name2, grids2, dept2) = (
        name.to_owned(),
        grids.iter().map(|g| (*g).to_owned()).collect::<Vec<_>>(),
        department.map(String::from),
    );
    let t = std::thread::spawn(move || {
        let g: Vec<&str> = grids2.iter().map(String::as_str).collect();
        crate::accounts::ensure_user_token(
            st2.store.as_ref(),
            &name2,
            role,
            &g,
            dept2.as_deref(),
            now_epoch(),
            &now_rfc3339(),
        )
        .unwrap()
    })
    .join()
    .unwrap();
    TOKENS.lock().unwrap().insert(key, t.clone());
    t
}

/// Forgets the tokens of a state about to be made at a reused address.
pub(super) fn forget(st: &Arc<AppState>) {
    let p = Arc::as_ptr(st) as usize;
    TOKENS.lock().unwrap().retain(|k, _| k.0 != p);
}

/// An admin's token on `st`.
pub(super) fn admin_token(st: &Arc<AppState>) -> String {
    token_for(st, "tester", Role::Admin, &[], None)
}

/// The router, signed in as an admin unless a request says otherwise.
pub(super) fn signed_app(st: &Arc<AppState>) -> Router {
    let bearer = HeaderValue::from_str(&format!("Bearer {}", admin_token(st))).unwrap();
    app(st.clone()).layer(axum::middleware::map_request(
        move |mut req: Request<Body>| {
            let bearer = bearer.clone();
            async move {
                if !req.headers().contains_key(header::AUTHORIZATION) {
                    req.headers_mut().insert(header::AUTHORIZATION, bearer);
                }
                req
            }
        },
    ))
}
