//! OGC API – Features, Part 1 (core): landing page, conformance,
//! collections, items with `bbox`, `limit`, `offset` (`next` links) and
//! `datetime` (incidents), and single items; Part 2 (coordinate systems):
//! `crs` and `bbox-crs` on items, each collection's `crs` list and
//! `storageCrs`, the `Content-Crs` header.

use gridgov_spatial::access::{Access, Principal, Thing, allows};
use std::sync::Arc;

use axum::extract::State;

use crate::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use geo::{BoundingRect, Intersects, Rect};
use gridgov_spatial::{Level, Placement};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::ogc_crs::{self, OgcCrs};
use super::{AppState, Snapshot};

/// The collections served, with their titles.
pub const COLLECTIONS: [(&str, &str); 8] = [
    ("streets", "Street offices (街道)"),
    ("communities", "Communities (社区)"),
    ("grids", "Grids (网格)"),
    ("buildings", "Buildings (楼栋)"),
    ("units", "Units: stairwells and entrances (单元)"),
    ("merchants", "Merchants"),
    ("cameras", "Cameras"),
    ("incidents", "Incidents"),
];

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

fn geojson_response(v: &Value, crs: &OgcCrs) -> Response {
    let mut r = axum::Json(v).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    if let Ok(h) = HeaderValue::from_str(&format!("<{}>", crs.uri())) {
        r.headers_mut().insert("content-crs", h);
    }
    r
}

/// A feature's geometry in `crs` (it is stored in CRS84).
fn in_crs(mut f: Value, crs: &OgcCrs) -> Value {
    if *crs != OgcCrs::CRS84
        && let Some(c) = f.pointer_mut("/geometry/coordinates")
    {
        ogc_crs::convert_coordinates(c, &|x, y| crs.project(x, y));
    }
    f
}

/// The base URL for links: the request's `Host`, else the configured one.
pub fn base(st: &AppState, headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .map_or_else(|| st.config.base_url.clone(), |h| format!("http://{h}"))
}

/// `GET /` — the landing page.
pub fn landing(st: &AppState, headers: &HeaderMap) -> axum::Json<Value> {
    let b = base(st, headers);
    axum::Json(json!({
        "title": "gridgov",
        "description": format!("Grids, buildings, units, merchants, cameras and incidents of {}", st.current().district.name),
        "links": [
            {"href": format!("{b}/"), "rel": "self", "type": "application/json", "title": "this document"},
            {"href": format!("{b}/openapi.json"), "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "title": "the API definition"},
            {"href": format!("{b}/conformance"), "rel": "conformance", "type": "application/json", "title": "conformance classes"},
            {"href": format!("{b}/collections"), "rel": "data", "type": "application/json", "title": "feature collections"},
            {"href": format!("{b}/map"), "rel": "alternate", "type": "text/html", "title": "the web map"}
        ]
    }))
}

/// `GET /conformance`.
#[utoipa::path(
    get,
    path = "/conformance",
    tag = "features",
    summary = "OGC API conformance classes",
    responses(
        (status = 200, description = "the conformance classes", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn conformance() -> axum::Json<Value> {
    axum::Json(json!({
        "conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
        ]
    }))
}

fn collection_json(b: &str, snap: &Snapshot, id: &str, title: &str) -> Value {
    let bbox =
        gridgov_spatial::sample::grids_bbox(&snap.district).unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    let mut extent =
        json!({"spatial": {"bbox": [bbox], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}});
    if id == "incidents"
        && let (Some(first), Some(last)) = (
            snap.district.incidents.iter().map(|i| i.reported_at).min(),
            snap.district.incidents.iter().map(|i| i.reported_at).max(),
        )
    {
        extent["temporal"] = json!({"interval": [[first, last]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"});
    }
    json!({
        "id": id,
        "title": title,
        "extent": extent,
        "itemType": "feature",
        "crs": ogc_crs::offered(f64::midpoint(bbox[0], bbox[2]), f64::midpoint(bbox[1], bbox[3])).iter().map(OgcCrs::uri).collect::<Vec<_>>(),
        "storageCrs": ogc_crs::CRS84,
        "links": [
            {"href": format!("{b}/collections/{id}"), "rel": "self", "type": "application/json"},
            {"href": format!("{b}/collections/{id}/items"), "rel": "items", "type": "application/geo+json", "title": title}
        ]
    })
}

/// `GET /collections`.
#[utoipa::path(
    get,
    path = "/collections",
    tag = "features",
    summary = "The feature collections",
    responses(
        (status = 200, description = "every collection with its extent", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn collections(State(st): State<Arc<AppState>>, headers: HeaderMap) -> axum::Json<Value> {
    let snap = st.current();
    let b = base(&st, &headers);
    axum::Json(json!({
        "links": [{"href": format!("{b}/collections"), "rel": "self", "type": "application/json"}],
        "collections": COLLECTIONS.iter().map(|(id, t)| collection_json(&b, &snap, id, t)).collect::<Vec<_>>()
    }))
}

fn check_collection(id: &str) -> Result<&'static str, ApiError> {
    COLLECTIONS
        .iter()
        .find(|(c, _)| *c == id)
        .map(|(_, t)| *t)
        .ok_or_else(|| ApiError::not_found(format!("no collection {id:?}; see /collections")))
}

/// `GET /collections/{id}`.
#[utoipa::path(
    get,
    path = "/collections/{collectionId}",
    tag = "features",
    summary = "One collection",
    params(
        ("collectionId" = String, Path, description = "grids, buildings, units, merchants, cameras, incidents, streets or communities"),
    ),
    responses(
        (status = 200, description = "the collection", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such collection", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn collection(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let title = check_collection(&id)?;
    Ok(axum::Json(collection_json(
        &base(&st, &headers),
        &st.current(),
        &id,
        title,
    )))
}

/// Query parameters of `/items`.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemsQuery {
    /// minLon,minLat,maxLon,maxLat in CRS84.
    bbox: Option<String>,
    /// Page size (default 100, at most 10,000).
    limit: Option<String>,
    /// Features to skip (follow the `next` link).
    offset: Option<String>,
    /// An instant, a date (its whole day in Beijing) or an interval `a/b` with `..` for open ends (incidents).
    datetime: Option<String>,
    /// The coordinate system of the answer (a URI from the collection's
    /// `crs` list; default CRS84), in its axis order.
    crs: Option<String>,
    /// The coordinate system of `bbox` (default CRS84), in its axis order.
    #[serde(rename = "bbox-crs")]
    #[param(rename = "bbox-crs")]
    bbox_crs: Option<String>,
}

/// Query parameters of `/items/{id}`.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// The coordinate system of the answer (default CRS84).
    crs: Option<String>,
}

/// Parses `bbox` given in `crs` (its axis order) as a longitude/latitude
/// box: the box of its edges, each converted at 16 points.
fn parse_bbox_in(s: &str, crs: &OgcCrs) -> Result<Rect<f64>, ApiError> {
    if *crs == OgcCrs::CRS84 {
        return parse_bbox(s);
    }
    let bad =
        |why: &str| ApiError::bad_request("bbox", format!("bbox {s:?} in {}: {why}", crs.uri()));
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("expected four numbers"))?;
    let [a0, b0, a1, b1] = v[..] else {
        return Err(bad("expected four numbers"));
    };
    if !(v.iter().all(|x| x.is_finite()) && a0 <= a1 && b0 <= b1) {
        return Err(bad("needs the lower corner first"));
    }
    let (mut lo, mut hi) = (
        (f64::INFINITY, f64::INFINITY),
        (f64::NEG_INFINITY, f64::NEG_INFINITY),
    );
    for i in 0..=16 {
        let t = f64::from(i) / 16.0;
        for (a, b) in [
            (a0 + (a1 - a0) * t, b0),
            (a0 + (a1 - a0) * t, b1),
            (a0, b0 + (b1 - b0) * t),
            (a1, b0 + (b1 - b0) * t),
        ] {
            let (lon, lat) = crs
                .unproject(a, b)
                .ok_or_else(|| bad("a corner is not a point of the system"))?;
            lo = (lo.0.min(lon), lo.1.min(lat));
            hi = (hi.0.max(lon), hi.1.max(lat));
        }
    }
    Ok(Rect::new(lo, hi))
}

/// Parses `bbox=minx,miny,maxx,maxy`.
pub fn parse_bbox(s: &str) -> Result<Rect<f64>, ApiError> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            ApiError::bad_request(
                "bbox",
                format!("bbox {s:?}: expected four numbers minLon,minLat,maxLon,maxLat"),
            )
        })?;
    let [x0, y0, x1, y1] = v[..] else {
        return Err(ApiError::bad_request(
            "bbox",
            format!("bbox {s:?}: expected four numbers (6 with heights are not supported)"),
        ));
    };
    if !(v.iter().all(|x| x.is_finite())
        && x0 <= x1
        && y0 <= y1
        && (-180.0..=180.0).contains(&x0)
        && (-180.0..=180.0).contains(&x1)
        && (-90.0..=90.0).contains(&y0)
        && (-90.0..=90.0).contains(&y1))
    {
        return Err(ApiError::bad_request(
            "bbox",
            format!(
                "bbox {s:?}: needs minLon ≤ maxLon in [-180, 180] and minLat ≤ maxLat in [-90, 90]"
            ),
        ));
    }
    Ok(Rect::new((x0, y0), (x1, y1)))
}

/// Reads a calendar date `YYYY-MM-DD` that exists; a 400 naming `field`
/// otherwise.
pub fn check_date(field: &str, s: &str) -> Result<gridgov_spatial::Date, ApiError> {
    gridgov_spatial::time::parse_date(s)
        .map_err(|e| ApiError::bad_request(field, format!("{field}: {e}")))
}

/// Parses `datetime`: an instant or an interval `a/b`, `../b`, `a/..`,
/// as inclusive seconds since the epoch. A date stands for its whole
/// local day (in Beijing).
fn parse_datetime(s: &str) -> Result<(Option<i64>, Option<i64>), ApiError> {
    use gridgov_spatial::time::{CHINA_OFFSET_S, parse_date, parse_instant, start_of_day};
    let bad = || {
        ApiError::bad_request(
            "datetime",
            format!(
                "datetime {s:?}: expected an RFC 3339 instant or date, or an interval start/end with .. for open ends"
            ),
        )
    };
    // The first and last second a part covers.
    let span = |p: &str| -> Result<(i64, i64), ApiError> {
        if let Ok(d) = parse_date(p) {
            let day = gridgov_spatial::time::day_number(d);
            let first = start_of_day(day, CHINA_OFFSET_S).map_err(|_| bad())?;
            let next = start_of_day(day + 1, CHINA_OFFSET_S).map_err(|_| bad())?;
            return Ok((first.as_second(), next.as_second() - 1));
        }
        let t = parse_instant(p).map_err(|_| bad())?.as_second();
        Ok((t, t))
    };
    let open = |p: &str| p.is_empty() || p == "..";
    if let Some((a, b)) = s.split_once('/') {
        let a = if open(a) { None } else { Some(span(a)?.0) };
        let b = if open(b) { None } else { Some(span(b)?.1) };
        if let (Some(x), Some(y)) = (a, b)
            && x > y
        {
            return Err(bad());
        }
        Ok((a, b))
    } else {
        let (first, last) = span(s)?;
        Ok((Some(first), Some(last)))
    }
}

fn parse_count(
    v: Option<&String>,
    name: &str,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match v {
        None => Ok(default),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= max && (name != "limit" || n >= 1))
            .ok_or_else(|| {
                ApiError::bad_request(
                    name,
                    format!(
                        "{name} {s:?}: expected a whole number{}",
                        if name == "limit" {
                            format!(" from 1 to {max}")
                        } else {
                            String::new()
                        }
                    ),
                )
            }),
    }
}

fn grid_code(snap: &Snapshot, p: Placement) -> Value {
    p.grid().map_or(Value::Null, |g| {
        Value::String(snap.district.area(g).code.clone())
    })
}

/// The `n`-th feature of a collection as GeoJSON, with its id.
pub fn feature(snap: &Snapshot, collection: &str, n: usize) -> Option<Value> {
    let d = &snap.district;
    let a = &snap.assignment;
    let geom = |g: geojson::Geometry| serde_json::to_value(g).unwrap_or(Value::Null);
    let area = |level: Level, n: usize| -> Option<Value> {
        let id = d.areas_at(level).nth(n)?;
        let x = d.area(id);
        Some(json!({
            "type": "Feature",
            "id": x.code,
            "geometry": geom(geojson::Geometry::from(&x.boundary)),
            "properties": {
                "code": x.code, "name": x.name, "level": x.level.as_str(),
                "kind": x.kind.map(gridgov_spatial::GridKind::as_str),
                "parent_code": x.parent.map(|p| d.area(p).code.clone()),
                "institution": x.institution,
                "staff": x.staff,
            }
        }))
    };
    match collection {
        "streets" => area(Level::Street, n),
        "communities" => area(Level::Community, n),
        "grids" => area(Level::Grid, n),
        "buildings" => {
            let b = d.buildings.get(n)?;
            let p = &a.buildings[n];
            Some(
                json!({"type": "Feature", "id": n + 1, "geometry": geom(geojson::Geometry::from(&b.footprint)),
                "properties": {"code": b.code, "address": b.address, "floors": b.floors, "grid": grid_code(snap, p.placement), "straddling": p.straddling, "leaders": b.leaders}}),
            )
        }
        "units" => {
            let u = d.units.get(n)?;
            Some(
                json!({"type": "Feature", "id": n + 1, "geometry": geom(geojson::Geometry::from(&u.location)),
                "properties": {"building": d.buildings[u.building.index()].code, "label": u.label, "households": u.households, "grid": grid_code(snap, a.units[n])}}),
            )
        }
        "merchants" => {
            let m = d.merchants.get(n)?;
            Some(
                json!({"type": "Feature", "id": n + 1, "geometry": geom(geojson::Geometry::from(&m.location)),
                "properties": {"name": m.name, "category": m.category, "address": m.address, "grid": grid_code(snap, a.merchants[n])}}),
            )
        }
        "cameras" => {
            let c = d.cameras.get(n)?;
            Some(
                json!({"type": "Feature", "id": n + 1, "geometry": geom(geojson::Geometry::from(&c.location)),
                "properties": {"heading_deg": c.heading_deg, "fov_deg": c.fov_deg, "range_m": c.range_m, "grid": grid_code(snap, a.cameras[n])}}),
            )
        }
        "incidents" => {
            let i = d.incidents.get(n)?;
            Some(
                json!({"type": "Feature", "id": n + 1, "geometry": geom(geojson::Geometry::from(&i.location)),
                "properties": {"reported_at": i.reported_at, "category": i.category, "source": i.source.as_str(), "status": i.status.as_str(), "grid": grid_code(snap, a.incidents[n])}}),
            )
        }
        _ => None,
    }
}

/// Number of features in a collection.
fn count(snap: &Snapshot, collection: &str) -> usize {
    let d = &snap.district;
    match collection {
        "streets" => d.areas_at(Level::Street).count(),
        "communities" => d.areas_at(Level::Community).count(),
        "grids" => d.areas_at(Level::Grid).count(),
        "buildings" => d.buildings.len(),
        "units" => d.units.len(),
        "merchants" => d.merchants.len(),
        "cameras" => d.cameras.len(),
        "incidents" => d.incidents.len(),
        _ => 0,
    }
}

/// Does feature `n` pass the filters?
fn matches(
    snap: &Snapshot,
    collection: &str,
    n: usize,
    bbox: Option<&Rect<f64>>,
    time: Option<(Option<i64>, Option<i64>)>,
) -> bool {
    let d = &snap.district;
    if let Some(r) = bbox {
        let hit = match collection {
            "streets" | "communities" | "grids" => {
                let level = match collection {
                    "streets" => Level::Street,
                    "communities" => Level::Community,
                    _ => Level::Grid,
                };
                d.areas_at(level).nth(n).is_some_and(|id| {
                    let b = &d.area(id).boundary;
                    b.bounding_rect().is_some_and(|bb| bb.intersects(r)) && b.intersects(r)
                })
            }
            "buildings" => d.buildings[n].footprint.intersects(r),
            "units" => d.units[n].location.intersects(r),
            "merchants" => d.merchants[n].location.intersects(r),
            "cameras" => d.cameras[n].location.intersects(r),
            "incidents" => d.incidents[n].location.intersects(r),
            _ => false,
        };
        if !hit {
            return false;
        }
    }
    if let (Some((from, to)), "incidents") = (time, collection) {
        let t = d.incidents[n].reported_at.as_second();
        if from.is_some_and(|f| t < f) || to.is_some_and(|e| t > e) {
            return false;
        }
    }
    true
}

/// Whether `caller` may see feature `n`: incidents only where their role
/// reads the incidents of its grid; everything else on the map is shown
/// to whoever may read the map.
fn visible(snap: &Snapshot, p: &Principal, collection: &str, n: usize) -> bool {
    if collection != "incidents" {
        return true;
    }
    let grid = snap
        .assignment
        .incidents
        .get(n)
        .and_then(|a| a.grid())
        .map(|g| snap.district.area(g).code.as_str());
    allows(
        p,
        &Thing::Incident {
            grid,
            assignee: None,
            filed_by: None,
        },
        Access::Read,
    )
}

/// `GET /collections/{id}/items`.
#[utoipa::path(
    get,
    path = "/collections/{collectionId}/items",
    tag = "features",
    summary = "Features of a collection, a page at a time",
    params(
        ("collectionId" = String, Path, description = "the collection"),
        ItemsQuery,
    ),
    responses(
        (status = 200, description = "a page of features", body = serde_json::Value, content_type = "application/geo+json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such collection", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn items(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ItemsQuery>,
) -> Result<Response, ApiError> {
    check_collection(&id)?;
    let crs = q
        .crs
        .as_deref()
        .map_or(Ok(OgcCrs::CRS84), |c| OgcCrs::parse("crs", c))?;
    let bbox_crs = q
        .bbox_crs
        .as_deref()
        .map_or(Ok(OgcCrs::CRS84), |c| OgcCrs::parse("bbox-crs", c))?;
    let bbox = q
        .bbox
        .as_deref()
        .map(|b| parse_bbox_in(b, &bbox_crs))
        .transpose()?;
    let limit = parse_count(q.limit.as_ref(), "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let offset = parse_count(q.offset.as_ref(), "offset", 0, usize::MAX)?;
    let time = q.datetime.as_deref().map(parse_datetime).transpose()?;
    let snap = st.current();
    let b = base(&st, &headers);
    let now = st.app.now();
    let body = tokio::task::spawn_blocking(move || {
        let total = count(&snap, &id);
        let mut matched = 0usize;
        let mut features = Vec::new();
        for n in 0..total {
            if !matches(&snap, &id, n, bbox.as_ref(), time)
                || !visible(&snap, &caller.principal, &id, n)
            {
                continue;
            }
            if matched >= offset && features.len() < limit {
                features.extend(feature(&snap, &id, n).map(|f| in_crs(f, &crs)));
            }
            matched += 1;
        }
        let mut params = Vec::new();
        if let Some(s) = &q.bbox {
            params.push(format!("bbox={s}"));
        }
        if let Some(s) = &q.datetime {
            params.push(format!("datetime={}", s.replace('+', "%2B")));
        }
        if q.bbox_crs.is_some() {
            params.push(format!("bbox-crs={}", bbox_crs.uri()));
        }
        if q.crs.is_some() {
            params.push(format!("crs={}", crs.uri()));
        }
        params.push(format!("limit={limit}"));
        let link = |off: usize| format!("{b}/collections/{id}/items?{}&offset={off}", params.join("&"));
        let mut links = vec![
            json!({"href": link(offset), "rel": "self", "type": "application/geo+json"}),
            json!({"href": format!("{b}/collections/{id}"), "rel": "collection", "type": "application/json"}),
        ];
        if offset + features.len() < matched {
            links.push(json!({"href": link(offset + limit), "rel": "next", "type": "application/geo+json"}));
        }
        json!({
            "type": "FeatureCollection",
            "numberMatched": matched,
            "numberReturned": features.len(),
            "timeStamp": now,
            "features": features,
            "links": links,
        })
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(geojson_response(&body, &crs))
}

/// `GET /collections/{id}/items/{fid}`.
#[utoipa::path(
    get,
    path = "/collections/{collectionId}/items/{featureId}",
    tag = "features",
    summary = "One feature",
    params(
        ("collectionId" = String, Path, description = "the collection"),
        ("featureId" = String, Path, description = "the feature id (or a grid or building code)"),
        ItemQuery,
    ),
    responses(
        (status = 200, description = "the feature", body = serde_json::Value, content_type = "application/geo+json"),
        (status = 404, description = "no such feature", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn item(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    headers: HeaderMap,
    Path((id, fid)): Path<(String, String)>,
    Query(q): Query<ItemQuery>,
) -> Result<Response, ApiError> {
    check_collection(&id)?;
    let crs = q
        .crs
        .as_deref()
        .map_or(Ok(OgcCrs::CRS84), |c| OgcCrs::parse("crs", c))?;
    let snap = st.current();
    let n = match id.as_str() {
        "streets" | "communities" | "grids" => {
            let level = match id.as_str() {
                "streets" => Level::Street,
                "communities" => Level::Community,
                _ => Level::Grid,
            };
            snap.district
                .areas_at(level)
                .position(|a| snap.district.area(a).code == fid)
        }
        // Buildings answer to their code as well as their number.
        "buildings" => snap
            .district
            .buildings
            .iter()
            .position(|b| b.code == fid)
            .or_else(|| fid.parse::<usize>().ok().and_then(|f| f.checked_sub(1))),
        _ => fid.parse::<usize>().ok().and_then(|f| f.checked_sub(1)),
    };
    if n.is_some_and(|n| n < count(&snap, &id) && !visible(&snap, &caller.principal, &id, n)) {
        return Err(caller.refusal());
    }
    let mut f = n
        .and_then(|n| feature(&snap, &id, n))
        .map(|f| in_crs(f, &crs))
        .ok_or_else(|| ApiError::not_found(format!("no feature {fid:?} in collection {id:?}")))?;
    let b = base(&st, &headers);
    f["links"] = json!([
        {"href": format!("{b}/collections/{id}/items/{fid}"), "rel": "self", "type": "application/geo+json"},
        {"href": format!("{b}/collections/{id}"), "rel": "collection", "type": "application/json"}
    ]);
    Ok(geojson_response(&f, &crs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_in_datetime_covers_its_whole_day_in_beijing() {
        assert_eq!(
            parse_datetime("1970-01-02").unwrap(),
            (Some(57_600), Some(57_600 + 86_399))
        );
        assert_eq!(
            parse_datetime("1970-01-01T08:00:00+08:00").unwrap(),
            (Some(0), Some(0))
        );
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "yesterday",
            "2026-03-01T08:00:00",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn datetime_intervals_parse_with_open_ends() {
        assert_eq!(
            parse_datetime("../1970-01-01T00:00:00Z").unwrap(),
            (None, Some(0))
        );
        assert_eq!(
            parse_datetime("1970-01-01T00:00:00Z/..").unwrap(),
            (Some(0), None)
        );
        assert!(parse_datetime("1970-01-02T00:00:00Z/1970-01-01T00:00:00Z").is_err());
    }

    #[test]
    fn a_bad_bbox_names_the_parameter() {
        assert_eq!(
            parse_bbox("1,2,3").unwrap_err().field.as_deref(),
            Some("bbox")
        );
        assert!(
            parse_bbox("34.8,117.5,34.9,117.6").is_err(),
            "latitude 117 is out of range"
        );
        assert!(parse_bbox("117.5,34.8,117.6,34.9").is_ok());
    }
}
