//! Sign-in throttling, per account and per client address. It slows a guesser to a few tries a
//! minute and never locks a real user out: the allowance refills on its own.
//!
//! The counters live in each process; behind a load balancer with N processes an attacker gets
//! at most N times the rate, still far too slow to guess an Argon2id-protected password.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{
    Quota, RateLimiter, clock::Clock as _, middleware::NoOpMiddleware, nanos::Nanos,
    state::keyed::DefaultKeyedStateStore,
};

use crate::domain::Clock;

/// The application's [`Clock`] as governor reads time, so a test that advances the clock also
/// refills the allowance. Whole seconds are fine grain enough for periods of 2 and 12 seconds;
/// a wall clock set back only makes the wait longer, never shorter (governor saturates).
#[derive(Debug, Clone)]
pub(crate) struct ThrottleClock(Clock);

impl governor::clock::Clock for ThrottleClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let seconds = u64::try_from(self.0.now()).unwrap_or_default();
        Nanos::from(Duration::from_secs(seconds))
    }
}

/// Refused: the allowance is spent; the next try is welcome in `retry_after` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Too many sign-in attempts. Wait {retry_after} seconds and try again.")]
pub(crate) struct Throttled {
    pub retry_after: u64,
}

type Limiter<K> = RateLimiter<K, DefaultKeyedStateStore<K>, ThrottleClock, NoOpMiddleware<Nanos>>;

pub(crate) struct Throttle {
    clock: ThrottleClock,
    per_account: Limiter<String>,
    per_address: Limiter<IpAddr>,
}

/// Memory stays bounded: old keys are dropped once this many are remembered.
const MAX_KEYS: usize = 100_000;

impl Throttle {
    pub(crate) fn new(clock: Clock) -> Throttle {
        let five = NonZeroU32::new(5).expect("5 is not zero");
        let thirty = NonZeroU32::new(30).expect("30 is not zero");
        let account = Quota::with_period(Duration::from_secs(12))
            .expect("period is not zero")
            .allow_burst(five);
        let address = Quota::with_period(Duration::from_secs(2))
            .expect("period is not zero")
            .allow_burst(thirty);
        let clock = ThrottleClock(clock);
        Throttle {
            per_account: RateLimiter::new(account, Default::default(), clock.clone()),
            per_address: RateLimiter::new(address, Default::default(), clock.clone()),
            clock,
        }
    }

    /// Counts one sign-in attempt; refuses it when either allowance is spent.
    pub(crate) fn attempt(&self, account: &str, address: Option<IpAddr>) -> Result<(), Throttled> {
        if self.per_account.len() > MAX_KEYS {
            self.per_account.retain_recent();
        }
        if self.per_address.len() > MAX_KEYS {
            self.per_address.retain_recent();
        }
        // Rounded up: a client that waits exactly Retry-After seconds must get its turn.
        let wait = |not_until: governor::NotUntil<Nanos>| {
            let wait = not_until.wait_time_from(self.clock.now());
            Throttled {
                retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_tries_then_a_wait_then_one_more() {
        let clock = Clock::manual();
        let throttle = Throttle::new(clock.clone());
        for _ in 0..5 {
            throttle.attempt("Ann@example.com", None).unwrap();
        }
        assert_eq!(
            throttle.attempt("ann@example.com", None),
            Err(Throttled { retry_after: 12 }),
            "the sixth try waits"
        );
        throttle
            .attempt("bob@example.com", None)
            .expect("other accounts are not affected");
        clock.advance(11);
        assert!(
            throttle.attempt("ann@example.com", None).is_err(),
            "not yet"
        );
        clock.advance(1);
        throttle
            .attempt("ann@example.com", None)
            .expect("the allowance refilled");
    }
}
