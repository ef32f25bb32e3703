//! Proposed grids over HTTP, on both stores: a planner's proposal is a
//! draft that validates with no new errors, previews who moves where and
//! publishes, after which every grid of the community is in the band;
//! keeping today's grids moves fewer households; bad requests are named;
//! grid staff may not propose.

use serde_json::{Value, json};

use super::test_support::{Backend, call, fresh, token_for};
use axum::http::StatusCode;
use gridgov_spatial::access::Role;

on_both_backends!(
    a_proposal_is_a_draft_that_validates_previews_and_publishes_with_every_grid_in_the_band,
    bad_proposals_are_refused_with_the_field_named,
);

fn bearer(t: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {t}"))]
}

fn community(st: &super::test_support::TestState) -> String {
    let snap = st.current();
    let d = &snap.district;
    let c = d
        .areas
        .iter()
        .find(|a| a.level == gridgov_spatial::Level::Community)
        .unwrap();
    c.code.clone()
}

fn households_of(v: &Value) -> Vec<u64> {
    v["grids"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["fate"] != "removed")
        .map(|f| f["properties"]["households"].as_u64().unwrap())
        .collect()
}

async fn a_proposal_is_a_draft_that_validates_previews_and_publishes_with_every_grid_in_the_band(
    b: Backend,
) {
    let st = fresh("propose", b);
    let code = community(&st);
    let planner = token_for(&st, "planner-p", Role::Planner, &[], None);
    let (s, h, v) = call(
        &st,
        "POST",
        "/drafts/propose",
        &bearer(&planner),
        Some(json!({"community": code})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(h["location"], format!("/drafts/{id}").as_str());
    assert_eq!(v["draft"]["author"], "planner-p");
    let m = &v["metrics"];
    assert_eq!(m["share_in_band"], 1.0, "{m}");
    assert!(m["grids"].as_u64().unwrap() >= 2);
    assert!(m["compactness_mean"].as_f64().unwrap() > 0.3);
    assert!(households_of(&v).iter().all(|h| (300..=500).contains(h)));
    // Notes say what a planner must know, in Chinese by default.
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["message"].is_string())
    );

    let (s, _, val) = call(
        &st,
        "GET",
        &format!("/drafts/{id}/validate"),
        &bearer(&planner),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{val}");
    assert_eq!(val["new_errors"], json!([]), "{}", val["new_errors"]);
    let (s, _, pre) = call(
        &st,
        "GET",
        &format!("/drafts/{id}/preview"),
        &bearer(&planner),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{pre}");
    assert!(!pre["impact"]["moves"].as_array().unwrap().is_empty());
    assert_eq!(
        pre["impact"]["new_straddling"],
        json!([]),
        "no building newly cut"
    );

    let (s, _, pub_) = call(
        &st,
        "POST",
        &format!("/drafts/{id}/publish"),
        &bearer(&planner),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{pub_}");
    // After publishing, the community's basic grids hold the band.
    {
        let snap = st.current();
        let d = &snap.district;
        let c = d.area_by_code(&code).unwrap();
        let grids: Vec<_> = d
            .children(c)
            .filter(|&g| d.area(g).kind != Some(gridgov_spatial::GridKind::Exclusive))
            .collect();
        assert_eq!(grids.len() as u64, m["grids"].as_u64().unwrap());
        let mut per = std::collections::HashMap::new();
        for p in &snap.assignment.households {
            if let gridgov_spatial::Placement::Inside(g) = p {
                *per.entry(*g).or_insert(0u64) += 1;
            }
        }
        for g in grids {
            let n = per.get(&g).copied().unwrap_or(0);
            assert!(
                (300..=500).contains(&n),
                "{}: {n} households",
                d.area(g).code
            );
        }
    }
    // Proposed again keeping today's grids: they are in the band already,
    // so nothing is drafted.
    let (s, _, again) = call(
        &st,
        "POST",
        "/drafts/propose",
        &bearer(&planner),
        Some(json!({"community": code, "keep_existing": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["id"], Value::Null);
    assert_eq!(again["metrics"]["households_moved"], 0);
    assert!(
        again["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "nothing_to_change")
    );
}

async fn bad_proposals_are_refused_with_the_field_named(b: Backend) {
    let st = fresh("propose_bad", b);
    let code = community(&st);
    let (s, _, v) = call(
        &st,
        "POST",
        "/drafts/propose",
        &[],
        Some(json!({"community": "nope"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let grid = {
        let snap = st.current();
        let g = snap.district.grids().next().unwrap();
        snap.district.area(g).code.clone()
    };
    let (s, _, v) = call(
        &st,
        "POST",
        "/drafts/propose",
        &[],
        Some(json!({"community": grid})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "community");
    let (s, _, v) = call(
        &st,
        "POST",
        "/drafts/propose",
        &[],
        Some(json!({"community": code, "min": 600, "max": 300})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "min");
    let (s, _, v) = call(
        &st,
        "POST",
        "/drafts/propose",
        &[],
        Some(json!({"community": code, "bogus": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let staff = token_for(&st, "staff-p", Role::GridStaff, &[grid.as_str()], None);
    let (s, _, v) = call(
        &st,
        "POST",
        "/drafts/propose",
        &bearer(&staff),
        Some(json!({"community": code})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
}
