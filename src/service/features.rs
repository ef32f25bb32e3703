//! OGC API – Features, Part 1 (core): landing page, conformance,
//! collections, items with `bbox`, `limit`, `offset` (`next` links) and
//! `datetime` (incidents), and single items.

use gridgov_spatial::access::{Access, Principal, Thing, allows};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use geo::{BoundingRect, Intersects, Rect};
use gridgov_spatial::{Level, Placement};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
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

fn geojson_response(v: &Value) -> Response {
    let mut r = axum::Json(v).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    r
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
pub async fn conformance() -> axum::Json<Value> {
    axum::Json(json!({
        "conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"
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
            snap.district
                .incidents
                .iter()
                .map(|i| i.reported_at.as_str())
                .min(),
            snap.district
                .incidents
                .iter()
                .map(|i| i.reported_at.as_str())
                .max(),
        )
    {
        extent["temporal"] = json!({"interval": [[first, last]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"});
    }
    json!({
        "id": id,
        "title": title,
        "extent": extent,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "links": [
            {"href": format!("{b}/collections/{id}"), "rel": "self", "type": "application/json"},
            {"href": format!("{b}/collections/{id}/items"), "rel": "items", "type": "application/geo+json", "title": title}
        ]
    })
}

/// `GET /collections`.
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
#[derive(Debug, Deserialize, Default)]
pub struct ItemsQuery {
    bbox: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    datetime: Option<String>,
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

/// Checks that `s` is a calendar date `YYYY-MM-DD`; a 400 naming `field`
/// otherwise.
pub fn check_date(field: &str, s: &str) -> Result<(), ApiError> {
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' && parse_instant(s).is_some() {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            field,
            format!("{field} {s:?}: expected YYYY-MM-DD"),
        ))
    }
}

/// Seconds since 1970 of an RFC 3339 date or date-time (`2026-03-01`,
/// `2026-03-01T08:30:00+08:00`, `…Z`).
pub fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let (y, m, d): (i64, i64, i64) = (
        dp.next()?.parse().ok()?,
        dp.next()?.parse().ok()?,
        dp.next()?.parse().ok()?,
    );
    if dp.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut secs = days * 86_400;
    if let Some(t) = time {
        let (clock, offset) = if let Some(c) = t.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else if let Some(p) = t.rfind(['+', '-']) {
            let (c, o) = t.split_at(p);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':')?;
            (
                c,
                sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
            )
        } else {
            return None;
        };
        let mut cp = clock.split(':');
        let h: i64 = cp.next()?.parse().ok()?;
        let mi: i64 = cp.next()?.parse().ok()?;
        let sec: f64 = cp.next().unwrap_or("0").parse().ok()?;
        if h > 23 || mi > 59 || !(0.0..61.0).contains(&sec) {
            return None;
        }
        secs += h * 3600 + mi * 60 + sec as i64 - offset;
    }
    Some(secs)
}

/// Parses `datetime`: an instant or an interval `a/b`, `../b`, `a/..`.
fn parse_datetime(s: &str) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "datetime",
            format!(
                "datetime {s:?}: expected an RFC 3339 instant or an interval start/end with .. for open ends"
            ),
        )
    };
    let one = |p: &str| -> Result<Option<i64>, ApiError> {
        if p.is_empty() || p == ".." {
            Ok(None)
        } else {
            parse_instant(p).map(Some).ok_or_else(bad)
        }
    };
    if let Some((a, b)) = s.split_once('/') {
        let (a, b) = (one(a)?, one(b)?);
        if let (Some(x), Some(y)) = (a, b)
            && x > y
        {
            return Err(bad());
        }
        Ok((a, b))
    } else {
        let t = parse_instant(s).ok_or_else(bad)?;
        // A date alone covers the whole day.
        let end = if s.contains(['T', 't', ' ']) {
            t
        } else {
            t + 86_399
        };
        Ok((Some(t), Some(end)))
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
                "properties": {"code": b.code, "address": b.address, "floors": b.floors, "grid": grid_code(snap, p.placement), "straddling": p.straddling}}),
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
        let Some(t) = parse_instant(&d.incidents[n].reported_at) else {
            return false;
        };
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
pub async fn items(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    q: Result<Query<ItemsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    check_collection(&id)?;
    let Query(q) = q?;
    let bbox = q.bbox.as_deref().map(parse_bbox).transpose()?;
    let limit = parse_count(q.limit.as_ref(), "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let offset = parse_count(q.offset.as_ref(), "offset", 0, usize::MAX)?;
    let time = q.datetime.as_deref().map(parse_datetime).transpose()?;
    let snap = st.current();
    let b = base(&st, &headers);
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
                features.extend(feature(&snap, &id, n));
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
            "timeStamp": super::now_rfc3339(),
            "features": features,
            "links": links,
        })
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(geojson_response(&body))
}

/// `GET /collections/{id}/items/{fid}`.
pub async fn item(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    headers: HeaderMap,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    check_collection(&id)?;
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
        .ok_or_else(|| ApiError::not_found(format!("no feature {fid:?} in collection {id:?}")))?;
    let b = base(&st, &headers);
    f["links"] = json!([
        {"href": format!("{b}/collections/{id}/items/{fid}"), "rel": "self", "type": "application/geo+json"},
        {"href": format!("{b}/collections/{id}"), "rel": "collection", "type": "application/json"}
    ]);
    Ok(geojson_response(&f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_parse_with_offsets_and_dates() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_instant("1970-01-01T08:00:00+08:00"), Some(0));
        assert_eq!(parse_instant("1970-01-02"), Some(86_400));
        assert_eq!(parse_instant("2026-02-01T00:00:00Z"), Some(20_485 * 86_400));
        assert_eq!(parse_instant("2026-13-01"), None);
        assert_eq!(parse_instant("yesterday"), None);
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
