//! Sign-in throttling. It slows a guesser to a few tries a minute and never locks a real user
//! out for long: old failures stop counting on their own.
//!
//! Only failures count, in three allowances: a strict one per account and client address, a
//! looser one per account from anywhere (so a guesser elsewhere, held by the strict one, cannot
//! keep the owner out), and one per address for a guesser trying many accounts. Failures are
//! stored in the database, so N processes on one database allow what one does.

use std::net::IpAddr;

use crate::{
    domain::Email,
    storage::{FailureScope, Storage, StorageError},
};

/// Refused: an allowance is spent; the next try is welcome in `retry_after` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Too many sign-in attempts. Wait {retry_after} seconds and try again.")]
pub(crate) struct Throttled {
    pub retry_after: u64,
}

/// At most `failures` within any `seconds`.
struct Allowance {
    failures: i64,
    seconds: i64,
}

/// One account from one address: five tries a minute.
const ACCOUNT_FROM_ADDRESS: Allowance = Allowance {
    failures: 5,
    seconds: 60,
};
/// One account from anywhere: it takes guessers at four addresses to hold its owner back.
const ACCOUNT: Allowance = Allowance {
    failures: 20,
    seconds: 60,
};
/// One address, whatever accounts it tries.
const ADDRESS: Allowance = Allowance {
    failures: 30,
    seconds: 60,
};
/// How far back any allowance looks: older failures are deleted by the housekeeping.
pub(crate) const LOOK_BACK_SECONDS: i64 = 60;

/// Whose attempt it is, as the throttle counts it: the email the lookup uses (trimmed, lower
/// case), so padding an address gives no fresh tries; anything that is not an email shares
/// one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttemptKey {
    account: String,
    address: String,
}

impl AttemptKey {
    pub(crate) fn new(typed: &str, address: Option<IpAddr>) -> AttemptKey {
        let account = Email::parse(typed).map_or_else(|_| String::new(), |e| e.key().to_owned());
        let address = address.map(|a| a.to_string()).unwrap_or_default();
        AttemptKey { account, address }
    }
}

/// What refuses the attempt, when one of its allowances is spent; counts nothing.
pub(crate) async fn check(
    storage: &Storage,
    key: &AttemptKey,
) -> Result<Option<Throttled>, StorageError> {
    let now = storage.clock().now();
    let mut scopes = vec![
        (
            FailureScope::AccountFrom(&key.account, &key.address),
            ACCOUNT_FROM_ADDRESS,
        ),
        (FailureScope::Account(&key.account), ACCOUNT),
    ];
    if !key.address.is_empty() {
        scopes.push((FailureScope::Address(&key.address), ADDRESS));
    }
    let mut wait = 0;
    for (scope, allowance) in scopes {
        let since = now - allowance.seconds;
        let recent = storage
            .recent_sign_in_failures(scope, since, allowance.failures)
            .await?;
        if recent.len() as i64 >= allowance.failures {
            // The oldest of the last `failures` leaves the window at this time.
            let oldest = recent[recent.len() - 1];
            wait = wait.max(oldest + allowance.seconds - now);
        }
    }
    Ok((wait > 0).then_some(Throttled {
        retry_after: wait as u64,
    }))
}

/// A wrong password (or unknown account): it counts against every allowance.
pub(crate) async fn failed(storage: &Storage, key: &AttemptKey) -> Result<(), StorageError> {
    let now = storage.clock().now();
    storage
        .record_sign_in_failure(&key.account, &key.address, now)
        .await
}

/// The right password: this account's failures from this address are forgiven.
pub(crate) async fn succeeded(storage: &Storage, key: &AttemptKey) -> Result<(), StorageError> {
    storage
        .forget_sign_in_failures(&key.account, &key.address)
        .await
}
