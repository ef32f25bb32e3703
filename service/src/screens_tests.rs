//! What the users' screens stand on, on both stores: the message
//! catalogue in the language asked for, Open311's names in Chinese, the
//! command center's figures, the live feed of cases (pushed within a
//! second, only to those who may read the case), incident tiles that obey
//! the heatmap's filters, and a draft's new warnings with their places.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gridgov_spatial::access::Role;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::AppState;
use super::test_support::{Backend, call, fresh, signed_app, token_for};

on_both_backends!(
    the_live_feed_pushes_a_new_case_within_a_second_only_to_those_who_may_read_it,
    the_overview_counts_today_s_new_open_overdue_closed_and_satisfaction,
    incident_tiles_follow_the_heatmap_s_category_and_date_filters,
    a_draft_that_drops_a_grid_below_its_band_reports_a_located_new_warning,
    problems_are_told_in_the_caller_s_language_with_a_stable_code_and_their_headers,
);

/// A grid's code and a point inside it.
fn a_point(st: &Arc<AppState>, nth: usize) -> ([f64; 2], String) {
    let snap = st.current();
    let d = &snap.district;
    let g = d.grids().nth(nth).unwrap();
    let c = geo::InteriorPoint::interior_point(&d.area(g).boundary).unwrap();
    let at = snap.grids.locate(c.x(), c.y()).unwrap();
    ([c.x(), c.y()], d.area(at).code.clone())
}

/// Reads SSE frames from `body` until an event named `name` comes or
/// `limit` passes; the event's data.
pub(crate) async fn next_event(body: &mut Body, name: &str, limit: Duration) -> Option<Value> {
    let until = tokio::time::Instant::now() + limit;
    let mut buf = String::new();
    loop {
        let frame = tokio::time::timeout_at(until, body.frame())
            .await
            .ok()??
            .ok()?;
        if let Ok(data) = frame.into_data() {
            buf.push_str(&String::from_utf8_lossy(&data));
        }
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut event = "message";
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            if event == name {
                return serde_json::from_str(&data).ok();
            }
        }
    }
}

pub(crate) async fn open_feed(st: &Arc<AppState>, token: Option<&str>) -> Body {
    let mut req = Request::builder().uri("/events");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let r = signed_app(st)
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = r.into_body();
    assert!(
        next_event(&mut body, "hello", Duration::from_secs(5))
            .await
            .is_some(),
        "the feed says hello first"
    );
    body
}

async fn the_live_feed_pushes_a_new_case_within_a_second_only_to_those_who_may_read_it(b: Backend) {
    let st = fresh("feed", b);
    let (p, code) = a_point(&st, 3);
    let (_, other) = a_point(&st, 9);
    assert_ne!(code, other);
    let theirs = token_for(&st, "feed-theirs", Role::GridStaff, &[&code], None);
    let elsewhere = token_for(&st, "feed-elsewhere", Role::GridStaff, &[&other], None);
    let mut admin = open_feed(&st, None).await;
    let mut mine = open_feed(&st, Some(&theirs)).await;
    let mut not_mine = open_feed(&st, Some(&elsewhere)).await;
    // Not signed in: no feed.
    let r = super::app(Arc::clone(&st))
        .oneshot(
            Request::builder()
                .uri("/events")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let filed = std::time::Instant::now();
    let (s, _, v) = call(
        &st,
        "POST",
        "/incidents",
        &[],
        Some(json!({"lon": p[0], "lat": p[1], "category": "noise", "description": "楼下KTV很吵，电话13800001234"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let e = next_event(&mut admin, "case", Duration::from_secs(1))
        .await
        .expect("the new case reaches the command center within 1 s");
    assert!(filed.elapsed() < Duration::from_secs(1));
    assert_eq!(e["id"], id);
    assert_eq!(e["kind"], "new");
    assert_eq!(e["category"], "noise");
    assert_eq!(e["status"], "reported");
    assert_eq!(e["grid"]["code"], code.as_str());
    // What the resident said, and who filed it, are not on the feed.
    assert!(
        e.get("description").is_none() && e.get("filed_by").is_none(),
        "{e}"
    );
    let e = next_event(&mut mine, "case", Duration::from_secs(1)).await;
    assert_eq!(e.expect("the grid's own staff hear of it")["id"], id);

    // A step is pushed too.
    let (s, _, v) = call(
        &st,
        "POST",
        &format!("/incidents/{id}/steps"),
        &[],
        Some(json!({"action": "accept"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let e = next_event(&mut admin, "case", Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        (e["id"].as_i64(), e["kind"].as_str(), e["status"].as_str()),
        (Some(id), Some("update"), Some("accepted"))
    );
    assert_eq!(e["last_action"], "accept");
    // Staff of another grid heard of neither.
    assert!(
        next_event(&mut not_mine, "case", Duration::from_millis(300))
            .await
            .is_none(),
        "a case of another grid reached its staff"
    );
    // The service stopping ends every feed.
    st.events.close();
    assert!(
        tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(f) = admin.frame().await {
                if f.is_err() {
                    break;
                }
            }
        })
        .await
        .is_ok(),
        "the feed did not end when the service stopped"
    );
}

async fn the_overview_counts_today_s_new_open_overdue_closed_and_satisfaction(b: Backend) {
    let st = fresh("overview", b);
    let (p, _) = a_point(&st, 2);
    let get = |st: Arc<AppState>| async move {
        let (s, _, v) = call(&st, "GET", "/stats/overview", &[], None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    };
    let o0 = get(Arc::clone(&st)).await;
    // Two reports now; one worked to the end and rated 2.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (s, _, v) = call(
            &st,
            "POST",
            "/incidents",
            &[],
            Some(json!({"lon": p[0], "lat": p[1], "category": "parking"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    let (_, code) = a_point(&st, 2);
    for step in [
        json!({"action": "accept"}),
        json!({"action": "dispatch", "to": {"kind": "grid", "name": code}}),
        json!({"action": "handle"}),
        json!({"action": "feedback"}),
        json!({"action": "close"}),
        json!({"action": "evaluate", "satisfaction": 2}),
    ] {
        let (s, _, v) = call(
            &st,
            "POST",
            &format!("/incidents/{}/steps", ids[0]),
            &[],
            Some(step),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let o1 = get(Arc::clone(&st)).await;
    let n = |v: &Value, k: &str| v[k].as_u64().unwrap();
    assert_eq!(n(&o1, "new_today"), n(&o0, "new_today") + 2);
    assert_eq!(n(&o1, "open"), n(&o0, "open") + 1);
    assert_eq!(n(&o1, "closed_today"), n(&o0, "closed_today") + 1);
    assert_eq!(n(&o1, "evaluations"), n(&o0, "evaluations") + 1);
    let (e0, e1) = (n(&o0, "evaluations") as f64, n(&o1, "evaluations") as f64);
    let mean0 = o0["satisfaction"].as_f64().unwrap_or(0.0);
    let want = (mean0 * e0 + 2.0) / e1;
    assert!(
        (o1["satisfaction"].as_f64().unwrap() - want).abs() < 1e-9,
        "{o1}"
    );
    // Open and overdue are what the case list says.
    let (_, _, open) = call(&st, "GET", "/incidents?overdue=true&limit=0", &[], None).await;
    assert_eq!(n(&o1, "overdue"), n(&open, "total"));
    let mut all_open = 0;
    for status in ["reported", "accepted", "dispatched", "handled", "feedback"] {
        let (_, _, v) = call(
            &st,
            "GET",
            &format!("/incidents?status={status}&limit=0"),
            &[],
            None,
        )
        .await;
        all_open += n(&v, "total");
    }
    assert!(
        all_open >= n(&o1, "open"),
        "{all_open} open in the list, {} on the tile",
        n(&o1, "open")
    );
}

async fn mvt_points(st: &Arc<AppState>, uri: &str) -> usize {
    let r = signed_app(st)
        .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{uri}");
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    let tile = gridgov_tiles::mvt::decode(&bytes).unwrap();
    tile.layers
        .iter()
        .filter(|l| l.name == "incidents")
        .flat_map(|l| {
            let count = l.keys.iter().position(|k| k == "count");
            l.features.iter().map(move |f| {
                // A cell of counts holds `count` incidents; a point is one.
                count
                    .and_then(|ci| {
                        f.tags
                            .chunks(2)
                            .find(|t| t[0] as usize == ci)
                            .map(|t| l.values[t[1] as usize].sint_value.unwrap_or(1) as usize)
                    })
                    .unwrap_or(1)
            })
        })
        .sum()
}

async fn incident_tiles_follow_the_heatmap_s_category_and_date_filters(b: Backend) {
    let st = fresh("inctiles", b);
    // A tile that holds the whole sample district: its counts are every
    // incident's.
    let t = {
        let snap = st.current();
        let e = geo::BoundingRect::bounding_rect(
            &snap
                .district
                .area(snap.district.grids().next().unwrap())
                .boundary,
        )
        .unwrap();
        gridgov_tiles::TileId::containing(e.center().x, e.center().y, 10)
    };
    let (z, x, y) = (t.z, t.x, t.y);
    let all = mvt_points(&st, &format!("/tiles/incidents/{z}/{x}/{y}.mvt")).await;
    let noise = mvt_points(
        &st,
        &format!("/tiles/incidents/{z}/{x}/{y}.mvt?category=noise"),
    )
    .await;
    let none = mvt_points(
        &st,
        &format!("/tiles/incidents/{z}/{x}/{y}.mvt?category=no_such"),
    )
    .await;
    let march = mvt_points(
        &st,
        &format!("/tiles/incidents/{z}/{x}/{y}.mvt?from=2026-03-01&to=2026-03-31"),
    )
    .await;
    let snap = st.current();
    let count = |f: &dyn Fn(&gridgov_spatial::Incident) -> bool| {
        snap.district.incidents.iter().filter(|i| f(i)).count()
    };
    assert_eq!(all, count(&|_| true));
    assert_eq!(noise, count(&|i| i.category == "noise"));
    let day = |i: &gridgov_spatial::Incident| {
        gridgov_spatial::time::local_date(i.reported_at, 8 * 3600).to_string()
    };
    assert_eq!(
        march,
        count(&|i| day(i).as_str() >= "2026-03-01" && day(i).as_str() <= "2026-03-31")
    );
    assert!(
        noise > 0 && noise < all && march > 0 && march < all,
        "{noise} noise, {march} in March of {all}"
    );
    assert_eq!(none, 0);
}

async fn a_draft_that_drops_a_grid_below_its_band_reports_a_located_new_warning(b: Backend) {
    let st = fresh("warnings", b);
    // A basic grid in its band and a neighbour of the same community; its
    // buildings go over one by one until it holds fewer than 300
    // households.
    let changes = {
        let snap = st.current();
        let d = &snap.district;
        let households = |g| -> u64 {
            snap.stats
                .iter()
                .find(|s| s.code == d.area(g).code)
                .map_or(0, |s| s.counts.households as u64)
        };
        let from = d
            .grids()
            .find(|&g| {
                d.area(g).kind == Some(gridgov_spatial::GridKind::Basic)
                    && (300..=500).contains(&households(g))
            })
            .expect("a grid in its band");
        let to = d
            .grids()
            .find(|&g| {
                g != from
                    && d.area(g).kind == Some(gridgov_spatial::GridKind::Basic)
                    && d.area(g).parent == d.area(from).parent
            })
            .unwrap();
        let mut left = households(from);
        let (mut grown, mut shrunk) = (d.area(to).boundary.clone(), d.area(from).boundary.clone());
        for (i, bl) in d.buildings.iter().enumerate() {
            let a = &snap.assignment.buildings[i];
            if left < 300 || a.straddling || a.placement.grid() != Some(from) {
                continue;
            }
            let h: u64 = d
                .units
                .iter()
                .filter(|u| u.building.index() == i)
                .map(|u| u64::from(u.households))
                .sum();
            grown = geo::BooleanOps::union(&grown, &bl.footprint);
            shrunk = geo::BooleanOps::difference(&shrunk, &bl.footprint);
            left = left.saturating_sub(h);
        }
        assert!(left < 300);
        let g = |mp: &geo::MultiPolygon<f64>| {
            serde_json::to_value(geojson::Geometry::from(mp)).unwrap()
        };
        json!([{"code": d.area(from).code, "geometry": g(&shrunk)}, {"code": d.area(to).code, "geometry": g(&grown)}])
    };
    let (s, _, d) = call(
        &st,
        "POST",
        "/drafts",
        &[],
        Some(json!({"reason": "test", "changes": changes})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let (s, _, v) = call(
        &st,
        "GET",
        &format!("/drafts/{}/validate", d["id"].as_str().unwrap()),
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let warned = v["new_warnings"].as_array().unwrap();
    assert!(
        warned
            .iter()
            .any(|w| w.as_str().unwrap().contains("households, outside 300–500")),
        "{warned:?}"
    );
    // Each new problem is a feature with its place, for the map.
    let located = v["new_problems"].as_array().unwrap();
    assert_eq!(
        located.len(),
        warned.len() + v["new_errors"].as_array().unwrap().len()
    );
    assert!(
        located
            .iter()
            .any(|f| f["properties"]["kind"] == "household_band" && f["geometry"].is_object()),
        "{located:?}"
    );
}

/// Open311's street-vending service, asked with `headers`.
async fn problems_are_told_in_the_caller_s_language_with_a_stable_code_and_their_headers(
    b: Backend,
) {
    let st = fresh("problem_lang", b);
    let en = [("accept-language", "en-US,en;q=0.9".to_string())];
    // Chinese by default; English on request; the code either way.
    let (s, h, zh) = call(&st, "GET", "/incidents/987654", &[], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(h[header::CONTENT_LANGUAGE], "zh-CN");
    assert_eq!(zh["code"], "case.not_found");
    assert_eq!(zh["title"], "未找到");
    assert_eq!(zh["detail"], "没有编号为 987654 的事件。");
    let (_, h, e) = call(&st, "GET", "/incidents/987654", &en, None).await;
    assert_eq!(e["code"], "case.not_found");
    assert_eq!(e["title"], "Not found");
    assert_eq!(e["detail"], "there is no incident 987654");
    assert!(h.get(header::CONTENT_LANGUAGE).is_none());
    let (_, _, q) = call(&st, "GET", "/incidents/987654?lang=en", &[], None).await;
    assert_eq!(q["detail"], "there is no incident 987654");

    // A step the case does not allow names its state and the steps it
    // does allow by their Chinese names; the codes stay in the members.
    let (p, _) = a_point(&st, 3);
    let (s, h, v) = call(
        &st,
        "POST",
        "/incidents",
        &[],
        Some(json!({"lon": p[0], "lat": p[1], "category": "noise"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let etag = h[header::ETAG].to_str().unwrap().to_owned();
    let (s, _, v) = call(
        &st,
        "POST",
        &format!("/incidents/{id}/steps"),
        &[("if-match", etag)],
        Some(json!({"action": "close"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "case.illegal");
    let d = v["detail"].as_str().unwrap();
    assert!(
        d.contains(&format!("事件 {id}")) && d.contains("已上报") && d.contains("结案"),
        "{d}"
    );
    assert!(d.contains("受理"), "the allowed steps by name: {d}");
    assert_eq!(v["status_now"], "reported");
    assert!(
        v["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "accept"),
        "{v}"
    );

    // A refused token keeps its WWW-Authenticate and is told in Chinese.
    let res = super::app(st.clone())
        .oneshot(
            Request::get("/me")
                .header(header::AUTHORIZATION, "Bearer not-a-token-at-all")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key(header::WWW_AUTHENTICATE));
    let v: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(v["code"], "account.bad_token");
    assert!(v["detail"].as_str().unwrap().contains("重新登录"), "{v}");

    // Every coded problem has its sentence in both catalogues, with the
    // placeholders its arguments fill.
    for lang in [
        gridgov_spatial::i18n::Lang::Zh,
        gridgov_spatial::i18n::Lang::En,
    ] {
        for code in [
            "case.not_found",
            "case.illegal",
            "case.finished",
            "case.moved_on",
            "account.bad_login",
            "account.bad_token",
            "access.forbidden",
            "access.sign_in",
            "boundary.changed",
            "boundary.adds_errors",
            "request.too_many",
            "request.too_large",
            "request.timeout",
        ] {
            assert!(
                gridgov_spatial::i18n::has(lang, &format!("problem.{code}")),
                "{lang:?}: {code}"
            );
        }
    }
}

#[tokio::test]
async fn a_feed_that_stops_reading_never_holds_up_the_others_and_is_told_to_refresh() {
    use super::events::{BACKLOG, Feed};
    use gridgov_app::cases::Whereabouts;
    let st = fresh("slow_feed", Backend::GeoPackage);
    let mut slow = open_feed(&st, None).await;
    let mut brisk = open_feed(&st, None).await;
    let n = BACKLOG + 100;
    // One reader keeps up; the other reads nothing while every change is
    // sent, and no send waits for it.
    let reader = tokio::spawn(async move {
        let mut ids = Vec::new();
        while ids.len() < n {
            match next_event(&mut brisk, "case", Duration::from_secs(10)).await {
                Some(v) => ids.push(v["id"].as_i64().unwrap()),
                None => break,
            }
        }
        ids
    });
    let who = Whereabouts {
        grid: None,
        assignee: None,
        filed_by: None,
    };
    for id in 0..n as i64 {
        st.events
            .send(Feed::Cases(vec![(who.clone(), json!({"id": id}))]));
        // Let the brisk reader run now and then, as a network would.
        if id % 32 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let got = reader.await.unwrap();
    assert_eq!(
        got,
        (0..n as i64).collect::<Vec<_>>(),
        "the brisk feed got every change in order"
    );
    // The slow one has fallen behind the backlog: it is told to reload
    // rather than handed a gap, and then goes on with what is held.
    let refresh = next_event(&mut slow, "refresh", Duration::from_secs(5)).await;
    assert!(
        refresh.is_some(),
        "a feed that fell behind is told to refresh"
    );
    let after = next_event(&mut slow, "case", Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        after["id"].as_i64().unwrap() >= (n - BACKLOG) as i64,
        "{after}"
    );
}

async fn street_vending(st: &Arc<AppState>, headers: &[(&str, String)]) -> Value {
    let (_, _, s) = call(st, "GET", "/open311/v2/services.json", headers, None).await;
    s.as_array()
        .unwrap()
        .iter()
        .find(|x| x["service_code"] == "street_vending")
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn messages_and_open311_names_follow_lang_and_accept_language() {
    let st = fresh("i18n", Backend::GeoPackage);
    let (_, _, zh) = call(&st, "GET", "/i18n", &[], None).await;
    assert_eq!(zh["lang"], "zh-CN");
    assert_eq!(zh["time_zone"], "Asia/Shanghai");
    assert_eq!(zh["messages"]["kpi.overdue"], "超期");
    let en_header = [("accept-language", "en-GB,en;q=0.9".to_string())];
    let (_, h, en) = call(&st, "GET", "/i18n", &en_header, None).await;
    assert_eq!(en["messages"]["kpi.overdue"], "Overdue");
    assert_eq!(h[header::VARY], "accept-language");
    let (_, _, q) = call(
        &st,
        "GET",
        "/i18n?lang=en",
        &[("accept-language", "zh-CN".into())],
        None,
    )
    .await;
    assert_eq!(q["lang"], "en");
    // Open311: codes stay, names are in the resident's language.
    let sv = street_vending(&st, &[]).await;
    assert_eq!(sv["service_name"], "占道经营");
    assert!(
        sv["description"].as_str().unwrap().contains("占道经营"),
        "{sv}"
    );
    let sv = street_vending(&st, &en_header).await;
    assert_eq!(sv["service_name"], "street vending");
    assert_eq!(
        sv["description"],
        "Report a street vending problem; it goes to the grid where it is."
    );
}
