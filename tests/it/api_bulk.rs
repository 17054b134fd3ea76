//! Bulk actions and a group's deletion with everything in it through the JSON API: the web's
//! choice of agents, rights and jobs, a large job driven step by step, and its status.

use reqwest::{Client, Method, StatusCode};
use roster::jobs::{BulkStep, Step};
use serde_json::{Value, json};

use crate::api_crud::{bearer, call, field_errors, fields, id, master_api};
use crate::common::{MASTER_PASSWORD, TestApp};

fn bulk(group: i64) -> String {
    format!("/api/v1/groups/{group}/agents/bulk")
}

async fn in_group(app: &TestApp, group: i64) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM agents WHERE group_id = {group}"
    ))
    .await
}

on_both_backends! {
    async fn a_small_bulk_action_is_done_before_the_answer(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let sales = app.create_group(None, "Sales").await;
        let ann = app.create_agent(support, "Ann Lee", "ann@example.com", "secret password 1").await;
        let bob = app.create_agent(support, "Bob Ray", "bob@example.com", "secret password 2").await;
        app.create_agent(support, "Cy Dee", "cy@example.com", "secret password 3").await;
        let api = master_api(&app).await;

        let (status, job) = call(&app, &api, Method::POST, &bulk(support), Some(json!({"action": "move", "agent_ids": [ann, bob], "target_group_id": sales}))).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        assert_eq!((job["action"].as_str(), job["state"].as_str()), (Some("move"), Some("done")), "{job}");
        assert_eq!((job["total"].as_i64(), job["changed"].as_i64()), (Some(2), Some(2)));
        assert_eq!(job["summary"], "Moved 2 agents to Sales.");
        assert_eq!(in_group(&app, sales).await, 2);
        let (status, again) = call(&app, &api, Method::GET, &format!("/api/v1/bulk-jobs/{}", id(&job)), None).await;
        assert_eq!((status, again["state"].as_str()), (StatusCode::OK, Some("done")));

        for (body, field) in [
            (json!({"action": "shred", "all": true}), "action"),
            (json!({"action": "move", "all": true}), "target_group_id"),
            (json!({"action": "disable", "agent_ids": []}), "agent_ids"),
            (json!({"action": "disable", "agent_ids": [ann]}), "agent_ids"),
        ] {
            let (status, answer) = call(&app, &api, Method::POST, &bulk(support), Some(body.clone())).await;
            assert_eq!(field_errors(status, &answer), fields(&[field]), "{body}");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM agents WHERE enabled = 0").await, 0, "nothing refused was done");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_large_bulk_action_runs_as_a_job_whose_status_the_api_shows(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let hash = roster::domain::hash_password(MASTER_PASSWORD);
        app.seed_agents(group, "Agent", 0..600, &hash).await;
        let api = master_api(&app).await;

        let (status, job) = call(&app, &api, Method::POST, &bulk(group), Some(json!({"action": "disable", "all": true}))).await;
        assert_eq!((status, job["state"].as_str(), job["total"].as_i64()), (StatusCode::ACCEPTED, Some("queued"), Some(600)), "{job}");
        let status_path = format!("/api/v1/bulk-jobs/{}", id(&job));
        let worker = app.worker();
        assert_eq!(worker.step().await.unwrap(), Step::Bulk(BulkStep::Batch { seen: 500, changed: 500 }));
        let (_, midway) = call(&app, &api, Method::GET, &status_path, None).await;
        assert_eq!((midway["state"].as_str(), midway["done"].as_i64()), (Some("running"), Some(500)), "{midway}");
        while let Step::Bulk(BulkStep::Batch { .. }) = worker.step().await.unwrap() {}
        let (_, done) = call(&app, &api, Method::GET, &status_path, None).await;
        assert_eq!((done["state"].as_str(), done["changed"].as_i64()), (Some("done"), Some(600)), "{done}");
        assert_eq!(app.count("SELECT COUNT(*) FROM agents WHERE enabled = 0").await, 600);
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_group_is_deleted_with_everything_in_it_once_its_name_is_sent(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let nights = app.create_group(Some(support), "Nights").await;
        app.create_agent(nights, "Ann Lee", "ann@example.com", "secret password 1").await;
        let api = master_api(&app).await;
        let delete = |name: &str| format!("/api/v1/groups/{support}?confirm_name={name}");

        let (status, answer) = call(&app, &api, Method::DELETE, &delete("support"), None).await;
        assert_eq!(field_errors(status, &answer), fields(&["confirm_name"]));
        let (status, job) = call(&app, &api, Method::DELETE, &delete("%20Support%20"), None).await;
        assert_eq!((status, job["action"].as_str(), job["state"].as_str()), (StatusCode::ACCEPTED, Some("delete_group"), Some("done")), "{job}");
        assert_eq!(app.count("SELECT COUNT(*) FROM agent_groups").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'group.deleted'").await, 2);
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_scoped_administrator_neither_acts_on_nor_watches_another_groups_agents(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let alpha = app.create_group(None, "Alpha").await;
        let bravo = app.create_group(None, "Bravo").await;
        let al = app.create_agent(alpha, "Al Pha", "al@example.com", "secret password 1").await;
        let bo = app.create_agent(bravo, "Bo Avo", "bo@example.com", "secret password 2").await;
        let master = master_api(&app).await;
        let (_, bravo_job) = call(&app, &master, Method::POST, &bulk(bravo), Some(json!({"action": "disable", "all": true}))).await;
        app.admin_of("alpha-admin@example.com", &[alpha]).await;
        let token: Value = Client::new().post(app.url("/api/v1/tokens"))
            .json(&json!({"email": "alpha-admin@example.com", "password": "admin password 1"}))
            .send().await.unwrap().json().await.unwrap();
        let api = bearer(token["token"].as_str().unwrap());

        let (status, _) = call(&app, &api, Method::POST, &bulk(bravo), Some(json!({"action": "delete", "all": true}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = call(&app, &api, Method::GET, &format!("/api/v1/bulk-jobs/{}", id(&bravo_job)), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another group's job is not theirs to watch");
        let (status, answer) = call(&app, &api, Method::POST, &bulk(alpha), Some(json!({"action": "delete", "agent_ids": [bo]}))).await;
        assert_eq!(field_errors(status, &answer), fields(&["agent_ids"]), "another group's agent is not theirs to choose");
        let (status, answer) = call(&app, &api, Method::POST, &bulk(alpha), Some(json!({"action": "move", "all": true, "target_group_id": bravo}))).await;
        assert_eq!(field_errors(status, &answer), fields(&["target_group_id"]));
        let (status, own) = call(&app, &api, Method::POST, &bulk(alpha), Some(json!({"action": "delete", "agent_ids": [al]}))).await;
        assert_eq!((status, own["changed"].as_i64()), (StatusCode::ACCEPTED, Some(1)), "{own}");
        assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 1, "only their own agent is gone");
        app.stop().await;
    }
}
