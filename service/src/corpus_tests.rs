//! The bad-input corpus: malformed JSON, invalid and enormous polygons,
//! NaN and infinite coordinates, swapped latitude and longitude, bodies
//! over the limit, deep nesting, bad tile addresses and parameters. Every
//! one is answered with a 4xx problem that says what is wrong: never a
//! 5xx, never a crash, and nothing is written.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::test_support::{Backend, fresh};
use super::{AppState, app};

on_both_backends!(
    every_bad_input_gets_a_clear_4xx_and_changes_nothing,
    each_address_is_held_to_its_rate_and_told_when_to_come_back,
    a_request_past_its_time_limit_is_abandoned_with_503,
    only_configured_origins_get_cors_and_every_answer_has_secure_headers,
);

/// One request with any body: (status, content type, body as text).
pub(super) async fn send(
    st: &Arc<AppState>,
    method: &str,
    uri: &str,
    ct: &str,
    body: Vec<u8>,
) -> (StatusCode, String, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if !ct.is_empty() {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let r = super::test_support::signed_app(st)
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    (status, ct, String::from_utf8_lossy(&bytes).into_owned())
}

/// A polygon ring of `n` vertices around (lon, lat) with radius `r` degrees.
fn ring(lon: f64, lat: f64, r: f64, n: usize) -> String {
    let mut s = String::from("[");
    for k in 0..=n {
        let a = std::f64::consts::TAU * (k % n) as f64 / n as f64;
        let _ = write!(
            s,
            "{}[{},{}]",
            if k == 0 { "" } else { "," },
            lon + r * a.cos(),
            lat + r * a.sin()
        );
    }
    s.push(']');
    s
}

fn draft(geometry: &str) -> Vec<u8> {
    format!(
        r#"{{"reason":"corpus","changes":[{{"code":"370402005001001","geometry":{geometry}}}]}}"#
    )
    .into_bytes()
}

fn corpus(st: &Arc<AppState>) -> Vec<(&'static str, String, &'static str, Vec<u8>)> {
    let snap = st.current();
    let g = snap.district.grids().next().unwrap();
    let c = geo::InteriorPoint::interior_point(&snap.district.area(g).boundary).unwrap();
    let (lon, lat) = (c.x(), c.y());
    let json = "application/json";
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!("{}1{}", r#"{"a":"#.repeat(50_000), "}".repeat(50_000));
    let big = vec![b' '; 11 * 1024 * 1024];
    let mut out: Vec<(&'static str, String, &'static str, Vec<u8>)> = Vec::new();
    let mut add = |m: &'static str, uri: &str, ct: &'static str, body: Vec<u8>| {
        out.push((m, uri.to_owned(), ct, body));
    };
    // Filing a case.
    for body in [
        "{".to_owned(),
        "[]".to_owned(),
        "null".to_owned(),
        "\u{0}\u{1}binary".to_owned(),
        r#"{"lon": "NaN", "lat": 34.86, "category": "road"}"#.to_owned(),
        r#"{"lon": 1e400, "lat": 34.86, "category": "road"}"#.to_owned(),
        format!(r#"{{"lon": {lat}, "lat": {lon}, "category": "road"}}"#),
        format!(r#"{{"lon": {lon}, "lat": {lat}, "category": ""}}"#),
        format!(
            r#"{{"lon": {lon}, "lat": {lat}, "category": "road", "reported_at": "yesterday"}}"#
        ),
        format!(r#"{{"lon": {lon}, "lat": {lat}, "category": "road", "crs": "epsg:9999"}}"#),
        format!(
            r#"{{"lon": {lon}, "lat": {lat}, "category": "{}"}}"#,
            "x".repeat(100_000)
        ),
        r#"{"address": "", "category": "road"}"#.to_owned(),
        deep.clone(),
        deep_obj.clone(),
    ] {
        add("POST", "/incidents", json, body.into_bytes());
    }
    add("POST", "/incidents", json, big.clone());
    add("POST", "/incidents", "text/plain", b"lon=1".to_vec());
    // Steps, moves and merges of cases that are not there or badly asked.
    for uri in [
        "/incidents/abc/steps",
        "/incidents/-1/steps",
        "/incidents/99999999999999999999/steps",
        "/incidents/999999/steps",
    ] {
        add(
            "POST",
            uri,
            json,
            br#"{"action":"accept","actor":"x"}"#.to_vec(),
        );
    }
    add(
        "POST",
        "/incidents/1/steps",
        json,
        br#"{"action":"fly","actor":"x"}"#.to_vec(),
    );
    add(
        "POST",
        "/incidents/1/steps",
        json,
        br#"{"action":"evaluate","actor":"x","satisfaction":9}"#.to_vec(),
    );
    add(
        "POST",
        "/incidents/1/move",
        json,
        br#"{"lon":"inf","lat":1}"#.to_vec(),
    );
    add(
        "POST",
        "/incidents/1/move",
        json,
        format!(r#"{{"lon":{lat},"lat":{lon}}}"#).into_bytes(),
    );
    add(
        "POST",
        "/incidents/1/merge",
        json,
        br#"{"into":1}"#.to_vec(),
    );
    add(
        "POST",
        "/incidents/1/merge",
        json,
        br#"{"into":"two"}"#.to_vec(),
    );
    // CSV imports.
    add("POST", "/incidents/import", "text/csv", b"".to_vec());
    add(
        "POST",
        "/incidents/import",
        "text/csv",
        b"lon,lat,category\nNaN,inf,road\n".to_vec(),
    );
    add(
        "POST",
        "/incidents/import",
        "text/csv",
        vec![0xff, 0xfe, 0x00, 0x41],
    );
    add(
        "POST",
        "/incidents/import",
        "text/csv",
        format!("lon,lat,category\n{lat},{lon},road\n").into_bytes(),
    );
    add("POST", "/incidents/import", "text/csv", big.clone());
    // Drafts: malformed, invalid and enormous polygons.
    add("POST", "/drafts", json, b"{\"author\":".to_vec());
    add("POST", "/drafts", json, deep.clone().into_bytes());
    add(
        "POST",
        "/drafts",
        json,
        draft(r#"{"type":"Polygon","coordinates":[[[0,0],[1,1]]]}"#),
    );
    add(
        "POST",
        "/drafts",
        json,
        draft(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[1,1],[0,0]]]}"#),
    );
    add(
        "POST",
        "/drafts",
        json,
        draft(r#"{"type":"Point","coordinates":[0,0]}"#),
    );
    add(
        "POST",
        "/drafts",
        json,
        draft(r#"{"type":"Polygon","coordinates":[[[0,0],[1e400,0],[0,1],[0,0]]]}"#),
    );
    add(
        "POST",
        "/drafts",
        json,
        draft(&format!(
            r#"{{"type":"Polygon","coordinates":[{}]}}"#,
            ring(lat, lon, 0.001, 8)
        )),
    );
    add(
        "POST",
        "/drafts",
        json,
        draft(&format!(
            r#"{{"type":"Polygon","coordinates":[{}]}}"#,
            ring(0.0, 0.0, 80.0, 64)
        )),
    );
    add(
        "POST",
        "/drafts",
        json,
        draft(&format!(
            r#"{{"type":"Polygon","coordinates":[{}]}}"#,
            ring(lon, lat, 0.002, 300_000)
        )),
    );
    add("POST", "/drafts", json, big.clone());
    // Point lookups and batches.
    for q in [
        "lon=NaN&lat=34.8",
        "lon=inf&lat=34.8",
        "lon=1e999&lat=1",
        "lon=117&lat=91",
        "lon=abc",
        "address=",
        "lon=117.5&lat=34.8&crs=utm50",
        "limit=-3&address=x",
    ] {
        add("GET", &format!("/lookup?{q}"), "", Vec::new());
    }
    add(
        "POST",
        "/lookup/batch",
        "application/geo+json",
        b"{\"type\":\"FeatureCollection\",\"features\":[{".to_vec(),
    );
    add("POST", "/lookup/batch", "application/geo+json", br#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1e400,0]},"properties":{}}]}"#.to_vec());
    add(
        "POST",
        "/lookup/batch",
        "application/xml",
        b"<points/>".to_vec(),
    );
    add("POST", "/lookup/batch", "application/geo+json", big.clone());
    // Tiles.
    for uri in [
        "/tiles/plan/99/0/0.png",
        "/tiles/plan/3/100/100.png",
        "/tiles/plan/a/b/c.png",
        "/tiles/plan/-1/0/0.png",
        "/tiles/plan/14/13000/6500.gif",
        "/tiles/nope/14/13000/6500.mvt",
        "/tiles/heatmap/14/13000/6500.png?bandwidth=NaN",
        "/tiles/heatmap/14/13000/6500.png?bandwidth=-5",
        "/tiles/heatmap/14/13000/6500.png?size=100000",
        "/tiles/heatmap/14/13000/6500.png?from=2026-13-45",
        "/tiles/grids/30/0/0.mvt",
        "/tiles/heatmap/legend.json?bandwidth=inf",
    ] {
        add("GET", uri, "", Vec::new());
    }
    // Features, versions, analytics.
    for uri in [
        "/collections/grids/items?bbox=1,2,3",
        "/collections/grids/items?bbox=nan,0,1,1",
        "/collections/grids/items?bbox=10,10,0,0",
        "/collections/grids/items?limit=-1",
        "/collections/grids/items?limit=99999999999999999999",
        "/collections/incidents/items?datetime=soon",
        "/collections/nothing/items",
        "/collections/grids/items/..%2F..%2Fetc%2Fpasswd",
        "/web/..%2F..%2FCargo.toml",
        "/web/../../Cargo.toml",
        "/grids/..%2F/history",
        "/hotspots?cell_m=NaN&method=lattice",
        "/hotspots?fdr=NaN",
        "/stats/incidents?period=2026-02-30",
        "/reports/%00.html",
        "/reports/2026-W46?top=abc",
        "/incidents?limit=abc",
        "/open311/v2/requests/abc.json",
        "/open311/v2/services/none.json",
    ] {
        add("GET", uri, "", Vec::new());
    }
    add("POST", "/versions/abc/rollback", json, b"{}".to_vec());
    add(
        "POST",
        "/versions/999999/rollback",
        json,
        br#"{"reason":"y"}"#.to_vec(),
    );
    add(
        "POST",
        "/open311/v2/requests.json",
        "application/x-www-form-urlencoded",
        b"service_code=road&lat=NaN&long=1".to_vec(),
    );
    add(
        "POST",
        "/open311/v2/requests.json",
        "application/x-www-form-urlencoded",
        b"service_code=road".to_vec(),
    );
    add("POST", "/open311/v2/requests.json", json, deep.into_bytes());
    out
}

async fn every_bad_input_gets_a_clear_4xx_and_changes_nothing(b: Backend) {
    let st = fresh("corpus", b);
    // The PostgreSQL client blocks: ask the store off the async threads.
    let count = |st: &Arc<AppState>| {
        let store = st.app.store.clone();
        std::thread::spawn(move || {
            (
                store.incidents().unwrap().len(),
                store.latest_version().unwrap(),
            )
        })
        .join()
        .unwrap()
    };
    let before = count(&st);
    let mut wrong = Vec::new();
    for (m, uri, ct, body) in corpus(&st) {
        let (s, rct, text) = send(&st, m, &uri, ct, body).await;
        // Open311 answers errors in its own shape: a list of code and
        // description.
        let said = |v: serde_json::Value| {
            if uri.starts_with("/open311/") {
                v[0]["description"].as_str().is_some_and(|d| !d.is_empty())
            } else {
                v["detail"].as_str().is_some_and(|d| !d.is_empty())
            }
        };
        let ok = s.is_client_error()
            && rct.starts_with(if uri.starts_with("/open311/") {
                "application/json"
            } else {
                "application/problem+json"
            })
            && serde_json::from_str::<serde_json::Value>(&text).is_ok_and(said);
        if !ok {
            wrong.push(format!(
                "{m} {} → {s} {rct}: {}",
                uri.chars().take(90).collect::<String>(),
                text.chars().take(200).collect::<String>()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} answers were not a clear 4xx:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(count(&st), before, "nothing filed, nothing published");
}

/// The router's answer to one request.
async fn answer(st: &Arc<AppState>, req: Request<Body>) -> axum::response::Response {
    app(st.clone()).oneshot(req).await.unwrap()
}

/// A request with the client address the server would see.
fn from(ip: &str, method: &str, uri: &str) -> Request<Body> {
    let mut r = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ORIGIN, "https://wall.example.org")
        .body(Body::empty())
        .unwrap();
    let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
    r.extensions_mut().insert(axum::extract::ConnectInfo(addr));
    r
}

async fn each_address_is_held_to_its_rate_and_told_when_to_come_back(b: Backend) {
    let st = super::test_support::guarded(
        "rate",
        super::harden::Guard {
            rate_per_s: 1.0,
            burst: 3.0,
            ..Default::default()
        },
        b,
    );
    for _ in 0..3 {
        let r = answer(&st, from("10.1.1.1", "GET", "/health")).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = answer(&st, from("10.1.1.1", "GET", "/health")).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    // Another address is not held back.
    let r = answer(&st, from("10.1.1.2", "GET", "/health")).await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn a_request_past_its_time_limit_is_abandoned_with_503(b: Backend) {
    let st = super::test_support::guarded(
        "timeout",
        super::harden::Guard {
            timeout: std::time::Duration::from_millis(100),
            ..Default::default()
        },
        b,
    );
    // A hot-spot question of many seconds, against a tenth of a second.
    let (s, ct, text) = send(
        &st,
        "GET",
        "/hotspots?period=2026-11&method=lattice&cell_m=150&permutations=99999&weeks=8",
        "",
        Vec::new(),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(ct.starts_with("application/problem+json"));
    assert!(text.contains("\"code\":\"request.timeout\""), "{text}");
    assert!(
        text.contains("请求超过"),
        "told in Chinese by default: {text}"
    );
}

async fn only_configured_origins_get_cors_and_every_answer_has_secure_headers(b: Backend) {
    let st = super::test_support::guarded(
        "cors",
        super::harden::Guard {
            cors_origins: vec!["https://wall.example.org".into()],
            ..Default::default()
        },
        b,
    );
    let pre = Request::builder()
        .method("OPTIONS")
        .uri("/incidents")
        .header(header::ORIGIN, "https://wall.example.org")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .body(Body::empty())
        .unwrap();
    let r = answer(&st, pre).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://wall.example.org"
    );
    assert!(
        r.headers()[header::ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let r = answer(&st, from("10.2.2.2", "GET", "/health")).await;
    assert_eq!(
        r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://wall.example.org"
    );
    let other = Request::get("/health")
        .header(header::ORIGIN, "https://evil.example.com")
        .body(Body::empty())
        .unwrap();
    let r = answer(&st, other).await;
    assert!(
        !r.headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
    for h in [
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
    ] {
        assert!(r.headers().contains_key(h), "{h}");
    }
    // Errors too.
    let (s, ct, _) = send(&st, "GET", "/no/such/thing", "", Vec::new()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(ct.starts_with("application/problem+json"));
    // Without configured origins no origin gets CORS headers.
    let closed = super::test_support::guarded("nocors", super::harden::Guard::default(), b);
    let r = answer(&closed, from("10.3.3.3", "GET", "/health")).await;
    assert!(
        !r.headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
}
