//! The handheld's slice and delta over HTTP, on both stores: a staff
//! member's slice is their grid (households in full, its open cases and
//! those dispatched to them) and nothing else; a delta against what a
//! phone holds is empty until something changes, then holds only that;
//! a change sent twice with one `Idempotency-Key` is made once.

use std::collections::HashMap;

use axum::http::StatusCode;
use gridgov_spatial::access::Role;
use serde_json::{Value, json};

use super::test_support::{Backend, TestState, call, fresh, token_for};

on_both_backends!(
    a_staff_members_slice_is_their_grid_in_full_with_its_open_cases_and_nothing_else,
    a_delta_holds_only_what_changed_since_the_copy_the_phone_holds,
    a_case_dispatched_to_a_staff_member_elsewhere_is_in_their_slice,
    a_visit_or_step_sent_again_with_its_key_is_recorded_once,
    a_phone_that_takes_gzip_gets_the_same_slice_in_a_fraction_of_the_bytes,
);

fn bearer(t: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {t}"))]
}

/// The grid with the most households, and a staff member of it.
fn staff(st: &TestState, name: &str) -> (String, String) {
    let snap = st.current();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for h in &snap.district.households {
        if let Some(g) = super::households::grid_of(&snap, h) {
            *counts.entry(g).or_default() += 1;
        }
    }
    let grid = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .unwrap()
        .0;
    let t = token_for(st, name, Role::GridStaff, &[grid.as_str()], None);
    (grid, t)
}

/// What a phone holds after `slice`: the body of a delta request.
fn known(slice: &Value) -> Value {
    let hs: serde_json::Map<String, Value> = slice["households"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["id"].to_string(), h["etag"].clone()))
        .collect();
    let cs: serde_json::Map<String, Value> = slice["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].to_string(), c["state"]["seq"].clone()))
        .collect();
    let gs: serde_json::Map<String, Value> = slice["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["code"].as_str().unwrap().to_owned(), g["version"].clone()))
        .collect();
    json!({"households": hs, "cases": cs, "grids": gs, "visits_after": slice["totals"]["last_visit"]})
}

async fn a_staff_members_slice_is_their_grid_in_full_with_its_open_cases_and_nothing_else(
    b: Backend,
) {
    let st = fresh("slice", b);
    let (grid, t) = staff(&st, "wang_slice");
    let (s, h, slice) = call(&st, "GET", "/m/slice", &bearer(&t), None).await;
    assert_eq!(s, StatusCode::OK, "{slice}");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(slice["delta"], false);
    assert_eq!(slice["user"], "wang_slice");
    assert_eq!(slice["expires_after_s"], 72 * 3600);
    assert_eq!(slice["grids"].as_array().unwrap().len(), 1);
    assert_eq!(slice["grids"][0]["code"], grid.as_str());
    assert!(slice["grids"][0]["geometry"]["type"].is_string());

    // Every household of the grid, in full, and none of any other:
    // checked against the household list, one by one.
    let snap = st.current();
    let want: Vec<usize> = snap
        .district
        .households
        .iter()
        .enumerate()
        .filter(|(_, h)| super::households::grid_of(&snap, h).as_deref() == Some(grid.as_str()))
        .map(|(i, _)| i + 1)
        .collect();
    let hs = slice["households"].as_array().unwrap();
    let got: Vec<usize> = hs
        .iter()
        .map(|h| h["id"].as_u64().unwrap() as usize)
        .collect();
    assert_eq!(got, want);
    assert_eq!(slice["totals"]["households"], want.len());
    for h in hs {
        let i = h["id"].as_u64().unwrap() as usize - 1;
        let full = &snap.district.households[i];
        assert_eq!(h["head_name"].as_str(), full.head_name.as_deref());
        assert_eq!(h["id_number"].as_str(), full.id_number.as_deref());
        assert_eq!(
            h["etag"],
            gridgov_app::households::household_etag(full).as_str()
        );
    }
    // Buildings hold the units those households live in.
    let units: std::collections::HashSet<u64> = slice["buildings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| {
            b["units"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_u64().unwrap())
        })
        .collect();
    assert!(
        hs.iter()
            .all(|h| units.contains(&h["unit"].as_u64().unwrap()))
    );

    // The open cases of the grid, each with its history and version.
    let (_, _, list) = call(
        &st,
        "GET",
        &format!("/incidents?grid={grid}&limit=10000"),
        &[],
        None,
    )
    .await;
    let open: Vec<i64> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            !["rejected", "closed", "evaluated", "merged"].contains(&c["status"].as_str().unwrap())
        })
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    let cases: Vec<i64> = slice["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(cases, open);
    assert!(!cases.is_empty(), "the sample's grid has open cases");
    assert!(slice["cases"][0]["history"].is_array());

    // The read of personal data is audited.
    let (_, _, audit) = call(&st, "GET", "/audit?user=wang_slice", &[], None).await;
    let lines = audit.to_string();
    assert!(lines.contains("/m/slice"), "{lines}");
    assert!(
        lines.contains(&format!("{} households in full", want.len())),
        "{lines}"
    );

    // Someone without grids has no slice, told why in Chinese.
    let admin = super::test_support::admin_token(&st);
    let (s, _, p) = call(&st, "GET", "/m/slice", &bearer(&admin), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    assert_eq!(p["code"], "handheld.no_grids");
    assert!(
        p["detail"].as_str().unwrap().contains("没有负责的网格"),
        "{p}"
    );
    let (s, _, _) = call(
        &st,
        "GET",
        "/m/slice",
        &[("authorization", String::new())],
        None,
    )
    .await;
    assert!(s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN);
}

async fn a_delta_holds_only_what_changed_since_the_copy_the_phone_holds(b: Backend) {
    let st = fresh("delta", b);
    let (grid, t) = staff(&st, "wang_delta");
    let (_, _, slice) = call(&st, "GET", "/m/slice", &bearer(&t), None).await;
    let k = known(&slice);
    // Nothing changed: an empty delta with the same version.
    let (s, _, d) = call(&st, "POST", "/m/slice/delta", &bearer(&t), Some(k.clone())).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["delta"], true);
    assert_eq!(d["version"], slice["version"]);
    for f in [
        "households",
        "cases",
        "visits",
        "removed_households",
        "removed_cases",
    ] {
        assert_eq!(d[f], json!([]), "{f}: {d}");
    }
    assert!(d.get("grids").is_none() && d.get("buildings").is_none());

    // Three changes made elsewhere: a household on the web, a visit, a
    // case closed (it leaves the slice) and one accepted.
    let h1 = slice["households"][0]["id"].as_u64().unwrap();
    let (s, _, _) = call(
        &st,
        "PUT",
        &format!("/households/{h1}"),
        &[],
        Some(json!({"headcount": 7})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let h2 = slice["households"][1]["id"].as_u64().unwrap();
    let (s, _, v) = call(
        &st,
        "POST",
        &format!("/households/{h2}/visits"),
        &bearer(&t),
        Some(json!({"note": "复访"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let reported: Vec<&Value> = slice["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"]["status"] == "reported")
        .collect();
    assert!(reported.len() >= 2, "two reported cases in {grid}");
    let (gone, moved) = (
        reported[0]["id"].as_i64().unwrap(),
        reported[1]["id"].as_i64().unwrap(),
    );
    let (s, _, r) = call(
        &st,
        "POST",
        &format!("/incidents/{gone}/steps"),
        &[],
        Some(json!({"action": "reject", "reason": "重复上报"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (s, _, r) = call(
        &st,
        "POST",
        &format!("/incidents/{moved}/steps"),
        &[],
        Some(json!({"action": "accept"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");

    let (s, _, d) = call(&st, "POST", "/m/slice/delta", &bearer(&t), Some(k)).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_ne!(d["version"], slice["version"]);
    let ids = |f: &str| -> Vec<i64> {
        d[f].as_array()
            .unwrap()
            .iter()
            .map(|x| x.get("id").unwrap_or(x).as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids("households"), vec![h1 as i64]);
    assert_eq!(d["households"][0]["headcount"], 7);
    assert_eq!(ids("cases"), vec![moved]);
    assert_eq!(d["cases"][0]["state"]["status"], "accepted");
    assert_eq!(ids("removed_cases"), vec![gone]);
    assert_eq!(ids("visits"), vec![v["id"].as_i64().unwrap()]);
    assert_eq!(d["removed_households"], json!([]));
    assert_eq!(
        d["totals"]["cases"],
        slice["totals"]["cases"].as_u64().unwrap() - 1
    );
    // Smaller than the slice by far.
    assert!(d.to_string().len() * 10 < slice.to_string().len());

    // A delta for a grid whose boundary the phone holds at another
    // version carries the grids and buildings again.
    let mut stale = known(&slice);
    stale["grids"][grid.as_str()] = json!(-1);
    let (_, _, d) = call(&st, "POST", "/m/slice/delta", &bearer(&t), Some(stale)).await;
    assert_eq!(d["grids"][0]["code"], grid.as_str());
    assert!(!d["buildings"].as_array().unwrap().is_empty());

    // A body that is not what a phone holds is refused, by field.
    let (s, _, p) = call(
        &st,
        "POST",
        "/m/slice/delta",
        &bearer(&t),
        Some(json!({"households": {"1": 5}})),
    )
    .await;
    assert!(s.is_client_error(), "{p}");
}

async fn a_case_dispatched_to_a_staff_member_elsewhere_is_in_their_slice(b: Backend) {
    let st = fresh("slice_dispatch", b);
    let (grid, t) = staff(&st, "wang_far");
    // A reported case of another grid, dispatched to this member by name.
    let (_, _, list) = call(
        &st,
        "GET",
        "/incidents?status=reported&limit=10000",
        &[],
        None,
    )
    .await;
    let far = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["grid"].as_str().is_some_and(|g| g != grid))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, _, before) = call(&st, "GET", "/m/slice", &bearer(&t), None).await;
    assert!(
        !before["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == far)
    );
    for step in [
        json!({"action": "accept"}),
        json!({"action": "dispatch", "to": {"kind": "person", "name": "wang_far"}}),
    ] {
        let (s, _, r) = call(
            &st,
            "POST",
            &format!("/incidents/{far}/steps"),
            &[],
            Some(step),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    let (_, _, d) = call(
        &st,
        "POST",
        "/m/slice/delta",
        &bearer(&t),
        Some(known(&before)),
    )
    .await;
    assert_eq!(d["cases"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d["cases"][0]["id"], far);
    assert_eq!(d["cases"][0]["state"]["status"], "dispatched");
}

async fn a_visit_or_step_sent_again_with_its_key_is_recorded_once(b: Backend) {
    let st = fresh("slice_replay", b);
    let (_, t) = staff(&st, "wang_replay");
    let (_, _, slice) = call(&st, "GET", "/m/slice", &bearer(&t), None).await;
    let h = slice["households"][0]["id"].as_u64().unwrap();
    let mut headers = bearer(&t);
    headers.push(("idempotency-key", "phone-visit-1".into()));
    let uri = format!("/households/{h}/visits");
    let (s1, _, v1) = call(&st, "POST", &uri, &headers, Some(json!({"note": "走访"}))).await;
    let (s2, h2, v2) = call(&st, "POST", &uri, &headers, Some(json!({"note": "走访"}))).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(v1["id"], v2["id"]);
    assert_eq!(h2["idempotent-replayed"], "true");
    let (_, _, all) = call(&st, "GET", &uri, &bearer(&t), None).await;
    assert_eq!(all["visits"].as_array().unwrap().len(), 1, "{all}");

    // A step: the answer lost, the same step sent again is not a second.
    let c = slice["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["state"]["status"] == "reported")
        .unwrap();
    let id = c["id"].as_i64().unwrap();
    let mut headers = bearer(&t);
    headers.push(("idempotency-key", "phone-step-1".into()));
    headers.push(("if-match", format!("\"{}\"", c["state"]["seq"])));
    let uri = format!("/incidents/{id}/steps");
    let (s1, _, _) = call(
        &st,
        "POST",
        &uri,
        &headers,
        Some(json!({"action": "accept"})),
    )
    .await;
    let (s2, _, r2) = call(
        &st,
        "POST",
        &uri,
        &headers,
        Some(json!({"action": "accept"})),
    )
    .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED), "{r2}");
    let (_, _, case) = call(&st, "GET", &format!("/incidents/{id}"), &bearer(&t), None).await;
    let accepts = case["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "accept")
        .count();
    assert_eq!(accepts, 1);
}

async fn a_phone_that_takes_gzip_gets_the_same_slice_in_a_fraction_of_the_bytes(b: Backend) {
    use http_body_util::BodyExt;
    use std::io::Read;
    use tower::ServiceExt;
    let st = fresh("slice_gzip", b);
    let (_, t) = staff(&st, "wang_gzip");
    let (_, _, plain) = call(&st, "GET", "/m/slice", &bearer(&t), None).await;
    let req = axum::http::Request::builder()
        .uri("/m/slice")
        .header("authorization", format!("Bearer {t}"))
        .header("accept-encoding", "br;q=1.0, gzip;q=0.8")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = super::app(st.clone()).oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["vary"], "accept-encoding");
    let packed = r.into_body().collect().await.unwrap().to_bytes();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_string(&mut text)
        .unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    // How long an overdue case has been overdue moves with the clock
    // between the two requests; the rest is the same.
    let mut plain = plain;
    for s in [&mut v, &mut plain] {
        for c in s["cases"].as_array_mut().unwrap() {
            if let Some(o) = c.get_mut("overdue").and_then(Value::as_object_mut) {
                o.remove("hours_over");
            }
        }
    }
    // The same slice (but for when it was made).
    for f in [
        "version",
        "households",
        "cases",
        "buildings",
        "grids",
        "visits",
    ] {
        assert_eq!(v[f], plain[f], "{f}");
    }
    assert!(
        packed.len() * 3 < text.len(),
        "{} of {}",
        packed.len(),
        text.len()
    );
}
