//! What creating, changing, moving and deleting an agent and setting their password do,
//! whichever door it comes through: the web's forms and the API both call these, so the
//! validation, the password policy, the rights and the audit log's events are the same for
//! both. Input refused field by field comes back as `Ok(Err(errors))`. A password is hashed
//! and forgotten here; it is never logged, recorded or answered.

use super::{
    AppState,
    audit::{self, Changes},
    auth::AdminUser,
    error::{AppError, AppResult},
    forms::{FieldErrors, ResultExt},
};
use crate::{
    accounts::new_password_hash,
    domain::{AgentName, Description, Email, Id, Nickname},
    org::Access,
    storage::{AgentRecord, AgentUpdate, AuditAction, NewAgent, NewAuditEvent},
};

/// The agent, if it is in a group this administrator sees.
pub(crate) async fn visible_agent(
    state: &AppState,
    access: &Access,
    id: Id,
) -> AppResult<AgentRecord> {
    state
        .storage
        .agent_by_id(id)
        .await?
        .filter(|agent| access.can_see(agent.group_id))
        .ok_or(AppError::NotFound)
}

/// An agent's properties as typed, the password aside.
pub(crate) struct AgentFields<'a> {
    pub(crate) name: &'a str,
    pub(crate) nickname: &'a str,
    pub(crate) email: &'a str,
    pub(crate) description: &'a str,
    /// None when the input named no group it could read.
    pub(crate) group_id: Option<Id>,
    pub(crate) enabled: bool,
    /// At their next sign-in the agent reaches only the page that changes it.
    pub(crate) must_change_password: bool,
}

/// The fields, parsed; errors land beside their fields.
struct ParsedAgent {
    name: AgentName,
    nickname: Nickname,
    email: Email,
    description: Description,
    group_id: Id,
}

fn parse_agent(
    fields: &AgentFields<'_>,
    access: &Access,
    errors: &mut FieldErrors,
) -> Option<ParsedAgent> {
    let name = errors.check("name", AgentName::parse(fields.name));
    let nickname = errors.check("nickname", Nickname::parse(fields.nickname));
    let email = errors.check("email", Email::parse(fields.email));
    let description = errors.check("description", Description::parse(fields.description));
    // A group out of sight reads as one that does not exist: the words do not tell them apart.
    let group_id = fields.group_id.filter(|id| access.can_see(*id));
    if group_id.is_none() {
        errors.add("group_id", "Choose a group from the list");
    }
    Some(ParsedAgent {
        name: name?,
        nickname: nickname?,
        email: email?,
        description: description?,
        group_id: group_id?,
    })
}

const EMAIL_TAKEN: &str = "An agent with this email already exists";

/// A taken email is said beside its field with the other errors, not only once they are
/// fixed. (The write still refuses a duplicate that appears meanwhile.)
async fn email_free(
    state: &AppState,
    email: &str,
    agent: Option<Id>,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let holder = state.storage.agent_by_email(&email).await?;
    if holder.is_some_and(|holder| Some(holder.id) != agent) {
        errors.add("email", EMAIL_TAKEN);
    }
    Ok(())
}

/// The password policy's word on `password`, beside the `password` field.
fn check_password(state: &AppState, password: &str, errors: &mut FieldErrors) {
    errors.check("password", state.config.password_policy.check(password));
}

/// An agent as the audit log names them.
fn subject_of(name: &str, email: &str) -> String {
    format!("{name} <{email}>")
}

/// Creates the agent in `fields.group_id` with `password`, and records it.
pub(crate) async fn create_agent(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    fields: AgentFields<'_>,
    password: &str,
) -> AppResult<Result<Id, FieldErrors>> {
    let mut errors = FieldErrors::default();
    let parsed = parse_agent(&fields, access, &mut errors);
    email_free(state, fields.email, None, &mut errors).await?;
    check_password(state, password, &mut errors);
    let Some(agent) = parsed.filter(|_| errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let hash = new_password_hash(password.to_owned()).await;
    let new = NewAgent {
        group_id: agent.group_id,
        name: &agent.name,
        nickname: &agent.nickname,
        email: &agent.email,
        description: &agent.description,
        password_hash: &hash,
        enabled: fields.enabled,
        must_change_password: fields.must_change_password,
    };
    let created =
        state
            .storage
            .create_agent(new)
            .await
            .on_duplicate(&mut errors, "email", EMAIL_TAKEN)?;
    let Some(id) = created else {
        return Ok(Err(errors));
    };
    let notes = [
        (!fields.enabled).then_some("disabled"),
        fields
            .must_change_password
            .then_some("must change password at next sign-in"),
    ];
    let detail = notes.into_iter().flatten().collect::<Vec<_>>().join("; ");
    let subject = subject_of(agent.name.as_str(), agent.email.as_str());
    let event = NewAuditEvent {
        group_id: Some(agent.group_id),
        agent_id: Some(id),
        detail: &detail,
        ..NewAuditEvent::new(AuditAction::AgentCreated, &subject)
    };
    audit::record(state, user, event).await?;
    Ok(Ok(id))
}

/// Saves an agent's properties (a move is a new `group_id`) and records what changed; with a
/// `password`, sets it too, as its own event. Nothing is saved unless every field is right.
pub(crate) async fn update_agent(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    agent: &AgentRecord,
    fields: AgentFields<'_>,
    password: Option<&str>,
) -> AppResult<Result<(), FieldErrors>> {
    let mut errors = FieldErrors::default();
    let parsed = parse_agent(&fields, access, &mut errors);
    email_free(state, fields.email, Some(agent.id), &mut errors).await?;
    if let Some(password) = password {
        check_password(state, password, &mut errors);
    }
    let Some(parsed) = parsed.filter(|_| errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let update = AgentUpdate {
        group_id: parsed.group_id,
        name: &parsed.name,
        nickname: &parsed.nickname,
        email: &parsed.email,
        description: &parsed.description,
        enabled: fields.enabled,
        must_change_password: fields.must_change_password,
    };
    let changes = Changes::default()
        .field("name", &agent.name, update.name.as_str())
        .field("nickname", &agent.nickname, update.nickname.as_str())
        .field("email", &agent.email, update.email.as_str())
        .field(
            "description",
            &agent.description,
            update.description.as_str(),
        )
        .field(
            "group",
            &access.visible_path(agent.group_id),
            &access.visible_path(update.group_id),
        )
        .flag("enabled", agent.is_enabled(), update.enabled)
        .flag(
            "must change password",
            agent.must_change_password(),
            update.must_change_password,
        );
    let saved = state
        .storage
        .update_agent(agent.id, update)
        .await
        .on_duplicate(&mut errors, "email", EMAIL_TAKEN)?;
    if saved.is_none() {
        return Ok(Err(errors));
    }
    let subject = subject_of(parsed.name.as_str(), parsed.email.as_str());
    let detail = changes.text();
    let event = NewAuditEvent {
        group_id: Some(parsed.group_id),
        agent_id: Some(agent.id),
        detail: &detail,
        ..NewAuditEvent::new(AuditAction::AgentChanged, &subject)
    };
    audit::record(state, user, event).await?;
    if let Some(password) = password {
        let changed = AgentRecord {
            group_id: parsed.group_id,
            name: parsed.name.as_str().to_owned(),
            email: parsed.email.as_str().to_owned(),
            ..agent.clone()
        };
        write_password(state, user, &changed, password, fields.must_change_password).await?;
    }
    Ok(Ok(()))
}

/// Sets an agent's password, which signs them out everywhere, and records it.
pub(crate) async fn set_password(
    state: &AppState,
    user: &AdminUser,
    agent: &AgentRecord,
    password: &str,
    must_change: bool,
) -> AppResult<Result<(), FieldErrors>> {
    let mut errors = FieldErrors::default();
    check_password(state, password, &mut errors);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    write_password(state, user, agent, password, must_change).await?;
    Ok(Ok(()))
}

/// The password checked already: hashed, stored, the agent's sessions ended, recorded.
async fn write_password(
    state: &AppState,
    user: &AdminUser,
    agent: &AgentRecord,
    password: &str,
    must_change: bool,
) -> AppResult<()> {
    let hash = new_password_hash(password.to_owned()).await;
    // The agent's sessions end: whoever knew the old password is signed out.
    state
        .storage
        .set_agent_password(agent.id, &hash, must_change, None)
        .await?;
    let subject = subject_of(&agent.name, &agent.email);
    let event = NewAuditEvent {
        group_id: Some(agent.group_id),
        agent_id: Some(agent.id),
        detail: if must_change {
            "must change it at next sign-in"
        } else {
            ""
        },
        ..NewAuditEvent::new(AuditAction::AgentPasswordSet, &subject)
    };
    audit::record(state, user, event).await
}

/// Deletes the agent, which signs them out, and records it.
pub(crate) async fn delete_agent(
    state: &AppState,
    user: &AdminUser,
    agent: &AgentRecord,
) -> AppResult<()> {
    state.storage.delete_agent(agent.id).await?;
    let subject = subject_of(&agent.name, &agent.email);
    let event = NewAuditEvent {
        group_id: Some(agent.group_id),
        agent_id: Some(agent.id),
        ..NewAuditEvent::new(AuditAction::AgentDeleted, &subject)
    };
    audit::record(state, user, event).await
}
