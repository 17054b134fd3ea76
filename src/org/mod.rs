//! The organization tree, who may see which part of it, and the rules for changing it. The tree
//! is built per request from the list of groups (a large account has about a thousand), so
//! rights never drift from the data. The web forms, the API and the command line ask the same
//! functions here, so a rule lives in one place.

mod access;
pub(crate) mod bulk;
pub(crate) mod export;
mod rules;
mod tree;

pub(crate) use access::Access;
pub(crate) use rules::{kept_master_flag, may_delete_admin};
pub(crate) use tree::OrgTree;

#[cfg(test)]
use rules::{AdminRefusal, MoveRefusal};
#[cfg(test)]
mod tests;
