//! The planners' workflow through the router, each test on its own store.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use geo::{BooleanOps, Centroid};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::AppState;
use super::test_support::{Backend, call, fresh, replicas, state_with, test_config};

on_both_backends!(
    a_draft_is_validated_previewed_and_published_then_history_and_rollback_work,
    of_two_planners_publishing_from_the_same_version_one_wins_and_the_other_gets_412,
    put_needs_the_current_etag,
    a_change_that_adds_an_overlap_is_validated_and_refused,
    bad_drafts_are_400_naming_the_field,
    a_version_is_authored_by_whoever_publishes_it_and_only_admins_backdate,
    a_publish_on_one_replica_reaches_the_other_and_a_stale_base_is_refused,
    tiles_change_the_moment_a_boundary_is_published,
);

/// A building and two basic grids of one community: the one it is in and
/// a neighbour; and the change moving the building's footprint across.
struct Move {
    building: String,
    at: (f64, f64),
    from: String,
    to: String,
    changes: Value,
}

fn a_move(st: &Arc<AppState>) -> Move {
    let snap = st.current();
    let d = &snap.district;
    let (i, b) = d
        .buildings
        .iter()
        .enumerate()
        .find(|(i, _)| {
            !snap.assignment.buildings[*i].straddling
                && snap.assignment.buildings[*i].placement.grid().is_some()
        })
        .unwrap();
    let from = snap.assignment.buildings[i].placement.grid().unwrap();
    let to = d
        .grids()
        .find(|&g| {
            g != from
                && d.area(g).kind == Some(gridgov_spatial::GridKind::Basic)
                && d.area(g).parent == d.area(from).parent
        })
        .unwrap();
    let grown = d.area(to).boundary.union(&b.footprint);
    let shrunk = d.area(from).boundary.difference(&b.footprint);
    let c = b.footprint.centroid().unwrap();
    let g =
        |mp: &geo::MultiPolygon<f64>| serde_json::to_value(geojson::Geometry::from(mp)).unwrap();
    Move {
        building: b.code.clone(),
        at: (c.x(), c.y()),
        from: d.area(from).code.clone(),
        to: d.area(to).code.clone(),
        changes: json!([{"code": d.area(to).code, "geometry": g(&grown)}, {"code": d.area(from).code, "geometry": g(&shrunk)}]),
    }
}

async fn grid_at(st: &Arc<AppState>, at: (f64, f64), as_of: Option<&str>) -> String {
    let q = as_of.map_or(String::new(), |d| format!("&as_of={d}"));
    let (s, _, v) = call(
        st,
        "GET",
        &format!("/lookup?lon={}&lat={}{q}", at.0, at.1),
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["chain"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn a_draft_is_validated_previewed_and_published_then_history_and_rollback_work(b: Backend) {
    let st = fresh("workflow", b);
    let m = a_move(&st);
    assert_eq!(grid_at(&st, m.at, None).await, m.from);
    let (s, h, v) = call(
        &st,
        "POST",
        "/drafts",
        &[],
        Some(json!({"reason": "road widening", "changes": m.changes})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(h[header::LOCATION], format!("/drafts/{id}").as_str());
    // Validation: the change adds no errors.
    let (s, _, v) = call(&st, "GET", &format!("/drafts/{id}/validate"), &[], None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["type"], "FeatureCollection");
    assert_eq!(v["new_errors"], json!([]), "{}", v["new_errors"]);
    // Preview: the building moves with its units and households.
    let (_, _, v) = call(&st, "GET", &format!("/drafts/{id}/preview"), &[], None).await;
    let moves = v["impact"]["moves"].as_array().unwrap();
    let mv = moves
        .iter()
        .find(|x| {
            x["buildings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b == m.building.as_str())
        })
        .expect("building moves");
    assert_eq!(mv["from"], m.from.as_str());
    assert_eq!(mv["to"], m.to.as_str());
    assert!(mv["households"].as_u64().unwrap() > 0);
    let totals = v["impact"]["households"].as_array().unwrap();
    assert!(
        totals
            .iter()
            .any(|t| t["grid"] == m.to.as_str() && t["after"].as_u64() > t["before"].as_u64())
    );
    // Publish: lookups answer from the new boundaries at once.
    let (s, _, v) = call(&st, "POST", &format!("/drafts/{id}/publish"), &[], None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["published"]["version"], 2);
    assert_eq!(grid_at(&st, m.at, None).await, m.to);
    let (s, _, _) = call(&st, "POST", &format!("/drafts/{id}/publish"), &[], None).await;
    assert_eq!(s, StatusCode::CONFLICT, "a draft is published once");
    // History and as_of: before today the old boundaries were in force.
    let (_, _, v) = call(&st, "GET", "/versions", &[], None).await;
    let vs = v["versions"].as_array().unwrap();
    assert_eq!(vs.len(), 2);
    assert_eq!(vs[1]["author"], "tester", "the signed-in user");
    assert_eq!(vs[1]["reason"], "road widening");
    let (_, _, v) = call(&st, "GET", &format!("/grids/{}/history", m.to), &[], None).await;
    assert_eq!(v["features"].as_array().unwrap().len(), 2);
    assert_eq!(grid_at(&st, m.at, Some("2000-01-01")).await, m.from);
    // Rollback publishes version 1's boundaries as version 3.
    let (s, _, v) = call(
        &st,
        "POST",
        "/versions/1/rollback",
        &[],
        Some(json!({"reason": "undo"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["published"]["version"], 3);
    assert_eq!(v["published"]["rollback_of"], 1);
    assert_eq!(grid_at(&st, m.at, None).await, m.from);
    // Everything survives a restart: a new state over the same store.
    let again = state_with(
        st.app.store.clone(),
        test_config(super::harden::Guard::default()),
    );
    assert_eq!(again.current().version, 3);
    assert_eq!(grid_at(&again, m.at, None).await, m.from);
}

async fn of_two_planners_publishing_from_the_same_version_one_wins_and_the_other_gets_412(
    b: Backend,
) {
    let st = fresh("race", b);
    let m = a_move(&st);
    let body = json!({"reason": "r", "changes": m.changes});
    let (_, _, d1) = call(&st, "POST", "/drafts", &[], Some(body.clone())).await;
    let (_, _, d2) = call(&st, "POST", "/drafts", &[], Some(body)).await;
    let u1 = format!("/drafts/{}/publish", d1["id"].as_str().unwrap());
    let u2 = format!("/drafts/{}/publish", d2["id"].as_str().unwrap());
    let (p1, p2) = tokio::join!(
        call(&st, "POST", &u1, &[], None),
        call(&st, "POST", &u2, &[], None)
    );
    let mut codes = [p1.0, p2.0];
    codes.sort();
    assert_eq!(
        codes,
        [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
        "{} / {}",
        p1.2,
        p2.2
    );
    let loser = if p1.0 == StatusCode::OK { &p2.2 } else { &p1.2 };
    assert_eq!(loser["code"], "boundary.changed", "{loser}");
    assert!(
        loser["detail"].as_str().unwrap().contains("已被他人修改"),
        "{loser}"
    );
    let (_, _, v) = call(&st, "GET", "/versions", &[], None).await;
    assert_eq!(
        v["versions"].as_array().unwrap().len(),
        2,
        "no lost or double update"
    );
}

async fn put_needs_the_current_etag(b: Backend) {
    let st = fresh("etag", b);
    let m = a_move(&st);
    let (s, h, f) = call(&st, "GET", &format!("/grids/{}", m.from), &[], None).await;
    assert_eq!(s, StatusCode::OK);
    let tag = h[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(tag, "\"1\"");
    let body = json!({"geometry": f["geometry"], "reason": "same boundary, new staff list"});
    let (s, _, v) = call(
        &st,
        "PUT",
        &format!("/grids/{}", m.from),
        &[],
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::PRECONDITION_REQUIRED, "{v}");
    let (s, h, v) = call(
        &st,
        "PUT",
        &format!("/grids/{}", m.from),
        &[("if-match", tag.clone())],
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(h[header::ETAG], "\"2\"");
    let (s, _, v) = call(
        &st,
        "PUT",
        &format!("/grids/{}", m.from),
        &[("if-match", tag)],
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    assert_eq!(v["field"], "base_version");
}

async fn a_change_that_adds_an_overlap_is_validated_and_refused(b: Backend) {
    let st = fresh("overlap", b);
    let m = a_move(&st);
    // Grow `to` by the building but leave `from` as it is: an overlap.
    let grown = m.changes[0].clone();
    let (_, _, d) = call(
        &st,
        "POST",
        "/drafts",
        &[],
        Some(json!({"reason": "r", "changes": [grown]})),
    )
    .await;
    let id = d["id"].as_str().unwrap();
    let (_, _, v) = call(&st, "GET", &format!("/drafts/{id}/validate"), &[], None).await;
    assert!(
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["properties"]["kind"] == "overlap"),
        "{v}"
    );
    assert!(!v["new_errors"].as_array().unwrap().is_empty());
    let (s, _, v) = call(&st, "POST", &format!("/drafts/{id}/publish"), &[], None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "boundary.adds_errors", "{v}");
    assert!(v["errors"].to_string().contains("overlaps"), "{v}");
    assert_eq!(grid_at(&st, m.at, None).await, m.from, "nothing published");
}

async fn bad_drafts_are_400_naming_the_field(b: Backend) {
    let st = fresh("bad", b);
    let sq = json!({"type": "Polygon", "coordinates": [[[117.55, 34.86], [117.56, 34.86], [117.56, 34.87], [117.55, 34.86]]]});
    let cases = [
        (json!({"reason": "r", "changes": []}), "changes"),
        (
            json!({"reason": "r", "effective_date": "next week", "changes": [{"code": "370402005001001", "geometry": sq}]}),
            "effective_date",
        ),
        (
            json!({"reason": "r", "changes": [{"code": "370402005001001", "geometry": {"type": "Polygon", "coordinates": [[[34.86, 117.55], [34.87, 117.56], [34.86, 117.56], [34.86, 117.55]]]}}]}),
            "changes[0].geometry",
        ),
        (
            json!({"reason": "r", "changes": [{"code": "370402005001001", "geometry": {"type": "Polygon", "coordinates": [[[117.55, 34.86], [117.56, 34.86], [117.56, 34.87]]]}}]}),
            "changes[0].geometry",
        ),
        (
            json!({"reason": "r", "changes": [{"code": "370402005001001"}]}),
            "changes[0]",
        ),
        (
            json!({"reason": "r", "changes": [{"code": "999", "geometry": sq}]}),
            "changes",
        ),
        (
            json!({"reason": "r", "changes": [{"code": "370402005001001", "geometry": sq, "colour": "red"}]}),
            "body",
        ),
    ];
    for (body, field) in cases {
        let (s, _, v) = call(&st, "POST", "/drafts", &[], Some(body.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["field"], field, "{body}: {v}");
    }
    // Nobody writes in another's name.
    let body = json!({"author": "admin", "reason": "r", "changes": [{"code": "370402005001001", "geometry": sq}]});
    let (s, _, v) = call(&st, "POST", "/drafts", &[], Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "author", "{v}");
    let (s, _, _) = call(&st, "GET", "/drafts/nope", &[], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(
        &st,
        "POST",
        "/versions/99/rollback",
        &[],
        Some(json!({"reason": "r"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, v) = call(
        &st,
        "GET",
        "/lookup?lon=117.55&lat=34.86&as_of=1900-01-01",
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, _, v) = call(
        &st,
        "GET",
        "/lookup?lon=117.55&lat=34.86&as_of=yesterday",
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

async fn a_publish_on_one_replica_reaches_the_other_and_a_stale_base_is_refused(b: Backend) {
    let (one, two) = replicas("replicas", b);
    let m = a_move(&one);
    assert_eq!(grid_at(&two, m.at, None).await, m.from);
    let body = json!({"reason": "r", "changes": m.changes});
    // Both planners start from version 1, one on each replica.
    let (_, _, d) = call(&one, "POST", "/drafts", &[], Some(body.clone())).await;
    let (_, _, d2) = call(&two, "POST", "/drafts", &[], Some(body)).await;
    let u = format!("/drafts/{}/publish", d["id"].as_str().unwrap());
    let (s, _, v) = call(&one, "POST", &u, &[], None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    if matches!(b, Backend::PostGis) {
        // Replica two hears of it through LISTEN/NOTIFY within moments.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while two.current().version < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "replica two still answers from version {}",
                two.current().version
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(grid_at(&two, m.at, None).await, m.to);
    }
    // The draft made on replica two from the old version loses, with 412.
    let u2 = format!("/drafts/{}/publish", d2["id"].as_str().unwrap());
    let (s, _, v) = call(&two, "POST", &u2, &[], None).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    // Replica two is at version 2 now whatever the backend.
    assert_eq!(two.current().version, 2);
    assert_eq!(grid_at(&two, m.at, None).await, m.to);
}

async fn tile_bytes(st: &Arc<AppState>, uri: &str) -> (String, Vec<u8>) {
    let r = super::test_support::signed_app(st)
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let tag = r.headers()[header::ETAG].to_str().unwrap().to_string();
    (
        tag,
        r.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

async fn tiles_change_the_moment_a_boundary_is_published(b: Backend) {
    let st = fresh("tiles", b);
    let m = a_move(&st);
    let t = gridgov_tiles::TileId::containing(m.at.0, m.at.1, 15);
    let uri = format!("/tiles/grids/{}/{}/{}.mvt", t.z, t.x, t.y);
    let (tag1, before) = tile_bytes(&st, &uri).await;
    let body = json!({"reason": "r", "changes": m.changes});
    let (_, _, d) = call(&st, "POST", "/drafts", &[], Some(body)).await;
    let u = format!("/drafts/{}/publish", d["id"].as_str().unwrap());
    let (s, _, v) = call(&st, "POST", &u, &[], None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (tag2, after) = tile_bytes(&st, &uri).await;
    assert_ne!(tag1, tag2, "a new version, a new ETag");
    assert_ne!(before, after, "the tile shows the new boundary");
    // The old ETag no longer matches: a client revalidating gets the new tile.
    let r = super::test_support::signed_app(&st)
        .oneshot(
            Request::get(&uri)
                .header(header::IF_NONE_MATCH, &tag1)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The moved building's grid in the buildings layer is the new one.
    let bt = format!("/tiles/buildings/{}/{}/{}.mvt", t.z, t.x, t.y);
    let (_, bytes) = tile_bytes(&st, &bt).await;
    let tile = gridgov_tiles::mvt::decode(&bytes).unwrap();
    let l = &tile.layers[0];
    let f = l
        .features
        .iter()
        .find(|f| gridgov_tiles::mvt::properties(l, f)["code"] == m.building)
        .unwrap();
    assert_eq!(gridgov_tiles::mvt::properties(l, f)["grid"], m.to);
}

async fn a_version_is_authored_by_whoever_publishes_it_and_only_admins_backdate(b: Backend) {
    use gridgov_spatial::access::Role;
    let st = fresh("authors", b);
    let planner = crate::test_support::token_for(&st, "zhang-planner", Role::Planner, &[], None);
    let as_planner = [("authorization", format!("Bearer {planner}"))];
    let m = a_move(&st);
    let (s, _, v) = call(
        &st,
        "POST",
        "/drafts",
        &as_planner,
        Some(json!({"reason": "road widening", "changes": m.changes})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["draft"]["author"], "zhang-planner");
    let id = v["id"].as_str().unwrap().to_string();
    // The admin publishes it: the version is theirs.
    let (s, _, v) = call(&st, "POST", &format!("/drafts/{id}/publish"), &[], None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, _, v) = call(&st, "GET", "/versions", &[], None).await;
    assert_eq!(v["versions"][1]["author"], "tester");
    // A planner may not set a date in the past; an admin may, with a
    // reason, and it is audited.
    let back = json!({"reason": "correcting the record", "effective_date": "2020-01-01", "changes": m.changes});
    let (s, _, v) = call(&st, "POST", "/drafts", &as_planner, Some(back.clone())).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["field"], "effective_date", "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("only an admin"),
        "{v}"
    );
    let (s, _, v) = call(
        &st,
        "POST",
        "/versions/1/rollback",
        &as_planner,
        Some(json!({"reason": "r", "effective_date": "2021-05-01"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _, v) = call(&st, "POST", "/drafts", &[], Some(back)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let store = st.app.store.clone();
    let log = tokio::task::spawn_blocking(move || {
        store.audit_log(&gridgov_app::accounts::AuditQuery::default())
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        log.iter().any(|r| r.entry.action == "backdate"
            && r.entry.user == "tester"
            && r.entry.detail.contains("2020-01-01")
            && r.entry.detail.contains("correcting the record")),
        "{log:?}"
    );
}
