//! Import Users: the page, the template, the upload, and the result file.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Multipart, Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    AppState,
    auth::AdminUser,
    center::Chrome,
    error::{AppError, AppResult},
    forms::datetime,
    tree::{Selection, TreeItem, TreeView},
    upload::{attachment, result_file_name, submit_upload},
};
use crate::{
    domain::Id,
    import::template,
    storage::{ImportJob, JobState},
};

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A job as the notification bar, the history and the API show it.
#[derive(Debug, Clone)]
pub(crate) struct ImportView {
    pub(crate) id: Id,
    pub(crate) group_id: Id,
    pub(crate) file_name: String,
    pub(crate) submitted_by: String,
    pub(crate) created_at: String,
    pub(crate) state: &'static str,
    pub(crate) running: bool,
    pub(crate) failed_state: bool,
    pub(crate) total_for_bar: i64,
    pub(crate) done: i64,
    pub(crate) created: i64,
    pub(crate) failed: i64,
    pub(crate) percent: i64,
    pub(crate) progress_text: String,
    pub(crate) summary: String,
    pub(crate) error: Option<String>,
    pub(crate) has_result: bool,
}

fn plural(count: i64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

impl ImportView {
    pub(crate) fn new(job: &ImportJob) -> ImportView {
        let state = job.state();
        let total = job.total_rows.unwrap_or(0);
        let percent = if total > 0 {
            job.done_rows * 100 / total
        } else {
            0
        };
        let progress_text = match job.total_rows {
            None => "Reading the file…".to_owned(),
            Some(total) => format!(
                "{} of {} rows done, {} so far",
                job.done_rows,
                total,
                plural(job.failed_count, "error", "errors")
            ),
        };
        ImportView {
            id: job.id,
            group_id: job.group_id,
            file_name: job.file_name.clone(),
            submitted_by: job.submitted_by.clone(),
            created_at: datetime(job.created_at),
            state: state.as_str(),
            running: !state.is_done(),
            failed_state: state == JobState::Failed,
            total_for_bar: total.max(1),
            done: job.done_rows,
            created: job.created_count,
            failed: job.failed_count,
            percent,
            progress_text,
            summary: format!(
                "Import of {} finished: {} created, {} failed",
                job.file_name,
                plural(job.created_count, "agent", "agents"),
                job.failed_count
            ),
            error: job.error.clone(),
            has_result: job.has_result(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/import.html")]
pub(crate) struct ImportPage {
    pub(crate) chrome: Chrome,
    pub(crate) tree: TreeView,
    pub(crate) group_id: Id,
    pub(crate) group_name: String,
    pub(crate) error: Option<String>,
    pub(crate) max_rows: usize,
    pub(crate) max_megabytes: u64,
    pub(crate) min_password: usize,
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
    let tree = TreeView::build(state, user, &access, selection, "", 0).await?;
    Ok(ImportPage {
        chrome: Chrome::new(user),
        tree,
        group_id,
        group_name,
        error,
        max_rows: state.config.limits.max_rows,
        max_megabytes: state.config.limits.max_upload_bytes.div_ceil(1 << 20),
        min_password: state.config.password_policy.min_chars(),
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
        Ok(_) => Ok(
            Redirect::to(&format!("/admin/groups/{group_id}?done=import-queued")).into_response(),
        ),
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
