//! A group's deletion: asked first on a page of its own; an empty group goes at once, one
//! with agents or subgroups once its name is typed, as a bulk job that deletes its agents
//! batch by batch and then the groups.

use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    AppState,
    auth::AdminUser,
    bulk::start,
    confirm::{ConfirmDelete, Question, confirm_page},
    error::{AppError, AppResult},
    group_edits::{delete_empty_group, visible_group},
    tree::Selection,
};
use crate::{
    domain::Id,
    import::plural,
    org::Access,
    storage::{BulkAction, NewBulkJob},
};

/// Asks before deleting a group. A group with agents or subgroups is deleted with all of
/// them once its name is typed; the page says how many first.
pub(crate) async fn confirm_delete(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
) -> AppResult<ConfirmDelete> {
    let access = user.access(&state).await?;
    deletion_page(&state, &user, &access, id, None).await
}

/// The confirmation, with `error` beside the typed name when it did not match.
async fn deletion_page(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    id: Id,
    error: Option<&'static str>,
) -> AppResult<ConfirmDelete> {
    let group = visible_group(access, id)?;
    let subgroups = access.tree.subtree(id).len() as i64 - 1;
    let agents = access.tree.agents_below(id);
    let path = access.visible_path(id);
    let empty = agents == 0 && subgroups == 0;
    let consequence = match empty {
        true => format!(
            "{path} is empty. It will be deleted with its import history. This cannot be undone."
        ),
        false => format!(
            "{path} will be deleted with everything in it: {} and {}, with their import history. \
             The agents are signed out at once. This cannot be undone.",
            plural(subgroups, "subgroup", "subgroups"),
            plural(agents, "agent", "agents"),
        ),
    };
    let question = Question {
        heading: format!("Delete group {}?", group.name),
        consequence,
        action: format!("/admin/groups/{id}/delete"),
        back: format!("/admin/groups/{id}"),
        button: "Delete group",
    };
    let selection = Selection {
        group: Some(id),
        ..Selection::default()
    };
    let page = confirm_page(state, user, access, selection, question).await?;
    Ok(match empty {
        true => page,
        false => page.typing(&group.name, error),
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct DeleteForm {
    /// The group's name, typed to confirm deleting it with everything in it.
    #[serde(default)]
    confirm_name: String,
}

#[tracing::instrument(skip_all, fields(group_id = id))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let access = user.access(&state).await?;
    let group = visible_group(&access, id)?;
    let parent = group.parent_id.filter(|parent| access.can_see(*parent));
    let done_at = |query: String| match parent {
        Some(parent) => format!("/admin/groups/{parent}?{query}"),
        None => format!("/admin?{query}"),
    };
    if delete_empty_group(&state, &user, &access, id).await? {
        return Ok(Redirect::to(&done_at("done=group-deleted".into())).into_response());
    }
    if let Some(error) = typed_name_error(&form.confirm_name, &group.name) {
        let page = deletion_page(&state, &user, &access, id, Some(error)).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let job_id = delete_with_everything(&state, &user, &access, id).await?;
    Ok(Redirect::to(&done_at(format!("bulk={job_id}"))).into_response())
}

/// Why the name typed to confirm a deletion with everything in it does not do: the group's
/// name exactly, surrounding spaces aside.
pub(crate) fn typed_name_error(typed: &str, name: &str) -> Option<&'static str> {
    match typed.trim() {
        typed if typed == name => None,
        "" => Some("Type the group's name to delete it with everything in it"),
        _ => Some("That is not the group's name: type it exactly as shown"),
    }
}

/// Starts deleting group `id` with every agent and group below it, as a bulk job shown in the
/// Properties of the group above (if this administrator sees it); its id. Refused while an
/// import into any of those groups has not ended.
pub(crate) async fn delete_with_everything(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    id: Id,
) -> AppResult<Id> {
    let subtree = access.tree.subtree(id);
    if state.storage.imports_running_in(&subtree).await? {
        return Err(AppError::Conflict(
            "An import into this group or a group below it has not ended. Wait for it or cancel it, then delete the group.",
        ));
    }
    let agent_ids = state.storage.agent_ids_in_groups(&subtree).await?;
    let actor = user.actor();
    let parent = access.tree.get(id).and_then(|group| group.parent_id);
    let job = NewBulkJob {
        shown_in: parent.filter(|parent| access.can_see(*parent)),
        action: BulkAction::DeleteGroup { group: id },
        subject: &access.visible_path(id),
        actor: &actor,
        agent_ids: &agent_ids,
    };
    start(state, job).await
}
