//! The one error type of the service, answered as RFC 7807
//! problem+json. Every application error converts into it (`From`), and
//! so do the framework's rejections (through the extractors in
//! `extract.rs`). Internal errors keep their cause for the log and send
//! none of it: the logging happens in the middleware that sees the
//! answer (`harden::guard`), not where the error is made.
//!
//! A problem people may read carries a stable `code` and its arguments;
//! [`localize`] answers its title and detail in the caller's language
//! (`?lang=`, `Accept-Language`, else Chinese) from the message catalogue
//! (`problem.<code>`, `problem.title.<status>`). English keeps the
//! sentence made where the error was. Programs read `code`, not `detail`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridgov_app::StoreError;
use gridgov_app::accounts::AccountError;
use gridgov_app::boundaries::BoundaryError;
use gridgov_app::cases::CaseError;
use gridgov_spatial::i18n::{self, Lang};
use gridgov_spatial::workflow::TransitionError;
use serde::Serialize;
use serde_json::{Map, Value};

/// A value in a problem's sentence, shown in the reader's language.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Shown as it is (a number, a name).
    Text(String),
    /// A code shown by its label of a kind: `Label("status", "accepted")`.
    Label(&'static str, String),
    /// Codes shown by their labels, joined.
    Labels(&'static str, Vec<String>),
}

impl Arg {
    fn show(&self, lang: Lang) -> String {
        match self {
            Arg::Text(s) => s.clone(),
            Arg::Label(kind, code) => i18n::label(lang, kind, code).into_owned(),
            Arg::Labels(kind, codes) => codes
                .iter()
                .map(|c| i18n::label(lang, kind, c).into_owned())
                .collect::<Vec<_>>()
                .join(i18n::t(lang, "report.sep")),
        }
    }
}

impl<T: std::fmt::Display> From<&T> for Arg {
    fn from(v: &T) -> Arg {
        Arg::Text(v.to_string())
    }
}

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
    pub cause: Option<Box<str>>,
    /// The stable code of the problem and the values its sentence names
    /// (boxed: errors travel in every `Result`).
    pub coded: Option<Box<Coded>>,
}

/// A problem's stable code (`case.moved_on`), for programs and for the
/// catalogue's sentence, and the values that sentence names.
#[derive(Debug, Clone, PartialEq)]
pub struct Coded {
    /// The code.
    pub code: &'static str,
    /// The `{name}`s of its sentence.
    pub args: Vec<(&'static str, Arg)>,
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
            coded: None,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
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
            cause: Some(cause.to_string().into()),
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

    /// The same with a stable code and the values its sentence names
    /// (`problem.<code>` in the catalogues, `{name}` placeholders).
    #[must_use]
    pub fn coded(mut self, code: &'static str, args: Vec<(&'static str, Arg)>) -> Self {
        self.coded = Some(Box::new(Coded { code, args }));
        self
    }

    /// The problem as told in `lang`: the title of its status and the
    /// sentence of its code from the catalogue; in English, or where the
    /// catalogue has no sentence, the detail as made.
    ///
    /// ```
    /// use gridgov_service::ApiError;
    /// use gridgov_spatial::i18n::Lang;
    /// let e = ApiError::not_found("there is no incident 7")
    ///     .coded("case.not_found", vec![("id", (&7).into())]);
    /// assert_eq!(e.in_lang(Lang::Zh).detail, "没有编号为 7 的事件。");
    /// assert_eq!(e.in_lang(Lang::Zh).title, "未找到");
    /// assert_eq!(e.in_lang(Lang::En).detail, "there is no incident 7");
    /// ```
    #[must_use]
    pub fn in_lang(&self, lang: Lang) -> ApiError {
        let mut e = self.clone();
        if lang == Lang::En {
            return e;
        }
        if let Some(title) = i18n::text(lang, &format!("problem.title.{}", self.status.as_u16())) {
            e.title = title;
        }
        if let Some(c) = &self.coded
            && let Some(sentence) = i18n::text(lang, &format!("problem.{}", c.code))
        {
            let mut d = sentence.to_owned();
            for (name, arg) in &c.args {
                d = d.replace(&format!("{{{name}}}"), &arg.show(lang));
            }
            e.detail = d;
        }
        e
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
            code: self.coded.as_ref().map(|c| c.code),
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
        if let Some(c) = &self.cause {
            r.extensions_mut().insert(InternalCause(c.to_string()));
        }
        r.extensions_mut().insert(Told(self));
        r
    }
}

/// The problem an answer was made from, for [`localize`].
#[derive(Debug, Clone)]
struct Told(ApiError);

/// Middleware: a problem answered in English is told again in the
/// caller's language (`?lang=`, else `Accept-Language`, else Chinese),
/// with the answer's status and headers (`Retry-After`, `Allow`, …) kept.
pub async fn localize(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = crate::extract::lang_of(req.uri(), req.headers());
    let mut res = next.run(req).await;
    let Some(Told(e)) = res.extensions_mut().remove::<Told>() else {
        return res;
    };
    if lang == Lang::En {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    Response::from_parts(parts, axum::body::Body::from(e.in_lang(lang).body()))
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
            }
            .coded("boundary.adds_errors", vec![("n", (&errors.len()).into())])
            .member("errors", errors),
            BoundaryError::NotFound(_) => {
                ApiError::not_found(detail).coded("boundary.not_found", Vec::new())
            }
            BoundaryError::Conflict(_) => ApiError {
                status: StatusCode::PRECONDITION_FAILED,
                title: "Changed since read",
                detail,
                field: Some("base_version".into()),
                ..ApiError::default()
            }
            .coded("boundary.changed", Vec::new()),
            BoundaryError::AlreadyPublished { .. } => ApiError {
                status: StatusCode::CONFLICT,
                title: "Already published",
                detail,
                ..ApiError::default()
            }
            .coded("boundary.already_published", Vec::new()),
            BoundaryError::NothingToRollBack(_) => ApiError {
                status: StatusCode::CONFLICT,
                title: "Nothing to roll back",
                detail,
                ..ApiError::default()
            }
            .coded("boundary.nothing_to_roll_back", Vec::new()),
            BoundaryError::Cancelled(_) => ApiError::with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "the request ended before the check finished",
            )
            .coded("request.cancelled", Vec::new()),
            BoundaryError::Store(s) => ApiError::internal(s),
        }
    }
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::NotFound(id) => ApiError::not_found(format!("there is no incident {id}"))
                .coded("case.not_found", vec![("id", (&id).into())]),
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
                let args = vec![
                    ("case", (&case).into()),
                    ("from", Arg::Label("status", from.to_string())),
                    ("attempted", Arg::Label("action", attempted.to_string())),
                    (
                        "allowed",
                        Arg::Labels("action", allowed.iter().map(ToString::to_string).collect()),
                    ),
                ];
                let code = if allowed.is_empty() {
                    "case.finished"
                } else {
                    "case.illegal"
                };
                ApiError::conflict(format!(
                    "incident {case} is {from}: it cannot {attempted}; allowed: {what}"
                ))
                .coded(code, args)
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
            .coded(
                "case.moved_on",
                vec![
                    ("case", (&case).into()),
                    ("expected", (&expected).into()),
                    ("current", (&current).into()),
                ],
            )
            .member("seq", current),
            CaseError::Invalid(msg) => ApiError::bad_request("body", msg),
            CaseError::Store(e) => ApiError::internal(e),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::BadPassword => ApiError::unprocessable("body", e.to_string()).coded(
                "account.bad_password",
                vec![
                    ("min", (&gridgov_app::accounts::MIN_PASSWORD).into()),
                    ("max", (&gridgov_app::accounts::MAX_PASSWORD).into()),
                ],
            ),
            AccountError::BadName(_)
            | AccountError::Reserved(_)
            | AccountError::BadAssignment(_) => ApiError::unprocessable("body", e.to_string()),
            AccountError::Exists(ref name) => {
                let args = vec![("name", name.into())];
                ApiError::conflict(e.to_string()).coded("account.exists", args)
            }
            AccountError::NoUser(ref name) => {
                let args = vec![("name", name.into())];
                ApiError::not_found(e.to_string()).coded("account.no_user", args)
            }
            AccountError::NoToken(_) => ApiError::not_found(e.to_string()),
            AccountError::BadLogin => {
                ApiError::with_status(StatusCode::UNAUTHORIZED, e.to_string())
                    .coded("account.bad_login", Vec::new())
            }
            AccountError::BadToken => {
                ApiError::with_status(StatusCode::UNAUTHORIZED, e.to_string())
                    .coded("account.bad_token", Vec::new())
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
            e @ gridgov_app::HouseholdError::Changed { .. } => ApiError {
                status: StatusCode::PRECONDITION_FAILED,
                title: "Changed since read",
                detail: e.to_string(),
                field: Some("If-Match".into()),
                ..ApiError::default()
            }
            .coded("household.changed", Vec::new()),
            gridgov_app::HouseholdError::Store(s) => ApiError::internal(s),
        }
    }
}

impl From<gridgov_app::roles::RolesError> for ApiError {
    fn from(e: gridgov_app::roles::RolesError) -> Self {
        match e {
            gridgov_app::roles::RolesError::Invalid(_) => {
                ApiError::unprocessable("roles", e.to_string())
            }
            gridgov_app::roles::RolesError::Store(s) => ApiError::internal(s),
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
