//! `roster admin create`, `roster admin password` and `roster group create`.

use std::process::ExitCode;

use anyhow::bail;

use super::password_input::read_new_password;
use crate::{
    config::Config,
    domain::{AgentName, Description, Email, GroupPath, hash_password},
    org::OrgTree,
    storage::{AuditAction, AuditActor, NewAdmin, NewAuditEvent, Storage, StorageError},
};

/// The password comes from standard input (never a flag, which `ps` and shell history show).
pub async fn create_admin(
    storage: &Storage,
    config: &Config,
    email: &str,
    name: &str,
    master: bool,
    groups: &[String],
) -> anyhow::Result<ExitCode> {
    let email = Email::parse(email)?;
    let name = AgentName::parse(name)?;
    let password = read_new_password()?;
    config.password_policy.check(&password)?;
    let tree = OrgTree::new(storage.all_groups().await?);
    let mut group_ids = Vec::new();
    for path in groups {
        let parsed = GroupPath::parse(path)?;
        match tree.find(&parsed) {
            Some(id) => group_ids.push(id),
            None => bail!("there is no group {path:?}; create it first with `roster group create`"),
        }
    }
    let hash = hash_password(&password);
    let admin = NewAdmin {
        email: &email,
        name: &name,
        password_hash: &hash,
        is_master: master,
        group_ids: &group_ids,
    };
    match storage.create_admin(admin).await {
        Ok(id) => {
            let subject = format!("{} <{email}>", name.as_str());
            let event = NewAuditEvent::new(AuditAction::AdminCreated, &subject);
            storage
                .record_audit(&AuditActor::command_line(), event)
                .await?;
            // A new master has also ended every outstanding setup link (see `create_admin`).
            eprintln!("Administrator {email} created (id {id}).");
            Ok(ExitCode::SUCCESS)
        }
        Err(StorageError::Duplicate) => {
            bail!("an administrator with the email {email} already exists")
        }
        Err(other) => Err(other.into()),
    }
}

/// Sets an administrator's password (from standard input) and signs them out everywhere: the
/// way back in for anyone, a master included, who forgot theirs.
pub async fn set_admin_password(
    storage: &Storage,
    config: &Config,
    email: &str,
) -> anyhow::Result<ExitCode> {
    let email = Email::parse(email)?;
    let Some(admin) = storage.admin_by_email(&email).await? else {
        bail!("there is no administrator with the email {email}");
    };
    let password = read_new_password()?;
    config.password_policy.check(&password)?;
    let hash = hash_password(&password);
    storage.set_admin_password(admin.id, &hash, None).await?;
    let subject = format!("{} <{}>", admin.name, admin.email);
    let event = NewAuditEvent::new(AuditAction::AdminPasswordSet, &subject);
    storage
        .record_audit(&AuditActor::command_line(), event)
        .await?;
    eprintln!("The password of {email} is changed; their sessions and API tokens have ended.");
    Ok(ExitCode::SUCCESS)
}

/// Creates each missing group along the path; existing ones are reused.
pub async fn create_group(storage: &Storage, path: &str) -> anyhow::Result<ExitCode> {
    let path = GroupPath::parse(path)?;
    let mut parent = None;
    for name in path.segments() {
        let tree = OrgTree::new(storage.all_groups().await?);
        let existing = tree.children(parent).iter().copied().find(|id| {
            tree.get(*id)
                .is_some_and(|g| g.name.to_lowercase() == name.key())
        });
        parent = Some(match existing {
            Some(id) => id,
            None => {
                storage
                    .create_group(parent, name, &Description::parse("")?)
                    .await?
            }
        });
    }
    eprintln!(
        "Group {} is ready (id {}).",
        path.segments()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join("/"),
        parent.unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
