//! The durable import queue's runner: a loop around one step. The queue itself (enqueue, claim
//! with a lease, heartbeat, finish) is in `storage::imports`; the work is `import::pipeline`.

mod worker;

pub use worker::{Step, Worker};
