//! The threads a process hashes passwords on. Hashing is over 99% of an import, so a server
//! that must keep cores for its pages bounds them (`ROSTER_HASH_THREADS`); by default they are
//! all the cores.

use std::{fmt, sync::Arc};

use rayon::prelude::*;

/// A pool of hashing threads, shared by every job of a process.
#[derive(Clone)]
pub struct HashPool {
    pool: Arc<rayon::ThreadPool>,
}

impl HashPool {
    /// `threads` hashing threads; None: one per core.
    pub fn new(threads: Option<usize>) -> HashPool {
        let threads = threads
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|n| format!("roster-hash-{n}"))
            .build()
            .expect("a thread pool of a bounded size starts");
        HashPool {
            pool: Arc::new(pool),
        }
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Maps `items` on the pool's threads, off the async runtime; a panic in `work` reaches
    /// the caller through the handle.
    pub fn map<T, U>(&self, items: Vec<T>, work: fn(T) -> U) -> tokio::task::JoinHandle<Vec<U>>
    where
        T: Send + 'static,
        U: Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            pool.install(|| items.into_par_iter().map(work).collect())
        })
    }
}

impl fmt::Debug for HashPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashPool")
            .field("threads", &self.threads())
            .finish()
    }
}
