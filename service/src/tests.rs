//! Router tests: requests through `app(state)` with `oneshot`, over a real
//! store made from the sample district, on both backends.

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::test_support::{Backend, TestState, state_with, store};
use super::{AppState, Config};

/// One state per backend, shared by the tests that only read. (Statics
/// are never dropped, so the GeoPackage's folder of this one outlives the
/// run; every other test's is removed.)
fn state(b: Backend) -> Arc<AppState> {
    static GPKG: OnceLock<TestState> = OnceLock::new();
    static PG: OnceLock<TestState> = OnceLock::new();
    let cell = match b {
        Backend::GeoPackage => &GPKG,
        Backend::PostGis => &PG,
    };
    cell.get_or_init(|| {
        let config = Config {
            base_url: "http://test".into(),
            body_limit: 64 * 1024,
            batch_body_limit: 256 * 1024,
            label_font: gridgov_fonts::find(None).ok().map(|(_, f)| f),
            ..Config::default()
        };
        state_with(store(&format!("readonly_{b:?}").to_lowercase(), b), config)
    })
    .deref()
    .clone()
}

on_both_backends!(
    the_landing_page_links_to_conformance_collections_and_the_api_definition,
    collections_list_every_layer_with_its_extent,
    items_page_with_next_links_until_every_feature_is_seen,
    a_bbox_keeps_only_the_features_inside_it,
    items_come_in_the_crs_asked_for_in_its_axis_order_and_bbox_crs_selects_alike,
    datetime_filters_incidents_by_time_with_offsets,
    a_single_item_is_found_by_id_and_a_missing_one_is_404,
    bad_items_parameters_are_400_naming_the_parameter,
    lookup_by_point_gives_the_chain_in_any_crs,
    bad_lookups_are_400_naming_the_field,
    lookup_by_address_ranks_candidates,
    batch_lookup_takes_geojson_and_csv,
    bad_batches_are_4xx_never_5xx,
    a_batch_answers_its_bad_rows_with_their_reason_and_the_others_in_full,
    the_same_border_points_as_csv_and_as_geojson_get_the_same_grids,
    a_batch_in_utm_metres_gets_the_grids_of_the_same_points_in_lon_lat,
    the_summary_counts_per_level,
    unknown_paths_are_problem_json_404,
    vector_tiles_decode_with_every_layer_clipped_and_wound_by_the_spec,
    tiles_carry_an_etag_and_answer_304_when_unchanged,
    plan_and_heatmap_pngs_draw_the_district_and_the_legend_has_real_values,
    bad_tile_addresses_and_parameters_are_400_naming_the_field,
    browsers_get_the_web_map_at_the_root_and_api_clients_the_landing_page,
    web_assets_are_served_from_the_binary_and_nothing_else_is,
    a_building_item_is_found_by_its_code,
    the_whole_district_is_served_with_household_names_phones_and_id_numbers_masked,
);

struct Reply {
    status: StatusCode,
    content_type: String,
    content_crs: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn send(b: Backend, req: Request<Body>) -> Reply {
    let r = super::test_support::signed_app(&state(b))
        .oneshot(req)
        .await
        .unwrap();
    let status = r.status();
    let content_type = r
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let content_crs = r
        .headers()
        .get("content-crs")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply {
        status,
        content_type,
        content_crs,
        body,
    }
}

async fn get(b: Backend, uri: &str) -> Reply {
    send(b, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post(b: Backend, uri: &str, content_type: &str, body: impl Into<Body>) -> Reply {
    send(
        b,
        Request::post(uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into())
            .unwrap(),
    )
    .await
}

fn assert_problem(r: &Reply, status: StatusCode, field: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");
    let v = r.json();
    assert_eq!(v["status"], status.as_u16());
    assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()));
    if let Some(f) = field {
        assert_eq!(v["field"], f, "{v}");
    }
}

async fn the_landing_page_links_to_conformance_collections_and_the_api_definition(b: Backend) {
    let v = get(b, "/").await.json();
    let rels: Vec<&str> = v["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "{rel}");
    }
    let c = get(b, "/conformance").await.json();
    assert!(
        c["conformsTo"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().ends_with("/conf/core"))
    );
    let api = get(b, "/openapi.json").await.json();
    assert!(api["openapi"].as_str().unwrap().starts_with("3."));
    assert!(api["paths"]["/collections/{collectionId}/items"].is_object());
}

async fn collections_list_every_layer_with_its_extent(b: Backend) {
    let v = get(b, "/collections").await.json();
    let ids: Vec<&str> = v["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "streets",
            "communities",
            "grids",
            "buildings",
            "units",
            "merchants",
            "cameras",
            "incidents"
        ]
    );
    let inc = get(b, "/collections/incidents").await.json();
    assert!(local_date(&inc["extent"]["temporal"]["interval"][0][0]).starts_with("2026-02"));
    assert_problem(
        &get(b, "/collections/roads").await,
        StatusCode::NOT_FOUND,
        None,
    );
}

async fn items_come_in_the_crs_asked_for_in_its_axis_order_and_bbox_crs_selects_alike(b: Backend) {
    let epsg = |c: u16| format!("http://www.opengis.net/def/crs/EPSG/0/{c}");
    let c = get(b, "/collections/buildings").await.json();
    assert_eq!(c["storageCrs"], super::ogc_crs::CRS84);
    let offered: Vec<&str> = c["crs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    // The sample is in Zaozhuang: UTM 50N, Gauss-Krüger 3° zone 39 and
    // 6° zone 20, with and without the zone number.
    for code in [4326, 4490, 3857, 32650, 4527, 4548, 4498, 4509] {
        assert!(
            offered.contains(&epsg(code).as_str()),
            "{code}: {offered:?}"
        );
    }
    assert!(
        get(b, "/conformance")
            .await
            .text()
            .contains("ogcapi-features-2/1.0/conf/crs")
    );
    let plain = get(b, "/collections/buildings/items?limit=3").await;
    assert_eq!(plain.content_crs, format!("<{}>", super::ogc_crs::CRS84));
    let gk = get(
        b,
        &format!("/collections/buildings/items?limit=3&crs={}", epsg(4548)),
    )
    .await;
    assert_eq!(gk.status, StatusCode::OK, "{}", gk.text());
    assert_eq!(gk.content_crs, format!("<{}>", epsg(4548)));
    let (p, g) = (plain.json(), gk.json());
    let sys = super::ogc_crs::OgcCrs::epsg(4548).unwrap();
    for i in 0..3 {
        let ll = &p["features"][i]["geometry"]["coordinates"][0][0][0];
        let ne = &g["features"][i]["geometry"]["coordinates"][0][0][0];
        let (n, e) = sys.project(ll[0].as_f64().unwrap(), ll[1].as_f64().unwrap());
        // Northing first, as EPSG defines the Gauss-Krüger axes.
        assert!(ne[0].as_f64().unwrap() > 3_800_000.0, "{ne}");
        assert!(
            (ne[0].as_f64().unwrap() - n).abs() < 1e-6
                && (ne[1].as_f64().unwrap() - e).abs() < 1e-6
        );
    }
    assert!(
        g["links"][0]["href"].as_str().unwrap().contains("crs=http"),
        "{}",
        g["links"]
    );
    // EPSG:4326 is latitude first.
    let lat_first = get(
        b,
        &format!("/collections/units/items?limit=1&crs={}", epsg(4326)),
    )
    .await
    .json();
    let ll = get(b, "/collections/units/items?limit=1").await.json();
    assert_eq!(
        lat_first["features"][0]["geometry"]["coordinates"][0],
        ll["features"][0]["geometry"]["coordinates"][1]
    );
    // A CRS84 box and the same box in Web Mercator (a lon/lat rectangle
    // is a rectangle there) select the same buildings.
    let merc = gridgov_spatial::Crs::Epsg(3857);
    let (x0, y0) = merc.from_wgs84(117.52, 34.855);
    let (x1, y1) = merc.from_wgs84(117.56, 34.875);
    let a = get(
        b,
        "/collections/buildings/items?bbox=117.52,34.855,117.56,34.875&limit=1",
    )
    .await
    .json();
    let m = get(
        b,
        &format!(
            "/collections/buildings/items?bbox={x0},{y0},{x1},{y1}&bbox-crs={}&limit=1",
            epsg(3857)
        ),
    )
    .await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text());
    let m = m.json();
    assert!(a["numberMatched"].as_u64().unwrap() > 10);
    assert_eq!(a["numberMatched"], m["numberMatched"]);
    assert!(
        m["links"][0]["href"]
            .as_str()
            .unwrap()
            .contains("bbox-crs="),
        "{}",
        m["links"]
    );
    // Systems not offered are refused, naming the parameter.
    assert_problem(
        &get(b, "/collections/buildings/items?crs=EPSG:27700").await,
        StatusCode::BAD_REQUEST,
        Some("crs"),
    );
    assert_problem(
        &get(
            b,
            "/collections/buildings/items?bbox=1,2,3,4&bbox-crs=urn:x",
        )
        .await,
        StatusCode::BAD_REQUEST,
        Some("bbox-crs"),
    );
    let one = get(
        b,
        &format!(
            "/collections/grids/items/{}?crs={}",
            p["features"][0]["properties"]["grid"].as_str().unwrap(),
            epsg(32650)
        ),
    )
    .await;
    assert_eq!(
        (one.status, one.content_crs.as_str()),
        (StatusCode::OK, format!("<{}>", epsg(32650)).as_str())
    );
}

async fn items_page_with_next_links_until_every_feature_is_seen(b: Backend) {
    let mut seen = 0;
    let mut uri = "/collections/buildings/items?limit=100".to_string();
    loop {
        let r = get(b, &uri).await;
        assert_eq!(r.content_type, "application/geo+json");
        let v = r.json();
        assert_eq!(v["numberMatched"], 453);
        seen += v["numberReturned"].as_u64().unwrap();
        match v["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
        {
            Some(next) => {
                uri = next["href"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("http://test")
                    .to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen, 453);
}

async fn a_bbox_keeps_only_the_features_inside_it(b: Backend) {
    let v = get(
        b,
        "/collections/incidents/items?bbox=117.55,34.85,117.56,34.86&limit=10000",
    )
    .await
    .json();
    let n = v["numberMatched"].as_u64().unwrap();
    assert!(n > 0 && n < 5700);
    for f in v["features"].as_array().unwrap() {
        let c = &f["geometry"]["coordinates"];
        let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        assert!((117.55..=117.56).contains(&x) && (34.85..=34.86).contains(&y));
        assert!(f["properties"]["grid"].is_string());
    }
}

/// The date in Beijing of an RFC 3339 time in JSON.
fn local_date(v: &Value) -> String {
    let t = gridgov_spatial::time::parse_instant(v.as_str().unwrap()).unwrap();
    gridgov_spatial::time::local_date(t, gridgov_spatial::time::CHINA_OFFSET_S).to_string()
}

async fn datetime_filters_incidents_by_time_with_offsets(b: Backend) {
    let all = get(b, "/collections/incidents/items?datetime=2026-03-01T00:00:00%2B08:00/2026-03-31T23:59:59%2B08:00&limit=10000").await.json();
    let n = all["numberMatched"].as_u64().unwrap();
    assert!(n > 400 && n < 1000, "{n} in March");
    for f in all["features"].as_array().unwrap() {
        assert!(local_date(&f["properties"]["reported_at"]).starts_with("2026-03"));
    }
    let day = get(
        b,
        "/collections/incidents/items?datetime=2026-03-02&limit=10000",
    )
    .await
    .json();
    assert!(day["numberMatched"].as_u64().unwrap() < 60);
    assert_problem(
        &get(b, "/collections/incidents/items?datetime=last-week").await,
        StatusCode::BAD_REQUEST,
        Some("datetime"),
    );
}

async fn a_single_item_is_found_by_id_and_a_missing_one_is_404(b: Backend) {
    let g = get(b, "/collections/grids/items/370402005001001").await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.json()["properties"]["parent_code"], "370402005001");
    let building = get(b, "/collections/buildings/items/1").await.json();
    assert_eq!(building["id"], 1);
    assert_problem(
        &get(b, "/collections/buildings/items/99999").await,
        StatusCode::NOT_FOUND,
        None,
    );
    assert_problem(
        &get(b, "/collections/buildings/items/0").await,
        StatusCode::NOT_FOUND,
        None,
    );
}

async fn bad_items_parameters_are_400_naming_the_parameter(b: Backend) {
    assert_problem(
        &get(b, "/collections/grids/items?bbox=1,2,3").await,
        StatusCode::BAD_REQUEST,
        Some("bbox"),
    );
    assert_problem(
        &get(b, "/collections/grids/items?bbox=34.8,117.5,34.9,117.6").await,
        StatusCode::BAD_REQUEST,
        Some("bbox"),
    );
    assert_problem(
        &get(b, "/collections/grids/items?limit=0").await,
        StatusCode::BAD_REQUEST,
        Some("limit"),
    );
    assert_problem(
        &get(b, "/collections/grids/items?limit=abc").await,
        StatusCode::BAD_REQUEST,
        Some("limit"),
    );
    assert_problem(
        &get(b, "/collections/grids/items?offset=-1").await,
        StatusCode::BAD_REQUEST,
        Some("offset"),
    );
}

async fn lookup_by_point_gives_the_chain_in_any_crs(b: Backend) {
    let snap = state(b).current();
    let c = geo::Centroid::centroid(&snap.district.buildings[5].footprint).unwrap();
    let want = get(b, &format!("/lookup?lon={}&lat={}", c.x(), c.y()))
        .await
        .json();
    assert_eq!(want["chain"].as_array().unwrap().len(), 3);
    let (x, y) = gridgov_spatial::Crs::Gcj02.from_wgs84(c.x(), c.y());
    let got = get(b, &format!("/lookup?lon={x}&lat={y}&crs=gcj02"))
        .await
        .json();
    assert_eq!(got["chain"][0]["code"], want["chain"][0]["code"]);
}

async fn bad_lookups_are_400_naming_the_field(b: Backend) {
    assert_problem(
        &get(b, "/lookup?lon=abc&lat=34.8").await,
        StatusCode::BAD_REQUEST,
        Some("lon"),
    );
    assert_problem(
        &get(b, "/lookup?lon=117.5").await,
        StatusCode::BAD_REQUEST,
        Some("lat"),
    );
    assert_problem(
        &get(b, "/lookup?lon=34.86&lat=117.55").await,
        StatusCode::BAD_REQUEST,
        Some("lon,lat"),
    );
    assert_problem(
        &get(b, "/lookup?lon=117.55&lat=34.86&crs=utm").await,
        StatusCode::BAD_REQUEST,
        Some("crs"),
    );
    assert_problem(
        &get(b, "/lookup?lon=NaN&lat=34.86").await,
        StatusCode::BAD_REQUEST,
        Some("lon"),
    );
    assert_problem(
        &get(b, "/lookup?address=").await,
        StatusCode::BAD_REQUEST,
        Some("address"),
    );
}

async fn lookup_by_address_ranks_candidates(b: Backend) {
    let snap = state(b).current();
    let building = &snap.district.buildings[3];
    let q = building.address.replace("号楼", "栋");
    let v = get(
        b,
        &format!(
            "/lookup?{}",
            serde_urlencoded::to_string([("address", &q)]).unwrap()
        ),
    )
    .await
    .json();
    assert_eq!(v["candidates"][0]["building"], building.code.as_str());
    assert_eq!(v["candidates"][0]["chain"].as_array().unwrap().len(), 3);
}

async fn batch_lookup_takes_geojson_and_csv(b: Backend) {
    let snap = state(b).current();
    let c = geo::Centroid::centroid(&snap.district.buildings[9].footprint).unwrap();
    let body = format!(
        r#"{{"type":"FeatureCollection","features":[
            {{"type":"Feature","id":"a","geometry":{{"type":"Point","coordinates":[{},{}]}},"properties":{{}}}},
            {{"type":"Feature","id":"b","geometry":{{"type":"Point","coordinates":[117.40,34.86]}},"properties":{{}}}}]}}"#,
        c.x(),
        c.y()
    );
    let v = post(b, "/lookup/batch", "application/geo+json", body)
        .await
        .json();
    assert_eq!(v["count"], 2);
    assert!(
        v["results"][0]["grid"]
            .as_str()
            .unwrap()
            .starts_with("370402005")
    );
    assert!(v["results"][1]["grid"].is_null());
    assert!(v["results"][1]["distance_m"].as_f64().unwrap() > 1000.0);
    let csv = format!("id,lon,lat\nx1,{},{}\nx2,117.40,34.86\n", c.x(), c.y());
    let r = post(b, "/lookup/batch", "text/csv", csv).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("text/csv"));
    let lines: Vec<String> = r.text().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("x1,") && lines[1].contains(",370402005"));
}

async fn the_same_border_points_as_csv_and_as_geojson_get_the_same_grids(b: Backend) {
    // Vertices and edge midpoints of the grids: every one on a border,
    // where a coordinate read one ulp off can change the answer.
    let snap = state(b).current();
    let mut pts: Vec<[f64; 2]> = Vec::new();
    for g in snap.district.grids() {
        for p in &snap.district.area(g).boundary.0 {
            for w in p.exterior().0.windows(2).step_by(7) {
                pts.push([w[0].x, w[0].y]);
                pts.push([f64::midpoint(w[0].x, w[1].x), f64::midpoint(w[0].y, w[1].y)]);
            }
        }
    }
    pts.truncate(600);
    let csv: String = std::iter::once("id,lon,lat\n".to_string())
        .chain(
            pts.iter()
                .enumerate()
                .map(|(i, [x, y])| format!("{i},{x},{y}\n")),
        )
        .collect();
    let features: Vec<Value> = pts
        .iter()
        .enumerate()
        .map(|(i, p)| serde_json::json!({"type": "Feature", "id": i.to_string(), "geometry": {"type": "Point", "coordinates": p}}))
        .collect();
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string();
    let r = post(b, "/lookup/batch", "text/csv", csv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let from_csv: Vec<String> = r
        .text()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap_or_default().to_string())
        .collect();
    let r = post(b, "/lookup/batch", "application/geo+json", fc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let from_json: Vec<String> = r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["grid"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(from_csv.len(), pts.len());
    assert_eq!(from_csv, from_json);
    // And each is the grid the index gives the exact coordinates.
    for (i, [x, y]) in pts.iter().enumerate() {
        let g = snap
            .grids
            .locate(*x, *y)
            .map(|g| snap.district.area(g).code.clone());
        assert_eq!(from_json[i], g.unwrap_or_default(), "point {i}");
    }
}

async fn a_batch_in_utm_metres_gets_the_grids_of_the_same_points_in_lon_lat(b: Backend) {
    let snap = state(b).current();
    let utm = gridgov_spatial::Crs::Epsg(32650);
    let pts: Vec<(f64, f64)> = snap
        .district
        .buildings
        .iter()
        .step_by(9)
        .filter_map(|x| geo::Centroid::centroid(&x.footprint).map(|c| (c.x(), c.y())))
        .collect();
    let rows = |f: &dyn Fn(f64, f64) -> (f64, f64)| -> String {
        std::iter::once("x,y\n".to_string())
            .chain(pts.iter().map(|&(lon, lat)| {
                let (x, y) = f(lon, lat);
                format!("{x},{y}\n")
            }))
            .collect()
    };
    let grids = |r: Reply| -> Vec<String> {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.text()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap().to_string())
            .collect()
    };
    let plain = grids(post(b, "/lookup/batch", "text/csv", rows(&|x, y| (x, y))).await);
    let metres = grids(
        post(
            b,
            "/lookup/batch?crs=EPSG:32650",
            "text/csv",
            rows(&|x, y| utm.from_wgs84(x, y)),
        )
        .await,
    );
    assert!(pts.len() > 30 && plain.iter().all(|g| !g.is_empty()));
    assert_eq!(plain, metres);
}

async fn a_batch_answers_its_bad_rows_with_their_reason_and_the_others_in_full(b: Backend) {
    let r = post(
        b,
        "/lookup/batch",
        "application/json",
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"line","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}},
        {"type":"Feature","id":"ok","geometry":{"type":"Point","coordinates":[117.40,34.86]}},
        {"type":"Feature","id":"far","geometry":{"type":"Point","coordinates":[200,34.86]}}]}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["count"].as_u64(), v["failed"].as_u64()),
        (Some(3), Some(2)),
        "{v}"
    );
    assert_eq!(v["results"][0]["error"], "feature 0 is not a Point");
    assert!(v["results"][1]["error"].is_null() && v["results"][1]["distance_m"].as_f64().is_some());
    assert!(
        v["results"][2]["error"]
            .as_str()
            .unwrap()
            .contains("out of range"),
        "{v}"
    );
    let r = post(
        b,
        "/lookup/batch",
        "text/csv",
        "id,lon,lat\na,117.5,north\nb,,\nc,117.40,34.86\nd,NaN,1\n",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .from_reader(r.text().as_bytes())
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 4);
    assert!(
        rows[3][8].starts_with("line 5: coordinates out of range"),
        "{:?}",
        rows[3]
    );
    assert_eq!(rows[0][8], "line 2: lat \"north\" is not a number");
    assert_eq!(rows[1][8], "line 3: no lon");
    assert_eq!((rows[2][0].as_str(), rows[2][8].as_str()), ("c", ""));
    assert!(
        !rows[2][6].is_empty(),
        "the good row is answered: {:?}",
        rows[2]
    );
}

async fn bad_batches_are_4xx_never_5xx(b: Backend) {
    assert_problem(
        &post(b, "/lookup/batch", "application/json", "{not json").await,
        StatusCode::BAD_REQUEST,
        Some("body"),
    );
    assert_problem(
        &post(b, "/lookup/batch", "text/csv", "name,street\n").await,
        StatusCode::BAD_REQUEST,
        Some("body"),
    );
    assert_problem(
        &post(b, "/lookup/batch", "text/plain", "117.5,34.8").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        None,
    );
    // A batch streams in past the service's body limit (64 KiB here) up
    // to its own (256 KiB here), and is answered row for row.
    let big = "lon,lat\n".to_string() + &"117.5,34.8\n".repeat(10_000);
    assert!(big.len() > 64 * 1024);
    let r = post(b, "/lookup/batch", "text/csv", big).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text().lines().count(), 1 + 10_000);
    // Past it: a 413 naming the batch limit and its flag.
    let bigger = "lon,lat\n".to_string() + &"117.5,34.8\n".repeat(30_000);
    let r = post(b, "/lookup/batch", "text/csv", bigger).await;
    assert_problem(&r, StatusCode::PAYLOAD_TOO_LARGE, None);
    assert!(
        r.text().contains("262144 bytes") && r.text().contains("--batch-body-limit"),
        "{}",
        r.text()
    );
    // Other routes keep the body limit, and say so.
    let r = post(b, "/incidents", "application/json", "x".repeat(70_000)).await;
    assert_problem(&r, StatusCode::PAYLOAD_TOO_LARGE, None);
    assert!(
        r.text().contains("65536") && r.text().contains("--body-limit"),
        "{}",
        r.text()
    );
}

async fn the_summary_counts_per_level(b: Backend) {
    let v = get(b, "/summary?level=street").await.json();
    let c = &v["areas"][0]["counts"];
    assert_eq!(c["grids"], 52);
    assert_eq!(c["buildings"], 453);
    assert_eq!(c["incidents"], 5700);
    let g = get(b, "/summary?level=grid").await.json();
    assert_eq!(g["areas"].as_array().unwrap().len(), 52);
    assert_problem(
        &get(b, "/summary?level=city").await,
        StatusCode::BAD_REQUEST,
        Some("level"),
    );
}

async fn unknown_paths_are_problem_json_404(b: Backend) {
    assert_problem(&get(b, "/nope").await, StatusCode::NOT_FOUND, None);
}

#[test]
fn the_fast_lookup_json_is_exactly_what_serde_writes_for_lookup_point() {
    let st = state(Backend::GeoPackage);
    let snap = st.current();
    let mut rng = gridgov_spatial::Rng::new(8);
    for _ in 0..500 {
        let (lon, lat) = (rng.range(117.50, 117.60), rng.range(34.83, 34.89));
        for crs in [gridgov_spatial::Crs::Wgs84, gridgov_spatial::Crs::Gcj02] {
            let r = gridgov_spatial::lookup_point(&snap.district, &snap.grids, lon, lat, crs)
                .unwrap()
                .in_building(&snap.district, {
                    let (x, y) = crs.to_wgs84(lon, lat).unwrap();
                    snap.building_at(x, y)
                });
            // Both through the same text → value parse (serde_json's float
            // parsing is not exact, so compare like with like).
            let want: Value = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
            let got: Value =
                serde_json::from_str(&super::lookup::point_json(&snap, lon, lat, crs).unwrap())
                    .unwrap();
            assert_eq!(got, want);
        }
    }
}

/// The tile at zoom `z` holding the sample's grid 370402005004005.
fn tile_at(z: u8) -> gridgov_tiles::TileId {
    gridgov_tiles::TileId::containing(117.555, 34.865, z)
}

async fn vector_tiles_decode_with_every_layer_clipped_and_wound_by_the_spec(b: Backend) {
    let t = tile_at(16);
    let r = get(b, &format!("/tiles/all/{}/{}/{}.mvt", t.z, t.x, t.y)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/vnd.mapbox-vector-tile");
    let tile = gridgov_tiles::mvt::decode(&r.body).unwrap();
    let names: Vec<&str> = tile.layers.iter().map(|l| l.name.as_str()).collect();
    for l in [
        "grids",
        "buildings",
        "units",
        "merchants",
        "cameras",
        "incidents",
    ] {
        assert!(names.contains(&l), "{l} missing from {names:?}");
    }
    let grids = tile.layers.iter().find(|l| l.name == "grids").unwrap();
    let mut codes = Vec::new();
    for f in &grids.features {
        let p = gridgov_tiles::mvt::properties(grids, f);
        codes.push(p["code"].clone());
        assert!(p.contains_key("households") && p.contains_key("open_incidents"));
        let rings = gridgov_tiles::mvt::geometry(f).unwrap();
        assert!(
            gridgov_tiles::mvt::ring_area2(&rings[0]) > 0,
            "exterior rings are positive"
        );
        for r in &rings {
            for p in r {
                assert!(
                    (-64..=4160).contains(&p[0]) && (-64..=4160).contains(&p[1]),
                    "clipped to the buffer: {p:?}"
                );
            }
        }
    }
    assert!(codes.contains(&"370402005004005".to_string()), "{codes:?}");
    // One layer alone.
    let r = get(b, &format!("/tiles/merchants/{}/{}/{}.mvt", t.z, t.x, t.y)).await;
    let tile = gridgov_tiles::mvt::decode(&r.body).unwrap();
    assert_eq!(tile.layers.len(), 1);
    assert!(
        tile.layers[0].features.iter().all(|f| {
            gridgov_tiles::mvt::properties(&tile.layers[0], f).contains_key("category")
        })
    );
    // Low zoom: incidents are counts per cell, adding up to what the tile holds.
    let t = tile_at(12);
    let r = get(b, &format!("/tiles/incidents/{}/{}/{}.mvt", t.z, t.x, t.y)).await;
    let tile = gridgov_tiles::mvt::decode(&r.body).unwrap();
    let total: i64 = tile.layers[0]
        .features
        .iter()
        .map(|f| {
            gridgov_tiles::mvt::properties(&tile.layers[0], f)["count"]
                .parse::<i64>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, 5700, "the whole district is in one z12 tile");
}

async fn tiles_carry_an_etag_and_answer_304_when_unchanged(b: Backend) {
    let t = tile_at(15);
    let uri = format!("/tiles/grids/{}/{}/{}.mvt", t.z, t.x, t.y);
    let r = super::test_support::signed_app(&state(b))
        .oneshot(Request::get(&uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let tag = r.headers()[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
    let r = super::test_support::signed_app(&state(b))
        .oneshot(
            Request::get(&uri)
                .header(header::IF_NONE_MATCH, &tag)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
}

async fn plan_and_heatmap_pngs_draw_the_district_and_the_legend_has_real_values(b: Backend) {
    let t = tile_at(16);
    let r = get(b, &format!("/tiles/plan/{}/{}/{}.png", t.z, t.x, t.y)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "image/png");
    let img = image::load_from_memory(&r.body).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), (256, 256));
    // Not blank: the grid fill, borders and buildings give many colours.
    let distinct: std::collections::HashSet<[u8; 4]> = img.pixels().map(|p| p.0).collect();
    assert!(distinct.len() > 20, "{} colours", distinct.len());
    let legend = get(
        b,
        "/tiles/heatmap/legend.json?from=2026-01-01&to=2026-12-31",
    )
    .await;
    assert_eq!(legend.status, StatusCode::OK, "{}", legend.text());
    let l = legend.json();
    let max = l["legend"]["max"].as_f64().unwrap();
    assert!(max > 0.0);
    assert_eq!(l["legend"]["unit"], "incidents per km²");
    assert_eq!(l["legend"]["stops"].as_array().unwrap().len(), 6);
    let r = get(
        b,
        &format!("/tiles/heatmap/{}/{}/{}.png?bandwidth=150", t.z, t.x, t.y),
    )
    .await;
    let img = image::load_from_memory(&r.body).unwrap().to_rgba8();
    assert!(img.pixels().any(|p| p.0[3] > 0), "some heat is drawn");
    let none = get(
        b,
        &format!(
            "/tiles/heatmap/{}/{}/{}.png?category=nothing-like-this",
            t.z, t.x, t.y
        ),
    )
    .await;
    let img = image::load_from_memory(&none.body).unwrap().to_rgba8();
    assert!(
        img.pixels().all(|p| p.0[3] == 0),
        "a filter that matches nothing draws nothing"
    );
}

async fn bad_tile_addresses_and_parameters_are_400_naming_the_field(b: Backend) {
    assert_problem(
        &get(b, "/tiles/all/25/0/0.mvt").await,
        StatusCode::BAD_REQUEST,
        Some("z"),
    );
    assert_problem(
        &get(b, "/tiles/all/3/8/0.mvt").await,
        StatusCode::BAD_REQUEST,
        Some("x/y"),
    );
    assert_problem(
        &get(b, "/tiles/all/a/0/0.mvt").await,
        StatusCode::BAD_REQUEST,
        Some("z"),
    );
    assert_problem(
        &get(b, "/tiles/all/3/0/-1.mvt").await,
        StatusCode::BAD_REQUEST,
        Some("y"),
    );
    assert_problem(
        &get(b, "/tiles/all/3/0/0").await,
        StatusCode::BAD_REQUEST,
        Some("y"),
    );
    assert_problem(
        &get(b, "/tiles/heatmap/3/0/0.png?from=yesterday").await,
        StatusCode::BAD_REQUEST,
        Some("from"),
    );
    assert_problem(
        &get(b, "/tiles/heatmap/3/0/0.png?bandwidth=0").await,
        StatusCode::BAD_REQUEST,
        Some("bandwidth"),
    );
    assert_problem(
        &get(b, "/tiles/nope/3/0/0.mvt").await,
        StatusCode::NOT_FOUND,
        None,
    );
    let tj = get(b, "/tiles.json").await.json();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["vector_layers"].as_array().unwrap().len(), 9);
    assert!(
        tj["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with("/tiles/all/{z}/{x}/{y}.mvt")
    );
}

async fn get_accept(b: Backend, uri: &str, accept: &str) -> Reply {
    send(
        b,
        Request::get(uri)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn browsers_get_the_web_map_at_the_root_and_api_clients_the_landing_page(b: Backend) {
    let html = get_accept(b, "/", "text/html,application/xhtml+xml,*/*;q=0.8").await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.content_type.starts_with("text/html"));
    assert!(html.text().contains("/web/app.js"));
    let json = get_accept(b, "/", "application/json").await;
    assert_eq!(json.content_type, "application/json");
    let links = json.json()["links"].as_array().unwrap().clone();
    assert!(
        links
            .iter()
            .any(|l| l["rel"] == "alternate" && l["type"] == "text/html")
    );
    assert!(
        get(b, "/?f=html")
            .await
            .content_type
            .starts_with("text/html")
    );
    assert_problem(&get(b, "/?f=xml").await, StatusCode::BAD_REQUEST, Some("f"));
    assert!(get(b, "/map").await.text().contains("maplibre-gl"));
}

async fn web_assets_are_served_from_the_binary_and_nothing_else_is(b: Backend) {
    let js = get(b, "/web/vendor/maplibre-gl.mjs").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.content_type.starts_with("text/javascript"));
    assert!(js.body.len() > 100_000);
    assert!(
        get(b, "/web/app.css")
            .await
            .content_type
            .starts_with("text/css")
    );
    for bad in [
        "/web/missing.js",
        "/web/../Cargo.toml",
        "/web/%2e%2e/Cargo.toml",
        "/web/vendor/../../src/main.rs",
        "/web//etc/passwd",
    ] {
        assert_problem(&get(b, bad).await, StatusCode::NOT_FOUND, None);
    }
}

async fn a_building_item_is_found_by_its_code(b: Backend) {
    let r = get(b, "/collections/buildings/items/37040200500001").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["properties"]["code"], "37040200500001");
}

#[test]
fn plan_tiles_carry_grid_names_where_they_fit_and_only_there() {
    let b = Backend::GeoPackage;
    let Some(font) = cjk_font() else { return };
    let snap = state(b).current();
    let src = snap.tile_source();
    let changed = |t: gridgov_tiles::TileId| {
        let with = src.plan_pixmap(t, 256, Some(&font)).unwrap();
        let without = src.plan_pixmap(t, 256, None).unwrap();
        with.pixels()
            .iter()
            .zip(without.pixels())
            .filter(|(a, b)| a != b)
            .count()
    };
    // z15 around 荣华里: grids are ~150 px wide, names of ~70 px fit.
    let n = changed(gridgov_tiles::TileId::new(15, 27084, 12994).unwrap());
    assert!(n > 300 && n < 256 * 256 / 5, "{n} pixels changed by labels");
    // z11: the whole street is a few pixels; no grid name fits and road
    // names start at z13.
    let far = gridgov_tiles::TileId::containing(117.55, 34.86, 11);
    assert_eq!(changed(far), 0);
    // The name is the grid's: drawn in the font's glyphs, not boxes.
    assert!(font.has('网') && font.has('格'));
}

async fn the_whole_district_is_served_with_household_names_phones_and_id_numbers_masked(
    b: Backend,
) {
    let r = get(b, "/district.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    let households = v["households"].as_array().unwrap();
    let stored = state(b).current();
    assert_eq!(households.len(), stored.district.households.len());
    for (h, real) in households.iter().zip(&stored.district.households) {
        if let Some(p) = &real.phone {
            let shown = h["phone"].as_str().unwrap();
            assert_ne!(shown, p, "a phone number is served in full");
            assert_eq!(&shown[..3], &p[..3]);
            assert!(shown.contains("****"));
        }
        if let Some(n) = &real.head_name {
            let shown = h["head_name"].as_str().unwrap();
            assert_ne!(shown, n);
            assert!(shown.ends_with('*'));
        }
        if let Some(n) = &real.id_number {
            let shown = h["id_number"].as_str().unwrap();
            assert_eq!(shown.len(), 18);
            assert_eq!(&shown[6..14], "********", "the birth date is hidden");
            assert_eq!(&shown[14..], &n[14..]);
        }
    }
    // Nothing of the real numbers is in the answer.
    let text = r.text();
    let real = stored.district.households[0].phone.clone().unwrap();
    assert!(!text.contains(&real));
    let real = stored.district.households[0].id_number.clone().unwrap();
    assert!(!text.contains(&real));
}

#[test]
fn the_report_heatmap_carries_road_and_place_names_given_a_font() {
    let Some(font) = cjk_font() else { return };
    let snap = state(Backend::GeoPackage).current();
    let src = snap.tile_source();
    let f = gridgov_tiles::IncidentFilter::default();
    let with = src.overview_png(960, &f, 150.0, Some(&font)).unwrap();
    let without = src.overview_png(960, &f, 150.0, None).unwrap();
    let (a, b) = (
        image::load_from_memory(&with).unwrap().to_rgba8(),
        image::load_from_memory(&without).unwrap().to_rgba8(),
    );
    assert_eq!(a.dimensions(), b.dimensions());
    let changed = a.pixels().zip(b.pixels()).filter(|(x, y)| x != y).count();
    let share = changed as f64 / f64::from(a.width() * a.height());
    // The sample's street names (光明路, 龙山路, …): some text, not a smear.
    assert!(
        share > 0.002 && share < 0.2,
        "{:.2}% of pixels differ",
        share * 100.0
    );
}

/// An installed CJK font; `None` (the test skips) only outside CI, which
/// installs one.
fn cjk_font() -> Option<gridgov_tiles::LabelFont> {
    match gridgov_fonts::find(None) {
        Ok((_, f)) => Some(f),
        Err(e) => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "CI installs a CJK font: {e}"
            );
            None
        }
    }
}
