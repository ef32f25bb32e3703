//! Households (户) and units (单元) over HTTP, grid by grid: grid staff
//! read and update those of their grids, admins all. Names, phone numbers
//! and ID numbers are shown in full only to them ([`gridgov_spatial::access::sees_personal`]); each
//! answer that shows them in full is written to the audit log.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use gridgov_spatial::access::{Access, Thing, sees_personal};
use gridgov_spatial::{Household, mask};
use serde::Deserialize;
use serde_json::{Value, json};

use gridgov_app::Snapshot;
use gridgov_app::households::{HouseholdChange, UnitEdit};

use super::auth::{Caller, record};
use super::{ApiError, AppState};

/// The grid code of a household's unit.
pub(crate) fn grid_of(snap: &Snapshot, h: &Household) -> Option<String> {
    let p = *snap.assignment.units.get(h.unit.index())?;
    p.responsible().map(|g| snap.district.area(g).code.clone())
}

fn view(snap: &Snapshot, index: usize, h: &Household, full: bool, grid: Option<&str>) -> Value {
    let d = &snap.district;
    let u = d.units.get(h.unit.index());
    let shown = if full { h.clone() } else { mask::masked(h) };
    json!({
        "id": index + 1,
        "grid": grid,
        "building": u.map(|u| d.buildings[u.building.index()].code.clone()),
        "unit": u.map(|u| u.label.clone()),
        "room": shown.room,
        "headcount": shown.headcount,
        "head_name": shown.head_name,
        "phone": shown.phone,
        "id_number": shown.id_number,
        "masked": !full,
    })
}

/// Filters of `GET /households`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this grid's households.
    grid: Option<String>,
    /// At most this many (default 100, at most 10,000).
    limit: Option<usize>,
    /// Skip this many.
    offset: Option<usize>,
}

/// `GET /households?grid=&limit=&offset=`: the households the caller may
/// read.
#[utoipa::path(
    get,
    path = "/households",
    tag = "households",
    summary = "The households the caller may read (personal fields masked unless theirs)",
    params(
        ListQuery,
    ),
    responses(
        (status = 200, description = "households", body = serde_json::Value, content_type = "application/json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    // Roles that may read no household at all are refused outright.
    let any = caller.may(&Thing::Household { grid: None }, Access::Read)
        || caller
            .principal
            .grids
            .iter()
            .any(|g| caller.may(&Thing::Household { grid: Some(g) }, Access::Read));
    if !any {
        return Err(caller.refusal());
    }
    let limit = q.limit.unwrap_or(100).min(10_000);
    let offset = q.offset.unwrap_or(0);
    let snap = st.current();
    let p = caller.principal.clone();
    let grid = q.grid.clone();
    let (total, items, full) = tokio::task::spawn_blocking(move || {
        let mut total = 0;
        let mut items = Vec::new();
        let mut full = 0usize;
        for (i, h) in snap.district.households.iter().enumerate() {
            let g = grid_of(&snap, h);
            if grid.as_deref().is_some_and(|f| Some(f) != g.as_deref())
                || !gridgov_spatial::access::allows(
                    &p,
                    &Thing::Household { grid: g.as_deref() },
                    Access::Read,
                )
            {
                continue;
            }
            total += 1;
            if total > offset && items.len() < limit {
                let f = sees_personal(&p, g.as_deref());
                full += usize::from(f);
                items.push(view(&snap, i, h, f, g.as_deref()));
            }
        }
        (total, items, full)
    })
    .await
    .map_err(ApiError::internal)?;
    if full > 0 {
        let object = match &q.grid {
            Some(g) => format!("/households?grid={g}"),
            None => "/households".into(),
        };
        record(
            &st,
            vec![caller.audit(
                "read_personal",
                &object,
                format!("{full} households in full (offset {offset})"),
            )],
        )
        .await;
    }
    Ok(Json(json!({ "total": total, "offset": offset, "households": items })).into_response())
}

pub(crate) fn index_of(id: &str, n: usize) -> Result<usize, ApiError> {
    id.parse::<usize>()
        .ok()
        .filter(|i| (1..=n).contains(i))
        .map(|i| i - 1)
        .ok_or_else(|| ApiError::not_found(format!("there is no household {id:?}")))
}

/// `GET /households/{id}`.
#[utoipa::path(
    get,
    path = "/households/{id}",
    tag = "households",
    summary = "One household",
    params(
        ("id" = String, Path, description = "the household id"),
    ),
    responses(
        (status = 200, description = "the household", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such household", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let snap = st.current();
    let i = index_of(&id, snap.district.households.len())?;
    let h = &snap.district.households[i];
    let g = grid_of(&snap, h);
    caller.require(&Thing::Household { grid: g.as_deref() }, Access::Read)?;
    let full = sees_personal(&caller.principal, g.as_deref());
    let v = view(&snap, i, h, full, g.as_deref());
    let etag = gridgov_app::households::household_etag(h);
    if full {
        record(
            &st,
            vec![caller.audit(
                "read_personal",
                &format!("/households/{}", i + 1),
                "in full",
            )],
        )
        .await;
    }
    Ok(with_etag(Json(v).into_response(), &etag))
}

/// An answer with a household's version as its `ETag`.
fn with_etag(mut r: Response, etag: &str) -> Response {
    if let Ok(v) = axum::http::HeaderValue::from_str(etag) {
        r.headers_mut().insert(axum::http::header::ETAG, v);
    }
    r
}

/// The body of `PUT /households/{id}`: what changes.
// A field left out keeps its value, `null` clears it, a value sets it:
// three cases, hence `Option<Option<_>>` with serde's `default`.
#[allow(clippy::option_option)]
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdIn {
    room: Option<String>,
    headcount: Option<u16>,
    #[serde(default, deserialize_with = "some")]
    head_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    id_number: Option<Option<String>>,
}

/// A present field, `null` included.
#[allow(clippy::option_option)]
fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `PUT /households/{id}` `{room?, headcount?, head_name?, phone?,
/// id_number?}`:
/// grid staff of its grid and admins update a household. With
/// `If-Match: <ETag>` (from `GET /households/{id}`) it is changed only if
/// it is still that version; else 412 with it as it is now.
#[utoipa::path(
    put,
    path = "/households/{id}",
    tag = "households",
    summary = "Change a household",
    params(
        ("id" = String, Path, description = "the household id"),
    ),
    request_body(content = HouseholdIn, description = "room, headcount, head_name, phone, id_number (null clears)", content_type = "application/json"),
    responses(
        (status = 200, description = "the household", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such household", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 412, description = "the household changed since the version in If-Match: nothing written; `current` and `etag` are it as it is now", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is refused (e.g. an ID number with a wrong check character)", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    crate::extract::JsonBody(input): crate::extract::JsonBody<HouseholdIn>,
) -> Result<Response, ApiError> {
    let snap = st.current();
    let i = index_of(&id, snap.district.households.len())?;
    let g = grid_of(&snap, &snap.district.households[i]);
    caller.require(&Thing::Household { grid: g.as_deref() }, Access::Write)?;
    let app = st.app.clone();
    let change = HouseholdChange {
        room: input.room,
        headcount: input.headcount,
        head_name: input.head_name,
        phone: input.phone,
        id_number: input.id_number,
    };
    // The version the change was based on; `*` or none: whatever it is.
    let expected = crate::extract::if_match_tag(&headers)?.filter(|t| t != "*");
    let r = tokio::task::spawn_blocking(move || {
        app.change_household_if(
            gridgov_spatial::HouseholdId(i as u32),
            change,
            expected.as_deref(),
        )
    })
    .await?;
    let snap = st.current();
    let h = match r {
        Ok(h) => h,
        // Both versions stay: the caller has theirs, this is the other.
        Err(gridgov_app::HouseholdError::Changed { id, current }) => {
            let now = view(&snap, id, &current, true, g.as_deref());
            let etag = gridgov_app::households::household_etag(&current);
            return Err(
                ApiError::from(gridgov_app::HouseholdError::Changed { id, current })
                    .member("current", now)
                    .member("etag", etag),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let etag = gridgov_app::households::household_etag(&h);
    Ok(with_etag(
        Json(view(&snap, i, &h, true, g.as_deref())).into_response(),
        &etag,
    ))
}

/// The body of `PUT /units/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitIn {
    label: Option<String>,
    households: Option<u32>,
}

/// `PUT /units/{id}` `{label?, households?}`: grid staff of its grid and
/// admins correct a unit's label or its number of households.
#[utoipa::path(
    put,
    path = "/units/{id}",
    tag = "households",
    summary = "Correct a unit's label or household count",
    params(
        ("id" = String, Path, description = "the unit id"),
    ),
    request_body(content = UnitIn, description = "label, households", content_type = "application/json"),
    responses(
        (status = 200, description = "the unit", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such unit", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is refused", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_unit(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    crate::extract::JsonBody(input): crate::extract::JsonBody<UnitIn>,
) -> Result<Response, ApiError> {
    let snap = st.current();
    let n = snap.district.units.len();
    let i = id
        .parse::<usize>()
        .ok()
        .filter(|i| (1..=n).contains(i))
        .map(|i| i - 1)
        .ok_or_else(|| ApiError::not_found(format!("there is no unit {id:?}")))?;
    let g = snap.assignment.units[i]
        .responsible()
        .map(|a| snap.district.area(a).code.clone());
    // A unit's roster is household data of its grid.
    caller.require(&Thing::Household { grid: g.as_deref() }, Access::Write)?;
    let app = st.app.clone();
    let edit = UnitEdit {
        label: input.label,
        households: input.households,
    };
    let u = tokio::task::spawn_blocking(move || {
        app.change_unit(gridgov_spatial::UnitId(i as u32), edit)
    })
    .await??;
    let d = &st.current().district;
    Ok(Json(json!({
        "id": i + 1,
        "grid": g,
        "building": d.buildings[u.building.index()].code,
        "label": u.label,
        "households": u.households,
    }))
    .into_response())
}

/// A building leader as sent: the role is a building leader's.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaderIn {
    /// One of the district's roles for buildings (`GET /roles`, scope
    /// `building`); default: the first of them (`building_leader`).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    role: Option<gridgov_spatial::StaffRole>,
    /// Full name.
    name: String,
    /// Contact phone number.
    phone: String,
    /// A party member (红色楼栋长).
    #[serde(default)]
    party_member: bool,
}

/// The body of `PUT /buildings/{code}/leaders`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadersIn {
    /// The whole list (empty: none).
    leaders: Vec<LeaderIn>,
}

/// `PUT /buildings/{code}/leaders` `{leaders: [{name, phone,
/// party_member}]}`: grid staff of the building's grid and admins replace
/// its building leaders.
#[utoipa::path(
    put,
    path = "/buildings/{code}/leaders",
    tag = "households",
    summary = "Replace a building's leaders (楼栋长)",
    params(
        ("code" = String, Path, description = "the building code"),
    ),
    request_body(content = LeadersIn, description = "the building's leaders", content_type = "application/json"),
    responses(
        (status = 200, description = "the building with its leaders", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter or body, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such building", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is refused", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_leaders(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(code): Path<String>,
    crate::extract::JsonBody(input): crate::extract::JsonBody<LeadersIn>,
) -> Result<Response, ApiError> {
    let snap = st.current();
    let i = snap
        .district
        .buildings
        .iter()
        .position(|b| b.code == code)
        .ok_or_else(|| ApiError::not_found(format!("there is no building {code:?}")))?;
    let g = snap.assignment.buildings[i]
        .placement
        .responsible()
        .map(|a| snap.district.area(a).code.clone());
    // A building's leaders are kept by its grid's staff, like its roster.
    caller.require(&Thing::Household { grid: g.as_deref() }, Access::Write)?;
    let default_role = snap
        .district
        .roles
        .0
        .iter()
        .find(|r| r.scope == gridgov_spatial::RoleScope::Building)
        .map_or(gridgov_spatial::StaffRole::BUILDING_LEADER, |r| {
            r.code.clone()
        });
    let leaders = input
        .leaders
        .into_iter()
        .map(|l| gridgov_spatial::Staff {
            role: l.role.unwrap_or_else(|| default_role.clone()),
            name: l.name,
            phone: l.phone,
            party_member: l.party_member,
        })
        .collect();
    let app = st.app.clone();
    let b = tokio::task::spawn_blocking(move || {
        app.change_building_leaders(gridgov_spatial::BuildingId(i as u32), leaders)
    })
    .await??;
    Ok(Json(json!({
        "code": b.code,
        "address": b.address,
        "grid": g,
        "leaders": b.leaders,
    }))
    .into_response())
}

/// The body of `POST /households/{id}/visits`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitIn {
    /// The local day of the visit (`YYYY-MM-DD`; default today).
    date: Option<String>,
    /// What was found or agreed.
    #[serde(default)]
    note: String,
    /// A photo of this household kept before (`POST /households/{id}/photos`).
    photo: Option<i64>,
}

/// `POST /households/{id}/visits` `{date?, note}`: grid staff of the
/// household's grid (and admins) record a visit. Append-only: a record is
/// never changed or deleted; the write is audited.
#[utoipa::path(
    post,
    path = "/households/{id}/visits",
    tag = "households",
    summary = "Record a visit to a household",
    params(
        ("id" = String, Path, description = "the household id"),
    ),
    request_body(content = VisitIn, description = "date (default today), note", content_type = "application/json"),
    responses(
        (status = 201, description = "the visit as recorded", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad body", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such household", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is refused (a day in the future or too long ago, a note too long)", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_visit(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    crate::extract::JsonBody(input): crate::extract::JsonBody<VisitIn>,
) -> Response {
    // A visit sent again with the same `Idempotency-Key` (a phone whose
    // answer was lost) is recorded once.
    let who = caller.principal.user.clone();
    let st2 = st.clone();
    super::idempotency::once(&st2, &who, &headers, "visits", async move {
        record_visit(st, caller, id, input)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

async fn record_visit(
    st: Arc<AppState>,
    caller: Caller,
    id: String,
    input: VisitIn,
) -> Result<Response, ApiError> {
    let snap = st.current();
    let i = index_of(&id, snap.district.households.len())?;
    let g = grid_of(&snap, &snap.district.households[i]);
    caller.require(&Thing::Household { grid: g.as_deref() }, Access::Write)?;
    let now = st.app.now();
    let v = gridgov_app::visits::NewVisit {
        household: gridgov_spatial::HouseholdId(u32::try_from(i).map_err(ApiError::internal)?),
        date: input.date.unwrap_or_else(|| {
            gridgov_spatial::period::date(gridgov_spatial::time::local_day(
                now,
                gridgov_spatial::time::CHINA_OFFSET_S,
            ))
        }),
        by: caller.principal.user.clone(),
        note: input.note,
        photo: input.photo,
        recorded_at: now,
    };
    let app = st.app.clone();
    let visit = tokio::task::spawn_blocking(move || app.record_visit(&v)).await??;
    Ok((
        axum::http::StatusCode::CREATED,
        [(
            axum::http::header::LOCATION,
            format!("/households/{}/visits", i + 1),
        )],
        Json(visit),
    )
        .into_response())
}

/// `GET /households/{id}/visits`: the visits to a household, oldest
/// first, for those who see its personal data (the read is audited).
#[utoipa::path(
    get,
    path = "/households/{id}/visits",
    tag = "households",
    summary = "The visits to a household",
    params(
        ("id" = String, Path, description = "the household id"),
    ),
    responses(
        (status = 200, description = "the visits", body = serde_json::Value, content_type = "application/json"),
        (status = 404, description = "no such household", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_visits(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let snap = st.current();
    let i = index_of(&id, snap.district.households.len())?;
    let g = grid_of(&snap, &snap.district.households[i]);
    // The notes are about the people: only those who see them in full.
    if !sees_personal(&caller.principal, g.as_deref()) {
        return Err(caller.refusal());
    }
    let app = st.app.clone();
    let visits = tokio::task::spawn_blocking(move || {
        app.visits(gridgov_spatial::HouseholdId(
            u32::try_from(i).unwrap_or(u32::MAX),
        ))
    })
    .await??;
    let object = format!("/households/{}/visits", i + 1);
    record(
        &st,
        vec![caller.audit("read_personal", &object, format!("{} visits", visits.len()))],
    )
    .await;
    Ok(Json(json!({ "household": i + 1, "grid": g, "visits": visits })).into_response())
}
