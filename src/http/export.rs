//! "Export agents" on a group's Properties: its agents (and, asked, those of every group
//! below) as CSV or as .xlsx in the import template's layout, never with passwords.

use axum::{
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    AppState,
    auth::AdminUser,
    error::{AppError, AppResult},
    imports::XLSX_TYPE,
    upload::attachment,
};
use crate::{
    domain::Id,
    org::{Access, export},
};

#[derive(Deserialize, Default)]
pub(crate) struct ExportQuery {
    /// Any value: the groups below too.
    #[serde(default)]
    subgroups: Option<String>,
}

/// The export's lines and the file's name (without extension).
async fn lines(
    state: &AppState,
    user: &AdminUser,
    id: Id,
    query: &ExportQuery,
) -> AppResult<(Vec<[String; 9]>, String)> {
    let access: Access = user.access(state).await?;
    let group = access.tree.get(id).filter(|_| access.can_see(id));
    let group = group.ok_or(AppError::NotFound)?;
    let groups = match query.subgroups {
        Some(_) => access.tree.subtree(id),
        None => vec![id],
    };
    let agents = state.storage.export_agents(&groups).await?;
    Ok((
        export::lines(&access.tree, id, &agents),
        format!("{} agents", group.name),
    ))
}

pub(crate) async fn csv(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    Query(query): Query<ExportQuery>,
) -> AppResult<Response> {
    let (lines, name) = lines(&state, &user, id, &query).await?;
    let mut bytes = "\u{feff}".as_bytes().to_vec(); // Excel reads UTF-8 only after a BOM.
    export::write_csv(&lines, &mut bytes).map_err(|error| AppError::Internal(error.into()))?;
    let disposition = attachment(&format!("{name}.csv"));
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        [disposition],
        bytes,
    )
        .into_response())
}

pub(crate) async fn xlsx(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    Query(query): Query<ExportQuery>,
) -> AppResult<Response> {
    let (lines, name) = lines(&state, &user, id, &query).await?;
    let bytes = crate::telemetry::spawn_blocking_with_tracing(move || export::xlsx(&lines))
        .await
        .map_err(|error| AppError::Internal(error.into()))?;
    let disposition = attachment(&format!("{name}.xlsx"));
    Ok(([(header::CONTENT_TYPE, XLSX_TYPE)], [disposition], bytes).into_response())
}
