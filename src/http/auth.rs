//! Who is asking: extractors for administrators (browser or API token), agents, and the
//! client's address.

use std::net::IpAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderValue, request::Parts},
};

use super::{
    AppState,
    error::{ApiError, AppError},
    session::Session,
    timeouts::Peer,
};
use crate::{
    org::Access,
    storage::{AdminRecord, AgentRecord, AuditActor, SessionKind},
};

/// A signed-in administrator (browser session).
pub(crate) struct AdminUser {
    pub(crate) admin: AdminRecord,
    pub(crate) session: Session,
    /// Where the request came from, for the audit log.
    pub(crate) address: Option<IpAddr>,
}

impl AdminUser {
    /// This administrator as the audit log names them.
    pub(crate) fn actor(&self) -> AuditActor {
        AuditActor {
            admin_id: Some(self.admin.id),
            name: format!("{} <{}>", self.admin.name, self.admin.email),
            address: self.address.map(|a| a.to_string()).unwrap_or_default(),
        }
    }

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
    let address = client_address(parts, state);
    Ok(AdminUser {
        admin,
        session,
        address,
    })
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

/// A signed-in, enabled agent of an enabled group, free to use their pages: one who must
/// change their password is sent to do that first.
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
        let AgentAccount { agent, session } =
            AgentAccount::from_request_parts(parts, state).await?;
        if agent.must_change_password() {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok(AgentUser { agent, session })
    }
}

/// A signed-in, enabled agent of an enabled group, whether or not they must change their
/// password: for the page that changes it.
pub(crate) struct AgentAccount {
    pub(crate) agent: AgentRecord,
    pub(crate) session: Session,
}

impl FromRequestParts<AppState> for AgentAccount {
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
            .ok_or(AppError::AgentSignInRequired)?;
        let agent = state
            .storage
            .agent_by_id(session.principal_id)
            .await?
            .filter(AgentRecord::is_enabled)
            .ok_or(AppError::AgentSignInRequired)?;
        if !state.storage.group_chain_enabled(agent.group_id).await? {
            return Err(AppError::AgentSignInRequired);
        }
        Ok(AgentAccount { agent, session })
    }
}

/// The client's address for throttling, when the server was started with connect info. A
/// request from a trusted proxy (`ROSTER_TRUSTED_PROXIES`) is the client's that its
/// `X-Forwarded-For` names: the last address there that is not itself a trusted proxy.
pub(crate) struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(parts, state)))
    }
}

fn client_address(parts: &Parts, state: &AppState) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<Peer>>()
        .map(|info| info.0.0.ip());
    let trusted = &state.config.trusted_proxies;
    peer.map(|peer| client_behind(peer, trusted, parts.headers.get_all(FORWARDED_FOR)))
}

const FORWARDED_FOR: &str = "x-forwarded-for";

/// Walks `X-Forwarded-For` from the right (each proxy appends the address it got the request
/// from) while the hops are trusted proxies; a malformed entry stops the walk there.
fn client_behind<'a>(
    peer: IpAddr,
    trusted: &[IpAddr],
    forwarded: impl IntoIterator<Item = &'a HeaderValue>,
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded
        .into_iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(address) => {
                client = address;
                if !trusted.contains(&address) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn behind(peer: &str, trusted: &[&str], header: &[&str]) -> IpAddr {
        let trusted: Vec<IpAddr> = trusted.iter().map(|t| ip(t)).collect();
        let values: Vec<HeaderValue> = header
            .iter()
            .map(|h| HeaderValue::from_str(h).unwrap())
            .collect();
        client_behind(ip(peer), &trusted, &values)
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        assert_eq!(
            behind("203.0.113.9", &[], &["198.51.100.1"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            behind("203.0.113.9", &["10.0.0.1"], &["198.51.100.1"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_last_untrusted_hop_is_the_client() {
        let proxy = "10.0.0.1";
        assert_eq!(
            behind(proxy, &[proxy], &["198.51.100.7"]),
            ip("198.51.100.7")
        );
        // A client that sends its own X-Forwarded-For only adds entries further left.
        assert_eq!(
            behind(proxy, &[proxy], &["6.6.6.6, 198.51.100.7"]),
            ip("198.51.100.7")
        );
        // Two proxies of ours in a row, in one header or two.
        assert_eq!(
            behind(proxy, &[proxy, "10.0.0.2"], &["198.51.100.7", "10.0.0.2"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_trusted_proxy_without_a_usable_header_is_the_client() {
        let proxy = "10.0.0.1";
        assert_eq!(behind(proxy, &[proxy], &[]), ip(proxy));
        assert_eq!(behind(proxy, &[proxy], &["not an address"]), ip(proxy));
    }
}
