//! Sessions, cookies and CSRF.
//!
//! A browser session is a random token in an HttpOnly cookie; the database keeps only its
//! SHA-256. Every state-changing request carries a CSRF token: the session's own (synchroniser
//! pattern) once signed in, or a double-submit cookie on the anonymous sign-in and setup forms.
//! API clients send `Authorization: Bearer`, which a browser never adds by itself, so they need
//! no CSRF token.

use axum::{
    body::Body,
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{AppState, error::AppError};
pub use crate::accounts::{random_token, token_hash};
use crate::{domain::Id, storage::SessionKind};

pub const SESSION_COOKIE: &str = "roster_session";
pub const CSRF_COOKIE: &str = "roster_csrf";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Form bodies are buffered to read their CSRF field; real forms are far smaller.
const MAX_FORM_BYTES: usize = 1 << 20;

/// The signed-in principal of this request, put in the request's extensions by [`layer`].
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub kind: SessionKind,
    pub principal_id: Id,
    pub csrf: String,
}

/// The anonymous double-submit token, when the request carried one.
#[derive(Debug, Clone)]
pub struct AnonymousCsrf(pub Option<String>);

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// `Set-Cookie` for one of our cookies. `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Loads the session (checking its idle and absolute timeouts) and enforces CSRF on every
/// state-changing request.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match authenticate(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(error) if request_wants_json(&error.1) => {
            super::error::ApiError(error.0).into_response()
        }
        Err(error) => error.0.into_response(),
    }
}

fn request_wants_json(path: &str) -> bool {
    path.starts_with("/api/")
}

async fn authenticate(state: &AppState, request: Request) -> Result<Request, (AppError, String)> {
    let path = request.uri().path().to_owned();
    let fail = |error: AppError| (error, path.clone());
    let via_bearer = bearer(request.headers()).is_some();
    let token = bearer(request.headers())
        .or_else(|| cookie(request.headers(), SESSION_COOKIE))
        .map(str::to_owned);
    let session = match token {
        Some(token) => load(state, &token, via_bearer).await.map_err(fail)?,
        None => None,
    };
    let anonymous_csrf = AnonymousCsrf(cookie(request.headers(), CSRF_COOKIE).map(str::to_owned));

    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let mut request = if unsafe_method && !via_bearer {
        let expected = match &session {
            Some(session) => Some(session.csrf.clone()),
            None => anonymous_csrf.0.clone(),
        };
        check_csrf(request, expected.as_deref())
            .await
            .map_err(fail)?
    } else {
        request
    };
    request.extensions_mut().insert(anonymous_csrf);
    if let Some(session) = session {
        request.extensions_mut().insert(session);
    }
    Ok(request)
}

async fn load(
    state: &AppState,
    token: &str,
    via_bearer: bool,
) -> Result<Option<Session>, AppError> {
    let hash = token_hash(token);
    let Some(record) = state.storage.session(&hash).await? else {
        return Ok(None);
    };
    let at = state.storage.clock().now();
    let idle = state.config.session_idle.as_secs() as i64;
    let max = state.config.session_max.as_secs() as i64;
    let kind = record.kind();
    // API tokens are long-lived by design; browser sessions end when idle or too old.
    let expired = kind != Some(SessionKind::Api)
        && (at - record.last_seen_at > idle || at - record.created_at > max);
    let usable = match kind {
        Some(SessionKind::Api) => via_bearer,
        Some(_) => !via_bearer,
        None => false,
    };
    if expired || !usable {
        if expired {
            state.storage.delete_session(&hash).await?;
        }
        return Ok(None);
    }
    // Writing on every request would turn each page view into a database write.
    if at - record.last_seen_at >= 60 {
        state.storage.touch_session(&hash, at).await?;
    }
    Ok(kind.map(|kind| Session {
        token_hash: hash,
        kind,
        principal_id: record.principal_id,
        csrf: record.csrf_token,
    }))
}

/// Forms carry the token in a `csrf` field; scripts in an `X-CSRF-Token` header. Multipart
/// uploads are checked by their handler, which reads the `csrf` field before the file.
async fn check_csrf(request: Request, expected: Option<&str>) -> Result<Request, AppError> {
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
pub fn verify_csrf(session: &Session, provided: &str) -> Result<(), AppError> {
    if constant_time_eq(provided, &session.csrf) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "This form has expired or did not come from Roster. Reload the page and submit it again.",
        ))
    }
}

/// Extractor: the request's session, if any.
pub struct MaybeSession(pub Option<Session>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(parts.extensions.get::<Session>().cloned()))
    }
}

/// Extractor: the anonymous CSRF token, made fresh when the browser has none yet.
pub struct FormToken {
    pub value: String,
    /// Some when the cookie must be (re)set with the response.
    pub set_cookie: Option<String>,
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
    pub fn attach(&self, mut response: Response) -> Response {
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
