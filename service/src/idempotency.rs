//! `Idempotency-Key` on the requests that create cases (`POST
//! /incidents`, Open311's `POST requests`): a client whose answer was lost
//! sends the same request with the same key again and gets the first
//! answer back (with `Idempotent-Replayed: true`) instead of a second
//! case. Keys are the caller's own (a signed-in user's, else an
//! address's) and are remembered for [`KEPT`] by this process; two
//! requests with one key at the same moment run once, the second waiting
//! for the first's answer. Only successes are remembered: a refused
//! request may be corrected and sent again under the same key.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::OnceCell;

use super::AppState;
use super::error::ApiError;

/// How long a key's answer is kept.
pub const KEPT: Duration = Duration::from_secs(24 * 3600);
/// Keys kept at most (the oldest go first).
pub const KEYS: u64 = 100_000;
/// The longest key accepted.
pub const MAX_KEY: usize = 255;

/// A remembered answer.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

/// The answers remembered, by (operation, caller, key).
pub struct Replays(moka::sync::Cache<String, Arc<OnceCell<Answer>>>);

impl Default for Replays {
    fn default() -> Self {
        Replays(
            moka::sync::Cache::builder()
                .max_capacity(KEYS)
                .time_to_live(KEPT)
                .build(),
        )
    }
}

/// Runs `work` once per `Idempotency-Key` of `who` for `what`; without a
/// key, every time.
pub async fn once(
    st: &Arc<AppState>,
    who: &str,
    headers: &HeaderMap,
    what: &str,
    work: impl Future<Output = Response>,
) -> Response {
    let Some(key) = headers.get("idempotency-key") else {
        return work.await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= MAX_KEY => k.trim(),
        _ => {
            return ApiError::bad_request(
                "Idempotency-Key",
                format!("Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters"),
            )
            .into_response();
        }
    };
    let cell = st
        .replays
        .0
        .get_with(format!("{what}\u{0}{who}\u{0}{key}"), || {
            Arc::new(OnceCell::new())
        });
    let ran = std::sync::atomic::AtomicBool::new(false);
    let answer = cell
        .get_or_try_init(|| async {
            ran.store(true, std::sync::atomic::Ordering::Relaxed);
            let r = work.await;
            if !r.status().is_success() {
                return Err(r);
            }
            let (parts, body) = r.into_parts();
            match axum::body::to_bytes(body, usize::MAX).await {
                Ok(body) => Ok(Answer {
                    status: parts.status,
                    headers: parts
                        .headers
                        .iter()
                        .filter(|(k, _)| *k != header::SET_COOKIE)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    body,
                }),
                Err(e) => Err(ApiError::internal(e).into_response()),
            }
        })
        .await;
    match answer {
        Ok(a) => {
            let mut r = (a.status, a.body.clone()).into_response();
            let h = r.headers_mut();
            for (k, v) in &a.headers {
                h.insert(k.clone(), v.clone());
            }
            if !ran.load(std::sync::atomic::Ordering::Relaxed) {
                h.insert(
                    HeaderName::from_static("idempotent-replayed"),
                    HeaderValue::from_static("true"),
                );
            }
            r
        }
        Err(r) => r,
    }
}
