//! The one error type of the service, answered as RFC 7807
//! problem+json. Every application error converts into it (`From`), and
//! so do the framework's rejections (through the extractors in
//! `extract.rs`). Internal errors keep their cause for the log and send
//! none of it: the logging happens in the middleware that sees the
//! answer (`harden::guard`), not where the error is made.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_app::StoreError;
use gridgov_app::accounts::AccountError;
use gridgov_app::boundaries::BoundaryError;
use gridgov_app::cases::CaseError;
use gridgov_spatial::workflow::TransitionError;
use serde::Serialize;
use serde_json::{Map, Value};

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Short, stable summary.
    pub title: &'static str,
    /// What exactly went wrong, for people.
    pub detail: String,
    /// The parameter, field or feature at fault.
    pub field: Option<String>,
    /// Extension members (RFC 7807 §3.2), such as the steps a case allows.
    pub members: Map<String, Value>,
    /// What failed on our side: logged, never sent.
    pub cause: Option<String>,
}

impl Default for ApiError {
    fn default() -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Internal error",
            detail: "the server failed to answer; the error is logged".into(),
            field: None,
            members: Map::new(),
            cause: None,
        }
    }
}

/// The cause of a 5xx answer, handed to the logging middleware in the
/// response's extensions.
#[derive(Debug, Clone)]
pub struct InternalCause(pub String);

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    /// 400 with the parameter or field at fault.
    pub fn bad_request(field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            title: "Bad request",
            detail: detail.into(),
            field: Some(field.into()),
            ..ApiError::default()
        }
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            detail: detail.into(),
            ..ApiError::default()
        }
    }

    /// 500: something on our side; the cause is logged, not sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError {
            cause: Some(cause.to_string()),
            ..ApiError::default()
        }
    }

    /// 415.
    pub fn unsupported_media(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            title: "Unsupported media type",
            detail: detail.into(),
            ..ApiError::default()
        }
    }

    /// Any status, with the standard reason as the title.
    pub fn with_status(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            title: status.canonical_reason().unwrap_or("Error"),
            detail: detail.into(),
            ..ApiError::default()
        }
    }

    /// 409: the resource is not in a state that allows the request.
    pub fn conflict(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::CONFLICT,
            title: "Conflict",
            detail: detail.into(),
            ..ApiError::default()
        }
    }

    /// 422: well-formed, but the content is wrong.
    pub fn unprocessable(field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "Unprocessable content",
            detail: detail.into(),
            field: Some(field.into()),
            ..ApiError::default()
        }
    }

    /// The same with an extension member.
    #[must_use]
    pub fn member(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.members.insert(name.to_owned(), value.into());
        self
    }

    fn body(&self) -> Vec<u8> {
        let p = Problem {
            kind: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            field: self.field.as_deref(),
        };
        let mut v = serde_json::to_value(p).unwrap_or_default();
        if let Value::Object(o) = &mut v {
            for (k, x) in &self.members {
                o.entry(k.clone()).or_insert_with(|| x.clone());
            }
        }
        serde_json::to_vec(&v).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(c) = self.cause {
            r.extensions_mut().insert(InternalCause(c));
        }
        r
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl From<BoundaryError> for ApiError {
    fn from(e: BoundaryError) -> Self {
        let detail = e.to_string();
        match e {
            BoundaryError::Invalid { field, .. } => ApiError::bad_request(field, detail),
            BoundaryError::Unacceptable { field, .. } => ApiError::unprocessable(field, detail),
            BoundaryError::AddsErrors(errors) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "The change adds topology errors",
                detail: errors.join("; "),
                field: Some("changes".into()),
                ..ApiError::default()
            },
            BoundaryError::NotFound(_) => ApiError::not_found(detail),
            BoundaryError::Conflict(_) => ApiError {
                status: StatusCode::PRECONDITION_FAILED,
                title: "Changed since read",
                detail,
                field: Some("base_version".into()),
                ..ApiError::default()
            },
            BoundaryError::AlreadyPublished { .. } => ApiError {
                status: StatusCode::CONFLICT,
                title: "Already published",
                detail,
                ..ApiError::default()
            },
            BoundaryError::NothingToRollBack(_) => ApiError {
                status: StatusCode::CONFLICT,
                title: "Nothing to roll back",
                detail,
                ..ApiError::default()
            },
            BoundaryError::Cancelled(_) => ApiError::with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "the request ended before the check finished",
            ),
            BoundaryError::Store(s) => ApiError::internal(s),
        }
    }
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::NotFound(id) => ApiError::not_found(format!("there is no incident {id}")),
            CaseError::Transition {
                case,
                source:
                    TransitionError::Illegal {
                        from,
                        attempted,
                        allowed,
                    },
            } => {
                let what = if allowed.is_empty() {
                    "nothing (the case is finished)".to_string()
                } else {
                    allowed.join(", ")
                };
                ApiError::conflict(format!(
                    "incident {case} is {from}: it cannot {attempted}; allowed: {what}"
                ))
                .member("status_now", from)
                .member("allowed", allowed)
            }
            CaseError::Transition {
                source: TransitionError::Invalid(msg),
                ..
            } => ApiError::unprocessable("action", msg),
            CaseError::Conflict {
                case,
                expected,
                current,
            } => ApiError::conflict(format!(
                "incident {case} has moved on: you saw step {expected}, it is at step {current}; read it again"
            ))
            .member("seq", current),
            CaseError::Invalid(msg) => ApiError::bad_request("body", msg),
            CaseError::Store(e) => ApiError::internal(e),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::BadName(_)
            | AccountError::Reserved(_)
            | AccountError::BadPassword
            | AccountError::BadAssignment(_) => ApiError::unprocessable("body", e.to_string()),
            AccountError::Exists(_) => ApiError::conflict(e.to_string()),
            AccountError::NoUser(_) | AccountError::NoToken(_) => {
                ApiError::not_found(e.to_string())
            }
            AccountError::BadLogin | AccountError::BadToken => {
                ApiError::with_status(StatusCode::UNAUTHORIZED, e.to_string())
            }
            AccountError::Crypto(_) | AccountError::Store(_) => ApiError::internal(e),
        }
    }
}

impl From<gridgov_app::HouseholdError> for ApiError {
    fn from(e: gridgov_app::HouseholdError) -> Self {
        match e {
            gridgov_app::HouseholdError::NotFound(m) => ApiError::not_found(m),
            gridgov_app::HouseholdError::Invalid { field, message } => {
                ApiError::unprocessable(field, message)
            }
            gridgov_app::HouseholdError::Store(s) => ApiError::internal(s),
        }
    }
}

impl From<gridgov_app::report::ReportError> for ApiError {
    fn from(e: gridgov_app::report::ReportError) -> Self {
        ApiError::bad_request("report", e.to_string())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(e)
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request("query", r.body_text())
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(r: axum::extract::rejection::BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                title: "Payload too large",
                detail: r.body_text(),
                ..ApiError::default()
            }
        } else {
            ApiError::bad_request("body", r.body_text())
        }
    }
}
