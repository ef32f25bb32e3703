//! Incident analytics over HTTP: counts per area with rates
//! (`/stats/incidents`), hot spots (`/hotspots`, JSON or GeoJSON) and the
//! weekly or monthly report (`/reports/{period}`, JSON or HTML).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_spatial::Level;
use gridgov_spatial::hotspot_map::{HotspotOptions, UnitHotspot, grid_hotspots, lattice_hotspots};
use gridgov_spatial::incident_counts::{IncidentQuery, incident_counts};
use gridgov_spatial::period::{CHINA_OFFSET_S, Period, PeriodKind};
use serde::Deserialize;
use serde_json::{Value, json};

use super::cases::{blocking, cancellable};
use super::{ApiError, AppState, comma_list, now_param};
use gridgov_app::cases::Book;
use gridgov_app::report::{ReportOptions, build, html};

/// Today in the district (local days since 1970-01-01).
fn today(st: &AppState) -> i64 {
    gridgov_spatial::time::local_day(st.app.now(), CHINA_OFFSET_S)
}

fn parse_period(s: &str) -> Result<Period, ApiError> {
    Period::parse(s).map_err(|e| ApiError::bad_request("period", e.to_string()))
}

/// The period asked for, or the last full week.
fn period_or_last_week(st: &AppState, s: Option<&str>) -> Result<Period, ApiError> {
    if let Some(s) = s {
        return parse_period(s);
    }
    Ok(Period::containing(PeriodKind::Week, today(st)).previous())
}

/// Query of `GET /stats/incidents`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// `street`, `community` or `grid`; default all.
    level: Option<String>,
    /// `2026-W46`, `2026-11` or `2026-11-01..2026-11-15` (local days); default all time.
    period: Option<String>,
    /// Categories, comma-separated.
    category: Option<String>,
    /// A grid's code: the day series (`by_day`) counts only its incidents.
    grid: Option<String>,
}

/// Days in a `by_day` series at most.
const MAX_SERIES_DAYS: i64 = 400;

/// `GET /stats/incidents?level=grid&period=2026-W46&category=noise,parking`:
/// incidents per street, community and grid (or one level), per category,
/// with rates per 1,000 households. Without a period: all time.
#[utoipa::path(
    get,
    path = "/stats/incidents",
    tag = "reports",
    summary = "Incidents per street, community and grid, per category, with rates per 1,000 households",
    params(
        StatsQuery,
    ),
    responses(
        (status = 200, description = "counts and rates per area", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn incident_stats(
    State(st): State<Arc<AppState>>,
    Query(q): Query<StatsQuery>,
) -> Result<Response, ApiError> {
    let level = match q.level.as_deref() {
        None | Some("") => None,
        Some("street") => Some(Level::Street),
        Some("community") => Some(Level::Community),
        Some("grid") => Some(Level::Grid),
        Some(l) => {
            return Err(ApiError::bad_request(
                "level",
                format!("{l:?}: use street, community or grid"),
            ));
        }
    };
    let p = match q.period.as_deref() {
        None | Some("") => None,
        Some(s) => Some(parse_period(s)?),
    };
    let cats = comma_list(q.category.as_deref());
    let grid = q.grid.clone();
    let v = blocking(move || {
        let snap = st.current();
        let query = IncidentQuery {
            period: p,
            categories: cats.clone(),
            utc_offset_s: CHINA_OFFSET_S,
        };
        let rows: Vec<_> = incident_counts(&snap.district, &snap.assignment, &query)
            .into_iter()
            .filter(|r| level.is_none_or(|l| r.level == l))
            .collect();
        // Per local day of the period (of one grid when asked): the
        // dashboard's day chart.
        let by_day = match p {
            Some(p) if p.days() <= MAX_SERIES_DAYS => {
                let grid = match grid.as_deref() {
                    None | Some("") => None,
                    Some(c) => Some(snap.district.area_by_code(c).ok_or_else(|| {
                        ApiError::bad_request("grid", format!("no grid {c:?}"))
                    })?),
                };
                let mut n = vec![0usize; usize::try_from(p.days()).unwrap_or(0)];
                for (x, at) in snap.district.incidents.iter().zip(snap.assignment.incidents.iter()) {
                    if !query.matches(x) || grid.is_some_and(|g| at.responsible() != Some(g)) {
                        continue;
                    }
                    let d = gridgov_spatial::period::local_day(x.reported_at, CHINA_OFFSET_S) - p.start;
                    if let Some(c) = usize::try_from(d).ok().and_then(|d| n.get_mut(d)) {
                        *c += 1;
                    }
                }
                Some(
                    n.iter()
                        .enumerate()
                        .map(|(i, c)| json!({"day": gridgov_spatial::period::date(p.start + i as i64), "incidents": c}))
                        .collect::<Vec<_>>(),
                )
            }
            _ => None,
        };
        Ok(json!({
            "period": p,
            "categories": cats,
            "boundary_version": snap.version,
            "areas": rows,
            "by_day": by_day,
        }))
    })
    .await?;
    Ok(Json(v).into_response())
}

/// `GET /stats/overview`: the command center's key figures now: cases
/// new today, open, overdue, closed today, and the mean satisfaction of
/// the last 30 days' evaluations (`gridgov_app::overview`). Read from the
/// cases once per data version and minute, however many screens ask.
#[utoipa::path(
    get,
    path = "/stats/overview",
    tag = "reports",
    summary = "Key figures now: new today, open, overdue, closed today, satisfaction",
    responses(
        (status = 200, description = "the figures", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn overview(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    // Every open dashboard asks after each change it hears of: one
    // reading of the cases per data version and minute serves them all.
    let key = (st.current().data_version, st.app.now().as_second() / 60);
    if let Some(v) = st.overview.lock().ok().and_then(|c| {
        c.as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }) {
        return Ok(Json(v).into_response());
    }
    let st2 = st.clone();
    let v = blocking(move || {
        let book = Book::read(st2.app.store.as_ref())?;
        let o = gridgov_app::overview::overview(
            &book.cases,
            &st2.app.rules.deadlines,
            st2.app.now(),
            CHINA_OFFSET_S,
        );
        serde_json::to_value(o).map_err(ApiError::internal)
    })
    .await?;
    if let Ok(mut c) = st.overview.lock() {
        *c = Some((key, v.clone()));
    }
    Ok(Json(v).into_response())
}

/// Query of `GET /hotspots`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HotspotQuery {
    /// A week, month or day range; default the last full week.
    period: Option<String>,
    /// `grid` (default) or `lattice`.
    method: Option<String>,
    /// Lattice cell size in metres (default 200).
    cell_m: Option<f64>,
    /// Categories, comma-separated.
    category: Option<String>,
    /// Conditional permutations (default 999).
    permutations: Option<usize>,
    /// Weeks in the emerging series (default 8).
    weeks: Option<usize>,
    /// False-discovery rate (default 0.05).
    fdr: Option<f64>,
    /// Seed of the permutations.
    seed: Option<u64>,
    /// `json` (default) or `geojson`.
    format: Option<String>,
}

fn unit_props(u: &UnitHotspot) -> serde_json::Map<String, Value> {
    match serde_json::to_value(u) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

/// `GET /hotspots?period=2026-W46&method=grid|lattice&cell_m=200`: Gi*
/// hot spots with permutation p-values, FDR control and emerging labels;
/// `format=geojson` answers a FeatureCollection for maps. The period
/// defaults to the last full week.
#[utoipa::path(
    get,
    path = "/hotspots",
    tag = "reports",
    summary = "Gi* hot spots per grid or lattice cell, with permutation p-values, FDR control and emerging labels",
    params(
        HotspotQuery,
    ),
    responses(
        (status = 200, description = "a result per unit (GeoJSON features with format=geojson)", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn hotspots(
    State(st): State<Arc<AppState>>,
    Query(q): Query<HotspotQuery>,
) -> Result<Response, ApiError> {
    let p = period_or_last_week(&st, q.period.as_deref())?;
    let defaults = HotspotOptions::default();
    let o = HotspotOptions {
        permutations: q.permutations.unwrap_or(defaults.permutations),
        seed: q.seed.unwrap_or(defaults.seed),
        fdr: q.fdr.unwrap_or(defaults.fdr),
        weeks: q.weeks.unwrap_or(defaults.weeks),
        cancel: defaults.cancel.clone(),
    };
    let lattice = match q.method.as_deref() {
        None | Some("grid" | "grids") => false,
        Some("lattice") => true,
        Some(m) => {
            return Err(ApiError::bad_request(
                "method",
                format!("{m:?}: use grid or lattice"),
            ));
        }
    };
    let geojson = match q.format.as_deref() {
        None | Some("json") => false,
        Some("geojson") => true,
        Some(f) => {
            return Err(ApiError::bad_request(
                "format",
                format!("{f:?}: use json or geojson"),
            ));
        }
    };
    let query = IncidentQuery {
        period: Some(p),
        categories: comma_list(q.category.as_deref()),
        utc_offset_s: CHINA_OFFSET_S,
    };
    let cell_m = q.cell_m.unwrap_or(200.0);
    let v = cancellable(move |cancel| {
        let o = HotspotOptions { cancel, ..o };
        let snap = st.current();
        let d = &snap.district;
        let bad = |e: gridgov_spatial::hotspot_map::HotspotError| {
            ApiError::bad_request("hotspots", e.to_string())
        };
        let head = json!({
            "period": p,
            "method": if lattice { "lattice" } else { "grid" },
            "categories": query.categories,
            "permutations": o.permutations,
            "fdr": o.fdr,
            "weeks": o.weeks,
            "seed": o.seed,
            "boundary_version": snap.version,
        });
        if lattice {
            let l = lattice_hotspots(d, cell_m, &query, &o).map_err(bad)?;
            if geojson {
                let features: Vec<Value> = l
                    .cells
                    .iter()
                    .map(|c| {
                        let [w, s, e, n] = c.bounds;
                        let mut props = unit_props(&c.unit);
                        props.insert("col".into(), json!(c.col));
                        props.insert("row".into(), json!(c.row));
                        json!({
                            "type": "Feature",
                            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
                            "properties": props,
                        })
                    })
                    .collect();
                return Ok(json!({"type": "FeatureCollection", "metadata": head, "features": features}));
            }
            let mut v = head;
            v["cell_m"] = json!(l.cell_m);
            v["cols"] = json!(l.cols);
            v["rows"] = json!(l.rows);
            v["cells"] = json!(l.cells);
            return Ok(v);
        }
        let g = grid_hotspots(d, &snap.assignment, &query, &o).map_err(bad)?;
        if geojson {
            let features: Vec<Value> = g
                .iter()
                .map(|h| {
                    let mut props = unit_props(&h.unit);
                    props.insert("code".into(), json!(h.code));
                    props.insert("name".into(), json!(h.name));
                    json!({
                        "type": "Feature",
                        "id": h.code,
                        "geometry": geojson::Geometry::from(&d.area(h.id).boundary),
                        "properties": props,
                    })
                })
                .collect();
            return Ok(json!({"type": "FeatureCollection", "metadata": head, "features": features}));
        }
        let mut v = head;
        v["grids"] = json!(g);
        Ok(v)
    })
    .await?;
    let ct = if geojson {
        "application/geo+json"
    } else {
        "application/json"
    };
    Ok(([(header::CONTENT_TYPE, ct)], v.to_string()).into_response())
}

/// Query of `GET /reports/{period}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The time overdue cases are judged at (RFC 3339); default now.
    now: Option<String>,
    /// Permutations for the hot spots.
    permutations: Option<usize>,
    /// How many top grids and communities (default 10).
    top: Option<usize>,
}

/// `GET /reports/{period}` (`2026-W46`, `2026-11`, a day range), with
/// `.html` for the self-contained page or `.json` (the default) for the
/// data; `GET /reports` links the last full week and month.
#[utoipa::path(
    get,
    path = "/reports/{name}",
    tag = "reports",
    summary = "The incident report of a week, month or day range: JSON, or the self-contained HTML page with .html",
    params(
        ("name" = String, Path, description = "2026-W46, 2026-11 or 2026-11-01..2026-11-15, with .json, .html or .pdf"),
        ReportQuery,
    ),
    responses(
        (status = 200, description = "the report (text/html with .html, an A4 application/pdf with .pdf)", body = serde_json::Value, content_type = "application/json"),
        (status = 503, description = ".pdf: the service has no font that draws Chinese", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such period", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn report(
    State(st): State<Arc<AppState>>,
    caller: super::auth::Caller,
    crate::extract::UiLang(lang): crate::extract::UiLang,
    Path(name): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let (label, form) = if let Some(l) = name.strip_suffix(".html") {
        (l, Form::Html)
    } else if let Some(l) = name.strip_suffix(".pdf") {
        (l, Form::Pdf)
    } else {
        (name.strip_suffix(".json").unwrap_or(&name), Form::Json)
    };
    let pdf_font = match form {
        Form::Pdf => Some(st.config.report_font.clone().ok_or_else(|| {
            ApiError::with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "this service has no font that draws Chinese, so it writes no PDF reports; \
                 install one (fonts-wqy-microhei or fonts-noto-cjk) or start it with --font",
            )
        })?),
        _ => None,
    };
    let p = Period::parse(label)
        .map_err(|e| ApiError::not_found(format!("no report {name:?}: {e}")))?;
    let now = now_param(&st, q.now.as_deref())?;
    let defaults = ReportOptions::default();
    let o = ReportOptions {
        top: q.top.unwrap_or(defaults.top).clamp(1, 1000),
        hotspots: HotspotOptions {
            permutations: q.permutations.unwrap_or(defaults.hotspots.permutations),
            ..defaults.hotspots.clone()
        },
        ..defaults
    };
    let out = cancellable(move |cancel| {
        let mut o = o;
        o.hotspots.cancel = cancel;
        let snap = st.current();
        let book = Book::read(st.app.store.as_ref())?;
        let visits = st.app.store.visits_after(0)?;
        let mut r = build(&snap, &book, &visits, &st.app.rules.deadlines, p, now, &o)?;
        // Counts are for everyone who reads reports; the overdue and
        // alarm lists name cases, so each caller sees only those they may
        // read.
        let may_read = |id: i64, grid: Option<&gridgov_app::report::AreaRef>| {
            let assignee = book
                .cases
                .binary_search_by_key(&id, |c| c.id)
                .ok()
                .and_then(|i| book.cases[i].state.assignee.as_ref());
            caller.may(
                &gridgov_spatial::access::Thing::Incident {
                    grid: grid.map(|g| g.code.as_str()),
                    assignee,
                    filed_by: None,
                },
                gridgov_spatial::access::Access::Read,
            )
        };
        r.overdue.retain(|row| may_read(row.id, row.grid.as_ref()));
        r.alarms.retain(|row| may_read(row.id, row.grid.as_ref()));
        Ok(match (form, pdf_font) {
            (Form::Html, _) => {
                html::page_in(&r, &snap, lang, st.config.label_font.as_ref()).into_bytes()
            }
            (Form::Pdf, Some(font)) => gridgov_app::report::pdf::document(
                &r,
                &snap,
                lang,
                &font,
                st.config.label_font.as_ref(),
            )
            .map_err(ApiError::internal)?,
            _ => serde_json::to_vec(&r).map_err(ApiError::internal)?,
        })
    })
    .await?;
    if form == Form::Pdf {
        return Ok((
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"report-{label}.pdf\""),
                ),
            ],
            out,
        )
            .into_response());
    }
    if form == Form::Html {
        // The page needs nothing but its own styles and embedded images.
        return Ok((
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
                ),
            ],
            out,
        )
            .into_response());
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}

/// How a report is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Json,
    Html,
    Pdf,
}

/// `GET /reports`: the last full week's and month's reports.
#[utoipa::path(
    get,
    path = "/reports",
    tag = "reports",
    summary = "The last full week's and month's reports",
    responses(
        (status = 200, description = "links", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn index(State(st): State<Arc<AppState>>) -> Response {
    let week = Period::containing(PeriodKind::Week, today(&st)).previous();
    let month = Period::containing(PeriodKind::Month, today(&st)).previous();
    let links = |p: Period| {
        json!({
            "period": p,
            "json": format!("/reports/{}.json", p.label()),
            "html": format!("/reports/{}.html", p.label()),
            "pdf": format!("/reports/{}.pdf", p.label()),
        })
    };
    Json(json!({
        "week": links(week),
        "month": links(month),
        "periods": "a week 2026-W46, a month 2026-11, or days 2026-11-01..2026-11-15",
    }))
    .into_response()
}
