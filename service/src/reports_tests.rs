//! Analytics over HTTP, on both stores: counts with rates, hot spots as
//! JSON and GeoJSON, and the weekly report as JSON and HTML, following
//! cases filed and worked through the loop.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::AppState;
use super::test_support::{
    Backend, call, fresh, pdf_font, signed_app, state_with, store, test_config,
};

on_both_backends!(
    counts_hot_spots_and_reports_follow_cases_filed_and_closed,
    bad_analytics_requests_get_clear_4xx,
    a_report_is_an_a4_pdf_where_the_service_has_a_chinese_font_and_a_clear_503_where_not,
);

async fn raw(st: &Arc<AppState>, uri: &str) -> (StatusCode, String, String) {
    super::corpus_tests::send(st, "GET", uri, "", Vec::new()).await
}

fn area<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .unwrap_or_else(|| panic!("no area {code}"))
}

async fn counts_hot_spots_and_reports_follow_cases_filed_and_closed(b: Backend) {
    let st = fresh("analytics", b);
    // A grid and a point in it.
    let (p, code) = {
        let snap = st.current();
        let d = &snap.district;
        let g = d.grids().nth(5).unwrap();
        let c = geo::InteriorPoint::interior_point(&d.area(g).boundary).unwrap();
        let at = snap.grids.locate(c.x(), c.y()).unwrap();
        ([c.x(), c.y()], d.area(at).code.clone())
    };
    let week = "2026-W46";
    let stats = |st: Arc<AppState>| async move {
        call(
            &st,
            "GET",
            &format!("/stats/incidents?level=grid&period={week}"),
            &[],
            None,
        )
        .await
    };
    let (s, _, before) = stats(st.clone()).await;
    assert_eq!(s, StatusCode::OK, "{before}");
    assert_eq!(before["period"]["label"], week);
    let n0 = area(&before, &code)["incidents"].as_u64().unwrap();
    let households = area(&before, &code)["households"].as_u64().unwrap();
    assert!(households > 0);
    // Three reports that week, one worked to the end and evaluated.
    let mut ids = Vec::new();
    for (k, cat) in ["noise", "noise", "parking"].iter().enumerate() {
        let (s, _, v) = call(
            &st,
            "POST",
            "/incidents",
            &[],
            Some(
                json!({"lon": p[0] + 1e-5 * k as f64, "lat": p[1], "category": cat,
                "source": "hotline_12345", "reported_at": format!("2026-11-1{k}T09:00:00+08:00")}),
            ),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    for step in [
        json!({"action": "accept", "actor": "li"}),
        json!({"action": "dispatch", "actor": "li", "to": {"kind": "grid", "name": code}}),
        json!({"action": "handle", "actor": "wang"}),
        json!({"action": "feedback", "actor": "wang"}),
        json!({"action": "close", "actor": "li"}),
        json!({"action": "evaluate", "actor": "resident", "satisfaction": 4}),
    ] {
        let (s, _, v) = call(
            &st,
            "POST",
            &format!("/incidents/{}/steps", ids[0]),
            &[],
            Some(step),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (_, _, after) = stats(st.clone()).await;
    let a = area(&after, &code);
    assert_eq!(a["incidents"].as_u64().unwrap(), n0 + 3);
    assert!(a["by_category"]["noise"].as_u64().unwrap() >= 2);
    let rate = a["per_1000_households"].as_f64().unwrap();
    assert!((rate - (n0 + 3) as f64 * 1000.0 / households as f64).abs() < 1e-9);
    // One category only.
    let (_, _, noise) = call(
        &st,
        "GET",
        &format!("/stats/incidents?level=grid&period={week}&category=noise"),
        &[],
        None,
    )
    .await;
    assert!(area(&noise, &code)["incidents"].as_u64().unwrap() >= 2);
    assert_eq!(
        area(&noise, &code)["by_category"]
            .as_object()
            .unwrap()
            .len(),
        1
    );

    // The weekly report, as JSON.
    let (s, _, r) = call(
        &st,
        "GET",
        &format!("/reports/{week}.json?now=2026-11-16T09:00:00%2B08:00&permutations=199"),
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["period"]["label"], week);
    assert_eq!(r["previous"]["label"], "2026-W45");
    assert_eq!(r["totals"]["incidents"].as_u64().unwrap(), n0 + 3);
    assert_eq!(r["totals"]["satisfaction"].as_f64(), Some(4.0));
    assert_eq!(r["daily"].as_array().unwrap().len(), 7);
    assert_eq!(r["top_grids"][0]["code"], code.as_str());
    assert!(
        r["hotspots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["code"] == code.as_str() && h["count"].as_u64() == Some(n0 + 3))
    );
    // The two still open are overdue a day after the 16th's deadlines.
    let (_, _, later) = call(
        &st,
        "GET",
        &format!("/reports/{week}?now=2026-12-20T09:00:00%2B08:00&permutations=99"),
        &[],
        None,
    )
    .await;
    let overdue: Vec<i64> = later["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert!(overdue.contains(&ids[1]) && overdue.contains(&ids[2]));
    assert!(!overdue.contains(&ids[0]), "closed cases are never overdue");
    // Another grid's staff read the same counts, but only their own
    // grid's cases in the overdue list.
    let snap = st.current();
    let other = snap
        .district
        .grids()
        .map(|g| snap.district.area(g).code.clone())
        .find(|c| *c != code)
        .unwrap();
    let staff = super::test_support::token_for(
        &st,
        "zhao",
        gridgov_spatial::access::Role::GridStaff,
        &[&other],
        None,
    );
    let (_, _, theirs) = call(
        &st,
        "GET",
        &format!("/reports/{week}?now=2026-12-20T09:00:00%2B08:00&permutations=99"),
        &[("authorization", format!("Bearer {staff}"))],
        None,
    )
    .await;
    let rows = theirs["overdue"].as_array().unwrap();
    assert!(
        rows.len() < overdue.len(),
        "{} of {}",
        rows.len(),
        overdue.len()
    );
    assert!(
        rows.iter().all(|o| o["grid"]["code"] == other.as_str()),
        "{rows:?}"
    );
    assert!(!rows.iter().any(|o| o["id"] == ids[1]));
    assert_eq!(theirs["totals"], later["totals"]);

    // As the HTML page.
    let (s, ct, page) = raw(
        &st,
        &format!("/reports/{week}.html?now=2026-11-16T09:00:00%2B08:00&permutations=99"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
    let csp = super::test_support::signed_app(&st)
        .oneshot(
            Request::get(format!("/reports/{week}.html?permutations=99"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(
        csp.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert!(
        page.contains(&format!("事件报告 {week}")),
        "the page is in Chinese"
    );
    assert!(page.contains("data:image/png;base64,"));
    assert!(page.contains(&code));

    // Hot spots, by grid and by lattice, as JSON and GeoJSON.
    let (s, _, g) = call(
        &st,
        "GET",
        &format!("/hotspots?period={week}&permutations=99"),
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{g}");
    let grids = st.current().district.grids().count();
    assert_eq!(g["grids"].as_array().unwrap().len(), grids);
    let (s, ct, gj) = raw(
        &st,
        &format!("/hotspots?period={week}&permutations=99&format=geojson"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct, "application/geo+json");
    let gj: geojson::FeatureCollection =
        gj.parse::<geojson::GeoJson>().unwrap().try_into().unwrap();
    assert_eq!(gj.features.len(), grids);
    assert!(gj.features.iter().all(|f| f.geometry.is_some()
        && f.property("spot").is_some()
        && f.property("weekly").is_some()));
    let (s, _, l) = call(
        &st,
        "GET",
        &format!("/hotspots?period={week}&method=lattice&cell_m=300&permutations=99"),
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{l}");
    let cells = l["cells"].as_array().unwrap();
    assert_eq!(
        cells.len() as u64,
        l["cols"].as_u64().unwrap() * l["rows"].as_u64().unwrap()
    );
    let counted: u64 = cells.iter().map(|c| c["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, r["totals"]["incidents"].as_u64().unwrap());
}

async fn bad_analytics_requests_get_clear_4xx(b: Backend) {
    let st = fresh("analytics_bad", b);
    for (uri, status, field) in [
        ("/stats/incidents?level=block", 400, "level"),
        ("/stats/incidents?period=2026-W60", 400, "period"),
        ("/hotspots?method=kriging", 400, "method"),
        ("/hotspots?format=kml", 400, "format"),
        ("/hotspots?method=lattice&cell_m=1", 400, "hotspots"),
        ("/hotspots?fdr=7", 400, "hotspots"),
        ("/hotspots?permutations=abc", 400, ""),
        ("/reports/last-tuesday.html", 404, ""),
        ("/reports/2026-W46?now=yesterday", 400, "now"),
    ] {
        let (s, _, v) = call(&st, "GET", uri, &[], None).await;
        assert_eq!(s.as_u16(), status, "{uri}: {v}");
        assert!(
            v["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{uri}: {v}"
        );
        if !field.is_empty() {
            assert!(v.to_string().contains(field), "{uri}: {v}");
        }
    }
    let (s, _, idx) = call(&st, "GET", "/reports", &[], None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        idx["week"]["html"]
            .as_str()
            .unwrap()
            .starts_with("/reports/")
    );
}

async fn a_report_is_an_a4_pdf_where_the_service_has_a_chinese_font_and_a_clear_503_where_not(
    b: Backend,
) {
    let Some(font) = pdf_font() else { return };
    let config = super::Config {
        report_font: Some(font),
        ..test_config(super::harden::Guard::default())
    };
    let st = state_with(
        store(&format!("report_pdf_{b:?}").to_lowercase(), b),
        config,
    );
    let uri = "/reports/2026-10.pdf?now=2026-11-02T09:00:00%2B08:00&permutations=99";
    let res = signed_app(&st)
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/pdf");
    assert!(
        res.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("report-2026-10.pdf")
    );
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(body.starts_with(b"%PDF-1.7"));
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("/MediaBox [0 0 595.28 841.89]") && text.contains("/ToUnicode"));

    // The listing links it; a service with no font says why it has none.
    let (_, _, idx) = call(&st, "GET", "/reports", &[], None).await;
    let link = idx["month"]["pdf"].as_str().unwrap();
    assert!(
        link.starts_with("/reports/20") && link.contains(".pdf"),
        "{idx}"
    );
    let plain = fresh("report_no_pdf", b);
    let (s, _, v) = call(&plain, "GET", uri, &[], None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("font"), "{v}");
}
