//! The organization tree as the left-hand side of every Admin Center page shows it: groups
//! (all listed, collapsed), the selected group's agents a page at a time, search matches, and
//! the administrators for a master.

use serde::{Deserialize, Serialize};

use super::{AppState, auth::AdminUser, error::AppResult};
use crate::{
    domain::{Id, natural_cmp},
    org::Access,
    storage::{AdminRecord, AgentCursor, AgentRecord},
};

/// Agents listed under an opened group before a "more" link. A group can hold 100,000.
pub(crate) const AGENTS_PER_PAGE: i64 = 100;

/// What the right-hand panel shows, so the tree can mark and open it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Selection {
    pub(crate) group: Option<Id>,
    pub(crate) agent: Option<Id>,
    pub(crate) admin: Option<Id>,
}

pub(crate) enum TreeItem {
    /// Opens a group's `<details>`; its children follow until the matching `Close`.
    Open(GroupNode),
    Close,
    Agent(AgentLeaf),
    /// The group's agents are fetched when it is opened (or shown on its page without script).
    LazyAgents {
        group_id: Id,
    },
    /// The link to the next page of a group's agents: `from` is its query string.
    MoreAgents {
        group_id: Id,
        from: String,
        remaining: i64,
    },
}

/// Where a page of a group's agents starts, as the links carry it: after the last agent of
/// the page before, by its sort key and id (keyset: a deep page costs what the first does),
/// and how many came before, for "N more". Text fields, since a query string is text; bad
/// values start over.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub(crate) struct AgentsFrom {
    #[serde(default)]
    after_key: String,
    #[serde(default)]
    after_id: String,
    #[serde(default)]
    shown: String,
}

impl AgentsFrom {
    pub(crate) fn cursor(&self) -> Option<AgentCursor> {
        Some(AgentCursor {
            sort_key: self.after_key.clone(),
            id: self.after_id.parse().ok()?,
        })
    }

    /// How many agents came before this page.
    pub(crate) fn shown(&self) -> i64 {
        self.cursor()
            .and_then(|_| self.shown.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0)
    }

    /// The page after `page` (of agents shown after this one's start), if `total` says there
    /// are more.
    pub(crate) fn next(&self, page: &[AgentRecord], total: i64) -> Option<(String, i64)> {
        let shown = self.shown() + page.len() as i64;
        let last = page.last().filter(|_| total > shown)?;
        let cursor = AgentCursor::after(last);
        let next = AgentsFrom {
            after_key: cursor.sort_key,
            after_id: cursor.id.to_string(),
            shown: shown.to_string(),
        };
        Some((serde_urlencoded::to_string(&next).ok()?, total - shown))
    }
}

pub(crate) struct GroupNode {
    pub(crate) id: Id,
    pub(crate) name: String,
    /// Agents in the group itself.
    pub(crate) agent_count: i64,
    /// Agents in the group and every group below it: what the tree shows.
    pub(crate) total_count: i64,
    pub(crate) open: bool,
    pub(crate) selected: bool,
    pub(crate) enabled: bool,
    pub(crate) filter_text: String,
}

pub(crate) struct AgentLeaf {
    pub(crate) id: Id,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) enabled: bool,
    pub(crate) selected: bool,
}

impl AgentLeaf {
    pub(crate) fn new(agent: &AgentRecord, selection: Selection) -> AgentLeaf {
        AgentLeaf {
            id: agent.id,
            name: agent.name.clone(),
            email: agent.email.clone(),
            enabled: agent.is_enabled(),
            selected: selection.agent == Some(agent.id),
        }
    }
}

pub(crate) struct AdminLeaf {
    pub(crate) id: Id,
    pub(crate) name: String,
    pub(crate) selected: bool,
}

/// Agents a search lists at most; the tree says how many more match.
const MATCHES_SHOWN: i64 = 50;

/// The agents a search finds in every group this administrator sees, opened or not: shown
/// above the tree, by the full page (Enter) and by the live filter as it is typed.
#[derive(Default)]
pub(crate) struct AgentMatches {
    pub(crate) query: String,
    pub(crate) agents: Vec<AgentLeaf>,
    /// Beyond the ones listed.
    pub(crate) more: i64,
}

impl AgentMatches {
    /// `query` is already trimmed and lower-cased; an empty one finds nothing.
    pub(crate) async fn find(
        state: &AppState,
        access: &Access,
        query: &str,
        selection: Selection,
    ) -> AppResult<AgentMatches> {
        if query.is_empty() {
            return Ok(AgentMatches::default());
        }
        let (agents, total) = state
            .storage
            .search_agents(&access.visible_ids(), query, MATCHES_SHOWN)
            .await?;
        let agents: Vec<AgentLeaf> = agents
            .iter()
            .map(|agent| AgentLeaf::new(agent, selection))
            .collect();
        Ok(AgentMatches {
            query: query.to_owned(),
            more: (total - agents.len() as i64).max(0),
            agents,
        })
    }
}

pub(crate) struct TreeView {
    pub(crate) items: Vec<TreeItem>,
    pub(crate) masters: Vec<AdminLeaf>,
    pub(crate) admins: Vec<AdminLeaf>,
    pub(crate) show_admins: bool,
    pub(crate) query: String,
    pub(crate) matches: AgentMatches,
}

impl TreeView {
    /// Groups are all listed (collapsed); only the selected group's first agents are loaded.
    pub(crate) async fn build(
        state: &AppState,
        user: &AdminUser,
        access: &Access,
        selection: Selection,
        query: &str,
    ) -> AppResult<TreeView> {
        let first = AgentsFrom::default();
        TreeView::build_paged(state, user, access, selection, query, &first).await
    }

    /// As [`TreeView::build`], with the selected group's agents from `from` on.
    pub(crate) async fn build_paged(
        state: &AppState,
        user: &AdminUser,
        access: &Access,
        selection: Selection,
        query: &str,
        from: &AgentsFrom,
    ) -> AppResult<TreeView> {
        let query = query.trim().to_lowercase();
        let mut open: Vec<Id> = selection
            .group
            .map(|id| access.tree.ancestors(id))
            .unwrap_or_default();
        open.extend(selection.group);
        let matching = |id: Id| -> bool {
            query.is_empty()
                || access.tree.subtree(id).iter().any(|gid| {
                    access
                        .tree
                        .get(*gid)
                        .is_some_and(|group| group.name.to_lowercase().contains(&query))
                })
        };
        let selected_agents = match selection.group {
            Some(group) => {
                state
                    .storage
                    .agents_in_group(group, AGENTS_PER_PAGE, from.cursor().as_ref())
                    .await?
            }
            None => Vec::new(),
        };

        let mut items = Vec::new();
        // Depth-first with an explicit stack: no recursion limit on deep trees.
        let mut stack: Vec<Option<Id>> = access.roots().into_iter().rev().map(Some).collect();
        while let Some(entry) = stack.pop() {
            let Some(id) = entry else {
                items.push(TreeItem::Close);
                continue;
            };
            let Some(group) = access.tree.get(id) else {
                continue;
            };
            if !matching(id) {
                continue;
            }
            items.push(TreeItem::Open(GroupNode {
                id,
                name: group.name.clone(),
                agent_count: group.agent_count,
                total_count: access.tree.agents_below(id),
                open: open.contains(&id) || !query.is_empty(),
                selected: selection.group == Some(id) && selection.agent.is_none(),
                enabled: group.is_enabled(),
                filter_text: group.name.to_lowercase(),
            }));
            if Some(id) == selection.group {
                items.extend(
                    selected_agents
                        .iter()
                        .map(|agent| TreeItem::Agent(AgentLeaf::new(agent, selection))),
                );
                if let Some((next, remaining)) = from.next(&selected_agents, group.agent_count) {
                    items.push(TreeItem::MoreAgents {
                        group_id: id,
                        from: next,
                        remaining,
                    });
                }
            } else if group.agent_count > 0 {
                items.push(TreeItem::LazyAgents { group_id: id });
            }
            stack.push(None);
            stack.extend(
                access
                    .tree
                    .children(Some(id))
                    .iter()
                    .rev()
                    .map(|child| Some(*child)),
            );
        }

        let matches = AgentMatches::find(state, access, &query, selection).await?;
        let show_admins = user.admin.is_master();
        let (masters, admins) = if show_admins {
            let leaf = |admin: &AdminRecord| AdminLeaf {
                id: admin.id,
                name: admin.name.clone(),
                selected: selection.admin == Some(admin.id),
            };
            let all = state.storage.list_admins().await?;
            (
                all.iter().filter(|a| a.is_master()).map(leaf).collect(),
                all.iter().filter(|a| !a.is_master()).map(leaf).collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(TreeView {
            items,
            masters,
            admins,
            show_admins,
            query,
            matches,
        })
    }
}

/// A group choice in a form: its path as this administrator sees it.
pub(crate) struct GroupOption {
    pub(crate) id: Id,
    pub(crate) path: String,
    pub(crate) selected: bool,
}

/// Every visible group, by path, for "parent group" and "group" selects.
pub(crate) fn group_options(
    access: &Access,
    selected: Option<Id>,
    exclude_subtree_of: Option<Id>,
) -> Vec<GroupOption> {
    let mut options: Vec<GroupOption> = access
        .visible_ids()
        .into_iter()
        .filter(|id| exclude_subtree_of.is_none_or(|root| !access.tree.is_in_subtree(*id, root)))
        .map(|id| GroupOption {
            id,
            path: access.visible_path(id),
            selected: selected == Some(id),
        })
        .collect();
    options.sort_by(|a, b| natural_cmp(&a.path, &b.path));
    options
}
