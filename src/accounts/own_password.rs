//! Changing one's own password, for agents and administrators alike: the current password
//! again (wrong guesses count against the sign-in throttle, so a borrowed session cannot be
//! used to find the password out), then a new one, typed twice, that the policy accepts.

use std::net::IpAddr;

use super::{
    passwords::{new_password_hash, password_matches},
    throttle::{self, AttemptKey},
};
use crate::{
    domain::{PasswordError, PasswordPolicy},
    storage::{Storage, StorageError},
};

/// What the form sent, and whose account it is.
pub(crate) struct OwnPasswordChange<'a> {
    pub email: &'a str,
    pub stored_hash: String,
    pub current: String,
    pub new: String,
    pub again: String,
    pub address: Option<IpAddr>,
}

/// Why the change was refused; `field` says beside which input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChangeRefusal {
    #[error("The current password is not right")]
    WrongCurrent,
    #[error("Too many wrong passwords. Wait {0} seconds and try again")]
    Throttled(u64),
    #[error(transparent)]
    Policy(#[from] PasswordError),
    #[error("The two new passwords differ")]
    Differ,
    #[error("Choose a password other than the current one")]
    Unchanged,
}

impl ChangeRefusal {
    pub(crate) fn field(&self) -> &'static str {
        match self {
            ChangeRefusal::WrongCurrent | ChangeRefusal::Throttled(_) => "current",
            ChangeRefusal::Policy(_) | ChangeRefusal::Unchanged => "new",
            ChangeRefusal::Differ => "again",
        }
    }
}

/// The new password's hash, or why it may not be set.
pub(crate) async fn check_own_change(
    storage: &Storage,
    policy: &PasswordPolicy,
    change: OwnPasswordChange<'_>,
) -> Result<Result<String, ChangeRefusal>, StorageError> {
    let key = AttemptKey::new(change.email, change.address);
    if let Some(throttled) = throttle::check(storage, &key).await? {
        return Ok(Err(ChangeRefusal::Throttled(throttled.retry_after)));
    }
    if !password_matches(Some(change.stored_hash), change.current.clone()).await {
        throttle::failed(storage, &key).await?;
        return Ok(Err(ChangeRefusal::WrongCurrent));
    }
    if let Err(error) = policy.check(&change.new) {
        return Ok(Err(error.into()));
    }
    if change.new != change.again {
        return Ok(Err(ChangeRefusal::Differ));
    }
    if change.new == change.current {
        return Ok(Err(ChangeRefusal::Unchanged));
    }
    Ok(Ok(new_password_hash(change.new).await))
}
