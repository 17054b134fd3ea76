//! The JSON API under `/api/v1`, with the web's rights: another group's objects answer 404,
//! and every change goes through the same function as the web's form, audit event included.
//! Scripts get a token from `POST /api/v1/tokens` and send it as
//! `Authorization: Bearer <token>`; `GET /api/v1/openapi.json` describes every route.

mod agents;
mod bulk;
mod groups;
mod imports;
mod openapi;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{delete, get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    AppState,
    auth::{ApiAdmin, ClientAddress},
    error::{ApiResult, AppError, ErrorJson},
    session::MaybeSession,
};
use crate::{
    accounts::{Attempt, sign_in},
    storage::SessionKind,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/tokens", post(create_token))
        .route("/tokens/current", delete(revoke_token))
        .route("/groups", get(groups::list).post(groups::create))
        .route(
            "/groups/{id}",
            get(groups::show)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route(
            "/groups/{id}/agents",
            get(agents::list).post(agents::create),
        )
        .route("/groups/{id}/agents/bulk", post(bulk::submit))
        .route("/bulk-jobs/{id}", get(bulk::status))
        .route(
            "/agents/{id}",
            get(agents::show)
                .patch(agents::update)
                .delete(agents::delete),
        )
        .route("/audit", get(super::audit::api))
        .route(
            "/groups/{id}/imports",
            get(imports::group_imports).post(imports::upload),
        )
        .route("/imports/{id}", get(imports::status))
        .route("/imports/{id}/result", get(imports::result))
        .route("/imports/{id}/cancel", post(imports::cancel))
        .route("/imports/{id}/undo", post(imports::undo))
        .fallback(|| async { super::error::ApiError(AppError::NotFound) })
        .layer(axum::middleware::map_response(
            super::error::api_error_bodies,
        ))
}

/// `PATCH` bodies: a field left out stays as it is, `null` included where null means something
/// (`parent_id: null` is the top level), so "absent" and "null" must stay apart.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct TokenRequest {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    token: String,
    token_type: &'static str,
}

/// A token for an administrator's email and password; refused as the sign-in form refuses.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "A new token", body = TokenResponse),
        (status = 401, description = "Refused", body = ErrorJson),
        (status = 429, description = "Too many attempts", body = ErrorJson),
    ),
    security(()),
)]
pub(crate) async fn create_token(
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

/// Ends the token the request is made with.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/current",
    tag = "tokens",
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid token", body = ErrorJson),
    ),
)]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    _admin: ApiAdmin,
    MaybeSession(session): MaybeSession,
) -> ApiResult<StatusCode> {
    if let Some(session) = session {
        state.storage.delete_session(&session.token_hash).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
