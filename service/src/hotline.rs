//! The 12345 hotline platform: its cases come in over `POST
//! /hotline/cases` (besides the CSV import) keeping the hotline's case
//! number, a case number sent again is the same case (the platform
//! retries), `GET /hotline/cases/{number}` answers where one stands, and
//! every change of a hotline case's status is sent back to the callback
//! URL the admin configured (`gridgov serve --hotline-callback URL`; no
//! request can name another host).
//!
//! Deliveries leave the write path at once: the change is queued (at most
//! [`QUEUE`]) and a worker thread posts it as JSON, trying three times
//! (after 1, 2 and 4 s) before it counts it as failed and logs it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridgov_app::App;
use gridgov_app::cases::{NewReport, Place};
use gridgov_spatial::{IncidentStatus, Reporter};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;

/// Status updates waiting to be delivered, at most.
pub const QUEUE: usize = 10_000;

/// The longest hotline case number.
pub const MAX_NUMBER: usize = 64;

/// One status change to tell the hotline platform.
#[derive(Debug, Clone, PartialEq)]
struct Update {
    number: String,
    body: String,
}

/// The hotline's cases in this service and the deliveries of their
/// changes.
pub struct Hotline {
    /// Hotline case number → case id, made from the district's cases on
    /// first use and kept up to date by this process's filings.
    numbers: Mutex<Option<HashMap<String, i64>>>,
    /// The last status told per case (a step that leaves it is not sent).
    told: Mutex<HashMap<i64, IncidentStatus>>,
    queue: Option<std::sync::mpsc::SyncSender<Update>>,
    /// Updates delivered (2xx).
    pub delivered: AtomicU64,
    /// Updates given up on.
    pub failed: AtomicU64,
}

impl Hotline {
    /// Deliveries to `callback` (none: changes are not sent).
    pub fn new(callback: Option<String>) -> Arc<Hotline> {
        let (queue, rx) = match &callback {
            Some(_) => {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Update>(QUEUE);
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let h = Arc::new(Hotline {
            numbers: Mutex::default(),
            told: Mutex::default(),
            queue,
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        });
        if let (Some(url), Some(rx)) = (callback, rx) {
            let weak = Arc::downgrade(&h);
            std::thread::Builder::new()
                .name("hotline-callback".into())
                .spawn(move || deliver(&url, &rx, &weak))
                .expect("a thread starts");
        }
        h
    }

    /// Hears of every changed case: its number is known at once (also
    /// one filed on another replica), and its status is sent on.
    pub fn listen(self: &Arc<Self>, app: &App) {
        let me = Arc::downgrade(self);
        app.on_cases_changed(Box::new(move |app, ids| {
            if let Some(h) = me.upgrade() {
                h.changed(app, ids);
            }
        }));
    }

    fn changed(&self, app: &App, ids: &[i64]) {
        let snap = app.current();
        for &id in ids {
            let Some(x) = usize::try_from(id - 1)
                .ok()
                .and_then(|i| snap.district.incidents.get(i))
            else {
                continue;
            };
            let Some(number) = x.reporter.as_ref().and_then(|r| r.hotline_case.clone()) else {
                continue;
            };
            self.filed(number.clone(), id);
            let Some(queue) = &self.queue else {
                continue;
            };
            {
                let mut told = self
                    .told
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if told.get(&id) == Some(&x.status) {
                    continue;
                }
                told.insert(id, x.status);
            }
            let grid = usize::try_from(id - 1)
                .ok()
                .and_then(|i| snap.assignment.incidents.get(i))
                .and_then(|p| p.responsible())
                .map(|g| {
                    let a = snap.district.area(g);
                    json!({"code": a.code, "name": a.name})
                });
            let body = json!({
                "case_number": number,
                "id": id,
                "status": x.status,
                "status_name": gridgov_spatial::i18n::label(
                    gridgov_spatial::i18n::Lang::Zh,
                    "status",
                    x.status.as_str(),
                ),
                "grid": grid,
                "at": app.now(),
            })
            .to_string();
            if queue.try_send(Update { number, body }).is_err() {
                self.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    case = id,
                    "the hotline callback queue is full: an update is dropped"
                );
            }
        }
    }

    /// The case filed for hotline case `number`, if any.
    fn case_of(&self, st: &AppState, number: &str) -> Option<i64> {
        let mut g = self
            .numbers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let map = g.get_or_insert_with(|| {
            let snap = st.current();
            snap.district
                .incidents
                .iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    x.reporter
                        .as_ref()
                        .and_then(|r| r.hotline_case.clone())
                        .map(|n| (n, i as i64 + 1))
                })
                .collect()
        });
        map.get(number).copied()
    }

    fn filed(&self, number: String, id: i64) {
        let mut g = self
            .numbers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(map) = g.as_mut() {
            map.insert(number, id);
        }
    }
}

/// The worker: posts each update to `url`, three tries each.
fn deliver(url: &str, rx: &std::sync::mpsc::Receiver<Update>, h: &std::sync::Weak<Hotline>) {
    let agent = agent(url);
    while let Ok(u) = rx.recv() {
        let mut ok = false;
        for wait in [0u64, 1, 2, 4] {
            if wait > 0 {
                std::thread::sleep(Duration::from_secs(wait));
            }
            let r = agent
                .post(url)
                .header("Content-Type", "application/json")
                .header("X-Gridgov-Event", "case.status")
                .send(u.body.as_str());
            match r {
                Ok(resp) if resp.status().is_success() => {
                    ok = true;
                    break;
                }
                Ok(resp) => {
                    tracing::warn!(number = %u.number, status = resp.status().as_u16(), "the hotline callback refused an update");
                }
                Err(e) => {
                    tracing::warn!(number = %u.number, error = %e, "the hotline callback is not reached");
                }
            }
        }
        let Some(h) = h.upgrade() else {
            return;
        };
        if ok {
            h.delivered.fetch_add(1, Ordering::Relaxed);
        } else {
            h.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!(number = %u.number, "an update of a hotline case was not delivered");
        }
    }
}

/// An HTTP client for the callback (system CAs for https).
fn agent(url: &str) -> ureq::Agent {
    let mut tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ));
    if url.starts_with("https://")
        && let Ok(pem) = std::fs::read("/etc/ssl/certs/ca-certificates.crt")
    {
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    ureq::Agent::config_builder()
        .tls_config(tls.build())
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Checks a callback URL given by the admin: http or https with a host.
///
/// ```
/// use gridgov_service::hotline::check_callback;
/// assert!(check_callback("https://12345.example.gov.cn/gridgov/status").is_ok());
/// assert!(check_callback("ftp://x").is_err());
/// ```
pub fn check_callback(url: &str) -> Result<(), String> {
    let u: axum::http::Uri = url
        .parse()
        .map_err(|e| format!("--hotline-callback {url:?}: {e}"))?;
    match (u.scheme_str(), u.host()) {
        (Some("http" | "https"), Some(h)) if !h.is_empty() => Ok(()),
        _ => Err(format!(
            "--hotline-callback {url:?}: an http:// or https:// URL with a host"
        )),
    }
}

/// Body of `POST /hotline/cases`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HotlineCase {
    /// The hotline's own case number (工单号), kept with the case.
    case_number: String,
    /// The category (as in `POST /incidents`).
    category: String,
    /// What the caller said.
    #[serde(default)]
    description: String,
    /// Longitude (with `lat`), in `crs`.
    lon: Option<f64>,
    /// Latitude.
    lat: Option<f64>,
    /// `wgs84` (default), `cgcs2000`, `gcj02` or `bd09`.
    crs: Option<String>,
    /// The address, when there are no coordinates (and kept as the
    /// caller's address).
    address: Option<String>,
    /// When the hotline took the call (RFC 3339); default now.
    reported_at: Option<String>,
    /// The caller's name.
    caller_name: Option<String>,
    /// The caller's phone number.
    caller_phone: Option<String>,
}

/// `POST /hotline/cases`: a case from the hotline platform.
#[utoipa::path(
    post,
    path = "/hotline/cases",
    tag = "cases",
    summary = "A case from the 12345 hotline platform, keeping its case number (the same number again is the same case)",
    request_body(content = HotlineCase, description = "the hotline's case", content_type = "application/json"),
    responses(
        (status = 201, description = "filed: `id`, `case_number`, `grid`, `status`", body = serde_json::Value, content_type = "application/json"),
        (status = 200, description = "that case number was filed before: the same case", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad field, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_case(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(input): JsonBody<HotlineCase>,
) -> Result<Response, ApiError> {
    let number = input.case_number.trim().to_owned();
    if number.is_empty()
        || number.chars().count() > MAX_NUMBER
        || number.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(
            "case_number",
            format!("case_number is 1 to {MAX_NUMBER} printable characters"),
        ));
    }
    let st2 = st.clone();
    tokio::task::spawn_blocking(move || -> Result<Response, ApiError> {
        // One filing per number at a time in this process.
        static FILING: Mutex<()> = Mutex::new(());
        let _g = FILING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(id) = st2.hotline.case_of(&st2, &number) {
            return Ok(
                (StatusCode::OK, axum::Json(answer(&st2, id, &number, true))).into_response(),
            );
        }
        let report = NewReport {
            place: Place {
                lon: input.lon,
                lat: input.lat,
                crs: input.crs,
                address: input.address.clone(),
            },
            category: input.category,
            source: Some("hotline_12345".into()),
            description: input.description,
            reported_at: input.reported_at,
            reporter: Reporter {
                name: input.caller_name,
                phone: input.caller_phone,
                address: input.address,
                ..Reporter::default()
            },
        };
        let who = caller.principal.user.clone();
        let (id, ..) =
            crate::cases::file_report(&st2, &report, Some(&who), None, Some(number.clone()))?;
        st2.hotline.filed(number.clone(), id);
        Ok((
            StatusCode::CREATED,
            axum::Json(answer(&st2, id, &number, false)),
        )
            .into_response())
    })
    .await?
}

fn answer(st: &AppState, id: i64, number: &str, again: bool) -> Value {
    let snap = st.current();
    let i = usize::try_from(id - 1).unwrap_or(usize::MAX);
    let status = snap.district.incidents.get(i).map(|x| x.status);
    let grid = snap
        .assignment
        .incidents
        .get(i)
        .and_then(|p| p.responsible())
        .map(|g| json!({"code": snap.district.area(g).code, "name": snap.district.area(g).name}));
    json!({"id": id, "case_number": number, "status": status, "grid": grid, "filed_before": again})
}

/// `GET /hotline/cases/{number}`: where a hotline case stands.
#[utoipa::path(
    get,
    path = "/hotline/cases/{number}",
    tag = "cases",
    summary = "Where a case from the hotline stands, by the hotline's case number",
    params(("number" = String, Path, description = "the hotline's case number")),
    responses(
        (status = 200, description = "`id`, `case_number`, `grid`, `status`", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no case has that number", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_case(
    State(st): State<Arc<AppState>>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let st2 = st.clone();
    let n = number.clone();
    let id = tokio::task::spawn_blocking(move || st2.hotline.case_of(&st2, &n))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no case has hotline number {number:?}")))?;
    let mut a = answer(&st, id, &number, true);
    if let Some(o) = a.as_object_mut() {
        o.remove("filed_before");
    }
    Ok(axum::Json(a).into_response())
}
