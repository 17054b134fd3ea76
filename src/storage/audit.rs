//! The audit log: who changed what, when and from which address. Events are only ever added;
//! they keep names as they were, so they still read right after what they name is gone.

use super::{Result, Storage, StorageError, placeholders};
use crate::domain::Id;

/// What was done. Its text is what the log stores and the filters send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    AgentCreated,
    AgentChanged,
    AgentPasswordSet,
    AgentDeleted,
    GroupCreated,
    GroupChanged,
    GroupDeleted,
    AdminCreated,
    AdminChanged,
    AdminPasswordSet,
    AdminDeleted,
    ImportStarted,
    ImportEnded,
    ImportCancelled,
    ImportUndone,
}

/// The filter's choices: the kind of thing an action is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    Agent,
    Group,
    Admin,
    Import,
}

impl AuditKind {
    pub const ALL: [AuditKind; 4] = [
        AuditKind::Agent,
        AuditKind::Group,
        AuditKind::Admin,
        AuditKind::Import,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Agent => "agent",
            AuditKind::Group => "group",
            AuditKind::Admin => "admin",
            AuditKind::Import => "import",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditKind::Agent => "Agents",
            AuditKind::Group => "Groups",
            AuditKind::Admin => "Administrators",
            AuditKind::Import => "Imports",
        }
    }

    pub fn parse(text: &str) -> Option<AuditKind> {
        AuditKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

impl AuditAction {
    const ALL: [AuditAction; 15] = [
        AuditAction::AgentCreated,
        AuditAction::AgentChanged,
        AuditAction::AgentPasswordSet,
        AuditAction::AgentDeleted,
        AuditAction::GroupCreated,
        AuditAction::GroupChanged,
        AuditAction::GroupDeleted,
        AuditAction::AdminCreated,
        AuditAction::AdminChanged,
        AuditAction::AdminPasswordSet,
        AuditAction::AdminDeleted,
        AuditAction::ImportStarted,
        AuditAction::ImportEnded,
        AuditAction::ImportCancelled,
        AuditAction::ImportUndone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::AgentCreated => "agent.created",
            AuditAction::AgentChanged => "agent.changed",
            AuditAction::AgentPasswordSet => "agent.password_set",
            AuditAction::AgentDeleted => "agent.deleted",
            AuditAction::GroupCreated => "group.created",
            AuditAction::GroupChanged => "group.changed",
            AuditAction::GroupDeleted => "group.deleted",
            AuditAction::AdminCreated => "admin.created",
            AuditAction::AdminChanged => "admin.changed",
            AuditAction::AdminPasswordSet => "admin.password_set",
            AuditAction::AdminDeleted => "admin.deleted",
            AuditAction::ImportStarted => "import.started",
            AuditAction::ImportEnded => "import.ended",
            AuditAction::ImportCancelled => "import.cancelled",
            AuditAction::ImportUndone => "import.undone",
        }
    }

    /// As the log page says it.
    pub fn describe(self) -> &'static str {
        match self {
            AuditAction::AgentCreated => "created agent",
            AuditAction::AgentChanged => "changed agent",
            AuditAction::AgentPasswordSet => "set the password of agent",
            AuditAction::AgentDeleted => "deleted agent",
            AuditAction::GroupCreated => "created group",
            AuditAction::GroupChanged => "changed group",
            AuditAction::GroupDeleted => "deleted group",
            AuditAction::AdminCreated => "created administrator",
            AuditAction::AdminChanged => "changed administrator",
            AuditAction::AdminPasswordSet => "set the password of administrator",
            AuditAction::AdminDeleted => "deleted administrator",
            AuditAction::ImportStarted => "started import",
            AuditAction::ImportEnded => "ended",
            AuditAction::ImportCancelled => "cancelled import",
            AuditAction::ImportUndone => "undid import",
        }
    }

    pub fn kind(self) -> AuditKind {
        match self {
            AuditAction::AgentCreated
            | AuditAction::AgentChanged
            | AuditAction::AgentPasswordSet
            | AuditAction::AgentDeleted => AuditKind::Agent,
            AuditAction::GroupCreated | AuditAction::GroupChanged | AuditAction::GroupDeleted => {
                AuditKind::Group
            }
            AuditAction::AdminCreated
            | AuditAction::AdminChanged
            | AuditAction::AdminPasswordSet
            | AuditAction::AdminDeleted => AuditKind::Admin,
            AuditAction::ImportStarted
            | AuditAction::ImportEnded
            | AuditAction::ImportCancelled
            | AuditAction::ImportUndone => AuditKind::Import,
        }
    }

    fn parse(text: &str) -> Result<AuditAction> {
        AuditAction::ALL
            .into_iter()
            .find(|action| action.as_str() == text)
            .ok_or_else(|| StorageError::unknown("audit_events.action", text))
    }
}

/// Who acted: an administrator (with the address they came from) or the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditActor {
    pub admin_id: Option<Id>,
    /// "Maria Master <maria@example.com>", or "the command line".
    pub name: String,
    /// The client's address, empty when unknown (the command line).
    pub address: String,
}

impl AuditActor {
    pub fn command_line() -> AuditActor {
        AuditActor {
            admin_id: None,
            name: "the command line".to_owned(),
            address: String::new(),
        }
    }

    /// An import's own job, ending it.
    pub fn import_job(job_id: Id) -> AuditActor {
        AuditActor {
            admin_id: None,
            name: format!("Import #{job_id}"),
            address: String::new(),
        }
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub action: AuditAction,
    pub subject: &'a str,
    pub group_id: Option<Id>,
    pub agent_id: Option<Id>,
    pub import_job_id: Option<Id>,
    /// What changed, in words; never a password.
    pub detail: &'a str,
}

impl<'a> NewAuditEvent<'a> {
    /// An event of no group, agent or import, without detail: fill in what applies.
    pub fn new(action: AuditAction, subject: &'a str) -> NewAuditEvent<'a> {
        NewAuditEvent {
            action,
            subject,
            group_id: None,
            agent_id: None,
            import_job_id: None,
            detail: "",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Id,
    pub at: i64,
    pub actor_id: Option<Id>,
    pub actor: String,
    pub address: String,
    pub action: AuditAction,
    pub subject: String,
    pub group_id: Option<Id>,
    pub agent_id: Option<Id>,
    pub import_job_id: Option<Id>,
    pub detail: String,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: Id,
    at: i64,
    actor_id: Option<Id>,
    actor: String,
    address: String,
    action: String,
    subject: String,
    group_id: Option<Id>,
    agent_id: Option<Id>,
    import_job_id: Option<Id>,
    detail: String,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StorageError;

    fn try_from(row: AuditRow) -> Result<AuditEvent> {
        Ok(AuditEvent {
            id: row.id,
            at: row.at,
            actor_id: row.actor_id,
            actor: row.actor,
            address: row.address,
            action: AuditAction::parse(&row.action)?,
            subject: row.subject,
            group_id: row.group_id,
            agent_id: row.agent_id,
            import_job_id: row.import_job_id,
            detail: row.detail,
        })
    }
}

/// Which events to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// None: every group's, and events of no group (administrators): a master's view.
    /// Some: only events of these groups.
    pub groups: Option<Vec<Id>>,
    pub actor_id: Option<Id>,
    pub kind: Option<AuditKind>,
    pub agent_id: Option<Id>,
    pub limit: i64,
    pub offset: i64,
}

/// Where an imported agent came from: the import, its row, and who submitted it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentOrigin {
    pub job_id: Id,
    pub row_no: Option<i64>,
    pub file_name: String,
    pub submitted_by: String,
}

impl Storage {
    /// The import that created an agent, if one did (and is still on record).
    pub async fn agent_origin(&self, agent_id: Id) -> Result<Option<AgentOrigin>> {
        Ok(sqlx::query_as(
            "SELECT j.id AS job_id, r.row_no, j.file_name, j.submitted_by \
             FROM agents a JOIN import_jobs j ON j.id = a.import_job_id \
             LEFT JOIN import_rows r ON r.job_id = j.id AND r.agent_id = a.id \
             WHERE a.id = $1",
        )
        .bind(agent_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn record_audit(&self, actor: &AuditActor, event: NewAuditEvent<'_>) -> Result<()> {
        insert_audit(&self.pool, self.now(), actor, event).await
    }

    pub async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let mut conditions = Vec::new();
        let mut next = 1;
        if let Some(groups) = &query.groups {
            if groups.is_empty() {
                return Ok(Vec::new());
            }
            conditions.push(format!(
                "group_id IN ({})",
                placeholders(next, groups.len())
            ));
            next += groups.len();
        }
        let mut placeholder = || {
            let at = next;
            next += 1;
            format!("${at}")
        };
        let actor = query.actor_id.map(|_| placeholder());
        if let Some(at) = &actor {
            conditions.push(format!("actor_id = {at}"));
        }
        let kind = query.kind.map(|_| placeholder());
        if let Some(at) = &kind {
            conditions.push(format!("action LIKE {at}"));
        }
        let agent = query.agent_id.map(|_| placeholder());
        if let Some(at) = &agent {
            conditions.push(format!("agent_id = {at}"));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let (limit, offset) = (placeholder(), placeholder());
        let sql = format!(
            "SELECT id, at, actor_id, actor, address, action, subject, group_id, agent_id, \
                    import_job_id, detail \
             FROM audit_events {filter} ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
        );
        let mut select = sqlx::query_as::<_, AuditRow>(&sql);
        for id in query.groups.iter().flatten() {
            select = select.bind(*id);
        }
        if let Some(actor_id) = query.actor_id {
            select = select.bind(actor_id);
        }
        if let Some(kind) = query.kind {
            select = select.bind(format!("{}.%", kind.as_str()));
        }
        if let Some(agent_id) = query.agent_id {
            select = select.bind(agent_id);
        }
        let rows = select
            .bind(query.limit)
            .bind(query.offset)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(AuditEvent::try_from).collect()
    }
}

/// Writes one event with whatever the caller writes with: a bulk job's events commit in the
/// transaction of the changes they record.
pub(super) async fn insert_audit<'e, E>(
    executor: E,
    at: i64,
    actor: &AuditActor,
    event: NewAuditEvent<'_>,
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_events (at, actor_id, actor, address, action, subject, group_id, \
                                   agent_id, import_job_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(at)
    .bind(actor.admin_id)
    .bind(&actor.name)
    .bind(&actor.address)
    .bind(event.action.as_str())
    .bind(event.subject)
    .bind(event.group_id)
    .bind(event.agent_id)
    .bind(event.import_job_id)
    .bind(event.detail)
    .execute(executor)
    .await?;
    Ok(())
}
