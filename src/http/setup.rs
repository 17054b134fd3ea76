//! First start: the one-time link printed in the log leads here, to create the first master
//! administrator. The token works once; after that every outstanding link is dead.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    AppState,
    admins::EMAIL_TAKEN,
    error::{AppError, AppResult},
    forms::{FieldErrors, ResultExt},
    login::signed_in,
    session::{FormToken, token_hash},
};
use crate::{
    accounts::{new_password_hash, start_session},
    domain::{AgentName, Email},
    storage::{NewAdmin, SessionKind},
};

#[derive(Template, WebTemplate)]
#[template(path = "pages/setup.html")]
pub(crate) struct SetupPage {
    pub(crate) token: String,
    pub(crate) csrf: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) errors: FieldErrors,
}

#[derive(Deserialize)]
pub(crate) struct SetupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn live_token(state: &AppState, token: &str) -> AppResult<()> {
    if state.storage.master_admin_exists().await? {
        return Err(AppError::SetupDone);
    }
    if state.storage.setup_token_exists(&token_hash(token)).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub(crate) async fn form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    csrf: FormToken,
) -> AppResult<Response> {
    live_token(&state, &token).await?;
    let page = SetupPage {
        token,
        csrf: csrf.value.clone(),
        name: String::new(),
        email: String::new(),
        errors: FieldErrors::default(),
    };
    Ok(csrf.attach(page.into_response()))
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    csrf: FormToken,
    Form(form): Form<SetupForm>,
) -> AppResult<Response> {
    live_token(&state, &token).await?;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", AgentName::parse(&form.name));
    let email = errors.check("email", Email::parse(&form.email));
    if errors
        .check(
            "password",
            state.config.password_policy.check(&form.password),
        )
        .is_some()
        && form.password != form.confirm
    {
        errors.add(
            "confirm",
            "The two passwords differ; type the same password twice",
        );
    }
    let created = match (name, email, errors.is_empty()) {
        (Some(name), Some(email), true) => {
            let hash = new_password_hash(form.password).await;
            let new = NewAdmin {
                email: &email,
                name: &name,
                password_hash: &hash,
                is_master: true,
                group_ids: &[],
            };
            // The creation's own transaction spends the token: a refused email leaves it valid.
            state
                .storage
                .create_first_master(&token_hash(&token), new)
                .await
                .on_duplicate(&mut errors, "email", EMAIL_TAKEN)?
        }
        _ => None,
    };
    let Some(created) = created else {
        let page = SetupPage {
            token,
            csrf: csrf.value.clone(),
            name: form.name,
            email: form.email,
            errors,
        };
        return Ok(csrf.attach((StatusCode::UNPROCESSABLE_ENTITY, page).into_response()));
    };
    // Spent meanwhile by another submit of the same link.
    let id = created.ok_or(AppError::NotFound)?;
    tracing::info!(
        admin_id = id,
        "first master administrator created; setup links are now dead"
    );
    let session = start_session(&state.storage, SessionKind::Admin, id, None).await?;
    Ok(signed_in(&state, &session, "/admin"))
}
