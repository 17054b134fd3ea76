//! The organization tree and who may see which part of it. Built per request from the list of
//! groups (a large account has about a thousand), so rights never drift from the data.

use std::collections::{HashMap, HashSet};

use crate::{
    domain::{GroupPath, Id},
    storage::GroupRecord,
};

pub struct OrgTree {
    groups: HashMap<Id, GroupRecord>,
    children: HashMap<Option<Id>, Vec<Id>>,
}

impl OrgTree {
    /// `groups` arrive sorted by name, so children lists are too.
    pub fn new(groups: Vec<GroupRecord>) -> OrgTree {
        let mut children: HashMap<Option<Id>, Vec<Id>> = HashMap::new();
        for group in &groups {
            children.entry(group.parent_id).or_default().push(group.id);
        }
        let groups = groups.into_iter().map(|group| (group.id, group)).collect();
        OrgTree { groups, children }
    }

    pub fn get(&self, id: Id) -> Option<&GroupRecord> {
        self.groups.get(&id)
    }

    pub fn children(&self, parent: Option<Id>) -> &[Id] {
        self.children
            .get(&parent)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// From the top of the tree down to `id`'s parent. The walk is bounded by the number of
    /// groups, so even a corrupted cycle cannot loop forever.
    pub fn ancestors(&self, id: Id) -> Vec<Id> {
        let mut chain = Vec::new();
        let mut current = self.get(id).and_then(|group| group.parent_id);
        while let Some(parent) = current {
            if chain.len() > self.groups.len() {
                break;
            }
            chain.push(parent);
            current = self.get(parent).and_then(|group| group.parent_id);
        }
        chain.reverse();
        chain
    }

    /// `id` and every group below it.
    pub fn subtree(&self, id: Id) -> Vec<Id> {
        let mut found = vec![id];
        let mut next = 0;
        while next < found.len() {
            found.extend_from_slice(self.children(Some(found[next])));
            next += 1;
        }
        found
    }

    pub fn is_in_subtree(&self, candidate: Id, root: Id) -> bool {
        candidate == root || self.ancestors(candidate).contains(&root)
    }

    /// "Support/Tier 1".
    pub fn path(&self, id: Id) -> String {
        self.ancestors(id)
            .into_iter()
            .chain([id])
            .filter_map(|gid| self.get(gid).map(|group| group.name.as_str()))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Follows a path from the top, names compared without case.
    pub fn find(&self, path: &GroupPath) -> Option<Id> {
        let mut parent = None;
        for name in path.segments() {
            let key = name.key();
            parent = Some(*self.children(parent).iter().find(|id| {
                self.get(**id)
                    .is_some_and(|group| group.name.to_lowercase() == key)
            })?);
        }
        parent
    }
}

/// What one administrator may see: everything (a master) or their groups and all below them.
pub struct Access {
    pub tree: OrgTree,
    visible: Option<HashSet<Id>>,
}

impl Access {
    pub fn everything(tree: OrgTree) -> Access {
        Access {
            tree,
            visible: None,
        }
    }

    pub fn limited_to(tree: OrgTree, assigned: &[Id]) -> Access {
        let visible = assigned
            .iter()
            .filter(|id| tree.get(**id).is_some())
            .flat_map(|id| tree.subtree(*id))
            .collect();
        Access {
            tree,
            visible: Some(visible),
        }
    }

    pub fn is_master(&self) -> bool {
        self.visible.is_none()
    }

    pub fn can_see(&self, group_id: Id) -> bool {
        self.tree.get(group_id).is_some()
            && self
                .visible
                .as_ref()
                .is_none_or(|visible| visible.contains(&group_id))
    }

    /// The top of what this administrator sees: the tree's top groups for a master, otherwise
    /// the assigned groups that are not below another assigned group.
    pub fn roots(&self) -> Vec<Id> {
        match &self.visible {
            None => self.tree.children(None).to_vec(),
            Some(visible) => {
                let mut roots: Vec<Id> = visible
                    .iter()
                    .copied()
                    .filter(|id| {
                        self.tree
                            .get(*id)
                            .and_then(|g| g.parent_id)
                            .is_none_or(|p| !visible.contains(&p))
                    })
                    .collect();
                roots.sort_by_key(|id| self.tree.get(*id).map(|g| g.name.to_lowercase()));
                roots
            }
        }
    }

    /// Every visible group id.
    pub fn visible_ids(&self) -> Vec<Id> {
        self.roots()
            .into_iter()
            .flat_map(|root| self.tree.subtree(root))
            .collect()
    }

    /// The path shown to this administrator: from their own root down, never naming a group
    /// they cannot see.
    pub fn visible_path(&self, id: Id) -> String {
        self.tree
            .ancestors(id)
            .into_iter()
            .chain([id])
            .filter(|gid| self.can_see(*gid))
            .filter_map(|gid| self.tree.get(gid).map(|group| group.name.as_str()))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: Id, parent_id: Option<Id>, name: &str) -> GroupRecord {
        GroupRecord {
            id,
            parent_id,
            name: name.into(),
            description: String::new(),
            enabled: 1,
            agent_count: 0,
        }
    }

    fn sample() -> OrgTree {
        OrgTree::new(vec![
            group(1, None, "Europe"),
            group(2, Some(1), "Paris"),
            group(3, Some(2), "Night shift"),
            group(4, None, "Support"),
        ])
    }

    #[test]
    fn paths_and_subtrees() {
        let tree = sample();
        assert_eq!(tree.path(3), "Europe/Paris/Night shift");
        assert_eq!(tree.subtree(1), vec![1, 2, 3]);
        assert!(tree.is_in_subtree(3, 1));
        assert!(!tree.is_in_subtree(1, 3));
        assert_eq!(
            tree.find(&GroupPath::parse("europe/PARIS").unwrap()),
            Some(2)
        );
        assert_eq!(tree.find(&GroupPath::parse("Europe/Lyon").unwrap()), None);
    }

    #[test]
    fn an_administrator_sees_only_below_their_groups() {
        let access = Access::limited_to(sample(), &[2]);
        assert!(access.can_see(2) && access.can_see(3));
        assert!(!access.can_see(1) && !access.can_see(4) && !access.can_see(99));
        assert_eq!(access.roots(), vec![2]);
        assert_eq!(access.visible_path(3), "Paris / Night shift");
        let master = Access::everything(sample());
        assert_eq!(master.roots(), vec![1, 4]);
        assert!(master.can_see(4) && !master.can_see(99));
    }
}
