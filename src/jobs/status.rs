//! Whether this process's import worker is running, for `/readyz` (a server that answers pages
//! but runs no imports must not look healthy), and the bell an upload rings to wake it.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct WorkerStatus {
    /// None: this process runs no worker on purpose (a test drives jobs itself).
    running: Option<Arc<AtomicBool>>,
    wake: Arc<Notify>,
}

impl WorkerStatus {
    pub fn expected() -> WorkerStatus {
        WorkerStatus {
            running: Some(Arc::new(AtomicBool::new(false))),
            wake: Arc::default(),
        }
    }

    pub fn not_expected() -> WorkerStatus {
        WorkerStatus {
            running: None,
            wake: Arc::default(),
        }
    }

    /// A job was queued here: an idle worker starts it now rather than at its next poll (a
    /// check of 100,000 rows is due within two seconds of its upload).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(super) async fn woken(&self) {
        self.wake.notified().await;
    }

    /// True unless a worker should run and does not.
    pub fn is_ready(&self) -> bool {
        self.running
            .as_ref()
            .is_none_or(|running| running.load(Ordering::SeqCst))
    }

    /// Marks the worker running until the guard is dropped, which happens too when the
    /// worker's task unwinds from a panic.
    pub(super) fn running(&self) -> RunningGuard {
        if let Some(running) = &self.running {
            running.store(true, Ordering::SeqCst);
        }
        RunningGuard(self.running.clone())
    }
}

pub(super) struct RunningGuard(Option<Arc<AtomicBool>>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        if let Some(running) = &self.0 {
            running.store(false, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_while_the_worker_runs() {
        let status = WorkerStatus::expected();
        assert!(!status.is_ready(), "not started yet");
        let guard = status.running();
        assert!(status.is_ready());
        drop(guard);
        assert!(!status.is_ready(), "stopped or panicked");
        assert!(WorkerStatus::not_expected().is_ready());
    }
}
