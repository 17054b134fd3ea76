//! Agents through the API: a group's agents a page at a time, create, read, change or move,
//! delete. Each change is the web form's, through `agent_edits`. No answer ever holds a
//! password or its hash.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::super::{
    AppState,
    agent_edits::{AgentFields, create_agent, delete_agent, update_agent, visible_agent},
    auth::ApiAdmin,
    error::{ApiResult, AppError, ErrorJson},
};
use crate::{
    domain::Id,
    storage::{AgentCursor, AgentRecord},
};

#[derive(Serialize, ToSchema)]
pub(crate) struct AgentJson {
    id: Id,
    group_id: Id,
    name: String,
    nickname: String,
    email: String,
    description: String,
    enabled: bool,
    /// At their next sign-in the agent reaches only the page that changes it.
    must_change_password: bool,
    /// Unix seconds.
    created_at: i64,
    updated_at: i64,
}

impl From<&AgentRecord> for AgentJson {
    fn from(agent: &AgentRecord) -> AgentJson {
        AgentJson {
            id: agent.id,
            group_id: agent.group_id,
            name: agent.name.clone(),
            nickname: agent.nickname.clone(),
            email: agent.email.clone(),
            description: agent.description.clone(),
            enabled: agent.is_enabled(),
            must_change_password: agent.must_change_password(),
            created_at: agent.created_at,
            updated_at: agent.updated_at,
        }
    }
}

/// A page's size when the request names none, and the largest one asked for.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// The `next` of the page before; left out, the first page.
    after: Option<String>,
    /// Agents on the page: 1 to 1000, 100 when left out.
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AgentPage {
    /// By name, then id.
    agents: Vec<AgentJson>,
    /// What to send as `after` for the next page; null on the last one.
    next: Option<String>,
}

/// What a cursor holds, before it is made opaque: the last agent of the page before.
#[derive(Serialize, Deserialize)]
struct CursorJson {
    /// The agent's natural sort key (storage's `sort_key`).
    key: String,
    id: Id,
}

/// The cursor as the response gives it out: URL-safe base64 of its JSON, opaque to scripts so
/// its shape may change.
fn encode_cursor(cursor: &AgentCursor) -> String {
    let json = CursorJson {
        key: cursor.sort_key.clone(),
        id: cursor.id,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json).unwrap_or_default())
}

fn decode_cursor(text: &str) -> Result<AgentCursor, AppError> {
    let refused = || AppError::BadRequest("`after` is not a cursor this API gave out.".into());
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| refused())?;
    let json: CursorJson = serde_json::from_slice(&bytes).map_err(|_| refused())?;
    Ok(AgentCursor {
        sort_key: json.key,
        id: json.id,
    })
}

/// A group's own agents (not those of the groups below it), in natural order by name, a page at a time: each
/// page starts after the last agent of the one before, so a deep page costs what the first
/// does and an agent added meanwhile is neither missed nor listed twice.
#[utoipa::path(
    get,
    path = "/api/v1/groups/{id}/agents",
    tag = "agents",
    params(("id" = Id, Path, description = "The group's id"), PageQuery),
    responses(
        (status = 200, description = "One page of the group's agents", body = AgentPage),
        (status = 400, description = "A cursor this API did not give out, or a limit out of range", body = ErrorJson),
        (status = 404, description = "No such group, or not yours", body = ErrorJson),
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(group_id): Path<Id>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<AgentPage>> {
    if !user.access(&state).await?.can_see(group_id) {
        return Err(AppError::NotFound.into());
    }
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        let message = format!("`limit` is from 1 to {MAX_LIMIT}.");
        return Err(AppError::BadRequest(message).into());
    }
    let after = query.after.as_deref().map(decode_cursor).transpose()?;
    // One more than the page: whether there is a next page is known without asking again.
    let mut agents = state
        .storage
        .agents_in_group(group_id, limit + 1, after.as_ref())
        .await?;
    let more = agents.len() as i64 > limit;
    agents.truncate(limit as usize);
    let next = agents
        .last()
        .filter(|_| more)
        .map(|last| encode_cursor(&AgentCursor::after(last)));
    Ok(Json(AgentPage {
        agents: agents.iter().map(AgentJson::from).collect(),
        next,
    }))
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct NewAgentJson {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    /// Checked against the same password policy as the web form's.
    #[serde(default)]
    password: String,
    #[serde(default)]
    nickname: String,
    #[serde(default)]
    description: String,
    /// Enabled unless false.
    #[serde(default)]
    enabled: Option<bool>,
    /// Whether the agent must choose their own password at their first sign-in; as the web
    /// form suggests, true unless false.
    #[serde(default)]
    must_change_password: Option<bool>,
}

/// Adds an agent to the group, as the web's "Add agent" form does.
#[utoipa::path(
    post,
    path = "/api/v1/groups/{id}/agents",
    tag = "agents",
    params(("id" = Id, Path, description = "The group's id")),
    request_body = NewAgentJson,
    responses(
        (status = 201, description = "Created", body = AgentJson),
        (status = 404, description = "No such group, or not yours", body = ErrorJson),
        (status = 422, description = "Fields refused, each with its message (a taken email on `email`)", body = ErrorJson),
    ),
)]
#[tracing::instrument(skip_all, fields(group_id = group_id))]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(group_id): Path<Id>,
    Json(body): Json<NewAgentJson>,
) -> ApiResult<(StatusCode, Json<AgentJson>)> {
    let access = user.access(&state).await?;
    if !access.can_see(group_id) {
        return Err(AppError::NotFound.into());
    }
    let fields = AgentFields {
        name: &body.name,
        nickname: &body.nickname,
        email: &body.email,
        description: &body.description,
        group_id: Some(group_id),
        enabled: body.enabled.unwrap_or(true),
        must_change_password: body.must_change_password.unwrap_or(true),
    };
    let id = create_agent(&state, &user, &access, fields, &body.password)
        .await?
        .map_err(AppError::Invalid)?;
    let agent = visible_agent(&state, &access, id).await?;
    Ok((StatusCode::CREATED, Json(AgentJson::from(&agent))))
}

#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}",
    tag = "agents",
    params(("id" = Id, Path, description = "The agent's id")),
    responses(
        (status = 200, description = "The agent", body = AgentJson),
        (status = 404, description = "No such agent, or not yours", body = ErrorJson),
    ),
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<Id>,
) -> ApiResult<Json<AgentJson>> {
    let access = user.access(&state).await?;
    let agent = visible_agent(&state, &access, id).await?;
    Ok(Json(AgentJson::from(&agent)))
}

/// A change: the fields sent change, the others stay as they are.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AgentPatch {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    must_change_password: Option<bool>,
    /// A new password, checked against the policy; it signs the agent out everywhere.
    #[serde(default)]
    password: Option<String>,
    /// A move: to this group, which must be one of yours.
    #[serde(default)]
    group_id: Option<Id>,
}

/// Changes, moves, enables or disables an agent, or sets their password, as the web's forms
/// do.
#[utoipa::path(
    patch,
    path = "/api/v1/agents/{id}",
    tag = "agents",
    params(("id" = Id, Path, description = "The agent's id")),
    request_body = AgentPatch,
    responses(
        (status = 200, description = "The agent as saved", body = AgentJson),
        (status = 404, description = "No such agent, or not yours", body = ErrorJson),
        (status = 422, description = "Fields refused, each with its message (a group that is not yours on `group_id`)", body = ErrorJson),
    ),
)]
#[tracing::instrument(skip_all, fields(agent_id = id))]
pub(crate) async fn update(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<Id>,
    Json(patch): Json<AgentPatch>,
) -> ApiResult<Json<AgentJson>> {
    let access = user.access(&state).await?;
    let agent = visible_agent(&state, &access, id).await?;
    let fields = AgentFields {
        name: patch.name.as_deref().unwrap_or(&agent.name),
        nickname: patch.nickname.as_deref().unwrap_or(&agent.nickname),
        email: patch.email.as_deref().unwrap_or(&agent.email),
        description: patch.description.as_deref().unwrap_or(&agent.description),
        group_id: Some(patch.group_id.unwrap_or(agent.group_id)),
        enabled: patch.enabled.unwrap_or(agent.is_enabled()),
        must_change_password: patch
            .must_change_password
            .unwrap_or(agent.must_change_password()),
    };
    let password = patch.password.as_deref();
    update_agent(&state, &user, &access, &agent, fields, password)
        .await?
        .map_err(AppError::Invalid)?;
    // Moved, the agent is in another group this administrator sees: the same rights answer.
    let saved = visible_agent(&state, &access, id).await?;
    Ok(Json(AgentJson::from(&saved)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/agents/{id}",
    tag = "agents",
    params(("id" = Id, Path, description = "The agent's id")),
    responses(
        (status = 204, description = "Deleted; the agent is signed out"),
        (status = 404, description = "No such agent, or not yours", body = ErrorJson),
    ),
)]
#[tracing::instrument(skip_all, fields(agent_id = id))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    let access = user.access(&state).await?;
    let agent = visible_agent(&state, &access, id).await?;
    delete_agent(&state, &user, &agent).await?;
    Ok(StatusCode::NO_CONTENT)
}
