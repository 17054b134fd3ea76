//! Sign-in throttling, per account and per client address. It slows a guesser to a few tries a
//! minute and never locks a real user out: the allowance refills on its own.
//!
//! The counters live in each process; behind a load balancer with N processes an attacker gets
//! at most N times the rate, still far too slow to guess an Argon2id-protected password.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};

use super::error::AppError;

pub struct Throttle {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

/// Memory stays bounded: old keys are dropped once this many are remembered.
const MAX_KEYS: usize = 100_000;

impl Throttle {
    pub fn new() -> Throttle {
        let five = NonZeroU32::new(5).expect("5 is not zero");
        let thirty = NonZeroU32::new(30).expect("30 is not zero");
        let account = Quota::with_period(Duration::from_secs(12))
            .expect("period is not zero")
            .allow_burst(five);
        let address = Quota::with_period(Duration::from_secs(2))
            .expect("period is not zero")
            .allow_burst(thirty);
        Throttle {
            per_account: DefaultKeyedRateLimiter::keyed(account),
            per_address: DefaultKeyedRateLimiter::keyed(address),
        }
    }

    /// Counts one sign-in attempt; refuses it when either allowance is spent.
    pub fn attempt(&self, account: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        if self.per_account.len() > MAX_KEYS {
            self.per_account.retain_recent();
        }
        if self.per_address.len() > MAX_KEYS {
            self.per_address.retain_recent();
        }
        let clock = governor::clock::DefaultClock::default();
        // Rounded up: a client that waits exactly Retry-After seconds must get its turn.
        let wait = |not_until: governor::NotUntil<_>| {
            let wait = not_until.wait_time_from(clock.now());
            AppError::TooManyAttempts(wait.as_secs_f64().ceil().max(1.0) as u64)
        };
        if let Some(address) = address {
            self.per_address.check_key(&address).map_err(wait)?;
        }
        self.per_account
            .check_key(&account.to_lowercase())
            .map_err(wait)?;
        Ok(())
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_tries_then_a_wait() {
        let throttle = Throttle::new();
        for _ in 0..5 {
            throttle.attempt("Ann@example.com", None).unwrap();
        }
        assert!(
            matches!(throttle.attempt("ann@example.com", None), Err(AppError::TooManyAttempts(s)) if s <= 12)
        );
        throttle
            .attempt("bob@example.com", None)
            .expect("other accounts are not affected");
    }
}
