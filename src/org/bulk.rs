//! What a bulk action does to one agent, and who may start one on what: the one place the web
//! form, the job that runs it and a group's deletion ask.

use super::Access;
use crate::{
    domain::Id,
    storage::{AgentChange, BulkAction, BulkAgent},
};

/// A selection at most this large is done within the request; a larger one runs as a
/// background job with progress, as an import does.
pub(crate) const DONE_AT_ONCE: usize = 250;

/// Why a bulk action cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BulkRefusal {
    #[error("Choose what to do with the agents")]
    UnknownAction,
    #[error("Choose at least one agent")]
    NothingChosen,
    #[error("Choose the group to move the agents to")]
    UnknownTarget,
}

impl BulkRefusal {
    /// The input it is about, for a form's or the API's field errors.
    pub(crate) fn field(self) -> &'static str {
        match self {
            BulkRefusal::UnknownAction => "action",
            BulkRefusal::NothingChosen => "agent_ids",
            BulkRefusal::UnknownTarget => "target_group_id",
        }
    }
}

/// The action a form or a request names (`move` needs its group); a group's deletion is not
/// among them: it is asked for on its own page, by typing the group's name.
pub(crate) fn named_action(word: &str, target: Option<Id>) -> Result<BulkAction, BulkRefusal> {
    Ok(match word.trim() {
        "move" => BulkAction::Move {
            to: target.ok_or(BulkRefusal::UnknownTarget)?,
        },
        "enable" => BulkAction::Enable,
        "disable" => BulkAction::Disable,
        "require_password_change" => BulkAction::RequirePasswordChange,
        "delete" => BulkAction::Delete,
        _ => return Err(BulkRefusal::UnknownAction),
    })
}

impl Access {
    /// Whether this administrator may start `action`: a move needs a group they see.
    pub(crate) fn may_start(&self, action: BulkAction) -> Result<(), BulkRefusal> {
        match action {
            BulkAction::Move { to } if !self.can_see(to) => Err(BulkRefusal::UnknownTarget),
            BulkAction::DeleteGroup { group } if !self.can_see(group) => {
                Err(BulkRefusal::UnknownTarget)
            }
            _ => Ok(()),
        }
    }

    /// What `action` does to `agent` as the job finds it: an agent out of reach now (moved to
    /// a group this administrator does not see, or theirs no longer) or already so is left
    /// as it is.
    pub(crate) fn bulk_change(&self, action: BulkAction, agent: &BulkAgent) -> AgentChange {
        if !self.can_see(agent.group_id) {
            return AgentChange::Unchanged;
        }
        let word = |on: bool| if on { "yes" } else { "no" };
        let flag = |name: &str, before: bool, after: bool| match before == after {
            true => AgentChange::Unchanged,
            false => AgentChange::Changed {
                detail: format!("{name}: {} → {}", word(before), word(after)),
            },
        };
        match action {
            BulkAction::Move { to } if agent.group_id == to => AgentChange::Unchanged,
            BulkAction::Move { to } => AgentChange::Changed {
                detail: format!(
                    "group: {} → {}",
                    self.visible_path(agent.group_id),
                    self.visible_path(to)
                ),
            },
            BulkAction::Enable => flag("enabled", agent.is_enabled(), true),
            BulkAction::Disable => flag("enabled", agent.is_enabled(), false),
            BulkAction::RequirePasswordChange => {
                flag("must change password", agent.must_change_password(), true)
            }
            BulkAction::Delete => AgentChange::Changed {
                detail: String::new(),
            },
            BulkAction::DeleteGroup { .. } => AgentChange::Changed {
                detail: format!("with group {}", self.visible_path(agent.group_id)),
            },
        }
    }

    /// A group's deletion: the groups it takes, deepest first, each with the audit log's path.
    pub(crate) fn groups_deleted_with(&self, group: Id) -> Vec<(Id, String)> {
        let mut groups: Vec<(Id, String)> = self
            .tree
            .subtree(group)
            .into_iter()
            .map(|id| (id, self.tree.path(id)))
            .collect();
        groups.reverse();
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{org::OrgTree, storage::GroupRecord};

    fn group(id: Id, parent: Option<Id>, name: &str) -> GroupRecord {
        GroupRecord {
            id,
            parent_id: parent,
            name: name.to_owned(),
            description: String::new(),
            enabled: 1,
            agent_count: 0,
        }
    }

    fn tree() -> OrgTree {
        OrgTree::new(vec![
            group(1, None, "Support"),
            group(2, Some(1), "Tier 1"),
            group(3, None, "Sales"),
        ])
    }

    fn agent(group_id: Id, enabled: bool, must_change: bool) -> BulkAgent {
        BulkAgent {
            id: 7,
            group_id,
            name: "Ann".into(),
            email: "ann@example.com".into(),
            enabled: i64::from(enabled),
            must_change_password: i64::from(must_change),
        }
    }

    #[test]
    fn an_agent_already_so_is_left_alone() {
        let access = Access::everything(tree());
        let unchanged = AgentChange::Unchanged;
        assert_eq!(
            access.bulk_change(BulkAction::Enable, &agent(1, true, false)),
            unchanged
        );
        assert_eq!(
            access.bulk_change(BulkAction::Move { to: 2 }, &agent(2, true, false)),
            unchanged
        );
        assert_eq!(
            access.bulk_change(BulkAction::RequirePasswordChange, &agent(1, true, true)),
            unchanged
        );
    }

    #[test]
    fn a_change_says_what_it_changed() {
        let access = Access::everything(tree());
        assert_eq!(
            access.bulk_change(BulkAction::Move { to: 2 }, &agent(3, true, false)),
            AgentChange::Changed {
                detail: "group: Sales → Support / Tier 1".into()
            }
        );
        assert_eq!(
            access.bulk_change(BulkAction::Disable, &agent(1, true, false)),
            AgentChange::Changed {
                detail: "enabled: yes → no".into()
            }
        );
    }

    #[test]
    fn an_agent_out_of_reach_is_not_touched() {
        let access = Access::limited_to(tree(), &[1]);
        assert_eq!(
            access.bulk_change(BulkAction::Delete, &agent(3, true, false)),
            AgentChange::Unchanged
        );
        assert_eq!(
            access.may_start(BulkAction::Move { to: 3 }),
            Err(BulkRefusal::UnknownTarget)
        );
        assert_eq!(access.may_start(BulkAction::Move { to: 2 }), Ok(()));
    }

    #[test]
    fn an_action_is_named_by_its_word() {
        assert_eq!(
            named_action(" move ", Some(2)),
            Ok(BulkAction::Move { to: 2 })
        );
        assert_eq!(named_action("move", None), Err(BulkRefusal::UnknownTarget));
        assert_eq!(named_action("delete", None), Ok(BulkAction::Delete));
        assert_eq!(
            named_action("delete_group", Some(1)),
            Err(BulkRefusal::UnknownAction),
            "a group's deletion has its own page"
        );
    }

    #[test]
    fn a_group_is_deleted_deepest_first() {
        let access = Access::everything(tree());
        let ids: Vec<Id> = access
            .groups_deleted_with(1)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, vec![2, 1]);
    }
}
