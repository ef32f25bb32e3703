//! Households (户) and units (单元) over HTTP, grid by grid: grid staff
//! read and update those of their grids, admins all. Names, phone numbers
//! and ID numbers are shown in full only to them ([`gridgov_spatial::access::sees_personal`]); each
//! answer that shows them in full is written to the audit log.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use gridgov_spatial::access::{Access, Thing, sees_personal};
use gridgov_spatial::{Household, mask};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Caller, record};
use super::{ApiError, AppState, Snapshot};

/// The grid code of a household's unit.
fn grid_of(snap: &Snapshot, h: &Household) -> Option<String> {
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
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    grid: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

/// `GET /households?grid=&limit=&offset=`: the households the caller may
/// read.
pub async fn list(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q?;
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

fn index_of(id: &str, n: usize) -> Result<usize, ApiError> {
    id.parse::<usize>()
        .ok()
        .filter(|i| (1..=n).contains(i))
        .map(|i| i - 1)
        .ok_or_else(|| ApiError::not_found(format!("there is no household {id:?}")))
}

/// `GET /households/{id}`.
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
    Ok(Json(v).into_response())
}

/// The body of `PUT /households/{id}`: what changes.
// A field left out keeps its value, `null` clears it, a value sets it:
// three cases, hence `Option<Option<_>>` with serde's `default`.
#[allow(clippy::option_option)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HouseholdIn {
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

fn check(h: &Household) -> Result<(), ApiError> {
    let short = |v: &Option<String>, f: &str, n: usize| match v {
        Some(s) if s.chars().count() > n || s.chars().any(char::is_control) => Err(
            ApiError::unprocessable(f, format!("{f} must be at most {n} printable characters")),
        ),
        _ => Ok(()),
    };
    short(&Some(h.room.clone()), "room", 32)?;
    short(&h.head_name, "head_name", 64)?;
    short(&h.phone, "phone", 32)?;
    if h.phone.as_deref().is_some_and(|p| {
        !p.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
    }) {
        return Err(ApiError::unprocessable(
            "phone",
            "a phone number has digits, `+`, `-` and spaces only",
        ));
    }
    if let Some(n) = &h.id_number {
        gridgov_spatial::idcard::check_resident_id(n)
            .map_err(|e| ApiError::unprocessable("id_number", e.to_string()))?;
    }
    Ok(())
}

/// `PUT /households/{id}` `{room?, headcount?, head_name?, phone?,
/// id_number?}`:
/// grid staff of its grid and admins update a household.
pub async fn put(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    b: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let input: HouseholdIn = serde_json::from_slice(&b)
        .map_err(|e| ApiError::bad_request("body", format!("not a household change: {e}")))?;
    let snap = st.current();
    let i = index_of(&id, snap.district.households.len())?;
    let g = grid_of(&snap, &snap.district.households[i]);
    caller.require(&Thing::Household { grid: g.as_deref() }, Access::Write)?;
    let st2 = st.clone();
    let h = tokio::task::spawn_blocking(move || {
        let _g = st2
            .refresh_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let cur = st2.current();
        let mut h = cur.district.households[i].clone();
        if let Some(r) = input.room {
            h.room = r;
        }
        if let Some(n) = input.headcount {
            h.headcount = n;
        }
        if let Some(n) = input.head_name {
            h.head_name = n;
        }
        if let Some(p) = input.phone {
            h.phone = p;
        }
        if let Some(n) = input.id_number {
            // One spelling in the store: a check character `x` is `X`.
            h.id_number = n.map(|n| n.to_ascii_uppercase());
        }
        check(&h)?;
        if !st2
            .store
            .update_household(i, &h)
            .map_err(ApiError::internal)?
        {
            return Err(ApiError::not_found(format!(
                "there is no household {}",
                i + 1
            )));
        }
        let h2 = h.clone();
        st2.swap(cur.with_change(|d| d.households[i] = h2));
        Ok(h)
    })
    .await
    .map_err(ApiError::internal)??;
    let snap = st.current();
    Ok(Json(view(&snap, i, &h, true, g.as_deref())).into_response())
}

/// The body of `PUT /units/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitIn {
    label: Option<String>,
    households: Option<u32>,
}

/// `PUT /units/{id}` `{label?, households?}`: grid staff of its grid and
/// admins correct a unit's label or its number of households.
pub async fn put_unit(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    b: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let input: UnitIn = serde_json::from_slice(&b)
        .map_err(|e| ApiError::bad_request("body", format!("not a unit change: {e}")))?;
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
    if input.label.as_deref().is_some_and(|l| {
        l.trim().is_empty() || l.chars().count() > 32 || l.chars().any(char::is_control)
    }) {
        return Err(ApiError::unprocessable(
            "label",
            "a unit label has 1 to 32 printable characters",
        ));
    }
    if input.households.is_some_and(|h| h > 10_000) {
        return Err(ApiError::unprocessable(
            "households",
            "a unit has at most 10,000 households",
        ));
    }
    let st2 = st.clone();
    let u = tokio::task::spawn_blocking(move || {
        let _g = st2
            .refresh_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let cur = st2.current();
        let mut u = cur.district.units[i].clone();
        if let Some(l) = input.label {
            u.label = l;
        }
        if let Some(h) = input.households {
            u.households = h;
        }
        if !st2
            .store
            .update_unit(i, &u.label, u.households)
            .map_err(ApiError::internal)?
        {
            return Err(ApiError::not_found(format!("there is no unit {}", i + 1)));
        }
        let u2 = u.clone();
        st2.swap(cur.with_change(|d| d.units[i] = u2));
        Ok(u)
    })
    .await
    .map_err(ApiError::internal)??;
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
