//! Groups through the API: list, create, read, change or move, delete (one with agents or
//! subgroups once its name is confirmed). Each
//! change is the web form's, through `group_edits`.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::super::{
    AppState,
    auth::ApiAdmin,
    error::{ApiResult, AppError, ErrorJson},
    forms::FieldErrors,
    group_delete::{delete_with_everything, typed_name_error},
    group_edits::{
        GroupEdit, NewGroup, create_group, delete_empty_group, update_group, visible_group,
    },
};
use super::{
    bulk::{BulkJobJson, visible_bulk_job},
    present,
};
use crate::{domain::Id, org::Access, storage::GroupRecord};

#[derive(Serialize, ToSchema)]
pub(crate) struct GroupJson {
    id: Id,
    /// None at the top, and for an administrator's own group under one they do not see.
    parent_id: Option<Id>,
    name: String,
    description: String,
    /// From the top of what this administrator sees, `/`-separated: a group above theirs is
    /// not named.
    path: String,
    enabled: bool,
    /// Agents in this group itself, not in the groups below it.
    agent_count: i64,
}

impl GroupJson {
    /// The group as this administrator may see it: never naming a group above theirs.
    fn of(access: &Access, group: &GroupRecord) -> GroupJson {
        GroupJson {
            id: group.id,
            parent_id: group.parent_id.filter(|parent| access.can_see(*parent)),
            name: group.name.clone(),
            description: group.description.clone(),
            path: access.visible_path_with(group.id, "/"),
            enabled: group.is_enabled(),
            agent_count: group.agent_count,
        }
    }
}

/// The group as it is now, seen by `user`: after a change, the tree is read again.
async fn current(state: &AppState, admin: &ApiAdmin, id: Id) -> ApiResult<Json<GroupJson>> {
    let access = admin.0.access(state).await?;
    let group = visible_group(&access, id)?;
    Ok(Json(GroupJson::of(&access, group)))
}

/// Every group this administrator sees, each after the group above it.
#[utoipa::path(
    get,
    path = "/api/v1/groups",
    tag = "groups",
    responses((status = 200, description = "The groups", body = [GroupJson])),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
) -> ApiResult<Json<Vec<GroupJson>>> {
    let access = user.access(&state).await?;
    let groups = access
        .visible_ids()
        .into_iter()
        .filter_map(|id| access.tree.get(id))
        .map(|group| GroupJson::of(&access, group))
        .collect();
    Ok(Json(groups))
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct NewGroupJson {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// Left out or null: a top-level group, which only a master may make.
    #[serde(default)]
    parent_id: Option<Id>,
    /// Enabled unless false.
    #[serde(default)]
    enabled: Option<bool>,
}

/// Creates a group; 404 for a parent that is not yours (or a top-level group, unless you are
/// a master).
#[utoipa::path(
    post,
    path = "/api/v1/groups",
    tag = "groups",
    request_body = NewGroupJson,
    responses(
        (status = 201, description = "Created", body = GroupJson),
        (status = 404, description = "The parent is not yours", body = ErrorJson),
        (status = 422, description = "Fields refused, each with its message", body = ErrorJson),
    ),
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    State(state): State<AppState>,
    admin: ApiAdmin,
    Json(body): Json<NewGroupJson>,
) -> ApiResult<(StatusCode, Json<GroupJson>)> {
    let access = admin.0.access(&state).await?;
    let new = NewGroup {
        parent_id: body.parent_id,
        name: &body.name,
        description: &body.description,
        enabled: body.enabled.unwrap_or(true),
    };
    let id = create_group(&state, &admin.0, &access, new)
        .await?
        .map_err(AppError::Invalid)?;
    Ok((StatusCode::CREATED, current(&state, &admin, id).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/groups/{id}",
    tag = "groups",
    params(("id" = Id, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The group", body = GroupJson),
        (status = 404, description = "No such group, or not yours", body = ErrorJson),
    ),
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    admin: ApiAdmin,
    Path(id): Path<Id>,
) -> ApiResult<Json<GroupJson>> {
    current(&state, &admin, id).await
}

/// A change: the fields sent change, the others stay as they are.
#[derive(Deserialize, ToSchema)]
pub(crate) struct GroupPatch {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    /// A move: under this group, or to the top with null (masters only). Left out, the group
    /// stays where it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Id>)]
    parent_id: Option<Option<Id>>,
}

/// Renames, describes, enables or disables, or moves a group, as its Properties form does.
#[utoipa::path(
    patch,
    path = "/api/v1/groups/{id}",
    tag = "groups",
    params(("id" = Id, Path, description = "The group's id")),
    request_body = GroupPatch,
    responses(
        (status = 200, description = "The group as saved", body = GroupJson),
        (status = 404, description = "No such group, or not yours", body = ErrorJson),
        (status = 422, description = "Fields refused (a move the rules do not allow is refused on `parent_id`)", body = ErrorJson),
    ),
)]
#[tracing::instrument(skip_all, fields(group_id = id))]
pub(crate) async fn update(
    State(state): State<AppState>,
    admin: ApiAdmin,
    Path(id): Path<Id>,
    Json(patch): Json<GroupPatch>,
) -> ApiResult<Json<GroupJson>> {
    let access = admin.0.access(&state).await?;
    let group = visible_group(&access, id)?;
    let edit = GroupEdit {
        name: patch.name.as_deref().unwrap_or(&group.name),
        description: patch.description.as_deref().unwrap_or(&group.description),
        enabled: patch.enabled.unwrap_or(group.is_enabled()),
        parent: patch.parent_id,
    };
    update_group(&state, &admin.0, &access, id, edit, Default::default())
        .await?
        .map_err(AppError::Invalid)?;
    current(&state, &admin, id).await
}

/// What a group with agents or subgroups answers without its name: deleting everything in it
/// is a decision to be spelled out, as the web page asks it to be typed.
const NOT_EMPTY: &str = "This group has agents or subgroups. To delete it with everything in \
     it, send its name as `confirm_name`; or move or delete what is in it first.";

#[derive(Deserialize, IntoParams)]
pub(crate) struct DeleteQuery {
    /// The group's name, to delete it with every agent and group below it.
    #[serde(default)]
    confirm_name: Option<String>,
}

/// Deletes an empty group (204). One with agents or subgroups is deleted with all of them
/// when `confirm_name` is its name, as a bulk job (202, as `GET /api/v1/bulk-jobs/{id}`
/// shows it); without it, 409.
#[utoipa::path(
    delete,
    path = "/api/v1/groups/{id}",
    tag = "groups",
    params(("id" = Id, Path, description = "The group's id"), DeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 202, description = "Being deleted with everything in it", body = BulkJobJson),
        (status = 404, description = "No such group, or not yours", body = ErrorJson),
        (status = 409, description = "Not empty and no name confirmed, or an import into it runs", body = ErrorJson),
        (status = 422, description = "`confirm_name` is not the group's name", body = ErrorJson),
    ),
)]
#[tracing::instrument(skip_all, fields(group_id = id))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<Id>,
    Query(query): Query<DeleteQuery>,
) -> ApiResult<Response> {
    let access = user.access(&state).await?;
    let name = visible_group(&access, id)?.name.clone();
    if delete_empty_group(&state, &user, &access, id).await? {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let Some(typed) = query.confirm_name else {
        return Err(AppError::Conflict(NOT_EMPTY).into());
    };
    if let Some(error) = typed_name_error(&typed, &name) {
        let mut errors = FieldErrors::default();
        errors.add("confirm_name", error);
        return Err(AppError::Invalid(errors).into());
    }
    let job_id = delete_with_everything(&state, &user, &access, id).await?;
    let job = visible_bulk_job(&state, &user, job_id).await?;
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}
