//! An agent changes their own password: from their home page whenever they like, and first of
//! all when an administrator asked for it ("must change password at next sign-in").

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    AppState,
    auth::{AgentAccount, ClientAddress},
    error::AppResult,
    forms::FieldErrors,
};
use crate::accounts::{OwnPasswordChange, check_own_change};

#[derive(Template, WebTemplate)]
#[template(path = "pages/agent_password.html")]
pub(crate) struct AgentPasswordPage {
    email: String,
    csrf: String,
    /// The administrator asked for a new password: the agent reaches nothing else before.
    required: bool,
    min_chars: usize,
    errors: FieldErrors,
}

fn page(state: &AppState, account: &AgentAccount, errors: FieldErrors) -> AgentPasswordPage {
    AgentPasswordPage {
        email: account.agent.email.clone(),
        csrf: account.session.csrf.clone(),
        required: account.agent.must_change_password(),
        min_chars: state.config.password_policy.min_chars(),
        errors,
    }
}

pub(crate) async fn form(
    State(state): State<AppState>,
    account: AgentAccount,
) -> AgentPasswordPage {
    page(&state, &account, FieldErrors::default())
}

#[derive(Deserialize)]
pub(crate) struct ChangeForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
}

#[tracing::instrument(skip_all, fields(agent_id = account.agent.id))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    account: AgentAccount,
    ClientAddress(address): ClientAddress,
    Form(form): Form<ChangeForm>,
) -> AppResult<Response> {
    let change = OwnPasswordChange {
        email: &account.agent.email,
        stored_hash: account.agent.password_hash.clone(),
        current: form.current,
        new: form.new,
        again: form.again,
        address,
    };
    match check_own_change(&state.storage, &state.config.password_policy, change).await? {
        Ok(hash) => {
            // Every other session of theirs ends; this one goes on, free of the flag.
            let keep = Some(account.session.token_hash.as_str());
            state
                .storage
                .set_agent_password(account.agent.id, &hash, false, keep)
                .await?;
            tracing::info!("agent changed their password");
            Ok(Redirect::to("/agent?done=password").into_response())
        }
        Err(refusal) => {
            let mut errors = FieldErrors::default();
            errors.add(refusal.field(), refusal.to_string());
            let page = page(&state, &account, errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
