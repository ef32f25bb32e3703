//! The web map for grid staff and planners, served by gridgov itself: the
//! page, its script and the map libraries are compiled into the binary
//! (vendored from npm under `web/`), so the map runs inside a closed
//! network with no CDN and no internet basemap.
//!
//! `/` answers browsers (`Accept: text/html`, or `?f=html`) with the map
//! and everyone else with the OGC API landing page; `/map` is always the
//! map.

use std::sync::{Arc, OnceLock};

use axum::extract::State;

use crate::extract::{Path, Query, UiLang};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{ApiError, AppState};

/// One embedded file.
struct Asset {
    path: &'static str,
    body: &'static [u8],
    content_type: &'static str,
}

macro_rules! asset {
    ($path:literal, $ct:expr) => {
        Asset {
            path: $path,
            body: include_bytes!(concat!("../../web/", $path)),
            content_type: $ct,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.js", JS),
    asset!("i18n.js", JS),
    asset!("app.css", CSS),
    asset!("m.html", "text/html; charset=utf-8"),
    asset!("m.js", JS),
    asset!("m-store.js", JS),
    asset!("m-check.js", JS),
    asset!("m.css", CSS),
    asset!("r.html", "text/html; charset=utf-8"),
    asset!("r.js", JS),
    asset!("r.css", CSS),
    asset!("p.html", "text/html; charset=utf-8"),
    asset!("p.js", JS),
    asset!("p.css", CSS),
    asset!("sw.js", JS),
    asset!("manifest.webmanifest", "application/manifest+json"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("vendor/maplibre-gl.mjs", JS),
    asset!("vendor/maplibre-gl-worker.mjs", JS),
    asset!("vendor/maplibre-gl.css", CSS),
    asset!("vendor/terra-draw.module.js", JS),
    asset!("vendor/terra-draw-maplibre-gl-adapter.module.js", JS),
    asset!(
        "vendor/LICENSE.maplibre-gl.txt",
        "text/plain; charset=utf-8"
    ),
    asset!("vendor/pannellum.js", JS),
    asset!("vendor/pannellum.css", CSS),
    asset!("vendor/LICENSE.pannellum.txt", "text/plain; charset=utf-8"),
];

/// Content hashes of [`ASSETS`], in order, computed once.
fn etags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let h = a.body.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
                });
                format!("\"{h:016x}\"")
            })
            .collect()
    })
}

/// The web map's content security policy: its own scripts (and the one
/// inline import map, by its hash), styles, images and workers, no
/// plugins, no framing, and no calls but to this service.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'sha256-VrSZXtT8S4xijeBUoUclCSxl4t/YtcVTGCDR2T/9RMs='; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; worker-src 'self' blob:; child-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn serve(i: usize, headers: &HeaderMap) -> Response {
    let a = &ASSETS[i];
    let tag = &etags()[i];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = a.body.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(a.content_type),
        );
        r
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if a.content_type.starts_with("text/html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    r
}

/// An embedded file by its name (the handheld's pages, served under
/// `/m/`).
pub(crate) fn serve_named(path: &str, headers: &HeaderMap) -> Response {
    match ASSETS.iter().position(|a| a.path == path) {
        Some(i) => serve(i, headers),
        None => ApiError::internal(format!("{path} is not embedded")).into_response(),
    }
}

/// `GET /web/{*path}`: an embedded file of the web map. Names are looked
/// up in a fixed table, never turned into file-system paths.
#[utoipa::path(
    get,
    path = "/web/{*path}",
    tag = "web",
    summary = "A file of the web map (embedded in the binary)",
    params(
        ("path" = String, Path, description = "the file, e.g. app.js"),
    ),
    responses(
        (status = 200, description = "the file", body = crate::openapi::Binary, content_type = "application/octet-stream"),
        (status = 304, description = "not modified"),
        (status = 404, description = "no such file", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .position(|a| a.path == path)
        .map(|i| serve(i, &headers))
        .ok_or_else(|| ApiError::not_found(format!("no web asset {path:?}")))
}

/// `GET /map`: the web map.
#[utoipa::path(
    get,
    path = "/map",
    tag = "web",
    summary = "The web map",
    responses(
        (status = 200, description = "the page", body = String, content_type = "text/html"),
    )
)]
pub async fn page(headers: HeaderMap) -> Response {
    serve(0, &headers)
}

/// `GET /dashboard`: the command center's one screen (the web map with
/// its KPI tiles, live case list and charts).
#[utoipa::path(
    get,
    path = "/dashboard",
    tag = "web",
    summary = "The command center's dashboard",
    responses(
        (status = 200, description = "the page", body = String, content_type = "text/html"),
    )
)]
pub async fn dashboard(headers: HeaderMap) -> Response {
    serve(0, &headers)
}

/// `GET /i18n?lang=en`: the message catalogue the pages show, in the
/// language asked for (`?lang=`, else `Accept-Language`, else Chinese),
/// with the district's time zone. The same catalogue the service's own
/// messages come from, with the district's own role titles as
/// `staff.<code>`.
#[utoipa::path(
    get,
    path = "/i18n",
    tag = "web",
    summary = "The user interface's message catalogue",
    params(
        ("lang" = Option<String>, Query, description = "`zh-CN` (default) or `en`"),
    ),
    responses(
        (status = 200, description = "`lang`, `languages`, `time_zone` and `messages` (key → text)", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn catalogue(
    axum::extract::State(st): axum::extract::State<std::sync::Arc<crate::AppState>>,
    UiLang(lang): UiLang,
) -> Response {
    use gridgov_spatial::i18n::{LANGS, Lang};
    // With the default roles the answers are the same for the life of the
    // process: made once per language.
    static BODIES: OnceLock<Vec<(Lang, String)>> = OnceLock::new();
    let body_of = |l: Lang, roles: Option<&gridgov_spatial::Roles>| {
        let mut messages: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(l.catalogue_json()).unwrap_or_default();
        for r in roles.map_or(&[][..], |r| &r.0[..]) {
            messages.insert(format!("staff.{}", r.code), r.title(l).into());
        }
        serde_json::json!({
            "lang": l.code(),
            "languages": LANGS.iter().map(|o| serde_json::json!({
                "code": o.code(),
                "name": gridgov_spatial::i18n::t(*o, "lang.name"),
            })).collect::<Vec<_>>(),
            "time_zone": gridgov_spatial::time::DISTRICT_TIME_ZONE,
            "messages": messages,
        })
        .to_string()
    };
    let snap = st.current();
    let body = if snap.district.roles.is_default() {
        let bodies = BODIES.get_or_init(|| LANGS.iter().map(|&l| (l, body_of(l, None))).collect());
        bodies
            .iter()
            .find(|(l, _)| *l == lang)
            .map_or_else(|| "{}".to_owned(), |(_, b)| b.clone())
    } else {
        body_of(lang, Some(&snap.district.roles))
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-language"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The `f` parameter of the landing page.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Format {
    /// `html` for the web map, `json` for the landing page.
    f: Option<String>,
}

/// Whether a request for `/` wants the web page: `?f=html`, or a browser's
/// `Accept` that names `text/html` (and no `?f=json`).
fn wants_html(headers: &HeaderMap, f: Option<&str>) -> Result<bool, ApiError> {
    match f {
        Some("html") => return Ok(true),
        Some("json") => return Ok(false),
        Some(other) => {
            return Err(ApiError::bad_request(
                "f",
                format!("f must be `json` or `html`, not {other:?}"),
            ));
        }
        None => {}
    }
    Ok(headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.split(',')
                .any(|t| t.split(';').next().is_some_and(|m| m.trim() == "text/html"))
        }))
}

/// `GET /`: the map for browsers, the OGC API landing page for clients.
#[utoipa::path(
    get,
    path = "/",
    tag = "web",
    summary = "The landing page (OGC API – Features) for API clients; the web map for browsers",
    params(
        Format,
    ),
    responses(
        (status = 200, description = "links to the API, or the web map (text/html)", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn root(
    State(st): State<Arc<AppState>>,
    Query(q): Query<Format>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut r = if wants_html(&headers, q.f.as_deref())? {
        serve(0, &headers)
    } else {
        super::features::landing(&st, &headers).into_response()
    };
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handheld checks ID numbers with the service's rules: the same
    /// numbers, the same verdicts (the browser test runs `m-check.js`
    /// over this file).
    #[test]
    fn the_phones_id_number_cases_get_the_services_verdicts() {
        use gridgov_spatial::idcard::{IdNumberError, check_resident_id};
        let cases: Vec<(String, String)> =
            serde_json::from_str(include_str!("../../web/test/id-numbers.json")).unwrap();
        assert!(cases.len() > 20);
        for (number, want) in cases {
            let got = match check_resident_id(&number) {
                Ok(()) => "ok",
                Err(IdNumberError::Length(_)) => "length",
                Err(IdNumberError::Characters) => "chars",
                Err(IdNumberError::BirthDate(_)) => "birth",
                Err(IdNumberError::CheckCharacter { .. }) => "check",
            };
            assert_eq!(got, want, "{number}");
        }
    }

    #[test]
    fn every_embedded_asset_is_named_once_and_not_empty() {
        let mut seen = std::collections::HashSet::new();
        for a in ASSETS {
            assert!(seen.insert(a.path), "{} twice", a.path);
            assert!(!a.body.is_empty(), "{} is empty", a.path);
        }
    }

    /// The message keys a page's file names: `t("key"`, `label("kind", …)`
    /// aside (those are checked by kind), `data-i18n…="key"`.
    fn keys_named_in(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for open in [
            "t(\"",
            "data-i18n=\"",
            "data-i18n-placeholder=\"",
            "data-i18n-title=\"",
            "data-i18n-aria-label=\"",
        ] {
            let mut rest = text;
            while let Some(i) = rest.find(open) {
                // `t(` as a whole word only (not `alert(` or `split(`).
                let before = rest[..i].chars().next_back();
                rest = &rest[i + open.len()..];
                if open == "t(\""
                    && before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                {
                    continue;
                }
                if let Some(end) = rest.find('"') {
                    let k = &rest[..end];
                    if !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._".contains(c))
                    {
                        keys.push(k.to_string());
                    }
                }
            }
        }
        keys
    }

    #[test]
    fn every_message_key_the_pages_use_is_in_both_catalogues() {
        use gridgov_spatial::i18n::{LANGS, has};
        let mut used = Vec::new();
        for a in ASSETS.iter().filter(|a| !a.path.starts_with("vendor/")) {
            let text = std::str::from_utf8(a.body).unwrap();
            used.extend(keys_named_in(text).into_iter().map(|k| (a.path, k)));
        }
        // Keys built at run time from a prefix and a code.
        let js =
            std::str::from_utf8(ASSETS.iter().find(|a| a.path == "app.js").unwrap().body).unwrap();
        for id in [
            "plan",
            "grids",
            "roads",
            "buildings",
            "units",
            "merchants",
            "cameras",
            "incidents",
            "heatmap",
        ] {
            assert!(
                js.contains(&format!("id: \"{id}\"")),
                "layer {id} is no longer in app.js"
            );
            used.push(("app.js", format!("layer.{id}")));
        }
        for k in [
            "new_today",
            "open",
            "overdue",
            "closed_today",
            "satisfaction",
        ] {
            used.push(("app.js", format!("kpi.{k}")));
        }
        assert!(
            used.len() > 100,
            "only {} keys found: is the scan broken?",
            used.len()
        );
        let missing: Vec<_> = used
            .iter()
            .filter(|(_, k)| LANGS.iter().any(|l| !has(*l, k)))
            .collect();
        assert!(
            missing.is_empty(),
            "keys missing from a catalogue: {missing:?}"
        );
    }

    #[test]
    fn the_key_scan_finds_keys_and_skips_other_calls() {
        let text = r#"t("a.b"); split("x"); el("p", {"data-i18n": 1}); <b data-i18n="c.d"></b> t("x", {n})"#;
        assert_eq!(keys_named_in(text), ["a.b", "x", "c.d"]);
    }

    #[test]
    fn browsers_get_the_page_and_clients_get_json() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"),
        );
        assert_eq!(wants_html(&h, None), Ok(true));
        assert_eq!(wants_html(&h, Some("json")), Ok(false));
        let mut j = HeaderMap::new();
        j.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert_eq!(wants_html(&j, None), Ok(false));
        assert_eq!(wants_html(&HeaderMap::new(), None), Ok(false));
        assert_eq!(wants_html(&HeaderMap::new(), Some("html")), Ok(true));
        assert!(wants_html(&HeaderMap::new(), Some("xml")).is_err());
    }
}

#[cfg(test)]
mod csp_tests {
    use sha2::Digest;

    #[test]
    fn the_policy_allows_the_page_s_import_map_and_no_other_inline_script() {
        let page = std::str::from_utf8(super::ASSETS[0].body).unwrap();
        let open = "<script type=\"importmap\">";
        let start = page.find(open).unwrap() + open.len();
        let end = start + page[start..].find("</script>").unwrap();
        let hash = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            sha2::Sha256::digest(&page.as_bytes()[start..end]),
        );
        assert!(
            super::CSP.contains(&format!("'sha256-{hash}'")),
            "web/index.html's import map changed: its hash is now sha256-{hash}"
        );
        // Every other script is a file of the service's own.
        assert_eq!(page.matches("<script").count(), 2);
        assert!(page.contains("<script type=\"module\" src=\"/web/app.js\">"));
    }
}
