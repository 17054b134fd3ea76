//! A group's agents in natural order ("Agent 2" before "Agent 10", "bob" between "Anna" and
//! "Carl") wherever they are listed: the tree's pages, the group's panel, search, the export;
//! and agents stored before the sort key get theirs at start. On SQLite and on PostgreSQL.

use reqwest::StatusCode;
use roster::{
    domain::{AgentName, Description, Email, Nickname, natural_cmp},
    storage::{NewAgent, Storage},
};

use crate::common::TestApp;

/// More than two pages of 100, created out of order; "agent 7" ties "Agent 7" but for case.
async fn create_agents(app: &TestApp, group: i64) -> Vec<(i64, String)> {
    let mut names: Vec<String> = (1..=230).map(|n| format!("Agent {n}")).collect();
    names.extend(["Carl", "bob", "Anna", "agent 7"].map(str::to_owned));
    // A fixed shuffle: ids (the tie-break) must not follow the natural order.
    names.sort_by_key(|name| {
        name.bytes()
            .fold(7u32, |h, b| h.wrapping_mul(31) ^ u32::from(b))
    });
    let none = Description::parse("").unwrap();
    let nickname = Nickname::parse("").unwrap();
    let mut agents = Vec::new();
    for (n, name) in names.into_iter().enumerate() {
        let parsed = AgentName::parse(&name).unwrap();
        let email = Email::parse(&format!("agent{n}@example.com")).unwrap();
        let new = NewAgent {
            group_id: group,
            name: &parsed,
            nickname: &nickname,
            email: &email,
            description: &none,
            password_hash: "not a hash: nobody signs in here",
            must_change_password: false,
            enabled: true,
        };
        agents.push((app.storage.create_agent(new).await.unwrap(), name));
    }
    agents
}

/// The names in natural order, ties by id: what every list must show.
fn expected(agents: &[(i64, String)]) -> Vec<String> {
    let mut sorted = agents.to_vec();
    sorted.sort_by(|(a_id, a), (b_id, b)| natural_cmp(a, b).then(a_id.cmp(b_id)));
    let names: Vec<String> = sorted.into_iter().map(|(_, name)| name).collect();
    let at = |name: &str| names.iter().position(|n| n == name).unwrap();
    assert!(at("Agent 2") < at("Agent 10") && at("Agent 10") < at("Agent 100"));
    assert!(at("Anna") < at("bob") && at("bob") < at("Carl"));
    assert_eq!(
        at("Agent 7") + 1,
        at("agent 7"),
        "equal but for case: side by side"
    );
    names
}

async fn page(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

/// Every page of the group's agents in the tree, following each "more" link.
async fn tree_pages(app: &TestApp, group: i64) -> Vec<String> {
    let mut path = format!("/admin/tree/groups/{group}/agents");
    let mut seen = Vec::new();
    for _ in 0..10 {
        let shown = page(app, &path).await;
        seen.extend(shown.split("<li class=\"agent").skip(1).map(|item| {
            let link = item.split("</a>").next().unwrap();
            link.rsplit('>').next().unwrap().to_owned()
        }));
        let Some(more) = shown.split("<li class=\"more\" data-agents-url=\"").nth(1) else {
            return seen;
        };
        path = more
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&")
            .replace("&#38;", "&");
    }
    panic!("more pages than agents: {seen:?}");
}

/// Every page of the group's agents in its panel, following each "next" link.
async fn panel_pages(app: &TestApp, group: i64) -> Vec<String> {
    let mut path = format!("/admin/groups/{group}");
    let mut seen = Vec::new();
    for _ in 0..10 {
        let shown = page(app, &path).await;
        seen.extend(
            shown
                .split("<td><a href=\"/admin/agents/")
                .skip(1)
                .map(|row| {
                    row.split('>')
                        .nth(1)
                        .unwrap()
                        .trim_end_matches("</a")
                        .to_owned()
                }),
        );
        if !shown.contains("id=\"agents-next\"") {
            return seen;
        }
        let before = shown.split("id=\"agents-next\"").next().unwrap();
        let next = before.rsplit("href=\"").next().unwrap();
        path = next
            .trim_end_matches("\" ")
            .replace("&amp;", "&")
            .replace("&#38;", "&");
        path = path.split('#').next().unwrap().to_owned();
    }
    panic!("more pages than agents: {seen:?}");
}

on_both_backends! {
    async fn agents_are_listed_in_natural_order_across_pages(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let agents = create_agents(&app, group).await;
        let expected = expected(&agents);

        assert_eq!(tree_pages(&app, group).await, expected, "the tree, page after page");
        assert_eq!(panel_pages(&app, group).await, expected, "the panel, page after page");

        let (found, total) = app.storage.search_agents(&[group], "@example.com", 1000).await.unwrap();
        assert_eq!(total as usize, expected.len());
        assert_eq!(found.into_iter().map(|agent| agent.name).collect::<Vec<_>>(), expected, "search");

        let export = page(&app, &format!("/admin/groups/{group}/export.csv")).await;
        let exported: Vec<&str> = export.lines().skip(1).map(|line| line.split(',').next().unwrap()).collect();
        assert_eq!(exported, expected, "the export");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_renamed_agent_moves_to_its_new_place(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        app.create_agent(group, "Agent 10", "ten@example.com", "password123").await;
        let two = app.create_agent(group, "Agent 2", "two@example.com", "password123").await;
        assert_eq!(tree_pages(&app, group).await, ["Agent 2", "Agent 10"]);

        let edit = format!("/admin/agents/{two}");
        let fields = [("name", "Agent 20"), ("email", "two@example.com"), ("group_id", &group.to_string()), ("enabled", "on")];
        assert_eq!(app.post_form(&edit, &edit, &fields).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(tree_pages(&app, group).await, ["Agent 10", "Agent 20"]);
        app.stop().await;
    }
}

on_both_backends! {
    async fn agents_stored_before_sort_keys_get_theirs_at_start(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let agents = create_agents(&app, group).await;
        // As a database from before the sort key: every key empty, and no record of the fix.
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url).await.unwrap();
        sqlx::query("UPDATE agents SET sort_key = ''").execute(&mut db).await.unwrap();
        sqlx::query("DELETE FROM data_fixes WHERE name = 'agent_sort_keys'").execute(&mut db).await.unwrap();
        assert_ne!(tree_pages(&app, group).await, expected(&agents), "without keys, ids decide");

        // What a start does before it serves: migrations, then the data fixes.
        let started = Storage::connect(&app.database_url).await.unwrap();
        started.migrate().await.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM agents WHERE sort_key = ''").await, 0, "every agent keyed");
        assert_eq!(tree_pages(&app, group).await, expected(&agents));
        assert_eq!(app.count("SELECT COUNT(*) FROM data_fixes WHERE name = 'agent_sort_keys'").await, 1, "recorded, so it runs once");
        app.stop().await;
    }
}
