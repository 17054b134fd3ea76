//! What creating, changing and deleting a group does, whichever door it comes through: the
//! web's forms and the API both call these, so the validation, the rules asked of `org` and
//! the audit log's event are the same for both. Input refused field by field comes back as
//! `Ok(Err(errors))`, named as the API names the fields; a form renames what it calls
//! otherwise.

use super::{
    AppState,
    audit::{self, Changes},
    auth::AdminUser,
    error::{AppError, AppResult},
    forms::{FieldErrors, ResultExt},
};
use crate::{
    domain::{Description, GroupName, Id},
    org::{Access, OrgTree},
    storage::{AuditAction, GroupRecord, GroupUpdate, NewAuditEvent},
};

/// The group, if this administrator sees it; otherwise the 404 of something that does not
/// exist.
pub(crate) fn visible_group(access: &Access, id: Id) -> AppResult<&GroupRecord> {
    if access.can_see(id) {
        access.tree.get(id).ok_or(AppError::NotFound)
    } else {
        Err(AppError::NotFound)
    }
}

/// A group to create, as typed.
pub(crate) struct NewGroup<'a> {
    /// None: at the top, which only a master may do.
    pub(crate) parent_id: Option<Id>,
    pub(crate) name: &'a str,
    pub(crate) description: &'a str,
    pub(crate) enabled: bool,
}

/// Creates the group and records it. A parent this administrator may not create under answers
/// 404, as the group would.
pub(crate) async fn create_group(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    new: NewGroup<'_>,
) -> AppResult<Result<Id, FieldErrors>> {
    if !access.may_create_under(new.parent_id) {
        return Err(AppError::NotFound);
    }
    let mut errors = FieldErrors::default();
    let name = errors.check("name", GroupName::parse(new.name));
    let description = errors.check("description", Description::parse(new.description));
    let (Some(name), Some(description)) = (name, description) else {
        return Ok(Err(errors));
    };
    let created = state
        .storage
        .create_group_enabled(new.parent_id, &name, &description, new.enabled)
        .await
        .on_duplicate(
            &mut errors,
            "name",
            "A group with this name already exists here; choose another name",
        )?;
    let Some(id) = created else {
        return Ok(Err(errors));
    };
    let path = match new.parent_id {
        Some(parent) => format!("{}/{}", access.tree.path(parent), name.as_str()),
        None => name.as_str().to_owned(),
    };
    let event = NewAuditEvent {
        group_id: Some(id),
        detail: if new.enabled { "" } else { "disabled" },
        ..NewAuditEvent::new(AuditAction::GroupCreated, &path)
    };
    audit::record(state, user, event).await?;
    Ok(Ok(id))
}

/// A group's properties as they are to be.
pub(crate) struct GroupEdit<'a> {
    pub(crate) name: &'a str,
    pub(crate) description: &'a str,
    pub(crate) enabled: bool,
    /// `Some(None)`: to the top; `Some(Some(p))`: under `p`; None: it stays where it is,
    /// without asking the move rules (an administrator's own group may sit under a group they
    /// do not see, which they could not name).
    pub(crate) parent: Option<Option<Id>>,
}

/// Saves a group's properties, a move included, and records what changed. `earlier` are the
/// errors the caller found in input only it reads (a form's unreadable parent): nothing is
/// saved with them, and they are answered with the others at once.
pub(crate) async fn update_group(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    id: Id,
    edit: GroupEdit<'_>,
    earlier: FieldErrors,
) -> AppResult<Result<(), FieldErrors>> {
    let before = visible_group(access, id)?;
    let mut errors = earlier;
    let name = errors.check("name", GroupName::parse(edit.name));
    let description = errors.check("description", Description::parse(edit.description));
    let parent_id = match edit.parent {
        Some(requested) => errors.check("parent_id", access.move_group(id, requested)),
        None => Some(before.parent_id),
    };
    let (Some(name), Some(description), Some(parent_id), true) =
        (name, description, parent_id, errors.is_empty())
    else {
        return Ok(Err(errors));
    };
    let parent_path = |parent: Option<Id>| {
        parent.map_or_else(|| "(top level)".to_owned(), |p| access.visible_path(p))
    };
    let changes = Changes::default()
        .field("name", &before.name, name.as_str())
        .field("description", &before.description, description.as_str())
        .flag("enabled", before.is_enabled(), edit.enabled)
        .field(
            "parent",
            &parent_path(before.parent_id),
            &parent_path(parent_id),
        );
    let update = GroupUpdate {
        name: &name,
        description: &description,
        enabled: edit.enabled,
        parent_id,
    };
    let saved = state.storage.update_group(id, update).await.on_duplicate(
        &mut errors,
        "name",
        "A group with this name already exists there; choose another name",
    )?;
    if saved.is_none() {
        return Ok(Err(errors));
    }
    let detail = changes.text();
    let path = OrgTree::new(state.storage.all_groups().await?).path(id);
    let event = NewAuditEvent {
        group_id: Some(id),
        detail: &detail,
        ..NewAuditEvent::new(AuditAction::GroupChanged, &path)
    };
    audit::record(state, user, event).await?;
    Ok(Ok(()))
}

/// Deletes the group if it holds no agent and no subgroup, and records it; false, with
/// nothing done, when it is not empty (the web then asks to delete it with everything in it).
pub(crate) async fn delete_empty_group(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    id: Id,
) -> AppResult<bool> {
    let group = visible_group(access, id)?;
    if !state.storage.delete_empty_group(id).await? {
        return Ok(false);
    }
    let path = access.tree.path(id);
    // Recorded in the group above: the deleted group's own events stay where they were.
    let event = NewAuditEvent {
        group_id: group.parent_id,
        ..NewAuditEvent::new(AuditAction::GroupDeleted, &path)
    };
    audit::record(state, user, event).await?;
    Ok(true)
}
