//! CSRF: the layer's check of forms and scripts, the upload's check of its multipart field, and
//! the anonymous forms' double-submit token.

use axum::{
    body::Body,
    extract::{FromRequestParts, Request},
    http::{header, request::Parts},
    response::Response,
};

use super::{
    AnonymousCsrf, Session,
    cookies::{CSRF_COOKIE, set_cookie},
    random_token,
};
use crate::http::{AppState, error::AppError};

pub(crate) const CSRF_FIELD: &str = "csrf";
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// Form bodies are buffered to read their CSRF field; real forms are far smaller.
const MAX_FORM_BYTES: usize = 1 << 20;

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Forms carry the token in a `csrf` field; scripts in an `X-CSRF-Token` header. Multipart
/// uploads are checked by their handler, which reads the `csrf` field before the file.
pub(super) async fn check_csrf(
    request: Request,
    expected: Option<&str>,
) -> Result<Request, AppError> {
    const REFUSED: AppError = AppError::Forbidden(
        "This form has expired or did not come from Roster. Reload the page and submit it again.",
    );
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    // A browser sends JSON cross-site only after a CORS preflight, which Roster never grants;
    // only the API takes JSON, so elsewhere (a delete button's route reads no body at all) JSON
    // is no excuse. Multipart forms can come from anywhere: only the upload routes take them,
    // and their handler checks the `csrf` field before it reads the file.
    let path = request.uri().path();
    if (content_type.starts_with("application/json") && path.starts_with("/api/"))
        || (content_type.starts_with("multipart/form-data") && is_upload_route(path))
    {
        return Ok(request);
    }
    let Some(expected) = expected else {
        return Err(REFUSED);
    };
    if let Some(provided) = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
    {
        return if constant_time_eq(provided, expected) {
            Ok(request)
        } else {
            Err(REFUSED)
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(REFUSED);
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::BadRequest("The form is too large.".into()))?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let provided = fields
        .iter()
        .find(|(key, _)| key == CSRF_FIELD)
        .map(|(_, value)| value.as_str());
    match provided {
        Some(provided) if constant_time_eq(provided, expected) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(REFUSED),
    }
}

/// `/admin/groups/{id}/import` and `/api/v1/groups/{id}/imports`.
fn is_upload_route(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(segments.as_slice(), ["", "admin", "groups", id, "import"] | ["", "api", "v1", "groups", id, "imports"]
        if id.parse::<i64>().is_ok())
}

/// The multipart upload's check of its `csrf` field, against the session's token.
pub(crate) fn verify_csrf(session: &Session, provided: &str) -> Result<(), AppError> {
    if constant_time_eq(provided, &session.csrf) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "This form has expired or did not come from Roster. Reload the page and submit it again.",
        ))
    }
}

/// Extractor: the anonymous CSRF token, made fresh when the browser has none yet.
pub(crate) struct FormToken {
    pub(crate) value: String,
    /// Some when the cookie must be (re)set with the response.
    pub(crate) set_cookie: Option<String>,
}

impl FromRequestParts<AppState> for FormToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Signed in, a form is checked against the session's token (see `authenticate`): a
        // sign-in page shown to a signed-in browser must carry that one.
        let existing = match parts.extensions.get::<Session>() {
            Some(session) => Some(session.csrf.clone()),
            None => parts
                .extensions
                .get::<AnonymousCsrf>()
                .and_then(|csrf| csrf.0.clone()),
        };
        Ok(match existing {
            Some(value) => FormToken {
                value,
                set_cookie: None,
            },
            None => {
                let value = random_token();
                let cookie = set_cookie(CSRF_COOKIE, &value, 86_400, state.config.secure_cookies);
                FormToken {
                    value,
                    set_cookie: Some(cookie),
                }
            }
        })
    }
}

impl FormToken {
    /// Adds the cookie to a response when the browser had none.
    pub(crate) fn attach(&self, mut response: Response) -> Response {
        if let Some(value) = self
            .set_cookie
            .as_ref()
            .and_then(|cookie| cookie.parse().ok())
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }
}
