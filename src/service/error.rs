//! One error type for the service, answered as RFC 7807 problem+json.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

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
}

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
        }
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            detail: detail.into(),
            field: None,
        }
    }

    /// 500: something on our side; the detail is logged, not leaked.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Internal error",
            detail: "the server failed to answer; the error is logged".into(),
            field: None,
        }
    }

    /// 415.
    pub fn unsupported_media(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            title: "Unsupported media type",
            detail: detail.into(),
            field: None,
        }
    }
}

impl ApiError {
    /// Any status, with the standard reason as the title.
    pub fn with_status(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            title: status.canonical_reason().unwrap_or("Error"),
            detail: detail.into(),
            field: None,
        }
    }

    /// 409: the resource is not in a state that allows the request.
    pub fn conflict(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::CONFLICT,
            title: "Conflict",
            detail: detail.into(),
            field: None,
        }
    }

    /// 422: well-formed, but the content is wrong.
    pub fn unprocessable(field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "Unprocessable content",
            detail: detail.into(),
            field: Some(field.into()),
        }
    }

    /// The problem with extension members (RFC 7807 §3.2) such as the
    /// steps a case allows.
    pub fn with_members(self, members: serde_json::Map<String, serde_json::Value>) -> Response {
        let mut v = serde_json::to_value(self.problem()).unwrap_or_default();
        if let serde_json::Value::Object(o) = &mut v {
            for (k, x) in members {
                o.entry(k).or_insert(x);
            }
        }
        self.respond(serde_json::to_vec(&v).unwrap_or_default())
    }

    fn problem(&self) -> Problem<'_> {
        Problem {
            kind: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            field: self.field.as_deref(),
        }
    }

    fn respond(&self, body: Vec<u8>) -> Response {
        let mut r = (self.status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        r
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        self.respond(body)
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
                field: None,
            }
        } else {
            ApiError::bad_request("body", r.body_text())
        }
    }
}
