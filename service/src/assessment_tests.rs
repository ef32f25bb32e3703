//! `GET /stats/assessment` over HTTP, on both stores: a case run through
//! the loop by two staff members is counted for its grid and for each of
//! them with the figures worked out by hand; a bad period is named.

use geo::InteriorPoint;
use serde_json::json;

use super::test_support::{Backend, call, fresh, token_for};
use axum::http::StatusCode;
use gridgov_spatial::access::Role;

on_both_backends!(a_case_run_through_the_loop_is_assessed_for_its_grid_and_its_staff,);

async fn a_case_run_through_the_loop_is_assessed_for_its_grid_and_its_staff(b: Backend) {
    let st = fresh("assessment", b);
    let (p, code) = {
        let snap = st.current();
        let d = &snap.district;
        let g = d.grids().nth(5).unwrap();
        let p = d.area(g).boundary.interior_point().unwrap();
        let at = snap.grids.locate(p.x(), p.y()).unwrap();
        ([p.x(), p.y()], d.area(at).code.clone())
    };
    let (s, _, v) = call(
        &st,
        "POST",
        "/incidents",
        &[],
        Some(json!({"lon": p[0], "lat": p[1], "category": "road", "source": "hotline_12345", "description": "路灯不亮"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    // Two of the grid's staff work it; the desk (the test's admin) takes
    // the resident's evaluation.
    let wang = token_for(&st, "wang", Role::GridStaff, &[code.as_str()], None);
    let li = token_for(&st, "li", Role::GridStaff, &[code.as_str()], None);
    let desk = String::new();
    for (who, body) in [
        (&wang, json!({"action": "accept"})),
        (
            &wang,
            json!({"action": "dispatch", "to": {"kind": "grid", "name": code}}),
        ),
        (&li, json!({"action": "handle"})),
        (&li, json!({"action": "feedback"})),
        (&wang, json!({"action": "close"})),
        (&desk, json!({"action": "evaluate", "satisfaction": 4})),
    ] {
        let h = if who.is_empty() {
            vec![]
        } else {
            vec![("authorization", format!("Bearer {who}"))]
        };
        let (s, _, v) = call(
            &st,
            "POST",
            &format!("/incidents/{id}/steps"),
            &h,
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{body}: {v}");
    }

    // The current month holds just this case (the sample's are older).
    let (s, _, a) = call(&st, "GET", "/stats/assessment", &[], None).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let grids = a["grids"].as_array().unwrap();
    assert_eq!(grids.len(), st.current().district.grids().count());
    let g = &grids[0];
    assert_eq!(g["code"], code.as_str());
    assert_eq!(
        (
            &g["cases"],
            &g["handled"],
            &g["closed"],
            &g["dispatched"],
            &g["reopened"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(1), &json!(0))
    );
    assert_eq!(g["to_accept"]["n"], 1);
    assert!(g["to_close"]["median"].as_f64().unwrap() < 0.1, "{g}");
    assert_eq!(
        (&g["overdue_rate"], &g["reopen_rate"]),
        (&json!(0.0), &json!(0.0))
    );
    assert_eq!(g["satisfaction"], 4.0);
    // 30 closed + 30 on time + 20 × (4 − 1) / 4 + 20 not reopened.
    assert_eq!((&g["score"], &g["rank"]), (&json!(95.0), &json!(1)));
    assert!(
        grids[1..]
            .iter()
            .all(|g| g["cases"] == 0 && g["rank"].is_null())
    );
    let staff = a["staff"].as_array().unwrap();
    let users: Vec<&str> = staff.iter().map(|s| s["user"].as_str().unwrap()).collect();
    // li handled it (40 on time + 40 × 3/4 + 20 not reopened); wang only
    // accepted, dispatched and closed, the desk only took the evaluation.
    assert_eq!(users, ["li", "tester", "wang"], "{:#}", a["staff"]);
    assert_eq!(
        (&staff[0]["handled"], &staff[0]["score"], &staff[0]["rank"]),
        (&json!(1), &json!(90.0), &json!(1))
    );
    assert_eq!(
        (
            &staff[2]["accepted"],
            &staff[2]["dispatched"],
            &staff[2]["closed"],
            &staff[2]["rank"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(null)),
        "{:#}",
        a["staff"]
    );

    // An older month: the sample's cases, counted, with no steps to time.
    let (s, _, old) = call(&st, "GET", "/stats/assessment?period=2026-10", &[], None).await;
    assert_eq!(s, StatusCode::OK);
    let cases: u64 = old["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["cases"].as_u64().unwrap())
        .sum();
    assert!(cases > 100, "{cases}");

    let (s, _, v) = call(&st, "GET", "/stats/assessment?period=last-week", &[], None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "period");
}
