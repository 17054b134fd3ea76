//! Sessions, cookies and CSRF.
//!
//! A browser session is a random token in an HttpOnly cookie; the database keeps only its
//! SHA-256. Every state-changing request carries a CSRF token: the session's own (synchroniser
//! pattern) once signed in, or a double-submit cookie on the anonymous sign-in and setup forms.
//! API clients send `Authorization: Bearer`, which a browser never adds by itself, so they need
//! no CSRF token.

mod cookies;
mod csrf;
mod layer;

use axum::{extract::FromRequestParts, http::request::Parts};

pub use crate::accounts::{random_token, token_hash};
use crate::{domain::Id, storage::SessionKind};
pub(crate) use cookies::{SESSION_COOKIE, set_cookie};
pub(crate) use csrf::{CSRF_FIELD, FormToken, verify_csrf};
pub(crate) use layer::layer;

/// The signed-in principal of this request, put in the request's extensions by [`layer`].
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) token_hash: String,
    pub(crate) kind: SessionKind,
    pub(crate) principal_id: Id,
    pub(crate) csrf: String,
}

/// The anonymous double-submit token, when the request carried one.
#[derive(Debug, Clone)]
pub(crate) struct AnonymousCsrf(pub Option<String>);

/// Extractor: the request's session, if any.
pub(crate) struct MaybeSession(pub Option<Session>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(parts.extensions.get::<Session>().cloned()))
    }
}
