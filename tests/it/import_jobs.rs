//! The import job's durability, driven step by step on a clock the test moves: a runner that
//! dies midway leaves a job another runner finishes, with every row's outcome exactly once and
//! no agent created twice; a panic fails only its job; progress is never punished, and a job
//! that makes none is given up with every row accounted for.

use std::time::Duration;

use crate::common::sheets::{C, agents, read_result, t, xlsx};
use crate::common::{Backend, fresh_database};
use roster::{
    config::Config,
    domain::{Clock, Description, GroupName},
    import::{
        JobOutcome, RunLimit,
        pipeline::{self, Helped},
    },
    jobs::{Step, Worker},
    storage::{CancelRequest, JobState, OutcomeKind, Storage},
};

struct Setup {
    storage: Storage,
    config: Config,
    clock: Clock,
    group: i64,
    _dir: Option<tempfile::TempDir>,
}

const LEASE: Duration = Duration::from_secs(2);

async fn setup(backend: Backend) -> Option<Setup> {
    let (url, dir) = fresh_database(backend).await?;
    let clock = Clock::manual();
    let storage = Storage::connect(&url)
        .await
        .unwrap()
        .with_clock(clock.clone());
    storage.migrate().await.unwrap();
    let mut config = Config::for_database(&url);
    config.job_lease = LEASE;
    let group = storage
        .create_group(
            None,
            &GroupName::parse("Support").unwrap(),
            &Description::parse("").unwrap(),
        )
        .await
        .unwrap();
    Some(Setup {
        storage,
        config,
        clock,
        group,
        _dir: dir,
    })
}

impl Setup {
    async fn submit(&self, bytes: Vec<u8>) -> i64 {
        let submission = pipeline::Submission::plain(self.group, "test", "resume.xlsx");
        pipeline::submit(&self.storage, &self.config.limits, submission, bytes)
            .await
            .unwrap()
            .job_id
    }

    fn worker(&self) -> Worker {
        Worker::new(self.storage.clone(), self.config.clone())
    }

    /// As when the process holding the lease died: time passes beyond the lease.
    fn lease_runs_out(&self) {
        self.clock.advance(LEASE.as_secs() as i64 + 1);
    }

    async fn kinds(&self, job: i64) -> Vec<Option<OutcomeKind>> {
        let outcomes = self.storage.row_outcomes(job).await.unwrap();
        outcomes
            .into_iter()
            .map(|(_, o)| o.map(|o| o.kind))
            .collect()
    }
}

/// 150 good rows and 2 bad ones: more than two batches of 64.
fn file() -> Vec<u8> {
    let mut rows = agents("Resume", 150);
    rows.push(vec![t("No Email"), t(""), t("password-x")]);
    rows.push(vec![
        C::S("Repeat".into()),
        t("resume.agent0@example.com"),
        t("password-y"),
    ]);
    xlsx(&rows)
}

const FINISHED: Step = Step::Ran(JobOutcome::Finished {
    created: 150,
    failed: 2,
});

async fn assert_exactly_once(setup: &Setup, job: i64) {
    let kinds = setup.kinds(job).await;
    assert_eq!(kinds.len(), 152, "one outcome row per data row");
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == Some(OutcomeKind::Success))
            .count(),
        150
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == Some(OutcomeKind::Error))
            .count(),
        2
    );
    let created = setup
        .storage
        .agents_in_group(setup.group, 1000, None)
        .await
        .unwrap();
    assert_eq!(created.len(), 150, "no agent twice, none missing");
    let mut emails: Vec<_> = created.iter().map(|a| a.email.clone()).collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), 150);
    let finished = setup.storage.import_job(job).await.unwrap().unwrap();
    assert_eq!(finished.state, JobState::Finished);
    assert_eq!(
        (
            finished.created_count,
            finished.failed_count,
            finished.done_rows
        ),
        (150, 2, 152)
    );
    assert!(
        finished.has_result && !finished.has_upload,
        "result kept, upload erased"
    );
}

fn one_batch() -> RunLimit {
    RunLimit {
        max_batches: Some(1),
        ..RunLimit::default()
    }
}

on_both_backends! {
    async fn a_runner_stopped_after_one_batch_is_taken_over_after_its_lease(backend) {
        let Some(setup) = setup(backend).await else { return };
        let job = setup.submit(file()).await;

        let first = setup.worker();
        assert_eq!(first.step_limited(one_batch()).await.unwrap(), Step::Ran(JobOutcome::Interrupted));
        let partial = setup.storage.import_job(job).await.unwrap().unwrap();
        assert_eq!((partial.created_count, partial.total_rows), (64, Some(152)), "one batch written, every error known");
        assert_eq!(partial.failed_count, 2);

        let second = setup.worker();
        assert_eq!(second.step().await.unwrap(), Step::Idle, "the lease still belongs to the first runner");
        setup.lease_runs_out();
        assert_eq!(second.step().await.unwrap(), FINISHED);
        assert_exactly_once(&setup, job).await;
    }
}

on_both_backends! {
    async fn a_runner_dropped_mid_job_writes_nothing_half_done(backend) {
        let Some(setup) = setup(backend).await else { return };
        let job = setup.submit(file()).await;

        // The runner's future is dropped once its first batch is written, while the second is
        // being hashed, as when its process dies; whatever it had not committed is gone.
        let first = setup.worker();
        let (batch_written, dropped) = tokio::sync::oneshot::channel::<()>();
        let batch_written = std::sync::Mutex::new(Some(batch_written));
        let progress = |done: u64, _: u64| {
            if done > 2 && let Some(signal) = batch_written.lock().unwrap().take() {
                let _ = signal.send(());
            }
        };
        tokio::select! {
            biased;
            _ = dropped => {}
            step = first.run_one(job, &progress) => panic!("the runner finished before it was dropped: {step:?}"),
        }
        let partial = setup.storage.import_job(job).await.unwrap().unwrap();
        assert_eq!(partial.state, JobState::Running);
        assert_eq!(partial.created_count, 64, "exactly the first batch");

        setup.lease_runs_out();
        // Long enough for a renewal of the dropped runner's job and chunk (every third of the
        // lease) to happen if one were left: none may be, or the job and its chunk would stay
        // the dead runner's on the test's clock, and the next runner would wait for ever.
        // Nothing is raced: with no renewal left the outcome is the same whatever the wait.
        tokio::time::sleep(LEASE / 2).await;
        assert_eq!(setup.worker().step().await.unwrap(), FINISHED);
        assert_exactly_once(&setup, job).await;
    }
}

on_both_backends! {
    async fn progress_is_never_punished_however_often_the_runner_dies(backend) {
        let Some(setup) = setup(backend).await else { return };
        let job = setup.submit(file()).await;
        // Far more deaths than the limit on stalled attempts, each after one batch of progress.
        for _ in 0..2 * pipeline::MAX_STALLED_ATTEMPTS {
            match setup.worker().step_limited(RunLimit { max_batches: Some(1), ..RunLimit::default() }).await.unwrap() {
                Step::Ran(JobOutcome::Interrupted) => setup.lease_runs_out(),
                done => {
                    assert_eq!(done, FINISHED);
                    break;
                }
            }
        }
        assert_exactly_once(&setup, job).await;
    }
}

on_both_backends! {
    async fn a_job_that_never_gets_further_is_given_up_with_every_row_accounted_for(backend) {
        let Some(setup) = setup(backend).await else { return };
        let job = setup.submit(file()).await;
        assert_eq!(setup.worker().step_limited(one_batch()).await.unwrap(), Step::Ran(JobOutcome::Interrupted));
        // Then its processes die again and again before writing anything more.
        for _ in 0..pipeline::MAX_STALLED_ATTEMPTS {
            setup.lease_runs_out();
            let claimed = setup.storage.claim_job("doomed", 2, Some(job)).await.unwrap();
            assert!(claimed.is_some());
        }
        setup.lease_runs_out();
        let ended = setup.worker().step().await.unwrap();
        assert_eq!(ended, Step::Ran(JobOutcome::Ended { created: 64, failed: 2, not_imported: 86 }));
        let job_row = setup.storage.import_job(job).await.unwrap().unwrap();
        assert_eq!(job_row.state, JobState::Failed);
        assert!(job_row.error.as_deref().unwrap().contains("5 times in a row"), "{:?}", job_row.error);
        assert!(job_row.has_result && !job_row.has_upload, "the result is there, the upload erased");
        let result = read_result(&setup.storage.import_result(job).await.unwrap().unwrap());
        let not_imported = result.iter().filter(|row| row.last().is_some_and(|c| c.starts_with("Not imported: the import stopped 5 times"))).count();
        assert_eq!(not_imported, 86);
    }
}

on_both_backends! {
    async fn a_file_that_kills_every_reader_stops_after_a_few_tries_with_the_reason(backend) {
        let Some(setup) = setup(backend).await else { return };
        let job = setup.submit(file()).await;
        for _ in 0..pipeline::MAX_STALLED_ATTEMPTS {
            assert!(setup.storage.claim_job("doomed", 2, Some(job)).await.unwrap().is_some());
            setup.lease_runs_out();
        }
        assert_eq!(setup.worker().step().await.unwrap(), Step::Ran(JobOutcome::Failed));
        let failed = setup.storage.import_job(job).await.unwrap().unwrap();
        assert_eq!(failed.state, JobState::Failed);
        let reason = failed.error.unwrap();
        assert!(reason.contains("before its rows were checked") && reason.contains("5 times in a row"), "{reason}");
        assert!(!failed.has_upload);
    }
}

on_both_backends! {
    async fn a_panic_fails_only_its_job_and_the_next_job_runs(backend) {
        let Some(setup) = setup(backend).await else { return };
        let doomed = setup.submit(file()).await;
        let next = setup.submit(file_of("Next", 10)).await;
        let worker = setup.worker();
        let panicked = worker.step_limited(RunLimit { panic_at_batch: Some(1), ..RunLimit::default() }).await.unwrap();
        assert_eq!(panicked, Step::Ran(JobOutcome::Ended { created: 64, failed: 2, not_imported: 86 }));
        let job = setup.storage.import_job(doomed).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Failed);
        assert!(job.error.as_deref().unwrap().contains("internal error"), "{:?}", job.error);
        assert!(job.has_result, "the result file says which rows were not imported");

        assert_eq!(worker.step().await.unwrap(), Step::Ran(JobOutcome::Finished { created: 10, failed: 0 }));
        let after = setup.storage.import_job(next).await.unwrap().unwrap();
        assert_eq!(after.state, JobState::Finished);
    }
}

fn file_of(prefix: &str, count: usize) -> Vec<u8> {
    xlsx(&agents(prefix, count))
}

#[tokio::test]
async fn two_runners_racing_for_one_job_run_it_once() {
    let setup = setup(Backend::Sqlite).await.unwrap();
    let job = setup.submit(file()).await;
    let (a, b) = (setup.worker(), setup.worker());
    let (first, second) = tokio::join!(a.step(), b.step());
    let steps = [first.unwrap(), second.unwrap()];
    assert_eq!(
        steps.iter().filter(|s| **s == Step::Idle).count(),
        1,
        "{steps:?}"
    );
    assert_exactly_once(&setup, job).await;
}

const CANCELLED_MIDWAY: Step = Step::Ran(JobOutcome::Cancelled {
    created: 64,
    failed: 2,
    not_imported: 86,
});

async fn assert_cancelled(setup: &Setup, job: i64, not_imported: usize) {
    let ended = setup.storage.import_job(job).await.unwrap().unwrap();
    assert_eq!(ended.state, JobState::Cancelled);
    assert!(
        ended.has_result && !ended.has_upload,
        "result kept, upload erased"
    );
    let result = read_result(&setup.storage.import_result(job).await.unwrap().unwrap());
    let cancelled = result
        .iter()
        .filter(|row| {
            row.last()
                .is_some_and(|c| c == "Not imported: the import was cancelled")
        })
        .count();
    assert_eq!(cancelled, not_imported);
    assert_eq!(
        setup.storage.request_cancel(job).await.unwrap(),
        CancelRequest::AlreadyEnded,
        "a second cancel finds it ended"
    );
}

on_both_backends! {
    async fn a_cancel_stops_a_running_import_after_its_batch(backend) {
        let Some(setup) = setup(backend).await else { return };
        let job = setup.submit(file()).await;
        // The cancel arrives while the first batch is being reported, before the job looks.
        let asked = std::sync::Mutex::new(None);
        let storage = setup.storage.clone();
        let progress = |done: u64, _: u64| {
            let mut asked = asked.lock().unwrap();
            if done > 2 && asked.is_none() {
                *asked = Some(tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(storage.request_cancel(job))
                }).map_err(|error| error.to_string()));
            }
        };
        let step = setup.worker().run_one(job, &progress).await.unwrap();
        assert_eq!(asked.lock().unwrap().clone(), Some(Ok(CancelRequest::Requested)));
        assert_eq!(step, CANCELLED_MIDWAY);
        assert_cancelled(&setup, job, 86).await;
        let agents = setup.storage.agents_in_group(setup.group, 1000, None).await.unwrap();
        assert_eq!(agents.len(), 64, "what was created before the cancel stays (undo takes it back)");
    }
}

on_both_backends! {
    async fn a_cancel_reaches_a_job_whose_runner_died_and_one_still_queued(backend) {
        let Some(setup) = setup(backend).await else { return };
        let running = setup.submit(file()).await;
        let queued = setup.submit(file_of("Queued", 10)).await;
        assert_eq!(setup.worker().step_limited(one_batch()).await.unwrap(), Step::Ran(JobOutcome::Interrupted));
        for job in [running, queued] {
            assert_eq!(setup.storage.request_cancel(job).await.unwrap(), CancelRequest::Requested);
        }
        setup.lease_runs_out();
        assert_eq!(setup.worker().step().await.unwrap(), CANCELLED_MIDWAY);
        assert_cancelled(&setup, running, 86).await;
        let nothing = Step::Ran(JobOutcome::Cancelled { created: 0, failed: 0, not_imported: 10 });
        assert_eq!(setup.worker().step().await.unwrap(), nothing);
        assert_cancelled(&setup, queued, 10).await;
        assert_eq!(setup.storage.request_cancel(9_999).await.unwrap(), CancelRequest::NotFound);
    }
}

/// 600 good rows: three chunks (256, 256, 88), of four, four and two batches.
fn chunked_file() -> Vec<u8> {
    xlsx(&agents("Chunk", 600))
}

on_both_backends! {
    async fn processes_without_a_job_write_chunks_of_another_and_a_dead_helpers_chunk_is_taken_over(backend) {
        let Some(setup) = setup(backend).await else { return };
        let job = setup.submit(chunked_file()).await;

        // The holder writes one batch of the first chunk, then "dies" holding job and chunk.
        let holder = setup.worker();
        assert_eq!(holder.step_limited(one_batch()).await.unwrap(), Step::Ran(JobOutcome::Interrupted));
        let helper = setup.worker();
        if backend == Backend::Sqlite {
            // One process per job on SQLite: another waits for the lease, then runs it all.
            assert_eq!(helper.help().await.unwrap(), Step::Idle, "no helping on SQLite");
            setup.lease_runs_out();
            assert_eq!(helper.step().await.unwrap(), Step::Ran(JobOutcome::Finished { created: 600, failed: 0 }));
            assert_eq!(setup.storage.chunk_writers(job).await.unwrap().len(), 1);
        } else {
            // A process with nothing of its own writes the next chunk whole…
            let wrote = |rows, whole_chunk| Step::Helped(Helped::Wrote { job_id: job, rows, whole_chunk });
            assert_eq!(helper.help().await.unwrap(), wrote(256, true));
            // …and another dies one batch into the last chunk.
            let dying = setup.worker();
            assert_eq!(dying.help_limited(one_batch()).await.unwrap(), wrote(64, false));
            assert_eq!(setup.worker().help().await.unwrap(), Step::Idle, "every chunk is held");
            assert_eq!(setup.storage.processes_working(job).await.unwrap(), 2, "the holder and the dying helper");
            let partial = setup.storage.import_job(job).await.unwrap().unwrap();
            assert_eq!(partial.created_count, 64 + 256 + 64);

            // Their leases run out: the next process takes the job, and both dead chunks.
            setup.lease_runs_out();
            let successor = setup.worker();
            assert_eq!(successor.step().await.unwrap(), Step::Ran(JobOutcome::Finished { created: 600, failed: 0 }));
            let writers = setup.storage.chunk_writers(job).await.unwrap();
            let mut chunks_each: Vec<_> = writers.iter().map(|(_, chunks)| *chunks).collect();
            chunks_each.sort();
            assert_eq!(chunks_each, [1, 2], "the helper's chunk, and the successor's two: {writers:?}");
        }
        let kinds = setup.kinds(job).await;
        assert_eq!(kinds.len(), 600);
        assert!(kinds.iter().all(|kind| *kind == Some(OutcomeKind::Success)), "every row's outcome, exactly once");
        let created = setup.storage.agents_in_group(setup.group, 1000, None).await.unwrap();
        let mut emails: Vec<_> = created.iter().map(|a| a.email.clone()).collect();
        emails.sort();
        emails.dedup();
        assert_eq!((created.len(), emails.len()), (600, 600), "no agent twice, none missing");
        let result = read_result(&setup.storage.import_result(job).await.unwrap().unwrap());
        assert!(result[1..].iter().all(|row| row[3] == "Success"));
        assert_eq!(setup.storage.open_chunks(job).await.unwrap(), 0);
    }
}

on_both_backends! {
    async fn a_cancel_stops_the_helpers_too(backend) {
        let Some(setup) = setup(backend).await else { return };
        let job = setup.submit(chunked_file()).await;
        assert_eq!(setup.worker().step_limited(one_batch()).await.unwrap(), Step::Ran(JobOutcome::Interrupted));
        assert_eq!(setup.storage.request_cancel(job).await.unwrap(), CancelRequest::Requested);
        assert_eq!(setup.worker().help().await.unwrap(), Step::Idle, "a cancelled import needs no help");
        setup.lease_runs_out();
        let cancelled = Step::Ran(JobOutcome::Cancelled { created: 64, failed: 0, not_imported: 536 });
        assert_eq!(setup.worker().step().await.unwrap(), cancelled);
        assert_eq!(setup.storage.open_chunks(job).await.unwrap(), 0, "the end closed every chunk");
    }
}
