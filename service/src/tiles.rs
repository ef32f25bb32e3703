//! Map tiles over HTTP: vector tiles per layer, plan-map and heatmap PNGs,
//! the heatmap legend and TileJSON. Tiles are rendered from the current
//! snapshot, so a publish shows in the very next tile; `ETag` carries the
//! snapshot version and `Cache-Control: no-cache` makes clients revalidate
//! (a 304 costs nothing), so nobody keeps a stale tile. Rendering runs on
//! blocking threads; rendered tiles are kept per version.

use gridgov_spatial::access::{Access, Thing};
use std::sync::Arc;

use axum::extract::State;

use crate::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_tiles::{IncidentFilter, LAYERS, TileId, legend};
use serde::Deserialize;
use serde_json::json;

use gridgov_app::Snapshot;

use super::{ApiError, AppState};

/// Rendered tiles, keyed by the data version and the request, weighed
/// by their bytes: the cache holds at most `tile_cache_bytes`, evicting
/// the least useful first. A new version's tiles have new keys; the old
/// ones age out.
pub struct TileCache {
    tiles: moka::sync::Cache<(i64, String), Arc<Vec<u8>>>,
}

impl TileCache {
    /// A cache of at most `bytes` of tiles (0: none kept).
    pub fn new(bytes: usize) -> Self {
        TileCache {
            tiles: moka::sync::Cache::builder()
                .max_capacity(bytes as u64)
                .weigher(|_, v: &Arc<Vec<u8>>| u32::try_from(v.len()).unwrap_or(u32::MAX))
                .build(),
        }
    }

    fn get(&self, version: i64, key: &str) -> Option<Arc<Vec<u8>>> {
        self.tiles.get(&(version, key.to_owned()))
    }

    fn put(&self, version: i64, key: String, v: Arc<Vec<u8>>) {
        if self.tiles.policy().max_capacity().unwrap_or(0) > 0 {
            self.tiles.insert((version, key), v);
        }
    }
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileCache")
            .field("bytes", &self.tiles.weighted_size())
            .finish()
    }
}

/// Heatmap parameters.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HeatQuery {
    /// First day (YYYY-MM-DD, in Beijing).
    from: Option<String>,
    /// Last day (YYYY-MM-DD, in Beijing).
    to: Option<String>,
    /// Comma-separated.
    category: Option<String>,
    /// Comma-separated.
    source: Option<String>,
    /// Comma-separated; `open` for every open status.
    status: Option<String>,
    /// Kernel bandwidth in metres (default 150).
    bandwidth: Option<f64>,
    /// `households`: incidents per 1,000 households of their grid.
    per: Option<String>,
    /// Tile size in pixels: 256 (default) or 512.
    size: Option<u32>,
    /// The data version the client last saw. Tiles always show the current
    /// version; clients put it in the URL so that their own caches fetch
    /// afresh once it changes.
    #[allow(dead_code)]
    v: Option<String>,
}

impl HeatQuery {
    fn parse(&self) -> Result<(IncidentFilter, f64, bool, u32), ApiError> {
        let from = self
            .from
            .as_deref()
            .map(|d| super::features::check_date("from", d))
            .transpose()?;
        let to = self
            .to
            .as_deref()
            .map(|d| super::features::check_date("to", d))
            .transpose()?;
        let bw = self.bandwidth.unwrap_or(150.0);
        if !(bw.is_finite() && (10.0..=5000.0).contains(&bw)) {
            return Err(ApiError::bad_request(
                "bandwidth",
                "bandwidth must be between 10 and 5000 metres",
            ));
        }
        let per = match self.per.as_deref() {
            None => false,
            Some("households") => true,
            Some(other) => {
                return Err(ApiError::bad_request(
                    "per",
                    format!("per must be `households`, not {other:?}"),
                ));
            }
        };
        let size = self.size.unwrap_or(256);
        if size != 256 && size != 512 {
            return Err(ApiError::bad_request("size", "size must be 256 or 512"));
        }
        Ok((
            IncidentFilter {
                from,
                to,
                categories: super::comma_list(self.category.as_deref()),
                sources: super::comma_list(self.source.as_deref()),
                statuses: super::comma_list(self.status.as_deref()),
            },
            bw,
            per,
            size,
        ))
    }
}

fn tile_id(z: &str, x: &str, y: &str) -> Result<TileId, ApiError> {
    let num = |field: &str, v: &str| -> Result<u32, ApiError> {
        v.parse().map_err(|_| {
            ApiError::bad_request(field, format!("{field} must be a whole number, not {v:?}"))
        })
    };
    TileId::new(num("z", z)?, num("x", x)?, num("y", y)?).map_err(|e| {
        let field = if matches!(e, gridgov_tiles::TileError::Zoom(_)) {
            "z"
        } else {
            "x/y"
        };
        ApiError::bad_request(field, e.to_string())
    })
}

fn etag(version: i64, key: &str) -> String {
    // The key is in the URL already; the version says which data.
    let h = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("\"{version}-{h:016x}\"")
}

fn answer(
    headers: &HeaderMap,
    version: i64,
    key: &str,
    content_type: &'static str,
    body: &Arc<Vec<u8>>,
) -> Response {
    let tag = etag(version, key);
    let mut r = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = body.as_ref().clone().into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    // Other sites get tiles only as --cors-origin says (the CORS layer).
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

async fn cached(
    st: &Arc<AppState>,
    key: String,
    render: impl FnOnce(&Snapshot) -> Result<Vec<u8>, ApiError> + Send + 'static,
) -> Result<(i64, Arc<Vec<u8>>), ApiError> {
    let snap = st.current();
    let version = snap.data_version;
    if let Some(hit) = st.tile_cache.get(version, &key) {
        return Ok((version, hit));
    }
    let body = tokio::task::spawn_blocking(move || render(&snap))
        .await
        .map_err(ApiError::internal)??;
    let body = Arc::new(body);
    st.tile_cache.put(version, key, body.clone());
    Ok((version, body))
}

/// The heatmap's scale top for a filter (cached like a tile).
async fn heat_max(
    st: &Arc<AppState>,
    f: &IncidentFilter,
    bw: f64,
    per: bool,
) -> Result<f32, ApiError> {
    let key = format!("max:{f:?}:{bw}:{per}");
    let f = f.clone();
    let (_, b) = cached(st, key, move |s| {
        Ok(s.tile_source()
            .density_max(&f, bw, per)
            .to_le_bytes()
            .to_vec())
    })
    .await?;
    let a: [u8; 4] = b.as_slice().try_into().map_err(ApiError::internal)?;
    Ok(f32::from_le_bytes(a))
}

/// `GET /tiles/{layer}/{z}/{x}/{y}.{mvt|png}`.
#[utoipa::path(
    get,
    path = "/tiles/{layer}/{z}/{x}/{y}",
    tag = "tiles",
    summary = "A map tile: vector (.mvt) per layer or all, plan map or heatmap (.png)",
    params(
        ("layer" = String, Path, description = "grids, buildings, units, merchants, cameras, incidents, roads, water, places, all, plan or heatmap"),
        ("z" = u32, Path, description = "zoom, 0–24"),
        ("x" = u32, Path, description = "column"),
        ("y" = String, Path, description = "row with .mvt or .png, e.g. 12994.mvt"),
        HeatQuery,
    ),
    responses(
        (status = 200, description = "the tile", body = crate::openapi::Binary, content_type = "application/vnd.mapbox-vector-tile"),
        (status = 304, description = "not modified"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such layer", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn tile(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    Path((layer, z, x, file)): Path<(String, String, String, String)>,
    Query(q): Query<HeatQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (y, ext) = file.rsplit_once('.').ok_or_else(|| {
        ApiError::bad_request(
            "y",
            format!("expected {{y}}.mvt or {{y}}.png, not {file:?}"),
        )
    })?;
    let t = tile_id(&z, &x, y)?;
    // Incident points are for roles that read every incident; the
    // heatmap is an aggregate.
    let every_incident = caller.may(
        &Thing::Incident {
            grid: None,
            assignee: None,
            filed_by: None,
        },
        Access::Read,
    );
    if layer == "heatmap" {
        caller.require(&Thing::Aggregate, Access::Read)?;
    }
    if layer == "incidents" && !every_incident {
        return Err(ApiError::with_status(
            axum::http::StatusCode::FORBIDDEN,
            "incident points on tiles are shown to roles that see every incident; \
             /collections/incidents/items lists those of your grids",
        ));
    }
    match (layer.as_str(), ext) {
        ("heatmap", "png") => {
            let (f, bw, per, size) = q.parse()?;
            let max = heat_max(&st, &f, bw, per).await?;
            let key = format!("heat:{t:?}:{f:?}:{bw}:{per}:{size}");
            let (v, body) = cached(&st, key.clone(), move |s| {
                s.tile_source()
                    .heatmap_png(t, size, &f, bw, per, max)
                    .map_err(ApiError::internal)
            })
            .await?;
            Ok(answer(&headers, v, &key, "image/png", &body))
        }
        ("plan", "png") => {
            let size = q.size.unwrap_or(256);
            if size != 256 && size != 512 {
                return Err(ApiError::bad_request("size", "size must be 256 or 512"));
            }
            let key = format!("plan:{t:?}:{size}");
            let font = st.config.label_font.clone();
            let (v, body) = cached(&st, key.clone(), move |s| {
                s.tile_source()
                    .plan_png(t, size, font.as_ref())
                    .map_err(ApiError::internal)
            })
            .await?;
            Ok(answer(&headers, v, &key, "image/png", &body))
        }
        (name, "mvt") if name == "all" || LAYERS.contains(&name) => {
            let layers: Vec<&'static str> = LAYERS
                .iter()
                .copied()
                .filter(|l| (name == "all" || *l == name) && (every_incident || *l != "incidents"))
                .collect();
            // The incidents follow the heatmap's filters (dates,
            // categories, sources, statuses).
            let (f, ..) = q.parse()?;
            let key = format!("mvt:{name}:{}:{t:?}:{f:?}", u8::from(every_incident));
            let (v, body) = cached(&st, key.clone(), move |s| {
                Ok(s.tile_source().mvt_layers_where(t, &layers, &f))
            })
            .await?;
            Ok(answer(
                &headers,
                v,
                &key,
                "application/vnd.mapbox-vector-tile",
                &body,
            ))
        }
        (name, ext) => Err(ApiError::not_found(format!(
            "no tile layer {name:?} as .{ext}: vector layers ({}, all) are .mvt; plan and heatmap are .png",
            LAYERS.join(", ")
        ))),
    }
}

/// `GET /tiles/heatmap/legend.json`: the colour scale in real values for
/// the same parameters as the heatmap tiles.
#[utoipa::path(
    get,
    path = "/tiles/heatmap/legend.json",
    tag = "tiles",
    summary = "The heatmap's colour scale in real values",
    params(
        HeatQuery,
    ),
    responses(
        (status = 200, description = "the legend", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn heat_legend(
    State(st): State<Arc<AppState>>,
    Query(q): Query<HeatQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let (f, bw, per, _) = q.parse()?;
    let max = heat_max(&st, &f, bw, per).await?;
    let unit = if per {
        "incidents per km² per 1,000 households"
    } else {
        "incidents per km²"
    };
    let l = legend(f64::from(max), unit);
    Ok(axum::Json(json!({
        "legend": l,
        "bandwidth_m": bw,
        "filter": {"from": f.from, "to": f.to, "category": f.categories, "source": f.sources, "status": f.statuses},
        "categories": st.current().tile_source().categories(),
    })))
}

/// `GET /tiles.json`: TileJSON 3.0 for the vector tiles.
#[utoipa::path(
    get,
    path = "/tiles.json",
    tag = "tiles",
    summary = "TileJSON 3.0 of the vector tiles",
    responses(
        (status = 200, description = "TileJSON", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn tilejson(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> axum::Json<serde_json::Value> {
    let base = super::features::base(&st, &headers);
    let snap = st.current();
    let src = snap.tile_source();
    let [w, s, e, n] = src.bounds_lonlat;
    let fields = |l: &str| match l {
        "grids" => {
            json!({"code": "String", "name": "String", "kind": "basic or exclusive", "community": "String", "households": "Number", "open_incidents": "Number"})
        }
        "buildings" => {
            json!({"code": "String", "address": "String", "floors": "Number", "grid": "String"})
        }
        "units" => json!({"label": "String", "households": "Number"}),
        "merchants" => json!({"name": "String", "category": "String"}),
        "cameras" => json!({"heading": "Number", "fov": "Number", "range_m": "Number"}),
        "roads" => {
            json!({"class": "String (OSM highway: primary, residential, footway…; through roads from z 0, streets from 13, paths from 15)", "name": "String"})
        }
        "water" => {
            json!({"class": "String (water, riverbank, river, canal, stream…; lines from z 12)", "name": "String"})
        }
        "places" => json!({"class": "String (OSM place)", "name": "String"}),
        _ => {
            json!({"category": "String (z ≥ 15)", "source": "String (z ≥ 15)", "status": "String (z ≥ 15)", "open": "Number", "count": "Number (z < 15)"})
        }
    };
    let minzoom = |l: &str| match l {
        "buildings" | "places" => 13,
        "units" => 16,
        "merchants" | "cameras" => 14,
        _ => 0,
    };
    axum::Json(json!({
        "tilejson": "3.0.0",
        "name": snap.district.name,
        "attribution": snap.district.attribution,
        "version": snap.version.to_string(),
        "data_version": snap.data_version,
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/all/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": 20,
        "bounds": [w, s, e, n],
        "center": [f64::midpoint(w, e), f64::midpoint(s, n), 14],
        "vector_layers": LAYERS.iter().map(|l| json!({"id": l, "fields": fields(l), "minzoom": minzoom(l), "maxzoom": 20})).collect::<Vec<_>>(),
        "raster": {
            "plan": format!("{base}/tiles/plan/{{z}}/{{x}}/{{y}}.png"),
            "heatmap": format!("{base}/tiles/heatmap/{{z}}/{{x}}/{{y}}.png"),
            "heatmap_legend": format!("{base}/tiles/heatmap/legend.json"),
        },
    }))
}

/// `GET /r/tiles/{z}/{x}/{y}.png`: the plan map (grids and their names;
/// no cases, merchants or cameras) for the residents' page, where a resident taps where the
/// problem is without signing in.
#[utoipa::path(
    get,
    path = "/r/tiles/{z}/{x}/{y}",
    tag = "residents",
    summary = "A plan-map tile for the residents' page (no sign-in)",
    params(
        ("z" = u32, Path, description = "zoom, 0–24"),
        ("x" = u32, Path, description = "column"),
        ("y" = String, Path, description = "row with .png, e.g. 12994.png"),
    ),
    responses(
        (status = 200, description = "the tile", body = crate::openapi::Binary, content_type = "image/png"),
        (status = 304, description = "not modified"),
        (status = 400, description = "a bad parameter, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resident_tile(
    State(st): State<Arc<AppState>>,
    Path((z, x, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let y = file
        .strip_suffix(".png")
        .ok_or_else(|| ApiError::bad_request("y", format!("expected {{y}}.png, not {file:?}")))?;
    let t = tile_id(&z, &x, y)?;
    // The plan map without the merchants and cameras.
    let key = format!("public-plan:{t:?}");
    let font = st.config.label_font.clone();
    let (v, body) = cached(&st, key.clone(), move |s| {
        s.tile_source()
            .public_plan_png(t, 256, font.as_ref())
            .map_err(ApiError::internal)
    })
    .await?;
    Ok(answer(&headers, v, &key, "image/png", &body))
}
