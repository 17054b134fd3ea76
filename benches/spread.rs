//! One import spread over processes, on PostgreSQL. `cargo bench --bench spread` (with
//! ROSTER_TEST_POSTGRES_URL set) imports the same file, twice each, with one and with two
//! Roster worker processes on one database, every process hashing on one thread
//! (`ROSTER_HASH_THREADS=1`), and prints each wall time — from the processes' start to the
//! finished job with its result file — and the ratio two ÷ one.
//! ROSTER_BENCH_SPREAD_ROWS sets the file's rows (default 2,000: eight chunks, so that the last chunk,
//! which one process writes while the other may have none left, weighs little).

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::{
    process::{Child, Command},
    time::{Duration, Instant},
};

use common::{Backend, fresh_database};
use roster::{
    config::Config,
    domain::{Description, GroupName},
    import::pipeline,
    jobs::{Step, Worker},
    storage::{JobState, Storage},
};

fn rows() -> usize {
    std::env::var("ROSTER_BENCH_SPREAD_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if let Some(at) = args.iter().position(|a| a == "--worker") {
        let (url, job) = (&args[at + 1], args[at + 2].parse().unwrap());
        runtime.block_on(work_until_finished(url, job));
        return;
    }
    if std::env::var(common::POSTGRES_ENV).is_err() {
        println!("spread: needs PostgreSQL; set {}", common::POSTGRES_ENV);
        return;
    }
    runtime.block_on(compare());
}

async fn compare() {
    let (url, _) = fresh_database(Backend::Postgres).await.expect("database");
    let storage = Storage::connect(&url).await.unwrap();
    storage.migrate().await.unwrap();
    let config = Config::for_database(&url);
    let group = storage
        .create_group(
            None,
            &GroupName::parse("Bench").unwrap(),
            &Description::parse("").unwrap(),
        )
        .await
        .unwrap();
    let rows = rows();
    println!("{rows} rows, every process hashing on one thread");
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for (round, processes) in [1, 2, 1, 2].into_iter().enumerate() {
        let file = common::sheets::xlsx(&common::sheets::agents(&format!("Round{round}"), rows));
        let submission = pipeline::Submission::plain(group, "bench", "spread.xlsx");
        let job = pipeline::submit(&storage, &config.limits, submission, file)
            .await
            .unwrap()
            .job_id;
        let start = Instant::now();
        let mut workers: Vec<Child> = (0..processes)
            .map(|_| {
                Command::new(std::env::current_exe().unwrap())
                    .args(["--worker", &url, &job.to_string()])
                    .env("ROSTER_HASH_THREADS", "1")
                    .spawn()
                    .unwrap()
            })
            .collect();
        loop {
            let state = storage.import_job(job).await.unwrap().unwrap();
            if state.state == JobState::Finished {
                assert_eq!(state.created_count, rows as i64);
                break;
            }
            assert!(!state.state.is_done(), "the import ended {:?}", state.state);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let wall = start.elapsed().as_secs_f64();
        for worker in &mut workers {
            assert!(worker.wait().unwrap().success());
        }
        let writers = storage.chunk_writers(job).await.unwrap();
        println!(
            "{processes} process(es): {wall:.1} s; chunks written per process: {:?}",
            writers.iter().map(|(_, n)| n).collect::<Vec<_>>()
        );
        times[processes - 1].push(wall);
    }
    let mean = |t: &[f64]| t.iter().sum::<f64>() / t.len() as f64;
    let (one, two) = (mean(&times[0]), mean(&times[1]));
    println!(
        "mean: one process {one:.1} s, two processes {two:.1} s; two ÷ one = {:.3}",
        two / one
    );
}

/// A Roster worker process: runs or helps with jobs until `job` has ended.
async fn work_until_finished(url: &str, job: i64) {
    let storage = Storage::connect(url).await.unwrap();
    let mut config = Config::for_database(url);
    config.hash_threads = Some(1);
    let worker = Worker::new(storage.clone(), config);
    loop {
        let step = match worker.step().await.unwrap() {
            Step::Idle => worker.help().await.unwrap(),
            ran => ran,
        };
        if storage
            .import_job(job)
            .await
            .unwrap()
            .unwrap()
            .state
            .is_done()
        {
            return;
        }
        if step == Step::Idle {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
