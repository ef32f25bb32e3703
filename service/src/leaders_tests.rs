//! Building leaders over HTTP, on both stores: the sample's leaders in the
//! chain (address lookup, OGC items, the handheld's slice), replaced by the
//! building's grid staff with every problem named, refused to other grids'
//! staff, kept in the store and heard of by a second replica.

use serde_json::{Value, json};

use super::test_support::{Backend, call, fresh, replicas, token_for};
use axum::http::StatusCode;
use gridgov_spatial::access::Role;

on_both_backends!(
    every_building_of_the_sample_has_its_leader_in_the_lookup_the_items_and_the_slice,
    a_buildings_grid_staff_replace_its_leaders_and_other_grids_staff_may_not,
    leaders_changed_on_one_replica_reach_the_other,
);

fn bearer(t: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {t}"))]
}

/// A building placed in a grid: its index, code, address and grid code.
fn a_building(st: &super::AppState) -> (usize, String, String, String) {
    let snap = st.current();
    let d = &snap.district;
    let (i, g) = snap
        .assignment
        .buildings
        .iter()
        .enumerate()
        .find_map(|(i, p)| (!p.straddling).then_some(i).zip(p.placement.responsible()))
        .unwrap();
    let b = &d.buildings[i];
    (i, b.code.clone(), b.address.clone(), d.area(g).code.clone())
}

async fn every_building_of_the_sample_has_its_leader_in_the_lookup_the_items_and_the_slice(
    b: Backend,
) {
    let st = fresh("leaders_chain", b);
    let d = &st.current().district;
    assert!(d.buildings.iter().all(|b| b.leaders.len() == 1));
    let red = d
        .buildings
        .iter()
        .filter(|b| b.leaders[0].party_member)
        .count();
    assert!(
        (0.3..0.6).contains(&(red as f64 / d.buildings.len() as f64)),
        "{red} red building leaders of {}",
        d.buildings.len()
    );
    let (i, code, address, grid) = a_building(&st);
    let leader = d.buildings[i].leaders[0].clone();
    let q = url_escape(&address);
    let (s, _, v) = call(&st, "GET", &format!("/lookup?address={q}"), &[], None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let c = v["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["building"] == code.as_str())
        .unwrap_or_else(|| panic!("{code} not among {v}"));
    assert_eq!(c["leaders"][0]["name"], leader.name.as_str());
    assert_eq!(c["leaders"][0]["role"], "building_leader");
    // grid → building → unit: the chain starts at the building's grid.
    assert_eq!(c["chain"][0]["code"], grid.as_str());
    let (_, _, item) = call(
        &st,
        "GET",
        &format!("/collections/buildings/items/{}", i + 1),
        &[],
        None,
    )
    .await;
    assert_eq!(
        item["properties"]["leaders"][0]["phone"],
        leader.phone.as_str()
    );
    let staff = token_for(&st, "li_leaders", Role::GridStaff, &[grid.as_str()], None);
    let (s, _, slice) = call(&st, "GET", "/m/slice", &bearer(&staff), None).await;
    assert_eq!(s, StatusCode::OK);
    let sb = slice["buildings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == code.as_str())
        .unwrap();
    assert_eq!(sb["leaders"][0]["name"], leader.name.as_str());
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn a_buildings_grid_staff_replace_its_leaders_and_other_grids_staff_may_not(b: Backend) {
    let st = fresh("leaders_put", b);
    let (i, code, _, grid) = a_building(&st);
    let other = st
        .current()
        .district
        .grids()
        .map(|g| st.current().district.area(g).code.clone())
        .find(|c| *c != grid)
        .unwrap();
    let mine = token_for(&st, "wang_leaders", Role::GridStaff, &[grid.as_str()], None);
    let theirs = token_for(
        &st,
        "zhao_leaders",
        Role::GridStaff,
        &[other.as_str()],
        None,
    );
    let uri = format!("/buildings/{code}/leaders");
    let body = json!({"leaders": [
        {"name": " 刘洋 ", "phone": "13912345678", "party_member": true},
        {"name": "陈静", "phone": "0632-1234567"},
    ]});
    let (s, _, v) = call(&st, "PUT", &uri, &bearer(&theirs), Some(body.clone())).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _, v) = call(&st, "PUT", &uri, &bearer(&mine), Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["leaders"][0]["name"], "刘洋");
    assert_eq!(v["leaders"][0]["party_member"], true);
    assert!(v["leaders"][1].get("party_member").is_none(), "{v}");
    // In the read model at once, and in the store.
    let now = &st.current().district.buildings[i].leaders;
    assert_eq!(now.len(), 2);
    let app = st.app.clone();
    let kept = tokio::task::spawn_blocking(move || {
        app.store
            .building_leaders(gridgov_spatial::BuildingId(i as u32))
            .unwrap()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(&kept, now);
    // Every problem is named; nothing changes.
    let (s, _, v) = call(
        &st,
        "PUT",
        &uri,
        &bearer(&mine),
        Some(json!({"leaders": [{"name": "", "phone": "13912345678"}, {"name": "王", "phone": "call me"}]})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("leader 1: a name") && detail.contains("leader 2: phone"),
        "{detail}"
    );
    assert_eq!(st.current().district.buildings[i].leaders.len(), 2);
    let (s, _, v) = call(
        &st,
        "PUT",
        &uri,
        &[],
        Some(json!({"leaders": [
            {"name": "王", "phone": "1", "role": "admin"},
            {"name": "李", "phone": "2", "role": "grid_worker"},
        ]})),
    )
    .await;
    // A role the district does not have, and one of a grid's team: each
    // named, nothing changed.
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("leader 1: the district has no role \"admin\""),
        "{detail}"
    );
    assert!(
        detail.contains("leader 2: grid_worker (网格员) is a role of a grid's team"),
        "{detail}"
    );
    assert_eq!(st.current().district.buildings[i].leaders.len(), 2);
    let (s, _, _) = call(
        &st,
        "PUT",
        "/buildings/nowhere/leaders",
        &[],
        Some(json!({"leaders": []})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // An empty list: the building has no leader now.
    let (s, _, v) = call(&st, "PUT", &uri, &[], Some(json!({"leaders": []}))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(st.current().district.buildings[i].leaders.is_empty());
}

async fn leaders_changed_on_one_replica_reach_the_other(b: Backend) {
    let (one, two) = replicas("leaders_replicas", b);
    let (i, code, _, _) = a_building(&one);
    let (s, _, v) = call(
        &one,
        "PUT",
        &format!("/buildings/{code}/leaders"),
        &[],
        Some(json!({"leaders": [{"name": "孙丽", "phone": "13700001111"}]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let leader_on_two =
        |two: &super::AppState| -> Value { json!(two.current().district.buildings[i].leaders) };
    if matches!(b, Backend::PostGis) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while leader_on_two(&two)[0]["name"] != "孙丽" {
            assert!(
                std::time::Instant::now() < deadline,
                "replica two still has {}",
                leader_on_two(&two)
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    } else {
        // Two states over one GeoPackage: the second reads it when told.
        two.app
            .building_refreshed(gridgov_spatial::BuildingId(i as u32))
            .unwrap();
        assert_eq!(leader_on_two(&two)[0]["name"], "孙丽");
    }
}
