//! Undoing an import, driven step by step: created agents are deleted and signed out, updated
//! ones get their earlier values back, agents changed since are kept and listed; an undo is a
//! durable job that resumes where its process died and takes each agent back exactly once.

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::common::sheets::{agents, t, xlsx};
use crate::common::{MASTER_EMAIL, MASTER_PASSWORD, TestApp, browser, location, roster_cli};
use roster::{
    import::{JobOutcome, RunLimit, pipeline},
    jobs::Step,
    storage::JobState,
};

/// Uploads through the import form with extra fields (`mode`, `dry_run`) after the CSRF one.
async fn upload_with(
    app: &TestApp,
    group: i64,
    bytes: Vec<u8>,
    fields: &[(&'static str, &'static str)],
) -> i64 {
    let csrf = app
        .csrf_from(&app.client, &format!("/admin/groups/{group}/import"))
        .await;
    let mut form = reqwest::multipart::Form::new().text("csrf", csrf);
    for (name, value) in fields {
        form = form.text(*name, *value);
    }
    let form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("agents.xlsx"),
    );
    let uploaded = app
        .client
        .post(app.url(&format!("/admin/groups/{group}/import")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    app.latest_job(&app.client, group).await
}

/// A create-mode import of `agents(prefix, n)`, run to its end.
async fn imported(app: &TestApp, group: i64, prefix: &str, n: usize) -> i64 {
    let job = upload_with(app, group, xlsx(&agents(prefix, n)), &[]).await;
    let done = Step::Ran(JobOutcome::Finished {
        created: n as u64,
        failed: 0,
    });
    assert_eq!(app.worker().step().await.unwrap(), done);
    job
}

async fn token(app: &TestApp, email: &str, password: &str) -> String {
    let token: Value = app
        .client
        .post(app.url("/api/v1/tokens"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["token"].as_str().expect("a token").to_owned()
}

async fn api_undo(app: &TestApp, token: &str, job: i64) -> Response {
    Client::new()
        .post(app.url(&format!("/api/v1/imports/{job}/undo")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn api_status(app: &TestApp, token: &str, job: i64) -> Value {
    Client::new()
        .get(app.url(&format!("/api/v1/imports/{job}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Posts the undo as the group page's browser would.
async fn web_undo(app: &TestApp, client: &Client, form_page: &str, job: i64) -> Response {
    let action = format!("/admin/imports/{job}/undo");
    app.post_form_with(client, form_page, &action, &[]).await
}

/// A browser signed in as the agent, or None when the password is refused.
async fn agent_browser(app: &TestApp, email: &str, password: &str) -> Option<Client> {
    let client = browser();
    let fields = [("email", email), ("password", password)];
    let signed_in = app
        .post_form_with(&client, "/agent/login", "/agent/login", &fields)
        .await;
    (location(&signed_in) == "/agent").then_some(client)
}

async fn signed_in(app: &TestApp, agent: &Client) -> bool {
    app.get_with(agent, "/agent").await.status() == StatusCode::OK
}

async fn agent_id(app: &TestApp, group: i64, email: &str) -> Option<i64> {
    let agents = app
        .storage
        .agents_in_group(group, 1000, None)
        .await
        .unwrap();
    agents.iter().find(|a| a.email == email).map(|a| a.id)
}

async fn emails(app: &TestApp, group: i64) -> Vec<String> {
    let agents = app
        .storage
        .agents_in_group(group, 1000, None)
        .await
        .unwrap();
    let mut emails: Vec<String> = agents.into_iter().map(|a| a.email).collect();
    emails.sort();
    emails
}

/// The agent's sessions as stored: a deleted agent must leave none behind.
async fn agent_sessions(app: &TestApp, agent: i64) -> i64 {
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE kind = 'agent' AND principal_id = $1")
            .bind(agent)
            .fetch_one(&mut db)
            .await
            .unwrap();
    count
}

async fn page(app: &TestApp, path: &str) -> String {
    app.get(path).await.text().await.unwrap()
}

fn undo_link(job: i64) -> String {
    format!("href=\"/admin/imports/{job}/undo\"")
}

on_both_backends! {
    async fn undo_deletes_the_agents_an_import_created_signs_them_out_and_keeps_one_edited_since(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        app.create_agent(group, "Outside Agent", "outsider@example.com", "outsider password 1").await;
        let job = imported(&app, group, "Undo", 5).await;
        let signed = agent_browser(&app, "undo.agent0@example.com", "secret-Undo-0").await.expect("the imported agent signs in");
        assert!(signed_in(&app, &signed).await);
        let agent0 = agent_id(&app, group, "undo.agent0@example.com").await.unwrap();
        assert_eq!(agent_sessions(&app, agent0).await, 1);

        // An administrator edits one imported agent: the undo must keep it.
        let edited = agent_id(&app, group, "undo.agent1@example.com").await.unwrap();
        let form = format!("/admin/agents/{edited}");
        let fields = [("name", "Renamed Since"), ("nickname", ""), ("email", "undo.agent1@example.com"),
                      ("description", ""), ("enabled", "on"), ("group_id", &group.to_string())];
        assert_eq!(app.post_form(&form, &form, &fields).await.status(), StatusCode::SEE_OTHER);

        let group_page = format!("/admin/groups/{group}");
        assert!(page(&app, &group_page).await.contains(&undo_link(job)), "the history offers Undo");
        let confirm = page(&app, &format!("/admin/imports/{job}/undo")).await;
        assert!(confirm.contains("5 agents created by this import will be deleted and signed out; 0 agents it updated get their earlier name, nickname, description, group and password back; agents changed since the import are kept and listed afterwards."), "{confirm}");
        assert!(confirm.contains("Undo import") && confirm.contains(&format!("action=\"/admin/imports/{job}/undo\"")));

        let requested = web_undo(&app, &app.client, &format!("/admin/imports/{job}/undo"), job).await;
        assert_eq!(requested.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&requested), format!("/admin/groups/{group}?done=undo-requested"));
        let undoing = page(&app, &group_page).await;
        assert!(undoing.contains("Undoing the import of agents.xlsx"), "{undoing}");
        assert!(!undoing.contains(&undo_link(job)), "no second Undo while it runs");

        assert_eq!(app.worker().step().await.unwrap(), Step::Ran(JobOutcome::Undone { reverted: 4, kept: 1 }));
        assert_eq!(emails(&app, group).await, ["outsider@example.com", "undo.agent1@example.com"], "exactly the import's unchanged agents are gone");
        assert_eq!(agent_sessions(&app, agent0).await, 0, "a deleted agent's sessions end");
        assert_eq!(location(&app.get_with(&signed, "/agent").await), "/agent/login", "a deleted agent is signed out");
        assert!(agent_browser(&app, "undo.agent0@example.com", "secret-Undo-0").await.is_none());

        let undone = page(&app, &group_page).await;
        assert!(undone.contains("Import of agents.xlsx undone: 4 agents taken back, 1 kept because it changed after the import"), "{undone}");
        assert!(undone.contains("row 3: undo.agent1@example.com (changed after the import)"), "{undone}");
        assert!(!undone.contains(&undo_link(job)));

        // Twice: 409, on the web and in the API.
        let again = web_undo(&app, &app.client, &group_page, job).await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        assert!(again.text().await.unwrap().contains("already been undone"));
        assert_eq!(app.get(&format!("/admin/imports/{job}/undo")).await.status(), StatusCode::CONFLICT);
        let token = token(&app, MASTER_EMAIL, MASTER_PASSWORD).await;
        let again = api_undo(&app, &token, job).await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        let body: Value = again.json().await.unwrap();
        assert_eq!(body["error"]["status"], 409);
        let status = api_status(&app, &token, job).await;
        assert_eq!((status["state"].as_str(), status["undone"].as_i64(), status["undo_kept"].as_i64()), (Some("undone"), Some(4), Some(1)));
    }
}

on_both_backends! {
    async fn undo_of_an_update_import_gives_back_the_earlier_name_and_password(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let olga = app.create_agent(group, "Olga Original", "olga@example.com", "olga old password").await;
        let before = app.storage.agent_by_id(olga).await.unwrap().unwrap();

        let rows = vec![
            vec![t("Name"), t("Email"), t("Password")],
            vec![t("Olga Updated"), t("olga@example.com"), t("olga new password")],
            vec![t("Nina New"), t("nina@example.com"), t("nina new password")],
        ];
        let job = upload_with(&app, group, xlsx(&rows), &[("mode", "update")]).await;
        assert!(matches!(app.worker().step().await.unwrap(), Step::Ran(JobOutcome::Finished { failed: 0, .. })));
        let updated = app.storage.agent_by_id(olga).await.unwrap().unwrap();
        assert_eq!(updated.name, "Olga Updated");
        let with_new_password = agent_browser(&app, "olga@example.com", "olga new password").await.expect("the new password works");

        let token = token(&app, MASTER_EMAIL, MASTER_PASSWORD).await;
        let requested = api_undo(&app, &token, job).await;
        assert_eq!(requested.status(), StatusCode::ACCEPTED);
        let status: Value = requested.json().await.unwrap();
        assert_eq!(status["state"], "undoing");

        assert_eq!(app.worker().step().await.unwrap(), Step::Ran(JobOutcome::Undone { reverted: 2, kept: 0 }));
        let restored = app.storage.agent_by_id(olga).await.unwrap().unwrap();
        assert_eq!((restored.name.as_str(), restored.password_hash.as_str()), (before.name.as_str(), before.password_hash.as_str()));
        assert_eq!(restored.group_id, group);
        assert_eq!(emails(&app, group).await, ["olga@example.com"], "the agent it created is gone");
        assert!(!signed_in(&app, &with_new_password).await, "the password put back ends the session");
        assert!(agent_browser(&app, "olga@example.com", "olga new password").await.is_none());
        assert!(agent_browser(&app, "olga@example.com", "olga old password").await.is_some(), "the old password signs in again");
    }
}

on_both_backends! {
    async fn a_check_and_a_running_import_cannot_be_undone(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let token = token(&app, MASTER_EMAIL, MASTER_PASSWORD).await;
        let group_page = format!("/admin/groups/{group}");

        let check = upload_with(&app, group, xlsx(&agents("Check", 3)), &[("dry_run", "true")]).await;
        assert_eq!(app.worker().step().await.unwrap(), Step::Ran(JobOutcome::Checked { rows: 3, failed: 0 }));
        assert!(!page(&app, &group_page).await.contains(&undo_link(check)), "a check offers no Undo");
        assert_eq!(app.get(&format!("/admin/imports/{check}/undo")).await.status(), StatusCode::CONFLICT);
        let refused = web_undo(&app, &app.client, &group_page, check).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        assert!(refused.text().await.unwrap().contains("nothing to undo"));
        assert_eq!(api_undo(&app, &token, check).await.status(), StatusCode::CONFLICT);

        // Queued, then running (its process stopped after a batch): refused both times.
        let running = upload_with(&app, group, xlsx(&agents("Running", 70)), &[]).await;
        assert_eq!(api_undo(&app, &token, running).await.status(), StatusCode::CONFLICT);
        let one_batch = RunLimit { max_batches: Some(1), ..RunLimit::default() };
        assert_eq!(app.worker().step_limited(one_batch).await.unwrap(), Step::Ran(JobOutcome::Interrupted));
        let refused = api_undo(&app, &token, running).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        let body: Value = refused.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("still running"), "{body}");
        let refused = web_undo(&app, &app.client, &group_page, running).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        assert_eq!(api_status(&app, &token, running).await["state"], "running");
    }
}

on_both_backends! {
    async fn an_undo_interrupted_after_a_batch_resumes_and_takes_each_agent_back_once(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        // More than one undo batch of 200 rows.
        let job = imported(&app, group, "Many", 250).await;
        let token = token(&app, MASTER_EMAIL, MASTER_PASSWORD).await;
        assert_eq!(api_undo(&app, &token, job).await.status(), StatusCode::ACCEPTED);

        let one_batch = RunLimit { max_batches: Some(1), ..RunLimit::default() };
        assert_eq!(app.worker().step_limited(one_batch).await.unwrap(), Step::Ran(JobOutcome::Interrupted));
        let partial = app.storage.import_job(job).await.unwrap().unwrap();
        assert_eq!((partial.state, partial.undone_count, partial.undo_kept_count), (JobState::Undoing, 200, 0));
        assert_eq!(emails(&app, group).await.len(), 50);
        // A process that does not hold the lease writes nothing.
        assert_eq!(app.storage.undo_batch(job, "not-the-owner", 3, 200).await.unwrap(), None);
        assert_eq!(emails(&app, group).await.len(), 50);

        let second = app.worker();
        assert_eq!(second.step().await.unwrap(), Step::Idle, "the lease still belongs to the first process");
        app.clock.advance(app.config.job_lease.as_secs() as i64 + 1);
        assert_eq!(second.step().await.unwrap(), Step::Ran(JobOutcome::Undone { reverted: 250, kept: 0 }));
        assert!(emails(&app, group).await.is_empty());
        let undone = app.storage.import_job(job).await.unwrap().unwrap();
        assert_eq!((undone.state, undone.undone_count, undone.undo_kept_count), (JobState::Undone, 250, 0), "each agent counted once");
        assert!(undone.undone_at.is_some());
        assert_eq!(second.step().await.unwrap(), Step::Idle, "nothing left to run");
    }
}

on_both_backends! {
    async fn a_panicking_undo_is_retried_and_one_that_never_gets_further_keeps_what_it_did_not_reach(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let job = imported(&app, group, "Stuck", 3).await;
        let token = token(&app, MASTER_EMAIL, MASTER_PASSWORD).await;
        assert_eq!(api_undo(&app, &token, job).await.status(), StatusCode::ACCEPTED);

        // A panic is not an import's give-up (no result file is rewritten): the undo is let
        // go at once, still undoing, for the next claim.
        let panics = RunLimit { panic_at_batch: Some(0), ..RunLimit::default() };
        assert_eq!(app.worker().step_limited(panics).await.unwrap(), Step::Ran(JobOutcome::Interrupted));
        let after = app.storage.import_job(job).await.unwrap().unwrap();
        assert_eq!((after.state, after.lease_until, after.error), (JobState::Undoing, None, None));
        assert_eq!(emails(&app, group).await.len(), 3, "its batch rolled back");

        // Then its processes die again and again before a batch commits.
        for _ in 1..pipeline::MAX_STALLED_ATTEMPTS {
            assert!(app.storage.claim_job("doomed", 3, Some(job)).await.unwrap().is_some());
            app.clock.advance(app.config.job_lease.as_secs() as i64 + 1);
        }
        assert_eq!(app.worker().step().await.unwrap(), Step::Ran(JobOutcome::Undone { reverted: 0, kept: 3 }));
        assert_eq!(emails(&app, group).await.len(), 3, "nothing reached, nothing taken back");
        let undone = page(&app, &format!("/admin/groups/{group}")).await;
        assert!(undone.contains("row 2: stuck.agent0@example.com (the undo stopped before reaching it; it is as the import left it)"), "{undone}");
    }
}

on_both_backends! {
    async fn another_administrators_import_is_not_found(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let alpha = app.create_group(None, "Alpha").await;
        let bravo = app.create_group(None, "Bravo").await;
        let job = imported(&app, alpha, "Alpha", 2).await;
        let other = app.admin_of("bravo@example.com", &[bravo]).await;

        let confirm = app.get_with(&other, &format!("/admin/imports/{job}/undo")).await;
        assert_eq!(confirm.status(), StatusCode::NOT_FOUND);
        let posted = web_undo(&app, &other, "/admin", job).await;
        assert_eq!(posted.status(), StatusCode::NOT_FOUND);
        let token = token(&app, "bravo@example.com", "admin password 1").await;
        assert_eq!(api_undo(&app, &token, job).await.status(), StatusCode::NOT_FOUND);
        let untouched = app.storage.import_job(job).await.unwrap().unwrap();
        assert_eq!(untouched.state, JobState::Finished);
        assert_eq!(emails(&app, alpha).await.len(), 2);
    }
}

on_both_backends! {
    async fn the_command_line_undoes_and_lists_the_agents_it_kept(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let job = imported(&app, group, "Cli", 3).await;
        let edited = agent_id(&app, group, "cli.agent2@example.com").await.unwrap();
        let form = format!("/admin/agents/{edited}");
        let fields = [("name", "Edited"), ("nickname", "Ed"), ("email", "cli.agent2@example.com"),
                      ("description", ""), ("enabled", "on"), ("group_id", &group.to_string())];
        assert_eq!(app.post_form(&form, &form, &fields).await.status(), StatusCode::SEE_OTHER);

        let undo = roster_cli(&app, &["imports", "undo", &job.to_string()]);
        assert!(undo.status.success(), "{undo:?}");
        let out = String::from_utf8_lossy(&undo.stdout);
        assert!(out.contains("Import of agents.xlsx undone: 2 agents taken back, 1 kept because it changed after the import"), "{out}");
        assert!(out.contains("kept: row 4: cli.agent2@example.com (changed after the import)"), "{out}");
        assert_eq!(emails(&app, group).await, ["cli.agent2@example.com"]);

        let again = roster_cli(&app, &["imports", "undo", &job.to_string()]);
        assert_eq!(again.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&again.stderr).contains("has already been undone"));
    }
}
