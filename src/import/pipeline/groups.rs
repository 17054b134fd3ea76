//! Where each row's agent goes: the selected group, or the subgroup its Group cell names below
//! it (`Tier 1/Night`), created when missing. A check creates nothing: a missing subgroup is
//! one an import would create.

use std::collections::HashMap;

use crate::{
    domain::{Description, GroupName, GroupPath, Id},
    import::plan::Target,
    org::OrgTree,
    storage::{Storage, StorageError},
};

pub(super) struct RowGroups<'a> {
    storage: &'a Storage,
    selected: Id,
    create: bool,
    tree: OrgTree,
    /// Groups this job made, by parent and name key: the tree was read before them.
    made: HashMap<(Id, String), Id>,
    /// Each distinct path once: a 100,000-row file names a handful.
    resolved: HashMap<String, Target>,
}

impl<'a> RowGroups<'a> {
    pub(super) async fn new(
        storage: &'a Storage,
        selected: Id,
        create: bool,
    ) -> Result<RowGroups<'a>, StorageError> {
        Ok(RowGroups {
            storage,
            selected,
            create,
            tree: OrgTree::new(storage.all_groups().await?),
            made: HashMap::new(),
            resolved: HashMap::new(),
        })
    }

    /// The group for a row's path (None: the selected group).
    pub(super) async fn target(
        &mut self,
        path: Option<&GroupPath>,
    ) -> Result<Target, StorageError> {
        let Some(path) = path else {
            return Ok(Target::Group(self.selected));
        };
        let key = path
            .segments()
            .iter()
            .map(GroupName::key)
            .collect::<Vec<_>>()
            .join("/");
        if let Some(target) = self.resolved.get(&key) {
            return Ok(*target);
        }
        let mut parent = self.selected;
        for name in path.segments() {
            match self.child(parent, name).await? {
                Some(child) => parent = child,
                None => {
                    self.resolved.insert(key, Target::NewGroup);
                    return Ok(Target::NewGroup);
                }
            }
        }
        self.resolved.insert(key, Target::Group(parent));
        Ok(Target::Group(parent))
    }

    /// The child of `parent` with this name: found, made by this job, or created now (unless
    /// the job only checks). Another import creating it at the same moment is no error: the
    /// sibling-name index refuses the second, which then reads the first.
    async fn child(&mut self, parent: Id, name: &GroupName) -> Result<Option<Id>, StorageError> {
        if let Some(id) = self.tree.child_named(Some(parent), name) {
            return Ok(Some(id));
        }
        let made_key = (parent, name.key());
        if let Some(id) = self.made.get(&made_key) {
            return Ok(Some(*id));
        }
        if !self.create {
            return Ok(None);
        }
        let blank = Description::parse("").expect("an empty description is valid");
        let id = match self.storage.create_group(Some(parent), name, &blank).await {
            Ok(id) => {
                tracing::info!(group_id = id, parent, "import created a subgroup");
                id
            }
            Err(StorageError::Duplicate) => {
                self.tree = OrgTree::new(self.storage.all_groups().await?);
                match self.tree.child_named(Some(parent), name) {
                    Some(id) => id,
                    None => return Err(StorageError::Duplicate),
                }
            }
            Err(other) => return Err(other),
        };
        self.made.insert(made_key, id);
        Ok(Some(id))
    }
}
