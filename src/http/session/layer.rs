//! The session layer: who is asking (with the idle and absolute timeouts, on the storage's
//! clock), and CSRF enforced before any handler runs.

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{
    AnonymousCsrf, Session,
    cookies::{CSRF_COOKIE, SESSION_COOKIE, bearer, cookie},
    csrf::check_csrf,
    token_hash,
};
use crate::{
    http::{
        AppState,
        error::{ApiError, AppError},
    },
    storage::SessionKind,
};

/// Loads the session (checking its idle and absolute timeouts) and enforces CSRF on every
/// state-changing request.
pub(crate) async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match authenticate(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(error) if request_wants_json(&error.1) => ApiError(error.0).into_response(),
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
    let seconds = |age: std::time::Duration| age.as_secs() as i64;
    let kind = record.kind();
    let idle = at - record.last_seen_at;
    // A script's token lasts while it is used; a browser session ends when idle or too old.
    let expired = match kind {
        Some(SessionKind::Api) => idle > seconds(state.config.token_idle),
        _ => {
            idle > seconds(state.config.session_idle)
                || at - record.created_at > seconds(state.config.session_max)
        }
    };
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
