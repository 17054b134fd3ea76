//! What one administrator may see of the tree.

use std::collections::HashSet;

use super::OrgTree;
use crate::{
    domain::{Id, natural_cmp},
    storage::{AdminRecord, Storage, StorageError},
};

/// What one administrator may see: everything (a master) or their groups and all below them.
pub(crate) struct Access {
    pub(crate) tree: OrgTree,
    visible: Option<HashSet<Id>>,
}

impl Access {
    /// What this administrator sees of the tree as it is now.
    pub(crate) async fn of(storage: &Storage, admin: &AdminRecord) -> Result<Access, StorageError> {
        let tree = OrgTree::new(storage.all_groups().await?);
        Ok(if admin.is_master() {
            Access::everything(tree)
        } else {
            Access::limited_to(tree, &storage.admin_group_ids(admin.id).await?)
        })
    }

    /// What the sender of a job sees: everything from the command line (None), nothing for an
    /// administrator deleted since.
    pub(crate) async fn of_sender(
        storage: &Storage,
        admin_id: Option<Id>,
    ) -> Result<Access, StorageError> {
        let Some(admin_id) = admin_id else {
            return Ok(Access::everything(OrgTree::new(
                storage.all_groups().await?,
            )));
        };
        match storage.admin_by_id(admin_id).await? {
            Some(admin) => Access::of(storage, &admin).await,
            None => Ok(Access::limited_to(
                OrgTree::new(storage.all_groups().await?),
                &[],
            )),
        }
    }

    pub(crate) fn everything(tree: OrgTree) -> Access {
        Access {
            tree,
            visible: None,
        }
    }

    pub(crate) fn limited_to(tree: OrgTree, assigned: &[Id]) -> Access {
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

    pub(crate) fn is_master(&self) -> bool {
        self.visible.is_none()
    }

    pub(crate) fn can_see(&self, group_id: Id) -> bool {
        self.tree.get(group_id).is_some()
            && self
                .visible
                .as_ref()
                .is_none_or(|visible| visible.contains(&group_id))
    }

    /// The top of what this administrator sees: the tree's top groups for a master, otherwise
    /// the assigned groups that are not below another assigned group.
    pub(crate) fn roots(&self) -> Vec<Id> {
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
                let name = |id: &Id| self.tree.get(*id).map_or("", |g| g.name.as_str());
                roots.sort_by(|a, b| natural_cmp(name(a), name(b)));
                roots
            }
        }
    }

    /// Every visible group id.
    pub(crate) fn visible_ids(&self) -> Vec<Id> {
        self.roots()
            .into_iter()
            .flat_map(|root| self.tree.subtree(root))
            .collect()
    }

    /// The path shown to this administrator: from their own root down, never naming a group
    /// they cannot see.
    pub(crate) fn visible_path(&self, id: Id) -> String {
        self.visible_path_with(id, " / ")
    }

    /// [`Access::visible_path`] with another separator: the API writes `Paris/Night shift`.
    pub(crate) fn visible_path_with(&self, id: Id, separator: &str) -> String {
        self.tree
            .ancestors(id)
            .into_iter()
            .chain([id])
            .filter(|gid| self.can_see(*gid))
            .filter_map(|gid| self.tree.get(gid).map(|group| group.name.as_str()))
            .collect::<Vec<_>>()
            .join(separator)
    }
}
