//! Test helpers: each test starts the real application on port 0 with a fresh database of its
//! own, SQLite or PostgreSQL, and talks to it over HTTP like a browser would.
// The benchmarks include these helpers too and use only some of them.
#![allow(dead_code)]

pub mod process;
pub mod sheets;
pub mod webdriver;

use std::{io::Write, sync::Once, time::Duration};

use reqwest::{Client, Response, StatusCode, redirect::Policy};
use roster::{
    config::Config,
    domain::{Clock, natural_key},
    jobs::Worker,
    startup::{Application, WorkerMode},
    storage::Storage,
};
use tokio::sync::oneshot;

pub const MASTER_EMAIL: &str = "master@example.com";
pub const MASTER_PASSWORD: &str = "correct horse battery";

/// Where PostgreSQL tests run: a server URL whose user may create databases.
pub const POSTGRES_ENV: &str = "ROSTER_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Writes around the test harness's output capture, so a skip is seen even when tests pass.
pub fn shout(message: &str) {
    let _ = writeln!(std::io::stderr(), "\n!!! {message}\n");
}

/// A fresh database URL for one test, or None (said loudly) when PostgreSQL is not configured.
pub async fn fresh_database(backend: Backend) -> Option<(String, Option<tempfile::TempDir>)> {
    // Tests also open connections of their own to look at what the server wrote.
    sqlx::any::install_default_drivers();
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}/roster.db?mode=rwc", dir.path().display());
            Some((url, Some(dir)))
        }
        Backend::Postgres => {
            let Ok(server) = std::env::var(POSTGRES_ENV) else {
                static WARNED: Once = Once::new();
                WARNED.call_once(|| {
                    shout(&format!(
                        "SKIPPED: PostgreSQL tests did not run because {POSTGRES_ENV} is not set \
                         (e.g. {POSTGRES_ENV}=postgres://postgres@127.0.0.1:5432/test). .ci/run sets it."
                    ))
                });
                return None;
            };
            let name = format!("roster_t_{:016x}", rand::random::<u64>());
            sqlx::any::install_default_drivers();
            let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&server)
                .await
                .expect("connect to the PostgreSQL test server");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("create a test database");
            let (base, _) = server.rsplit_once('/').expect("a database URL has a path");
            record_postgres_test();
            Some((format!("{base}/{name}"), None))
        }
    }
}

/// CI prints how many tests ran against PostgreSQL from these marks.
fn record_postgres_test() {
    let Ok(path) = std::env::var("ROSTER_TEST_POSTGRES_LOG") else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{}", std::thread::current().name().unwrap_or("?"));
    }
}

pub struct TestApp {
    pub base: String,
    pub storage: Storage,
    /// The app's clock: `advance` it to expire leases and sessions.
    pub clock: Clock,
    pub config: Config,
    pub client: Client,
    pub setup_url: Option<String>,
    pub database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// The longest any test waits for one answer. No test expects to come near it: it turns a
/// server that stopped answering into a failing test that names itself, not a suite that hangs.
pub const ANSWER_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(ANSWER_LIMIT)
        .build()
        .expect("HTTP client")
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        Self::spawn_as(backend, WorkerMode::Background, tweak).await
    }

    /// An app without its background worker: the test runs jobs with [`TestApp::worker`],
    /// step by step.
    pub async fn spawn_driven(backend: Backend) -> Option<TestApp> {
        Self::spawn_as(backend, WorkerMode::Off, |_| {}).await
    }

    pub async fn spawn_as(
        backend: Backend,
        worker: WorkerMode,
        tweak: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        let (database_url, dir) = fresh_database(backend).await?;
        let mut config = Config::for_database(&database_url);
        config.job_lease = Duration::from_secs(3);
        tweak(&mut config);
        Some(Self::start(config, worker, database_url, dir).await)
    }

    async fn start(
        config: Config,
        worker: WorkerMode,
        database_url: String,
        dir: Option<tempfile::TempDir>,
    ) -> TestApp {
        // Time stands still unless a test moves it: leases and sessions never expire by
        // themselves, however slow the machine.
        let clock = Clock::manual();
        let app = Application::build_with(config.clone(), clock.clone(), worker)
            .await
            .expect("the application builds");
        let base = format!("http://{}", app.address());
        let storage = app.storage().clone();
        let setup_url = app.setup_url().map(str::to_owned);
        let (shutdown, stopped) = oneshot::channel();
        let server = tokio::spawn(async move {
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .expect("the server runs");
        });
        TestApp {
            base,
            storage,
            clock,
            config,
            client: browser(),
            setup_url,
            database_url,
            shutdown: Some(shutdown),
            server: Some(server),
            _dir: dir,
        }
    }

    /// Stops the server (and its import worker) and waits until it has.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// A worker on this app's storage and settings, for tests that run jobs themselves.
    pub fn worker(&self) -> Worker {
        Worker::new(self.storage.clone(), self.config.clone())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_with(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    /// The CSRF token a page embeds in its forms.
    pub async fn csrf_from(&self, client: &Client, path: &str) -> String {
        let page = client
            .get(self.url(path))
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("body");
        extract_csrf(&page).unwrap_or_else(|| panic!("no csrf field on {path}: {page}"))
    }

    /// Posts a form as the page at `form_page` would, with its CSRF token.
    pub async fn post_form_with(
        &self,
        client: &Client,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let csrf = self.csrf_from(client, form_page).await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        client
            .post(self.url(action))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    pub async fn post_form(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        self.post_form_with(&self.client, form_page, action, fields)
            .await
    }

    /// Creates the first master administrator through the setup link and signs in as them.
    pub async fn setup_master(&self) {
        let setup = self
            .setup_url
            .clone()
            .expect("a fresh database prints a setup link");
        let path = setup
            .strip_prefix(&self.base)
            .expect("the link points here")
            .to_owned();
        let response = self
            .post_form(
                &path,
                &path,
                &[
                    ("name", "Maria Master"),
                    ("email", MASTER_EMAIL),
                    ("password", MASTER_PASSWORD),
                    ("confirm", MASTER_PASSWORD),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "setup succeeds");
    }

    /// A count straight from the database (`SELECT COUNT(*) …`), as stored.
    pub async fn count(&self, sql: &str) -> i64 {
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.database_url)
            .await
            .unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut db).await.unwrap()
    }

    /// Signs in at the agents' form with `client`.
    pub async fn agent_login(&self, client: &Client, email: &str, password: &str) -> Response {
        self.post_form_with(
            client,
            "/agent/login",
            "/agent/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// A fresh API token for the master administrator.
    pub async fn master_token(&self) -> String {
        let answer: serde_json::Value = Client::new()
            .post(self.url("/api/v1/tokens"))
            .json(&serde_json::json!({"email": MASTER_EMAIL, "password": MASTER_PASSWORD}))
            .send()
            .await
            .expect("POST /api/v1/tokens")
            .json()
            .await
            .expect("a token");
        answer["token"].as_str().expect("a token").to_owned()
    }

    pub async fn login_with(&self, client: &Client, email: &str, password: &str) -> Response {
        self.post_form_with(
            client,
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Creates a group through the web form and returns its id.
    pub async fn create_group(&self, parent: Option<i64>, name: &str) -> i64 {
        let parent = parent.map(|p| p.to_string()).unwrap_or_default();
        let response = self
            .post_form(
                "/admin",
                "/admin/groups",
                &[("parent_id", &parent), ("name", name), ("description", "")],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "group {name} created"
        );
        id_from_location(&response, "/admin/groups/")
    }

    /// Creates an agent through the web form and returns its id.
    pub async fn create_agent(&self, group: i64, name: &str, email: &str, password: &str) -> i64 {
        let response = self
            .post_form(
                &format!("/admin/groups/{group}/agents/new"),
                &format!("/admin/groups/{group}/agents"),
                &[
                    ("name", name),
                    ("email", email),
                    ("password", password),
                    ("group_id", &group.to_string()),
                    ("enabled", "on"),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "agent {email} created"
        );
        id_from_location(&response, "/admin/agents/")
    }

    /// Agents "{prefix} 00000"… with emails "{prefix}{n}@example.com" (lower case) in `group`,
    /// written straight to the database 500 a statement, all with the password hash `hash`:
    /// for tests and benchmarks that need thousands, where hashing each would take minutes.
    pub async fn seed_agents(
        &self,
        group: i64,
        prefix: &str,
        numbers: std::ops::Range<usize>,
        hash: &str,
    ) {
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.database_url)
            .await
            .unwrap();
        let numbers: Vec<usize> = numbers.collect();
        for chunk in numbers.chunks(500) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    format!(
                        "($2, ${}, ${}, ${}, ${}, $1, 1, 0, 0)",
                        4 * i + 3,
                        4 * i + 4,
                        4 * i + 5,
                        4 * i + 6
                    )
                })
                .collect();
            // The sort key as the application writes it with every name.
            let sql = format!(
                "INSERT INTO agents (group_id, sort_key, name, email, email_key, password_hash, enabled, created_at, updated_at) VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(hash).bind(group);
            for n in chunk {
                let email = format!("{}{n}@example.com", prefix.to_lowercase().replace(' ', ""));
                let name = format!("{prefix} {n:05}");
                query = query
                    .bind(natural_key(&name))
                    .bind(name)
                    .bind(email.clone())
                    .bind(email);
            }
            query.execute(&mut db).await.unwrap();
        }
    }

    /// Creates an administrator for the given groups (as the signed-in master) and returns a
    /// client signed in as them.
    pub async fn admin_of(&self, email: &str, groups: &[i64]) -> Client {
        let mut fields = vec![
            ("name", "Group Admin"),
            ("email", email),
            ("password", "admin password 1"),
        ];
        let ids: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        fields.extend(ids.iter().map(|id| ("group_id", id.as_str())));
        let response = self
            .post_form("/admin/admins/new", "/admin/admins", &fields)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "administrator {email} created"
        );
        let client = browser();
        let response = self.login_with(&client, email, "admin password 1").await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "administrator {email} signs in"
        );
        client
    }

    /// Uploads a file to a group's import form.
    pub async fn upload(
        &self,
        client: &Client,
        group: i64,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Response {
        self.upload_with(client, group, file_name, bytes, &[]).await
    }

    /// Uploads a file with the form's other fields (`mode`, `dry_run`), sent after the file as
    /// a browser sends its "Check file" button.
    pub async fn upload_with(
        &self,
        client: &Client,
        group: i64,
        file_name: &str,
        bytes: Vec<u8>,
        fields: &[(&'static str, &'static str)],
    ) -> Response {
        let csrf = self
            .csrf_from(client, &format!("/admin/groups/{group}/import"))
            .await;
        let mut form = reqwest::multipart::Form::new().text("csrf", csrf).part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
        );
        for (name, value) in fields {
            form = form.text(*name, *value);
        }
        client
            .post(self.url(&format!("/admin/groups/{group}/import")))
            .multipart(form)
            .send()
            .await
            .expect("upload")
    }

    /// Waits (bounded) until the group's latest import has ended; returns its status JSON.
    pub async fn wait_for_import(&self, client: &Client, job: i64) -> serde_json::Value {
        for _ in 0..600 {
            let status: serde_json::Value = self
                .get_with(client, &format!("/api/v1/imports/{job}"))
                .await
                .json()
                .await
                .expect("status JSON");
            if status["state"] == "finished" || status["state"] == "failed" {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("import {job} did not finish within 60 s");
    }

    pub async fn latest_job(&self, client: &Client, group: i64) -> i64 {
        let jobs: serde_json::Value = self
            .get_with(client, &format!("/api/v1/groups/{group}/imports"))
            .await
            .json()
            .await
            .expect("JSON");
        jobs[0]["id"].as_i64().expect("a job id")
    }
}

pub fn extract_csrf(page: &str) -> Option<String> {
    let start = page.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn id_from_location(response: &Response, prefix: &str) -> i64 {
    let location = location(response);
    let rest = location
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("redirect to {prefix}…, got {location:?}"));
    rest.split(['?', '/'])
        .next()
        .and_then(|id| id.parse().ok())
        .expect("an id in the redirect")
}

/// Runs a test body once on SQLite and once on PostgreSQL (skipped loudly without it).
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($backend: $crate::common::Backend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::common::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::common::Backend::Postgres).await;
            }
        }
    };
}

/// Runs the `roster` binary against the app's database, as an operator would.
pub fn roster_cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    roster_at(&app.database_url, args, "")
}

/// Runs the `roster` binary against a database, with `stdin` piped to it.
pub fn roster_at(database_url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("ROSTER_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the roster binary runs");
    let mut input = child.stdin.take().unwrap();
    // A command that refuses early may close its end first: that is its answer, not an error.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().unwrap()
}
