//! Rerunnable import benchmark. `cargo bench --bench import` prints, for SQLite (and
//! PostgreSQL when ROSTER_TEST_POSTGRES_URL is set):
//! - a 10,000-row import: wall time, rows per second, Argon2id hashes per second on all cores
//!   measured in the same run with the same parameters (the physical limit), and the ratio
//!   wall ÷ (rows ÷ that rate);
//! - a 100,000-row file: the time until every row's error is known;
//! - a check (dry run, mode update) of a 100,000-row file, 1,000 of whose emails exist: the
//!   time from upload to the finished check with its result file;
//! - the peak memory (VmHWM) of each, each run in a process of its own, from the moment its
//!   file is ready to upload: what the benchmark did before (generating the file, hashing the
//!   existing agents' passwords) is not the server's.

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::{process::Command, time::Instant};

use common::{Backend, fresh_database};
use rayon::prelude::*;
use roster::{
    config::Config,
    domain::{AgentName, Description, Email, GroupName, Nickname, hash_password},
    import::{JobOutcome, RunLimit, pipeline},
    jobs::{Step, Worker},
    storage::{ImportMode, ImportOptions, NewAgent, Storage},
};
use rust_xlsxwriter::Workbook;

/// ROSTER_BENCH_ROWS overrides it for a quick run.
fn import_rows() -> usize {
    std::env::var("ROSTER_BENCH_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}
const LARGE_ROWS: usize = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(mode) = args
        .iter()
        .position(|a| a == "--child")
        .map(|i| args[i + 1].clone())
    {
        let backend = if args.iter().any(|a| a == "postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(child(&mode, backend));
        println!(
            "peak memory since the upload (VmHWM): {} MB",
            peak_rss_kb() / 1024
        );
        return;
    }
    let backends: &[&str] = if std::env::var(common::POSTGRES_ENV).is_ok() {
        &["sqlite", "postgres"]
    } else {
        &["sqlite"]
    };
    for backend in backends {
        // ROSTER_BENCH_MODES=check,errors runs only those.
        let modes = std::env::var("ROSTER_BENCH_MODES").unwrap_or("import,errors,check".into());
        for mode in modes.split(',') {
            println!("\n== {backend}: {mode} ==");
            let exe = std::env::current_exe().unwrap();
            let status = Command::new(exe)
                .args(["--child", mode, backend])
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
}

async fn child(mode: &str, backend: Backend) {
    let (url, _dir) = fresh_database(backend).await.expect("database");
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
    match mode {
        "import" => import(&storage, &config, group).await,
        "check" => check(&storage, &config, group).await,
        _ => errors_known(&storage, &config, group).await,
    }
}

async fn import(storage: &Storage, config: &Config, group: i64) {
    let file = sheet(import_rows(), 0);
    let rate_before = hash_rate();
    reset_peak_memory();
    let start = Instant::now();
    pipeline::submit(
        storage,
        &config.limits,
        pipeline::Submission::plain(group, "bench", "bench.xlsx"),
        file,
    )
    .await
    .unwrap();
    let worker = Worker::new(storage.clone(), config.clone());
    let step = worker.step().await.unwrap();
    let wall = start.elapsed().as_secs_f64();
    let rate_after = hash_rate();
    assert_eq!(
        step,
        Step::Ran(JobOutcome::Finished {
            created: import_rows() as u64,
            failed: 0
        })
    );
    let rate = (rate_before + rate_after) / 2.0;
    let limit = import_rows() as f64 / rate;
    println!(
        "{} rows imported in {wall:.1} s: {:.1} rows/s",
        import_rows(),
        import_rows() as f64 / wall
    );
    println!(
        "Argon2id on all {} cores: {rate_before:.1} and {rate_after:.1} hashes/s (before/after); limit {limit:.1} s",
        rayon::current_num_threads()
    );
    println!("ratio wall / limit: {:.3}", wall / limit);
}

/// Hashes per second with every core busy, with the import's own hashing function (same
/// parameters, same per-thread working memory).
fn hash_rate() -> f64 {
    // Long enough (about ten seconds) to see the sustained rate, not a short burst.
    let count = rayon::current_num_threads() * 500;
    let start = Instant::now();
    (0..count).into_par_iter().for_each(|i| {
        hash_password(&format!("benchmark password {i}"));
    });
    count as f64 / start.elapsed().as_secs_f64()
}

async fn errors_known(storage: &Storage, config: &Config, group: i64) {
    let file = sheet(LARGE_ROWS, 7);
    reset_peak_memory();
    let start = Instant::now();
    let submitted = pipeline::submit(
        storage,
        &config.limits,
        pipeline::Submission::plain(group, "bench", "large.xlsx"),
        file,
    )
    .await
    .unwrap();
    let accepted = start.elapsed().as_secs_f64();
    let worker = Worker::new(storage.clone(), config.clone());
    // Zero batches: the job validates every row, records every outcome it can know, and stops.
    worker
        .step_limited(RunLimit {
            max_batches: Some(0),
            ..RunLimit::default()
        })
        .await
        .unwrap();
    let known = start.elapsed().as_secs_f64();
    let job = storage.import_job(submitted.job_id).await.unwrap().unwrap();
    println!(
        "{LARGE_ROWS} rows: upload checked in {accepted:.2} s; all {} row errors known after {known:.2} s",
        job.failed_count
    );
}

async fn check(storage: &Storage, config: &Config, group: i64) {
    // Agents the file names already: the check finds them, and would update them.
    let hash = hash_password("existing password");
    for i in (0..LARGE_ROWS).step_by(100) {
        let email = Email::parse(&format!("agent{i}@example.com")).unwrap();
        storage
            .create_agent(NewAgent {
                group_id: group,
                name: &AgentName::parse(&format!("Agent {i}")).unwrap(),
                nickname: &Nickname::parse("").unwrap(),
                email: &email,
                description: &Description::parse("").unwrap(),
                password_hash: &hash,
                enabled: true,
                must_change_password: false,
            })
            .await
            .unwrap();
    }
    let file = sheet(LARGE_ROWS, 7);
    reset_peak_memory();
    let start = Instant::now();
    let submission = pipeline::Submission {
        options: ImportOptions {
            mode: ImportMode::Update,
            dry_run: true,
            ..ImportOptions::default()
        },
        ..pipeline::Submission::plain(group, "bench", "large.xlsx")
    };
    let submitted = pipeline::submit(storage, &config.limits, submission, file)
        .await
        .unwrap();
    let accepted = start.elapsed().as_secs_f64();
    let worker = Worker::new(storage.clone(), config.clone());
    worker.step().await.unwrap();
    let done = start.elapsed().as_secs_f64();
    let job = storage.import_job(submitted.job_id).await.unwrap().unwrap();
    assert!(job.has_result && job.options.dry_run);
    println!(
        "{LARGE_ROWS}-row check: upload accepted in {accepted:.2} s, check finished {:.2} s after it ({done:.2} s in all): {} would be created, {} updated, {} errors",
        done - accepted,
        job.created_count,
        job.updated_count,
        job.failed_count
    );
}

/// `rows` agents; every `bad_every`-th has an invalid email (0: none).
fn sheet(rows: usize, bad_every: usize) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory().unwrap();
    for (c, header) in ["Name", "Email", "Password"].iter().enumerate() {
        sheet.write_string(0, c as u16, *header).unwrap();
    }
    for i in 0..rows {
        let r = i as u32 + 1;
        let email = if bad_every > 0 && i % bad_every == 0 {
            format!("agent{i}-at-example.com")
        } else {
            format!("agent{i}@example.com")
        };
        sheet.write_string(r, 0, format!("Agent {i}")).unwrap();
        sheet.write_string(r, 1, email).unwrap();
        sheet.write_string(r, 2, format!("password-{i}")).unwrap();
    }
    workbook.save_to_buffer().unwrap()
}

/// Sets the process's peak memory (VmHWM) to what it holds now (Linux: `clear_refs`, 5).
fn reset_peak_memory() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak memory");
    println!(
        "memory held at the upload (VmRSS): {} MB",
        memory_kb("VmRSS:") / 1024
    );
}

fn peak_rss_kb() -> u64 {
    memory_kb("VmHWM:")
}

/// A `/proc/self/status` figure, in kB.
fn memory_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .map(str::to_owned)
        })
        .and_then(|line| {
            line.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}
