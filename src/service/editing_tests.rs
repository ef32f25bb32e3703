//! The planners' workflow through the router, each test on its own store.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use geo::{BooleanOps, Centroid};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{AppState, Config, app};
use crate::storage::{GpkgStore, Store};

fn fresh(name: &str) -> Arc<AppState> {
    let dir = std::env::temp_dir().join(format!("gridgov-edit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample-district.json");
    let (store, _) = GpkgStore::open_or_create(&dir.join("e.gpkg"), &seed).unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    Arc::new(
        AppState::new(
            store,
            Config {
                base_url: "http://test".into(),
                body_limit: 4 << 20,
            },
        )
        .unwrap(),
    )
}

async fn call(
    st: &Arc<AppState>,
    method: &str,
    uri: &str,
    headers: &[(&str, String)],
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let r = app(st.clone()).oneshot(req).await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, headers, v)
}

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

#[tokio::test]
async fn a_draft_is_validated_previewed_and_published_then_history_and_rollback_work() {
    let st = fresh("workflow");
    let m = a_move(&st);
    assert_eq!(grid_at(&st, m.at, None).await, m.from);
    let (s, h, v) = call(
        &st,
        "POST",
        "/drafts",
        &[],
        Some(json!({"author": "planner-1", "reason": "road widening", "changes": m.changes})),
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
    assert_eq!(vs[1]["author"], "planner-1");
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
        Some(json!({"author": "planner-2", "reason": "undo"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["published"]["version"], 3);
    assert_eq!(v["published"]["rollback_of"], 1);
    assert_eq!(grid_at(&st, m.at, None).await, m.from);
    // Everything survives a restart: a new state over the same store.
    let again = Arc::new(AppState::new(st.store.clone(), st.config.clone()).unwrap());
    assert_eq!(again.current().version, 3);
    assert_eq!(grid_at(&again, m.at, None).await, m.from);
}

#[tokio::test]
async fn of_two_planners_publishing_from_the_same_version_one_wins_and_the_other_gets_412() {
    let st = fresh("race");
    let m = a_move(&st);
    let body = json!({"author": "a", "reason": "r", "changes": m.changes});
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
    assert!(
        loser["detail"]
            .as_str()
            .unwrap()
            .contains("is now at version 2"),
        "{loser}"
    );
    let (_, _, v) = call(&st, "GET", "/versions", &[], None).await;
    assert_eq!(
        v["versions"].as_array().unwrap().len(),
        2,
        "no lost or double update"
    );
}

#[tokio::test]
async fn put_needs_the_current_etag() {
    let st = fresh("etag");
    let m = a_move(&st);
    let (s, h, f) = call(&st, "GET", &format!("/grids/{}", m.from), &[], None).await;
    assert_eq!(s, StatusCode::OK);
    let tag = h[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(tag, "\"1\"");
    let body = json!({"geometry": f["geometry"], "author": "a", "reason": "same boundary, new staff list"});
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

#[tokio::test]
async fn a_change_that_adds_an_overlap_is_validated_and_refused() {
    let st = fresh("overlap");
    let m = a_move(&st);
    // Grow `to` by the building but leave `from` as it is: an overlap.
    let grown = m.changes[0].clone();
    let (_, _, d) = call(
        &st,
        "POST",
        "/drafts",
        &[],
        Some(json!({"author": "a", "reason": "r", "changes": [grown]})),
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
    assert!(v["detail"].as_str().unwrap().contains("overlaps"));
    assert_eq!(grid_at(&st, m.at, None).await, m.from, "nothing published");
}

#[tokio::test]
async fn bad_drafts_are_400_naming_the_field() {
    let st = fresh("bad");
    let sq = json!({"type": "Polygon", "coordinates": [[[117.55, 34.86], [117.56, 34.86], [117.56, 34.87], [117.55, 34.86]]]});
    let cases = [
        (
            json!({"author": "", "reason": "r", "changes": [{"code": "370402005001001", "geometry": sq}]}),
            "author",
        ),
        (
            json!({"author": "a", "reason": "r", "changes": []}),
            "changes",
        ),
        (
            json!({"author": "a", "reason": "r", "effective_date": "next week", "changes": [{"code": "370402005001001", "geometry": sq}]}),
            "effective_date",
        ),
        (
            json!({"author": "a", "reason": "r", "changes": [{"code": "370402005001001", "geometry": {"type": "Polygon", "coordinates": [[[34.86, 117.55], [34.87, 117.56], [34.86, 117.56], [34.86, 117.55]]]}}]}),
            "changes[0].geometry",
        ),
        (
            json!({"author": "a", "reason": "r", "changes": [{"code": "370402005001001", "geometry": {"type": "Polygon", "coordinates": [[[117.55, 34.86], [117.56, 34.86], [117.56, 34.87]]]}}]}),
            "changes[0].geometry",
        ),
        (
            json!({"author": "a", "reason": "r", "changes": [{"code": "370402005001001"}]}),
            "changes[0]",
        ),
        (
            json!({"author": "a", "reason": "r", "changes": [{"code": "999", "geometry": sq}]}),
            "changes",
        ),
        (
            json!({"author": "a", "reason": "r", "changes": [{"code": "370402005001001", "geometry": sq, "colour": "red"}]}),
            "body",
        ),
    ];
    for (body, field) in cases {
        let (s, _, v) = call(&st, "POST", "/drafts", &[], Some(body.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["field"], field, "{body}: {v}");
    }
    let (s, _, _) = call(&st, "GET", "/drafts/nope", &[], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(
        &st,
        "POST",
        "/versions/99/rollback",
        &[],
        Some(json!({"author": "a", "reason": "r"})),
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
