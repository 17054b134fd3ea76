//! The agents' side: sign in with the email and password an administrator (or an import) gave
//! them, and a small home page. Agents never reach the Admin Center.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    AppState,
    auth::{AgentUser, ClientAddress, password_matches, start_session},
    error::AppResult,
    login::{Credentials, LoginPage, WRONG_CREDENTIALS, login_page},
    session::{FormToken, MaybeSession, SESSION_COOKIE, set_cookie},
};
use crate::{
    domain::Email,
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
    }
}

pub async fn login_form(token: FormToken, MaybeSession(session): MaybeSession) -> Response {
    if session.is_some_and(|s| s.kind == SessionKind::Agent) {
        return Redirect::to("/agent").into_response();
    }
    login_page(
        page(token.value.clone(), String::new(), None),
        &token,
        StatusCode::OK,
    )
}

pub async fn login_submit(
    State(state): State<AppState>,
    token: FormToken,
    MaybeSession(previous): MaybeSession,
    ClientAddress(address): ClientAddress,
    Form(credentials): Form<Credentials>,
) -> AppResult<Response> {
    state.throttle.attempt(&credentials.email, address)?;
    let agent = match Email::parse(&credentials.email) {
        Ok(email) => state.storage.agent_by_email(&email).await?,
        Err(_) => None,
    };
    let hash = agent.as_ref().map(|a| a.password_hash.clone());
    let verified = password_matches(hash, credentials.password.clone()).await;
    let refuse = |message: &str| {
        login_page(
            page(
                token.value.clone(),
                credentials.email.clone(),
                Some(message.to_owned()),
            ),
            &token,
            StatusCode::UNAUTHORIZED,
        )
    };
    let Some(agent) = agent.filter(|_| verified) else {
        return Ok(refuse(WRONG_CREDENTIALS));
    };
    if !agent.is_enabled() {
        return Ok(refuse(
            "This agent account is disabled. Ask your administrator to enable it.",
        ));
    }
    let session_token =
        start_session(&state, SessionKind::Agent, agent.id, previous.as_ref()).await?;
    let cookie = set_cookie(
        SESSION_COOKIE,
        &session_token,
        state.config.session_max.as_secs(),
        state.config.secure_cookies,
    );
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/agent")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/agent_home.html")]
pub struct AgentHome {
    pub name: String,
    pub email: String,
    pub group_path: String,
    pub csrf: String,
}

pub async fn home(State(state): State<AppState>, user: AgentUser) -> AppResult<AgentHome> {
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
    })
}

pub async fn logout(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> AppResult<Response> {
    if let Some(session) = session {
        state.storage.delete_session(&session.token_hash).await?;
    }
    let cookie = set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/agent/login")).into_response())
}
