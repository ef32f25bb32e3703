//! Who is calling, and whether they may: every request passes through
//! [`layer`], which
//! 1. reads a token from `Authorization: Bearer …` or the `gridgov_token`
//!    cookie the web map's sign-in sets, and finds its user (a request
//!    without one is `anonymous`, role public; a bad token is refused);
//! 2. limits requests per token (as the guard does per address);
//! 3. leaves the route's rule to the route itself: every route declares
//!    its [`Need`] where it is added (`routes.rs`), and [`require`], the
//!    route layer, checks it — open, signed in, or a kind of thing the
//!    role must be allowed to read or write ([`gridgov_spatial::access`]);
//!    401 for nobody, 403 for the wrong role, and refusals of signed-in
//!    users are audited;
//! 4. hands the handler a [`Caller`] for object-level checks (the grid of
//!    a household or incident), and
//! 5. writes every edit (any method but GET/HEAD/OPTIONS) to the audit
//!    log with its outcome.
//!
//! Tokens are looked up in the store and remembered for a few seconds;
//! revoking or changing an account here forgets them at once, and another
//! replica's change takes effect within [`CACHE_TTL`].

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use gridgov_spatial::access::{Access, Principal, Role, Thing, allows};

use gridgov_spatial::Timestamp;

use super::{ApiError, AppState};
use gridgov_app::accounts::{self, AuditEntry, TokenRecord, User};

/// How long a looked-up token is trusted before it is looked up again.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// The cookie the web map signs in with.
pub const COOKIE: &str = "gridgov_token";

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user and what they may do (`anonymous`, public, when not
    /// signed in).
    pub principal: Principal,
    /// The token they came with (its public id), when signed in.
    pub token: Option<String>,
    /// Their address.
    pub client: Option<IpAddr>,
    /// When the request came in, by the application's clock.
    pub at: Timestamp,
}

impl Caller {
    /// Nobody in particular: the public, calling at `at`.
    pub fn anonymous(client: Option<IpAddr>, at: Timestamp) -> Caller {
        Caller {
            principal: Principal::new("anonymous", Role::Public),
            token: None,
            client,
            at,
        }
    }

    /// Whether they are signed in.
    pub fn signed_in(&self) -> bool {
        self.token.is_some()
    }

    /// Whether they may.
    pub fn may(&self, thing: &Thing<'_>, access: Access) -> bool {
        allows(&self.principal, thing, access)
    }

    /// `Ok` when they may; otherwise 401 (not signed in) or 403.
    pub fn require(&self, thing: &Thing<'_>, access: Access) -> Result<(), ApiError> {
        if self.may(thing, access) {
            Ok(())
        } else {
            Err(self.refusal())
        }
    }

    /// The refusal for something they may not do: 401 when nobody is
    /// signed in, else 403.
    pub fn refusal(&self) -> ApiError {
        if self.signed_in() {
            ApiError::with_status(
                StatusCode::FORBIDDEN,
                format!(
                    "{} ({}) may not do this",
                    self.principal.user,
                    self.principal.role.name()
                ),
            )
            .coded(
                "access.forbidden",
                vec![
                    ("user", (&self.principal.user).into()),
                    (
                        "role",
                        crate::error::Arg::Label("role", self.principal.role.name().to_owned()),
                    ),
                ],
            )
        } else {
            ApiError::with_status(
                StatusCode::UNAUTHORIZED,
                "sign in first: POST /login, then send `Authorization: Bearer <token>`",
            )
            .coded("access.sign_in", Vec::new())
        }
    }

    /// An audit line by this caller.
    pub fn audit(&self, action: &str, object: &str, detail: impl Into<String>) -> AuditEntry {
        AuditEntry {
            at: self.at,
            user: self.principal.user.clone(),
            action: action.into(),
            object: object.into(),
            detail: detail.into(),
            client: self.client.map(|c| c.to_string()),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(|| {
                // Only routes outside the auth layer get here; they are
                // told the time the request was read, by the app's clock.
                Caller::anonymous(client_of(&parts.extensions), st.app.now())
            }))
    }
}

fn client_of(ext: &axum::http::Extensions) -> Option<IpAddr> {
    super::harden::client_ip(ext)
}

/// Tokens looked up lately: trusted for [`CACHE_TTL`], at most
/// [`CACHE_TOKENS`] of them.
pub struct TokenCache {
    map: moka::sync::Cache<String, (TokenRecord, User)>,
}

/// How many looked-up tokens are kept.
pub const CACHE_TOKENS: u64 = 10_000;

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            map: moka::sync::Cache::builder()
                .max_capacity(CACHE_TOKENS)
                .time_to_live(CACHE_TTL)
                .build(),
        }
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("entries", &self.map.entry_count())
            .finish()
    }
}

impl TokenCache {
    /// Forgets every token (after an account or token changed).
    pub fn clear(&self) {
        self.map.invalidate_all();
    }

    fn get(&self, digest: &str, now: Timestamp) -> Option<(TokenRecord, User)> {
        self.map.get(digest).filter(|(t, _)| t.expires > now)
    }

    fn put(&self, digest: String, t: TokenRecord, u: User) {
        self.map.insert(digest, (t, u));
    }
}

/// The token a request carries: a bearer token, else the sign-in cookie.
pub fn token_of(h: &HeaderMap) -> Option<String> {
    if let Some(v) = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, rest) = v.trim().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim().to_owned());
    }
    CookieJar::from_headers(h)
        .get(COOKIE)
        .map(|c| c.value().to_owned())
}

/// The sign-in cookie carrying `token` (`HttpOnly`, `SameSite=Strict`,
/// `Secure` over TLS), or, without a token, the one that makes the
/// browser forget it.
pub fn sign_in_cookie(token: Option<&str>, secure: bool) -> HeaderValue {
    let mut c = Cookie::build((COOKIE, token.unwrap_or_default().to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure);
    c = match token {
        Some(_) => c.max_age(cookie::time::Duration::seconds(
            gridgov_app::accounts::SESSION_HOURS * 3600,
        )),
        None => c.max_age(cookie::time::Duration::ZERO),
    };
    HeaderValue::from_str(&c.build().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("gridgov_token=; Path=/; Max-Age=0"))
}

/// What a route asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Need {
    /// Nothing: anyone, signed in or not.
    Open,
    /// A signed-in user; the handler checks each object.
    SignedIn,
    /// A role allowed this access to this kind of thing.
    May(Thing<'static>, Access),
}

impl Need {
    /// How the API document names it (`x-gridgov-access`).
    ///
    /// ```
    /// use gridgov_service::auth::Need;
    /// use gridgov_spatial::access::{Access, Thing};
    /// assert_eq!(Need::May(Thing::Boundary, Access::Write).name(), "write:boundary");
    /// assert_eq!(Need::Open.name(), "open");
    /// ```
    pub fn name(&self) -> String {
        match self {
            Need::Open => "open".into(),
            Need::SignedIn => "signed-in".into(),
            Need::May(thing, access) => {
                let a = match access {
                    Access::Read => "read",
                    Access::Write => "write",
                };
                format!("{a}:{}", thing.kind())
            }
        }
    }

    /// Whether `caller` meets it. Nobody unnamed gets past a route that
    /// is not open, whatever the public role may do once signed in.
    pub fn met_by(&self, caller: &Caller) -> bool {
        match self {
            Need::Open => true,
            Need::SignedIn => caller.signed_in(),
            Need::May(thing, access) => caller.signed_in() && caller.may(thing, *access),
        }
    }
}

/// The route layer that holds a route to its [`Need`] (declared where the
/// route is, in `routes.rs`): 401 for nobody, 403 (audited) for a
/// signed-in user the role does not allow.
pub async fn require(
    State((st, need)): State<(Arc<AppState>, Need)>,
    req: Request<Body>,
    next: Next,
) -> Response {
    if req
        .extensions()
        .get::<Caller>()
        .is_some_and(|c| need.met_by(c))
        || need == Need::Open
    {
        return next.run(req).await;
    }
    let caller = req
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_else(|| Caller::anonymous(client_of(req.extensions()), st.app.now()));
    if !caller.signed_in() {
        return unauthorized(
            "sign in first: POST /login with your name and password, then send `Authorization: Bearer <token>`",
        );
    }
    let (method, object) = (req.method().clone(), req.uri().path().to_owned());
    record(
        &st,
        vec![caller.audit("denied", &object, format!("{method} refused"))],
    )
    .await;
    caller.refusal().into_response()
}

fn unauthorized(detail: &str) -> Response {
    let mut r = ApiError::with_status(StatusCode::UNAUTHORIZED, detail).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"gridgov\""),
    );
    r
}

/// Writes audit lines off the async threads; a failure is logged, the
/// answer stands.
pub async fn record(st: &Arc<AppState>, xs: Vec<AuditEntry>) {
    let st = st.clone();
    let r = tokio::task::spawn_blocking(move || st.app.store.append_audit(&xs)).await;
    match r {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "cannot write the audit log"),
        Err(e) => tracing::error!(error = %e, "cannot write the audit log"),
    }
}

/// Finds the user of a token (cached briefly). Blocking on a miss.
async fn resolve(st: &Arc<AppState>, token: String) -> Result<(TokenRecord, User), ApiError> {
    let digest = accounts::token_digest(&token);
    let epoch = st.app.now();
    if let Some(hit) = st.tokens.get(&digest, epoch) {
        return Ok(hit);
    }
    let st2 = st.clone();
    let r = tokio::task::spawn_blocking(move || {
        accounts::authenticate(st2.app.store.as_ref(), &token, epoch)
    })
    .await
    .map_err(ApiError::internal)?;
    match r {
        Ok((t, u)) => {
            st.tokens.put(digest, t.clone(), u.clone());
            Ok((t, u))
        }
        Err(accounts::AccountError::BadToken) => Err(ApiError::with_status(
            StatusCode::UNAUTHORIZED,
            "the token is not valid (unknown, expired or revoked): sign in again",
        )
        .coded("account.bad_token", Vec::new())),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// A write signed in by the cookie must come from the service's own pages
/// (or an origin named by `--cors-origin`) and carry a body a plain HTML
/// form cannot send: browsers attach the cookie to cross-site form posts
/// (older ones even with `SameSite`), so this is what stops another site
/// from filing or editing in a signed-in user's name. Bearer tokens are
/// never sent by a browser on its own and need no such check.
///
/// ```
/// use axum::http::{HeaderMap, Method};
/// use gridgov_service::auth::same_origin_write;
/// let mut h = HeaderMap::new();
/// h.insert("host", "gridgov.example".parse().unwrap());
/// h.insert("origin", "https://evil.example".parse().unwrap());
/// assert!(same_origin_write(&Method::POST, &h, &[]).is_err());
/// h.insert("origin", "https://gridgov.example".parse().unwrap());
/// h.insert("content-type", "application/json".parse().unwrap());
/// h.insert("content-length", "2".parse().unwrap());
/// assert!(same_origin_write(&Method::POST, &h, &[]).is_ok());
/// assert!(same_origin_write(&Method::GET, &HeaderMap::new(), &[]).is_ok());
/// ```
pub fn same_origin_write(method: &Method, h: &HeaderMap, allowed: &[String]) -> Result<(), String> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let text = |name: header::HeaderName| h.get(name).and_then(|v| v.to_str().ok());
    let host = text(header::HOST).unwrap_or_default();
    let origin = text(header::ORIGIN);
    let own = |o: &str| {
        o.split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
            || allowed
                .iter()
                .any(|a| a == "*" || a.eq_ignore_ascii_case(o))
    };
    match (
        h.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        origin,
    ) {
        (Some("same-origin"), _) => {}
        (_, Some(o)) if own(o) => {}
        (_, Some(o)) => {
            return Err(format!(
                "a write from {o} with the sign-in cookie is refused: only the service's own pages (or an origin given with --cors-origin) may write with it; programs use a bearer token"
            ));
        }
        (Some(site), None) => {
            return Err(format!(
                "a {site} write with the sign-in cookie is refused: only the service's own pages may write with it"
            ));
        }
        (None, None) => {
            return Err(
                "a write with the sign-in cookie needs an Origin header (browsers send one); programs use a bearer token".into(),
            );
        }
    }
    let has_body = text(header::CONTENT_LENGTH).is_some_and(|n| n.trim() != "0")
        || h.contains_key(header::TRANSFER_ENCODING);
    let ct = text(header::CONTENT_TYPE)
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let form = matches!(
        ct.as_str(),
        "text/plain" | "application/x-www-form-urlencoded" | "multipart/form-data"
    );
    if form || (ct.is_empty() && has_body) {
        return Err(format!(
            "a write with the sign-in cookie must send JSON (or the data's own type), not {}",
            if ct.is_empty() {
                "a body without a type"
            } else {
                ct.as_str()
            }
        ));
    }
    Ok(())
}

/// The middleware (see the module).
pub async fn layer(
    State(st): State<Arc<AppState>>,
    mut req: Request<Body>,
    next: Next,
) -> Response {
    let client = client_of(req.extensions());
    let mut caller = Caller::anonymous(client, st.app.now());
    let from_cookie = !req.headers().contains_key(header::AUTHORIZATION);
    let mut stale_cookie = false;
    if let Some(token) = token_of(req.headers()) {
        match resolve(&st, token).await {
            Ok((t, u)) => {
                caller.principal = u.principal();
                caller.token = Some(t.id);
            }
            // An expired or revoked sign-in cookie: the browser goes on
            // as nobody (and is told to forget it), so the map can ask
            // to sign in again.
            Err(e) if from_cookie && e.status == StatusCode::UNAUTHORIZED => {
                stale_cookie = true;
            }
            Err(e) => {
                let mut r = e.into_response();
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"gridgov\", error=\"invalid_token\""),
                );
                return r;
            }
        }
    }
    if from_cookie
        && caller.token.is_some()
        && let Err(why) =
            same_origin_write(req.method(), req.headers(), &st.config.guard.cors_origins)
    {
        let mut e = ApiError::with_status(StatusCode::FORBIDDEN, why)
            .coded("access.cross_site", Vec::new());
        e.title = "cross-site request refused";
        return e.into_response();
    }
    let g = &st.config.guard;
    if let Some(id) = &caller.token
        && let Err(wait) = st.limiter.check_token(id)
    {
        return super::harden::too_many(
            format!(
                "more than {} requests a second with one token; try again in {:.1} s",
                g.rate_per_s,
                wait.as_secs_f64()
            ),
            wait,
        );
    }
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let method = req.method().clone();
    let object = req.uri().path().to_owned();
    req.extensions_mut().insert(caller.clone());
    let mut r = next.run(req).await;
    if stale_cookie && !r.headers().contains_key(header::SET_COOKIE) {
        r.headers_mut()
            .insert(header::SET_COOKIE, sign_in_cookie(None, st.config.tls));
    }
    let edit = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let status = r.status();
    let refused = status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED;
    // Sign-in and sign-out are audited by their handlers; a refusal by a
    // handler (an object outside the caller's grids) is audited here.
    if (edit && path != "/login" && path != "/logout") || (refused && caller.signed_in()) {
        let action = if refused { "denied" } else { "edit" };
        record(
            &st,
            vec![caller.audit(action, &object, format!("{method} {}", status.as_u16()))],
        )
        .await;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_comes_from_the_bearer_header_or_the_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(token_of(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; gridgov_token=gg_x"),
        );
        assert_eq!(token_of(&h).as_deref(), Some("gg_x"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer gg_y"),
        );
        assert_eq!(token_of(&h).as_deref(), Some("gg_y"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(token_of(&h), None);
    }
}
