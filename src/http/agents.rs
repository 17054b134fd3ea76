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
    agent_edits::{
        AgentFields, create_agent, delete_agent, set_password as set_agent_password, update_agent,
        visible_agent,
    },
    auth::AdminUser,
    center::Chrome,
    confirm::{ConfirmDelete, Question, confirm_page},
    error::{AppError, AppResult},
    forms::{FieldErrors, datetime, ticked},
    tree::{GroupOption, Selection, TreeItem, TreeView, group_options},
};
use crate::{
    domain::Id,
    org::Access,
    storage::{AgentRecord, AuditQuery},
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

/// The form's fields as the shared code takes them; the password travels apart.
fn fields_of(form: &AgentForm) -> AgentFields<'_> {
    AgentFields {
        name: &form.name,
        nickname: &form.nickname,
        email: &form.email,
        description: &form.description,
        group_id: form.group_id.trim().parse().ok(),
        enabled: ticked(&form.enabled),
        must_change_password: ticked(&form.must_change_password),
    }
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
    let errors = match create_agent(&state, &user, &access, fields_of(&form), &form.password)
        .await?
    {
        Ok(id) => {
            return Ok(Redirect::to(&format!("/admin/agents/{id}?done=created")).into_response());
        }
        Err(errors) => errors,
    };
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
    let errors = match update_agent(&state, &user, &access, &agent, fields_of(&form), None).await? {
        Ok(()) => {
            return Ok(Redirect::to(&format!("/admin/agents/{id}?done=saved")).into_response());
        }
        Err(errors) => errors,
    };
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
    let must_change = ticked(&form.must_change_password);
    if let Err(errors) =
        set_agent_password(&state, &user, &agent, &form.password, must_change).await?
    {
        let page = agent_page(
            &state,
            &user,
            &access,
            agent.group_id,
            Some(&agent),
            form_of(&agent),
            errors.renamed("password", "new_password"),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
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
    delete_agent(&state, &user, &agent).await?;
    Ok(Redirect::to(&format!(
        "/admin/groups/{}?done=agent-deleted",
        agent.group_id
    ))
    .into_response())
}
