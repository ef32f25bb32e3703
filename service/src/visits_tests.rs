//! Household visits over HTTP, on both stores: grid staff record what
//! they found at a door; the records are append-only, checked (every
//! problem named), read back oldest first by those who see the
//! household's personal data, and every write and read is audited. A
//! household change names the version it was based on (`If-Match`); one
//! based on an older version is refused with the household as it is now.

use axum::http::StatusCode;
use gridgov_spatial::access::Role;
use serde_json::json;

use super::test_support::{Backend, admin_token, call, fresh, token_for};

on_both_backends!(
    a_grid_staff_member_records_visits_that_are_kept_in_order_checked_and_audited,
    a_household_change_based_on_an_old_version_is_refused_with_both_versions_kept,
    photos_are_kept_without_their_position_and_shown_only_to_those_who_may_read_them,
);

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

async fn a_household_change_based_on_an_old_version_is_refused_with_both_versions_kept(b: Backend) {
    let st = fresh("household_etag", b);
    let admin = admin_token(&st);
    let auth = |extra: Option<String>| {
        let mut h = vec![("authorization", format!("Bearer {admin}"))];
        if let Some(e) = extra {
            h.push(("if-match", e));
        }
        h
    };
    let uri = "/households/3";
    let (s, h, first) = call(&st, "GET", uri, &auth(None), None).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let v0 = h["etag"].to_str().unwrap().to_owned();
    // The web changes the headcount from version 0.
    let (s, h, web) = call(
        &st,
        "PUT",
        uri,
        &auth(Some(v0.clone())),
        Some(json!({"headcount": 4})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{web}");
    let v1 = h["etag"].to_str().unwrap().to_owned();
    assert_ne!(v0, v1);
    // A phone that read version 0 sends its change later: refused, with
    // the household as it is now and its version.
    let (s, _, conflict) = call(
        &st,
        "PUT",
        uri,
        &auth(Some(v0.clone())),
        Some(json!({"phone": "13800000000", "headcount": 2})),
    )
    .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{conflict}");
    assert_eq!(conflict["code"], "household.changed");
    assert_eq!(conflict["current"]["headcount"], 4);
    assert_eq!(conflict["etag"], v1.as_str());
    assert!(
        conflict["detail"]
            .as_str()
            .unwrap()
            .contains("已被他人修改"),
        "{conflict}"
    );
    let (_, h, now) = call(&st, "GET", uri, &auth(None), None).await;
    assert_eq!(
        now["headcount"], 4,
        "nothing of the refused change was written"
    );
    assert_eq!(h["etag"], v1.as_str());
    // Resolved on the phone and sent against the current version (a weak
    // tag is taken as the same): applied.
    let (s, h, merged) = call(
        &st,
        "PUT",
        uri,
        &auth(Some(format!("W/{v1}"))),
        Some(json!({"phone": "13800000000"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{merged}");
    assert_eq!(
        (merged["headcount"].as_u64(), merged["phone"].as_str()),
        (Some(4), Some("13800000000"))
    );
    assert_ne!(h["etag"], v1.as_str());
    // Two changes sent at once from the same version: exactly one lands.
    let (_, h, _) = call(&st, "GET", uri, &auth(None), None).await;
    let v2 = h["etag"].to_str().unwrap().to_owned();
    let (ha, hb) = (auth(Some(v2.clone())), auth(Some(v2)));
    let (a, b2) = tokio::join!(
        call(&st, "PUT", uri, &ha, Some(json!({"room": "101"}))),
        call(&st, "PUT", uri, &hb, Some(json!({"room": "102"}))),
    );
    let mut statuses = [a.0, b2.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED]);
    // Without If-Match (or `*`) a change applies to whatever is there.
    let (s, _, _) = call(
        &st,
        "PUT",
        uri,
        &auth(Some("*".into())),
        Some(json!({"headcount": 5})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(&st, "PUT", uri, &auth(None), Some(json!({"headcount": 6}))).await;
    assert_eq!(s, StatusCode::OK);
}

/// A JPEG as a phone writes it: an EXIF segment with a GPS position and
/// a camera serial after the start marker.
fn phone_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(80, 60, |x, y| {
        image::Rgb([(x * 3) as u8, (y * 4) as u8, 90])
    });
    let mut plain = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut plain),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let payload = b"Exif\0\0MM\0*GPSLatitude 34.8612N GPSLongitude 117.5531E SN-PHONE-778";
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A request with a raw body; the status, headers and body bytes.
async fn raw(
    st: &std::sync::Arc<super::AppState>,
    method: &str,
    uri: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(axum::body::Body::from(body))
        .unwrap();
    let r = super::app(st.clone()).oneshot(req).await.unwrap();
    let (s, h) = (r.status(), r.headers().clone());
    (
        s,
        h,
        r.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

/// `GET uri` as `token`.
async fn fetch(
    st: &std::sync::Arc<super::AppState>,
    uri: &str,
    token: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    raw(st, "GET", uri, token, "", Vec::new()).await
}

/// `POST uri` of `body` as `content_type`, as `token`.
async fn upload(
    st: &std::sync::Arc<super::AppState>,
    uri: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    raw(st, "POST", uri, token, content_type, body).await
}

fn has(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn photos_are_kept_without_their_position_and_shown_only_to_those_who_may_read_them(
    b: Backend,
) {
    let st = fresh("photos", b);
    // Two households of two grids, and each grid's staff member.
    let (mine, theirs) = {
        let snap = st.current();
        let mut seen: Vec<(usize, String)> = Vec::new();
        for (i, h) in snap.district.households.iter().enumerate() {
            let Some(p) = snap.assignment.units.get(h.unit.index()) else {
                continue;
            };
            let Some(g) = p.responsible() else { continue };
            let code = snap.district.area(g).code.clone();
            if seen.iter().all(|(_, c)| *c != code) {
                seen.push((i + 1, code));
            }
            if seen.len() == 2 {
                break;
            }
        }
        (seen[0].clone(), seen[1].clone())
    };
    let me = token_for(&st, "li_photo", Role::GridStaff, &[mine.1.as_str()], None);
    let other = token_for(
        &st,
        "zhao_photo",
        Role::GridStaff,
        &[theirs.1.as_str()],
        None,
    );
    let src = phone_jpeg();
    assert!(has(&src, b"GPSLatitude"));
    let (s, _, body) = upload(
        &st,
        &format!("/households/{}/photos", mine.0),
        &me,
        "image/jpeg",
        src.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));
    let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (p["width"].as_u64(), p["height"].as_u64()),
        (Some(80), Some(60))
    );
    assert_eq!(p["owner"], json!({"kind": "household", "id": mine.0}));
    let id = p["id"].as_i64().unwrap();

    // Read back: a JPEG with no EXIF and no position, and a thumbnail.
    let (s, h, jpeg) = fetch(&st, &format!("/photos/{id}"), &me).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "image/jpeg");
    assert!(h["cache-control"].to_str().unwrap().contains("no-store"));
    assert!(image::load_from_memory(&jpeg).is_ok());
    for secret in [&b"Exif"[..], b"GPS", b"SN-PHONE"] {
        assert!(!has(&jpeg, secret), "{}", String::from_utf8_lossy(secret));
    }
    let (s, _, thumb) = fetch(&st, &format!("/photos/{id}?thumb=true"), &me).await;
    assert_eq!(s, StatusCode::OK);
    assert!(image::load_from_memory(&thumb).is_ok());

    // Another grid's staff may neither see it nor add to that household.
    let (s, _, _) = fetch(&st, &format!("/photos/{id}"), &other).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = upload(
        &st,
        &format!("/households/{}/photos", mine.0),
        &other,
        "image/jpeg",
        src.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A visit names the photo; one of another household is refused.
    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    let (s, _, v) = call(
        &st,
        "POST",
        &format!("/households/{}/visits", mine.0),
        &bearer(&me),
        Some(json!({"note": "门口堆物，已拍照", "photo": id})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["photo"], id);
    let (s, _, _) = upload(
        &st,
        &format!("/households/{}/photos", theirs.0),
        &other,
        "image/jpeg",
        src.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, v) = call(
        &st,
        "POST",
        &format!("/households/{}/visits", mine.0),
        &bearer(&me),
        Some(json!({"photo": id + 1})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "photo");

    // What is not a picture is refused, and says why.
    let (s, _, body) = upload(
        &st,
        &format!("/households/{}/photos", mine.0),
        &me,
        "image/jpeg",
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&body).contains("photo.not_an_image"));
    let (s, _, _) = upload(
        &st,
        &format!("/households/{}/photos", mine.0),
        &me,
        "text/plain",
        src.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, _, _) = fetch(&st, "/photos/99999", &me).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A case's photo: for those who may read the case.
    let admin = admin_token(&st);
    let c = {
        let snap = st.current();
        let d = &snap.district;
        let g = d.grids().find(|g| d.area(*g).code == mine.1).unwrap();
        geo::InteriorPoint::interior_point(&d.area(g).boundary).unwrap()
    };
    let (s, _, case) = call(
        &st,
        "POST",
        "/incidents",
        &bearer(&admin),
        Some(json!({"lon": c.x(), "lat": c.y(), "category": "environment"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let cid = case["id"].as_i64().unwrap();
    let (s, _, body) = upload(
        &st,
        &format!("/incidents/{cid}/photos"),
        &me,
        "image/jpeg",
        src,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));
    let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let pid = p["id"].as_i64().unwrap();
    let (s, _, _) = fetch(&st, &format!("/photos/{pid}?thumb=true"), &admin).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = fetch(&st, &format!("/photos/{pid}"), &other).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A step shows the case's photos; not another's.
    let step = format!("/incidents/{cid}/steps");
    let (s, _, v) = call(
        &st,
        "POST",
        &step,
        &bearer(&me),
        Some(json!({"action": "accept", "photos": [id]})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "photos");
    let (s, _, v) = call(
        &st,
        "POST",
        &step,
        &bearer(&me),
        Some(json!({"action": "accept", "note": "现场已拍照", "photos": [pid]})),
    )
    .await;
    assert!(s.is_success(), "{v}");
    let (_, _, c) = call(&st, "GET", &format!("/incidents/{cid}"), &bearer(&me), None).await;
    let last = c["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["photos"], json!([pid]), "{c}");
}
