//! "Must change password at next sign-in" and agents changing their own password, on both
//! backends: set from Properties, from a password an administrator sets, and from an import's
//! option; until it is changed the agent reaches nothing but the page that changes it.

use reqwest::{Client, StatusCode};

use crate::common::sheets::{t, xlsx};
use crate::common::{TestApp, browser, location, roster_cli};
use roster::{domain::Email, jobs::Step};

/// A browser signed in as the agent (the answer's Location says where it was sent).
async fn agent_signs_in(app: &TestApp, email: &str, password: &str) -> (Client, String) {
    let client = browser();
    let answer = app.agent_login(&client, email, password).await;
    let to = if answer.status() == StatusCode::SEE_OTHER {
        location(&answer)
    } else {
        answer.status().to_string()
    };
    (client, to)
}

async fn change(
    app: &TestApp,
    client: &Client,
    current: &str,
    new: &str,
    again: &str,
) -> reqwest::Response {
    app.post_form_with(
        client,
        "/agent/password",
        "/agent/password",
        &[("current", current), ("new", new), ("again", again)],
    )
    .await
}

async fn signs_in_with(app: &TestApp, email: &str, password: &str) -> bool {
    agent_signs_in(app, email, password).await.1 == "/agent"
}

async fn must_change(app: &TestApp, email: &str) -> bool {
    let email = Email::parse(email).unwrap();
    app.storage
        .agent_by_email(&email)
        .await
        .unwrap()
        .unwrap()
        .must_change_password()
}

on_both_backends! {
    async fn an_agent_told_to_change_their_password_reaches_nothing_else_first(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let new_form = format!("/admin/groups/{group}/agents/new");
        let form = app.get(&new_form).await.text().await.unwrap();
        assert!(form.contains("name=\"must_change_password\" value=\"on\" checked"), "ticked by default on a new agent");
        let created = app.post_form(&new_form, &format!("/admin/groups/{group}/agents"), &[
            ("name", "Ann Lee"), ("email", "ann@example.com"), ("password", "given password 1"),
            ("group_id", &group.to_string()), ("enabled", "on"), ("must_change_password", "on"),
        ]).await;
        assert_eq!(created.status(), StatusCode::SEE_OTHER);
        assert!(must_change(&app, "ann@example.com").await);

        let (ann, to) = agent_signs_in(&app, "ann@example.com", "given password 1").await;
        assert_eq!(to, "/agent");
        assert_eq!(location(&app.get_with(&ann, "/agent").await), "/agent/password", "sent to change it first");
        let page = app.get_with(&ann, "/agent/password").await.text().await.unwrap();
        assert!(page.contains("Your administrator asks you to choose your own password"), "{page}");

        let wrong = change(&app, &ann, "not it", "chosen password 2", "chosen password 2").await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.text().await.unwrap().contains("The current password is not right"));
        let differ = change(&app, &ann, "given password 1", "chosen password 2", "chosen password 3").await;
        assert!(differ.text().await.unwrap().contains("The two new passwords differ"));
        let same = change(&app, &ann, "given password 1", "given password 1", "given password 1").await;
        assert!(same.text().await.unwrap().contains("other than the current one"));
        let short = change(&app, &ann, "given password 1", "short", "short").await;
        assert!(short.text().await.unwrap().contains("at least 8"));
        assert!(must_change(&app, "ann@example.com").await, "nothing changed yet");

        let done = change(&app, &ann, "given password 1", "chosen password 2", "chosen password 2").await;
        assert_eq!(location(&done), "/agent?done=password");
        let home = app.get_with(&ann, "/agent?done=password").await;
        assert_eq!(home.status(), StatusCode::OK, "this session goes on");
        assert!(home.text().await.unwrap().contains("Your password is changed."));
        assert!(!must_change(&app, "ann@example.com").await);
        let log = app.get("/admin/audit?kind=agent").await.text().await.unwrap();
        assert!(log.contains("Agent Ann Lee &#60;ann@example.com&#62;"), "the agent's own change is in the log: {log}");
        assert!(!log.contains("chosen password 2"), "never the password");
        assert_eq!(agent_signs_in(&app, "ann@example.com", "given password 1").await.1, "401 Unauthorized");
        assert_eq!(agent_signs_in(&app, "ann@example.com", "chosen password 2").await.1, "/agent");
        app.stop().await;
    }
}

on_both_backends! {
    async fn changing_ones_own_password_ends_ones_other_sessions(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        app.create_agent(group, "Bob Ray", "bob@example.com", "first password 1").await;
        let (laptop, _) = agent_signs_in(&app, "bob@example.com", "first password 1").await;
        let (phone, _) = agent_signs_in(&app, "bob@example.com", "first password 1").await;
        let home = app.get_with(&laptop, "/agent").await.text().await.unwrap();
        assert!(home.contains("href=\"/agent/password\""), "the home page offers the change");
        let done = change(&app, &laptop, "first password 1", "second password 2", "second password 2").await;
        assert_eq!(location(&done), "/agent?done=password");
        assert_eq!(app.get_with(&laptop, "/agent").await.status(), StatusCode::OK);
        assert_eq!(location(&app.get_with(&phone, "/agent").await), "/agent/login", "the other session ended");
        app.stop().await;
    }
}

on_both_backends! {
    async fn an_administrator_sets_a_password_to_change_unless_they_untick_it(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let agent = app.create_agent(group, "Cy Dee", "cy@example.com", "first password 1").await;
        assert!(!must_change(&app, "cy@example.com").await);
        let page = format!("/admin/agents/{agent}");
        let set = format!("/admin/agents/{agent}/password");
        let props = app.get(&page).await.text().await.unwrap();
        assert!(props.contains("Must change it at next sign-in"), "{props}");
        app.post_form(&page, &set, &[("password", "reset password 2"), ("must_change_password", "on")]).await;
        assert!(must_change(&app, "cy@example.com").await, "ticked, as the form has it");
        assert_eq!(agent_signs_in(&app, "cy@example.com", "reset password 2").await.1, "/agent");

        app.post_form(&page, &set, &[("password", "reset password 3")]).await;
        assert!(!must_change(&app, "cy@example.com").await, "unticked");

        // Properties show the flag and change it.
        let fields = [("name", "Cy Dee"), ("email", "cy@example.com"), ("group_id", &group.to_string()), ("enabled", "on"), ("must_change_password", "on")];
        assert_eq!(app.post_form(&page, &page, &fields).await.status(), StatusCode::SEE_OTHER);
        assert!(must_change(&app, "cy@example.com").await);
        let props = app.get(&page).await.text().await.unwrap();
        assert!(props.contains("name=\"must_change_password\" value=\"on\" checked"), "{props}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn an_import_can_ask_its_agents_to_change_their_password(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        app.create_agent(group, "Old Timer", "old@example.com", "own password 1").await;
        app.create_agent(group, "Keeps Own", "keep@example.com", "own password 1").await;
        let file = xlsx(&[
            vec![t("Name"), t("Email"), t("Password")],
            vec![t("New One"), t("new@example.com"), t("given password 1")],
            vec![t("Old Timer"), t("old@example.com"), t("given password 2")],
            vec![t("Keeps Own"), t("keep@example.com"), t("")],
        ]);
        let client = app.client.clone();
        let form = app.get(&format!("/admin/groups/{group}/import")).await.text().await.unwrap();
        assert!(form.contains("name=\"must_change_password\""), "the import page offers the option");
        let sent = app.upload_with(&client, group, "agents.xlsx", file, &[("mode", "update"), ("must_change_password", "on")]).await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        let job = app.latest_job(&client, group).await;
        assert!(matches!(app.worker().step().await.unwrap(), Step::Ran(_)));
        let status: serde_json::Value = app.get(&format!("/api/v1/imports/{job}")).await.json().await.unwrap();
        assert_eq!(status["state"], "finished", "{status}");
        assert_eq!(status["must_change_password"], true);
        assert!(must_change(&app, "new@example.com").await, "created with a password to change");
        assert!(must_change(&app, "old@example.com").await, "updated with a password to change");
        assert!(!must_change(&app, "keep@example.com").await, "a kept password stays the agent's own");
        let (_, to) = agent_signs_in(&app, "new@example.com", "given password 1").await;
        assert_eq!(to, "/agent");

        // Undone, the updated agent gets back the flag it had with its password.
        let job_text = job.to_string();
        let undo = tokio::task::block_in_place(|| roster_cli(&app, &["imports", "undo", &job_text]));
        assert!(undo.status.success(), "{}", String::from_utf8_lossy(&undo.stderr));
        assert!(!must_change(&app, "old@example.com").await, "the flag as it was before the import");
        let log = app.get("/admin/audit?kind=import").await.text().await.unwrap();
        assert!(log.contains("the command line") && log.contains("undid import"), "{log}");
        assert!(signs_in_with(&app, "old@example.com", "own password 1").await);
        app.stop().await;
    }
}
