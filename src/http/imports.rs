//! Import Users: the page, the template, the upload, and the result file.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Multipart, Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    AppState, audit,
    auth::AdminUser,
    center::Chrome,
    error::{AppError, AppResult},
    tree::{Selection, TreeItem, TreeView},
    upload::{attachment, result_file_name, submit_upload},
};
use crate::{
    domain::Id,
    import::template,
    storage::{AuditAction, CancelRequest, ImportJob, ImportMode, JobState, NewAuditEvent},
};

pub(crate) const XLSX_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Template, WebTemplate)]
#[template(path = "pages/import.html")]
pub(crate) struct ImportPage {
    pub(crate) chrome: Chrome,
    pub(crate) tree: TreeView,
    pub(crate) group_id: Id,
    pub(crate) group_name: String,
    /// Where the group sits: two groups may share a name.
    pub(crate) group_path: String,
    pub(crate) error: Option<String>,
    pub(crate) max_rows: usize,
    pub(crate) max_megabytes: u64,
    pub(crate) min_password: usize,
    pub(crate) modes: Vec<ModeChoice>,
    /// Another import of the group is queued, running or being undone.
    pub(crate) busy: Option<String>,
}

pub(crate) struct ModeChoice {
    pub(crate) value: &'static str,
    pub(crate) label: &'static str,
    pub(crate) chosen: bool,
}

impl ModeChoice {
    fn all(chosen: ImportMode) -> Vec<ModeChoice> {
        ImportMode::ALL
            .into_iter()
            .map(|mode| ModeChoice {
                value: mode.as_str(),
                label: mode.describe(),
                chosen: mode == chosen,
            })
            .collect()
    }
}

async fn import_page(
    state: &AppState,
    user: &AdminUser,
    group_id: Id,
    error: Option<String>,
) -> AppResult<ImportPage> {
    let access = user.access(state).await?;
    let group = access
        .can_see(group_id)
        .then(|| access.tree.get(group_id))
        .flatten()
        .ok_or(AppError::NotFound)?;
    let group_name = group.name.clone();
    let selection = Selection {
        group: Some(group_id),
        ..Selection::default()
    };
    let tree = TreeView::build(state, user, &access, selection, "").await?;
    let busy = state
        .storage
        .group_imports(group_id, 1)
        .await?
        .into_iter()
        .find(|job| !job.state.is_done() || job.state == JobState::Undoing)
        .map(|job| match job.state {
            JobState::Undoing => format!("The import of {} is being undone.", job.file_name),
            JobState::Queued => format!("An import of {} is queued for this group.", job.file_name),
            _ => format!("An import of {} is running in this group.", job.file_name),
        });
    Ok(ImportPage {
        chrome: Chrome::new(user),
        tree,
        group_id,
        group_name,
        group_path: access.visible_path(group_id),
        error,
        max_rows: state.config.limits.max_rows,
        max_megabytes: state.config.limits.max_upload_bytes.div_ceil(1 << 20),
        min_password: state.config.password_policy.min_chars(),
        modes: ModeChoice::all(ImportMode::default()),
        busy,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: AdminUser,
    Path(group_id): Path<Id>,
) -> AppResult<ImportPage> {
    import_page(&state, &user, group_id, None).await
}

/// Checks the file at once and queues it; a file that cannot be imported is explained on the
/// same page and nothing is created.
pub(crate) async fn upload(
    State(state): State<AppState>,
    user: AdminUser,
    Path(group_id): Path<Id>,
    multipart: Multipart,
) -> AppResult<Response> {
    let outcome = submit_upload(&state, &user, group_id, multipart).await;
    match outcome {
        Ok(queued) => {
            let done = match queued.options.dry_run {
                true => "check-queued",
                false => "import-queued",
            };
            Ok(Redirect::to(&format!("/admin/groups/{group_id}?done={done}")).into_response())
        }
        Err(error @ (AppError::File(_) | AppError::BadRequest(_))) => {
            let status = error.status();
            let page = import_page(&state, &user, group_id, Some(error.to_string())).await?;
            Ok((status, page).into_response())
        }
        Err(other) => Err(other),
    }
}

pub(crate) async fn template_xlsx(_user: AdminUser) -> Response {
    let bytes = crate::telemetry::spawn_blocking_with_tracing(template::template_xlsx).await;
    (
        [(header::CONTENT_TYPE, XLSX_TYPE)],
        [attachment("roster-import-template.xlsx")],
        bytes,
    )
        .into_response()
}

pub(crate) async fn template_csv(_user: AdminUser) -> Response {
    (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        [attachment("roster-import-template.csv")],
        template::template_csv(),
    )
        .into_response()
}

/// The result spreadsheet, for an administrator of the job's group only.
#[tracing::instrument(skip_all, fields(job_id = job_id))]
pub(crate) async fn result(
    State(state): State<AppState>,
    user: AdminUser,
    Path(job_id): Path<Id>,
) -> AppResult<Response> {
    result_download(&state, &user, job_id).await
}

pub(crate) async fn result_download(
    state: &AppState,
    user: &AdminUser,
    job_id: Id,
) -> AppResult<Response> {
    let job = visible_job(state, user, job_id).await?;
    let bytes = state
        .storage
        .import_result(job_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, XLSX_TYPE)],
        [attachment(&result_file_name(&job.file_name))],
        bytes,
    )
        .into_response())
}

/// A job the administrator may see; anything else is the same 404 as a job that never was.
pub(crate) async fn visible_job(
    state: &AppState,
    user: &AdminUser,
    job_id: Id,
) -> AppResult<ImportJob> {
    let job = state
        .storage
        .import_job(job_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let access = user.access(state).await?;
    if access.can_see(job.group_id) {
        Ok(job)
    } else {
        Err(AppError::NotFound)
    }
}

/// Asks a visible job to stop after its batch; the one place the web and the API cancel.
pub(crate) async fn cancel_job(
    state: &AppState,
    user: &AdminUser,
    job_id: Id,
) -> AppResult<ImportJob> {
    let job = visible_job(state, user, job_id).await?;
    match state.storage.request_cancel(job.id).await? {
        CancelRequest::Requested => {
            tracing::info!(job_id, by = %user.admin.name, "import cancel requested");
            let subject = format!("#{} {}", job.id, job.file_name);
            let event = NewAuditEvent {
                group_id: Some(job.group_id),
                import_job_id: Some(job.id),
                ..NewAuditEvent::new(AuditAction::ImportCancelled, &subject)
            };
            audit::record(state, user, event).await?;
            Ok(job)
        }
        CancelRequest::AlreadyEnded => Err(AppError::Conflict(
            "This import has already ended; there is nothing left to cancel.",
        )),
        CancelRequest::NotFound => Err(AppError::NotFound),
    }
}

/// The banner's Cancel button: back to the group, whose banner then says it is cancelling.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    user: AdminUser,
    Path(job_id): Path<Id>,
) -> AppResult<Redirect> {
    let job = cancel_job(&state, &user, job_id).await?;
    Ok(Redirect::to(&format!("/admin/groups/{}", job.group_id)))
}
