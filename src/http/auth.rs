//! Who is asking: extractors for administrators (browser or API token), agents, and the
//! client's address.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

use super::{
    AppState,
    error::{ApiError, AppError},
    session::Session,
};
use crate::{
    org::Access,
    storage::{AdminRecord, AgentRecord, SessionKind},
};

/// A signed-in administrator (browser session).
pub(crate) struct AdminUser {
    pub(crate) admin: AdminRecord,
    pub(crate) session: Session,
}

impl AdminUser {
    /// What this administrator may see, computed from the current tree.
    pub(crate) async fn access(&self, state: &AppState) -> Result<Access, AppError> {
        Ok(Access::of(&state.storage, &self.admin).await?)
    }

    /// Masters only; anyone else gets the same 404 as for something that does not exist.
    pub(crate) fn require_master(&self) -> Result<(), AppError> {
        if self.admin.is_master() {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

async fn admin_from(
    parts: &Parts,
    state: &AppState,
    kinds: &[SessionKind],
) -> Result<AdminUser, AppError> {
    let session = parts
        .extensions
        .get::<Session>()
        .filter(|session| kinds.contains(&session.kind))
        .cloned()
        .ok_or(AppError::SignInRequired)?;
    let admin = state
        .storage
        .admin_by_id(session.principal_id)
        .await?
        .ok_or(AppError::SignInRequired)?;
    Ok(AdminUser { admin, session })
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        admin_from(parts, state, &[SessionKind::Admin]).await
    }
}

/// An administrator calling the API: with a bearer token, or from a signed-in browser.
pub(crate) struct ApiAdmin(pub AdminUser);

impl FromRequestParts<AppState> for ApiAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ApiAdmin(
            admin_from(parts, state, &[SessionKind::Api, SessionKind::Admin]).await?,
        ))
    }
}

/// A signed-in, enabled agent.
pub(crate) struct AgentUser {
    pub(crate) agent: AgentRecord,
    pub(crate) session: Session,
}

impl FromRequestParts<AppState> for AgentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = parts
            .extensions
            .get::<Session>()
            .filter(|session| session.kind == SessionKind::Agent)
            .cloned()
            .ok_or(AppError::SignInRequired)?;
        let agent = state
            .storage
            .agent_by_id(session.principal_id)
            .await?
            .filter(AgentRecord::is_enabled)
            .ok_or(AppError::SignInRequired)?;
        Ok(AgentUser { agent, session })
    }
}

/// The client's address for throttling, when the server was started with connect info.
pub(crate) struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}
