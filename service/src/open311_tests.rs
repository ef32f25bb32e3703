//! Open311 as a resident's client and an Open311 reader use it, on both
//! stores: every field given is kept and shown only to those who may read
//! the case, JSON and form bodies alike, `expected_datetime` is the case's
//! deadline, `jurisdiction_id` is checked, and every endpoint answers XML.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use geo::InteriorPoint;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::test_support::{Backend, admin_token, fresh};
use super::{AppState, app};

on_both_backends!(
    every_field_a_311_client_gives_is_kept_and_shown_only_to_those_who_may_read_the_case,
    a_json_body_with_numbers_and_a_form_body_file_the_same_request,
    an_unknown_jurisdiction_is_refused_and_a_known_one_narrows_the_requests,
    every_open311_endpoint_answers_in_xml_when_asked,
);

/// An answer: status, content type and body text.
async fn send(
    st: &Arc<AppState>,
    token: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<(&str, String)>,
) -> (StatusCode, String, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some((ty, b)) => req.header(header::CONTENT_TYPE, ty).body(Body::from(b)),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let r = app(st.clone()).oneshot(req).await.unwrap();
    let s = r.status();
    let ty = r
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let b = r.into_body().collect().await.unwrap().to_bytes();
    (s, ty, String::from_utf8(b.to_vec()).unwrap())
}

/// An answer as JSON (null when it is not JSON).
async fn ask(
    st: &Arc<AppState>,
    token: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, _, b) = send(
        st,
        token,
        method,
        uri,
        body.map(|b| ("application/json", b.to_string())),
    )
    .await;
    (s, serde_json::from_str(&b).unwrap_or(Value::Null))
}

/// A point inside a grid with its code, and the code of the street.
fn place(st: &Arc<AppState>) -> ([f64; 2], String, String) {
    let snap = st.current();
    let d = &snap.district;
    let g = d.grids().nth(4).unwrap();
    let p = d.area(g).boundary.interior_point().unwrap();
    let at = snap.grids.locate(p.x(), p.y()).unwrap();
    let street = d
        .chain(at)
        .into_iter()
        .map(|a| d.area(a))
        .find(|a| a.level == gridgov_spatial::Level::Street)
        .unwrap()
        .code
        .clone();
    ([p.x(), p.y()], d.area(at).code.clone(), street)
}

/// The texts of every `<name>` element of an XML document, read with a
/// real XML parser (so the document must be well formed).
fn xml_texts(doc: &str, name: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(doc);
    let (mut out, mut inside) = (Vec::new(), false);
    loop {
        match r.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().as_ref() == name.as_bytes() => {
                inside = true;
                out.push(String::new());
            }
            Event::End(e) if e.name().as_ref() == name.as_bytes() => inside = false,
            Event::Empty(e) if e.name().as_ref() == name.as_bytes() => out.push(String::new()),
            Event::Text(t) if inside => {
                let t = t.decode().unwrap();
                out.last_mut().unwrap().push_str(&t);
            }
            Event::GeneralRef(g) if inside => {
                let s = match g.as_ref() {
                    b"amp" => "&",
                    b"lt" => "<",
                    b"gt" => ">",
                    b"quot" => "\"",
                    b"apos" => "'",
                    other => panic!("an unknown entity {other:?}"),
                };
                out.last_mut().unwrap().push_str(s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

async fn every_field_a_311_client_gives_is_kept_and_shown_only_to_those_who_may_read_the_case(
    b: Backend,
) {
    let st = fresh("o311_fields", b);
    let admin = admin_token(&st);
    let (p, grid, street) = place(&st);
    let (s, v) = ask(
        &st,
        None,
        "POST",
        "/open311/v2/requests.json",
        Some(json!({
            "jurisdiction_id": street,
            "service_code": "environment",
            "lat": p[1], "long": p[0],
            "address_string": "光明路18号3号楼",
            "address_id": "A-1803",
            "first_name": "三", "last_name": "张",
            "phone": "139 1234 5678",
            "email": "zhang@example.cn",
            "device_id": "phone-7",
            "account_id": "wx-42",
            "media_url": "https://example.cn/p/1.jpg",
            "description": "楼道里堆满了杂物",
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v[0]["account_id"], "wx-42");
    let id = v[0]["service_request_id"].as_str().unwrap().to_string();
    let uri = format!("/open311/v2/requests/{id}.json");
    let (s, full) = ask(&st, Some(&admin), "GET", &uri, None).await;
    assert_eq!(s, StatusCode::OK);
    let r = &full[0];
    assert_eq!(r["address"], "光明路18号3号楼");
    assert_eq!(r["address_id"], "A-1803");
    assert_eq!(r["media_url"], "https://example.cn/p/1.jpg");
    assert_eq!(r["description"], "楼道里堆满了杂物");
    let who = &r["extended_attributes"]["gridgov"]["reporter"];
    // A Chinese name is family name first, without a space.
    assert_eq!(who["name"], "张三");
    assert_eq!(who["phone"], "139 1234 5678");
    assert_eq!(who["email"], "zhang@example.cn");
    assert_eq!(who["device_id"], "phone-7");
    assert_eq!(who["account_id"], "wx-42");
    assert_eq!(r["extended_attributes"]["gridgov"]["grid"], grid.as_str());
    // The same case through the API: the reporter is kept with it, and
    // Open311's expected time is the case's deadline.
    let (_, case) = ask(&st, Some(&admin), "GET", &format!("/incidents/{id}"), None).await;
    assert_eq!(case["incident"]["reporter"]["name"], "张三");
    assert!(case["deadline"].is_string(), "{case}");
    assert_eq!(r["expected_datetime"], case["deadline"]);
    // The public sees that it exists and when it is expected, nothing of
    // the resident's.
    let (_, public) = ask(&st, None, "GET", &uri, None).await;
    let r = &public[0];
    assert_eq!(r["address"], "");
    assert!(r["address_id"].is_null() && r["media_url"].is_null(), "{r}");
    assert!(
        r["extended_attributes"]["gridgov"]
            .get("reporter")
            .is_none()
    );
    assert_eq!(r["expected_datetime"], case["deadline"]);
    let (_, list) = ask(&st, None, "GET", "/open311/v2/requests.json", None).await;
    let text = list.to_string();
    assert!(!text.contains("13912345678") && !text.contains("139 1234 5678"));
    assert!(!text.contains("zhang@example.cn") && !text.contains("张三"));
    // Kept across a restart: read back from the store, not the memory.
    let (app, n) = (st.app.clone(), id.parse().unwrap());
    let back = tokio::task::spawn_blocking(move || {
        gridgov_app::cases::case(app.store.as_ref(), n).unwrap()
    })
    .await
    .unwrap();
    let kept = back.incident.reporter.unwrap();
    assert_eq!(kept.address.as_deref(), Some("光明路18号3号楼"));
    assert_eq!(
        kept.media_url.as_deref(),
        Some("https://example.cn/p/1.jpg")
    );
    // Bad details are refused, each named, and nothing is filed.
    let before = st.current().district.incidents.len();
    let (s, v) = ask(
        &st,
        None,
        "POST",
        "/open311/v2/requests.json",
        Some(
            json!({"service_code": "environment", "lat": p[1], "long": p[0],
            "phone": "call me", "email": "nobody", "media_url": "file:///etc/passwd"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let d = v[0]["description"].as_str().unwrap();
    assert!(
        d.contains("phone") && d.contains("email") && d.contains("media_url"),
        "{d}"
    );
    assert_eq!(st.current().district.incidents.len(), before);
}

async fn a_json_body_with_numbers_and_a_form_body_file_the_same_request(b: Backend) {
    let st = fresh("o311_bodies", b);
    let admin = admin_token(&st);
    let (p, grid, _) = place(&st);
    let form = format!(
        "service_code=environment&lat={}&long={}&first_name=Anna&last_name=Li&phone=13800001234&address_string=Mannerheimintie%205&description=bins%20full",
        p[1], p[0]
    );
    let (s, _, fb) = send(
        &st,
        None,
        "POST",
        "/open311/v2/requests.json",
        Some(("application/x-www-form-urlencoded", form)),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{fb}");
    let (s, jb) = ask(
        &st,
        None,
        "POST",
        "/open311/v2/requests.json",
        Some(
            json!({"service_code": "environment", "lat": p[1], "long": p[0],
            "first_name": "Anna", "last_name": "Li", "phone": 13_800_001_234_u64,
            "address_string": "Mannerheimintie 5", "description": "bins full"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{jb}");
    let fb: Value = serde_json::from_str(&fb).unwrap();
    let mut seen = Vec::new();
    for v in [fb, jb] {
        let id = v[0]["service_request_id"].as_str().unwrap();
        assert!(v[0]["service_notice"].as_str().unwrap().contains(&grid));
        let (_, r) = ask(
            &st,
            Some(&admin),
            "GET",
            &format!("/open311/v2/requests/{id}.json"),
            None,
        )
        .await;
        let r = &r[0];
        seen.push((
            r["lat"].clone(),
            r["long"].clone(),
            r["description"].clone(),
            r["address"].clone(),
            r["extended_attributes"]["gridgov"]["reporter"].clone(),
        ));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].4["name"], "Anna Li");
    assert_eq!(seen[0].4["phone"], "13800001234");
    // A body that is neither is named, in the spec's error shape.
    let (s, _, e) = send(
        &st,
        None,
        "POST",
        "/open311/v2/requests.json",
        Some(("application/json", "{\"lat\": [1]}".into())),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let e: Value = serde_json::from_str(&e).unwrap();
    assert_eq!(e[0]["code"], 400);
    assert!(
        e[0]["description"]
            .as_str()
            .unwrap()
            .contains("cannot read")
    );
}

async fn an_unknown_jurisdiction_is_refused_and_a_known_one_narrows_the_requests(b: Backend) {
    let st = fresh("o311_juris", b);
    let (p, _, street) = place(&st);
    for uri in [
        "/open311/v2/services.json?jurisdiction_id=nowhere",
        "/open311/v2/services/environment.json?jurisdiction_id=nowhere",
        "/open311/v2/requests.json?jurisdiction_id=nowhere",
        "/open311/v2/requests/1.json?jurisdiction_id=nowhere",
    ] {
        let (s, v) = ask(&st, None, "GET", uri, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}: {v}");
        let d = v[0]["description"].as_str().unwrap();
        assert!(d.contains("nowhere") && d.contains(&street), "{d}");
    }
    let before = st.current().district.incidents.len();
    let (s, _) = ask(
        &st,
        None,
        "POST",
        "/open311/v2/requests.json",
        Some(json!({"jurisdiction_id": "nowhere", "service_code": "environment", "lat": p[1], "long": p[0]})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(st.current().district.incidents.len(), before);
    let (s, v) = ask(
        &st,
        None,
        "POST",
        &format!("/open311/v2/requests.json?jurisdiction_id={street}"),
        Some(json!({"service_code": "environment", "lat": p[1], "long": p[0]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v[0]["service_request_id"].as_str().unwrap().to_string();
    let (s, list) = ask(
        &st,
        None,
        "GET",
        &format!("/open311/v2/requests.json?jurisdiction_id={street}&service_request_id={id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(st.current().district.incidents.len(), before + 1);
}

async fn every_open311_endpoint_answers_in_xml_when_asked(b: Backend) {
    let st = fresh("o311_xml", b);
    let (p, grid, _) = place(&st);
    let (s, ty, doc) = send(&st, None, "GET", "/open311/v2/services.xml", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ty.starts_with("text/xml"), "{ty}");
    assert!(
        xml_texts(&doc, "service_code").contains(&"environment".to_string()),
        "{doc}"
    );
    let (s, _, doc) = send(
        &st,
        None,
        "GET",
        "/open311/v2/services/environment.xml",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(xml_texts(&doc, "service_code"), ["environment"]);
    let (s, ty, doc) = send(
        &st,
        None,
        "POST",
        "/open311/v2/requests.xml",
        Some((
            "application/x-www-form-urlencoded",
            format!(
                "service_code=environment&lat={}&long={}&description=A%20%26%20B%20%3Cthings%3E",
                p[1], p[0]
            ),
        )),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{doc}");
    assert!(ty.starts_with("text/xml"));
    let id = xml_texts(&doc, "service_request_id").pop().unwrap();
    assert!(xml_texts(&doc, "service_notice")[0].contains(&grid));
    let admin = admin_token(&st);
    let (s, _, doc) = send(
        &st,
        Some(&admin),
        "GET",
        &format!("/open311/v2/requests/{id}.xml"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert!(doc.contains("<service_requests><request>"), "{doc}");
    assert_eq!(xml_texts(&doc, "service_request_id"), [id.as_str()]);
    // Text is escaped, so the document stays well formed.
    assert_eq!(xml_texts(&doc, "description"), ["A & B <things>"]);
    assert_eq!(xml_texts(&doc, "grid"), [grid.as_str()]);
    assert_eq!(xml_texts(&doc, "expected_datetime").len(), 1);
    let (s, _, doc) = send(
        &st,
        None,
        "GET",
        &format!("/open311/v2/requests.xml?service_request_id={id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(xml_texts(&doc, "service_request_id"), [id]);
    // Errors too.
    let (s, _, doc) = send(&st, None, "GET", "/open311/v2/requests/999999.xml", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(doc.contains("<errors><error>"), "{doc}");
    assert_eq!(xml_texts(&doc, "code"), ["404"]);
}
