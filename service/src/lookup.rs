//! `GET /lookup` (by point or address), `POST /lookup/batch`, `GET /summary`.

use std::sync::Arc;

use axum::extract::State;

use crate::extract::Query;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gridgov_spatial::address::parse;
use gridgov_spatial::{AreaSummary, Crs, Level, Placement, place_point};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::{AppState, Snapshot};

/// Query of `GET /lookup`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// Longitude (with `lat`).
    lon: Option<String>,
    /// Latitude.
    lat: Option<String>,
    /// `wgs84` (= `cgcs2000`, default), `gcj02`, `bd09`, or a projected
    /// system by EPSG code (`epsg:4527`, `epsg:32650`, …; then lon/lat are X/Y).
    crs: Option<String>,
    /// An address instead of a point.
    address: Option<String>,
    /// Most address candidates (default 5, at most 100).
    limit: Option<String>,
    /// The boundaries in force on this day (YYYY-MM-DD).
    as_of: Option<String>,
}

fn number(v: Option<&String>, name: &str) -> Result<f64, ApiError> {
    let s = v.ok_or_else(|| {
        ApiError::bad_request(name, format!("{name} is required (or give address=)"))
    })?;
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| ApiError::bad_request(name, format!("{name} {s:?} is not a number")))
}

fn chain(snap: &Snapshot, g: gridgov_spatial::AreaId) -> Vec<AreaSummary> {
    snap.district
        .chain(g)
        .into_iter()
        .map(|a| AreaSummary::of(&snap.district, a))
        .collect()
}

/// `GET /lookup?lon=&lat=&crs=` or `GET /lookup?address=&limit=`.
#[utoipa::path(
    get,
    path = "/lookup",
    tag = "lookup",
    summary = "Which grid a point or an address belongs to",
    params(
        LookupQuery,
    ),
    responses(
        (status = 200, description = "the grid chain, staff and border distance, or ranked address candidates", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no boundaries in force on as_of", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn lookup(
    State(st): State<Arc<AppState>>,
    Query(q): Query<LookupQuery>,
) -> Result<Response, ApiError> {
    let snap = match &q.as_of {
        None => st.current(),
        Some(date) => {
            let date = super::features::check_date("as_of", date)?;
            let app = st.app.clone();
            tokio::task::spawn_blocking(move || app.snapshot_on(date))
                .await??
                .ok_or_else(|| {
                    ApiError::not_found(format!("no boundaries were in force on {date}"))
                })?
        }
    };
    if let Some(address) = &q.address {
        if address.trim().is_empty() {
            return Err(ApiError::bad_request("address", "address is empty"));
        }
        if address.chars().count() > 500 {
            return Err(ApiError::bad_request(
                "address",
                "address is longer than 500 characters",
            ));
        }
        let limit = match &q.limit {
            None => 5,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request("limit", format!("limit {s:?}: expected 1 to 100"))
                })?,
        };
        let matches = snap.addresses.lookup(&snap.district, address, limit);
        let candidates: Vec<Value> = matches
            .iter()
            .map(|m| {
                json!({
                    "building": snap.district.buildings[m.building.index()].code,
                    // The level between the grid and the unit.
                    "leaders": snap.district.buildings[m.building.index()].leaders,
                    "unit": m.unit.map(|u| snap.district.units[u.index()].label.clone()),
                    "address": m.address,
                    "confidence": (m.confidence * 1000.0).round() / 1000.0,
                    "matched": m.reasons,
                    "chain": m.grid.map(|g| chain(&snap, g)),
                })
            })
            .collect();
        return Ok(axum::Json(
            json!({"query": address, "parsed": parse(address), "candidates": candidates}),
        )
        .into_response());
    }
    let lon = number(q.lon.as_ref(), "lon")?;
    let lat = number(q.lat.as_ref(), "lat")?;
    let crs: Crs = match &q.crs {
        None => Crs::Wgs84,
        Some(c) => c
            .parse()
            .map_err(|e: gridgov_spatial::CrsError| ApiError::bad_request("crs", e.to_string()))?,
    };
    let body = point_json(&snap, lon, lat, crs)
        .map_err(|e| ApiError::bad_request("lon,lat", e.to_string()))?;
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// The answer of `lookup_point` as JSON, written directly with the
/// snapshot's pre-serialised chains (the same bytes serde would write).
pub fn point_json(
    snap: &Snapshot,
    lon: f64,
    lat: f64,
    crs: Crs,
) -> Result<String, gridgov_spatial::CrsError> {
    let (wlon, wlat) = crs.to_wgs84(lon, lat)?;
    let num = |x: f64| serde_json::to_string(&x).unwrap_or_else(|_| "null".into());
    let border = snap
        .grids
        .nearest_border(wlon, wlat)
        .map_or_else(|| "null".to_string(), |b| num(b.distance_m));
    let (chain, nearest) = match place_point(&snap.grids, wlon, wlat) {
        Placement::Inside(g) => (snap.chain_json[g.index()].as_str(), "null".to_string()),
        Placement::Outside { nearest, .. } => (
            "[]",
            serde_json::to_string(&AreaSummary::of(&snap.district, nearest))
                .unwrap_or_else(|_| "null".into()),
        ),
        Placement::Unplaced => ("[]", "null".to_string()),
    };
    // The level between the grid and the unit: the building the point is
    // in, with its leaders.
    let building = snap.building_at(wlon, wlat).map_or_else(
        || "null".to_string(),
        |b| {
            let b = &snap.district.buildings[b.index()];
            serde_json::to_string(&gridgov_spatial::PointBuilding {
                code: b.code.clone(),
                address: b.address.clone(),
                floors: b.floors,
                leaders: b.leaders.clone(),
            })
            .unwrap_or_else(|_| "null".into())
        },
    );
    Ok(format!(
        r#"{{"input":[{},{}],"crs":"{crs}","wgs84":[{},{}],"chain":{chain},"building":{building},"border_distance_m":{border},"nearest":{nearest}}}"#,
        num(lon),
        num(lat),
        num(wlon),
        num(wlat)
    ))
}

/// One point of a batch.
struct BatchPoint {
    id: Option<String>,
    lon: f64,
    lat: f64,
    /// Why this row has no point: answered as a row with `error`, never
    /// failing the others.
    error: Option<String>,
}

impl BatchPoint {
    fn failed(id: Option<String>, error: String) -> Self {
        BatchPoint {
            id,
            lon: f64::NAN,
            lat: f64::NAN,
            error: Some(error),
        }
    }
}

/// The most points one batch lookup takes.
pub const MAX_BATCH_POINTS: usize = 100_000;

/// One point's answer in a batch.
#[derive(serde::Serialize)]
struct Row<'a> {
    id: Option<&'a String>,
    lon: f64,
    lat: f64,
    grid: Option<String>,
    community: Option<String>,
    street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nearest_grid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<f64>,
    /// Why the row has no answer (no coordinates, not a number, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}
/// A batch point's id, point, placement and error.
type Answered<'a> = (Option<&'a String>, [f64; 2], Placement, Option<&'a str>);

/// A batch's answer.
#[derive(serde::Serialize)]
struct Out<'a> {
    count: usize,
    failed: usize,
    results: Vec<Row<'a>>,
}

/// What a batch reads of a FeatureCollection: each feature's id and
/// point, nothing else (properties are skipped as they are read, so a
/// big body is not held twice as a JSON tree).
#[derive(Deserialize)]
struct BatchCollection {
    features: Vec<BatchFeature>,
}

#[derive(Deserialize)]
struct BatchFeature {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    geometry: Option<BatchGeometry>,
}

#[derive(Deserialize)]
struct BatchGeometry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    coordinates: Value,
}

fn parse_geojson_points(body: impl std::io::Read, crs: Crs) -> Result<Vec<BatchPoint>, ApiError> {
    let fc: BatchCollection =
        serde_json::from_reader(std::io::BufReader::new(body)).map_err(|e| {
            if e.is_io() {
                ApiError::bad_request("body", format!("the body could not be read: {e}"))
            } else if e.is_syntax() || e.is_eof() {
                ApiError::bad_request("body", format!("not JSON: {e}"))
            } else {
                ApiError::bad_request(
                    "body",
                    format!("expected a GeoJSON FeatureCollection of Points: {e}"),
                )
            }
        })?;
    Ok(fc
        .features
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let id =
                f.id.map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
            let Some(c) = f
                .geometry
                .as_ref()
                .filter(|g| g.kind == "Point")
                .and_then(|g| g.coordinates.as_array())
            else {
                return BatchPoint::failed(id, format!("feature {i} is not a Point"));
            };
            let (Some(lon), Some(lat)) = (
                c.first().and_then(Value::as_f64),
                c.get(1).and_then(Value::as_f64),
            ) else {
                return BatchPoint::failed(id, format!("feature {i}: coordinates are not numbers"));
            };
            match crs.to_wgs84(lon, lat) {
                Ok((lon, lat)) => BatchPoint {
                    id,
                    lon,
                    lat,
                    error: None,
                },
                Err(e) => BatchPoint::failed(id, format!("feature {i}: {e}")),
            }
        })
        .collect())
}

fn parse_csv_points(body: impl std::io::Read, crs: Crs) -> Result<Vec<BatchPoint>, ApiError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let read_err = |e: csv::Error| {
        let line = e.position().map_or(0, csv::Position::line);
        match e.kind() {
            csv::ErrorKind::Utf8 { .. } => ApiError::bad_request(
                format!("line {line}"),
                format!("line {line}: CSV is not UTF-8"),
            ),
            csv::ErrorKind::Io(io) => {
                ApiError::bad_request("body", format!("the body could not be read: {io}"))
            }
            _ => ApiError::bad_request(format!("line {line}"), format!("line {line}: {e}")),
        }
    };
    let mut records = rdr.records();
    let head = match records.next() {
        Some(r) => r.map_err(read_err)?,
        None => return Err(ApiError::bad_request("body", "CSV is empty")),
    };
    let header: Vec<String> = head
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let lon_c = col(&["lon", "lng", "longitude", "x"]).ok_or_else(|| {
        ApiError::bad_request(
            "body",
            "CSV header needs a lon (or lng, longitude, x) column",
        )
    })?;
    let lat_c = col(&["lat", "latitude", "y"]).ok_or_else(|| {
        ApiError::bad_request("body", "CSV header needs a lat (or latitude, y) column")
    })?;
    let id_c = col(&["id"]);
    let mut out = Vec::new();
    for r in records {
        let r = r.map_err(read_err)?;
        if r.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        // One more than the most a batch takes is enough to refuse it.
        if out.len() > MAX_BATCH_POINTS {
            break;
        }
        let row = r.position().map_or(0, csv::Position::line);
        let cell = |c: usize| r.get(c).map_or("", str::trim);
        let id = id_c.map(|c| cell(c).to_string());
        let num = |c: usize, what: &str| match cell(c) {
            "" => Err(format!("line {row}: no {what}")),
            v => v
                .parse::<f64>()
                .map_err(|_| format!("line {row}: {what} {v:?} is not a number")),
        };
        let lonlat = num(lon_c, "lon").and_then(|lon| Ok((lon, num(lat_c, "lat")?)));
        out.push(
            match lonlat.and_then(|(lon, lat)| {
                crs.to_wgs84(lon, lat)
                    .map_err(|e| format!("line {row}: {e}"))
            }) {
                Ok((lon, lat)) => BatchPoint {
                    id,
                    lon,
                    lat,
                    error: None,
                },
                Err(e) => BatchPoint::failed(id, e),
            },
        );
    }
    Ok(out)
}

/// Query of `POST /lookup/batch`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// The coordinates' system: `wgs84` (default), `gcj02`, `bd09`, or a
    /// projected system by EPSG code (`epsg:4547`, `epsg:32650`, …).
    crs: Option<String>,
}

/// `POST /lookup/batch`: a GeoJSON FeatureCollection of points or a CSV with
/// `lon,lat[,id]` columns; answers each point's grid (JSON, or CSV for CSV).
/// A row that cannot be read (no coordinates, not a number, not a Point,
/// out of range) is answered with its `error`; the others in full.
#[utoipa::path(
    post,
    path = "/lookup/batch",
    tag = "lookup",
    summary = "The grid of many points",
    params(
        BatchQuery,
    ),
    request_body(content = String, description = "a FeatureCollection of Points, or CSV with lon,lat[,id]", content_type = "text/csv"),
    responses(
        (status = 200, description = "each point's grid, community and street (CSV for CSV)", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "too large", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "neither GeoJSON nor CSV", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn batch(
    State(st): State<Arc<AppState>>,
    Query(q): Query<BatchQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let crs: Crs = match &q.crs {
        None => Crs::Wgs84,
        Some(c) => c
            .parse()
            .map_err(|e: gridgov_spatial::CrsError| ApiError::bad_request("crs", e.to_string()))?,
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let csv = ct.starts_with("text/csv");
    if !(csv || ct.starts_with("application/json") || ct.starts_with("application/geo+json")) {
        return Err(ApiError::unsupported_media(
            "send a GeoJSON FeatureCollection (application/geo+json) or CSV (text/csv)",
        ));
    }
    // Batches take memory in proportion to their body: so many at a time,
    // the others wait their turn (within the request's time limit).
    let _turn = st
        .batches
        .clone()
        .acquire_owned()
        .await
        .map_err(ApiError::internal)?;
    let snap = st.current();
    // The body is read as it streams in, by the thread that parses it.
    let limit = st.config.batch_body_limit;
    let deadline = std::time::Instant::now() + st.config.guard.timeout;
    let (reader, stop) = crate::batch_body::BodyReader::new(
        body,
        tokio::runtime::Handle::current(),
        limit,
        deadline,
    );
    tokio::task::spawn_blocking(move || {
        let parsed = if csv {
            parse_csv_points(reader, crs)
        } else {
            parse_geojson_points(reader, crs)
        };
        if stop.too_large.load(std::sync::atomic::Ordering::Relaxed) {
            let mut e = ApiError::with_status(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the batch is over this service's limit of {limit} bytes for a batch (`gridgov serve --batch-body-limit`): split it, or ask the operator to raise the limit"
                ),
            );
            e.title = "Payload too large";
            let mut r = e.into_response();
            r.extensions_mut().insert(crate::harden::LimitNamed);
            return Ok(r);
        }
        if stop.too_slow.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(ApiError::with_status(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                "the batch came too slowly: the request's time ran out while it was being sent",
            ));
        }
        let pts = parsed?;
        if pts.len() > MAX_BATCH_POINTS {
            return Err(ApiError::bad_request(
                "body",
                format!(
                    "{} points; a batch takes at most {MAX_BATCH_POINTS}: split it",
                    pts.len()
                ),
            ));
        }
        let coords: Vec<[f64; 2]> = pts.iter().map(|p| [p.lon, p.lat]).collect();
        let located = snap.grids.locate_many(&coords, 2);
        let results: Vec<Answered<'_>> = pts
            .iter()
            .zip(located)
            .map(|(p, g)| {
                let placed = if p.error.is_some() {
                    Placement::Unplaced
                } else {
                    g.map_or_else(|| place_point(&snap.grids, p.lon, p.lat), Placement::Inside)
                };
                (p.id.as_ref(), [p.lon, p.lat], placed, p.error.as_deref())
            })
            .collect();
        let failed = pts.iter().filter(|p| p.error.is_some()).count();
        let code_at = |p: Placement, level: Level| -> Option<String> {
            let g = p.grid()?;
            snap.district
                .chain(g)
                .into_iter()
                .find(|&a| snap.district.area(a).level == level)
                .map(|a| snap.district.area(a).code.clone())
        };
        if csv {
            let mut w = csv::Writer::from_writer(Vec::new());
            let io = |e: csv::Error| ApiError::internal(e);
            w.write_record([
                "id",
                "lon",
                "lat",
                "grid",
                "community",
                "street",
                "nearest_grid",
                "distance_m",
                "error",
            ])
            .map_err(io)?;
            for (id, [lon, lat], p, err) in &results {
                let (nearest, dist) = match p {
                    Placement::Outside {
                        nearest,
                        distance_m,
                    } => (
                        snap.district.area(*nearest).code.clone(),
                        format!("{distance_m:.1}"),
                    ),
                    _ => (String::new(), String::new()),
                };
                let coord = |x: f64| {
                    if x.is_nan() {
                        String::new()
                    } else {
                        x.to_string()
                    }
                };
                w.write_record([
                    id.map_or("", |s| s.as_str()).to_owned(),
                    coord(*lon),
                    coord(*lat),
                    code_at(*p, Level::Grid).unwrap_or_default(),
                    code_at(*p, Level::Community).unwrap_or_default(),
                    code_at(*p, Level::Street).unwrap_or_default(),
                    nearest,
                    dist,
                    err.unwrap_or_default().to_owned(),
                ])
                .map_err(io)?;
            }
            let out = w.into_inner().map_err(|e| ApiError::internal(e.error()))?;
            let mut r = out.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            return Ok(r);
        }
        let rows: Vec<Row<'_>> = results
            .iter()
            .map(|(id, [lon, lat], p, err)| {
                let (nearest_grid, distance_m) = match p {
                    Placement::Outside {
                        nearest,
                        distance_m,
                    } => (
                        Some(snap.district.area(*nearest).code.as_str()),
                        Some((distance_m * 10.0).round() / 10.0),
                    ),
                    _ => (None, None),
                };
                Row {
                    id: *id,
                    lon: *lon,
                    lat: *lat,
                    grid: code_at(*p, Level::Grid),
                    community: code_at(*p, Level::Community),
                    street: code_at(*p, Level::Street),
                    nearest_grid,
                    distance_m,
                    error: *err,
                }
            })
            .collect();
        let out = serde_json::to_vec(&Out {
            count: rows.len(),
            failed,
            results: rows,
        })
        .map_err(ApiError::internal)?;
        let mut r = out.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(r)
    })
    .await
    .map_err(ApiError::internal)?
}

/// Query of `GET /summary`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// `street`, `community` or `grid`; default all.
    level: Option<String>,
}

/// `GET /summary?level=grid|community|street`: counts per area.
#[utoipa::path(
    get,
    path = "/summary",
    tag = "lookup",
    summary = "Counts per grid, community and street",
    params(
        SummaryQuery,
    ),
    responses(
        (status = 200, description = "counts per area", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn summary(
    State(st): State<Arc<AppState>>,
    Query(q): Query<SummaryQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let level = match q.level.as_deref() {
        None => None,
        Some("street") => Some(Level::Street),
        Some("community") => Some(Level::Community),
        Some("grid") => Some(Level::Grid),
        Some(o) => {
            return Err(ApiError::bad_request(
                "level",
                format!("level {o:?}: use street, community or grid"),
            ));
        }
    };
    let snap = st.current();
    let rows: Vec<_> = snap
        .stats
        .iter()
        .filter(|r| level.is_none_or(|l| r.level == l))
        .cloned()
        .collect();
    Ok(axum::Json(json!({"areas": rows})))
}
