//! The residents' side, on both stores: a QR code's building gives the
//! place and the team; a report filed without an account answers a case
//! number and a tracking token; with the token (and only with it) the
//! resident follows the case, adds photos while it is new and evaluates it
//! once it is closed; the grid's staff see what the resident gave. And the
//! signs and cards that carry the QR codes are printed for a grid's own
//! staff.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::test_support::{Backend, admin_token, fresh, pdf_font, token_for};
use super::{AppState, app};
use gridgov_spatial::access::Role;

on_both_backends!(
    a_resident_files_from_a_qr_code_follows_the_case_and_evaluates_it_once_closed,
    a_tracking_token_is_never_taken_from_what_a_caller_sends,
    cards_and_signs_are_printed_for_a_grids_own_staff,
);

/// One request: status, content type and body bytes.
async fn send(
    st: &Arc<AppState>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
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
    (s, ty, b.to_vec())
}

/// One request with a JSON body (or none), answered in JSON (null when not).
async fn ask(
    st: &Arc<AppState>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, _, b) = send(
        st,
        method,
        uri,
        headers,
        body.map(|b| ("application/json", b.to_string().into_bytes())),
    )
    .await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 60])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// A unit with its building's code, and the building's grid code.
fn unit(st: &Arc<AppState>) -> (String, String, String) {
    let snap = st.current();
    let d = &snap.district;
    let (i, u) = d
        .units
        .iter()
        .enumerate()
        .find(|(i, _)| snap.assignment.units[*i].grid().is_some())
        .unwrap();
    let g = snap.assignment.units[i].grid().unwrap();
    (
        d.buildings[u.building.index()].code.clone(),
        u.label.clone(),
        d.area(g).code.clone(),
    )
}

async fn a_resident_files_from_a_qr_code_follows_the_case_and_evaluates_it_once_closed(b: Backend) {
    let st = fresh("resident_files", b);
    let (building, label, grid) = unit(&st);

    // The QR code's place: the unit's entrance, its grid chain, the team.
    let (s, place) = ask(
        &st,
        "GET",
        &format!("/r/place?b={building}&u={label}"),
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{place}");
    assert_eq!(place["chain"][0][0], "grid");
    assert_eq!(place["chain"][0][1], grid.as_str());
    assert!(place["address"].as_str().unwrap().ends_with("单元"));
    let team = place["team"].as_array().unwrap();
    assert!(team.iter().any(|m| m["role"] == "grid_worker"), "{place}");
    assert!(
        team.iter().any(|m| m["role"] == "building_leader"),
        "{place}"
    );
    let (s, _) = ask(&st, "GET", "/r/place?b=no-such", &[], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = ask(&st, "GET", "/r/place", &[], None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Filed without an account, as the residents' page does.
    let (s, filed) = ask(
        &st,
        "POST",
        "/open311/v2/requests.json",
        &[],
        Some(json!({
            "service_code": "environment",
            "lat": place["lat"], "long": place["lon"],
            "address_string": place["address"],
            "address_id": format!("{building}/{label}"),
            "description": "楼道里堆满了杂物",
            "first_name": "李四", "phone": "13900001111",
            "device_id": "web-test",
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{filed}");
    let id: i64 = filed[0]["service_request_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let token = filed[0]["tracking_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("t_"));
    let uri = format!("/r/cases/{id}");
    let mine = [("x-tracking-token", token.as_str())];

    // Only the token opens the case, and a wrong one reads as no case.
    let (s, _) = ask(&st, "GET", &uri, &[], None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = ask(&st, "GET", &uri, &[("x-tracking-token", "t_0000")], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, c) = ask(&st, "GET", &uri, &mine, None).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["status"], "reported");
    assert_eq!(c["grid"][0], grid.as_str());
    assert_eq!(c["may_evaluate"], false);
    assert!(c["expected"].is_string(), "a new case has a deadline: {c}");
    assert!(
        c.get("reporter").is_none(),
        "the page shows no personal data back"
    );

    // A photo while it is new; not as a stranger.
    let photo = || Some(("image/jpeg", jpeg()));
    let (s, _, _) = send(&st, "POST", &format!("{uri}/photos"), &[], photo()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, body) = send(&st, "POST", &format!("{uri}/photos"), &mine, photo()).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));

    // The grid's staff see the case with what the resident gave.
    let staff = token_for(
        &st,
        "resident-grid-worker",
        Role::GridStaff,
        &[grid.as_str()],
        None,
    );
    let bearer = format!("Bearer {staff}");
    let (s, seen) = ask(
        &st,
        "GET",
        &format!("/incidents/{id}"),
        &[("authorization", bearer.as_str())],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{seen}");
    assert_eq!(seen["incident"]["reporter"]["name"], "李四");
    assert_eq!(seen["incident"]["reporter"]["phone"], "13900001111");
    assert_eq!(
        seen["incident"]["reporter"]["address_id"],
        format!("{building}/{label}")
    );
    assert_eq!(seen["photos"][0]["by"], "resident");
    assert!(
        !seen.to_string().contains("tracking"),
        "the token's digest is never shown: {seen}"
    );
    let (s, list) = ask(
        &st,
        "GET",
        "/incidents?status=reported",
        &[("authorization", bearer.as_str())],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        list.to_string().contains(&format!("\"id\":{id}")),
        "the grid's list holds the case"
    );

    // Not evaluated before it is closed.
    let (s, e) = ask(
        &st,
        "POST",
        &format!("{uri}/evaluation"),
        &mine,
        Some(json!({"satisfaction": 5})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");

    // The staff work it to the end.
    let admin = format!("Bearer {}", admin_token(&st));
    for step in [
        json!({"action": "accept"}),
        json!({"action": "dispatch", "to": {"kind": "grid", "name": grid}}),
        json!({"action": "handle"}),
        json!({"action": "feedback", "note": "已清理"}),
        json!({"action": "close"}),
    ] {
        let (s, r) = ask(
            &st,
            "POST",
            &format!("/incidents/{id}/steps"),
            &[("authorization", admin.as_str())],
            Some(step.clone()),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{step}: {r}");
    }
    let (s, _, _) = send(&st, "POST", &format!("{uri}/photos"), &mine, photo()).await;
    assert_eq!(s, StatusCode::CONFLICT, "no photos once taken up");

    let (_, c) = ask(&st, "GET", &uri, &mine, None).await;
    assert_eq!(c["status"], "closed");
    assert_eq!(c["may_evaluate"], true);
    let actions: Vec<&str> = c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["accept", "dispatch", "handle", "feedback", "close"]
    );
    assert!(
        !c.to_string().contains("已清理"),
        "staff notes stay with the staff"
    );

    let (s, _) = ask(
        &st,
        "POST",
        &format!("{uri}/evaluation"),
        &mine,
        Some(json!({"satisfaction": 9})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = ask(
        &st,
        "POST",
        &format!("{uri}/evaluation"),
        &[("x-tracking-token", "t_0000")],
        Some(json!({"satisfaction": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no one else evaluates it");
    let (s, c) = ask(
        &st,
        "POST",
        &format!("{uri}/evaluation"),
        &mine,
        Some(json!({"satisfaction": 4, "note": "处理及时"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(c["status"], "evaluated");
    assert_eq!(c["satisfaction"], 4);
    assert_eq!(c["may_evaluate"], false);
    let (s, _) = ask(
        &st,
        "POST",
        &format!("{uri}/evaluation"),
        &mine,
        Some(json!({"satisfaction": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "evaluated once");
    let (_, seen) = ask(
        &st,
        "GET",
        &format!("/incidents/{id}"),
        &[("authorization", bearer.as_str())],
        None,
    )
    .await;
    let last = seen["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], "resident");
    assert_eq!(last["action"], "evaluate");
    assert_eq!(last["satisfaction"], 4);
}

async fn a_tracking_token_is_never_taken_from_what_a_caller_sends(b: Backend) {
    let st = fresh("resident_no_forged_tracking", b);
    let (building, label, _) = unit(&st);
    let (_, place) = ask(
        &st,
        "GET",
        &format!("/r/place?b={building}&u={label}"),
        &[],
        None,
    )
    .await;
    let (token, digest) = gridgov_app::resident::new_tracking().unwrap();
    let admin = format!("Bearer {}", admin_token(&st));
    let (s, r) = ask(
        &st,
        "POST",
        "/incidents",
        &[("authorization", admin.as_str())],
        Some(json!({
            "lon": place["lon"], "lat": place["lat"], "category": "road",
            "reporter": {"name": "王五", "tracking": digest},
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().unwrap();
    let (s, _) = ask(
        &st,
        "GET",
        &format!("/r/cases/{id}"),
        &[("x-tracking-token", token.as_str())],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a digest sent in is not kept");
}

async fn cards_and_signs_are_printed_for_a_grids_own_staff(b: Backend) {
    let font = pdf_font();
    let st = super::test_support::state_with(
        super::test_support::store(&format!("resident_cards_{b:?}").to_lowercase(), b),
        super::Config {
            report_font: font.clone(),
            ..super::test_support::test_config(super::harden::Guard::default())
        },
    );
    let (_, _, grid) = unit(&st);
    let other = {
        let snap = st.current();
        let d = &snap.district;
        d.grids()
            .map(|g| d.area(g).code.clone())
            .find(|c| *c != grid)
            .unwrap()
    };
    let mine = format!(
        "Bearer {}",
        token_for(&st, "cards-worker", Role::GridStaff, &[grid.as_str()], None)
    );
    let uri = format!("/cards?grid={grid}&kind=card");
    let (s, _, _) = send(&st, "GET", &uri, &[], None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = send(
        &st,
        "GET",
        &format!("/cards?grid={other}&kind=card"),
        &[("authorization", mine.as_str())],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another grid's households");
    let (s, _, b2) = send(
        &st,
        "GET",
        &format!("/cards?grid={grid}&kind=poster"),
        &[("authorization", mine.as_str())],
        None,
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&b2)
    );
    if font.is_none() {
        return;
    }
    for kind in ["card", "sign", "unit-sign"] {
        let (s, ty, pdf) = send(
            &st,
            "GET",
            &format!("/cards?grid={grid}&kind={kind}&paper=a5"),
            &[
                ("authorization", mine.as_str()),
                ("host", "grid.example.gov.cn"),
            ],
            None,
        )
        .await;
        assert_eq!(
            s,
            StatusCode::OK,
            "{kind}: {}",
            String::from_utf8_lossy(&pdf)
        );
        assert_eq!(ty, "application/pdf");
        assert!(pdf.starts_with(b"%PDF"), "{kind}");
    }
}
