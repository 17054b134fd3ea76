//! The durable import queue's runner: a loop around one step, with a heartbeat that keeps the
//! job's lease while it works and a net that turns a panic into a failed job. The queue itself
//! (enqueue, claim with a lease, renew, finish) is in `storage::import_jobs`; the work is
//! `import::pipeline`.

pub(crate) mod bulk;
mod heartbeat;
mod status;
mod worker;

pub use bulk::BulkStep;
pub use status::WorkerStatus;
pub use worker::{Step, Worker};
