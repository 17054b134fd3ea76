//! Agent Properties: add, edit, move, enable/disable, set a password, delete.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    AppState,
    audit::{self, Changes},
    auth::AdminUser,
    center::Chrome,
    confirm::{ConfirmDelete, Question, confirm_page},
    error::{AppError, AppResult},
    forms::{FieldErrors, ResultExt, datetime, ticked},
    tree::{GroupOption, Selection, TreeItem, TreeView, group_options},
};
use crate::{
    accounts::new_password_hash,
    domain::{AgentName, Description, Email, Id, Nickname},
    org::Access,
    storage::{AgentRecord, AgentUpdate, AuditAction, AuditQuery, NewAgent, NewAuditEvent},
};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AgentForm {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) nickname: String,
    #[serde(default)]
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) enabled: Option<String>,
    /// Ticked: at their next sign-in the agent reaches only the page that changes it.
    #[serde(default)]
    pub(crate) must_change_password: Option<String>,
    #[serde(default)]
    pub(crate) group_id: String,
    /// Only on the "add agent" form.
    #[serde(default)]
    pub(crate) password: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/agent.html")]
pub(crate) struct AgentPage {
    pub(crate) chrome: Chrome,
    pub(crate) tree: TreeView,
    /// None on the "add agent" page.
    pub(crate) agent_id: Option<Id>,
    pub(crate) group_id: Id,
    pub(crate) group_path: String,
    pub(crate) form: AgentForm,
    pub(crate) form_enabled: bool,
    pub(crate) form_must_change: bool,
    pub(crate) group_options: Vec<GroupOption>,
    pub(crate) errors: FieldErrors,
    pub(crate) created_at: String,
    pub(crate) notice: Option<&'static str>,
    /// The agent's history, newest first: the audit log's events and the import that made it.
    pub(crate) history: Vec<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct AgentQuery {
    #[serde(default)]
    done: String,
}

async fn agent_page(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    group_id: Id,
    agent: Option<&AgentRecord>,
    form: AgentForm,
    errors: FieldErrors,
) -> AppResult<AgentPage> {
    let selection = Selection {
        group: Some(group_id),
        agent: agent.map(|a| a.id),
        admin: None,
    };
    let tree = TreeView::build(state, user, access, selection, "").await?;
    let selected_group = form.group_id.parse().ok().unwrap_or(group_id);
    Ok(AgentPage {
        chrome: Chrome::new(user),
        tree,
        agent_id: agent.map(|a| a.id),
        group_id,
        group_path: access.visible_path(group_id),
        form_enabled: ticked(&form.enabled),
        form_must_change: ticked(&form.must_change_password),
        group_options: group_options(access, Some(selected_group), None),
        errors,
        created_at: agent.map(|a| datetime(a.created_at)).unwrap_or_default(),
        notice: None,
        history: match agent {
            Some(agent) => history(state, agent.id).await?,
            None => Vec::new(),
        },
        form,
    })
}

/// Events at most shown in an agent's history.
const HISTORY_LENGTH: i64 = 20;

/// "2026-12-03 14:05 UTC: Maria <maria@…> changed agent Ann Lee: name: Ann → Anna", newest
/// first, ending with "Created by import #42, row 17 of agents.xlsx, by Maria" for an imported
/// agent.
async fn history(state: &AppState, agent_id: Id) -> AppResult<Vec<String>> {
    let query = AuditQuery {
        agent_id: Some(agent_id),
        limit: HISTORY_LENGTH,
        ..AuditQuery::default()
    };
    let mut lines: Vec<String> = state
        .storage
        .audit_events(&query)
        .await?
        .iter()
        .map(|event| {
            let detail = match event.detail.as_str() {
                "" => String::new(),
                detail => format!(": {detail}"),
            };
            let when = datetime(event.at);
            format!(
                "{when}: {} {}{detail}",
                event.actor,
                event.action.describe()
            )
        })
        .collect();
    if let Some(origin) = state.storage.agent_origin(agent_id).await? {
        let row = origin
            .row_no
            .map(|row| format!(", row {row}"))
            .unwrap_or_default();
        lines.push(format!(
            "Created by import #{}{row} of {}, by {}",
            origin.job_id, origin.file_name, origin.submitted_by
        ));
    }
    Ok(lines)
}

/// The agent, if it is in a group this administrator sees.
async fn visible_agent(state: &AppState, access: &Access, id: Id) -> AppResult<AgentRecord> {
    state
        .storage
        .agent_by_id(id)
        .await?
        .filter(|agent| access.can_see(agent.group_id))
        .ok_or(AppError::NotFound)
}

fn form_of(agent: &AgentRecord) -> AgentForm {
    AgentForm {
        name: agent.name.clone(),
        nickname: agent.nickname.clone(),
        email: agent.email.clone(),
        description: agent.description.clone(),
        enabled: agent.is_enabled().then(|| "on".to_owned()),
        must_change_password: agent.must_change_password().then(|| "on".to_owned()),
        group_id: agent.group_id.to_string(),
        password: String::new(),
    }
}

pub(crate) async fn new_form(
    State(state): State<AppState>,
    user: AdminUser,
    Path(group_id): Path<Id>,
) -> AppResult<AgentPage> {
    let access = user.access(&state).await?;
    if !access.can_see(group_id) {
        return Err(AppError::NotFound);
    }
    // An administrator who sets a password usually wants the agent to choose their own.
    let form = AgentForm {
        enabled: Some("on".into()),
        must_change_password: Some("on".into()),
        group_id: group_id.to_string(),
        ..AgentForm::default()
    };
    agent_page(
        &state,
        &user,
        &access,
        group_id,
        None,
        form,
        FieldErrors::default(),
    )
    .await
}

/// The fields both forms share, parsed; errors land beside their fields.
struct ParsedAgent {
    name: AgentName,
    nickname: Nickname,
    email: Email,
    description: Description,
    group_id: Id,
}

fn parse_agent(form: &AgentForm, access: &Access, errors: &mut FieldErrors) -> Option<ParsedAgent> {
    let name = errors.check("name", AgentName::parse(&form.name));
    let nickname = errors.check("nickname", Nickname::parse(&form.nickname));
    let email = errors.check("email", Email::parse(&form.email));
    let description = errors.check("description", Description::parse(&form.description));
    let group_id = form
        .group_id
        .trim()
        .parse()
        .ok()
        .filter(|id| access.can_see(*id));
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

/// A taken email is said beside its field with the form's other errors, not only once they
/// are fixed. (The insert still refuses a duplicate that appears meanwhile.)
async fn email_free(
    state: &AppState,
    form: &AgentForm,
    agent: Option<Id>,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    let Ok(email) = Email::parse(&form.email) else {
        return Ok(());
    };
    let holder = state.storage.agent_by_email(&email).await?;
    if holder.is_some_and(|holder| Some(holder.id) != agent) {
        errors.add("email", EMAIL_TAKEN);
    }
    Ok(())
}

/// An agent as the audit log names them.
fn subject_of(name: &AgentName, email: &Email) -> String {
    format!("{name} <{email}>")
}

#[tracing::instrument(skip_all, fields(group_id = group_id))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: AdminUser,
    Path(group_id): Path<Id>,
    Form(form): Form<AgentForm>,
) -> AppResult<Response> {
    let access = user.access(&state).await?;
    if !access.can_see(group_id) {
        return Err(AppError::NotFound);
    }
    let mut errors = FieldErrors::default();
    let parsed = parse_agent(&form, &access, &mut errors);
    email_free(&state, &form, None, &mut errors).await?;
    let password_ok = errors
        .check(
            "password",
            state.config.password_policy.check(&form.password),
        )
        .is_some();
    if let (Some(agent), true) = (parsed, password_ok && errors.is_empty()) {
        let password = form.password.clone();
        let hash = new_password_hash(password).await;
        let new = NewAgent {
            group_id: agent.group_id,
            name: &agent.name,
            nickname: &agent.nickname,
            email: &agent.email,
            description: &agent.description,
            password_hash: &hash,
            must_change_password: ticked(&form.must_change_password),
        };
        let created = state.storage.create_agent(new).await.on_duplicate(
            &mut errors,
            "email",
            EMAIL_TAKEN,
        )?;
        if let Some(id) = created {
            let detail = match ticked(&form.must_change_password) {
                true => "must change password at next sign-in",
                false => "",
            };
            let subject = subject_of(&agent.name, &agent.email);
            let event = NewAuditEvent {
                group_id: Some(agent.group_id),
                agent_id: Some(id),
                detail,
                ..NewAuditEvent::new(AuditAction::AgentCreated, &subject)
            };
            audit::record(&state, &user, event).await?;
            return Ok(Redirect::to(&format!("/admin/agents/{id}?done=created")).into_response());
        }
    }
    let form = AgentForm {
        password: String::new(),
        ..form
    };
    let page = agent_page(&state, &user, &access, group_id, None, form, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub(crate) async fn show(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    Query(query): Query<AgentQuery>,
) -> AppResult<AgentPage> {
    let access = user.access(&state).await?;
    let agent = visible_agent(&state, &access, id).await?;
    let mut page = agent_page(
        &state,
        &user,
        &access,
        agent.group_id,
        Some(&agent),
        form_of(&agent),
        FieldErrors::default(),
    )
    .await?;
    page.notice = match query.done.as_str() {
        "created" => Some("Agent created."),
        "saved" => Some("Agent saved."),
        "password" => Some("Password changed."),
        _ => None,
    };
    Ok(page)
}

#[tracing::instrument(skip_all, fields(agent_id = id))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    Form(form): Form<AgentForm>,
) -> AppResult<Response> {
    let access = user.access(&state).await?;
    let agent = visible_agent(&state, &access, id).await?;
    let mut errors = FieldErrors::default();
    let parsed = parse_agent(&form, &access, &mut errors);
    email_free(&state, &form, Some(id), &mut errors).await?;
    if let Some(parsed) = parsed.filter(|_| errors.is_empty()) {
        let update = AgentUpdate {
            group_id: parsed.group_id,
            name: &parsed.name,
            nickname: &parsed.nickname,
            email: &parsed.email,
            description: &parsed.description,
            enabled: ticked(&form.enabled),
            must_change_password: ticked(&form.must_change_password),
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
        let saved = state.storage.update_agent(id, update).await.on_duplicate(
            &mut errors,
            "email",
            EMAIL_TAKEN,
        )?;
        if saved.is_some() {
            let subject = subject_of(&parsed.name, &parsed.email);
            let detail = changes.text();
            let event = NewAuditEvent {
                group_id: Some(parsed.group_id),
                agent_id: Some(id),
                detail: &detail,
                ..NewAuditEvent::new(AuditAction::AgentChanged, &subject)
            };
            audit::record(&state, &user, event).await?;
            return Ok(Redirect::to(&format!("/admin/agents/{id}?done=saved")).into_response());
        }
    }
    let page = agent_page(
        &state,
        &user,
        &access,
        agent.group_id,
        Some(&agent),
        form,
        errors,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    must_change_password: Option<String>,
}

#[tracing::instrument(skip_all, fields(agent_id = id))]
pub(crate) async fn set_password(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let access = user.access(&state).await?;
    let agent = visible_agent(&state, &access, id).await?;
    if let Err(error) = state.config.password_policy.check(&form.password) {
        let mut errors = FieldErrors::default();
        errors.add("new_password", error.to_string());
        let page = agent_page(
            &state,
            &user,
            &access,
            agent.group_id,
            Some(&agent),
            form_of(&agent),
            errors,
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let password = form.password;
    let hash = new_password_hash(password).await;
    let must_change = ticked(&form.must_change_password);
    // The agent's sessions end: whoever knew the old password is signed out.
    state
        .storage
        .set_agent_password(id, &hash, must_change, None)
        .await?;
    let subject = format!("{} <{}>", agent.name, agent.email);
    let event = NewAuditEvent {
        group_id: Some(agent.group_id),
        agent_id: Some(id),
        detail: if must_change {
            "must change it at next sign-in"
        } else {
            ""
        },
        ..NewAuditEvent::new(AuditAction::AgentPasswordSet, &subject)
    };
    audit::record(&state, &user, event).await?;
    Ok(Redirect::to(&format!("/admin/agents/{id}?done=password")).into_response())
}

/// Asks before deleting an agent.
pub(crate) async fn confirm_delete(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
) -> AppResult<ConfirmDelete> {
    let access = user.access(&state).await?;
    let agent = visible_agent(&state, &access, id).await?;
    let question = Question {
        heading: format!("Delete agent {}?", agent.name),
        consequence: format!(
            "{} <{}> will be deleted from {} and signed out at once. This cannot be undone.",
            agent.name,
            agent.email,
            access.visible_path(agent.group_id)
        ),
        action: format!("/admin/agents/{id}/delete"),
        back: format!("/admin/agents/{id}"),
        button: "Delete agent",
    };
    let selection = Selection {
        group: Some(agent.group_id),
        agent: Some(id),
        admin: None,
    };
    confirm_page(&state, &user, &access, selection, question).await
}

#[tracing::instrument(skip_all, fields(agent_id = id))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
) -> AppResult<Response> {
    let access = user.access(&state).await?;
    let agent = visible_agent(&state, &access, id).await?;
    state.storage.delete_agent(id).await?;
    let subject = format!("{} <{}>", agent.name, agent.email);
    let event = NewAuditEvent {
        group_id: Some(agent.group_id),
        agent_id: Some(id),
        ..NewAuditEvent::new(AuditAction::AgentDeleted, &subject)
    };
    audit::record(&state, &user, event).await?;
    Ok(Redirect::to(&format!(
        "/admin/groups/{}?done=agent-deleted",
        agent.group_id
    ))
    .into_response())
}
