//! Changing one's own password: an agent from their home page, and first of all when an
//! administrator asked for it ("must change password at next sign-in"); an administrator from
//! the link beside their name.

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
    AppState, audit,
    auth::{AdminUser, AgentAccount, ClientAddress},
    error::{AGENT_PASSWORD_PAGE, AppResult},
    forms::FieldErrors,
};
use crate::{
    accounts::{OwnPasswordChange, check_own_change},
    storage::{AuditAction, AuditActor, NewAuditEvent},
};

/// Where an administrator changes their own password.
pub(crate) const ADMIN_PASSWORD_PAGE: &str = "/admin/password";

/// Whose page it is: what the page links to, and where its forms go.
#[derive(Clone, Copy)]
struct Side {
    /// The account's home page.
    home: &'static str,
    /// The brand's second word.
    product: &'static str,
    action: &'static str,
    logout: &'static str,
}

const AGENT: Side = Side {
    home: "/agent",
    product: "Agent",
    action: AGENT_PASSWORD_PAGE,
    logout: "/agent/logout",
};

const ADMIN: Side = Side {
    home: "/admin",
    product: "Admin Center",
    action: ADMIN_PASSWORD_PAGE,
    logout: "/logout",
};

#[derive(Template, WebTemplate)]
#[template(path = "pages/own_password.html")]
pub(crate) struct OwnPasswordPage {
    side: Side,
    email: String,
    csrf: String,
    /// The administrator asked for a new password: the agent reaches nothing else before.
    required: bool,
    min_chars: usize,
    errors: FieldErrors,
}

/// The account the form is for, as the handlers share it.
struct Account<'a> {
    side: Side,
    email: &'a str,
    stored_hash: &'a str,
    csrf: &'a str,
    required: bool,
}

impl Account<'_> {
    fn page(&self, state: &AppState, errors: FieldErrors) -> OwnPasswordPage {
        OwnPasswordPage {
            side: self.side,
            email: self.email.to_owned(),
            csrf: self.csrf.to_owned(),
            required: self.required,
            min_chars: state.config.password_policy.min_chars(),
            errors,
        }
    }
}

fn agent(account: &AgentAccount) -> Account<'_> {
    Account {
        side: AGENT,
        email: &account.agent.email,
        stored_hash: &account.agent.password_hash,
        csrf: &account.session.csrf,
        required: account.agent.must_change_password(),
    }
}

fn admin(user: &AdminUser) -> Account<'_> {
    Account {
        side: ADMIN,
        email: &user.admin.email,
        stored_hash: &user.admin.password_hash,
        csrf: &user.session.csrf,
        required: false,
    }
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

/// The new password's hash, or the page again with the refusal beside its field.
async fn checked(
    state: &AppState,
    account: &Account<'_>,
    address: Option<std::net::IpAddr>,
    form: ChangeForm,
) -> AppResult<Result<String, Response>> {
    let change = OwnPasswordChange {
        email: account.email,
        stored_hash: account.stored_hash.to_owned(),
        current: form.current,
        new: form.new,
        again: form.again,
        address,
    };
    Ok(
        match check_own_change(&state.storage, &state.config.password_policy, change).await? {
            Ok(hash) => Ok(hash),
            Err(refusal) => {
                let mut errors = FieldErrors::default();
                errors.add(refusal.field(), refusal.to_string());
                let page = account.page(state, errors);
                Err((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
            }
        },
    )
}

pub(crate) async fn agent_form(
    State(state): State<AppState>,
    account: AgentAccount,
) -> OwnPasswordPage {
    agent(&account).page(&state, FieldErrors::default())
}

#[tracing::instrument(skip_all, fields(agent_id = account.agent.id))]
pub(crate) async fn agent_submit(
    State(state): State<AppState>,
    account: AgentAccount,
    ClientAddress(address): ClientAddress,
    Form(form): Form<ChangeForm>,
) -> AppResult<Response> {
    let hash = match checked(&state, &agent(&account), address, form).await? {
        Ok(hash) => hash,
        Err(page) => return Ok(page),
    };
    // Every other session of theirs ends; this one goes on, free of the flag.
    let keep = Some(account.session.token_hash.as_str());
    state
        .storage
        .set_agent_password(account.agent.id, &hash, false, keep)
        .await?;
    let agent = &account.agent;
    let subject = format!("{} <{}>", agent.name, agent.email);
    let actor = AuditActor {
        admin_id: None,
        name: format!("Agent {subject}"),
        address: address.map(|a| a.to_string()).unwrap_or_default(),
    };
    let event = NewAuditEvent {
        group_id: Some(agent.group_id),
        agent_id: Some(agent.id),
        detail: "their own",
        ..NewAuditEvent::new(AuditAction::AgentPasswordSet, &subject)
    };
    state.storage.record_audit(&actor, event).await?;
    tracing::info!("agent changed their password");
    Ok(Redirect::to("/agent?done=password").into_response())
}

pub(crate) async fn admin_form(State(state): State<AppState>, user: AdminUser) -> OwnPasswordPage {
    admin(&user).page(&state, FieldErrors::default())
}

#[tracing::instrument(skip_all, fields(admin_id = user.admin.id))]
pub(crate) async fn admin_submit(
    State(state): State<AppState>,
    user: AdminUser,
    ClientAddress(address): ClientAddress,
    Form(form): Form<ChangeForm>,
) -> AppResult<Response> {
    let hash = match checked(&state, &admin(&user), address, form).await? {
        Ok(hash) => hash,
        Err(page) => return Ok(page),
    };
    // Their other sessions and API tokens end; this session goes on.
    let keep = Some(user.session.token_hash.as_str());
    state
        .storage
        .set_admin_password(user.admin.id, &hash, keep)
        .await?;
    let subject = format!("{} <{}>", user.admin.name, user.admin.email);
    let event = NewAuditEvent {
        detail: "their own",
        ..NewAuditEvent::new(AuditAction::AdminPasswordSet, &subject)
    };
    audit::record(&state, &user, event).await?;
    tracing::info!("administrator changed their password");
    Ok(Redirect::to("/admin?done=password").into_response())
}
