//! Group Properties: view, create, rename, move, enable/disable (deletion: `group_delete`).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    AppState,
    auth::AdminUser,
    bulk::BulkView,
    center::{Chrome, NewGroupForm, home_page},
    error::{AppError, AppResult},
    forms::{FieldErrors, optional_id, ticked},
    group_edits::{GroupEdit, NewGroup, create_group, update_group, visible_group},
    import_view::{ImportView, Moment},
    tree::{
        AGENTS_PER_PAGE, AgentsFrom, GroupOption, Selection, TreeItem, TreeView, group_options,
    },
};
use crate::import::{RowOutcome, summary_line};
use crate::{
    domain::Id,
    storage::{AgentRecord, ImportJob, JobState},
};

/// How many past imports the Properties panel lists.
const HISTORY_LENGTH: i64 = 10;

/// Row errors listed while an import still runs; the result file has them all.
pub(crate) const ROW_ERRORS_SHOWN: i64 = 20;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GroupForm {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) enabled: Option<String>,
    #[serde(default)]
    pub(crate) parent_id: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/group.html")]
pub(crate) struct GroupPage {
    pub(crate) chrome: Chrome,
    pub(crate) tree: TreeView,
    pub(crate) group_id: Id,
    pub(crate) path: String,
    pub(crate) agent_count: i64,
    /// Agents in the group and every group below it.
    pub(crate) agents_below: i64,
    /// The group's agents, a page at a time, with checkboxes for bulk actions: the number of
    /// the page's first, and the query string of the next page.
    pub(crate) agents: Vec<ListedAgent>,
    pub(crate) agents_first: i64,
    pub(crate) agents_next: Option<String>,
    /// A bulk action running here, or the one just confirmed.
    pub(crate) bulk: Option<BulkView>,
    pub(crate) move_options: Vec<GroupOption>,
    /// The group sits under a group this administrator does not see: it cannot be moved.
    pub(crate) parent_outside: bool,
    pub(crate) subgroup_count: usize,
    pub(crate) form: GroupForm,
    pub(crate) form_enabled: bool,
    pub(crate) parent_options: Vec<GroupOption>,
    pub(crate) may_be_top_level: bool,
    pub(crate) errors: FieldErrors,
    pub(crate) new_group: NewGroupForm,
    pub(crate) latest: Option<ImportView>,
    /// While the latest import runs: its row errors found so far, and how many more there are.
    pub(crate) row_errors: Vec<(i64, String)>,
    pub(crate) more_errors: i64,
    pub(crate) history: Vec<ImportView>,
    pub(crate) notice: Option<&'static str>,
    /// The imports of the history an Undo link is offered for.
    pub(crate) undoable: Vec<Id>,
    /// The latest undo among the history, with the agents it kept.
    pub(crate) undo: Option<UndoNotice>,
}

impl GroupPage {
    pub(crate) fn offers_undo(&self, job_id: &Id) -> bool {
        self.undoable.contains(job_id)
    }
}

/// An agent in the panel's list.
pub(crate) struct ListedAgent {
    pub(crate) id: Id,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) enabled: bool,
    pub(crate) must_change_password: bool,
}

impl From<&AgentRecord> for ListedAgent {
    fn from(agent: &AgentRecord) -> ListedAgent {
        ListedAgent {
            id: agent.id,
            name: agent.name.clone(),
            email: agent.email.clone(),
            enabled: agent.is_enabled(),
            must_change_password: agent.must_change_password(),
        }
    }
}

/// An undo in progress or done, under the banner: its summary (None when the banner above
/// already says it: the undone import is the latest) and the agents it kept.
pub(crate) struct UndoNotice {
    pub(crate) summary: Option<String>,
    pub(crate) kept: Vec<String>,
    pub(crate) more_kept: i64,
}

/// Kept agents listed under an undo's summary.
const KEPT_SHOWN: i64 = 50;

/// The history's undo in progress, else its latest finished one, with what it kept.
async fn undo_notice(state: &AppState, imports: &[ImportJob]) -> AppResult<Option<UndoNotice>> {
    let undo = imports
        .iter()
        .find(|job| job.state == JobState::Undoing)
        .or_else(|| {
            imports
                .iter()
                .filter(|job| job.state == JobState::Undone)
                .max_by_key(|job| job.undone_at)
        });
    let Some(job) = undo else {
        return Ok(None);
    };
    let kept: Vec<String> = state
        .storage
        .undo_kept_agents(job.id, KEPT_SHOWN)
        .await?
        .iter()
        .map(ToString::to_string)
        .collect();
    let is_latest = imports.first().is_some_and(|latest| latest.id == job.id);
    if is_latest && kept.is_empty() {
        return Ok(None);
    }
    Ok(Some(UndoNotice {
        summary: (!is_latest).then(|| summary_line(job)),
        more_kept: (job.undo_kept_count - kept.len() as i64).max(0),
        kept,
    }))
}

/// What each redirect after a change says at the top of the panel.
fn notice(code: &str) -> Option<&'static str> {
    match code {
        "saved" => Some("Group saved."),
        "created" => Some("Group created."),
        "agent-deleted" => Some("Agent deleted."),
        "group-deleted" => Some("Group deleted."),
        "import-queued" => Some("File accepted. The import runs in the background."),
        "check-queued" => {
            Some("File accepted. Every row is being checked; nothing will be changed.")
        }
        "undo-requested" => Some("Undo requested. It runs in the background."),
        _ => None,
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct GroupQuery {
    #[serde(default)]
    q: String,
    /// The page of the group's agents, in the tree and in the panel's list.
    #[serde(flatten)]
    from: AgentsFrom,
    #[serde(default)]
    done: String,
    /// The bulk action just confirmed, whose outcome the panel shows.
    #[serde(default)]
    bulk: String,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    Query(query): Query<GroupQuery>,
) -> AppResult<GroupPage> {
    let mut page = group_page(
        &state,
        &user,
        id,
        None,
        FieldErrors::default(),
        NewGroupForm::default(),
        &query,
    )
    .await?;
    page.notice = notice(&query.done);
    Ok(page)
}

/// The group's panel; `form` is the edit form's input when it is shown again with errors.
pub(crate) async fn group_page(
    state: &AppState,
    user: &AdminUser,
    id: Id,
    form: Option<GroupForm>,
    errors: FieldErrors,
    new_group: NewGroupForm,
    query: &GroupQuery,
) -> AppResult<GroupPage> {
    let access = user.access(state).await?;
    let group = visible_group(&access, id)?;
    let form = form.unwrap_or_else(|| GroupForm {
        name: group.name.clone(),
        description: group.description.clone(),
        enabled: group.is_enabled().then(|| "on".to_owned()),
        parent_id: group.parent_id.map(|p| p.to_string()).unwrap_or_default(),
    });
    let selected_parent = optional_id(&form.parent_id).ok().flatten();
    let imports = state.storage.group_imports(id, HISTORY_LENGTH).await?;
    let at = Moment::of(state);
    let history: Vec<ImportView> = imports.iter().map(|job| ImportView::new(job, at)).collect();
    let latest = match imports.first() {
        Some(job) => Some(ImportView::latest(state, job).await?),
        None => None,
    };
    let row_errors = match imports.first() {
        Some(job) if !job.state.is_done() && job.failed_count > 0 => state
            .storage
            .row_errors(job.id, ROW_ERRORS_SHOWN)
            .await?
            .into_iter()
            .map(|(row_no, outcome)| (row_no, RowOutcome::from(outcome).to_string()))
            .collect(),
        _ => Vec::new(),
    };
    let undoable = imports
        .iter()
        .filter(|job| job.can_be_undone())
        .map(|job| job.id)
        .collect();
    let undo = undo_notice(state, &imports).await?;
    let more_errors = imports
        .first()
        .map_or(0, |job| job.failed_count - row_errors.len() as i64)
        .max(0);
    let selection = Selection {
        group: Some(id),
        ..Selection::default()
    };
    let tree =
        TreeView::build_paged(state, user, &access, selection, &query.q, &query.from).await?;
    let listed = state
        .storage
        .agents_in_group(id, AGENTS_PER_PAGE, query.from.cursor().as_ref())
        .await?;
    let agents_next = query
        .from
        .next(&listed, group.agent_count)
        .map(|(next, _)| next);
    let bulk = BulkView::shown_in(state, user, Some(id), &query.bulk).await?;
    Ok(GroupPage {
        chrome: Chrome::new(user),
        group_id: id,
        path: access.visible_path(id),
        agent_count: group.agent_count,
        agents_below: access.tree.agents_below(id),
        agents_first: query.from.shown() + 1,
        agents: listed.iter().map(ListedAgent::from).collect(),
        agents_next,
        bulk,
        move_options: group_options(&access, None, None),
        parent_outside: group
            .parent_id
            .is_some_and(|parent| !access.can_see(parent)),
        subgroup_count: access.tree.children(Some(id)).len(),
        form_enabled: ticked(&form.enabled),
        parent_options: group_options(&access, selected_parent, Some(id)),
        may_be_top_level: access.is_master(),
        errors,
        new_group: NewGroupForm {
            parent_id: id.to_string(),
            ..new_group
        },
        latest,
        row_errors,
        more_errors,
        history,
        notice: None,
        undoable,
        undo,
        tree,
        form,
    })
}

pub(crate) async fn create(
    State(state): State<AppState>,
    user: AdminUser,
    Form(form): Form<NewGroupForm>,
) -> AppResult<Response> {
    let access = user.access(&state).await?;
    let parent_id = optional_id(&form.parent_id)
        .ok()
        .ok_or(AppError::NotFound)?;
    let new = NewGroup {
        parent_id,
        name: &form.name,
        description: &form.description,
        enabled: true,
    };
    let errors = match create_group(&state, &user, &access, new).await? {
        Ok(id) => {
            return Ok(Redirect::to(&format!("/admin/groups/{id}?done=created")).into_response());
        }
        // The panel's "new group" form sits beside the group's own: its fields say so.
        Err(errors) => errors
            .renamed("name", "new_name")
            .renamed("description", "new_description"),
    };
    Ok(match parent_id {
        Some(parent) => group_page(
            &state,
            &user,
            parent,
            None,
            errors,
            form,
            &GroupQuery::default(),
        )
        .await?
        .into_response(),
        None => home_page(&state, &user, "", form, errors)
            .await?
            .into_response(),
    })
}

#[tracing::instrument(skip_all, fields(group_id = id))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    Form(form): Form<GroupForm>,
) -> AppResult<Response> {
    let access = user.access(&state).await?;
    // The form always names a parent (the current one preselected); one it cannot read is
    // said beside its field, and nothing is saved.
    let mut unreadable = FieldErrors::default();
    let parent = optional_id(&form.parent_id)
        .map_err(|message| unreadable.add("parent_id", message))
        .ok();
    let edit = GroupEdit {
        name: &form.name,
        description: &form.description,
        enabled: ticked(&form.enabled),
        parent,
    };
    let errors = match update_group(&state, &user, &access, id, edit, unreadable).await? {
        Ok(()) => {
            return Ok(Redirect::to(&format!("/admin/groups/{id}?done=saved")).into_response());
        }
        Err(errors) => errors,
    };
    let page = group_page(
        &state,
        &user,
        id,
        Some(form),
        errors,
        NewGroupForm::default(),
        &GroupQuery::default(),
    )
    .await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
