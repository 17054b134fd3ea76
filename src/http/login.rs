//! Administrator sign-in and sign-out.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    AppState,
    auth::{ClientAddress, password_matches, start_session},
    error::AppResult,
    session::{FormToken, MaybeSession, SESSION_COOKIE, set_cookie},
};
use crate::{domain::Email, storage::SessionKind};

#[derive(Template, WebTemplate)]
#[template(path = "pages/login.html")]
pub struct LoginPage {
    pub heading: &'static str,
    pub action: &'static str,
    pub csrf: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
}

/// The sign-in page, setting the anonymous CSRF cookie when the browser has none.
pub fn login_page(page: LoginPage, token: &FormToken, status: StatusCode) -> Response {
    token.attach((status, page).into_response())
}

pub async fn form(token: FormToken, MaybeSession(session): MaybeSession) -> Response {
    if session.is_some_and(|s| s.kind == SessionKind::Admin) {
        return Redirect::to("/admin").into_response();
    }
    let page = LoginPage {
        heading: "Sign in to the Admin Center",
        action: "/login",
        csrf: token.value.clone(),
        email: String::new(),
        error: None,
    };
    login_page(page, &token, StatusCode::OK)
}

/// The same words for an unknown address and a wrong password, so the page does not tell
/// which addresses exist.
pub const WRONG_CREDENTIALS: &str = "The email or password is not right.";

pub async fn submit(
    State(state): State<AppState>,
    token: FormToken,
    MaybeSession(previous): MaybeSession,
    ClientAddress(address): ClientAddress,
    Form(credentials): Form<Credentials>,
) -> AppResult<Response> {
    state.throttle.attempt(&credentials.email, address)?;
    let admin = match Email::parse(&credentials.email) {
        Ok(email) => state.storage.admin_by_email(&email).await?,
        Err(_) => None,
    };
    let hash = admin.as_ref().map(|a| a.password_hash.clone());
    let verified = password_matches(hash, credentials.password).await;
    let Some(admin) = admin.filter(|_| verified) else {
        let page = LoginPage {
            heading: "Sign in to the Admin Center",
            action: "/login",
            csrf: token.value.clone(),
            email: credentials.email,
            error: Some(WRONG_CREDENTIALS.into()),
        };
        return Ok(login_page(page, &token, StatusCode::UNAUTHORIZED));
    };
    let session_token =
        start_session(&state, SessionKind::Admin, admin.id, previous.as_ref()).await?;
    tracing::info!(admin_id = admin.id, "administrator signed in");
    let cookie = set_cookie(
        SESSION_COOKIE,
        &session_token,
        state.config.session_max.as_secs(),
        state.config.secure_cookies,
    );
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/admin")).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> AppResult<Response> {
    if let Some(session) = session {
        state.storage.delete_session(&session.token_hash).await?;
    }
    let cookie = set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}
