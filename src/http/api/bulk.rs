//! Bulk actions through the API: the web panel's actions on many agents at once, and the
//! state of such a job (a group's deletion with everything in it is one too). The choice of
//! agents, the rights and the job are the web's own, through `http::bulk`.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::{
    AppState,
    auth::{AdminUser, ApiAdmin},
    bulk::{BulkChoice, BulkView, resolve, start_in_group},
    error::{ApiResult, AppError, ErrorJson},
    forms::FieldErrors,
};
use crate::{domain::Id, org::bulk::named_action, storage::BulkJob};

/// A bulk job as the API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct BulkJobJson {
    id: Id,
    /// `move`, `enable`, `disable`, `require_password_change`, `delete`, or `delete_group`.
    action: &'static str,
    /// `queued`, `running`, `done` or `failed`.
    state: &'static str,
    /// Agents it was given.
    total: i64,
    /// Agents worked through so far.
    done: i64,
    /// Of those, the ones it changed (the others were already so, or no longer yours).
    changed: i64,
    /// Why it stopped, when it failed.
    error: Option<String>,
    /// The Properties panel's words for it.
    summary: String,
}

impl BulkJobJson {
    pub(crate) fn new(job: &BulkJob) -> BulkJobJson {
        BulkJobJson {
            id: job.id,
            action: job.action.as_str(),
            state: job.state.as_str(),
            total: job.total,
            done: job.done,
            changed: job.changed,
            error: job.error.clone(),
            summary: BulkView::new(job).text,
        }
    }
}

/// The job, if this administrator may watch it: it is shown in a group they see, or they
/// started it, or they are a master.
pub(crate) async fn visible_bulk_job(
    state: &AppState,
    user: &AdminUser,
    id: Id,
) -> ApiResult<BulkJobJson> {
    let access = user.access(state).await?;
    let job = state
        .storage
        .bulk_job(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let theirs = job.actor.admin_id == Some(user.admin.id);
    let shown_to_them = job.shown_in.is_some_and(|group| access.can_see(group));
    match theirs || shown_to_them || user.admin.is_master() {
        true => Ok(BulkJobJson::new(&job)),
        false => Err(AppError::NotFound.into()),
    }
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct BulkRequestJson {
    /// `move`, `enable`, `disable`, `require_password_change` or `delete`.
    #[serde(default)]
    action: String,
    /// The agents to act on (of this group, or below it with `subgroups`); ignored with `all`.
    #[serde(default)]
    agent_ids: Vec<Id>,
    /// Every agent of the group (and below it, with `subgroups`).
    #[serde(default)]
    all: bool,
    #[serde(default)]
    subgroups: bool,
    /// Where `move` moves them.
    #[serde(default)]
    target_group_id: Option<Id>,
}

/// Acts on many agents of a group at once, as the Properties panel does: 202 with the job.
/// Up to 250 agents are done before the answer (its state is `done`); more run in the
/// background: poll `GET /api/v1/bulk-jobs/{id}`.
#[utoipa::path(
    post,
    path = "/api/v1/groups/{id}/agents/bulk",
    tag = "agents",
    params(("id" = Id, Path, description = "The group's id")),
    request_body = BulkRequestJson,
    responses(
        (status = 202, description = "Started (or done, for a small selection)", body = BulkJobJson),
        (status = 404, description = "No such group, or not yours", body = ErrorJson),
        (status = 422, description = "No action, no agent of yours chosen, or a group to move to that is not yours", body = ErrorJson),
    ),
)]
#[tracing::instrument(skip_all, fields(group_id = group_id))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(group_id): Path<Id>,
    Json(body): Json<BulkRequestJson>,
) -> ApiResult<(StatusCode, Json<BulkJobJson>)> {
    let access = user.access(&state).await?;
    if !access.can_see(group_id) {
        return Err(AppError::NotFound.into());
    }
    let action = named_action(&body.action, body.target_group_id);
    let choice = BulkChoice {
        agent_ids: body.agent_ids,
        all: body.all,
        subgroups: body.subgroups,
    };
    let (action, agent_ids) = match resolve(&state, &access, group_id, action, &choice).await? {
        Ok(chosen) => chosen,
        Err(refusal) => {
            let mut errors = FieldErrors::default();
            errors.add(refusal.field(), refusal.to_string());
            return Err(AppError::Invalid(errors).into());
        }
    };
    let job_id = start_in_group(&state, &user, &access, group_id, action, &agent_ids).await?;
    let job = visible_bulk_job(&state, &user, job_id).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// A bulk job's progress and outcome.
#[utoipa::path(
    get,
    path = "/api/v1/bulk-jobs/{id}",
    tag = "agents",
    params(("id" = Id, Path, description = "The bulk job's id")),
    responses(
        (status = 200, description = "The job", body = BulkJobJson),
        (status = 404, description = "No such job, or not yours to watch", body = ErrorJson),
    ),
)]
pub(crate) async fn status(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<Id>,
) -> ApiResult<Json<BulkJobJson>> {
    Ok(Json(visible_bulk_job(&state, &user, id).await?))
}
