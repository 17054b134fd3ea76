//! The organization tree: groups, their parents and children, and paths through them.

use std::collections::HashMap;

use crate::{
    domain::{GroupName, GroupPath, Id, natural_cmp},
    storage::GroupRecord,
};

pub(crate) struct OrgTree {
    groups: HashMap<Id, GroupRecord>,
    children: HashMap<Option<Id>, Vec<Id>>,
    /// Agents in each group and every group below it, added up once: the tree shows this
    /// for every group, and a subtree per group would be quadratic on a deep chain.
    totals: HashMap<Id, i64>,
}

impl OrgTree {
    /// Children are listed in natural order ("Tier 2" before "Tier 10", case aside).
    pub(crate) fn new(mut groups: Vec<GroupRecord>) -> OrgTree {
        groups.sort_by(|a, b| natural_cmp(&a.name, &b.name).then(a.id.cmp(&b.id)));
        let mut children: HashMap<Option<Id>, Vec<Id>> = HashMap::new();
        for group in &groups {
            children.entry(group.parent_id).or_default().push(group.id);
        }
        let groups: HashMap<Id, GroupRecord> =
            groups.into_iter().map(|group| (group.id, group)).collect();
        let totals = totals(&groups, &children);
        OrgTree {
            groups,
            children,
            totals,
        }
    }

    /// Agents in `id` and every group below it.
    pub(crate) fn agents_below(&self, id: Id) -> i64 {
        self.totals.get(&id).copied().unwrap_or(0)
    }

    pub(crate) fn get(&self, id: Id) -> Option<&GroupRecord> {
        self.groups.get(&id)
    }

    pub(crate) fn children(&self, parent: Option<Id>) -> &[Id] {
        self.children
            .get(&parent)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// From the top of the tree down to `id`'s parent. The walk is bounded by the number of
    /// groups, so even a corrupted cycle cannot loop forever.
    pub(crate) fn ancestors(&self, id: Id) -> Vec<Id> {
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
    pub(crate) fn subtree(&self, id: Id) -> Vec<Id> {
        let mut found = vec![id];
        let mut next = 0;
        while next < found.len() {
            found.extend_from_slice(self.children(Some(found[next])));
            next += 1;
        }
        found
    }

    pub(crate) fn is_in_subtree(&self, candidate: Id, root: Id) -> bool {
        candidate == root || self.ancestors(candidate).contains(&root)
    }

    /// "Support/Tier 1".
    pub(crate) fn path(&self, id: Id) -> String {
        self.ancestors(id)
            .into_iter()
            .chain([id])
            .filter_map(|gid| self.get(gid).map(|group| group.name.as_str()))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Follows a path from the top, names compared without case.
    pub(crate) fn find(&self, path: &GroupPath) -> Option<Id> {
        let mut parent = None;
        for name in path.segments() {
            parent = Some(self.child_named(parent, name)?);
        }
        parent
    }

    /// The child of `parent` with this name, compared without case.
    pub(crate) fn child_named(&self, parent: Option<Id>, name: &GroupName) -> Option<Id> {
        let key = name.key();
        self.children(parent).iter().copied().find(|id| {
            self.get(*id)
                .is_some_and(|group| group.name.to_lowercase() == key)
        })
    }
}

/// Each group's agents with those of every group below it: groups in breadth-first order
/// from the top, then added to their parents from the deepest up. A group whose parent is
/// missing (out of the records given) is a top of its own.
fn totals(
    groups: &HashMap<Id, GroupRecord>,
    children: &HashMap<Option<Id>, Vec<Id>>,
) -> HashMap<Id, i64> {
    let mut order: Vec<Id> = groups
        .values()
        .filter(|group| {
            group
                .parent_id
                .is_none_or(|parent| !groups.contains_key(&parent))
        })
        .map(|group| group.id)
        .collect();
    let mut next = 0;
    while next < order.len() {
        if let Some(below) = children.get(&Some(order[next])) {
            order.extend_from_slice(below);
        }
        next += 1;
    }
    let mut totals: HashMap<Id, i64> = groups
        .values()
        .map(|group| (group.id, group.agent_count))
        .collect();
    for id in order.into_iter().rev() {
        let parent = groups.get(&id).and_then(|group| group.parent_id);
        if let Some(parent) = parent.filter(|parent| groups.contains_key(parent)) {
            let own = totals[&id];
            *totals.entry(parent).or_default() += own;
        }
    }
    totals
}
