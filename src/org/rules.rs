//! Who may put a group where, and what a master may not do to their own account. Each rule
//! answers allowed or a typed refusal whose words the forms show beside the field.

use super::Access;
use crate::domain::Id;

/// Why a group cannot go under the parent asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MoveRefusal {
    /// The parent is unknown or outside what this administrator sees.
    #[error("Choose a group from the list")]
    UnknownParent,
    /// A cycle would cut the group and everything below it off the tree.
    #[error("A group cannot move into itself or a group below it")]
    IntoItself,
    #[error("Only a master administrator can make a top-level group")]
    TopLevelNeedsMaster,
    /// Moving it would take it, and its agents, away from the group above it, which this
    /// administrator does not manage.
    #[error(
        "This group sits under a group you do not manage: only an administrator of that group can move it"
    )]
    ParentNotManaged,
}

impl Access {
    /// Whether a new group may be made under `parent` (`None`: at the top, masters only).
    pub(crate) fn may_create_under(&self, parent: Option<Id>) -> bool {
        match parent {
            Some(parent) => self.can_see(parent),
            None => self.is_master(),
        }
    }

    /// Where `group` ends up when asked to go under `requested` (`None`: the top).
    ///
    /// An administrator's own group sits at the top or under a group they do not see, so the
    /// form offers them no parent at all: asked for "none", the group stays where it is. Asked
    /// for another parent, it stays too: only whoever manages the group above may move it.
    pub(crate) fn move_group(
        &self,
        group: Id,
        requested: Option<Id>,
    ) -> Result<Option<Id>, MoveRefusal> {
        let current = self.tree.get(group).and_then(|g| g.parent_id);
        let above_is_theirs =
            self.is_master() || current.is_some_and(|parent| self.can_see(parent));
        match requested {
            None if self.is_master() => Ok(None),
            None if !above_is_theirs => Ok(current),
            None => Err(MoveRefusal::TopLevelNeedsMaster),
            Some(parent) if !self.can_see(parent) => Err(MoveRefusal::UnknownParent),
            Some(parent) if !above_is_theirs && Some(parent) != current => {
                Err(MoveRefusal::ParentNotManaged)
            }
            Some(parent) if self.tree.is_in_subtree(parent, group) => Err(MoveRefusal::IntoItself),
            Some(parent) => Ok(Some(parent)),
        }
    }
}

/// What a master may not do to their own account: the organization could be left without a
/// master, and nobody could sign in to repair it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AdminRefusal {
    #[error("You cannot delete your own account; ask another master administrator")]
    DeleteSelf,
}

/// Whether administrator `actor` may delete administrator `target`. Who may manage
/// administrators at all (masters) is checked before.
pub(crate) fn may_delete_admin(actor: Id, target: Id) -> Result<(), AdminRefusal> {
    if actor == target {
        Err(AdminRefusal::DeleteSelf)
    } else {
        Ok(())
    }
}

/// The master flag `target` keeps after `actor` edits it: a master cannot demote themselves.
pub(crate) fn kept_master_flag(actor: Id, target: Id, requested: bool) -> bool {
    requested || actor == target
}
