//! Searching the tree for agents: what is typed is matched literally, wildcards included.

use crate::common::TestApp;

on_both_backends! {
    async fn search_matches_underscores_and_percent_signs_literally(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        for (name, email) in [
            ("ann_lee", "ann_lee@example.com"),
            ("annXlee", "annxlee@example.com"),
            ("Sale 50% Team", "sale.fifty@example.com"),
            ("Sale 500 Team", "sale.five.hundred@example.com"),
            ("Back\\slash", "backslash@example.com"),
            ("Backslash", "back.plain@example.com"),
        ] {
            app.create_agent(group, name, email, "agent password 1").await;
        }
        let found = |needle: &'static str| {
            let storage = app.storage.clone();
            async move {
                let (agents, total) = storage.search_agents(&[group], needle, 50).await.unwrap();
                assert_eq!(total as usize, agents.len(), "all of them listed");
                let mut emails: Vec<String> = agents
                    .into_iter()
                    .map(|agent| agent.email)
                    .collect();
                emails.sort();
                emails
            }
        };
        assert_eq!(found("ann_lee").await, ["ann_lee@example.com"]);
        assert_eq!(found("_").await, ["ann_lee@example.com"], "by name and by email");
        assert_eq!(found("50%").await, ["sale.fifty@example.com"]);
        assert_eq!(found("k\\s").await, ["backslash@example.com"]);
        assert_eq!(found("ann").await, ["ann_lee@example.com", "annxlee@example.com"]);

        // Through the tree's search box.
        let page = app.get("/admin?q=ann_lee").await.text().await.unwrap();
        assert!(page.contains("title=\"ann_lee@example.com\""), "{page}");
        assert!(!page.contains("annxlee@example.com"), "{page}");
        assert!(!page.contains("nothing-matches"), "no 'Nothing matches' under the matches: {page}");
        let none = app.get("/admin?q=zzz-nobody").await.text().await.unwrap();
        assert!(none.contains("Nothing matches “zzz-nobody”"), "{none}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_search_says_how_many_more_match_than_it_lists(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        for i in 0..53 {
            app.create_agent(group, &format!("Müller {i}"), &format!("mueller{i}@example.com"), "agent password 1").await;
        }
        let (listed, total) = app.storage.search_agents(&[group], "müller", 50).await.unwrap();
        assert_eq!((listed.len(), total), (50, 53));
        let page = app.get("/admin?q=M%C3%BCller").await.text().await.unwrap();
        assert!(page.contains("and 3 more agents: type more of the name or email"), "{page}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn the_live_filter_searches_every_agent_the_administrator_sees(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let sales = app.create_group(None, "Sales").await;
        app.create_agent(support, "Ann Lee", "ann@example.com", "agent password 1").await;
        app.create_agent(sales, "Anna Sales", "anna@example.com", "agent password 1").await;
        let master = app.get("/admin/tree/search?q=%20ANN%20").await.text().await.unwrap();
        assert!(master.contains("Ann Lee") && master.contains("Anna Sales"), "{master}");
        let scoped = app.admin_of("support-admin@example.com", &[support]).await;
        let theirs = app.get_with(&scoped, "/admin/tree/search?q=ann").await.text().await.unwrap();
        assert!(theirs.contains("Ann Lee"), "{theirs}");
        assert!(!theirs.contains("Anna Sales"), "another group's agent never shows: {theirs}");
        let nothing = app.get("/admin/tree/search?q=zzz").await.text().await.unwrap();
        assert!(!nothing.contains("<li"), "{nothing}");
        app.stop().await;
    }
}
