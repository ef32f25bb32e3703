//! What every request passes through: a rate limit per client address, a
//! time limit, CORS for the origins configured, secure headers on every
//! answer, and every error answered as problem+json (including the plain
//! text ones the framework gives for unreadable paths and bodies).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};

/// The guard's settings.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Requests per second each client address may make on average; 0:
    /// no limit.
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

/// Whose requests a bucket counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// A client address.
    Ip(IpAddr),
    /// A sign-in or API token (its public id).
    Token(String),
    /// Sign-in attempts from an address.
    LoginFrom(IpAddr),
    /// Failed sign-ins as a user name.
    LoginAs(String),
}

impl From<IpAddr> for LimitKey {
    fn from(ip: IpAddr) -> Self {
        LimitKey::Ip(ip)
    }
}

/// Token buckets per client address and per token.
#[derive(Debug, Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<LimitKey, (f64, Instant)>>,
}

impl Limiter {
    /// Takes one token from `key`'s bucket; `Err(seconds to wait)` when
    /// there is none.
    pub fn take(
        &self,
        key: impl Into<LimitKey>,
        rate: f64,
        burst: f64,
        now: Instant,
    ) -> Result<(), f64> {
        let key = key.into();
        if rate <= 0.0 {
            return Ok(());
        }
        let mut b = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if b.len() > 100_000 {
            // Forget the addresses whose buckets have refilled.
            b.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = b.entry(key).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - *tokens) / rate)
        }
    }
}

impl Limiter {
    /// Puts back the token `take` took from `key` (up to `burst`): for
    /// buckets that count only failures.
    pub fn give_back(&self, key: &LimitKey, burst: f64) {
        let mut b = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((t, _)) = b.get_mut(key) {
            *t = (*t + 1.0).min(burst);
        }
    }
}

fn origin_allowed(g: &Guard, headers: &HeaderMap) -> Option<HeaderValue> {
    let o = headers.get(header::ORIGIN)?;
    let s = o.to_str().ok()?;
    g.cors_origins
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(s))
        .then(|| o.clone())
}

fn secure(h: &mut HeaderMap) {
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-site"),
    );
}

/// An error answer that is not problem+json (nor Open311's own error
/// list) becomes one, with its text as the detail.
async fn as_problem(r: Response) -> Response {
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
    let detail = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("the request cannot be answered")
            .to_owned()
    } else {
        text
    };
    let mut e = ApiError::with_status(status, detail).into_response();
    for (k, v) in &parts.headers {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            e.headers_mut().insert(k.clone(), v.clone());
        }
    }
    e
}

/// The client's address, over plain TCP or TLS.
pub fn client_ip(ext: &axum::http::Extensions) -> Option<IpAddr> {
    ext.get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| {
            ext.get::<ConnectInfo<super::tls::ClientAddr>>()
                .map(|c| c.0.0.ip())
        })
}

/// A 429 answer with `Retry-After`.
pub fn too_many(detail: String, wait: f64) -> Response {
    let mut r = ApiError::with_status(StatusCode::TOO_MANY_REQUESTS, detail).into_response();
    let secs = wait.ceil().max(1.0) as u64;
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The middleware.
pub async fn guard(State(st): State<Arc<AppState>>, req: Request<Body>, next: Next) -> Response {
    let g = &st.config.guard;
    let ip = client_ip(req.extensions());
    if let Some(ip) = ip
        && let Err(wait) = st.limiter.take(ip, g.rate_per_s, g.burst, Instant::now())
    {
        let mut r = too_many(
            format!(
                "more than {} requests a second from {ip}; try again in {:.1} s",
                g.rate_per_s, wait
            ),
            wait,
        );
        secure(r.headers_mut());
        return r;
    }
    let cors = origin_allowed(g, req.headers());
    if req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Some(o) = cors {
            let h = r.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type, if-match, authorization"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            h.insert(header::VARY, HeaderValue::from_static("origin"));
        }
        secure(r.headers_mut());
        return r;
    }
    let timeout = g.timeout;
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let mut r = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(r) => as_problem(r).await,
        Err(_) => ApiError::with_status(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the request took longer than {} s and was abandoned",
                timeout.as_secs_f64()
            ),
        )
        .into_response(),
    };
    // The one place internal errors are logged: with the request they
    // failed, never in the answer.
    if let Some(c) = r.extensions().get::<super::error::InternalCause>() {
        tracing::error!(%method, %path, status = r.status().as_u16(), cause = %c.0, "internal error");
    }
    if let Some(o) = cors {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("etag, location, retry-after"),
        );
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
    secure(r.headers_mut());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let l = Limiter::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(l.take(ip, 2.0, 5.0, t0).is_ok());
        }
        let wait = l.take(ip, 2.0, 5.0, t0).unwrap_err();
        assert!((wait - 0.5).abs() < 1e-9, "{wait}");
        // Another address has its own bucket.
        assert!(
            l.take("10.0.0.2".parse::<IpAddr>().unwrap(), 2.0, 5.0, t0)
                .is_ok()
        );
        // Half a second later one more.
        let t1 = t0 + Duration::from_millis(500);
        assert!(l.take(ip, 2.0, 5.0, t1).is_ok());
        assert!(l.take(ip, 2.0, 5.0, t1).is_err());
        // A token has its own bucket too.
        let t = LimitKey::Token("abc".into());
        assert!(l.take(t.clone(), 1.0, 1.0, t1).is_ok());
        assert!(l.take(t, 1.0, 1.0, t1).is_err());
        // No limit at all with rate 0.
        for _ in 0..100 {
            assert!(l.take(ip, 0.0, 0.0, t1).is_ok());
        }
    }
}
