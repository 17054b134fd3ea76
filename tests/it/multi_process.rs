//! Several Roster processes on one PostgreSQL database, started by scripts/two-processes.sh:
//! a session from one is valid on the other; an import runs exactly once; when the process
//! running it is killed midway, the other takes the job over within its lease and finishes it;
//! three processes share one import's chunks, and one killed while helping loses nothing.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::common::process::{free_port, roster};
use crate::common::sheets::{agents, read_result, xlsx};
use crate::common::{MASTER_EMAIL, MASTER_PASSWORD, browser, extract_csrf, shout};
use reqwest::StatusCode;

struct Cluster {
    script: Child,
    processes: Vec<(u32, String)>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (pid, _) in &self.processes {
            let _ = Command::new("kill")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.script.kill();
        let _ = self.script.wait();
    }
}

async fn owner_pid(database_url: &str, job: i64) -> Option<(u32, i64)> {
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(database_url)
        .await
        .unwrap();
    let row: (Option<String>, i64) =
        sqlx::query_as("SELECT owner, done_rows FROM import_jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&mut db)
            .await
            .unwrap();
    // Owners are named host-pid-random.
    let pid = row.0?.rsplit('-').nth(1)?.parse().ok()?;
    Some((pid, row.1))
}

/// A fresh database with a master and the group Support (id 1), and `ports` Roster processes
/// serving it, each ready.
async fn start_cluster(processes: usize, env: &[(&str, &str)]) -> Option<(String, Cluster)> {
    if std::env::var(crate::common::POSTGRES_ENV).is_err() {
        shout(
            "SKIPPED: the multi-process tests need PostgreSQL; set ROSTER_TEST_POSTGRES_URL (.ci/run does).",
        );
        return None;
    }
    let (database_url, _) = crate::common::fresh_database(crate::common::Backend::Postgres).await?;
    let (server, database) = database_url.rsplit_once('/').unwrap();
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

    let ports: Vec<String> = (0..processes).map(|_| free_port().to_string()).collect();
    let mut script = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/two-processes.sh"
    ));
    script
        .arg(database)
        .env("PG_SERVER", server)
        .env("ROSTER_BIN", env!("CARGO_BIN_EXE_roster"))
        .env("PORTS", ports.join(" "))
        .env("ROSTER_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut script = script.spawn().expect("scripts/two-processes.sh runs");
    let mut lines = BufReader::new(script.stdout.take().unwrap()).lines();
    let mut started = Vec::new();
    while started.len() < processes {
        let line = lines
            .next()
            .expect("the script names every process")
            .unwrap();
        let pid = line
            .split("pid=")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap();
        let url = line.split("url=").nth(1).unwrap().trim().to_owned();
        started.push((pid, url));
    }
    let cluster = Cluster {
        script,
        processes: started,
    };
    let client = browser();
    for (_, url) in &cluster.processes {
        let deadline = Instant::now() + Duration::from_secs(30);
        while client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .map(|r| r.status() != StatusCode::OK)
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "{url} became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Some((database_url, cluster))
}

async fn sign_in(client: &reqwest::Client, url: &str) {
    let login_page = client
        .get(format!("{url}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&login_page).unwrap();
    let signed_in = client
        .post(format!("{url}/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", MASTER_EMAIL),
            ("password", MASTER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
}

/// Uploads `rows` agents to Support through `url`; the import is job 1.
async fn upload(client: &reqwest::Client, url: &str, rows: usize) {
    let admin_page = client
        .get(format!("{url}/admin/groups/1/import"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&admin_page).unwrap();
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(xlsx(&agents("Multi", rows))).file_name("multi.xlsx"),
    );
    let uploaded = client
        .post(format!("{url}/admin/groups/1/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
}

async fn wait_until_finished(client: &reqwest::Client, url: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let status: serde_json::Value = client
            .get(format!("{url}/api/v1/imports/1"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["state"] == "finished" {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the survivors finished the job: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every row of job 1 has its outcome once, every agent exists once, the result says Success.
async fn assert_exactly_once(
    client: &reqwest::Client,
    url: &str,
    database_url: &str,
    rows: i64,
) -> sqlx::AnyConnection {
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(database_url)
        .await
        .unwrap();
    let (agents, distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT email_key) FROM agents")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!((agents, distinct), (rows, rows), "no agent created twice");
    let (outcomes, row_count): (i64, i64) =
        sqlx::query_as("SELECT COUNT(outcome), COUNT(*) FROM import_rows WHERE job_id = 1")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(
        (outcomes, row_count),
        (rows, rows),
        "every row's outcome exactly once"
    );
    let result = client
        .get(format!("{url}/admin/imports/1/result"))
        .send()
        .await
        .unwrap();
    let cells = read_result(&result.bytes().await.unwrap());
    assert_eq!(cells.len() as i64, rows + 1);
    assert!(cells[1..].iter().all(|row| row[3] == "Success"));
    db
}

fn kill_9(pid: u32) {
    assert!(
        Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_sessions_and_finish_a_killed_import() {
    let Some((database_url, cluster)) =
        start_cluster(2, &[("ROSTER_JOB_LEASE_SECONDS", "3")]).await
    else {
        return;
    };
    let [first, second] = [
        cluster.processes[0].1.clone(),
        cluster.processes[1].1.clone(),
    ];
    let client = browser();

    // Signed in through the first, valid on the second (cookies are per host, not per port).
    sign_in(&client, &first).await;
    let on_second = client.get(format!("{second}/admin")).send().await.unwrap();
    assert_eq!(
        on_second.status(),
        StatusCode::OK,
        "the session is shared through the database"
    );
    let page = on_second.text().await.unwrap();
    assert!(page.contains("Support"));

    // An import uploaded through the first.
    upload(&client, &first, 300).await;

    // Kill whichever process holds the job once it has made some progress.
    let deadline = Instant::now() + Duration::from_secs(300);
    let victim = loop {
        if let Some((pid, done)) = owner_pid(&database_url, 1).await
            && done >= 64
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the job started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    kill_9(victim);
    let survivor = cluster
        .processes
        .iter()
        .find(|(pid, _)| *pid != victim)
        .expect("one process is left")
        .1
        .clone();

    let status = wait_until_finished(&client, &survivor).await;
    assert_eq!(
        (status["created"].as_i64(), status["failed"].as_i64()),
        (Some(300), Some(0)),
        "{status}"
    );
    let (new_owner, _) = owner_pid(&database_url, 1).await.map_or((0, 0), |o| o);
    assert_eq!(new_owner, 0, "a finished job has no owner");
    let mut db = assert_exactly_once(&client, &survivor, &database_url, 300).await;
    let (attempts,): (i64,) = sqlx::query_as("SELECT attempts FROM import_jobs WHERE id = 1")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(attempts, 2, "claimed once, taken over once");
    drop(cluster);
}

/// The pids of processes holding an open chunk of job 1 and not the job itself, with rows done.
async fn helper_pids(database_url: &str) -> (Vec<u32>, i64) {
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(database_url)
        .await
        .unwrap();
    let owners: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT c.owner FROM import_chunks c JOIN import_jobs j ON j.id = c.job_id \
         WHERE c.job_id = 1 AND c.done_at IS NULL AND c.owner IS NOT NULL \
           AND c.owner <> COALESCE(j.owner, '')",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let (done,): (i64,) = sqlx::query_as("SELECT done_rows FROM import_jobs WHERE id = 1")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let pids = owners
        .iter()
        .filter_map(|(owner,)| owner.rsplit('-').nth(1)?.parse().ok())
        .collect();
    (pids, done)
}

/// Three processes share one import's chunks; one helping is killed mid-chunk, and the others
/// take its chunk over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_spread_an_import_and_survive_a_sigkill() {
    let env = [
        ("ROSTER_JOB_LEASE_SECONDS", "3"),
        ("ROSTER_HASH_THREADS", "1"),
    ];
    let Some((database_url, cluster)) = start_cluster(3, &env).await else {
        return;
    };
    let client = browser();
    let first = cluster.processes[0].1.clone();
    sign_in(&client, &first).await;
    // Four chunks: 256, 256, 256 and 132 rows.
    const ROWS: i64 = 900;
    upload(&client, &first, ROWS as usize).await;

    let deadline = Instant::now() + Duration::from_secs(300);
    let victim = loop {
        let (helpers, done) = helper_pids(&database_url).await;
        if let Some(pid) = helpers.first()
            && done >= 64
        {
            break *pid;
        }
        assert!(
            Instant::now() < deadline,
            "another process helped with the job"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    kill_9(victim);
    let survivor = cluster
        .processes
        .iter()
        .find(|(pid, _)| *pid != victim)
        .expect("two processes are left")
        .1
        .clone();
    let status = wait_until_finished(&client, &survivor).await;
    assert_eq!(status["created"].as_i64(), Some(ROWS), "{status}");
    let mut db = assert_exactly_once(&client, &survivor, &database_url, ROWS).await;
    let writers: Vec<(String, i64)> = sqlx::query_as(
        "SELECT done_by, COUNT(*) FROM import_chunks WHERE job_id = 1 GROUP BY done_by",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(
        writers.iter().map(|(_, chunks)| chunks).sum::<i64>(),
        4,
        "every chunk written: {writers:?}"
    );
    assert!(
        writers.len() >= 2,
        "the import was spread over processes: {writers:?}"
    );
    let (attempts,): (i64,) = sqlx::query_as("SELECT attempts FROM import_jobs WHERE id = 1")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(
        attempts, 1,
        "the job's holder lived: only the helper's chunk moved"
    );
    drop(cluster);
}
