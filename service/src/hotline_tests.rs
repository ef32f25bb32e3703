//! The 12345 hotline over HTTP, on both stores: a case from the hotline
//! platform keeps its case number, the same number again is the same
//! case, and each change of its status reaches the callback the admin
//! configured — a local receiver here — with the case number.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use geo::InteriorPoint;
use serde_json::{Value, json};

use super::test_support::{Backend, call, replicas, state_with, store, test_config};
use axum::http::StatusCode;

on_both_backends!(
    a_hotline_case_keeps_its_number_and_its_status_changes_reach_the_callback,
    a_number_filed_on_one_replica_is_the_same_case_on_the_other,
);

/// What a receiver got: each request's `X-Gridgov-Event` and JSON body.
type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// A local HTTP receiver: every JSON body posted to it, answered 200.
fn receiver() -> (String, Received) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/gridgov/status", l.local_addr().unwrap());
    let got: Received = Arc::default();
    let g = got.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let mut r = BufReader::new(c.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let mut len = 0;
            let mut event = String::new();
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => len = v.trim().parse().unwrap(),
                    "x-gridgov-event" => event = v.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            assert!(line.starts_with("POST /gridgov/status "), "{line}");
            g.lock()
                .unwrap()
                .push((event, serde_json::from_slice(&body).unwrap()));
            c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .unwrap();
        }
    });
    (url, got)
}

async fn until(what: &str, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < deadline, "{what} within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_hotline_case_keeps_its_number_and_its_status_changes_reach_the_callback(b: Backend) {
    let (url, got) = receiver();
    let mut config = test_config(super::harden::Guard::default());
    config.hotline_callback = Some(url);
    let st = state_with(store(&format!("hotline_{b:?}").to_lowercase(), b), config);
    let (p, code) = {
        let snap = st.current();
        let d = &snap.district;
        let g = d.grids().nth(7).unwrap();
        let p = d.area(g).boundary.interior_point().unwrap();
        let at = snap.grids.locate(p.x(), p.y()).unwrap();
        ([p.x(), p.y()], d.area(at).code.clone())
    };
    let case = json!({
        "case_number": "12345-20261204-0007",
        "category": "road",
        "description": "路灯不亮",
        "lon": p[0], "lat": p[1],
        "caller_name": "赵敏", "caller_phone": "13900001111",
        "reported_at": "2026-12-04T09:30:00+08:00",
    });
    let (s, _, v) = call(&st, "POST", "/hotline/cases", &[], Some(case.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["case_number"], "12345-20261204-0007");
    assert_eq!(v["grid"]["code"], code.as_str());
    assert_eq!(v["status"], "reported");
    // The platform retries: the same case.
    let (s, _, again) = call(&st, "POST", "/hotline/cases", &[], Some(case)).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(
        (again["id"].as_i64(), &again["filed_before"]),
        (Some(id), &json!(true))
    );
    // Kept with the case: its number, channel and caller.
    let (s, _, c) = call(&st, "GET", &format!("/incidents/{id}"), &[], None).await;
    assert_eq!(s, StatusCode::OK);
    let x = &c["incident"];
    assert_eq!(x["source"], "hotline_12345", "{c}");
    assert_eq!(x["reporter"]["hotline_case"], "12345-20261204-0007", "{c}");
    assert_eq!(x["reporter"]["phone"], "13900001111");
    let (s, _, c) = call(&st, "GET", "/hotline/cases/12345-20261204-0007", &[], None).await;
    assert_eq!((s, c["id"].as_i64()), (StatusCode::OK, Some(id)));
    let (s, _, _) = call(&st, "GET", "/hotline/cases/none", &[], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Each status change reaches the callback, in order, with the number.
    for body in [
        json!({"action": "accept"}),
        json!({"action": "dispatch", "to": {"kind": "grid", "name": code}}),
    ] {
        let (s, _, v) = call(
            &st,
            "POST",
            &format!("/incidents/{id}/steps"),
            &[],
            Some(body),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    until("three updates", || got.lock().unwrap().len() >= 3).await;
    let got = got.lock().unwrap().clone();
    let statuses: Vec<&str> = got
        .iter()
        .map(|(_, v)| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["reported", "accepted", "dispatched"]);
    for (event, v) in &got {
        assert_eq!(event, "case.status");
        assert_eq!(v["case_number"], "12345-20261204-0007");
        assert_eq!(v["id"].as_i64(), Some(id));
        assert_eq!(v["grid"]["code"], code.as_str());
    }
    assert_eq!(got[2].1["status_name"], "已派遣");

    // A bad number is refused by name; nothing is filed.
    let (s, _, v) = call(
        &st,
        "POST",
        "/hotline/cases",
        &[],
        Some(json!({"case_number": " ", "category": "road", "lon": p[0], "lat": p[1]})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "case_number");
}

async fn a_number_filed_on_one_replica_is_the_same_case_on_the_other(b: Backend) {
    let (one, two) = replicas("hotline_replicas", b);
    // The second replica has looked numbers up before the filing.
    let (s, _, _) = call(&two, "GET", "/hotline/cases/12345-R-1", &[], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let p = {
        let snap = one.current();
        let d = &snap.district;
        let g = d.grids().nth(2).unwrap();
        d.area(g).boundary.interior_point().unwrap()
    };
    let case = json!({"case_number": "12345-R-1", "category": "road", "lon": p.x(), "lat": p.y()});
    let (s, _, v) = call(&one, "POST", "/hotline/cases", &[], Some(case.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    if matches!(b, Backend::GeoPackage) {
        // Two states over one GeoPackage: the second reads it when told.
        two.app.incidents_updated(&[id]).unwrap();
    }
    until("the other replica knows the number", || {
        let snap = two.current();
        usize::try_from(id - 1)
            .ok()
            .and_then(|i| snap.district.incidents.get(i))
            .is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (s, _, again) = call(&two, "POST", "/hotline/cases", &[], Some(case)).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(
        (again["id"].as_i64(), &again["filed_before"]),
        (Some(id), &json!(true))
    );
}
