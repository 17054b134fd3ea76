//! Several Roster processes on one PostgreSQL database, started by scripts/two-processes.sh:
//! a session from one is valid on the other; an import runs exactly once; when the process
//! running it is killed midway, the other takes the job over within its lease and finishes it.

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
            let _ = Command::new("kill").arg(pid.to_string()).status();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_sessions_and_finish_a_killed_import() {
    let Ok(server_url) = std::env::var(crate::common::POSTGRES_ENV) else {
        shout(
            "SKIPPED: the two-process test needs PostgreSQL; set ROSTER_TEST_POSTGRES_URL (.ci/run does).",
        );
        return;
    };
    let Some((database_url, _)) =
        crate::common::fresh_database(crate::common::Backend::Postgres).await
    else {
        return;
    };
    let (server, database) = database_url.rsplit_once('/').unwrap();
    let _ = server_url;
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

    let mut script = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/two-processes.sh"
    ))
    .arg(database)
    .env("PG_SERVER", server)
    .env("ROSTER_BIN", env!("CARGO_BIN_EXE_roster"))
    .env("FIRST_PORT", free_port().to_string())
    .env("SECOND_PORT", free_port().to_string())
    .env("ROSTER_JOB_LEASE_SECONDS", "3")
    .env("ROSTER_LOG", "warn")
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("scripts/two-processes.sh runs");
    let mut lines = BufReader::new(script.stdout.take().unwrap()).lines();
    let mut processes = Vec::new();
    while processes.len() < 2 {
        let line = lines
            .next()
            .expect("the script names both processes")
            .unwrap();
        let pid = line
            .split("pid=")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap();
        let url = line.split("url=").nth(1).unwrap().trim().to_owned();
        processes.push((pid, url));
    }
    let cluster = Cluster { script, processes };
    let [first, second] = [
        cluster.processes[0].1.clone(),
        cluster.processes[1].1.clone(),
    ];
    let client = browser();
    for url in [&first, &second] {
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

    // Signed in through the first, valid on the second (cookies are per host, not per port).
    let login_page = client
        .get(format!("{first}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&login_page).unwrap();
    let signed_in = client
        .post(format!("{first}/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", MASTER_EMAIL),
            ("password", MASTER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let on_second = client.get(format!("{second}/admin")).send().await.unwrap();
    assert_eq!(
        on_second.status(),
        StatusCode::OK,
        "the session is shared through the database"
    );
    let page = on_second.text().await.unwrap();
    assert!(page.contains("Support"));

    // An import uploaded through the first.
    let admin_page = client
        .get(format!("{first}/admin/groups/1/import"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&admin_page).unwrap();
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(xlsx(&agents("Multi", 300))).file_name("multi.xlsx"),
    );
    let uploaded = client
        .post(format!("{first}/admin/groups/1/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);

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
    assert!(
        Command::new("kill")
            .args(["-9", &victim.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let survivor = cluster
        .processes
        .iter()
        .find(|(pid, _)| *pid != victim)
        .expect("one process is left")
        .1
        .clone();

    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        let status: serde_json::Value = client
            .get(format!("{survivor}/api/v1/imports/1"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["state"] == "finished" {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the survivor finished the job: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        (status["created"].as_i64(), status["failed"].as_i64()),
        (Some(300), Some(0)),
        "{status}"
    );
    let (new_owner, _) = owner_pid(&database_url, 1).await.map_or((0, 0), |o| o);
    assert_eq!(new_owner, 0, "a finished job has no owner");

    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&database_url)
        .await
        .unwrap();
    let (agents, distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT email_key) FROM agents")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!((agents, distinct), (300, 300), "no agent created twice");
    let (outcomes, rows): (i64, i64) =
        sqlx::query_as("SELECT COUNT(outcome), COUNT(*) FROM import_rows WHERE job_id = 1")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(
        (outcomes, rows),
        (300, 300),
        "every row's outcome exactly once"
    );
    let (attempts,): (i64,) = sqlx::query_as("SELECT attempts FROM import_jobs WHERE id = 1")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(attempts, 2, "claimed once, taken over once");
    let result = client
        .get(format!("{survivor}/admin/imports/1/result"))
        .send()
        .await
        .unwrap();
    let cells = read_result(&result.bytes().await.unwrap());
    assert!(cells[1..].iter().all(|row| row[3] == "Success"));
    drop(cluster);
}
