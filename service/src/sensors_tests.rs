//! Monitoring points over HTTP, on both stores: a reading series that
//! crosses the threshold and falls back opens exactly one case, routed to
//! the point's grid and heard on the live feed within a second, and
//! closes it; a second crossing opens a second; CSV readings and bad
//! input are answered as a gateway needs.

use std::time::Duration;

use geo::InteriorPoint;
use serde_json::{Value, json};

use super::screens_tests::{next_event, open_feed};
use super::test_support::{Backend, call, fresh};
use axum::http::StatusCode;

on_both_backends!(a_crossing_series_opens_one_case_for_the_points_grid_and_closes_it,);

/// Minute `minute` of a series that began three hours ago (so that the
/// chart of the last day holds it all).
fn at(minute: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let start = (now - 3 * 3600) / 3600 * 3600;
    gridgov_spatial::time::from_epoch(start + minute * 60).to_string()
}

fn series(from: i64, values: &[f64]) -> Value {
    json!({"readings": values.iter().enumerate().map(|(k, v)| json!({"at": at(from + k as i64), "value": v})).collect::<Vec<_>>()})
}

async fn a_crossing_series_opens_one_case_for_the_points_grid_and_closes_it(b: Backend) {
    let st = fresh("sensors", b);
    let (p, code) = {
        let snap = st.current();
        let d = &snap.district;
        let g = d.grids().nth(4).unwrap();
        let p = d.area(g).boundary.interior_point().unwrap();
        let at = snap.grids.locate(p.x(), p.y()).unwrap();
        ([p.x(), p.y()], d.area(at).code.clone())
    };
    let point = json!({"name": "人民路下穿桥", "lon": p[0], "lat": p[1], "threshold": 30.0, "clear_below": 20.0});
    let (s, _, v) = call(&st, "PUT", "/sensors/WL-01", &[], Some(point.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["grid"]["code"], code.as_str());
    assert_eq!(
        (&v["unit"], &v["category"]),
        (&json!("cm"), &json!("waterlogging"))
    );
    let (s, _, _) = call(&st, "PUT", "/sensors/WL-01", &[], Some(point)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, v) = call(
        &st,
        "PUT",
        "/sensors/bad%20code",
        &[],
        Some(
            json!({"name": " ", "lon": 200.0, "lat": 34.0, "threshold": 30.0, "clear_below": 40.0}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let d = v["detail"].as_str().unwrap();
    for want in [
        "code \"bad code\"",
        "name:",
        "location 200",
        "clear_below 40",
    ] {
        assert!(d.contains(want), "{want} not in {d}");
    }

    // Rising, high for a while, falling back: one case, then closed.
    let mut feed = open_feed(&st, None).await;
    let sent = std::time::Instant::now();
    let (s, _, r) = call(
        &st,
        "POST",
        "/sensors/WL-01/readings",
        &[],
        Some(series(0, &[5.0, 18.0, 29.9, 31.0, 44.0, 38.0, 25.0])),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["stored"], 7);
    let opened = r["opened"].as_array().unwrap();
    assert_eq!(opened.len(), 1, "{r}");
    assert!(r["closed"].as_array().unwrap().is_empty());
    let case = opened[0].as_i64().unwrap();
    assert_eq!(r["state"]["alarm_case"], case);
    let e = next_event(&mut feed, "case", Duration::from_secs(1))
        .await
        .expect("the alarm reaches the live feed within 1 s");
    assert!(sent.elapsed() < Duration::from_secs(2));
    assert_eq!((e["id"].as_i64(), &e["kind"]), (Some(case), &json!("new")));
    assert_eq!(e["grid"]["code"], code.as_str());
    assert_eq!(e["category"], "waterlogging");
    let (_, _, c) = call(&st, "GET", &format!("/incidents/{case}"), &[], None).await;
    assert_eq!(c["incident"]["source"], "sensor");
    assert_eq!(c["incident"]["reported_at"], at(3).as_str());
    assert!(
        c["incident"]["description"]
            .as_str()
            .unwrap()
            .contains("31"),
        "{c}"
    );
    assert_eq!(c["route"]["grid"]["code"], code.as_str(), "{c}");

    // Still above the clear level: nothing; below it: closed.
    let (_, _, r) = call(
        &st,
        "POST",
        "/sensors/WL-01/readings",
        &[],
        Some(series(7, &[22.0, 19.5, 10.0])),
    )
    .await;
    assert_eq!(
        (
            r["opened"].as_array().unwrap().len(),
            r["closed"][0].as_i64()
        ),
        (0, Some(case)),
        "{r}"
    );
    let (_, _, c) = call(&st, "GET", &format!("/incidents/{case}"), &[], None).await;
    assert_eq!(c["state"]["status"], "closed", "{c}");
    assert_eq!(
        c["history"].as_array().unwrap().last().unwrap()["action"],
        "clear"
    );
    assert_eq!(
        c["history"].as_array().unwrap().last().unwrap()["actor"],
        "system"
    );

    // A late reading changes nothing; a second crossing (as CSV) opens a
    // second case.
    let csv = format!("at,value\n{},99\n{},35\n{},36\n", at(1), at(20), at(21));
    let (s, _, r) =
        super::test_support::call_raw(&st, "POST", "/sensors/WL-01/readings", "text/csv", csv)
            .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (&r["late"], r["opened"].as_array().unwrap().len()),
        (&json!(1), 1),
        "{r}"
    );
    assert_ne!(r["opened"][0].as_i64(), Some(case));

    // The list and the chart.
    let (_, _, l) = call(&st, "GET", "/sensors", &[], None).await;
    let s0 = &l["sensors"][0];
    assert_eq!(
        (&s0["code"], &s0["last"]["value"]),
        (&json!("WL-01"), &json!(36.0))
    );
    assert_eq!(s0["alarm"]["case"], r["opened"][0]);
    let (_, _, ch) = call(&st, "GET", "/sensors/WL-01/readings?hours=24", &[], None).await;
    assert_eq!(ch["readings"].as_array().unwrap().len(), 13, "{ch}");
    assert_eq!(ch["threshold"], 30.0);

    // The month's report lists the open alarm (not the cleared one).
    let month = {
        let now = st.app.now();
        let day = gridgov_spatial::period::local_day(now, gridgov_spatial::period::CHINA_OFFSET_S);
        gridgov_spatial::period::date(day)[..7].to_owned()
    };
    let (s, _, rep) = call(&st, "GET", &format!("/reports/{month}.json"), &[], None).await;
    assert_eq!(s, StatusCode::OK, "{rep}");
    let ids: Vec<i64> = rep["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [r["opened"][0].as_i64().unwrap()], "{}", rep["alarms"]);
    assert_eq!(rep["alarms"][0]["grid"]["code"], code.as_str());
    assert!(
        rep["alarms"][0]["description"]
            .as_str()
            .unwrap()
            .contains("人民路下穿桥")
    );

    // Bad readings: each named; an unknown point: 404.
    let (s, _, v) = super::test_support::call_raw(
        &st,
        "POST",
        "/sensors/WL-01/readings",
        "text/csv",
        "at,value\nyesterday,3\n2026-12-01T00:00:00Z,deep\n".into(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let d = v["detail"].as_str().unwrap();
    assert!(
        d.contains("line 2: at") && d.contains("line 3: value"),
        "{d}"
    );
    let (s, _, _) = call(
        &st,
        "POST",
        "/sensors/none/readings",
        &[],
        Some(series(0, &[1.0])),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Nobody steps a case with `clear` but the monitoring point.
    let (s, _, v) = call(
        &st,
        "POST",
        &format!("/incidents/{}/steps", r["opened"][0]),
        &[],
        Some(json!({"action": "clear", "value": 1.0})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("only a monitoring point"),
        "{v}"
    );
}
