//! The JSON API under `/api/v1`, with the web's rights. Scripts get a token from
//! `POST /api/v1/tokens` and send it as `Authorization: Bearer <token>`.

use axum::{
    Json, Router,
    extract::{Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use serde::{Deserialize, Serialize};

use super::{
    AppState,
    auth::{ApiAdmin, ClientAddress},
    error::{ApiResult, AppError},
    groups::ROW_ERRORS_SHOWN,
    import_undo::undo_job,
    import_view::{ImportView, Moment},
    imports::{cancel_job, result_download, visible_job},
    session::MaybeSession,
    upload::submit_upload,
};
use crate::{
    accounts::{Attempt, sign_in},
    domain::Id,
    import::RowOutcome,
    storage::{ImportJob, SessionKind},
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", post(create_token))
        .route("/tokens/current", delete(revoke_token))
        .route("/groups", get(groups))
        .route("/audit", get(super::audit::api))
        .route("/groups/{id}/imports", get(group_imports).post(upload))
        .route("/imports/{id}", get(status))
        .route("/imports/{id}/result", get(result))
        .route("/imports/{id}/cancel", post(cancel))
        .route("/imports/{id}/undo", post(undo))
        .fallback(|| async { super::error::ApiError(AppError::NotFound) })
        .layer(axum::middleware::map_response(
            super::error::api_error_bodies,
        ))
}

#[derive(Deserialize)]
struct TokenRequest {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct TokenResponse {
    token: String,
    token_type: &'static str,
}

async fn create_token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Json(request): Json<TokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenResponse>)> {
    let attempt = Attempt {
        kind: SessionKind::Api,
        email: &request.email,
        password: request.password,
        address,
        previous: None,
    };
    let token = sign_in(&state.storage, attempt)
        .await
        .map_err(AppError::from)?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse {
            token,
            token_type: "Bearer",
        }),
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    _admin: ApiAdmin,
    MaybeSession(session): MaybeSession,
) -> ApiResult<StatusCode> {
    if let Some(session) = session {
        state.storage.delete_session(&session.token_hash).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct GroupJson {
    id: Id,
    parent_id: Option<Id>,
    name: String,
    path: String,
    enabled: bool,
    agent_count: i64,
}

async fn groups(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
) -> ApiResult<Json<Vec<GroupJson>>> {
    let access = user.access(&state).await?;
    let groups = access
        .visible_ids()
        .into_iter()
        .filter_map(|id| access.tree.get(id))
        .map(|group| GroupJson {
            id: group.id,
            parent_id: group.parent_id.filter(|parent| access.can_see(*parent)),
            name: group.name.clone(),
            path: access.tree.path(group.id),
            enabled: group.is_enabled(),
            agent_count: group.agent_count,
        })
        .collect();
    Ok(Json(groups))
}

/// An import's state as scripts and the progress bar read it.
#[derive(Serialize)]
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

#[derive(Serialize)]
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

async fn group_imports(
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
async fn upload(
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

async fn status(
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

async fn result(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(job_id): Path<Id>,
) -> ApiResult<Response> {
    Ok(result_download(&state, &user, job_id).await?)
}

/// Stops a queued or running import after its batch: 202 with its status; 409 when it has
/// already ended.
async fn cancel(
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
async fn undo(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(job_id): Path<Id>,
) -> ApiResult<Response> {
    undo_job(&state, &user, job_id).await?;
    let job = visible_job(&state, &user, job_id).await?;
    let view = ImportView::latest(&state, &job).await?;
    Ok((StatusCode::ACCEPTED, Json(ImportJson::new(view, &job))).into_response())
}
