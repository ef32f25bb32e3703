//! Cases over HTTP, on both stores: filing and routing, the loop with its
//! 409s, concurrent steps, pin moves, duplicates and merging, deadlines
//! and escalation, and maps following new incidents.

use std::sync::Arc;

use geo::InteriorPoint;
use serde_json::{Value, json};

use super::AppState;
use super::test_support::{Backend, call, fresh};
use axum::http::StatusCode;

on_both_backends!(
    a_report_is_routed_to_its_grid_and_the_maps_follow_at_once,
    the_loop_runs_and_illegal_steps_get_409_with_the_allowed_ones,
    of_concurrent_steps_on_one_case_exactly_one_wins,
    a_moved_pin_reroutes_the_case_and_the_move_is_kept,
    duplicates_are_suggested_and_merged_cases_keep_both_histories,
    overdue_cases_are_listed_and_escalate_by_the_deadline_clock,
    open311_clients_file_and_track_cases,
    a_csv_import_is_all_or_nothing_and_the_maps_follow,
    a_retried_report_with_its_idempotency_key_is_filed_once,
    anonymous_filing_is_limited_per_address_and_shown_only_roughly_placed,
);

/// A point inside grid `i` (by the index's own answer) and that grid's code.
fn point_in_grid(st: &Arc<AppState>, i: usize) -> ([f64; 2], String) {
    let snap = st.current();
    let d = &snap.district;
    let g = d.grids().nth(i).unwrap();
    let p = d.area(g).boundary.interior_point().unwrap();
    let at = snap.grids.locate(p.x(), p.y()).unwrap();
    ([p.x(), p.y()], d.area(at).code.clone())
}

async fn file(st: &Arc<AppState>, body: Value) -> (StatusCode, Value) {
    let (s, _, v) = call(st, "POST", "/incidents", &[], Some(body)).await;
    (s, v)
}

async fn step(st: &Arc<AppState>, id: i64, body: Value) -> (StatusCode, Value) {
    let (s, _, v) = call(
        st,
        "POST",
        &format!("/incidents/{id}/steps"),
        &[],
        Some(body),
    )
    .await;
    (s, v)
}

async fn a_report_is_routed_to_its_grid_and_the_maps_follow_at_once(b: Backend) {
    let st = fresh("case_route", b);
    let before = st.current();
    let (p, code) = point_in_grid(&st, 3);
    let (s, v) = file(
        &st,
        json!({"lon": p[0], "lat": p[1], "category": "road", "source": "hotline_12345", "description": "井盖缺失"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["route"]["grid"]["code"], code);
    assert_eq!(v["route"]["inside"], true);
    assert_eq!(v["state"]["status"], "reported");
    assert_eq!(v["allowed"][0], "accept");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(id as usize, before.district.incidents.len() + 1);
    // The snapshot (tiles, counts, /district.json) has it already.
    let after = st.current();
    assert_eq!(
        after.district.incidents.len(),
        before.district.incidents.len() + 1
    );
    assert!(after.data_version > before.data_version);
    let (_, _, h) = call(&st, "GET", "/health", &[], None).await;
    assert_eq!(h["data_version"], after.data_version);
    // In GCJ-02 (as phone maps give it) the same place routes the same.
    let (gx, gy) = gridgov_spatial::crs::wgs84_to_gcj02(p[0], p[1]);
    let (_, v2) = file(
        &st,
        json!({"lon": gx, "lat": gy, "crs": "gcj02", "category": "road"}),
    )
    .await;
    assert_eq!(v2["route"]["grid"]["code"], code);
    // Outside the district: the nearest grid, with the distance.
    let (_, v3) = file(
        &st,
        json!({"lon": p[0] + 0.5, "lat": p[1], "category": "road"}),
    )
    .await;
    assert_eq!(v3["route"]["inside"], false);
    assert!(v3["route"]["distance_m"].as_f64().unwrap() > 1_000.0);
    // By address.
    let addr = after.district.buildings[10].address.clone();
    let (s4, v4) = file(&st, json!({"address": addr, "category": "environment"})).await;
    assert_eq!(s4, StatusCode::CREATED, "{v4}");
    assert_eq!(v4["located"]["matched_address"], addr);
    // Bad reports lose nothing and say why.
    for bad in [
        json!({"category": "road"}),
        json!({"lon": p[0], "lat": p[1], "category": ""}),
        json!({"lon": p[0], "lat": p[1], "category": "road", "source": "fax"}),
        json!({"lon": 999.0, "lat": p[1], "category": "road"}),
        json!({"address": "火星路 1 号", "category": "road"}),
    ] {
        let (s, v) = file(&st, bad.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    assert_eq!(
        st.current().district.incidents.len(),
        before.district.incidents.len() + 4
    );
}

async fn the_loop_runs_and_illegal_steps_get_409_with_the_allowed_ones(b: Backend) {
    let st = fresh("case_loop", b);
    let (p, code) = point_in_grid(&st, 5);
    let (_, v) = file(
        &st,
        json!({"lon": p[0], "lat": p[1], "category": "environment"}),
    )
    .await;
    let id = v["id"].as_i64().unwrap();
    let (s, v) = step(&st, id, json!({"action": "close", "actor": "wang"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        v["allowed"],
        json!(["accept", "reject", "escalate", "move", "merge", "absorb"])
    );
    let (s, _) = step(
        &st,
        id,
        json!({"action": "reject", "reason": " ", "actor": "wang"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = step(&st, id, json!({"action": "fly", "actor": "wang"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    for body in [
        json!({"action": "accept", "actor": "wang", "note": "核实属实"}),
        json!({"action": "dispatch", "to": {"kind": "grid", "name": code}, "actor": "wang"}),
        json!({"action": "handle", "actor": "li"}),
        json!({"action": "feedback", "actor": "li"}),
        json!({"action": "close", "actor": "wang"}),
    ] {
        let (s, v) = step(&st, id, body.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{body}: {v}");
    }
    let (s, v) = step(
        &st,
        id,
        json!({"action": "evaluate", "satisfaction": 9, "actor": "resident"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = step(
        &st,
        id,
        json!({"action": "evaluate", "satisfaction": 5, "actor": "resident"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = step(&st, id, json!({"action": "accept", "actor": "wang"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(v["allowed"], json!([]));
    let (s, h, v) = call(&st, "GET", &format!("/incidents/{id}"), &[], None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["etag"], "\"6\"");
    let hist: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        hist,
        [
            "accept", "dispatch", "handle", "feedback", "close", "evaluate"
        ]
    );
    assert_eq!(v["history"][0]["note"], "核实属实");
    assert_eq!(v["history"][1]["from_status"], "accepted");
    assert_eq!(v["state"]["assignee"]["name"], code);
    assert_eq!(
        st.current().district.incidents[id as usize - 1]
            .status
            .as_str(),
        "evaluated"
    );
    let (s, _, _) = call(&st, "GET", "/incidents/999999", &[], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(&st, "GET", "/incidents/abc", &[], None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn of_concurrent_steps_on_one_case_exactly_one_wins(b: Backend) {
    let st = fresh("case_race", b);
    let (p, _) = point_in_grid(&st, 1);
    let (_, v) = file(&st, json!({"lon": p[0], "lat": p[1], "category": "noise"})).await;
    let id = v["id"].as_i64().unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let st = st.clone();
            tokio::spawn(async move {
                step(
                    &st,
                    id,
                    json!({"action": "accept", "actor": format!("staff{i}")}),
                )
                .await
                .0
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => won += 1,
            s => assert_eq!(s, StatusCode::CONFLICT),
        }
    }
    assert_eq!(won, 1);
    // With If-Match: a step made on a stale view is refused with where
    // the case is.
    let (s, _, v) = call(
        &st,
        "POST",
        &format!("/incidents/{id}/steps"),
        &[("if-match", "\"0\"".into())],
        Some(json!({"action": "dispatch", "to": {"kind": "department", "name": "城管"}, "actor": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["seq"], 1);
    let (s, _, _) = call(
        &st,
        "POST",
        &format!("/incidents/{id}/steps"),
        &[("if-match", "\"1\"".into())],
        Some(json!({"action": "dispatch", "to": {"kind": "department", "name": "城管"}, "actor": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, _, v) = call(&st, "GET", &format!("/incidents/{id}"), &[], None).await;
    assert_eq!(v["history"].as_array().unwrap().len(), 2);
}

async fn a_moved_pin_reroutes_the_case_and_the_move_is_kept(b: Backend) {
    let st = fresh("case_move", b);
    let (p1, c1) = point_in_grid(&st, 2);
    let (p2, c2) = point_in_grid(&st, 20);
    assert_ne!(c1, c2);
    let (_, v) = file(&st, json!({"lon": p1[0], "lat": p1[1], "category": "road"})).await;
    let id = v["id"].as_i64().unwrap();
    let (s, _, v) = call(
        &st,
        "POST",
        &format!("/incidents/{id}/move"),
        &[],
        Some(json!({"lon": p2[0], "lat": p2[1], "actor": "zhao", "note": "居民定位偏了"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["event"]["from_grid"], c1);
    assert_eq!(v["event"]["to_grid"], c2);
    let (_, _, v) = call(&st, "GET", &format!("/incidents/{id}"), &[], None).await;
    assert_eq!(v["route"]["grid"]["code"], c2);
    let near = |v: &Value, x: f64| (v.as_f64().unwrap() - x).abs() < 1e-9;
    assert!(near(&v["incident"]["location"][0], p2[0]));
    assert!(
        near(&v["history"][0]["from"][0], p1[0]),
        "the old place is kept"
    );
    let x = &st.current().district.incidents[id as usize - 1];
    assert!((x.location.x() - p2[0]).abs() < 1e-9 && (x.location.y() - p2[1]).abs() < 1e-9);
}

async fn duplicates_are_suggested_and_merged_cases_keep_both_histories(b: Backend) {
    let st = fresh("case_dup", b);
    let (p, _) = point_in_grid(&st, 7);
    let t = "2030-01-01T09:00:00+08:00";
    let (_, a) = file(
        &st,
        json!({"lon": p[0], "lat": p[1], "category": "street_light", "reported_at": t}),
    )
    .await;
    let a = a["id"].as_i64().unwrap();
    step(&st, a, json!({"action": "accept", "actor": "wang"})).await;
    let (_, bv) = file(
        &st,
        json!({"lon": p[0] + 0.0001, "lat": p[1], "category": "street_light", "reported_at": "2030-01-01T10:00:00+08:00"}),
    )
    .await;
    let bid = bv["id"].as_i64().unwrap();
    assert_eq!(bv["duplicates"][0]["id"], a, "{bv}");
    assert!(bv["duplicates"][0]["distance_m"].as_f64().unwrap() < 15.0);
    let (_, _, d) = call(
        &st,
        "GET",
        &format!("/incidents/{bid}/duplicates"),
        &[],
        None,
    )
    .await;
    assert_eq!(d["duplicates"].as_array().unwrap().len(), 1);
    // Another category is not a duplicate and cannot be merged.
    let (_, c) = file(
        &st,
        json!({"lon": p[0], "lat": p[1], "category": "noise", "reported_at": t}),
    )
    .await;
    let cid = c["id"].as_i64().unwrap();
    let (s, _, _) = call(
        &st,
        "POST",
        &format!("/incidents/{cid}/merge"),
        &[],
        Some(json!({"into": a, "actor": "wang"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, v) = call(
        &st,
        "POST",
        &format!("/incidents/{bid}/merge"),
        &[],
        Some(json!({"into": a, "actor": "wang"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["state"]["absorbed"], json!([bid]));
    assert_eq!(v["merged"][0]["id"], bid);
    assert_eq!(v["merged"][0]["history"][0]["action"], "merge");
    assert_eq!(v["history"][1]["action"], "absorb");
    let (_, _, m) = call(&st, "GET", &format!("/incidents/{bid}"), &[], None).await;
    assert_eq!(m["state"]["status"], "merged");
    assert_eq!(m["state"]["merged_into"], a);
    let (s, _) = step(&st, bid, json!({"action": "accept", "actor": "wang"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _, _) = call(
        &st,
        "POST",
        &format!("/incidents/{a}/merge"),
        &[],
        Some(json!({"into": a, "actor": "wang"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn overdue_cases_are_listed_and_escalate_by_the_deadline_clock(b: Backend) {
    let st = fresh("case_due", b);
    let (p, _) = point_in_grid(&st, 4);
    // A safety hazard has 2 h at the grid, 4 h at the community.
    let (_, v) = file(
        &st,
        json!({"lon": p[0], "lat": p[1], "category": "safety_hazard", "reported_at": "2030-03-01T08:00:00+08:00"}),
    )
    .await;
    let id = v["id"].as_i64().unwrap();
    let (_, _, l) = call(
        &st,
        "GET",
        "/incidents?overdue=true&category=safety_hazard",
        &[],
        None,
    )
    .await;
    let ids: Vec<i64> = l["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert!(!ids.contains(&id), "not overdue yet (it is 2030 then)");
    // At 09:59 it is not overdue; at 10:01 it is and escalates once.
    let esc = |now: &str| format!("/incidents/escalate?now={}", now.replace('+', "%2B"));
    let (_, _, e) = call(&st, "POST", &esc("2030-03-01T09:59:00+08:00"), &[], None).await;
    assert!(!e["escalated"].as_array().unwrap().contains(&json!(id)));
    let (_, _, e) = call(&st, "POST", &esc("2030-03-01T10:01:00+08:00"), &[], None).await;
    assert!(
        e["escalated"].as_array().unwrap().contains(&json!(id)),
        "{e}"
    );
    let (_, _, v) = call(&st, "GET", &format!("/incidents/{id}"), &[], None).await;
    assert_eq!(v["state"]["level"], "community");
    assert_eq!(v["history"][0]["actor"], "system");
    // The community's clock runs from the escalation, so it is not
    // escalated again at once.
    let (_, _, e) = call(&st, "POST", &esc("2030-03-01T10:02:00+08:00"), &[], None).await;
    assert!(
        !e["escalated"].as_array().unwrap().contains(&json!(id)),
        "{v}"
    );
    let (s, _, _) = call(&st, "POST", "/incidents/escalate?now=tomorrow", &[], None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Reported long ago and never touched: listed as overdue.
    let (_, old) = file(
        &st,
        json!({"lon": p[0], "lat": p[1], "category": "road", "reported_at": "2020-01-01T08:00:00+08:00"}),
    )
    .await;
    let (_, _, l) = call(
        &st,
        "GET",
        "/incidents?overdue=true&category=road",
        &[],
        None,
    )
    .await;
    assert_eq!(l["cases"][0]["id"], old["id"], "{l}");
    assert!(l["cases"][0]["overdue"]["hours_over"].as_f64().unwrap() > 24.0 * 365.0);
}

async fn form(st: &Arc<AppState>, uri: &str, body: &str) -> (StatusCode, Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let r = super::test_support::signed_app(st)
        .oneshot(req)
        .await
        .unwrap();
    let s = r.status();
    let b = r.into_body().collect().await.unwrap().to_bytes();
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

async fn open311_clients_file_and_track_cases(b: Backend) {
    let st = fresh("case_311", b);
    let (p, code) = point_in_grid(&st, 9);
    let (s, _, services) = call(&st, "GET", "/open311/v2/services.json", &[], None).await;
    assert_eq!(s, StatusCode::OK);
    let codes: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"environment"), "{codes:?}");
    let (s, _, def) = call(
        &st,
        "GET",
        "/open311/v2/services/environment.json",
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(def["service_code"], "environment");
    let (s, _, _) = call(
        &st,
        "GET",
        "/open311/v2/services/teleportation.json",
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let body = format!(
        "service_code=environment&lat={}&long={}&description=%E5%9E%83%E5%9C%BE%E6%BB%A1%E4%BA%86",
        p[1], p[0]
    );
    let (s, v) = form(&st, "/open311/v2/requests.json", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(v[0]["service_notice"].as_str().unwrap().contains(&code));
    let (s, _, r) = call(
        &st,
        "GET",
        &format!("/open311/v2/requests/{id}.json"),
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r[0]["status"], "open");
    assert_eq!(r[0]["description"], "垃圾满了");
    assert_eq!(r[0]["extended_attributes"]["gridgov"]["status"], "reported");
    assert_eq!(r[0]["extended_attributes"]["gridgov"]["grid"], code);
    // Worked through the loop by staff, the 311 client sees it closed.
    let n: i64 = id.parse().unwrap();
    for a in ["accept", "dispatch", "handle", "feedback", "close"] {
        let mut body = json!({"action": a, "actor": "wang", "note": "已处理"});
        if a == "dispatch" {
            body["to"] = json!({"kind": "grid", "name": code});
        }
        assert_eq!(step(&st, n, body).await.0, StatusCode::CREATED);
    }
    let (_, _, r) = call(
        &st,
        "GET",
        &format!("/open311/v2/requests.json?service_request_id={id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.as_array().unwrap().len(), 1);
    assert_eq!(r[0]["status"], "closed");
    assert_eq!(r[0]["status_notes"], "close: 已处理");
    assert_eq!(r[0]["extended_attributes"]["gridgov"]["status"], "closed");
    let (_, _, l) = call(
        &st,
        "GET",
        "/open311/v2/requests.json?service_code=environment&status=closed",
        &[],
        None,
    )
    .await;
    assert!(
        l.as_array()
            .unwrap()
            .iter()
            .any(|r| r["service_request_id"] == id.as_str())
    );
    // Errors in the spec's shape.
    for (body, want) in [
        ("lat=1&long=2", StatusCode::BAD_REQUEST),
        (
            "service_code=teleportation&lat=1&long=2",
            StatusCode::BAD_REQUEST,
        ),
        (
            "service_code=environment&lat=north&long=2",
            StatusCode::BAD_REQUEST,
        ),
        ("service_code=environment", StatusCode::BAD_REQUEST),
    ] {
        let (s, v) = form(&st, "/open311/v2/requests.json", body).await;
        assert_eq!(s, want, "{body}: {v}");
        assert!(v[0]["description"].as_str().is_some(), "{v}");
    }
    let (s, _, _) = call(&st, "GET", "/open311/v2/requests/999999.json", &[], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(
        &st,
        "GET",
        "/open311/v2/requests.json?status=maybe",
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn a_csv_import_is_all_or_nothing_and_the_maps_follow(b: Backend) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let st = fresh("case_csv", b);
    let (p, code) = point_in_grid(&st, 6);
    let before = st.current().district.incidents.len();
    let post = |body: String| {
        let st = st.clone();
        async move {
            let req = axum::http::Request::post("/incidents/import")
                .header("content-type", "text/csv")
                .body(axum::body::Body::from(body))
                .unwrap();
            let r = super::test_support::signed_app(&st)
                .oneshot(req)
                .await
                .unwrap();
            let s = r.status();
            let b = r.into_body().collect().await.unwrap().to_bytes();
            (
                s,
                serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
            )
        }
    };
    let good = format!(
        "lon,lat,category,source,reported_at,description\n{},{},road,hotline_12345,2026-11-15 08:30:00,\"坑, 很深\"\n{},{},noise,wechat,,\n",
        p[0], p[1], p[0], p[1]
    );
    let (s, v) = post(good).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["imported"], 2);
    let snap = st.current();
    assert_eq!(snap.district.incidents.len(), before + 2);
    let x = &snap.district.incidents[before];
    assert_eq!(x.reported_at.to_string(), "2026-11-15T00:30:00Z");
    assert_eq!(x.description, "坑, 很深");
    let id = v["first_id"].as_i64().unwrap();
    let (_, _, c) = call(&st, "GET", &format!("/incidents/{id}"), &[], None).await;
    assert_eq!(c["route"]["grid"]["code"], code);
    let bad = format!(
        "lon,lat,category\n{},{},road\n{},north,road\n,,\n",
        p[0], p[1], p[0]
    );
    let (s, v) = post(bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let lines: Vec<i64> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4]);
    assert_eq!(
        st.current().district.incidents.len(),
        before + 2,
        "nothing of the bad file"
    );
}

async fn a_retried_report_with_its_idempotency_key_is_filed_once(b: Backend) {
    let st = fresh("idempotent", b);
    let (p, _) = point_in_grid(&st, 3);
    let body = json!({"lon": p[0], "lat": p[1], "category": "road", "description": "井盖缺失"});
    let before = st.current().district.incidents.len();
    let key = [("idempotency-key", "report-7f3a".to_string())];
    let (s1, h1, v1) = call(&st, "POST", "/incidents", &key, Some(body.clone())).await;
    assert_eq!(s1, StatusCode::CREATED, "{v1}");
    assert!(h1.get("idempotent-replayed").is_none());
    // The answer was lost; the client sends it again, twice at once.
    let (a, b2) = tokio::join!(
        call(&st, "POST", "/incidents", &key, Some(body.clone())),
        call(&st, "POST", "/incidents", &key, Some(body.clone())),
    );
    for (s, h, v) in [a, b2] {
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["id"], v1["id"], "the first answer");
        assert_eq!(h["idempotent-replayed"], "true");
        assert_eq!(
            h[axum::http::header::LOCATION],
            h1[axum::http::header::LOCATION]
        );
    }
    assert_eq!(st.current().district.incidents.len(), before + 1);
    // Another key is another report; a bad key is refused.
    let other = [("idempotency-key", "report-7f3b".to_string())];
    let (s, _, v) = call(&st, "POST", "/incidents", &other, Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_ne!(v["id"], v1["id"]);
    let long = [("idempotency-key", "k".repeat(300))];
    let (s, _, v) = call(&st, "POST", "/incidents", &long, Some(body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(st.current().district.incidents.len(), before + 2);
}

/// An Open311 request from `ip` without signing in.
async fn anonymous(
    st: &Arc<AppState>,
    ip: &str,
    method: &str,
    uri: &str,
    body: &str,
) -> (StatusCode, Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    let r = super::app(st.clone()).oneshot(req).await.unwrap();
    let s = r.status();
    let b = r.into_body().collect().await.unwrap().to_bytes();
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

async fn anonymous_filing_is_limited_per_address_and_shown_only_roughly_placed(b: Backend) {
    let st = fresh("anon_311", b);
    let (p, _) = point_in_grid(&st, 5);
    let body = format!("service_code=environment&lat={}&long={}", p[1], p[0]);
    let mut ids = Vec::new();
    for i in 0..5 {
        let (s, v) = anonymous(&st, "10.7.0.1", "POST", "/open311/v2/requests.json", &body).await;
        assert_eq!(s, StatusCode::CREATED, "filing {i}: {v}");
        ids.push(v[0]["service_request_id"].as_str().unwrap().to_string());
    }
    let (s, v) = anonymous(&st, "10.7.0.1", "POST", "/open311/v2/requests.json", &body).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert!(
        v[0]["description"].as_str().unwrap().contains("sign in"),
        "{v}"
    );
    // Another address is not held back.
    let (s, _) = anonymous(&st, "10.7.0.2", "POST", "/open311/v2/requests.json", &body).await;
    assert_eq!(s, StatusCode::CREATED);
    // The public sees where to a hundred metres; staff exactly.
    let uri = format!("/open311/v2/requests/{}.json", ids[0]);
    let (_, public) = anonymous(&st, "10.7.0.3", "GET", &uri, "").await;
    let (_, _, staff) = call(&st, "GET", &uri, &[], None).await;
    let (pl, sl) = (
        public[0]["lat"].as_f64().unwrap(),
        staff[0]["lat"].as_f64().unwrap(),
    );
    assert_eq!(sl, p[1]);
    assert_eq!(pl, (p[1] * 1000.0).round() / 1000.0);
    assert!((pl - sl).abs() < 0.0006 && pl != sl, "{pl} {sl}");
}
