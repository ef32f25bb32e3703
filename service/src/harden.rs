//! What every request passes through, outermost first: secure headers on
//! every answer and CORS for the origins configured (tower-http); the
//! guard — a rate limit per client address (governor), every error
//! answered as problem+json (including the plain-text ones the framework
//! gives for unreadable paths and bodies) and internal errors logged with
//! their request; then the time limit (tower-http, 503), the caller
//! (`auth::layer`) and the body limit — one stack, put around the routes
//! by [`around`].

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use super::{ApiError, AppState};

/// The guard's settings.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Requests per second each client address (and each token) may make
    /// on average; 0: no limit.
    pub rate_per_s: f64,
    /// How many it may make at once (the bucket's size).
    pub burst: f64,
    /// The longest a request may take.
    pub timeout: Duration,
    /// Origins allowed to call from browsers (`*` for any); none: only
    /// the service's own pages.
    pub cors_origins: Vec<String>,
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            rate_per_s: 100.0,
            burst: 1000.0,
            timeout: Duration::from_secs(60),
            cors_origins: Vec::new(),
        }
    }
}

/// A quota of `rate` per second with bursts of `burst`; `None`: no limit.
fn quota(rate: f64, burst: f64) -> Option<Quota> {
    if !(rate.is_finite() && rate > 0.0) {
        return None;
    }
    let per = Duration::from_secs_f64((1.0 / rate).max(1e-9));
    let burst = NonZeroU32::new(burst.clamp(1.0, f64::from(u32::MAX)) as u32)?;
    Some(Quota::with_period(per)?.allow_burst(burst))
}

type Keyed<K> = DefaultKeyedRateLimiter<K>;
type KeyedInfo<K> = RateLimiter<
    K,
    governor::state::keyed::DefaultKeyedStateStore<K>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// How many keys a limiter keeps before it forgets those whose buckets
/// have refilled.
const KEYS_KEPT: usize = 100_000;

/// Rate limits per client address, per token and for sign-ins (per
/// address, and failures per user name).
pub struct Limiter {
    ip: Option<Keyed<IpAddr>>,
    token: Option<Keyed<String>>,
    login_from: Option<Keyed<IpAddr>>,
    filing_from: Option<Keyed<IpAddr>>,
    login_as: Option<KeyedInfo<String>>,
    /// Names whose failures used their bucket up, until when.
    locked: moka::sync::Cache<String, Instant>,
    clock: DefaultClock,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").finish_non_exhaustive()
    }
}

/// `Err(time to wait)` when `key`'s bucket is empty.
fn check<K: Clone + std::hash::Hash + Eq>(
    l: Option<&Keyed<K>>,
    key: &K,
    clock: &DefaultClock,
) -> Result<(), Duration> {
    let Some(l) = l else { return Ok(()) };
    if l.len() > KEYS_KEPT {
        l.retain_recent();
    }
    l.check_key(key)
        .map_err(|not| not.wait_time_from(clock.now()))
}

impl Limiter {
    /// Limits by `g` for addresses and tokens; sign-ins by the account
    /// rules ([`gridgov_app::accounts`]).
    pub fn new(g: &Guard) -> Self {
        use gridgov_app::accounts::{
            LOGIN_ADDRESS_BURST, LOGIN_ADDRESS_EVERY_S, LOGIN_NAME_BURST, LOGIN_NAME_EVERY_S,
        };
        let q = quota(g.rate_per_s, g.burst);
        Limiter {
            ip: q.map(RateLimiter::keyed),
            token: q.map(RateLimiter::keyed),
            login_from: quota(1.0 / LOGIN_ADDRESS_EVERY_S, LOGIN_ADDRESS_BURST)
                .map(RateLimiter::keyed),
            filing_from: quota(1.0 / ANONYMOUS_FILING_EVERY_S, ANONYMOUS_FILING_BURST)
                .map(RateLimiter::keyed),
            login_as: quota(1.0 / LOGIN_NAME_EVERY_S, LOGIN_NAME_BURST)
                .map(|q| RateLimiter::keyed(q).with_middleware::<StateInformationMiddleware>()),
            locked: moka::sync::Cache::builder()
                .max_capacity(KEYS_KEPT as u64)
                .time_to_live(Duration::from_secs_f64(LOGIN_NAME_EVERY_S))
                .build(),
            clock: DefaultClock::default(),
        }
    }

    /// A request from `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Duration> {
        check(self.ip.as_ref(), &ip, &self.clock)
    }

    /// A request with the token whose public id is `id`.
    pub fn check_token(&self, id: &str) -> Result<(), Duration> {
        check(self.token.as_ref(), &id.to_owned(), &self.clock)
    }

    /// An anonymous report filed from `ip` (Open311 without signing in).
    pub fn check_filing_from(&self, ip: IpAddr) -> Result<(), Duration> {
        check(self.filing_from.as_ref(), &ip, &self.clock)
    }

    /// A sign-in attempt from `ip`.
    pub fn check_login_from(&self, ip: IpAddr) -> Result<(), Duration> {
        check(self.login_from.as_ref(), &ip, &self.clock)
    }

    /// How long sign-ins as `name` from `ip` are held back, if they are:
    /// the failures from there used its bucket up. Failures elsewhere do
    /// not count: a guesser at one address cannot lock the user out of
    /// their own machine.
    pub fn name_held(&self, name: &str, ip: Option<IpAddr>) -> Option<Duration> {
        let until = self.locked.get(&name_key(name, ip))?;
        until.checked_duration_since(Instant::now())
    }

    /// A failed sign-in as `name` from `ip`: counted, and that pair held
    /// back once its failures use the bucket up.
    pub fn failed_login(&self, name: &str, ip: Option<IpAddr>) {
        let Some(l) = &self.login_as else { return };
        if l.len() > KEYS_KEPT {
            l.retain_recent();
        }
        let key = name_key(name, ip);
        let wait = match l.check_key(&key) {
            Ok(s) if s.remaining_burst_capacity() > 0 => return,
            // The last one: held until the next is earned.
            Ok(s) => s.quota().replenish_interval(),
            Err(not) => not.wait_time_from(self.clock.now()),
        };
        self.locked.insert(key, Instant::now() + wait);
    }
}

/// The key of a (name, address) pair.
fn name_key(name: &str, ip: Option<IpAddr>) -> String {
    match ip {
        Some(ip) => format!("{name}\u{0}{ip}"),
        None => name.to_owned(),
    }
}

/// An error answer that is not problem+json (nor Open311's own error
/// list) becomes one, with its text as the detail.
async fn as_problem(r: Response, timeout: Duration) -> Response {
    let status = r.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return r;
    }
    let ct = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if ct.starts_with("application/problem+json") || ct.starts_with("application/json") {
        return r;
    }
    let (parts, body) = r.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let timed_out = text.is_empty() && status == StatusCode::SERVICE_UNAVAILABLE;
    let detail = if !text.is_empty() {
        text
    } else if timed_out {
        // The time limit's answer: it has no body of its own.
        format!(
            "the request took longer than {} s and was abandoned",
            timeout.as_secs_f64()
        )
    } else {
        status
            .canonical_reason()
            .unwrap_or("the request cannot be answered")
            .to_owned()
    };
    let mut e = ApiError::with_status(status, detail);
    if timed_out {
        e = e.coded(
            "request.timeout",
            vec![("s", (&timeout.as_secs_f64()).into())],
        );
    }
    let mut e = e.into_response();
    for (k, v) in &parts.headers {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            e.headers_mut().insert(k.clone(), v.clone());
        }
    }
    e
}

/// The client's address, over plain TCP or TLS.
pub fn client_ip(ext: &axum::http::Extensions) -> Option<IpAddr> {
    ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// A 429 answer with `Retry-After`.
pub fn too_many(detail: String, wait: Duration) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut r = ApiError::with_status(StatusCode::TOO_MANY_REQUESTS, detail)
        .coded("request.too_many", vec![("s", (&secs).into())])
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// Marks a 413 whose handler named its own limit (the batch lookup's), so
/// it is not rewritten to name the body limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LimitNamed;

/// The guard: the rate per address, problem+json for every error, the
/// log of internal errors.
pub async fn guard(State(st): State<Arc<AppState>>, req: Request<Body>, next: Next) -> Response {
    let g = &st.config.guard;
    if let Some(ip) = client_ip(req.extensions())
        && let Err(wait) = st.limiter.check_ip(ip)
    {
        return too_many(
            format!(
                "more than {} requests a second from {ip}; try again in {:.1} s",
                g.rate_per_s,
                wait.as_secs_f64()
            ),
            wait,
        );
    }
    // Heads past our limits get problem+json here; hyper itself refuses
    // only far larger ones (over 100 headers or 400 KB), without a body.
    // The request target as sent: origin-form has only path and query.
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len())
        + req.uri().authority().map_or(0, |a| a.as_str().len());
    if uri_len > MAX_URI {
        return ApiError::with_status(
            StatusCode::URI_TOO_LONG,
            format!(
                "the address is {uri_len} bytes; at most {MAX_URI} (send long input in a body)"
            ),
        )
        .into_response();
    }
    let head: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if head > MAX_HEADERS_BYTES {
        return ApiError::with_status(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("the request's headers are {head} bytes; at most {MAX_HEADERS_BYTES}"),
        )
        .into_response();
    }
    // Kept for the log (both are cheap to clone: the URI shares its bytes).
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let inner = next.run(req).await;
    // A 413 the handler wrote itself names its own limit.
    let named = inner.extensions().get::<LimitNamed>().is_some();
    let mut r = as_problem(inner, g.timeout).await;
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE && !named {
        // Whichever extractor refused it, say what the limit is and how to
        // change it.
        let mut e = ApiError::with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is over this service's limit of {} bytes (`gridgov serve --body-limit`): split it, or ask the operator to raise the limit",
                st.config.body_limit
            ),
        )
        .coded(
            "request.too_large",
            vec![("limit", (&st.config.body_limit).into())],
        );
        e.title = "Payload too large";
        r = e.into_response();
    }
    if personal(uri.path()) {
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // The one place internal errors are logged: with the request they
    // failed, never in the answer.
    if let Some(c) = r.extensions().get::<super::error::InternalCause>() {
        let path = uri.path();
        tracing::error!(%method, %path, status = r.status().as_u16(), cause = %c.0, "internal error");
    }
    r
}

/// The longest request target (path and query) accepted, in bytes.
pub const MAX_URI: usize = 8 * 1024;
/// The most header bytes one request may carry.
pub const MAX_HEADERS_BYTES: usize = 32 * 1024;

/// Anonymous reports one address may file: this many at once, then one
/// every [`ANONYMOUS_FILING_EVERY_S`] seconds (signed-in users are held
/// only to the general rate).
pub const ANONYMOUS_FILING_BURST: f64 = 5.0;
/// See [`ANONYMOUS_FILING_BURST`].
pub const ANONYMOUS_FILING_EVERY_S: f64 = 60.0;

/// Answers that may carry personal data (households, cases, accounts,
/// the audit log, the district file): kept by no cache, shared or not.
///
/// ```
/// use gridgov_service::harden::personal;
/// assert!(personal("/households/3"));
/// assert!(!personal("/tiles/14/13620/6470.mvt"));
/// ```
pub fn personal(path: &str) -> bool {
    const PREFIXES: [&str; 14] = [
        "/households",
        "/units",
        "/incidents",
        "/district.json",
        "/me",
        "/users",
        "/tokens",
        "/audit",
        "/login",
        "/reports",
        "/report",
        "/collections/incidents",
        "/open311",
        "/photos",
    ];
    PREFIXES.iter().any(|p| path.starts_with(p))
}

/// CORS for the configured origins; `None` when there are none (then
/// only the service's own pages call it).
fn cors(g: &Guard) -> Option<CorsLayer> {
    if g.cors_origins.is_empty() {
        return None;
    }
    let origin = if g.cors_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            g.cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::AUTHORIZATION,
            ])
            .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER])
            .max_age(Duration::from_secs(600)),
    )
}

/// `router` inside the layers every request passes (see the module),
/// outermost first: the secure headers, CORS, [`guard`] (rate limits,
/// framework errors as problem+json, the log of internal errors), the time
/// limit, [`auth::layer`](super::auth::layer) (who is calling) and the
/// body limit. They are composed into one stack and put around the
/// routes once: each `Router::layer` of its own would box every route
/// again and cost a clone of each box per request.
pub fn around<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    st: &Arc<AppState>,
) -> Router<S> {
    let g = &st.config.guard;
    let header = |k: &'static str, v: &'static str| {
        SetResponseHeaderLayer::overriding(HeaderName::from_static(k), HeaderValue::from_static(v))
    };
    router.layer(
        tower::ServiceBuilder::new()
            .layer(header("x-content-type-options", "nosniff"))
            .layer(header("x-frame-options", "DENY"))
            .layer(header("referrer-policy", "no-referrer"))
            .layer(header("cross-origin-resource-policy", "same-site"))
            .option_layer(cors(g))
            .layer(axum::middleware::from_fn(super::error::localize))
            .layer(axum::middleware::from_fn_with_state(st.clone(), guard))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                g.timeout,
            ))
            .layer(axum::middleware::from_fn_with_state(
                st.clone(),
                super::auth::layer,
            ))
            .layer(axum::extract::DefaultBodyLimit::max(st.config.body_limit)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_its_rate_and_tokens_their_own() {
        let l = Limiter::new(&Guard {
            rate_per_s: 2.0,
            burst: 5.0,
            ..Guard::default()
        });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..5 {
            assert!(l.check_ip(ip).is_ok());
        }
        let wait = l.check_ip(ip).unwrap_err();
        assert!(wait <= Duration::from_millis(500), "{wait:?}");
        // Another address and a token have buckets of their own.
        assert!(l.check_ip("10.0.0.2".parse().unwrap()).is_ok());
        assert!(l.check_token("abc").is_ok());
        // No limit at all with rate 0.
        let free = Limiter::new(&Guard {
            rate_per_s: 0.0,
            ..Guard::default()
        });
        for _ in 0..10_000 {
            assert!(free.check_ip(ip).is_ok());
        }
    }

    #[test]
    fn a_name_is_held_back_from_an_address_once_its_failures_there_use_the_bucket_up() {
        let l = Limiter::new(&Guard::default());
        let (there, home): (IpAddr, IpAddr) = (
            "203.0.113.9".parse().unwrap(),
            "192.168.1.20".parse().unwrap(),
        );
        for _ in 0..gridgov_app::accounts::LOGIN_NAME_BURST as usize - 1 {
            l.failed_login("victim", Some(there));
            assert_eq!(l.name_held("victim", Some(there)), None);
        }
        l.failed_login("victim", Some(there));
        let held = l.name_held("victim", Some(there)).unwrap();
        assert!(held > Duration::from_secs(50) && held <= Duration::from_secs(60));
        assert_eq!(l.name_held("someone", Some(there)), None);
        // The user at their own machine is not held back.
        assert_eq!(l.name_held("victim", Some(home)), None);
    }
}
