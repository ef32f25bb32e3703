//! `gridgov roles`: the district's list of staff roles on the store, as
//! an administrator keeps it — listed, replaced from a file (every problem
//! named, nothing changed), and what a looked-up grid's team is titled.

use crate::util::{gridgov, repo, s, tmp_dir};

fn seed() -> String {
    s(&repo().join("data/sample-district.json")).to_owned()
}

#[test]
fn an_administrator_lists_and_replaces_the_roles_and_a_bad_list_changes_nothing() {
    let dir = tmp_dir("roles_cli");
    let db = dir.join("roles.gpkg");
    let db = s(&db);
    let list = gridgov(&["roles", "list", "--db", db, "--seed", &seed()]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    for want in [
        "grid_leader",
        "网格长",
        "building_leader",
        "楼栋长",
        "building",
        "应急管理员",
    ] {
        assert!(list.stdout.contains(want), "{want} not in\n{}", list.stdout);
    }
    let json = gridgov(&["roles", "list", "--json", "--db", db, "--seed", &seed()]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let mut roles = json.json();
    assert_eq!(roles.as_array().unwrap().len(), 9);

    // Dropping roles the sample's teams hold and a repeated code: refused,
    // each named, exit 2.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"code":"grid_leader","zh":"网格长","en":"grid leader"},
            {"code":"grid_leader","zh":"网格长","en":"grid leader"},
            {"code":"building_leader","zh":"楼栋长","en":"building leader","scope":"building"}]"#,
    )
    .unwrap();
    let r = gridgov(&["roles", "set", s(&bad), "--db", db, "--seed", &seed()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for want in [
        "the roles were not changed",
        "role 2: code \"grid_leader\" is listed twice",
        "role \"grid_worker\" is held by",
        "role \"volunteer\" is held by",
    ] {
        assert!(r.stderr.contains(want), "{want} not in\n{}", r.stderr);
    }
    let again = gridgov(&["roles", "list", "--json", "--db", db, "--seed", &seed()]);
    assert_eq!(again.json(), roles);

    // Not JSON: refused by name.
    std::fs::write(&bad, "grid_leader,网格长").unwrap();
    let r = gridgov(&["roles", "set", s(&bad), "--db", db, "--seed", &seed()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a list of roles"), "{}", r.stderr);

    // A new role and a retitled one: kept in the store.
    let list = roles.as_array_mut().unwrap();
    list.push(
        serde_json::json!({"code": "property_manager", "zh": "物业经理", "en": "property manager"}),
    );
    list[2]["zh"] = "专职网格员".into();
    let good = dir.join("good.json");
    std::fs::write(&good, serde_json::to_string(&roles).unwrap()).unwrap();
    let r = gridgov(&["roles", "set", s(&good), "--db", db, "--seed", &seed()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("10 roles set"), "{}", r.stderr);
    let now = gridgov(&["roles", "list", "--db", db, "--seed", &seed()]);
    assert!(now.stdout.contains("property_manager") && now.stdout.contains("物业经理"));

    // The grid's team is titled by the district's list.
    let d = crate::util::sample();
    let c = geo::InteriorPoint::interior_point(&d.buildings[42].footprint).unwrap();
    let at = format!("{},{}", c.x(), c.y());
    let r = gridgov(&["lookup", "--at", &at, "--db", db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("staff     专职网格员 "), "{}", r.stdout);
}
