//! The import job's durability: a runner that dies midway leaves a job another runner finishes,
//! with every row's outcome exactly once and no agent created twice.

use std::time::Duration;

use crate::common::sheets::{C, agents, t, xlsx};
use crate::common::{Backend, fresh_database};
use roster::{
    config::Config,
    domain::{Description, GroupName},
    import::{JobOutcome, RunLimit, pipeline},
    jobs::{Step, Worker},
    storage::{JobState, Storage},
};

async fn setup(backend: Backend) -> Option<(Storage, Config, i64, Option<tempfile::TempDir>)> {
    let (url, dir) = fresh_database(backend).await?;
    let storage = Storage::connect(&url).await.unwrap();
    storage.migrate().await.unwrap();
    let mut config = Config::for_database(&url);
    config.job_lease = Duration::from_secs(2);
    let group = storage
        .create_group(
            None,
            &GroupName::parse("Support").unwrap(),
            &Description::parse("").unwrap(),
        )
        .await
        .unwrap();
    Some((storage, config, group, dir))
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

async fn assert_exactly_once(storage: &Storage, job: i64, group: i64) {
    let outcomes = storage.row_outcomes(job).await.unwrap();
    assert_eq!(outcomes.len(), 152, "one outcome row per data row");
    assert!(
        outcomes.iter().all(|(_, outcome)| outcome.is_some()),
        "every row has its outcome"
    );
    let successes = outcomes
        .iter()
        .filter(|(_, o)| o.as_deref() == Some("Success"))
        .count();
    assert_eq!(successes, 150);
    let created = storage.agents_in_group(group, 1000, 0).await.unwrap();
    assert_eq!(created.len(), 150, "no agent twice, none missing");
    let mut emails: Vec<_> = created.iter().map(|a| a.email.clone()).collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), 150);
    let finished = storage.import_job(job).await.unwrap().unwrap();
    assert_eq!(finished.state(), JobState::Finished);
    assert_eq!(
        (
            finished.created_count,
            finished.failed_count,
            finished.done_rows
        ),
        (150, 2, 152)
    );
    assert!(
        finished.has_result() && !finished.has_upload(),
        "result kept, upload erased"
    );
}

on_both_backends! {
    async fn a_runner_stopped_after_one_batch_is_taken_over_after_its_lease(backend) {
        let Some((storage, config, group, _dir)) = setup(backend).await else { return };
        let job = pipeline::submit(&storage, &config.limits, group, "test", "resume.xlsx", file()).await.unwrap().job_id;

        let first = Worker::new(storage.clone(), config.clone());
        let stopped = first.step_limited(RunLimit { max_batches: Some(1) }, &|_, _| {}).await.unwrap();
        assert_eq!(stopped, Step::Ran(JobOutcome::Interrupted));
        let partial = storage.import_job(job).await.unwrap().unwrap();
        assert_eq!((partial.created_count, partial.total_rows), (64, Some(152)), "one batch written, every error known");
        assert_eq!(partial.failed_count, 2);

        let second = Worker::new(storage.clone(), config.clone());
        assert_eq!(second.step().await.unwrap(), Step::Idle, "the lease still belongs to the first runner");
        tokio::time::sleep(Duration::from_secs(3)).await;
        let resumed = second.step().await.unwrap();
        assert_eq!(resumed, Step::Ran(JobOutcome::Finished { created: 150, failed: 2 }));
        assert_exactly_once(&storage, job, group).await;
    }
}

on_both_backends! {
    async fn a_runner_dropped_mid_batch_writes_nothing_half_done(backend) {
        let Some((storage, config, group, _dir)) = setup(backend).await else { return };
        let job = pipeline::submit(&storage, &config.limits, group, "test", "resume.xlsx", file()).await.unwrap().job_id;

        // The runner's future is dropped wherever it is (hashing, or inside a transaction), as
        // when its process dies; whatever it had not committed is gone.
        let first = Worker::new(storage.clone(), config.clone());
        let dropped = tokio::time::timeout(Duration::from_millis(1200), first.step()).await;
        assert!(dropped.is_err(), "the runner was stopped midway");
        let partial = storage.import_job(job).await.unwrap().unwrap();
        assert_eq!(partial.state(), JobState::Running);
        assert!(partial.created_count < 150);

        tokio::time::sleep(Duration::from_secs(3)).await;
        let second = Worker::new(storage.clone(), config.clone());
        assert_eq!(second.step().await.unwrap(), Step::Ran(JobOutcome::Finished { created: 150, failed: 2 }));
        assert_exactly_once(&storage, job, group).await;
    }
}

#[tokio::test]
async fn two_runners_racing_for_one_job_run_it_once() {
    let (storage, config, group, _dir) = setup(Backend::Sqlite).await.unwrap();
    let job = pipeline::submit(
        &storage,
        &config.limits,
        group,
        "test",
        "resume.xlsx",
        file(),
    )
    .await
    .unwrap()
    .job_id;
    let a = Worker::new(storage.clone(), config.clone());
    let b = Worker::new(storage.clone(), config.clone());
    let (first, second) = tokio::join!(a.step(), b.step());
    let steps = [first.unwrap(), second.unwrap()];
    assert_eq!(
        steps.iter().filter(|s| **s == Step::Idle).count(),
        1,
        "{steps:?}"
    );
    assert_exactly_once(&storage, job, group).await;
}
