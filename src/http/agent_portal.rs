//! The agents' side: sign in with the email and password an administrator (or an import) gave
//! them, and a small home page. Agents never reach the Admin Center.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    AppState,
    auth::{AgentUser, ClientAddress},
    error::AppResult,
    login::{Credentials, LoginPage, login_page, sign_in_form, signed_in},
    session::{FormToken, MaybeSession, SESSION_COOKIE, set_cookie},
};
use serde::Deserialize;

use crate::{
    org::OrgTree,
    storage::{AgentRecord, SessionKind},
};

fn page(csrf: String, email: String, error: Option<String>) -> LoginPage {
    LoginPage {
        heading: "Agent sign-in",
        action: "/agent/login",
        csrf,
        email,
        error,
        setup_pending: false,
    }
}

pub(crate) async fn login_form(token: FormToken, MaybeSession(session): MaybeSession) -> Response {
    if session.is_some_and(|s| s.kind == SessionKind::Agent) {
        return Redirect::to("/agent").into_response();
    }
    login_page(
        page(token.value.clone(), String::new(), None),
        &token,
        StatusCode::OK,
    )
}

pub(crate) async fn login_submit(
    State(state): State<AppState>,
    token: FormToken,
    MaybeSession(previous): MaybeSession,
    ClientAddress(address): ClientAddress,
    Form(credentials): Form<Credentials>,
) -> AppResult<Response> {
    let email = credentials.email.clone();
    let form = |error| page(token.value.clone(), email, error);
    let kind = SessionKind::Agent;
    let signed = sign_in_form(
        &state,
        kind,
        form,
        &token,
        previous.as_ref(),
        address,
        credentials,
    );
    Ok(match signed.await? {
        Ok(session) => signed_in(&state, &session, "/agent"),
        Err(refused) => refused,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/agent_home.html")]
pub(crate) struct AgentHome {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) group_path: String,
    pub(crate) csrf: String,
    pub(crate) notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub(crate) struct HomeQuery {
    #[serde(default)]
    done: String,
}

pub(crate) async fn home(
    State(state): State<AppState>,
    user: AgentUser,
    Query(query): Query<HomeQuery>,
) -> AppResult<AgentHome> {
    let tree = OrgTree::new(state.storage.all_groups().await?);
    let AgentRecord {
        name,
        email,
        group_id,
        ..
    } = user.agent;
    Ok(AgentHome {
        name,
        email,
        group_path: tree.path(group_id),
        csrf: user.session.csrf,
        notice: (query.done == "password").then_some("Your password is changed."),
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
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/agent/login")).into_response())
}
