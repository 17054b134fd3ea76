//! The audit log on both backends: every change recorded with who, when and from where, never
//! a password; masters see everything, administrators their groups; filters, pages, the API,
//! and an agent's history in Properties.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::sheets::{t, xlsx};
use crate::common::{TestApp, location};
use roster::jobs::Step;

async fn text(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let answer = app.get_with(client, path).await;
    assert_eq!(answer.status(), StatusCode::OK, "{path}");
    answer.text().await.unwrap()
}

/// The table's rows, as text without tags.
fn rows(page: &str) -> Vec<String> {
    page.split("<tr>")
        .skip(2)
        .map(|row| {
            let mut plain = String::new();
            let mut in_tag = false;
            for c in row.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => {
                        in_tag = false;
                        plain.push(' ');
                    }
                    c if !in_tag => plain.push(c),
                    _ => {}
                }
            }
            let plain = plain
                .replace("&#60;", "<")
                .replace("&#62;", ">")
                .replace("&#38;", "&");
            plain.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

on_both_backends! {
    async fn every_change_is_recorded_and_shown_to_whom_it_concerns(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let master = app.client.clone();
        let alpha = app.create_group(None, "Alpha").await;
        let beta = app.create_group(None, "Beta").await;
        let ann = app.create_agent(alpha, "Ann Lee", "ann@example.com", "secret password 1").await;
        app.create_agent(beta, "Bob Ray", "bob@example.com", "secret password 2").await;
        let page = format!("/admin/agents/{ann}");
        let alpha_id = alpha.to_string();
        app.post_form(&page, &page, &[("name", "Anna Lee"), ("email", "ann@example.com"), ("group_id", &alpha_id), ("enabled", "on")]).await;
        app.post_form(&page, &format!("{page}/password"), &[("password", "another secret 3")]).await;
        let alpha_admin = app.admin_of("alpha-admin@example.com", &[alpha]).await;

        // The alpha administrator imports into Alpha.
        let file = xlsx(&[
            vec![t("Name"), t("Email"), t("Password")],
            vec![t("Cy Dee"), t("cy@example.com"), t("imported secret 4")],
        ]);
        let sent = app.upload_with(&alpha_admin, alpha, "agents.xlsx", file, &[]).await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        assert!(matches!(app.worker().step().await.unwrap(), Step::Ran(_)));

        let log = text(&app, &master, "/admin/audit").await;
        for secret in ["secret password 1", "another secret 3", "imported secret 4"] {
            assert!(!log.contains(secret), "a password in the log");
        }
        let lines = rows(&log);
        let has = |needle: &str| lines.iter().any(|line| line.contains(needle));
        assert!(has("Maria Master <master@example.com> from 127.0.0.1 created group Alpha"), "{lines:#?}");
        assert!(has("created agent Ann Lee <ann@example.com>"), "{lines:#?}");
        assert!(has("changed agent Anna Lee <ann@example.com> name: Ann Lee → Anna Lee"), "{lines:#?}");
        assert!(has("set the password of agent Anna Lee <ann@example.com>"), "{lines:#?}");
        assert!(has("created administrator Group Admin <alpha-admin@example.com> Alpha"), "{lines:#?}");
        assert!(has("Group Admin <alpha-admin@example.com> from 127.0.0.1 started import #"), "{lines:#?}");
        assert!(has("ended #") && has("1 created, 0 updated, 0 skipped, 0 failed, 0 not imported"), "{lines:#?}");
        assert!(lines[0].contains("ended"), "newest first: {lines:#?}");

        // The alpha administrator sees Alpha's events only: not Beta's, not administrators'.
        let theirs = rows(&text(&app, &alpha_admin, "/admin/audit").await);
        assert!(theirs.iter().any(|line| line.contains("Anna Lee")), "{theirs:#?}");
        assert!(!theirs.iter().any(|line| line.contains("Bob Ray") || line.contains("administrator")), "{theirs:#?}");
        assert_eq!(app.get_with(&alpha_admin, &format!("/admin/audit?group={beta}")).await.status(), StatusCode::NOT_FOUND);

        // Filters: a kind, a group.
        let groups_only = rows(&text(&app, &master, "/admin/audit?kind=group").await);
        assert_eq!(groups_only.len(), 2, "{groups_only:#?}");
        let in_beta = rows(&text(&app, &master, &format!("/admin/audit?group={beta}")).await);
        assert!(in_beta.iter().all(|line| line.contains("Beta") || line.contains("Bob Ray")), "{in_beta:#?}");
        assert_eq!(in_beta.len(), 2, "{in_beta:#?}");

        // By who: the master's own changes, not the alpha administrator's import.
        let alpha_id = app.storage.list_admins().await.unwrap().into_iter().find(|a| a.email == "alpha-admin@example.com").unwrap().id;
        let by_alpha = rows(&text(&app, &master, &format!("/admin/audit?actor={alpha_id}")).await);
        assert_eq!(by_alpha.len(), 1, "{by_alpha:#?}");
        assert!(by_alpha[0].contains("started import"), "{by_alpha:#?}");
        assert!(text(&app, &master, "/admin/audit").await.contains("id=\"audit-actor\""), "masters choose who");

        // The API says the same, in JSON.
        let api: Value = app.get_with(&master, "/api/v1/audit?kind=agent").await.json().await.unwrap();
        let actions: Vec<&str> = api.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["agent.password_set", "agent.changed", "agent.created", "agent.created"]);
        assert_eq!(api[0]["address"], "127.0.0.1");

        // An imported agent's Properties say where it came from.
        let cy = app.storage.agent_by_email(&roster::domain::Email::parse("cy@example.com").unwrap()).await.unwrap().unwrap();
        let props = text(&app, &master, &format!("/admin/agents/{}", cy.id)).await;
        let job = app.latest_job(&master, alpha).await;
        assert!(props.contains(&format!("Created by import #{job}, row 2 of agents.xlsx, by Group Admin")), "{props}");
        let anna = text(&app, &master, &page).await;
        assert!(anna.contains("changed agent: name: Ann Lee → Anna Lee"), "{anna}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn the_log_comes_in_pages(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        for i in 0..52 {
            app.create_group(None, &format!("Group {i:02}")).await;
        }
        let first = app.get("/admin/audit").await.text().await.unwrap();
        assert_eq!(rows(&first).len(), 50);
        assert!(rows(&first)[0].contains("Group 51"), "newest first");
        assert!(first.contains("href=\"/admin/audit?page=2\""), "a link to older events");
        let second = app.get("/admin/audit?page=2").await.text().await.unwrap();
        assert_eq!(rows(&second).len(), 2);
        assert!(rows(&second)[1].contains("Group 00"));
        assert!(!second.contains("rel=\"next\""), "no page after the last");
        assert_eq!(location(&crate::common::browser().get(app.url("/admin/audit")).send().await.unwrap()), "/login");
        app.stop().await;
    }
}
