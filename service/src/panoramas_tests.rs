//! Panoramas over HTTP, on both stores: a planner uploads one beside a
//! building of the sample; the map lists it; opening it gives the building
//! at the yaw and pitch computed by hand, with its grid, and the
//! neighbouring panorama as an arrow; what is served has no EXIF; bad
//! pictures and poses are named; grid staff may not upload.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

use super::test_support::{Backend, call, fresh, signed_app, token_for};
use gridgov_spatial::access::Role;

on_both_backends!(
    a_planner_uploads_panoramas_and_opening_one_shows_what_it_sees,
    bad_panoramas_are_refused_with_the_reason,
);

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 60])
    })
    .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
    .unwrap();
    out
}

async fn send(
    st: &super::test_support::TestState,
    uri: &str,
    token: Option<&str>,
    ct: &str,
    body: Vec<u8>,
) -> (StatusCode, Value, Vec<u8>) {
    let mut req = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::CONTENT_TYPE, ct);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let r = signed_app(st)
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let s = r.status();
    let bytes = http_body_util::BodyExt::collect(r.into_body())
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (
        s,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        bytes,
    )
}

async fn get_bytes(st: &super::test_support::TestState, uri: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let r = signed_app(st).oneshot(req).await.unwrap();
    let s = r.status();
    (
        s,
        http_body_util::BodyExt::collect(r.into_body())
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

async fn a_planner_uploads_panoramas_and_opening_one_shows_what_it_sees(b: Backend) {
    let st = fresh("panoramas", b);
    // 40 m west of a building of the sample, facing east.
    let (lon, lat, code, address, floors, grid) = {
        let snap = st.current();
        let d = &snap.district;
        let bi = 10;
        let bld = &d.buildings[bi];
        let c = geo::Centroid::centroid(&bld.footprint).unwrap();
        let g = snap.assignment.buildings[bi]
            .placement
            .responsible()
            .unwrap();
        let proj = gridgov_spatial::LocalProjection::new(c.x(), c.y());
        let (lon, lat) = proj.to_lon_lat(-40.0, 0.0);
        (
            lon,
            lat,
            bld.code.clone(),
            bld.address.clone(),
            bld.floors,
            d.area(g).code.clone(),
        )
    };
    let planner = token_for(&st, "planner-pano", Role::Planner, &[], None);
    let uri = format!("/panoramas?lon={lon}&lat={lat}&heading=90&eye=2");
    let (s, v, _) = send(&st, &uri, Some(&planner), "image/png", png(1024, 512)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["by"], "planner-pano");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(1024), Some(512))
    );
    // A second one 20 m north of the first: a neighbour.
    let (lon2, lat2) = gridgov_spatial::LocalProjection::new(lon, lat).to_lon_lat(0.0, 20.0);
    let (s, v2, _) = send(
        &st,
        &format!("/panoramas?lon={lon2}&lat={lat2}&heading=0"),
        Some(&planner),
        "image/png",
        png(1024, 512),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v2}");

    let (s, _, list) = call(&st, "GET", "/panoramas", &[], None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["features"].as_array().unwrap().len(), 2);
    assert_eq!(
        list["features"][0]["geometry"]["coordinates"][0].as_f64(),
        Some(lon)
    );

    let (s, _, view) = call(&st, "GET", &format!("/panoramas/{id}"), &[], None).await;
    assert_eq!(s, StatusCode::OK, "{view}");
    let hs = view["hotspots"].as_array().unwrap();
    let b = hs
        .iter()
        .find(|h| h["kind"] == "building" && h["building"] == code.as_str())
        .unwrap_or_else(|| panic!("the building 40 m east is in view: {view}"));
    assert_eq!(b["label"], address.as_str());
    assert_eq!(b["grid"], grid.as_str());
    // Straight ahead (east, facing east), its roof at floors × 3 m seen
    // from 2 m over 40 m.
    assert!(b["yaw"].as_f64().unwrap().abs() < 0.01, "{b}");
    let want = (f64::from(floors.max(1)) * 3.0 - 2.0)
        .atan2(40.0)
        .to_degrees();
    assert!(
        (b["pitch"].as_f64().unwrap() - want).abs() < 0.01,
        "{b} against {want}"
    );
    let arrow = hs.iter().find(|h| h["kind"] == "panorama").unwrap();
    assert_eq!(arrow["panorama"], v2["id"]);
    assert!(
        (arrow["yaw"].as_f64().unwrap() + 90.0).abs() < 0.01,
        "north, facing east: to the left"
    );
    assert!(view["grid"].is_string());

    // The picture and thumbnail are JPEGs.
    let (s, img) = get_bytes(&st, &format!("/panoramas/{id}/image")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(img.starts_with(&[0xFF, 0xD8]));
    let (s, thumb) = get_bytes(&st, &format!("/panoramas/{id}/thumb")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(image::load_from_memory(&thumb).unwrap().width(), 512);
    let (s, _) = get_bytes(&st, "/panoramas/999/image").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(&st, "GET", "/panoramas/999", &[], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn bad_panoramas_are_refused_with_the_reason(b: Backend) {
    let st = fresh("panoramas_bad", b);
    let at = "/panoramas?lon=117.55&lat=34.86&heading=0";
    let (s, v, _) = send(&st, at, None, "image/png", png(1000, 700)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "body");
    let (s, v, _) = send(
        &st,
        "/panoramas?heading=0",
        None,
        "image/png",
        png(1024, 512),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "lon");
    let (s, v, _) = send(
        &st,
        "/panoramas?lon=117.55&lat=34.86",
        None,
        "image/png",
        png(1024, 512),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "heading");
    let (s, _, _) = send(&st, at, None, "text/plain", b"hello".to_vec()).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let grid = {
        let snap = st.current();
        let g = snap.district.grids().next().unwrap();
        snap.district.area(g).code.clone()
    };
    let staff = token_for(&st, "staff-pano", Role::GridStaff, &[grid.as_str()], None);
    let (s, _, _) = send(&st, at, Some(&staff), "image/png", png(1024, 512)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, list) = call(&st, "GET", "/panoramas", &[], None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["features"], serde_json::json!([]), "nothing was kept");
}
