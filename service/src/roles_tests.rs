//! The district's list of staff roles over HTTP, on both stores: admins
//! replace it (every problem named, a role someone holds not dropped),
//! grid staff may not; a new role is what teams may hold, what the pages'
//! catalogue titles and what the residents' page shows, kept in the store
//! and heard of by a second replica.

use serde_json::{Value, json};

use super::test_support::{Backend, call, fresh, replicas, token_for};
use axum::http::StatusCode;
use gridgov_spatial::access::Role;

on_both_backends!(
    admins_replace_the_roles_and_teams_may_then_hold_the_new_ones,
    roles_changed_on_one_replica_reach_the_other,
);

fn bearer(t: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {t}"))]
}

/// The default list with a property manager and without emergency
/// management (which the sample's teams do not hold).
fn new_list() -> Value {
    let mut roles: Vec<Value> = gridgov_spatial::Roles::default()
        .0
        .iter()
        .filter(|r| r.code.as_str() != "emergency_management")
        .map(|r| json!(r))
        .collect();
    roles.push(json!({"code": "property_manager", "zh": " 物业经理 ", "en": "property manager"}));
    json!({ "roles": roles })
}

async fn admins_replace_the_roles_and_teams_may_then_hold_the_new_ones(b: Backend) {
    let st = fresh("roles_put", b);
    let grid = {
        let snap = st.current();
        let d = &snap.district;
        let g = d
            .grids()
            .find(|g| d.area(*g).kind == Some(gridgov_spatial::GridKind::Basic))
            .unwrap();
        d.area(g).code.clone()
    };

    // Everyone may read the list, in the order teams are listed.
    let (s, _, v) = call(&st, "GET", "/roles", &[], None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["roles"][0]["code"], "grid_leader");
    assert_eq!(v["roles"][0]["zh"], "网格长");
    assert_eq!(v["roles"][3]["scope"], "building");

    // Grid staff may not change it.
    let staff = token_for(&st, "roles-staff", Role::GridStaff, &[grid.as_str()], None);
    let (s, _, v) = call(&st, "PUT", "/roles", &bearer(&staff), Some(new_list())).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    // A list that drops a role the sample's teams hold, with a bad code
    // and no role for buildings: every problem named, nothing changed.
    let bad = json!({"roles": [
        {"code": "grid_leader", "zh": "网格长", "en": "grid leader"},
        {"code": "Bad Code", "zh": "坏", "en": "bad"},
    ]});
    let (s, _, v) = call(&st, "PUT", "/roles", &[], Some(bad)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let detail = v["detail"].as_str().unwrap();
    for want in [
        "code \"Bad Code\" is not",
        "building leaders (scope building)",
        "role \"volunteer\" is held by",
        "role \"building_leader\" is held by",
        "of the grid teams",
    ] {
        assert!(detail.contains(want), "{want:?} not in {detail}");
    }
    assert!(st.current().district.roles.is_default());

    // A good list: the new role's titles trimmed, in the store.
    let (s, _, v) = call(&st, "PUT", "/roles", &[], Some(new_list())).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let last = v["roles"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last,
        json!({"code": "property_manager", "zh": "物业经理", "en": "property manager", "scope": "grid"})
    );
    let app = st.app.clone();
    let stored = tokio::task::spawn_blocking(move || app.store.roles())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, st.current().district.roles);
    assert!(
        stored
            .get(&gridgov_spatial::StaffRole::new("property_manager"))
            .is_some()
    );

    // The pages' catalogue titles it, in both languages.
    let (_, _, zh) = call(&st, "GET", "/i18n?lang=zh-CN", &[], None).await;
    assert_eq!(zh["messages"]["staff.property_manager"], "物业经理");
    assert_eq!(zh["messages"]["staff.grid_worker"], "网格员");
    let (_, _, en) = call(&st, "GET", "/i18n?lang=en", &[], None).await;
    assert_eq!(en["messages"]["staff.property_manager"], "property manager");

    // A team may hold the new role, not the dropped one.
    let (_, h, _) = call(&st, "GET", &format!("/grids/{grid}"), &[], None).await;
    let tag = h.get("etag").unwrap().to_str().unwrap().to_owned();
    let uri = format!("/grids/{grid}/team");
    let team = |role: &str| {
        json!({"reason": "物业进网格", "team": [
            {"role": "grid_leader", "name": "陈静", "phone": "13700000001"},
            {"role": "grid_worker", "name": "吴敏", "phone": "13700000003"},
            {"role": role, "name": "郑伟", "phone": "13700000004"},
        ]})
    };
    let ifm = vec![("if-match", tag.clone())];
    let (s, _, v) = call(&st, "PUT", &uri, &ifm, Some(team("emergency_management"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("member 3: the district has no role \"emergency_management\""),
        "{v}"
    );
    let (s, _, v) = call(&st, "PUT", &uri, &ifm, Some(team("building_leader"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("member 3: building_leader (楼栋长) serves a building"),
        "{v}"
    );
    let (s, _, v) = call(&st, "PUT", &uri, &ifm, Some(team("property_manager"))).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Now that a team holds it, the role cannot be dropped.
    let (s, _, v) = call(
        &st,
        "PUT",
        "/roles",
        &[],
        Some(json!({"roles": gridgov_spatial::Roles::default()})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains(&format!(
            "role \"property_manager\" is held by 1 of the grid teams ({grid})"
        )),
        "{v}"
    );
}

async fn roles_changed_on_one_replica_reach_the_other(b: Backend) {
    let (one, two) = replicas("roles_replicas", b);
    let (s, _, v) = call(&one, "PUT", "/roles", &[], Some(new_list())).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let pm = gridgov_spatial::StaffRole::new("property_manager");
    if matches!(b, Backend::PostGis) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while two.current().district.roles.get(&pm).is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "replica two never heard of the new roles"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    } else {
        // Two states over one GeoPackage: the second reads it when told.
        two.app.roles_refreshed().unwrap();
    }
    assert_eq!(two.current().district.roles, one.current().district.roles);
    let (_, _, v) = call(&two, "GET", "/roles", &[], None).await;
    assert_eq!(
        v["roles"].as_array().unwrap().last().unwrap()["code"],
        "property_manager"
    );
}
