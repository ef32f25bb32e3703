//! Extractors whose rejections are [`ApiError`]s, so that a body or query
//! that cannot be read is answered as problem+json naming what is wrong,
//! like every other error.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body. Read whatever the `Content-Type` says (clients of the
/// hotline platform send none): a body that is not the JSON expected is
/// a 400 naming the field serde stopped at.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request("body", format!("not the JSON expected: {e}")))
    }
}

/// The query string.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(ApiError::from)
    }
}

/// Path parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|r| ApiError::bad_request("path", r.body_text()))
    }
}

/// The language to answer a person in: `?lang=` when it names one, else
/// the request's `Accept-Language`, else Chinese.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UiLang(pub gridgov_spatial::i18n::Lang);

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(UiLang(lang_of(&parts.uri, &parts.headers)))
    }
}

/// The entity tag a request's `If-Match` names, as sent (a weak `W/`
/// prefix dropped; `*` as it is); `None` without the header.
pub fn if_match_tag(headers: &axum::http::HeaderMap) -> Result<Option<String>, crate::ApiError> {
    let Some(v) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| crate::ApiError::bad_request("If-Match", "If-Match is not text"))?
        .trim()
        .trim_start_matches("W/");
    Ok(Some(v.to_owned()))
}

/// The language a request asks to be answered in: `?lang=` when it names
/// one, else its `Accept-Language`, else Chinese.
pub fn lang_of(
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
) -> gridgov_spatial::i18n::Lang {
    let query = uri.query().and_then(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v)
    });
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    gridgov_spatial::i18n::Lang::negotiate(query.as_deref(), accept)
}
