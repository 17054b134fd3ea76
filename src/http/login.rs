//! Administrator sign-in and sign-out.

use std::net::IpAddr;

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
    auth::ClientAddress,
    error::AppResult,
    session::{FormToken, MaybeSession, SESSION_COOKIE, Session, set_cookie},
};
use crate::{
    accounts::{Attempt, SignInError, sign_in},
    storage::SessionKind,
};

#[derive(Template, WebTemplate)]
#[template(path = "pages/login.html")]
pub(crate) struct LoginPage {
    pub(crate) heading: &'static str,
    pub(crate) action: &'static str,
    pub(crate) csrf: String,
    pub(crate) email: String,
    pub(crate) error: Option<String>,
    /// No master administrator yet: the page says where the setup link is.
    pub(crate) setup_pending: bool,
}

#[derive(Deserialize)]
pub(crate) struct Credentials {
    #[serde(default)]
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) password: String,
}

/// The sign-in page, setting the anonymous CSRF cookie when the browser has none.
pub(crate) fn login_page(page: LoginPage, token: &FormToken, status: StatusCode) -> Response {
    token.attach((status, page).into_response())
}

pub(crate) async fn form(
    State(state): State<AppState>,
    token: FormToken,
    MaybeSession(session): MaybeSession,
) -> AppResult<Response> {
    if session.is_some_and(|s| s.kind == SessionKind::Admin) {
        return Ok(Redirect::to("/admin").into_response());
    }
    let page = LoginPage {
        heading: "Sign in to the Admin Center",
        action: "/login",
        csrf: token.value.clone(),
        email: String::new(),
        error: None,
        setup_pending: !state.storage.master_admin_exists().await?,
    };
    Ok(login_page(page, &token, StatusCode::OK))
}

/// Signs in through the shared service; a refusal it can explain shows on the form again.
pub(crate) async fn sign_in_form(
    state: &AppState,
    kind: SessionKind,
    page: impl FnOnce(Option<String>) -> LoginPage,
    token: &FormToken,
    previous: Option<&Session>,
    address: Option<IpAddr>,
    credentials: Credentials,
) -> AppResult<Result<String, Response>> {
    let attempt = Attempt {
        kind,
        email: &credentials.email,
        password: credentials.password,
        address,
        previous: previous.map(|session| session.token_hash.as_str()),
    };
    match sign_in(&state.storage, attempt).await {
        Ok(session) => Ok(Ok(session)),
        Err(
            refusal @ (SignInError::WrongCredentials
            | SignInError::Disabled
            | SignInError::GroupDisabled),
        ) => Ok(Err(login_page(
            page(Some(refusal.to_string())),
            token,
            StatusCode::UNAUTHORIZED,
        ))),
        Err(other) => Err(other.into()),
    }
}

/// The session cookie after a sign-in, and where the browser goes next.
pub(crate) fn signed_in(state: &AppState, session: &str, to: &str) -> Response {
    let cookie = set_cookie(
        SESSION_COOKIE,
        session,
        state.config.session_max.as_secs(),
        state.config.secure_cookies,
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    token: FormToken,
    MaybeSession(previous): MaybeSession,
    ClientAddress(address): ClientAddress,
    Form(credentials): Form<Credentials>,
) -> AppResult<Response> {
    let email = credentials.email.clone();
    let page = |error| LoginPage {
        heading: "Sign in to the Admin Center",
        action: "/login",
        csrf: token.value.clone(),
        email,
        error,
        setup_pending: false,
    };
    let kind = SessionKind::Admin;
    let signed = sign_in_form(
        &state,
        kind,
        page,
        &token,
        previous.as_ref(),
        address,
        credentials,
    );
    Ok(match signed.await? {
        Ok(session) => signed_in(&state, &session, "/admin"),
        Err(refused) => refused,
    })
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> AppResult<Response> {
    if let Some(session) = session {
        state.storage.delete_session(&session.token_hash).await?;
    }
    let cookie = set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}
