//! Signing in, for the administrators' form, the agents' form and the API's tokens alike:
//! throttle, look the account up, verify the password (at the same cost for an unknown
//! address), and start a fresh session.

use std::net::IpAddr;

use super::{
    passwords::password_matches,
    throttle::{self, AttemptKey, Throttled},
    tokens::{random_token, token_hash},
};
use crate::{
    domain::{Email, Id},
    storage::{SessionKind, Storage, StorageError},
};

/// One sign-in attempt as it arrives.
pub(crate) struct Attempt<'a> {
    /// Which accounts are asked (agents for `Agent`, administrators otherwise) and which
    /// session the signed-in account gets.
    pub kind: SessionKind,
    /// As typed: the throttle counts it as the lookup reads it, even when it is not an email.
    pub email: &'a str,
    pub password: String,
    pub address: Option<IpAddr>,
    /// The hash of the session the browser had; a successful sign-in ends it.
    pub previous: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SignInError {
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// The same words for an unknown address and a wrong password, so the answer does not tell
    /// which addresses exist.
    #[error("The email or password is not right.")]
    WrongCredentials,
    /// Said only to someone who knew the password.
    #[error("This agent account is disabled. Ask your administrator to enable it.")]
    Disabled,
    /// Said only to someone who knew the password.
    #[error(
        "Agents of your group cannot sign in while it is disabled. Ask your administrator to enable it."
    )]
    GroupDisabled,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Answers the new session's token, for the cookie or the API client.
#[tracing::instrument(skip_all, fields(kind = ?attempt.kind))]
pub(crate) async fn sign_in(
    storage: &Storage,
    attempt: Attempt<'_>,
) -> Result<String, SignInError> {
    let key = AttemptKey::new(attempt.email, attempt.address);
    if let Some(throttled) = throttle::check(storage, &key).await? {
        return Err(throttled.into());
    }
    // (id, why it may not sign in, password hash)
    let account = match Email::parse(attempt.email) {
        Err(_) => None,
        Ok(email) if attempt.kind == SessionKind::Agent => {
            match storage.agent_by_email(&email).await? {
                Some(agent) => {
                    let refusal = if !agent.is_enabled() {
                        Some(SignInError::Disabled)
                    } else if !storage.group_chain_enabled(agent.group_id).await? {
                        Some(SignInError::GroupDisabled)
                    } else {
                        None
                    };
                    Some((agent.id, refusal, agent.password_hash))
                }
                None => None,
            }
        }
        Ok(email) => storage
            .admin_by_email(&email)
            .await?
            .map(|admin| (admin.id, None, admin.password_hash)),
    };
    let (id, refusal, hash) = match account {
        Some((id, refusal, hash)) => (Some(id), refusal, Some(hash)),
        None => (None, None, None),
    };
    let verified = password_matches(hash, attempt.password).await;
    let Some(id) = id.filter(|_| verified) else {
        throttle::failed(storage, &key).await?;
        return Err(SignInError::WrongCredentials);
    };
    throttle::succeeded(storage, &key).await?;
    if let Some(refusal) = refusal {
        return Err(refusal);
    }
    let token = start_session(storage, attempt.kind, id, attempt.previous).await?;
    if attempt.kind == SessionKind::Agent {
        storage.note_agent_sign_in(id).await?;
    }
    tracing::info!(principal_id = id, "signed in");
    Ok(token)
}

/// Starts a fresh session (a new token every sign-in, so a planted one is never promoted) and
/// ends `previous`, the one the browser had. Answers the token.
pub(crate) async fn start_session(
    storage: &Storage,
    kind: SessionKind,
    principal_id: Id,
    previous: Option<&str>,
) -> Result<String, StorageError> {
    if let Some(previous) = previous {
        storage.delete_session(previous).await?;
    }
    let token = random_token();
    storage
        .create_session(
            &token_hash(&token),
            kind,
            principal_id,
            &random_token(),
            storage.clock().now(),
        )
        .await?;
    Ok(token)
}
