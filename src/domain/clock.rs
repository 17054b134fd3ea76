//! Time as the application sees it. Everything that expires — leases, sessions, result files —
//! reads a [`Clock`], so a test advances time instead of sleeping for it.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

/// Unix seconds, UTC: the system's, or (in tests) a hand that only moves when told.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> i64 {
        match &self.manual {
            Some(seconds) => seconds.load(Ordering::SeqCst),
            None => chrono::Utc::now().timestamp(),
        }
    }
}

#[cfg(any(test, feature = "test-support"))]
impl Clock {
    /// A clock stopped at the system's present time until [`Clock::advance`] moves it.
    pub fn manual() -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(chrono::Utc::now().timestamp()))),
        }
    }

    /// Moves a manual clock (and every clone of it) forward.
    ///
    /// # Panics
    /// On the system clock, which no test may move.
    pub fn advance(&self, seconds: i64) {
        self.manual
            .as_ref()
            .expect("only a manual clock can be advanced")
            .fetch_add(seconds, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_move_with_it() {
        let clock = Clock::manual();
        let clone = clock.clone();
        let start = clock.now();
        clock.advance(90);
        assert_eq!(clone.now(), start + 90);
    }

    #[test]
    fn the_system_clock_is_the_present() {
        let now = chrono::Utc::now().timestamp();
        assert!((Clock::system().now() - now).abs() <= 1);
    }
}
