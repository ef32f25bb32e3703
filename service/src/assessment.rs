//! `GET /stats/assessment?period=`: every grid's and staff member's
//! handling figures for a week, month or day range, ranked (see
//! `gridgov_app::report::assessment` for what is counted).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use gridgov_app::cases::Book;
use gridgov_app::report::assessment::assess;
use gridgov_spatial::period::Period;
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;

/// Query of `GET /stats/assessment`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AssessmentQuery {
    /// `2026-W46`, `2026-11` or `2026-11-01..2026-11-15`; default the
    /// current month.
    period: Option<String>,
    /// The time overdue is judged up to (RFC 3339); default now.
    now: Option<String>,
}

/// `GET /stats/assessment`.
#[utoipa::path(
    get,
    path = "/stats/assessment",
    tag = "reports",
    summary = "Assessment: every grid's and staff member's cases, handling times, overdue, reopen and satisfaction, ranked",
    params(AssessmentQuery),
    responses(
        (status = 200, description = "`grids` and `staff`, each ranked", body = serde_json::Value, content_type = "application/json"),
        (status = 400, description = "a bad parameter, named in `field`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the role may not", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn assessment(
    State(st): State<Arc<AppState>>,
    Query(q): Query<AssessmentQuery>,
) -> Result<Response, ApiError> {
    let now = super::now_param(&st, q.now.as_deref())?;
    let offset = gridgov_spatial::period::CHINA_OFFSET_S;
    let period = if let Some(p) = q.period.as_deref() {
        Period::parse(p).map_err(|e| ApiError::bad_request("period", e.to_string()))?
    } else {
        let today = gridgov_spatial::period::local_day(now, offset);
        let date = gridgov_spatial::period::date(today);
        Period::parse(&date[..7]).map_err(ApiError::internal)?
    };
    let a = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let snap = st.current();
        let book = Book::read(st.app.store.as_ref()).map_err(ApiError::internal)?;
        let visits = st.app.store.visits_after(0).map_err(ApiError::internal)?;
        Ok(assess(
            &snap,
            &book,
            &visits,
            &st.app.rules.deadlines,
            period,
            now,
            offset,
        ))
    })
    .await??;
    Ok(axum::Json(a).into_response())
}
