//! Authorization as a matrix: every role (and nobody) against every kind
//! of endpoint, for objects in the caller's grid and in another; then
//! masking by grid, the audit log, sign-in, revocation and the per-token
//! rate limit.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gridgov_spatial::access::Role;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::test_support::{Backend, fresh};
use super::test_support::{admin_token, token_for};
use super::{AppState, app};

/// One answer: status and JSON (or null).
async fn ask(
    st: &Arc<AppState>,
    token: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let r = app(st.clone()).oneshot(req).await.unwrap();
    let s = r.status();
    // A live feed never ends: its status is the answer.
    if r.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "text/event-stream")
    {
        return (s, Value::Null);
    }
    let b = r.into_body().collect().await.unwrap().to_bytes();
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

/// Two grids that both have households and incidents, a household and an
/// incident in each.
struct Fixture {
    mine: String,
    other: String,
    household: [usize; 2],
    unit: [usize; 2],
    incident: [i64; 2],
}

fn fixture(st: &AppState) -> Fixture {
    let snap = st.current();
    let d = &snap.district;
    let grid_of_household = |i: usize| {
        snap.assignment.units[d.households[i].unit.index()]
            .responsible()
            .map(|g| d.area(g).code.clone())
    };
    let grid_of_incident = |i: usize| {
        snap.assignment.incidents[i]
            .grid()
            .map(|g| d.area(g).code.clone())
    };
    let mut picked: Vec<(String, usize, usize)> = Vec::new();
    for h in 0..d.households.len() {
        let Some(g) = grid_of_household(h) else {
            continue;
        };
        if picked.iter().any(|p| p.0 == g) {
            continue;
        }
        if let Some(x) = (0..d.incidents.len()).find(|&x| {
            grid_of_incident(x).as_deref() == Some(&g)
                && d.incidents[x].status == gridgov_spatial::IncidentStatus::Reported
        }) {
            picked.push((g, h, x));
        }
        if picked.len() == 2 {
            break;
        }
    }
    assert_eq!(
        picked.len(),
        2,
        "the sample has two grids with households and incidents"
    );
    Fixture {
        mine: picked[0].0.clone(),
        other: picked[1].0.clone(),
        household: [picked[0].1 + 1, picked[1].1 + 1],
        unit: [
            d.households[picked[0].1].unit.index() + 1,
            d.households[picked[1].1].unit.index() + 1,
        ],
        incident: [picked[0].2 as i64 + 1, picked[1].2 as i64 + 1],
    }
}

/// The people of the matrix: name and token (none: not signed in).
fn people(st: &Arc<AppState>, f: &Fixture) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("admin", Some(admin_token(st))),
        (
            "planner",
            Some(token_for(st, "plan", Role::Planner, &[], None)),
        ),
        (
            "command_center",
            Some(token_for(st, "wall", Role::CommandCenter, &[], None)),
        ),
        (
            "grid_staff",
            Some(token_for(st, "li", Role::GridStaff, &[&f.mine], None)),
        ),
        (
            "handler",
            Some(token_for(
                st,
                "cg",
                Role::DepartmentHandler,
                &[],
                Some("城管"),
            )),
        ),
        (
            "public",
            Some(token_for(st, "resident", Role::Public, &[], None)),
        ),
        ("nobody", None),
    ]
}

fn tile_uri(st: &AppState, layer: &str, ext: &str) -> String {
    let snap = st.current();
    let c = geo::Centroid::centroid(&snap.district.areas[0].boundary).unwrap();
    let t = gridgov_tiles::TileId::containing(c.x(), c.y(), 15);
    format!("/tiles/{layer}/{}/{}/{}.{ext}", t.z, t.x, t.y)
}

async fn matrix(backend: Backend) {
    let st = fresh(&format!("matrix_{backend:?}").to_lowercase(), backend);
    let f = fixture(&st);
    let who = people(&st, &f);
    // The case in the other grid is dispatched to the 城管 department.
    let admin = admin_token(&st);
    for a in [
        json!({"action": "accept"}),
        json!({"action": "dispatch", "to": {"kind": "department", "name": "城管"}}),
    ] {
        let (s, v) = ask(
            &st,
            Some(&admin),
            "POST",
            &format!("/incidents/{}/steps", f.incident[1]),
            Some(a),
        )
        .await;
        assert!(s.is_success(), "{s} {v}");
    }
    let c = geo::Centroid::centroid(&st.current().district.areas[0].boundary).unwrap();
    // (method, uri, body, who may: admin, planner, command center, grid
    // staff of `mine`, handler of 城管, public, nobody)
    let all = [true; 7];
    let signed = [true, true, true, true, true, true, false];
    let map = [true, true, true, true, false, false, false];
    let boundary_w = [true, true, false, false, false, false, false];
    let admin_only = [true, false, false, false, false, false, false];
    let every_incident = [true, false, true, false, false, false, false];
    let rows: Vec<(&str, String, Option<Value>, [bool; 7])> = vec![
        ("GET", "/health".into(), None, all),
        ("GET", "/open311/v2/services.json".into(), None, all),
        ("GET", "/me".into(), None, all),
        ("GET", tile_uri(&st, "plan", "png"), None, map),
        ("GET", tile_uri(&st, "all", "mvt"), None, map),
        (
            "GET",
            tile_uri(&st, "incidents", "mvt"),
            None,
            every_incident,
        ),
        ("GET", tile_uri(&st, "heatmap", "png"), None, map),
        ("GET", "/collections/grids/items?limit=2".into(), None, map),
        (
            "GET",
            format!("/collections/incidents/items/{}", f.incident[0]),
            None,
            [true, false, true, true, false, false, false],
        ),
        (
            "GET",
            format!("/collections/incidents/items/{}", f.incident[1]),
            None,
            every_incident,
        ),
        (
            "GET",
            format!("/lookup?lon={}&lat={}", c.x(), c.y()),
            None,
            map,
        ),
        ("GET", "/district.json".into(), None, map),
        ("GET", "/stats/incidents".into(), None, map),
        ("GET", "/reports".into(), None, map),
        ("GET", "/versions".into(), None, map),
        ("POST", "/drafts".into(), Some(json!({})), boundary_w),
        (
            "GET",
            format!("/households/{}", f.household[0]),
            None,
            [true, false, false, true, false, false, false],
        ),
        (
            "GET",
            format!("/households/{}", f.household[1]),
            None,
            admin_only,
        ),
        (
            "PUT",
            format!("/households/{}", f.household[0]),
            Some(json!({"headcount": 3})),
            [true, false, false, true, false, false, false],
        ),
        (
            "PUT",
            format!("/households/{}", f.household[1]),
            Some(json!({"headcount": 3})),
            admin_only,
        ),
        (
            "POST",
            format!("/households/{}/visits", f.household[0]),
            Some(json!({"note": "上门走访"})),
            [true, false, false, true, false, false, false],
        ),
        (
            "POST",
            format!("/households/{}/visits", f.household[1]),
            Some(json!({"note": "上门走访"})),
            admin_only,
        ),
        (
            "POST",
            format!("/households/{}/photos", f.household[0]),
            Some(json!({})),
            [true, false, false, true, false, false, false],
        ),
        (
            "POST",
            format!("/households/{}/photos", f.household[1]),
            Some(json!({})),
            admin_only,
        ),
        // The handheld's slice: only staff with grids have one (an
        // admin serves no grid).
        (
            "GET",
            "/m/slice".to_string(),
            None,
            [false, false, false, true, false, false, false],
        ),
        (
            "POST",
            "/m/slice/delta".to_string(),
            Some(json!({})),
            [false, false, false, true, false, false, false],
        ),
        (
            "GET",
            format!("/households/{}/visits", f.household[0]),
            None,
            [true, false, false, true, false, false, false],
        ),
        (
            "GET",
            format!("/households/{}/visits", f.household[1]),
            None,
            admin_only,
        ),
        (
            "PUT",
            format!("/units/{}", f.unit[0]),
            Some(json!({"households": 12})),
            [true, false, false, true, false, false, false],
        ),
        (
            "PUT",
            format!("/units/{}", f.unit[1]),
            Some(json!({"label": "2单元"})),
            admin_only,
        ),
        (
            "GET",
            "/households".into(),
            None,
            [true, false, false, true, false, false, false],
        ),
        (
            "GET",
            format!("/incidents/{}", f.incident[0]),
            None,
            [true, false, true, true, false, false, false],
        ),
        (
            "GET",
            format!("/incidents/{}", f.incident[1]),
            None,
            [true, false, true, false, true, false, false],
        ),
        (
            "POST",
            format!("/incidents/{}/steps", f.incident[0]),
            Some(json!({"action": "reject", "reason": "x"})),
            [true, false, false, true, false, false, false],
        ),
        (
            "POST",
            format!("/incidents/{}/steps", f.incident[1]),
            Some(json!({"action": "handle"})),
            [true, false, false, false, true, false, false],
        ),
        (
            "POST",
            "/incidents".into(),
            Some(json!({"lon": c.x(), "lat": c.y(), "category": "road"})),
            [true, false, true, true, false, true, false],
        ),
        (
            "POST",
            "/open311/v2/requests.json".into(),
            Some(json!({})),
            all,
        ),
        (
            "POST",
            "/incidents/import".into(),
            Some(json!({})),
            [true, false, true, true, false, false, false],
        ),
        ("POST", "/incidents/escalate".into(), None, admin_only),
        ("GET", "/users".into(), None, admin_only),
        (
            "POST",
            "/users".into(),
            Some(json!({"name": "x y"})),
            admin_only,
        ),
        ("GET", "/tokens".into(), None, admin_only),
        ("GET", "/audit".into(), None, admin_only),
        // Last: signing out ends each token.
        ("POST", "/logout".into(), None, signed),
    ];
    let mut wrong = Vec::new();
    for (method, uri, body, may) in &rows {
        for (i, (name, token)) in who.iter().enumerate() {
            let (s, v) = ask(&st, token.as_deref(), method, uri, body.clone()).await;
            let refused = s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN;
            let expected_refusal = if token.is_some() {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNAUTHORIZED
            };
            if may[i] == refused || (refused && s != expected_refusal) || s.is_server_error() {
                wrong.push(format!("{name:>14} {method} {uri} → {s} {v}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // Everyone signed out: new tokens for the rest.
    super::test_support::forget(&st);
    let who = people(&st, &f);
    let admin = admin_token(&st);
    // The unit's change is on the map at once.
    let (_, u) = ask(
        &st,
        Some(&admin),
        "GET",
        &format!("/collections/units/items/{}", f.unit[0]),
        None,
    )
    .await;
    assert_eq!(u["properties"]["households"], 12, "{u}");
    // Lists show each caller what they may see, and no more.
    let staff = &who[3].1;
    let (_, v) = ask(
        &st,
        staff.as_deref(),
        "GET",
        "/households?limit=10000",
        None,
    )
    .await;
    let hs = v["households"].as_array().unwrap();
    assert!(!hs.is_empty());
    assert!(
        hs.iter()
            .all(|h| h["grid"] == f.mine.as_str() && h["masked"] == false)
    );
    let (_, v) = ask(&st, staff.as_deref(), "GET", "/incidents?limit=10000", None).await;
    assert!(
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["grid"] == f.mine.as_str())
    );
    let (_, v) = ask(
        &st,
        staff.as_deref(),
        "GET",
        "/collections/incidents/items?limit=10000",
        None,
    )
    .await;
    let n = v["numberMatched"].as_u64().unwrap();
    assert!(
        n > 0
            && v["features"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["properties"]["grid"] == f.mine.as_str())
    );
    let (_, all_items) = ask(
        &st,
        Some(&admin),
        "GET",
        "/collections/incidents/items?limit=1",
        None,
    )
    .await;
    assert!(all_items["numberMatched"].as_u64().unwrap() > n);
    let handler = &who[4].1;
    let (_, v) = ask(&st, handler.as_deref(), "GET", "/incidents", None).await;
    let ids: Vec<i64> = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![f.incident[1]],
        "the handler sees what was dispatched to 城管"
    );
    // Tiles: grid staff get every layer but the incident points.
    let all_mvt = tile_uri(&st, "all", "mvt");
    let (s, _) = ask(&st, staff.as_deref(), "GET", &all_mvt, None).await;
    assert_eq!(s, StatusCode::OK);
}

on_both_backends!(
    matrix,
    personal_fields_are_full_only_for_the_grid_s_staff_and_admins_and_each_full_read_is_audited,
    signing_in_gives_a_token_that_works_until_signed_out_and_bad_logins_are_audited,
    each_token_is_held_to_the_rate_from_whatever_address,
    password_guessing_is_throttled_per_name_and_per_address,
    users_change_their_own_password_and_sign_in_again,
    nobody_gets_past_any_route_but_the_open_ones,
    every_documented_route_is_served_by_the_router,
    a_resident_reads_the_cases_they_filed_and_no_others,
    open311_shows_the_public_no_descriptions_and_the_district_file_only_one_s_incidents,
    a_write_with_the_cookie_from_another_site_or_as_a_form_is_refused,
    personal_answers_are_never_cached_the_page_has_a_policy_and_tiles_stay_home,
);

async fn personal_fields_are_full_only_for_the_grid_s_staff_and_admins_and_each_full_read_is_audited(
    b: Backend,
) {
    let st = fresh("masking", b);
    let f = fixture(&st);
    let mine = token_for(&st, "li", Role::GridStaff, &[&f.mine], None);
    let other = token_for(&st, "wang", Role::GridStaff, &[&f.other], None);
    let admin = admin_token(&st);
    let uri = format!("/households/{}", f.household[0]);
    let (s, v) = ask(
        &st,
        Some(&mine),
        "PUT",
        &uri,
        Some(
            json!({"head_name": "王芳", "phone": "13912345678", "id_number": "11010519491231002x"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = ask(&st, Some(&mine), "GET", &uri, None).await;
    assert_eq!(v["phone"], "13912345678");
    assert_eq!(v["head_name"], "王芳");
    assert_eq!(v["id_number"], "11010519491231002X");
    assert_eq!(v["masked"], false);
    let (_, v) = ask(&st, Some(&admin), "GET", &uri, None).await;
    assert_eq!(v["phone"], "13912345678");
    assert_eq!(v["id_number"], "11010519491231002X");
    // Staff of another grid may not read it at all, nor find it in the
    // district file, which carries their own grid's households only (and
    // none to a command center); an admin's shows every one, masked.
    let (s, _) = ask(&st, Some(&other), "GET", &uri, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, d) = ask(&st, Some(&other), "GET", "/district.json", None).await;
    let snap = st.current();
    let in_grid = |code: &str| {
        snap.assignment
            .households
            .iter()
            .filter(|h| h.grid().map(|g| snap.district.area(g).code.as_str()) == Some(code))
            .count()
    };
    let theirs = d["households"].as_array().unwrap().len();
    assert_eq!(theirs, in_grid(&f.other));
    assert!(theirs < snap.district.households.len());
    assert!(!d.to_string().contains("139****5678"));
    let wall = token_for(&st, "wall", Role::CommandCenter, &[], None);
    let (_, d) = ask(&st, Some(&wall), "GET", "/district.json", None).await;
    assert_eq!(d["households"].as_array().unwrap().len(), 0);
    let (_, d) = ask(&st, Some(&admin), "GET", "/district.json", None).await;
    assert_eq!(
        d["households"].as_array().unwrap().len(),
        snap.district.households.len()
    );
    let h = &d["households"][f.household[0] - 1];
    assert_eq!(h["phone"], "139****5678");
    assert_eq!(h["head_name"], "王*");
    assert_eq!(h["id_number"], "110105********002X");
    // Bad input is refused and changes nothing.
    let (s, _) = ask(
        &st,
        Some(&mine),
        "PUT",
        &uri,
        Some(json!({"phone": "call me"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A mistyped ID number (one digit off) fails its check character.
    let (s, v) = ask(
        &st,
        Some(&mine),
        "PUT",
        &uri,
        Some(json!({"id_number": "11010519491231003X"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("check character"),
        "{v}"
    );
    let (s, _) = ask(&st, Some(&mine), "PUT", &uri, Some(json!({"email": "x"}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, v) = ask(&st, Some(&mine), "GET", &uri, None).await;
    assert_eq!(v["phone"], "13912345678");
    assert_eq!(v["id_number"], "11010519491231002X");
    // The change is in the store: a fresh state sees it.
    let store = st.app.store.clone();
    let stored = tokio::task::spawn_blocking(move || store.load().unwrap())
        .await
        .unwrap();
    let h = &stored.households[f.household[0] - 1];
    assert_eq!(h.phone.as_deref(), Some("13912345678"));
    assert_eq!(h.id_number.as_deref(), Some("11010519491231002X"));
    // The audit log has the edit, both full reads and the refusal.
    let (s, log) = ask(&st, Some(&admin), "GET", "/audit?limit=100", None).await;
    assert_eq!(s, StatusCode::OK);
    let lines: Vec<(String, String, String)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["user"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["object"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        ("li", "edit", uri.as_str()),
        ("li", "read_personal", uri.as_str()),
        ("tester", "read_personal", uri.as_str()),
        ("wang", "denied", uri.as_str()),
    ] {
        assert!(
            lines
                .iter()
                .any(|l| (l.0.as_str(), l.1.as_str(), l.2.as_str()) == want),
            "{want:?} not in {lines:?}"
        );
    }
    // Filtering by user and action.
    let (_, v) = ask(
        &st,
        Some(&admin),
        "GET",
        "/audit?user=li&action=read_personal",
        None,
    )
    .await;
    assert!(
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["user"] == "li" && e["action"] == "read_personal")
    );
}

async fn signing_in_gives_a_token_that_works_until_signed_out_and_bad_logins_are_audited(
    b: Backend,
) {
    let st = fresh("login", b);
    let admin = admin_token(&st);
    let (s, v) = ask(
        &st,
        Some(&admin),
        "POST",
        "/users",
        Some(json!({"name": "plan2", "role": "planner"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let password = v["password"].as_str().unwrap().to_owned();
    let (s, _) = ask(
        &st,
        None,
        "POST",
        "/login",
        Some(json!({"name": "plan2", "password": "wrong password"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = ask(
        &st,
        None,
        "POST",
        "/login",
        Some(json!({"name": "nobody", "password": "wrong password"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The cookie works as well as the header.
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"name": "plan2", "password": password}).to_string(),
        ))
        .unwrap();
    let r = app(st.clone()).oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let v: Value =
        serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let token = v["token"].as_str().unwrap().to_owned();
    let r = app(st.clone())
        .oneshot(
            Request::get("/versions")
                .header(header::COOKIE, cookie.split(';').next().unwrap())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (s, me) = ask(&st, Some(&token), "GET", "/me", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["role"], "planner");
    // Signing out revokes it at once.
    let (s, _) = ask(&st, Some(&token), "POST", "/logout", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = ask(&st, Some(&token), "GET", "/versions", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The same token as a stale cookie: the browser is nobody again (and
    // told to forget it), so the map can ask to sign in.
    let r = app(st.clone())
        .oneshot(
            Request::get("/me")
                .header(header::COOKIE, format!("gridgov_token={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // An admin's revocation and a disabled user end the others'.
    let api = token_for(&st, "bot", Role::CommandCenter, &[], None);
    let (_, ts) = ask(&st, Some(&admin), "GET", "/tokens?user=bot", None).await;
    let id = ts["tokens"][0]["id"].as_str().unwrap().to_owned();
    assert!(
        ts["tokens"][0].get("digest").is_none(),
        "digests are never shown"
    );
    let (s, _) = ask(&st, Some(&admin), "DELETE", &format!("/tokens/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = ask(&st, Some(&api), "GET", "/versions", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = ask(
        &st,
        Some(&admin),
        "POST",
        "/tokens",
        Some(json!({"user": "plan2", "days": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let t2 = v["token"].as_str().unwrap().to_owned();
    let (s, _) = ask(
        &st,
        Some(&admin),
        "PUT",
        "/users/plan2",
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = ask(&st, Some(&t2), "GET", "/versions", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = ask(
        &st,
        None,
        "POST",
        "/login",
        Some(json!({"name": "plan2", "password": password})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Grid staff need real grids.
    let (s, v) = ask(
        &st,
        Some(&admin),
        "POST",
        "/users",
        Some(json!({"name": "z", "role": "grid_staff", "grids": ["NOPE"]})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // Every sign-in, good or bad, is in the log.
    let (_, log) = ask(&st, Some(&admin), "GET", "/audit?object=/login", None).await;
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "login_failed").count(),
        3,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "login").count(),
        1,
        "{actions:?}"
    );
}

async fn each_token_is_held_to_the_rate_from_whatever_address(b: Backend) {
    let st = super::test_support::guarded(
        "token_rate",
        super::harden::Guard {
            rate_per_s: 1.0,
            burst: 2.0,
            ..Default::default()
        },
        b,
    );
    let t = admin_token(&st);
    let mut statuses = Vec::new();
    for ip in ["10.2.0.1", "10.2.0.2", "10.2.0.3"] {
        let mut req = Request::get("/versions")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap();
        let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        statuses.push(app(st.clone()).oneshot(req).await.unwrap().status());
    }
    assert_eq!(
        statuses,
        vec![
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

/// A sign-in attempt, from `ip` when given.
async fn attempt(st: &Arc<AppState>, ip: Option<&str>, name: &str, password: &str) -> StatusCode {
    let mut req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"name": name, "password": password}).to_string(),
        ))
        .unwrap();
    if let Some(ip) = ip {
        let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
    }
    app(st.clone()).oneshot(req).await.unwrap().status()
}

async fn password_guessing_is_throttled_per_name_and_per_address(b: Backend) {
    let st = fresh("throttle", b);
    let admin = admin_token(&st);
    let (s, v) = ask(
        &st,
        Some(&admin),
        "POST",
        "/users",
        Some(json!({"name": "victim", "role": "planner", "password": "the right password"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Ten failures as one name from one address: each refused plainly.
    for _ in 0..10 {
        let s = attempt(&st, Some("10.9.0.1"), "victim", "a wrong guess").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // Then the name is held back there, even with the right password…
    let s = attempt(&st, Some("10.9.0.1"), "victim", "the right password").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // …but not at the user's own machine, nor for other names.
    let s = attempt(&st, Some("10.9.1.1"), "victim", "the right password").await;
    assert_eq!(s, StatusCode::OK);
    let s = attempt(&st, Some("10.9.0.1"), "someone", "a wrong guess").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Names that stand for nobody in particular cannot be taken.
    for name in ["anonymous", "Anonymous", "system"] {
        let (s, v) = ask(
            &st,
            Some(&admin),
            "POST",
            "/users",
            Some(json!({"name": name, "role": "public", "password": "the right password"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("reserved"), "{v}");
    }
    // One address gets twenty attempts at once, whatever the names.
    let mut last = StatusCode::OK;
    for i in 0..21 {
        last = attempt(&st, Some("10.9.2.2"), &format!("n{i}"), "a wrong guess").await;
        if i < 20 {
            assert_eq!(last, StatusCode::UNAUTHORIZED, "attempt {i}");
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let (_, log) = ask(
        &st,
        Some(&admin),
        "GET",
        "/audit?action=login_failed&limit=1000",
        None,
    )
    .await;
    let throttled = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"] == "throttled")
        .count();
    assert_eq!(throttled, 2);
}

async fn users_change_their_own_password_and_sign_in_again(b: Backend) {
    let st = fresh("own_password", b);
    let li = token_for(&st, "li2", Role::CommandCenter, &[], None);
    let (s, _) = ask(
        &st,
        Some(&li),
        "PUT",
        "/me/password",
        Some(json!({"current": "not it at all", "new": "a brand new password"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The user was made with a random password: set a known one first.
    let admin = admin_token(&st);
    let (s, _) = ask(
        &st,
        Some(&admin),
        "PUT",
        "/users/li2",
        Some(json!({"password": "the first password"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // That revoked li2's tokens.
    let (s, _) = ask(&st, Some(&li), "GET", "/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = ask(
        &st,
        None,
        "POST",
        "/login",
        Some(json!({"name": "li2", "password": "the first password"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let t = v["token"].as_str().unwrap().to_owned();
    let (s, _) = ask(
        &st,
        Some(&t),
        "PUT",
        "/me/password",
        Some(json!({"current": "the first password", "new": "short"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = ask(
        &st,
        Some(&t),
        "PUT",
        "/me/password",
        Some(json!({"current": "the first password", "new": "the second password"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = ask(&st, Some(&t), "GET", "/versions", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    for (pw, want) in [
        ("the first password", StatusCode::UNAUTHORIZED),
        ("the second password", StatusCode::OK),
    ] {
        let (s, _) = ask(
            &st,
            None,
            "POST",
            "/login",
            Some(json!({"name": "li2", "password": pw})),
        )
        .await;
        assert_eq!(s, want, "{pw}");
    }
}

async fn open311_shows_the_public_no_descriptions_and_the_district_file_only_one_s_incidents(
    b: Backend,
) {
    let st = fresh("scoped", b);
    let f = fixture(&st);
    let admin = admin_token(&st);
    let staff = token_for(&st, "li", Role::GridStaff, &[&f.mine], None);
    let c = geo::Centroid::centroid(&st.current().district.areas[0].boundary).unwrap();
    let (s, v) = ask(
        &st,
        Some(&admin),
        "POST",
        "/incidents",
        Some(json!({"lon": c.x(), "lat": c.y(), "category": "noise", "description": "王先生 13912345678 楼上装修"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let uri = format!("/open311/v2/requests/{id}.json");
    let (s, public) = ask(&st, None, "GET", &uri, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(public[0]["description"], "");
    assert_eq!(public[0]["status"], "open");
    let (_, full) = ask(&st, Some(&admin), "GET", &uri, None).await;
    assert_eq!(full[0]["description"], "王先生 13912345678 楼上装修");
    let (_, list) = ask(&st, None, "GET", "/open311/v2/requests.json", None).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|r| r["description"] == "")
    );
    // The district file: every incident for the admin, the grid's own for
    // its staff.
    let (_, all) = ask(&st, Some(&admin), "GET", "/district.json", None).await;
    let (_, mine) = ask(&st, Some(&staff), "GET", "/district.json", None).await;
    let (na, nm) = (
        all["incidents"].as_array().unwrap().len(),
        mine["incidents"].as_array().unwrap().len(),
    );
    assert!(nm > 0 && nm < na, "{nm} of {na}");
    let (_, items) = ask(
        &st,
        Some(&staff),
        "GET",
        "/collections/incidents/items?limit=1",
        None,
    )
    .await;
    assert_eq!(items["numberMatched"].as_u64().unwrap() as usize, nm);
}

/// Every operation of the API document (made with the router, so a new
/// route is in it the day it is added): method, path and the access it
/// declares.
async fn operations(st: &Arc<AppState>) -> Vec<(String, String, String, Value)> {
    let (s, doc) = ask(st, None, "GET", "/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK, "the document is open to all");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let access = op["x-gridgov-access"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} declares no access"));
            out.push((
                method.to_uppercase(),
                path.clone(),
                access.to_owned(),
                op["security"].clone(),
            ));
        }
    }
    out
}

/// A path of the document with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{y}", "12994.mvt")
        .replace("{layer}", "all")
        .replace("{z}", "15")
        .replace("{x}", "27084")
        .replace("{id}", "1")
        .replace("{collectionId}", "grids")
        .replace("{featureId}", "1")
        .replace("{n}", "1")
        .replace(['{', '}'], "")
}

async fn nobody_gets_past_any_route_but_the_open_ones(b: Backend) {
    let st = fresh("anonymous", b);
    let ops = operations(&st).await;
    assert!(ops.len() > 60, "{} operations", ops.len());
    let open: Vec<String> = ops
        .iter()
        .filter(|o| o.2 == "open")
        .map(|o| format!("{} {}", o.0, o.1))
        .collect();
    // The few open ones are named here, so opening one is a decision.
    let mut want = vec![
        "GET /",
        "GET /map",
        // The dashboard page signs in by itself; its data is guarded.
        "GET /dashboard",
        // The words of the pages (the sign-in form's too).
        "GET /i18n",
        // The titles of the roles, shown beside every name.
        "GET /roles",
        "GET /web/{path}",
        // The handheld's page, manifest and service worker (its data is
        // guarded: /m/slice).
        "GET /m",
        "GET /m/",
        "GET /m/sw.js",
        "GET /m/manifest.webmanifest",
        "GET /openapi.json",
        "GET /health",
        "GET /conformance",
        "POST /login",
        "GET /me",
        "GET /open311/v2/services.json",
        "GET /open311/v2/services.xml",
        "GET /open311/v2/services/{code}",
        "GET /open311/v2/requests.json",
        "GET /open311/v2/requests.xml",
        "POST /open311/v2/requests.json",
        "POST /open311/v2/requests.xml",
        "GET /open311/v2/requests/{id}",
        // The residents' page and what it calls: a place's grid and team
        // (public, as on the signs), the public plan map, and a case
        // only with its tracking token.
        "GET /r",
        "GET /r/place",
        "GET /r/district",
        "GET /r/tiles/{z}/{x}/{y}",
        "GET /r/cases/{id}",
        "POST /r/cases/{id}/evaluation",
        "POST /r/cases/{id}/photos",
        // The street view page itself (what it shows needs a signed-in
        // caller: GET /panoramas/{id} and its pictures are not open).
        "GET /panorama",
    ];
    want.sort_unstable();
    let mut got: Vec<&str> = open.iter().map(String::as_str).collect();
    got.sort_unstable();
    assert_eq!(got, want);
    let mut wrong = Vec::new();
    for (method, path, access, security) in &ops {
        // The document says what the route layer enforces.
        let says_open = security == &json!([{}]);
        assert_eq!(says_open, access == "open", "{method} {path}: {security}");
        if access == "open" {
            continue;
        }
        let uri = concrete(path);
        let (s, _) = ask(&st, None, method, &uri, Some(json!({}))).await;
        // Refused before anything else is looked at.
        if s != StatusCode::UNAUTHORIZED {
            wrong.push(format!("{method} {uri} ({access}) → {s}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

async fn every_documented_route_is_served_by_the_router(b: Backend) {
    let st = fresh("documented", b);
    let admin = admin_token(&st);
    let mut missing = Vec::new();
    for (method, path, _, _) in operations(&st).await {
        let uri = concrete(&path);
        // Whatever the answer to made-up parameters, it comes from the
        // route, not from the fallback or a missing method.
        let (s, v) = ask(&st, Some(&admin), &method, &uri, Some(json!({}))).await;
        let fallback = s == StatusCode::NOT_FOUND
            && v["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("no such resource"));
        if fallback || s == StatusCode::METHOD_NOT_ALLOWED {
            missing.push(format!("{method} {uri} → {s}"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

async fn a_resident_reads_the_cases_they_filed_and_no_others(b: Backend) {
    let st = fresh("resident", b);
    let f = fixture(&st);
    let me = token_for(&st, "resident", Role::Public, &[], None);
    let c = geo::Centroid::centroid(&st.current().district.areas[0].boundary).unwrap();
    let (s, v) = ask(
        &st,
        Some(&me),
        "POST",
        "/incidents",
        Some(json!({"lon": c.x(), "lat": c.y(), "category": "road", "description": "路灯不亮"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["incident"]["filed_by"], "resident");
    // When and how a resident's report came is the service's to say: a
    // case "filed" years ago (and so long overdue) is refused.
    for (field, extra) in [
        (
            "reported_at",
            json!({"reported_at": "2020-01-01T00:00:00Z"}),
        ),
        ("source", json!({"source": "hotline_12345"})),
    ] {
        let mut body = json!({"lon": c.x(), "lat": c.y(), "category": "road"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (s, v) = ask(&st, Some(&me), "POST", "/incidents", Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["field"], field, "{v}");
    }
    let (s, v) = ask(&st, Some(&me), "GET", &format!("/incidents/{id}"), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["incident"]["description"], "路灯不亮");
    let (s, _) = ask(
        &st,
        Some(&me),
        "GET",
        &format!("/incidents/{}", f.incident[0]),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, list) = ask(&st, Some(&me), "GET", "/incidents", None).await;
    let ids: Vec<i64> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![id]);
    // They may not act on it (grid staff do), and Open311 shows them what
    // they said while the public sees only how far along it is.
    let (s, _) = ask(
        &st,
        Some(&me),
        "POST",
        &format!("/incidents/{id}/steps"),
        Some(json!({"action": "accept"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let uri = format!("/open311/v2/requests/{id}.json");
    let (_, mine) = ask(&st, Some(&me), "GET", &uri, None).await;
    assert_eq!(mine[0]["description"], "路灯不亮");
    let (_, anyone) = ask(&st, None, "GET", &uri, None).await;
    assert_eq!(anyone[0]["description"], "");
    // Who filed is not in the masked district file.
    let admin = admin_token(&st);
    let (_, d) = ask(&st, Some(&admin), "GET", "/district.json", None).await;
    assert!(
        d["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x.get("filed_by").is_none())
    );
}

/// A forged write: method, path, headers and body.
type Forged<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a str);

async fn a_write_with_the_cookie_from_another_site_or_as_a_form_is_refused(b: Backend) {
    let st = fresh("csrf", b);
    let f = fixture(&st);
    let token = token_for(&st, "li", Role::GridStaff, &[&f.mine], None);
    let cookie = format!("gridgov_token={token}");
    let c = geo::Centroid::centroid(&st.current().district.areas[0].boundary).unwrap();
    let report = json!({"lon": c.x(), "lat": c.y(), "category": "road"}).to_string();
    let send = |method: &str, uri: &str, headers: &[(&str, &str)], body: &str| {
        let mut r = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "gridgov.example")
            .header(header::COOKIE, &cookie);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let r = r.body(Body::from(body.to_owned())).unwrap();
        let st = st.clone();
        async move {
            let r = app(st).oneshot(r).await.unwrap();
            let status = r.status();
            let b = r.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&b).into_owned())
        }
    };
    let before = st.current().district.incidents.len();
    let json_type = ("content-type", "application/json");
    let cases: [Forged<'_>; 5] = [
        // What another site's page can make a browser send.
        (
            "POST",
            "/incidents".into(),
            vec![
                ("origin", "https://evil.example"),
                ("content-type", "text/plain"),
            ],
            &report,
        ),
        (
            "POST",
            "/incidents".into(),
            vec![
                ("sec-fetch-site", "cross-site"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "lon=1&lat=2",
        ),
        (
            "PUT",
            format!("/households/{}", f.household[0]),
            vec![("origin", "https://evil.example"), json_type],
            r#"{"phone": null}"#,
        ),
        // Even from the service's own page, not as a form.
        (
            "POST",
            "/incidents".into(),
            vec![
                ("origin", "https://gridgov.example"),
                ("content-type", "text/plain"),
            ],
            &report,
        ),
        // And not from a client that says nothing of where it is.
        ("POST", "/incidents".into(), vec![json_type], &report),
    ];
    for (method, uri, headers, body) in &cases {
        let (s, text) = send(method, uri, headers, body).await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "{method} {uri} {headers:?}: {text}"
        );
        assert!(text.contains("cookie"), "{text}");
    }
    assert_eq!(
        st.current().district.incidents.len(),
        before,
        "nothing was filed"
    );
    // The service's own page, with JSON, files it.
    let (s, text) = send(
        "POST",
        "/incidents",
        &[("sec-fetch-site", "same-origin"), json_type],
        &report,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{text}");
    let (s, text) = send(
        "POST",
        "/incidents",
        &[("origin", "https://gridgov.example"), json_type],
        &report,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{text}");
    // A bearer token is not the browser's to send: no origin needed.
    let (s, v) = ask(
        &st,
        Some(&token),
        "POST",
        "/incidents",
        Some(serde_json::from_str(&report).unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

async fn personal_answers_are_never_cached_the_page_has_a_policy_and_tiles_stay_home(b: Backend) {
    let st = fresh("headers", b);
    let f = fixture(&st);
    let token = token_for(&st, "li", Role::GridStaff, &[&f.mine], None);
    let get = |uri: String, token: Option<String>| {
        let mut r = Request::get(uri).header(header::ORIGIN, "https://elsewhere.example");
        if let Some(t) = token {
            r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let st = st.clone();
        async move {
            let r = app(st)
                .oneshot(r.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let (status, headers) = (r.status(), r.headers().clone());
            let b = r.into_body().collect().await.unwrap().to_bytes();
            (status, headers, String::from_utf8_lossy(&b).into_owned())
        }
    };
    for uri in [
        format!("/households/{}", f.household[0]),
        "/households".to_string(),
        format!("/incidents/{}", f.incident[0]),
        "/district.json".to_string(),
        "/me".to_string(),
    ] {
        let (s, h, body) = get(uri.clone(), Some(token.clone())).await;
        assert!(s.is_success(), "{uri}: {s} {body}");
        assert_eq!(h[header::CACHE_CONTROL], "no-store", "{uri}");
    }
    // The web map's page carries its policy.
    let (s, h, _) = get("/?f=html".into(), None).await;
    assert_eq!(s, StatusCode::OK);
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' 'sha256-") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    // Tiles are not offered to other sites unless --cors-origin says so.
    let (s, h, _) = get(tile_uri(&st, "plan", "png"), Some(token.clone())).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "{h:?}"
    );
    assert_ne!(
        h.get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    // /health tells anonymous callers it is up, not where its store is.
    let (_, _, anon) = get("/health".into(), None).await;
    let v: Value = serde_json::from_str(&anon).unwrap();
    assert_eq!(v["status"], "ok");
    assert!(v.get("store").is_none() && v["version"].is_i64(), "{v}");
    let (_, _, staff) = get("/health".into(), Some(token)).await;
    let v: Value = serde_json::from_str(&staff).unwrap();
    assert!(v["store"].is_string(), "{v}");
}
