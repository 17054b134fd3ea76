//! Bulk actions from a group's Properties: the agents ticked (or all of the group, and below),
//! one action, a confirmation page that says how many, then the job. A small selection is done
//! before the answer; a large one runs in the background and the panel shows its progress.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::{
    AppState,
    auth::AdminUser,
    center::{Chrome, NewGroupForm},
    error::{AppError, AppResult},
    forms::FieldErrors,
    groups::{GroupQuery, group_page},
    tree::{Selection, TreeItem, TreeView},
};
use crate::{
    domain::Id,
    import::plural,
    jobs::bulk::run_to_end,
    org::{
        Access,
        bulk::{BulkRefusal, DONE_AT_ONCE, named_action},
    },
    storage::{BulkAction, BulkJob, BulkState, NewBulkJob},
};

/// Which agents a bulk action is for, as the form or the API says it: those ticked, or all
/// of the group (and of the groups below it, with `subgroups`).
#[derive(Debug, Default)]
pub(crate) struct BulkChoice {
    pub(crate) agent_ids: Vec<Id>,
    pub(crate) all: bool,
    pub(crate) subgroups: bool,
}

/// What the bulk form posted.
#[derive(Debug, Default)]
struct BulkForm {
    action: String,
    target_group_id: String,
    choice: BulkChoice,
    confirmed: bool,
}

impl BulkForm {
    /// Repeated `agent_id` fields are why this is not a `Form<T>`: serde_urlencoded keeps
    /// only one value per name.
    fn parse(body: &[u8]) -> Result<BulkForm, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
        let mut form = BulkForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "action" => form.action = value,
                "target_group_id" => form.target_group_id = value,
                "agent_id" => form
                    .choice
                    .agent_ids
                    .extend(value.trim().parse::<Id>().ok()),
                "all" => form.choice.all = !value.is_empty(),
                "subgroups" => form.choice.subgroups = !value.is_empty(),
                "confirmed" => form.confirmed = !value.is_empty(),
                _ => {}
            }
        }
        Ok(form)
    }

    fn action(&self) -> Result<BulkAction, BulkRefusal> {
        named_action(&self.action, self.target_group_id.trim().parse().ok())
    }

    /// The fields the confirmation page posts back, with `confirmed` added.
    fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("action", self.action.clone()),
            ("target_group_id", self.target_group_id.clone()),
            ("confirmed", "1".to_owned()),
        ];
        if self.choice.all {
            fields.push(("all", "1".to_owned()));
        } else {
            let ids = self.choice.agent_ids.iter();
            fields.extend(ids.map(|id| ("agent_id", id.to_string())));
        }
        if self.choice.subgroups {
            fields.push(("subgroups", "1".to_owned()));
        }
        fields
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/bulk_confirm.html")]
pub(crate) struct BulkConfirm {
    chrome: Chrome,
    tree: TreeView,
    group_id: Id,
    heading: String,
    consequence: String,
    button: String,
    danger: bool,
    fields: Vec<(&'static str, String)>,
    /// The first agents chosen, "Name <email>", and how many more: who it is about.
    named: Vec<String>,
    unnamed: usize,
}

/// Agents the confirmation names before "and N more".
const NAMED_ON_CONFIRMATION: usize = 10;

/// `POST /admin/groups/{id}/agents/bulk`: first the confirmation, then (with `confirmed`)
/// the action.
#[tracing::instrument(skip_all, fields(group_id = group_id))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    user: AdminUser,
    Path(group_id): Path<Id>,
    body: Bytes,
) -> AppResult<Response> {
    let access = user.access(&state).await?;
    if !access.can_see(group_id) {
        return Err(AppError::NotFound);
    }
    let form = BulkForm::parse(&body)?;
    let (action, agent_ids) =
        match resolve(&state, &access, group_id, form.action(), &form.choice).await? {
            Ok(chosen) => chosen,
            Err(refusal) => {
                let mut errors = FieldErrors::default();
                errors.add("bulk", refusal.to_string());
                let query = GroupQuery::default();
                let page = group_page(
                    &state,
                    &user,
                    group_id,
                    None,
                    errors,
                    NewGroupForm::default(),
                    &query,
                );
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page.await?).into_response());
            }
        };
    if !form.confirmed {
        return Ok(
            confirm(&state, &user, &access, group_id, &form, action, &agent_ids)
                .await?
                .into_response(),
        );
    }
    let job_id = start_in_group(&state, &user, &access, group_id, action, &agent_ids).await?;
    Ok(Redirect::to(&format!("/admin/groups/{group_id}?bulk={job_id}")).into_response())
}

/// Starts `action` on agents of `group_id`, whose Properties show its progress; its id.
pub(crate) async fn start_in_group(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    group_id: Id,
    action: BulkAction,
    agent_ids: &[Id],
) -> AppResult<Id> {
    let actor = user.actor();
    let subject = subject_of(access, action);
    let job = NewBulkJob {
        shown_in: Some(group_id),
        action,
        subject: &subject,
        actor: &actor,
        agent_ids,
    };
    start(state, job).await
}

/// Stores the job and, for a selection small enough, does it before the answer; a larger one
/// is left to the worker, woken for it. The job's id, for the banner.
pub(crate) async fn start(state: &AppState, job: NewBulkJob<'_>) -> AppResult<Id> {
    let small = job.agent_ids.len() <= DONE_AT_ONCE;
    let job_id = state.storage.create_bulk_job(job).await?;
    if small {
        // The request's own lease name: should the answer be dropped midway, the worker
        // takes the job over once this lease runs out.
        let owner = format!("request-{:016x}", rand::random::<u64>());
        run_to_end(&state.storage, &owner, state.config.job_lease, job_id).await?;
    } else {
        state.worker.wake();
    }
    Ok(job_id)
}

/// The action and the agents it is for, within what this administrator sees of `group_id`
/// (and below, with `subgroups`), or why it cannot start.
pub(crate) async fn resolve(
    state: &AppState,
    access: &Access,
    group_id: Id,
    action: Result<BulkAction, BulkRefusal>,
    choice: &BulkChoice,
) -> AppResult<Result<(BulkAction, Vec<Id>), BulkRefusal>> {
    let action = match action.and_then(|action| access.may_start(action).map(|()| action)) {
        Ok(action) => action,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let groups = match choice.subgroups {
        true => access.tree.subtree(group_id),
        false => vec![group_id],
    };
    let ids = match choice.all {
        true => state.storage.agent_ids_in_groups(&groups).await?,
        false => {
            state
                .storage
                .agents_among(&choice.agent_ids, &groups)
                .await?
        }
    };
    Ok(match ids.is_empty() {
        true => Err(BulkRefusal::NothingChosen),
        false => Ok((action, ids)),
    })
}

/// The group a job names: where agents move to, or the group deleted.
fn subject_of(access: &Access, action: BulkAction) -> String {
    match action {
        BulkAction::Move { to } => access.visible_path(to),
        BulkAction::DeleteGroup { group } => access.visible_path(group),
        _ => String::new(),
    }
}

async fn confirm(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    group_id: Id,
    form: &BulkForm,
    action: BulkAction,
    agent_ids: &[Id],
) -> AppResult<BulkConfirm> {
    let count = agent_ids.len();
    let agents = plural(count as i64, "agent", "agents");
    let from = access.visible_path(group_id);
    let from = match form.choice.subgroups {
        true => format!("{from} and the groups below it"),
        false => from,
    };
    let (heading, consequence, button) = match action {
        BulkAction::Move { to } => (
            format!("Move {agents} to {}?", access.visible_path(to)),
            format!(
                "{agents} of {from} will move to {}.",
                access.visible_path(to)
            ),
            format!("Move {agents}"),
        ),
        BulkAction::Enable => (
            format!("Enable {agents}?"),
            format!("{agents} of {from} will be able to sign in."),
            format!("Enable {agents}"),
        ),
        BulkAction::Disable => (
            format!("Disable {agents}?"),
            format!("{agents} of {from} will be signed out and unable to sign in."),
            format!("Disable {agents}"),
        ),
        BulkAction::RequirePasswordChange => (
            format!("Require {agents} to change their password?"),
            format!("{agents} of {from} will have to choose a new password at their next sign-in."),
            "Require a password change".to_owned(),
        ),
        BulkAction::Delete | BulkAction::DeleteGroup { .. } => (
            format!("Delete {agents}?"),
            format!("{agents} of {from} will be deleted and signed out. This cannot be undone."),
            format!("Delete {agents}"),
        ),
    };
    let consequence = match count > DONE_AT_ONCE {
        true => format!("{consequence} It runs in the background; this panel shows its progress."),
        false => consequence,
    };
    let selection = Selection {
        group: Some(group_id),
        ..Selection::default()
    };
    Ok(BulkConfirm {
        chrome: Chrome::new(user),
        tree: TreeView::build(state, user, access, selection, "").await?,
        group_id,
        heading,
        consequence,
        button,
        danger: action.deletes() || action == BulkAction::Disable,
        fields: form.hidden_fields(),
        named: named_agents(state, &agent_ids[..count.min(NAMED_ON_CONFIRMATION)]).await?,
        unnamed: count.saturating_sub(NAMED_ON_CONFIRMATION),
    })
}

/// "Name <email>" of each of these agents still there.
async fn named_agents(state: &AppState, ids: &[Id]) -> AppResult<Vec<String>> {
    let mut named = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(agent) = state.storage.agent_by_id(*id).await? {
            named.push(format!("{} <{}>", agent.name, agent.email));
        }
    }
    Ok(named)
}

/// A bulk job as the Properties panel shows it.
pub(crate) struct BulkView {
    pub(crate) running: bool,
    pub(crate) failed: bool,
    pub(crate) text: String,
}

impl BulkView {
    /// The banner of a panel (`group`; None: the top of the tree): the job just confirmed
    /// (`asked`, from `?bulk=`), else one still running there. At the top, where any job
    /// whose group's parent is out of its starter's sight lands, only a master sees others'
    /// jobs: their words name groups an administrator may not see.
    pub(crate) async fn shown_in(
        state: &AppState,
        user: &AdminUser,
        group: Option<Id>,
        asked: &str,
    ) -> AppResult<Option<BulkView>> {
        let mut jobs = state.storage.bulk_jobs_shown_in(group, 10).await?;
        if group.is_none() && !user.admin.is_master() {
            jobs.retain(|job| job.actor.admin_id == Some(user.admin.id));
        }
        let asked: Option<Id> = asked.parse().ok();
        let job = jobs
            .iter()
            .find(|job| Some(job.id) == asked)
            .or_else(|| jobs.iter().find(|job| !job.state.is_done()));
        Ok(job.map(BulkView::new))
    }

    pub(crate) fn new(job: &BulkJob) -> BulkView {
        let agents = plural(job.total, "agent", "agents");
        let running = !job.state.is_done();
        let what = match (job.action, running) {
            (BulkAction::Move { .. }, true) => format!("Moving {agents} to {}", job.subject),
            (BulkAction::Move { .. }, false) => format!("Moved {agents} to {}", job.subject),
            (BulkAction::Enable, true) => format!("Enabling {agents}"),
            (BulkAction::Enable, false) => format!("Enabled {agents}"),
            (BulkAction::Disable, true) => format!("Disabling {agents}"),
            (BulkAction::Disable, false) => format!("Disabled {agents}"),
            (BulkAction::RequirePasswordChange, true) => {
                format!("Requiring a password change of {agents}")
            }
            (BulkAction::RequirePasswordChange, false) => {
                format!("Required a password change of {agents}")
            }
            (BulkAction::Delete, true) => format!("Deleting {agents}"),
            (BulkAction::Delete, false) => format!("Deleted {agents}"),
            (BulkAction::DeleteGroup { .. }, true) => {
                format!("Deleting group {} with {agents}", job.subject)
            }
            (BulkAction::DeleteGroup { .. }, false) => {
                format!("Deleted group {} with {agents}", job.subject)
            }
        };
        let text = match job.state {
            BulkState::Queued => format!("{what}: waiting to start."),
            BulkState::Running => format!("{what}: {} of {} done.", job.done, job.total),
            BulkState::Done if job.changed == job.total => format!("{what}."),
            BulkState::Done => format!(
                "{what}: {} changed, {} left as they were (already so, or no longer yours).",
                job.changed,
                job.total - job.changed
            ),
            BulkState::Failed => format!(
                "{what}: stopped after {} of {}. {}",
                job.done,
                job.total,
                job.error.as_deref().unwrap_or_default()
            ),
        };
        BulkView {
            running,
            failed: job.state == BulkState::Failed,
            text,
        }
    }
}
