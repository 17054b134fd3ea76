//! CSRF on every state-changing route, and the anonymous forms' double-submit cookie.

use reqwest::{StatusCode, header};

use super::routes::{Row, changes_state, routes};
use super::world::world;
use crate::common::{MASTER_EMAIL, MASTER_PASSWORD, TestApp, browser};

on_both_backends! {
    async fn every_state_changing_route_refuses_a_missing_or_foreign_csrf_token(backend) {
        let Some(world) = world(backend).await else { return };
        let master = &world.actors[4];
        let foreign = world.actors[2].csrf.clone();
        assert_ne!(master.csrf, foreign);
        let counts = |app: &TestApp| {
            let storage = app.storage.clone();
            let group_a = world.ids.group_a;
            async move {
                (
                    storage.all_groups().await.unwrap().len(),
                    storage.list_admins().await.unwrap().len(),
                    storage.agents_in_group(group_a, 10_000, None).await.unwrap().len(),
                    storage.group_imports(group_a, 10_000).await.unwrap().len(),
                )
            }
        };
        let before = counts(&world.app).await;
        let mut failures = Vec::new();
        let mut n = 1_000;
        let checked: Vec<Row> = routes().into_iter().filter(changes_state).collect();
        assert!(checked.len() >= 18, "{} state-changing routes", checked.len());
        for row in &checked {
            for (what, token) in [("no token", None), ("another session's token", Some(foreign.as_str()))] {
                n += 1;
                let response = world.send(&master.client, row, token, n).await;
                if response.status() != StatusCode::FORBIDDEN {
                    failures.push(format!("{} {} with {what}: {}", row.method, row.path, response.status()));
                }
            }
        }
        // Nothing was made, changed or deleted by any of them: only the objects made for the
        // requests to delete are new.
        let after = counts(&world.app).await;
        let made = |key: &str| checked.iter().filter(|r| r.path.contains(key)).count() * 2;
        assert_eq!(
            after,
            (before.0 + made("{fresh_group}"), before.1 + made("{fresh_admin}"), before.2 + made("{fresh_agent}"), before.3)
        );
        let groups = world.app.storage.all_groups().await.unwrap();
        let group_a = groups.iter().find(|g| g.id == world.ids.group_a).unwrap();
        assert_eq!(group_a.description, "", "group A's properties were not changed");

        // The anonymous sign-in form: its double-submit cookie must match the field.
        let other_browser = browser();
        let other_token = world.app.csrf_from(&other_browser, "/login").await;
        let anonymous = &world.actors[0];
        let response = anonymous.client.post(world.app.url("/login"))
            .form(&[("csrf", other_token.as_str()), ("email", MASTER_EMAIL), ("password", MASTER_PASSWORD)])
            .send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "a token from another browser");

        // A JSON body does not stand in for the token on the Admin Center's routes: a form
        // route without a body of its own (delete) would otherwise take it.
        let victim = world.app.create_group(Some(world.ids.group_a), "Keep me").await;
        let response = master.client.post(world.app.url(&format!("/admin/groups/{victim}/delete")))
            .header(header::CONTENT_TYPE, "application/json").body("{}")
            .send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "JSON to a form route");
        assert_eq!(world.app.get(&format!("/admin/groups/{victim}")).await.status(), StatusCode::OK, "still there");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        world.app.stop().await;
    }
}
