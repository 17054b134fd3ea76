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
pub use cookies::{CSRF_COOKIE, SESSION_COOKIE, cookie, set_cookie};
pub use csrf::{CSRF_FIELD, CSRF_HEADER, FormToken, verify_csrf};
pub use layer::layer;

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

/// Extractor: the request's session, if any.
pub struct MaybeSession(pub Option<Session>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(parts.extensions.get::<Session>().cloned()))
    }
}
