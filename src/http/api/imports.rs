//! Imports through the API: a group's imports, an upload, one import's status and result
//! file, cancel and undo.

use axum::{
    Json,
    extract::{Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::super::{
    AppState,
    auth::ApiAdmin,
    error::{ApiResult, AppError, ErrorJson},
    groups::ROW_ERRORS_SHOWN,
    import_undo::undo_job,
    import_view::{ImportView, Moment},
    imports::{cancel_job, result_download, visible_job},
    upload::submit_upload,
};
use crate::{domain::Id, import::RowOutcome, storage::ImportJob};

/// An import's state as scripts and the progress bar read it.
#[derive(Serialize, ToSchema)]
pub(crate) struct ImportJson {
    id: Id,
    group_id: Id,
    file_name: String,
    state: &'static str,
    mode: &'static str,
    dry_run: bool,
    must_change_password: bool,
    total_rows: Option<i64>,
    done_rows: i64,
    /// In a check: how many would be created, updated, skipped.
    created: i64,
    updated: i64,
    skipped: i64,
    /// Rows of a result file uploaded again that were done already.
    kept: i64,
    failed: i64,
    not_imported: i64,
    percent: i64,
    progress_text: String,
    summary: Option<String>,
    error: Option<String>,
    result_url: Option<String>,
    /// Undo: agents taken back, and agents kept because they changed after the import.
    undone: i64,
    undo_kept: i64,
    /// Servers writing its agents now (PostgreSQL spreads an import over every process).
    processes: i64,
    /// The first failed rows, on a single import's status: the banner's list grows live.
    #[serde(skip_serializing_if = "Option::is_none")]
    row_errors: Option<Vec<RowErrorJson>>,
}

#[derive(Serialize, ToSchema)]
struct RowErrorJson {
    row: i64,
    message: String,
}

impl ImportJson {
    fn new(view: ImportView, job: &ImportJob) -> ImportJson {
        ImportJson {
            id: job.id,
            group_id: job.group_id,
            file_name: job.file_name.clone(),
            state: view.state,
            mode: job.options.mode.as_str(),
            dry_run: job.options.dry_run,
            must_change_password: job.options.must_change_password,
            total_rows: job.total_rows,
            done_rows: job.done_rows,
            created: job.created_count,
            updated: job.updated_count,
            skipped: job.skipped_count,
            kept: job.kept_count,
            failed: job.failed_count,
            percent: view.percent,
            progress_text: view.progress_text,
            not_imported: job.not_imported_count,
            summary: (!view.running && !view.failed_state).then_some(view.summary),
            error: job.error.clone(),
            result_url: view
                .has_result
                .then(|| format!("/api/v1/imports/{}/result", job.id)),
            row_errors: None,
            undone: job.undone_count,
            undo_kept: job.undo_kept_count,
            processes: view.processes,
        }
    }

    /// With the first `limit` failed rows, as the banner lists them.
    async fn with_row_errors(mut self, state: &AppState, limit: i64) -> Result<Self, AppError> {
        let errors = state.storage.row_errors(self.id, limit).await?;
        self.row_errors = Some(
            errors
                .into_iter()
                .map(|(row, outcome)| RowErrorJson {
                    row,
                    message: RowOutcome::from(outcome).to_string(),
                })
                .collect(),
        );
        Ok(self)
    }
}

/// A group's latest imports, newest first (at most 100).
#[utoipa::path(
    get,
    path = "/api/v1/groups/{id}/imports",
    tag = "imports",
    params(
        ("id" = Id, Path, description = "The group's id"),
    ),
    responses(
        (status = 200, description = "The group's imports", body = [ImportJson]),
        (status = 404, description = "No such group, or not yours", body = ErrorJson),
    ),
)]
pub(crate) async fn group_imports(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(group_id): Path<Id>,
) -> ApiResult<Json<Vec<ImportJson>>> {
    if !user.access(&state).await?.can_see(group_id) {
        return Err(AppError::NotFound.into());
    }
    let jobs = state.storage.group_imports(group_id, 100).await?;
    let at = Moment::of(&state);
    Ok(Json(
        jobs.iter()
            .map(|job| ImportJson::new(ImportView::new(job, at), job))
            .collect(),
    ))
}

/// `multipart/form-data` with a `file` field. Answers 202 with the job at once; a file
/// rejected as a whole answers 422 with the reason and creates nothing.
#[utoipa::path(
    post,
    path = "/api/v1/groups/{id}/imports",
    tag = "imports",
    params(
        ("id" = Id, Path, description = "The group's id"),
    ),
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Accepted: the import runs in the background", body = ImportJson),
        (status = 404, description = "No such group, or not yours", body = ErrorJson),
        (status = 413, description = "The file is too large", body = ErrorJson),
        (status = 422, description = "The file cannot be imported", body = ErrorJson),
    ),
)]
pub(crate) async fn upload(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(group_id): Path<Id>,
    multipart: Multipart,
) -> ApiResult<Response> {
    let job_id = submit_upload(&state, &user, group_id, multipart)
        .await?
        .job_id;
    let job = state
        .storage
        .import_job(job_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let view = ImportView::latest(&state, &job).await?;
    Ok((StatusCode::ACCEPTED, Json(ImportJson::new(view, &job))).into_response())
}

/// One import's state, counts and first row errors.
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    tag = "imports",
    params(
        ("id" = Id, Path, description = "The import's id"),
    ),
    responses(
        (status = 200, description = "The import", body = ImportJson),
        (status = 404, description = "No such import, or not yours", body = ErrorJson),
    ),
)]
pub(crate) async fn status(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(job_id): Path<Id>,
) -> ApiResult<Json<ImportJson>> {
    let job = visible_job(&state, &user, job_id).await?;
    let view = ImportView::latest(&state, &job).await?;
    let json = ImportJson::new(view, &job)
        .with_row_errors(&state, ROW_ERRORS_SHOWN)
        .await?;
    Ok(Json(json))
}

/// The result file: the uploaded rows with what became of each.
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}/result",
    tag = "imports",
    params(
        ("id" = Id, Path, description = "The import's id"),
    ),
    responses(
        (status = 200, description = "The result file, in the uploaded file's format", content_type = "application/octet-stream"),
        (status = 404, description = "No such import or result, or not yours", body = ErrorJson),
    ),
)]
pub(crate) async fn result(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(job_id): Path<Id>,
) -> ApiResult<Response> {
    Ok(result_download(&state, &user, job_id).await?)
}

/// Stops a queued or running import after its batch: 202 with its status; 409 when it has
/// already ended.
#[utoipa::path(
    post,
    path = "/api/v1/imports/{id}/cancel",
    tag = "imports",
    params(
        ("id" = Id, Path, description = "The import's id"),
    ),
    responses(
        (status = 202, description = "Cancelling", body = ImportJson),
        (status = 404, description = "No such import, or not yours", body = ErrorJson),
        (status = 409, description = "It has ended already", body = ErrorJson),
    ),
)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(job_id): Path<Id>,
) -> ApiResult<Response> {
    cancel_job(&state, &user, job_id).await?;
    let job = visible_job(&state, &user, job_id).await?;
    let view = ImportView::latest(&state, &job).await?;
    Ok((StatusCode::ACCEPTED, Json(ImportJson::new(view, &job))).into_response())
}

/// Takes an ended import back, as a durable job: 202 with its status (state `undoing`); 409
/// when it is undone or undoing already, still running, or was a check.
#[utoipa::path(
    post,
    path = "/api/v1/imports/{id}/undo",
    tag = "imports",
    params(
        ("id" = Id, Path, description = "The import's id"),
    ),
    responses(
        (status = 202, description = "Undoing", body = ImportJson),
        (status = 404, description = "No such import, or not yours", body = ErrorJson),
        (status = 409, description = "Undone or undoing already, still running, or a check", body = ErrorJson),
    ),
)]
pub(crate) async fn undo(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(job_id): Path<Id>,
) -> ApiResult<Response> {
    undo_job(&state, &user, job_id).await?;
    let job = visible_job(&state, &user, job_id).await?;
    let view = ImportView::latest(&state, &job).await?;
    Ok((StatusCode::ACCEPTED, Json(ImportJson::new(view, &job))).into_response())
}

/// The upload's `multipart/form-data` fields, as the document describes them; the handler
/// reads the parts one by one itself (the file is streamed, never held whole).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ImportUpload {
    /// The spreadsheet: .xlsx or .csv.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `create` (the default), `update` or `skip`.
    mode: Option<String>,
    /// `true`: check every row and change nothing.
    dry_run: Option<bool>,
    /// `true`: the agents created must change their password at their first sign-in.
    must_change_password: Option<bool>,
}
