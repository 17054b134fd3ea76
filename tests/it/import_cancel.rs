//! Cancelling an import from the banner and from the API: the job stops, rows not reached say
//! so in the result, and a second cancel answers 409.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::sheets::{agents, read_result, xlsx};
use crate::common::{MASTER_EMAIL, MASTER_PASSWORD, TestApp};
use roster::{import::JobOutcome, jobs::Step};

on_both_backends! {
    async fn an_import_is_cancelled_from_the_banner_and_the_api_says_it_has_ended(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let uploaded = app.upload(&app.client, group, "agents.xlsx", xlsx(&agents("Cancel", 100))).await;
        assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
        let job = app.latest_job(&app.client, group).await;

        let page = app.get(&format!("/admin/groups/{group}")).await.text().await.unwrap();
        assert!(page.contains("Cancel import"), "the banner offers to cancel");
        let cancelled = app
            .post_form(&format!("/admin/groups/{group}"), &format!("/admin/imports/{job}/cancel"), &[])
            .await;
        assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
        let page = app.get(&format!("/admin/groups/{group}")).await.text().await.unwrap();
        assert!(page.contains("Cancelling: the import stops after the batch in progress."));
        assert!(!page.contains("Cancel import"), "no second button");

        assert_eq!(
            app.worker().step().await.unwrap(),
            Step::Ran(JobOutcome::Cancelled { created: 0, failed: 0, not_imported: 100 })
        );
        let page = app.get(&format!("/admin/groups/{group}")).await.text().await.unwrap();
        assert!(page.contains("Import of agents.xlsx cancelled: 0 agents created, 0 failed, 100 not imported"), "{page}");
        let result = app.get(&format!("/admin/imports/{job}/result")).await;
        assert_eq!(result.status(), StatusCode::OK);
        let cells = read_result(&result.bytes().await.unwrap());
        assert!(cells[1..].iter().all(|row| row[3] == "Not imported: the import was cancelled"));

        // The API: a token, then a cancel of what has ended answers 409.
        let token: Value = app.client.post(app.url("/api/v1/tokens"))
            .json(&json!({"email": MASTER_EMAIL, "password": MASTER_PASSWORD}))
            .send().await.unwrap().json().await.unwrap();
        let token = token["token"].as_str().unwrap();
        let again = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/imports/{job}/cancel")))
            .bearer_auth(token)
            .send().await.unwrap();
        assert_eq!(again.status(), StatusCode::CONFLICT);
        let status: Value = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/imports/{job}")))
            .bearer_auth(token)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!((status["state"].as_str(), status["not_imported"].as_i64()), (Some("cancelled"), Some(100)));
    }
}

on_both_backends! {
    async fn the_api_cancels_a_queued_import(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        app.upload(&app.client, group, "agents.xlsx", xlsx(&agents("Queued", 5))).await;
        let job = app.latest_job(&app.client, group).await;
        let token: Value = app.client.post(app.url("/api/v1/tokens"))
            .json(&json!({"email": MASTER_EMAIL, "password": MASTER_PASSWORD}))
            .send().await.unwrap().json().await.unwrap();
        let cancel = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/imports/{job}/cancel")))
            .bearer_auth(token["token"].as_str().unwrap())
            .send().await.unwrap();
        assert_eq!(cancel.status(), StatusCode::ACCEPTED);
        let status: Value = cancel.json().await.unwrap();
        assert_eq!(status["state"], "queued");
        assert_eq!(status["progress_text"], "Cancelling: the import stops after the batch in progress.");
        assert_eq!(
            app.worker().step().await.unwrap(),
            Step::Ran(JobOutcome::Cancelled { created: 0, failed: 0, not_imported: 5 })
        );
    }
}
