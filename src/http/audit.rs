//! The audit log as the Admin Center records and shows it: one event per change, by whom and
//! from where; a page for masters (everything) and administrators (their groups), filtered and
//! paged; `GET /api/v1/audit`.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Json,
    extract::{Query, State},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    auth::{AdminUser, ApiAdmin},
    center::Chrome,
    error::{ApiResult, AppError, AppResult, ErrorJson},
    forms::datetime,
    tree::{Selection, TreeItem, TreeView},
};
use crate::{
    domain::{Id, natural_cmp},
    org::Access,
    storage::{AuditEvent, AuditKind, AuditQuery, NewAuditEvent},
};

/// Records what `user` just did.
pub(crate) async fn record(
    state: &AppState,
    user: &AdminUser,
    event: NewAuditEvent<'_>,
) -> AppResult<()> {
    Ok(state.storage.record_audit(&user.actor(), event).await?)
}

/// What a change changed, field by field, for an event's detail: `name: Ann → Anna; enabled:
/// yes → no`. Never given a password.
#[derive(Default)]
pub(crate) struct Changes(Vec<String>);

impl Changes {
    pub(crate) fn field(mut self, name: &str, before: &str, after: &str) -> Changes {
        if before != after {
            self.0.push(format!("{name}: {before} → {after}"));
        }
        self
    }

    pub(crate) fn flag(self, name: &str, before: bool, after: bool) -> Changes {
        let word = |on| if on { "yes" } else { "no" };
        self.field(name, word(before), word(after))
    }

    pub(crate) fn text(&self) -> String {
        self.0.join("; ")
    }
}

/// Events on one page of the log.
const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogQuery {
    /// A group's id: its events and those of the groups below it.
    #[serde(default)]
    group: String,
    /// An administrator's id (masters only).
    #[serde(default)]
    actor: String,
    /// `agent`, `group`, `admin` or `import`.
    #[serde(default)]
    kind: String,
    /// From 1.
    #[serde(default)]
    page: String,
}

impl LogQuery {
    fn page(&self) -> i64 {
        self.page.parse::<i64>().unwrap_or(1).max(1)
    }

    /// The storage query this administrator may run: their groups' events only, unless they
    /// are a master. A group outside them answers 404, as everywhere.
    fn for_access(&self, access: &Access) -> Result<AuditQuery, AppError> {
        let group: Option<Id> = self.group.parse().ok();
        if group.is_some_and(|id| !access.can_see(id)) {
            return Err(AppError::NotFound);
        }
        let groups = match group {
            Some(id) => Some(access.tree.subtree(id)),
            None if access.is_master() => None,
            None => Some(access.visible_ids()),
        };
        Ok(AuditQuery {
            groups,
            actor_id: self.actor.parse().ok(),
            kind: AuditKind::parse(&self.kind),
            agent_id: None,
            limit: PAGE_SIZE + 1,
            offset: (self.page() - 1) * PAGE_SIZE,
        })
    }
}

pub(crate) struct EventLine {
    pub(crate) at: String,
    pub(crate) actor: String,
    pub(crate) address: String,
    pub(crate) action: &'static str,
    pub(crate) subject: String,
    pub(crate) detail: String,
}

impl From<&AuditEvent> for EventLine {
    fn from(event: &AuditEvent) -> EventLine {
        EventLine {
            at: datetime(event.at),
            actor: event.actor.clone(),
            address: event.address.clone(),
            action: event.action.describe(),
            subject: event.subject.clone(),
            detail: event.detail.clone(),
        }
    }
}

pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) chosen: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/audit.html")]
pub(crate) struct AuditPage {
    chrome: Chrome,
    tree: TreeView,
    events: Vec<EventLine>,
    groups: Vec<Choice>,
    kinds: Vec<Choice>,
    /// Masters filter by administrator; others see only their groups' events anyway.
    actors: Vec<Choice>,
    actor: String,
    page: i64,
    /// Links to the neighbouring pages, filters kept.
    previous: Option<String>,
    next: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: AdminUser,
    Query(query): Query<LogQuery>,
) -> AppResult<AuditPage> {
    let access = user.access(&state).await?;
    let mut events = state
        .storage
        .audit_events(&query.for_access(&access)?)
        .await?;
    let more = events.len() as i64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    let page = query.page();
    let link = |page: i64| {
        let pairs = [
            ("group", query.group.as_str()),
            ("actor", query.actor.as_str()),
            ("kind", query.kind.as_str()),
        ];
        let mut url: Vec<String> = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| format!("{key}={}", urlencoded(value)))
            .collect();
        url.push(format!("page={page}"));
        format!("/admin/audit?{}", url.join("&"))
    };
    let mut groups: Vec<Choice> = access
        .visible_ids()
        .into_iter()
        .map(|id| Choice {
            value: id.to_string(),
            label: access.visible_path(id),
            chosen: query.group == id.to_string(),
        })
        .collect();
    groups.sort_by(|a, b| natural_cmp(&a.label, &b.label));
    let kinds = AuditKind::ALL
        .into_iter()
        .map(|kind| Choice {
            value: kind.as_str().to_owned(),
            label: kind.label().to_owned(),
            chosen: query.kind == kind.as_str(),
        })
        .collect();
    let actors = match access.is_master() {
        true => state
            .storage
            .list_admins()
            .await?
            .into_iter()
            .map(|admin| Choice {
                chosen: query.actor == admin.id.to_string(),
                value: admin.id.to_string(),
                label: format!("{} <{}>", admin.name, admin.email),
            })
            .collect(),
        false => Vec::new(),
    };
    let tree = TreeView::build(&state, &user, &access, Selection::default(), "").await?;
    Ok(AuditPage {
        actors,
        chrome: Chrome::new(&user),
        tree,
        events: events.iter().map(EventLine::from).collect(),
        groups,
        kinds,
        actor: query.actor.clone(),
        page,
        previous: (page > 1).then(|| link(page - 1)),
        next: more.then(|| link(page + 1)),
    })
}

fn urlencoded(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|pair| pair.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EventJson {
    id: Id,
    at: i64,
    actor_id: Option<Id>,
    actor: String,
    address: String,
    action: &'static str,
    subject: String,
    group_id: Option<Id>,
    agent_id: Option<Id>,
    import_id: Option<Id>,
    detail: String,
}

impl From<AuditEvent> for EventJson {
    fn from(event: AuditEvent) -> EventJson {
        EventJson {
            id: event.id,
            at: event.at,
            actor_id: event.actor_id,
            actor: event.actor,
            address: event.address,
            action: event.action.as_str(),
            subject: event.subject,
            group_id: event.group_id,
            agent_id: event.agent_id,
            import_id: event.import_job_id,
            detail: event.detail,
        }
    }
}

/// `GET /api/v1/audit?group=&actor=&kind=&page=`: the page's events, newest first, at most 50.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(LogQuery),
    responses(
        (status = 200, description = "The page's events, newest first", body = [EventJson]),
        (status = 404, description = "A group that is not yours", body = ErrorJson),
    ),
)]
pub(crate) async fn api(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Query(query): Query<LogQuery>,
) -> ApiResult<Json<Vec<EventJson>>> {
    let access = user.access(&state).await?;
    let mut filter = query.for_access(&access)?;
    filter.limit = PAGE_SIZE;
    let events = state.storage.audit_events(&filter).await?;
    Ok(Json(events.into_iter().map(EventJson::from).collect()))
}
