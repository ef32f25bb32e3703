//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>), so that
//! existing 311 clients can file and track cases: `services.json`,
//! `services/{code}.json`, `requests.json` (POST, form-encoded or JSON;
//! GET with the standard filters) and `requests/{id}.json`, each also in
//! XML (`.xml`), each taking an optional `jurisdiction_id` (a street's
//! code). Every field a client gives is kept with the case (name, phone,
//! email, address string and id, device and account ids, media URL) and
//! shown back only to those who may read the case; `expected_datetime` is
//! the case's deadline. Our detailed state (status, level, grid, history
//! length, the reporter) rides in `extended_attributes.gridgov`. Errors
//! are the spec's `[{"code": …, "description": …}]`
//! (`<errors><error>…` in XML).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::extract::{Path, Query, UiLang};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_spatial::i18n::{self, Lang};
use gridgov_spatial::{Incident, IncidentStatus, Reporter};
use serde::Deserialize;
use serde_json::{Value, json};

use super::cases::file_report;
use super::{ApiError, AppState};
use gridgov_app::cases::{Book, NewReport, Place};

/// The answer's format, from the end of the path: `.json` (the default)
/// or `.xml`, as GeoReport v2 asks of every endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`.
    Json,
    /// `.xml`.
    Xml,
}

impl Format {
    /// The format a path segment ends with and the segment without it
    /// (`12.xml` → `(Xml, "12")`; no suffix is JSON).
    fn split(segment: &str) -> (Format, &str) {
        if let Some(s) = segment.strip_suffix(".xml") {
            (Format::Xml, s)
        } else {
            (
                Format::Json,
                segment.strip_suffix(".json").unwrap_or(segment),
            )
        }
    }
}

/// `v` as GeoReport v2 XML: `<root>` holding one `<item>` per member of a
/// list (or the fields of an object), fields as elements, null as an
/// empty element, nested objects nested.
fn xml(root: &str, item: &str, v: &Value) -> Vec<u8> {
    use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
    fn put(w: &mut quick_xml::Writer<Vec<u8>>, name: &str, v: &Value) {
        let ok = "writing XML to memory";
        match v {
            Value::Null => w
                .write_event(Event::Empty(BytesStart::new(name)))
                .expect(ok),
            Value::Object(m) => {
                w.write_event(Event::Start(BytesStart::new(name)))
                    .expect(ok);
                for (k, x) in m {
                    put(w, k, x);
                }
                w.write_event(Event::End(BytesEnd::new(name))).expect(ok);
            }
            Value::Array(a) if a.is_empty() => {
                w.write_event(Event::Empty(BytesStart::new(name)))
                    .expect(ok);
            }
            Value::Array(a) => {
                w.write_event(Event::Start(BytesStart::new(name)))
                    .expect(ok);
                for x in a {
                    put(w, "value", x);
                }
                w.write_event(Event::End(BytesEnd::new(name))).expect(ok);
            }
            Value::String(t) => text(w, name, t),
            other => text(w, name, &other.to_string()),
        }
    }
    fn text(w: &mut quick_xml::Writer<Vec<u8>>, name: &str, t: &str) {
        let ok = "writing XML to memory";
        w.write_event(Event::Start(BytesStart::new(name)))
            .expect(ok);
        w.write_event(Event::Text(BytesText::new(t))).expect(ok);
        w.write_event(Event::End(BytesEnd::new(name))).expect(ok);
    }
    let mut w = quick_xml::Writer::new(Vec::new());
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
        .expect("writing XML to memory");
    match v {
        Value::Array(a) => {
            w.write_event(Event::Start(BytesStart::new(root)))
                .expect("writing XML to memory");
            for x in a {
                put(&mut w, item, x);
            }
            w.write_event(Event::End(BytesEnd::new(root)))
                .expect("writing XML to memory");
        }
        other => put(&mut w, root, other),
    }
    w.into_inner()
}

/// An answer in `format`: JSON as is, XML under `root` with an `item`
/// per member.
fn answer(format: Format, status: StatusCode, root: &str, item: &str, v: Value) -> Response {
    match format {
        Format::Json => (status, Json(v)).into_response(),
        Format::Xml => (
            status,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            xml(root, item, &v),
        )
            .into_response(),
    }
}

fn error(format: Format, status: StatusCode, description: impl Into<String>) -> Response {
    answer(
        format,
        status,
        "errors",
        "error",
        json!([{ "code": status.as_u16(), "description": description.into() }]),
    )
}

/// An error in Open311's own shape (a list of codes and descriptions);
/// the cause of an internal one goes to the log as for any other answer.
fn failure(format: Format, e: ApiError) -> Response {
    let mut r = error(format, e.status, e.detail);
    if let Some(c) = e.cause {
        r.extensions_mut()
            .insert(super::error::InternalCause(c.into()));
    }
    r
}

/// The jurisdictions this endpoint serves: the district's streets (their
/// codes are the `jurisdiction_id`s).
fn jurisdictions(st: &AppState) -> Vec<String> {
    let snap = st.current();
    snap.district
        .areas
        .iter()
        .filter(|a| a.level == gridgov_spatial::Level::Street)
        .map(|a| a.code.clone())
        .collect()
}

/// The street a given `jurisdiction_id` names (`None` when none is
/// given: every street); an unknown one is answered 404 naming those
/// served.
fn jurisdiction(st: &AppState, given: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(j) = given.map(str::trim).filter(|j| !j.is_empty()) else {
        return Ok(None);
    };
    let served = jurisdictions(st);
    if served.iter().any(|c| c == j) {
        Ok(Some(j.to_string()))
    } else {
        Err(ApiError::not_found(format!(
            "jurisdiction_id {j:?} is not served here; this endpoint serves {}",
            served.join(", ")
        )))
    }
}

/// Where a case is routed in `snap`.
fn case_route(snap: &super::Snapshot, x: &Incident) -> gridgov_app::cases::Route {
    gridgov_app::cases::route(
        &snap.district,
        &snap.grids,
        [x.location.x(), x.location.y()],
    )
}

/// Whether a case routed to `grid` lies in the street `street`.
fn in_jurisdiction(
    d: &gridgov_spatial::District,
    grid: Option<&gridgov_spatial::AreaSummary>,
    street: &str,
) -> bool {
    grid.is_some_and(|g| d.chain(g.id).iter().any(|a| d.area(*a).code == street))
}

/// `?jurisdiction_id=` of the endpoints that take nothing else.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JurisdictionQuery {
    /// A street's code; optional (every street when absent).
    jurisdiction_id: Option<String>,
}

/// The services: one per incident category the district knows.
fn services(st: &AppState) -> Vec<String> {
    let snap = st.current();
    let mut v: Vec<String> = snap
        .district
        .incidents
        .iter()
        .map(|x| x.category.clone())
        .chain(
            st.app
                .rules
                .deadlines
                .categories
                .iter()
                .map(|(c, _)| c.clone()),
        )
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A category's name in `lang` (Open311's `service_name`; the code stays
/// the `service_code`).
fn service_name(lang: Lang, code: &str) -> String {
    i18n::category(lang, code).into_owned()
}

/// The services in `format`.
fn service_list_in(st: &AppState, lang: Lang, format: Format, j: Option<&str>) -> Response {
    if let Err(e) = jurisdiction(st, j) {
        return failure(format, e);
    }
    let list: Vec<Value> = services(st)
        .into_iter()
        .map(|c| {
            json!({
                "service_code": c,
                "service_name": service_name(lang, &c),
                "description": i18n::tf(lang, "open311.description", &[("category", &service_name(lang, &c))]),
                "metadata": false,
                "type": "realtime",
                "keywords": c,
                "group": "grid governance",
            })
        })
        .collect();
    answer(
        format,
        StatusCode::OK,
        "services",
        "service",
        Value::Array(list),
    )
}

/// `GET /open311/v2/services.json`.
#[utoipa::path(
    get,
    path = "/open311/v2/services.json",
    tag = "open311",
    summary = "Open311: the services (incident categories)",
    params(JurisdictionQuery),
    responses(
        (status = 200, description = "the services", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "an unknown jurisdiction_id", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn service_list(
    State(st): State<Arc<AppState>>,
    UiLang(lang): UiLang,
    Query(q): Query<JurisdictionQuery>,
) -> Response {
    service_list_in(&st, lang, Format::Json, q.jurisdiction_id.as_deref())
}

/// `GET /open311/v2/services.xml`.
#[utoipa::path(
    get,
    path = "/open311/v2/services.xml",
    tag = "open311",
    summary = "Open311: the services, in XML",
    params(JurisdictionQuery),
    responses(
        (status = 200, description = "the services", body = String, content_type = "text/xml"),
        (status = 404, description = "an unknown jurisdiction_id", body = String, content_type = "text/xml"),
    )
)]
pub async fn service_list_xml(
    State(st): State<Arc<AppState>>,
    UiLang(lang): UiLang,
    Query(q): Query<JurisdictionQuery>,
) -> Response {
    service_list_in(&st, lang, Format::Xml, q.jurisdiction_id.as_deref())
}

/// `GET /open311/v2/services/{code}.json` (or `.xml`): no extra
/// attributes.
#[utoipa::path(
    get,
    path = "/open311/v2/services/{code}",
    tag = "open311",
    summary = "Open311: one service",
    params(
        ("code" = String, Path, description = "the service code with .json or .xml"),
        JurisdictionQuery,
    ),
    responses(
        (status = 200, description = "the service", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such service", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn service_definition(
    State(st): State<Arc<AppState>>,
    Path(code): Path<String>,
    Query(q): Query<JurisdictionQuery>,
) -> Response {
    let (format, code) = Format::split(&code);
    if let Err(e) = jurisdiction(&st, q.jurisdiction_id.as_deref()) {
        return failure(format, e);
    }
    if !services(&st).iter().any(|c| c == code) {
        return error(
            format,
            StatusCode::NOT_FOUND,
            format!("no service {code:?}"),
        );
    }
    answer(
        format,
        StatusCode::OK,
        "service_definition",
        "service_definition",
        json!({ "service_code": code, "attributes": [] }),
    )
}

/// A value a client may send as a string or a number (JSON clients send
/// `"lat": 34.86`, form clients `lat=34.86`; phone numbers come both ways).
fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrOrNum {
        Str(String),
        Num(serde_json::Number),
        Bool(bool),
    }
    Ok(Option::<StrOrNum>::deserialize(d)?.map(|v| match v {
        StrOrNum::Str(s) => s,
        StrOrNum::Num(n) => n.to_string(),
        StrOrNum::Bool(b) => b.to_string(),
    }))
}

/// A POSTed request: every field of the spec, kept (the `api_key` and
/// `attribute[…]` of clients that send them are read and not needed).
#[derive(Debug, Default, Deserialize)]
struct RequestIn {
    #[serde(default, deserialize_with = "lenient")]
    jurisdiction_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    service_code: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    lat: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    long: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    address_string: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    address_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    device_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    last_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    phone: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    media_url: Option<String>,
}

impl RequestIn {
    /// What the resident gave about themselves. The name is the first and
    /// last name with a space between, except a Chinese one, which is
    /// written family name first and without a space (`first_name=三`,
    /// `last_name=张` → `张三`).
    fn reporter(&self) -> Reporter {
        let part = |n: &Option<String>| {
            n.as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from)
        };
        let han = |s: &str| {
            s.chars()
                .all(|c| ('\u{3400}'..='\u{9fff}').contains(&c) || c == '·')
        };
        let name = match (part(&self.first_name), part(&self.last_name)) {
            (Some(f), Some(l)) if han(&f) && han(&l) => format!("{l}{f}"),
            (Some(f), Some(l)) => format!("{f} {l}"),
            (Some(n), None) | (None, Some(n)) => n,
            (None, None) => String::new(),
        };
        Reporter {
            name: (!name.is_empty()).then_some(name),
            phone: self.phone.clone(),
            email: self.email.clone(),
            address: self.address_string.clone(),
            address_id: self.address_id.clone(),
            device_id: self.device_id.clone(),
            account_id: self.account_id.clone(),
            media_url: self.media_url.clone(),
            tracking: None,
            hotline_case: None,
        }
    }
}

fn num(s: Option<&str>, what: &str) -> Result<Option<f64>, ApiError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<f64>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(what, format!("{what} {v:?} is not a number"))),
    }
}

/// `POST /open311/v2/requests.json`.
#[utoipa::path(
    post,
    path = "/open311/v2/requests.json",
    tag = "open311",
    summary = "Open311: file a service request",
    params(JurisdictionQuery),
    request_body(content = String, description = "the spec's fields: service_code, lat/long or address_string, description, first_name, last_name, phone, email, address_id, device_id, account_id, media_url, jurisdiction_id (form or JSON)", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "the new request", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad request", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "an unknown jurisdiction_id", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn post_request(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    Query(q): Query<JurisdictionQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    post_request_in(st, caller, Format::Json, q, headers, body).await
}

/// `POST /open311/v2/requests.xml`.
#[utoipa::path(
    post,
    path = "/open311/v2/requests.xml",
    tag = "open311",
    summary = "Open311: file a service request, answered in XML",
    params(JurisdictionQuery),
    request_body(content = String, description = "as for requests.json", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "the new request", body = String, content_type = "text/xml"),
        (status = 400, description = "a bad request", body = String, content_type = "text/xml"),
    )
)]
pub async fn post_request_xml(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    Query(q): Query<JurisdictionQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    post_request_in(st, caller, Format::Xml, q, headers, body).await
}

async fn post_request_in(
    st: Arc<AppState>,
    caller: super::auth::Caller,
    format: Format,
    q: JurisdictionQuery,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.split(';').next().unwrap_or("").trim();
            v == "application/json" || v.ends_with("+json")
        });
    let input: Result<RequestIn, String> = if json_body {
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    } else {
        serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string())
    };
    let mut input = match input {
        Ok(i) => i,
        Err(e) => {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                format!("cannot read the request: {e}"),
            );
        }
    };
    if input.jurisdiction_id.is_none() {
        input.jurisdiction_id = q.jurisdiction_id;
    }
    let street = match jurisdiction(&st, input.jurisdiction_id.as_deref()) {
        Ok(s) => s,
        Err(e) => return failure(format, e),
    };
    if !caller.signed_in()
        && let Some(wait) = caller
            .client
            .and_then(|ip| st.limiter.check_filing_from(ip).err())
    {
        let mut r = error(
            format,
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "this address has filed {} reports without signing in; the next may be filed in {:.0} s (or sign in)",
                super::harden::ANONYMOUS_FILING_BURST,
                wait.as_secs_f64().ceil()
            ),
        );
        if let Ok(v) =
            axum::http::HeaderValue::from_str(&format!("{}", wait.as_secs_f64().ceil().max(1.0)))
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let who = if caller.signed_in() {
        caller.principal.user.clone()
    } else {
        caller.client.map_or_else(String::new, |c| c.to_string())
    };
    let st3 = st.clone();
    super::idempotency::once(&st3, &who, &headers, "open311", async move {
    // The resident's tracking token: given once, in this answer; only its
    // digest is kept with the case.
    let (token, digest) = match gridgov_app::resident::new_tracking() {
        Ok(t) => t,
        Err(e) => return failure(format, ApiError::internal(e)),
    };
    let r = async {
        let Some(code) = input.service_code.clone().filter(|c| !c.trim().is_empty()) else {
            return Err(ApiError::bad_request(
                "service_code",
                "service_code is required",
            ));
        };
        if !services(&st).contains(&code) {
            return Err(ApiError::bad_request(
                "service_code",
                format!("no service {code:?}"),
            ));
        }
        let report = NewReport {
            place: Place {
                lon: num(input.long.as_deref(), "long")?,
                lat: num(input.lat.as_deref(), "lat")?,
                crs: None,
                address: input.address_string.clone(),
            },
            category: code,
            source: Some("web".into()),
            description: input.description.clone().unwrap_or_default(),
            reported_at: None,
            reporter: input.reporter(),
        };
        if let Some(street) = &street {
            // A case outside the jurisdiction named is refused before it
            // is filed, not filed and then hidden from that jurisdiction.
            let snap = st.current();
            let (x, _) = gridgov_app::cases::incident_of(&snap, &report, st.app.now())?;
            let route = case_route(&snap, &x);
            if !in_jurisdiction(&snap.district, route.grid.as_ref(), street) {
                return Err(ApiError::bad_request(
                    "jurisdiction_id",
                    format!("the place is outside jurisdiction {street}"),
                ));
            }
        }
        let st2 = st.clone();
        tokio::task::spawn_blocking(move || {
            let who = caller.signed_in().then_some(caller.principal.user.as_str());
            file_report(&st2, &report, who, Some(digest), None)
        })
        .await?
    }
    .await;
    match r {
        Ok((id, view, _, _)) => {
            let notice = view
                .route
                .grid
                .map_or_else(String::new, |g| format!("sent to {} ({})", g.name, g.code));
            answer(
                format,
                StatusCode::CREATED,
                "service_requests",
                "request",
                json!([{ "service_request_id": id.to_string(), "service_notice": notice, "account_id": view.incident.reporter.as_ref().and_then(|r| r.account_id.clone()), "tracking_token": token }]),
            )
        }
        Err(f) => failure(format, f),
    }
    })
    .await
}

fn open311_status(s: IncidentStatus) -> &'static str {
    if s.is_open() { "open" } else { "closed" }
}

/// A coordinate to three decimals (about 110 m of latitude, 90 m of
/// longitude here): enough to see the street, not the door.
fn coarse(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// A request as Open311 shows it. What the resident said and gave about
/// themselves and the notes of the steps may hold personal data (a
/// hotline caller's name and number): they are shown only to those who
/// may read the case; the public sees where, what kind, how far along
/// and when it is expected to be done.
#[allow(clippy::too_many_arguments)]
fn request_json(
    st: &AppState,
    p: &gridgov_spatial::access::Principal,
    id: i64,
    x: &Incident,
    route: &gridgov_app::cases::Route,
    h: &[gridgov_spatial::workflow::Event],
    s: &gridgov_spatial::workflow::CaseState,
    lang: Lang,
) -> Value {
    let full = gridgov_spatial::access::allows(
        p,
        &gridgov_spatial::access::Thing::Incident {
            grid: route.grid.as_ref().map(|g| g.code.as_str()),
            assignee: s.assignee.as_ref(),
            filed_by: x.filed_by.as_deref(),
        },
        gridgov_spatial::access::Access::Read,
    );
    let updated = h.last().map_or(x.reported_at, |e| e.at);
    let notes = h.last().map_or(String::new(), |e| {
        if !full {
            return e.action.name().to_string();
        }
        if e.note.is_empty() {
            e.action.name().to_string()
        } else {
            format!("{}: {}", e.action.name(), e.note)
        }
    });
    let reporter = if full { x.reporter.as_deref() } else { None };
    let mut gridgov = json!({
        "status": s.status,
        "level": s.level,
        "grid": route.grid.as_ref().map(|g| g.code.clone()),
        "steps": s.seq,
        "merged_into": s.merged_into,
    });
    if let Some(r) = reporter {
        gridgov["reporter"] = json!(r);
    }
    json!({
        "service_request_id": id.to_string(),
        "status": open311_status(s.status),
        "status_notes": notes,
        "service_name": service_name(lang, &x.category),
        "service_code": x.category,
        "description": if full { x.description.as_str() } else { "" },
        "agency_responsible": route.grid.as_ref().map(|g| g.name.clone()),
        "service_notice": "",
        "requested_datetime": x.reported_at,
        "updated_datetime": updated,
        // The deadline of the level it stands at, while it has one.
        "expected_datetime": st.app.rules.deadlines.deadline(&x.category, s),
        "address": reporter.and_then(|r| r.address.clone()).unwrap_or_default(),
        "address_id": reporter.and_then(|r| r.address_id.clone()),
        "zipcode": null,
        // Exactly where, to those who may read the case; to a hundred
        // metres or so (three decimals) to everyone else.
        "lat": if full { x.location.y() } else { coarse(x.location.y()) },
        "long": if full { x.location.x() } else { coarse(x.location.x()) },
        "media_url": reporter.and_then(|r| r.media_url.clone()),
        "extended_attributes": { "gridgov": gridgov }
    })
}

/// Filters of `GET /open311/v2/requests.json`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// A street's code; optional (every street when absent).
    jurisdiction_id: Option<String>,
    /// Comma-separated ids.
    service_request_id: Option<String>,
    /// Only this service (category).
    service_code: Option<String>,
    /// Requested from (W3C date-time).
    start_date: Option<String>,
    /// Requested until (W3C date-time).
    end_date: Option<String>,
    /// `open` or `closed`.
    status: Option<String>,
}

/// `GET /open311/v2/requests.json`: by ids, or the latest 1,000 matching
/// the filters (default: the last 90 days).
#[utoipa::path(
    get,
    path = "/open311/v2/requests.json",
    tag = "open311",
    summary = "Open311: service requests",
    params(
        RequestsQuery,
    ),
    responses(
        (status = 200, description = "the requests", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "bad filters", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn get_requests(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    UiLang(lang): UiLang,
    q: Result<Query<RequestsQuery>, ApiError>,
) -> Response {
    get_requests_in(st, caller, lang, Format::Json, q).await
}

/// `GET /open311/v2/requests.xml`.
#[utoipa::path(
    get,
    path = "/open311/v2/requests.xml",
    tag = "open311",
    summary = "Open311: service requests, in XML",
    params(
        RequestsQuery,
    ),
    responses(
        (status = 200, description = "the requests", body = String, content_type = "text/xml"),
        (status = 400, description = "bad filters", body = String, content_type = "text/xml"),
    )
)]
pub async fn get_requests_xml(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    UiLang(lang): UiLang,
    q: Result<Query<RequestsQuery>, ApiError>,
) -> Response {
    get_requests_in(st, caller, lang, Format::Xml, q).await
}

async fn get_requests_in(
    st: Arc<AppState>,
    caller: super::auth::Caller,
    lang: Lang,
    format: Format,
    q: Result<Query<RequestsQuery>, ApiError>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return failure(format, e),
    };
    let street = match jurisdiction(&st, q.jurisdiction_id.as_deref()) {
        Ok(s) => s,
        Err(e) => return failure(format, e),
    };
    let ids: Option<Vec<i64>> = match &q.service_request_id {
        None => None,
        Some(s) => match s.split(',').map(|p| p.trim().parse::<i64>()).collect() {
            Ok(v) => Some(v),
            Err(_) => {
                return error(
                    format,
                    StatusCode::BAD_REQUEST,
                    format!("bad service_request_id {s:?}"),
                );
            }
        },
    };
    let when = |s: &Option<String>, what: &str| -> Result<Option<i64>, String> {
        match s {
            None => Ok(None),
            Some(t) => gridgov_spatial::time::parse_instant(t)
                .map(|t| Some(t.as_second()))
                .map_err(|_| format!("{what} {t:?} is not a W3C date-time")),
        }
    };
    let (start, end) = match (
        when(&q.start_date, "start_date"),
        when(&q.end_date, "end_date"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(m), _) | (_, Err(m)) => return error(format, StatusCode::BAD_REQUEST, m),
    };
    if let Some(s) = q.status.as_deref()
        && s != "open"
        && s != "closed"
    {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            format!("status is open or closed, not {s:?}"),
        );
    }
    let st2 = st.clone();
    let r = tokio::task::spawn_blocking(move || -> Result<Vec<Value>, ApiError> {
        let book = Book::read(st2.app.store.as_ref())?;
        let snap = st2.current();
        let start = start.or_else(|| {
            ids.is_none()
                .then(|| st2.app.now().as_second() - 90 * 86_400)
        });
        let mut out = Vec::new();
        for c in book.cases.iter().rev() {
            let (id, x, h, s) = (&c.id, &c.incident, &c.history, &c.state);
            if let Some(ids) = &ids {
                if !ids.contains(id) {
                    continue;
                }
            } else {
                let t = x.reported_at.as_second();
                if start.is_some_and(|a| t < a) || end.is_some_and(|b| t > b) {
                    continue;
                }
                if q.service_code.as_deref().is_some_and(|c| c != x.category)
                    || q.status
                        .as_deref()
                        .is_some_and(|f| f != open311_status(s.status))
                {
                    continue;
                }
            }
            let route = case_route(&snap, x);
            if street
                .as_ref()
                .is_some_and(|j| !in_jurisdiction(&snap.district, route.grid.as_ref(), j))
            {
                continue;
            }
            out.push(request_json(
                &st2,
                &caller.principal,
                *id,
                x,
                &route,
                h,
                s,
                lang,
            ));
            if out.len() >= 1000 {
                break;
            }
        }
        Ok(out)
    })
    .await;
    match r {
        Ok(Ok(v)) => answer(
            format,
            StatusCode::OK,
            "service_requests",
            "request",
            Value::Array(v),
        ),
        Ok(Err(f)) => failure(format, f),
        Err(e) => failure(format, ApiError::internal(e)),
    }
}

/// `GET /open311/v2/requests/{id}.json` (or `.xml`).
#[utoipa::path(
    get,
    path = "/open311/v2/requests/{id}",
    tag = "open311",
    summary = "Open311: one service request",
    params(
        ("id" = String, Path, description = "the request id with .json or .xml"),
        JurisdictionQuery,
    ),
    responses(
        (status = 200, description = "the request", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such request", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn get_request(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    UiLang(lang): UiLang,
    Path(id): Path<String>,
    Query(q): Query<JurisdictionQuery>,
) -> Response {
    let (format, raw) = Format::split(&id);
    let Ok(id) = raw.parse::<i64>() else {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            format!("{raw:?} is not a service request id"),
        );
    };
    let street = match jurisdiction(&st, q.jurisdiction_id.as_deref()) {
        Ok(s) => s,
        Err(e) => return failure(format, e),
    };
    let st2 = st.clone();
    let r = tokio::task::spawn_blocking(move || -> Result<Value, ApiError> {
        let missing = || ApiError::not_found(format!("no service request {id}"));
        let c = gridgov_app::cases::case(st2.app.store.as_ref(), id).map_err(|e| match e {
            gridgov_app::CaseError::NotFound(_) => missing(),
            e => e.into(),
        })?;
        let snap = st2.current();
        let route = case_route(&snap, &c.incident);
        if street
            .as_ref()
            .is_some_and(|j| !in_jurisdiction(&snap.district, route.grid.as_ref(), j))
        {
            return Err(missing());
        }
        Ok(json!([request_json(
            &st2,
            &caller.principal,
            id,
            &c.incident,
            &route,
            &c.history,
            &c.state,
            lang
        )]))
    })
    .await;
    match r {
        Ok(Ok(v)) => answer(format, StatusCode::OK, "service_requests", "request", v),
        Ok(Err(f)) => failure(format, f),
        Err(e) => failure(format, ApiError::internal(e)),
    }
}
