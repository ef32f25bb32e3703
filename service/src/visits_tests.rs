//! Household visits over HTTP, on both stores: grid staff record what
//! they found at a door; the records are append-only, checked (every
//! problem named), read back oldest first by those who see the
//! household's personal data, and every write and read is audited.

use axum::http::StatusCode;
use gridgov_spatial::access::Role;
use serde_json::json;

use super::test_support::{Backend, admin_token, call, fresh, token_for};

on_both_backends!(a_grid_staff_member_records_visits_that_are_kept_in_order_checked_and_audited,);

async fn a_grid_staff_member_records_visits_that_are_kept_in_order_checked_and_audited(b: Backend) {
    let st = fresh("visits", b);
    // A household of some grid, and that grid's staff member.
    let (hid, grid) = {
        let snap = st.current();
        let (i, g) = snap
            .district
            .households
            .iter()
            .enumerate()
            .find_map(|(i, h)| {
                let p = *snap.assignment.units.get(h.unit.index())?;
                p.responsible()
                    .map(|g| (i + 1, snap.district.area(g).code.clone()))
            })
            .unwrap();
        (i, g)
    };
    let mine = token_for(&st, "wang_visit", Role::GridStaff, &[grid.as_str()], None);
    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    let uri = format!("/households/{hid}/visits");
    let (s, _, first) = call(
        &st,
        "POST",
        &uri,
        &bearer(&mine),
        Some(json!({"date": "2026-11-02", "note": "独居老人，子女在外地；已登记联系方式"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["by"], "wang_visit");
    assert_eq!(first["household"], hid);
    // Without a day: today, in the district's time.
    let (s, _, second) = call(
        &st,
        "POST",
        &uri,
        &bearer(&mine),
        Some(json!({"note": "复访"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{second}");
    let today = gridgov_spatial::period::date(gridgov_spatial::time::local_day(
        st.app.now(),
        gridgov_spatial::time::CHINA_OFFSET_S,
    ));
    assert_eq!(second["date"], today.as_str());
    assert!(second["id"].as_i64() > first["id"].as_i64());

    // Every problem is named: a day in the future and a note too long.
    let (s, _, bad) = call(
        &st,
        "POST",
        &uri,
        &bearer(&mine),
        Some(json!({"date": "2999-01-01", "note": "长".repeat(2001)})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let detail = bad["detail"].as_str().unwrap();
    assert!(
        detail.contains("date") && detail.contains("note"),
        "{detail}"
    );
    assert_eq!(bad["field"], "date");
    let (s, _, bad) = call(
        &st,
        "POST",
        &uri,
        &bearer(&mine),
        Some(json!({"date": "11/02"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (s, _, bad) = call(
        &st,
        "POST",
        &uri,
        &bearer(&mine),
        Some(json!({"when": "today"})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused: {bad}"
    );
    let (s, _, _) = call(
        &st,
        "POST",
        "/households/99999999/visits",
        &bearer(&mine),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Read back, oldest first, nothing of the refused ones.
    let (s, _, list) = call(&st, "GET", &uri, &bearer(&mine), None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let visits = list["visits"].as_array().unwrap();
    assert_eq!(visits.len(), 2, "{list}");
    assert_eq!(visits[0], first);
    assert_eq!(visits[1], second);
    assert_eq!(list["grid"], grid.as_str());

    // Append-only: no route changes or deletes a record.
    for m in ["PUT", "DELETE", "PATCH"] {
        let (s, _, _) = call(&st, m, &uri, &bearer(&mine), Some(json!({}))).await;
        assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{m}");
    }

    // The writes and the read are in the audit log, by the staff member.
    let admin = admin_token(&st);
    let (_, _, log) = call(
        &st,
        "GET",
        &format!("/audit?user=wang_visit&object={uri}&limit=50"),
        &bearer(&admin),
        None,
    )
    .await;
    let lines = log["entries"]
        .as_array()
        .or_else(|| log.as_array())
        .unwrap();
    let edits = lines.iter().filter(|l| l["action"] == "edit").count();
    assert!(edits >= 2, "each recorded visit is audited: {log}");
    assert!(
        lines.iter().any(|l| l["action"] == "read_personal"),
        "{log}"
    );
}
