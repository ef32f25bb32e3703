//! Grid teams over HTTP, on both stores: the community's own grid staff
//! replace a grid's team as a new version (every problem named, a stale
//! ETag refused), other communities' staff may not, and the new team is
//! what the lookup and the residents' page show, the old one kept in the
//! grid's history.

use geo::InteriorPoint;
use serde_json::json;

use super::test_support::{Backend, call, fresh, token_for};
use axum::http::StatusCode;
use gridgov_spatial::Level;
use gridgov_spatial::access::Role;

on_both_backends!(a_communitys_grid_staff_replace_a_grids_team_as_a_new_version,);

fn bearer(t: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {t}"))]
}

async fn a_communitys_grid_staff_replace_a_grids_team_as_a_new_version(b: Backend) {
    let st = fresh("teams_put", b);
    let (grid, neighbour, stranger, point, old) = {
        let snap = st.current();
        let d = &snap.district;
        let c = d
            .areas
            .iter()
            .position(|a| a.level == Level::Community)
            .map(|i| gridgov_spatial::AreaId(i as u32))
            .unwrap();
        let mine: Vec<_> = d.children(c).collect();
        let other = d.grids().find(|g| d.area(*g).parent != Some(c)).unwrap();
        let g = d.area(mine[0]);
        let p = g.boundary.interior_point().unwrap();
        (
            g.code.clone(),
            d.area(mine[1]).code.clone(),
            d.area(other).code.clone(),
            p,
            g.staff.clone(),
        )
    };
    let (s, h, _) = call(&st, "GET", &format!("/grids/{grid}"), &[], None).await;
    assert_eq!(s, StatusCode::OK);
    let tag = h.get("etag").unwrap().to_str().unwrap().to_owned();
    let team = json!({"reason": "网格员调整", "team": [
        {"role": "grid_leader", "name": "陈静", "phone": "13700000001", "party_member": true},
        {"role": "instructor", "name": "周强", "phone": "13700000002"},
        {"role": "grid_worker", "name": "吴敏", "phone": "13700000003"},
        {"role": "community_police", "name": "郑伟", "phone": "13700000004"},
        {"role": "volunteer", "name": "孙丽", "phone": "13700000005"},
    ]});
    let uri = format!("/grids/{grid}/team");
    let with = |t: &str| {
        let mut h = bearer(t);
        h.push(("if-match", tag.clone()));
        h
    };

    // Another community's staff may not; the same community's may.
    let theirs = token_for(
        &st,
        "team-stranger",
        Role::GridStaff,
        &[stranger.as_str()],
        None,
    );
    let (s, _, v) = call(&st, "PUT", &uri, &with(&theirs), Some(team.clone())).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let ours = token_for(
        &st,
        "team-neighbour",
        Role::GridStaff,
        &[neighbour.as_str()],
        None,
    );
    let (s, _, v) = call(&st, "PUT", &uri, &bearer(&ours), Some(team.clone())).await;
    assert_eq!(s, StatusCode::PRECONDITION_REQUIRED, "{v}");

    // Every problem is named, and nothing changes.
    let bad = json!({"reason": "x", "team": [
        {"role": "building_leader", "name": "甲", "phone": "13700000001"},
        {"role": "grid_worker", "name": " ", "phone": "call me"},
    ]});
    let (s, _, v) = call(&st, "PUT", &uri, &with(&ours), Some(bad)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let detail = v["detail"].as_str().unwrap();
    for says in [
        "member 1: building_leader (楼栋长) serves a building",
        "member 2: a name",
        "member 2: phone",
    ] {
        assert!(detail.contains(says), "{says}: {detail}");
    }
    let (s, _, v) = call(
        &st,
        "PUT",
        &uri,
        &with(&ours),
        Some(json!({"reason": "x", "team": [{"role": "mayor", "name": "甲", "phone": "1"}]})),
    )
    .await;
    assert!(s.is_client_error(), "an unknown role: {s} {v}");

    let (s, h, v) = call(&st, "PUT", &uri, &with(&ours), Some(team.clone())).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["published"]["author"], "team-neighbour");
    assert_ne!(h.get("etag").unwrap().to_str().unwrap(), tag);

    // A second change from the old ETag is refused.
    let (s, _, v) = call(&st, "PUT", &uri, &with(&ours), Some(team.clone())).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");

    // The lookup and the residents' page show the new team.
    let (s, _, v) = call(
        &st,
        "GET",
        &format!("/lookup?lon={}&lat={}", point.x(), point.y()),
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v.to_string().contains("陈静"), "{v}");
    let (_, _, p) = call(
        &st,
        "GET",
        &format!("/r/place?lon={}&lat={}", point.x(), point.y()),
        &[],
        None,
    )
    .await;
    assert_eq!(p["team"].as_array().unwrap().len(), 5, "{p}");
    assert_eq!(p["team"][0]["party_member"], true);

    // The old team is kept in the grid's history.
    let (s, _, hist) = call(&st, "GET", &format!("/grids/{grid}/history"), &[], None).await;
    assert_eq!(s, StatusCode::OK);
    let text = hist.to_string();
    assert!(
        text.contains("陈静") && text.contains(&old[0].name),
        "both teams in the history"
    );
}
