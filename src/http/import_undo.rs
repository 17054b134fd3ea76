//! Undo from the group's import history: a page that says what will happen, then the request,
//! which queues the undo as a durable job. The API asks through [`undo_job`] too.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    response::Redirect,
};

use super::{
    AppState, audit,
    auth::AdminUser,
    center::Chrome,
    error::{AppError, AppResult},
    forms::datetime,
    imports::visible_job,
    tree::{Selection, TreeItem, TreeView},
};
use crate::{
    domain::Id,
    storage::{AuditAction, ImportJob, NewAuditEvent, UndoPreview, UndoRequest},
};

#[derive(Template, WebTemplate)]
#[template(path = "pages/import_undo.html")]
pub(crate) struct UndoPage {
    pub(crate) chrome: Chrome,
    pub(crate) tree: TreeView,
    pub(crate) job_id: Id,
    pub(crate) group_id: Id,
    pub(crate) group_path: String,
    pub(crate) file_name: String,
    pub(crate) submitted_by: String,
    pub(crate) created_at: String,
    pub(crate) preview: UndoPreview,
}

/// Why an undo cannot be asked for now, for the 409 page and JSON alike.
fn refusal(request: UndoRequest) -> AppError {
    match request {
        UndoRequest::AlreadyUndone => {
            AppError::Conflict("This import has already been undone, or is being undone.")
        }
        UndoRequest::StillRunning => AppError::Conflict(
            "This import is still running. Cancel it or let it end, then undo it.",
        ),
        UndoRequest::NothingToUndo => AppError::Conflict(
            "This import changed nothing (it was a check, or its file was never read), so there is nothing to undo.",
        ),
        UndoRequest::NotFound | UndoRequest::Requested => AppError::NotFound,
    }
}

/// Queues the undo of a visible import and wakes the worker; the one place the web and the
/// API undo.
pub(crate) async fn undo_job(
    state: &AppState,
    user: &AdminUser,
    job_id: Id,
) -> AppResult<ImportJob> {
    let job = visible_job(state, user, job_id).await?;
    match state.storage.request_undo(job.id, &user.admin.name).await? {
        UndoRequest::Requested => {
            tracing::info!(job_id, by = %user.admin.name, "import undo requested");
            state.worker.wake();
            let subject = format!("#{} {}", job.id, job.file_name);
            let event = NewAuditEvent {
                group_id: Some(job.group_id),
                import_job_id: Some(job.id),
                ..NewAuditEvent::new(AuditAction::ImportUndone, &subject)
            };
            audit::record(state, user, event).await?;
            Ok(job)
        }
        refused => Err(refusal(refused)),
    }
}

/// The confirmation page: what the undo deletes, what it restores, and what it keeps.
#[tracing::instrument(skip_all, fields(job_id = job_id))]
pub(crate) async fn confirm(
    State(state): State<AppState>,
    user: AdminUser,
    Path(job_id): Path<Id>,
) -> AppResult<UndoPage> {
    let job = visible_job(&state, &user, job_id).await?;
    // Refused as the request would be: no page offers what cannot be done.
    if let Some(refused) = job.undo_refused() {
        return Err(refusal(refused));
    }
    let preview = state.storage.undo_preview(job.id).await?;
    let access = user.access(&state).await?;
    let selection = Selection {
        group: Some(job.group_id),
        ..Selection::default()
    };
    let tree = TreeView::build(&state, &user, &access, selection, "").await?;
    Ok(UndoPage {
        chrome: Chrome::new(&user),
        tree,
        job_id: job.id,
        group_id: job.group_id,
        group_path: access.visible_path(job.group_id),
        file_name: job.file_name,
        submitted_by: job.submitted_by,
        created_at: datetime(job.created_at),
        preview,
    })
}

/// The confirmation's "Undo import": back to the group, whose history then says it is undoing.
#[tracing::instrument(skip_all, fields(job_id = job_id))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    user: AdminUser,
    Path(job_id): Path<Id>,
) -> AppResult<Redirect> {
    let job = undo_job(&state, &user, job_id).await?;
    Ok(Redirect::to(&format!(
        "/admin/groups/{}?done=undo-requested",
        job.group_id
    )))
}
