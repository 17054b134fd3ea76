//! An import always finishes (SPEC §3, "Always finishes"): the real server process is killed
//! with SIGKILL again and again in the middle of an import and started again, as a
//! crash-looping container would be, or stopped with SIGTERM as `docker stop` does. Every row
//! ends with exactly one outcome, no agent exists twice, the result file is complete and the
//! upload is erased.

use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::common::process::{Server, roster};
use crate::common::sheets::{C, agents, read_result, t, xlsx};
use crate::common::{Backend, MASTER_EMAIL, MASTER_PASSWORD, fresh_database};

const GOOD_ROWS: usize = 1_990;
const KILLS: usize = 20;
/// Short, so that each restart waits seconds, not the default lease, for the dead process's
/// claim to end.
const LEASE_SECONDS: &str = "2";
/// How long the whole import may take through every restart: generous, and only a bound on a
/// wait, never a figure a result depends on.
const IMPORT_LIMIT: Duration = Duration::from_secs(600);

/// 1,990 good rows, 7 repeats of an earlier email and 3 invalid addresses: 2,000 rows.
fn file() -> Vec<u8> {
    let mut rows = agents("Crash", GOOD_ROWS);
    for i in 0..7 {
        rows.push(vec![
            C::S(format!("Repeat {i}")),
            C::S(format!("crash.agent{i}@example.com")),
            t("password-repeat"),
        ]);
    }
    for i in 0..3 {
        rows.push(vec![
            C::S(format!("Bad {i}")),
            t("not an address"),
            t("password-bad"),
        ]);
    }
    xlsx(&rows)
}

struct Job {
    state: String,
    done_rows: i64,
}

async fn job(database_url: &str, id: i64) -> Job {
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(database_url)
        .await
        .unwrap();
    let (state, done_rows): (String, i64) =
        sqlx::query_as("SELECT state, done_rows FROM import_jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    Job { state, done_rows }
}

/// Waits until the job has more than `done` rows done (or has finished); returns how long that
/// took.
async fn progress_beyond(database_url: &str, id: i64, done: i64) -> Duration {
    let started = Instant::now();
    loop {
        let now = job(database_url, id).await;
        if now.done_rows > done || now.state == "finished" {
            return started.elapsed();
        }
        assert!(started.elapsed() < IMPORT_LIMIT, "the import made progress");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn token(server: &Server) -> String {
    let answer: Value = Client::new()
        .post(format!("{}/api/v1/tokens", server.url))
        .json(&json!({"email": MASTER_EMAIL, "password": MASTER_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().expect("a token").to_owned()
}

/// A database with a master administrator and the group `Support` (id 1).
async fn prepared(backend: Backend) -> Option<(String, Option<tempfile::TempDir>)> {
    let (database_url, dir) = fresh_database(backend).await?;
    roster(&database_url, &["migrate"], "");
    roster(
        &database_url,
        &[
            "admin",
            "create",
            "--master",
            "--email",
            MASTER_EMAIL,
            "--name",
            "Maria",
        ],
        MASTER_PASSWORD,
    );
    roster(&database_url, &["group", "create", "Support"], "");
    Some((database_url, dir))
}

async fn upload(server: &Server, token: &str, bytes: Vec<u8>) -> i64 {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("crash.xlsx"),
    );
    let answer = Client::new()
        .post(format!("{}/api/v1/groups/1/imports", server.url))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    answer.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn assert_complete(
    database_url: &str,
    server: &Server,
    token: &str,
    id: i64,
    rows: usize,
    good: usize,
) {
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(database_url)
        .await
        .unwrap();
    let (with_outcome, all, successes): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(outcome), COUNT(*), SUM(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END) \
         FROM import_rows WHERE job_id = $1",
    )
    .bind(id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(
        (with_outcome, all),
        (rows as i64, rows as i64),
        "every row's outcome, exactly once"
    );
    assert_eq!(successes, good as i64, "every good row is a Success");
    let (agents, distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT email_key) FROM agents")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(
        (agents, distinct),
        (good as i64, good as i64),
        "no agent twice, none missing"
    );
    let (upload_left,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM import_jobs WHERE id = $1 AND upload IS NOT NULL")
            .bind(id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(upload_left, 0, "the upload is erased");

    let result = Client::new()
        .get(format!("{}/api/v1/imports/{id}/result", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), StatusCode::OK);
    let cells = read_result(&result.bytes().await.unwrap());
    assert_eq!(cells.len(), rows + 1, "the header and every row");
    assert_eq!(cells[0][3], "Result");
    let outcomes: Vec<&str> = cells[1..].iter().map(|row| row[3].as_str()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "Success").count(), good);
    assert!(
        outcomes
            .iter()
            .all(|o| *o == "Success" || o.starts_with("Error: ")),
        "every row has its outcome in the result file"
    );
}

on_both_backends! {
    async fn an_import_survives_twenty_sigkills_of_its_server(backend) {
        let Some((database_url, _dir)) = prepared(backend).await else { return };
        let env = [("ROSTER_JOB_LEASE_SECONDS", LEASE_SECONDS)];
        let server = Server::start(&database_url, &env).await;
        let token = token(&server).await;
        let id = upload(&server, &token, file()).await;
        let mut server = Some(server);
        let mut resumed_after = Vec::new();
        let mut rng = rand::rng();
        for kill in 0..KILLS {
            let running = server.take().expect("a server runs");
            let done = job(&database_url, id).await.done_rows;
            // Each process is killed at a random moment after it got further, so that every
            // attempt makes progress: progress must never count against the job.
            let waited = progress_beyond(&database_url, id, done).await;
            if kill > 0 {
                resumed_after.push(waited);
            }
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..1_000))).await;
            running.kill();
            if job(&database_url, id).await.state == "finished" {
                break;
            }
            server = Some(Server::start(&database_url, &env).await);
        }
        let server = match server {
            Some(server) => server,
            None => Server::start(&database_url, &env).await,
        };
        let started = Instant::now();
        while job(&database_url, id).await.state != "finished" {
            assert!(started.elapsed() < IMPORT_LIMIT, "the import finished");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_complete(&database_url, &server, &token, id, GOOD_ROWS + 10, GOOD_ROWS).await;
        let longest = resumed_after.iter().max().copied().unwrap_or_default();
        let mean = resumed_after.iter().sum::<Duration>() / resumed_after.len().max(1) as u32;
        crate::common::shout(&format!(
            "crash loop ({backend:?}): {} restarts survived; restart to resumed progress: mean {mean:.1?}, longest {longest:.1?} (lease {LEASE_SECONDS} s)",
            resumed_after.len()
        ));
    }
}

on_both_backends! {
    async fn sigterm_stops_after_the_batch_and_the_next_start_resumes_at_once(backend) {
        let Some((database_url, _dir)) = prepared(backend).await else { return };
        // A lease far longer than the test: the job can only resume at once if the stopping
        // process gave it back.
        let env = [("ROSTER_JOB_LEASE_SECONDS", "3600")];
        let server = Server::start(&database_url, &env).await;
        let token = token(&server).await;
        let id = upload(&server, &token, xlsx(&agents("Stop", 600))).await;
        progress_beyond(&database_url, id, 0).await;

        let (status, took) = server.terminate().await;
        assert!(status.success(), "a clean exit: {status:?}");
        assert!(took < Duration::from_secs(10), "exited within the documented 10 s: {took:?}");
        let stopped = job(&database_url, id).await;
        assert_eq!(stopped.state, "running", "not finished, not failed: waiting for a process");
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&database_url).await.unwrap();
        let (owner, with_outcome): (Option<String>, i64) = sqlx::query_as(
            "SELECT owner, (SELECT COUNT(outcome) FROM import_rows WHERE job_id = $1) FROM import_jobs WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut db)
        .await
        .unwrap();
        assert_eq!(owner, None, "the lease was given back");
        assert_eq!(with_outcome, stopped.done_rows, "the batch in progress was finished, nothing half done");
        assert!(stopped.done_rows < 600, "stopped midway");

        let next = Server::start(&database_url, &env).await;
        let resumed = progress_beyond(&database_url, id, stopped.done_rows).await;
        crate::common::shout(&format!(
            "SIGTERM ({backend:?}): exited {took:.1?} after the signal; the next start resumed in {resumed:.1?}"
        ));
        let started = Instant::now();
        while job(&database_url, id).await.state != "finished" {
            assert!(started.elapsed() < IMPORT_LIMIT, "the import finished");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_complete(&database_url, &next, &token, id, 600, 600).await;
    }
}
