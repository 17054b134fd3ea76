//! Bulk actions from a group's Properties, and a group deleted with everything in it: the
//! confirmation first, a small selection done at once, a large one as a job driven here step
//! by step, rights as everywhere. Each runs on SQLite and on PostgreSQL.

use reqwest::StatusCode;
use roster::jobs::{BulkStep, Step};

use crate::common::{MASTER_PASSWORD, TestApp, location};

fn bulk(group: i64) -> String {
    format!("/admin/groups/{group}/agents/bulk")
}

fn properties(group: i64) -> String {
    format!("/admin/groups/{group}")
}

async fn page(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

on_both_backends! {
    async fn a_small_move_is_confirmed_then_done_at_once(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let from = app.create_group(None, "Support").await;
        let to = app.create_group(None, "Sales").await;
        let ann = app.create_agent(from, "Ann Lee", "ann@example.com", "secret password 1").await;
        let bob = app.create_agent(from, "Bob Ray", "bob@example.com", "secret password 2").await;
        app.create_agent(from, "Cy Dee", "cy@example.com", "secret password 3").await;
        let (ann_id, bob_id, to_id) = (ann.to_string(), bob.to_string(), to.to_string());
        let fields = [("action", "move"), ("target_group_id", to_id.as_str()), ("agent_id", ann_id.as_str()), ("agent_id", bob_id.as_str())];

        let asked = app.post_form(&properties(from), &bulk(from), &fields).await;
        assert_eq!(asked.status(), StatusCode::OK, "the confirmation first");
        let question = asked.text().await.unwrap();
        assert!(question.contains("Move 2 agents to Sales?"), "{question}");
        let chosen = question.split("id=\"bulk-chosen\"").nth(1).and_then(|rest| rest.split("</ul>").next()).unwrap();
        assert!(chosen.contains("<li>Ann Lee &#60;ann@example.com&#62;</li>") && chosen.contains("<li>Bob Ray &#60;bob@example.com&#62;</li>"), "who it is about: {chosen}");
        assert!(!chosen.contains("Cy Dee"), "{chosen}");
        assert!(question.contains("name=\"confirmed\""), "{question}");
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM agents WHERE group_id = {to}")).await, 0, "nothing moved yet");

        let mut confirmed = fields.to_vec();
        confirmed.push(("confirmed", "1"));
        let done = app.post_form(&properties(from), &bulk(from), &confirmed).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let back = location(&done);
        assert!(back.starts_with(&format!("/admin/groups/{from}?bulk=")), "{back}");
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM agents WHERE group_id = {to}")).await, 2, "moved within the request");
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM agents WHERE group_id = {from}")).await, 1);
        assert!(page(&app, &back).await.contains("Moved 2 agents to Sales."));
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'agent.changed' AND detail = 'group: Support → Sales'").await,
            2,
            "one event per agent, in words"
        );
        app.stop().await;
    }
}

on_both_backends! {
    async fn enable_disable_require_a_password_change_and_delete(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let ann = app.create_agent(group, "Ann Lee", "ann@example.com", "secret password 1").await;
        app.create_agent(group, "Bob Ray", "bob@example.com", "secret password 2").await;
        let agent = crate::common::browser();
        assert_eq!(app.agent_login(&agent, "ann@example.com", "secret password 1").await.status(), StatusCode::SEE_OTHER);
        let run = |action: &'static str| {
            let app = &app;
            async move {
                let fields = [("action", action), ("all", "1"), ("confirmed", "1")];
                let done = app.post_form(&properties(group), &bulk(group), &fields).await;
                assert_eq!(done.status(), StatusCode::SEE_OTHER, "{action}");
            }
        };
        let in_group = |condition: &str| format!("SELECT COUNT(*) FROM agents WHERE group_id = {group} AND {condition}");

        run("disable").await;
        assert_eq!(app.count(&in_group("enabled = 0")).await, 2);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM sessions WHERE kind = 'agent' AND principal_id = {ann}")).await, 0, "signed out");
        run("enable").await;
        assert_eq!(app.count(&in_group("enabled = 1")).await, 2);
        run("require_password_change").await;
        assert_eq!(app.count(&in_group("must_change_password = 1")).await, 2);
        // Asked again, nothing changes and the panel says so.
        let fields = [("action", "require_password_change"), ("all", "1"), ("confirmed", "1")];
        let again = app.post_form(&properties(group), &bulk(group), &fields).await;
        let shown = page(&app, &location(&again)).await;
        assert!(shown.contains("0 changed, 2 left as they were"), "{shown}");
        run("delete").await;
        assert_eq!(app.count(&in_group("1 = 1")).await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'agent.deleted'").await, 2);
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_large_selection_runs_as_a_job_that_survives_its_process(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let from = app.create_group(None, "Support").await;
        let below = app.create_group(Some(from), "Tier 1").await;
        let to = app.create_group(None, "Sales").await;
        let hash = roster::domain::hash_password(MASTER_PASSWORD);
        app.seed_agents(from, "Agent", 0..600, &hash).await;
        app.seed_agents(below, "Tier Agent", 0..100, &hash).await;
        let to_id = to.to_string();
        let fields = [("action", "move"), ("target_group_id", to_id.as_str()), ("all", "1"), ("subgroups", "1")];

        let question = app.post_form(&properties(from), &bulk(from), &fields).await.text().await.unwrap();
        assert!(question.contains("Move 700 agents to Sales?"), "{question}");
        assert!(question.contains("runs in the background"), "{question}");
        assert!(question.contains("and 690 more"), "ten named, the rest counted: {question}");
        let mut confirmed = fields.to_vec();
        confirmed.push(("confirmed", "1"));
        let done = app.post_form(&properties(from), &bulk(from), &confirmed).await;
        let back = location(&done);
        let moved_sql = format!("SELECT COUNT(*) FROM agents WHERE group_id = {to}");
        let moved = || app.count(&moved_sql);
        assert_eq!(moved().await, 0, "left to the worker");
        assert!(page(&app, &back).await.contains("Moving 700 agents to Sales: waiting to start."));

        // One batch, then the process dies: its lease runs out and another process goes on.
        let first = app.worker();
        assert_eq!(first.step().await.unwrap(), Step::Bulk(BulkStep::Batch { seen: 500, changed: 500 }));
        assert_eq!(moved().await, 500);
        assert!(page(&app, &back).await.contains("500 of 700 done."));
        let second = app.worker();
        assert_eq!(second.step().await.unwrap(), Step::Idle, "the first still holds it");
        app.clock.advance(app.config.job_lease.as_secs() as i64 + 1);
        assert_eq!(second.step().await.unwrap(), Step::Bulk(BulkStep::Batch { seen: 200, changed: 200 }));
        assert_eq!(second.step().await.unwrap(), Step::Bulk(BulkStep::Finished));
        assert_eq!(first.step().await.unwrap(), Step::Idle, "the first writes nothing more");
        assert_eq!(moved().await, 700);
        assert!(page(&app, &back).await.contains("Moved 700 agents to Sales."));
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE action = 'agent.changed' AND group_id = {to}")).await,
            700,
            "each agent's move recorded once"
        );
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_scoped_administrator_acts_only_on_their_groups(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let theirs = app.create_group(None, "Support").await;
        let other = app.create_group(None, "Sales").await;
        app.create_agent(theirs, "Ann Lee", "ann@example.com", "secret password 1").await;
        let bob = app.create_agent(other, "Bob Ray", "bob@example.com", "secret password 2").await;
        let admin = app.admin_of("support-admin@example.com", &[theirs]).await;
        let (bob_id, other_id) = (bob.to_string(), other.to_string());

        let foreign = [("action", "delete"), ("agent_id", bob_id.as_str()), ("confirmed", "1")];
        let refused = app.post_form_with(&admin, &properties(theirs), &bulk(theirs), &foreign).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text().await.unwrap().contains("Choose at least one agent"));
        let away = [("action", "move"), ("target_group_id", other_id.as_str()), ("all", "1"), ("confirmed", "1")];
        let refused = app.post_form_with(&admin, &properties(theirs), &bulk(theirs), &away).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text().await.unwrap().contains("Choose the group to move the agents to"));
        let elsewhere = app.post_form_with(&admin, &properties(theirs), &bulk(other), &[("action", "delete"), ("all", "1")]).await;
        assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 2, "nothing touched");
        let nothing = app.post_form_with(&admin, &properties(theirs), &bulk(theirs), &[("action", "enable")]).await;
        assert_eq!(nothing.status(), StatusCode::UNPROCESSABLE_ENTITY, "no agent chosen");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_group_is_deleted_with_everything_in_it_once_its_name_is_typed(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let top = app.create_group(None, "Support").await;
        let group = app.create_group(Some(top), "EMEA").await;
        let below = app.create_group(Some(group), "Tier 1").await;
        app.create_agent(group, "Ann Lee", "ann@example.com", "secret password 1").await;
        let hash = roster::domain::hash_password(MASTER_PASSWORD);
        app.seed_agents(below, "Agent", 0..300, &hash).await;
        let delete = format!("/admin/groups/{group}/delete");

        let question = page(&app, &delete).await;
        assert!(question.contains("1 subgroup and 301 agents"), "{question}");
        assert!(question.contains("name=\"confirm_name\""), "{question}");
        let wrong = app.post_form(&delete, &delete, &[("confirm_name", "emea")]).await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.text().await.unwrap().contains("That is not the group&#39;s name"));
        let blank = app.post_form(&delete, &delete, &[]).await;
        assert_eq!(blank.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 301, "nothing deleted");

        let done = app.post_form(&delete, &delete, &[("confirm_name", " EMEA ")]).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let back = location(&done);
        assert!(back.starts_with(&format!("/admin/groups/{top}?bulk=")), "{back}");
        let shown = page(&app, &back).await;
        assert!(shown.contains("Deleting group Support / EMEA with 301 agents"), "{shown}");
        let worker = app.worker();
        assert_eq!(worker.step().await.unwrap(), Step::Bulk(BulkStep::Batch { seen: 301, changed: 301 }));
        assert_eq!(worker.step().await.unwrap(), Step::Bulk(BulkStep::Finished));
        assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 0);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM agent_groups WHERE id IN ({group}, {below})")).await, 0);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM agent_groups WHERE id = {top}")).await, 1, "the group above stays");
        assert!(page(&app, &back).await.contains("Deleted group Support / EMEA with 301 agents."));
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'group.deleted'").await, 2);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'agent.deleted'").await, 301);
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_large_group_pages_its_agents_by_keyset(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let hash = roster::domain::hash_password(MASTER_PASSWORD);
        app.seed_agents(group, "Agent", 0..250, &hash).await;

        let mut path = properties(group);
        let mut seen = Vec::new();
        for _ in 0..10 {
            let shown = page(&app, &path).await;
            let names: Vec<String> = shown
                .split("<td><a href=\"/admin/agents/")
                .skip(1)
                .map(|row| row.split('>').nth(1).unwrap().trim_end_matches("</a").to_owned())
                .collect();
            seen.extend(names);
            let Some(next) = shown.split("id=\"agents-next\"").next().and_then(|before| before.rsplit("href=\"").next()).filter(|_| shown.contains("id=\"agents-next\"")) else {
                break;
            };
            path = next.trim_end_matches("\" ").replace("&amp;", "&").replace("&#38;", "&").split('#').next().unwrap().to_owned();
        }
        let expected: Vec<String> = (0..250).map(|n| format!("Agent {n:05}")).collect();
        assert_eq!(seen, expected, "every agent once, in order");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_move_whose_group_is_deleted_meanwhile_ends_saying_so(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let from = app.create_group(None, "Support").await;
        let to = app.create_group(None, "Sales").await;
        let hash = roster::domain::hash_password(MASTER_PASSWORD);
        app.seed_agents(from, "Agent", 0..300, &hash).await;
        let to_id = to.to_string();
        let fields = [("action", "move"), ("target_group_id", to_id.as_str()), ("all", "1"), ("confirmed", "1")];
        let back = location(&app.post_form(&properties(from), &bulk(from), &fields).await);
        let delete = format!("/admin/groups/{to}/delete");
        assert_eq!(app.post_form(&delete, &delete, &[]).await.status(), StatusCode::SEE_OTHER, "Sales, still empty, is deleted");

        let worker = app.worker();
        assert_eq!(worker.step().await.unwrap(), Step::Bulk(BulkStep::Finished), "ends instead of failing every batch");
        assert_eq!(worker.step().await.unwrap(), Step::Idle);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM agents WHERE group_id = {from}")).await, 300, "nobody moved");
        let shown = page(&app, &back).await;
        assert!(shown.contains("stopped after 0 of 300. The group to move to was deleted meanwhile"), "{shown}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_job_at_the_top_of_the_tree_is_shown_to_its_starter_and_masters_only(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let secret = app.create_group(None, "Secret Project").await;
        let theirs = app.create_group(None, "Support").await;
        let hash = roster::domain::hash_password(MASTER_PASSWORD);
        app.seed_agents(secret, "Agent", 0..300, &hash).await;
        let delete = format!("/admin/groups/{secret}/delete");
        let done = app.post_form(&delete, &delete, &[("confirm_name", "Secret Project")]).await;
        assert!(location(&done).starts_with("/admin?bulk="), "a top group's deletion shows at the top");
        assert!(page(&app, "/admin").await.contains("Deleting group Secret Project with 300 agents"), "a master sees it running");
        let admin = app.admin_of("support-admin@example.com", &[theirs]).await;
        let home = app.get_with(&admin, "/admin").await.text().await.unwrap();
        assert!(!home.contains("Secret Project"), "another administrator is not told of it: {home}");
        app.stop().await;
    }
}
