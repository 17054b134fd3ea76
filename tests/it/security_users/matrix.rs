//! The authorization matrix: every route against every kind of visitor, in the browser and
//! with API tokens.

use reqwest::{Client, Response, header, redirect::Policy};
use roster::storage::SessionKind;

use super::routes::{E, ROLES, Role, routes};
use super::world::{ADMIN_PASSWORD, ALPHA_ADMIN, BRAVO_ADMIN, world};
use crate::common::{MASTER_EMAIL, MASTER_PASSWORD, TestApp, location};

fn verdict(expect: E, response: &Response) -> Result<(), String> {
    let status = response.status().as_u16();
    let at = location(response);
    let ok = match expect {
        E::Code(code) => status == code,
        E::To(place) => status == 303 && at == place,
        E::Done => status == 303 && at != "/login" && !at.is_empty(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expect:?}, got {status} {at}"))
    }
}

fn bearer_client(token: &str) -> Client {
    let mut headers = header::HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    Client::builder()
        .redirect(Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn api_token(app: &TestApp, email: &str, password: &str) -> String {
    let answer: serde_json::Value = Client::new()
        .post(app.url("/api/v1/tokens"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().expect("a token").to_owned()
}

/// Words only group A's pages hold: a refusal must not carry them.
const GROUP_A_WORDS: [&str; 2] = ["Alpha Agent", "alpha.agent@example.com"];

on_both_backends! {
    async fn every_route_answers_each_kind_of_visitor_as_the_rights_say(backend) {
        let Some(world) = world(backend).await else { return };
        let mut failures = Vec::new();
        let mut n = 0;
        for row in routes() {
            for (column, actor) in world.actors.iter().enumerate() {
                n += 1;
                let response = if row.ends_session {
                    let (client, csrf) = world.fresh_session(actor.role, SessionKind::Admin).await;
                    world.send(&client, &row, Some(&csrf), n).await
                } else {
                    world.send(&actor.client, &row, Some(&actor.csrf), n).await
                };
                let expect = row.expect[column];
                let refused = matches!(expect, E::Code(404));
                let result = verdict(expect, &response);
                let body = response.text().await.unwrap_or_default();
                if let Err(message) = result {
                    failures.push(format!("{} {} as {:?}: {message}", row.method, row.path, actor.role));
                } else if refused && GROUP_A_WORDS.iter().any(|w| body.contains(w)) {
                    failures.push(format!("{} {} as {:?}: the refusal shows group A's data", row.method, row.path, actor.role));
                }
            }
        }

        // The API with bearer tokens, for the administrators: the same answers as their browsers.
        let tokens = [
            (Role::AdminA, api_token(&world.app, ALPHA_ADMIN, ADMIN_PASSWORD).await),
            (Role::AdminB, api_token(&world.app, BRAVO_ADMIN, ADMIN_PASSWORD).await),
            (Role::Master, api_token(&world.app, MASTER_EMAIL, MASTER_PASSWORD).await),
        ];
        // The token request aside: it is how a token is had, not a route a token opens.
        for row in routes().iter().filter(|r| r.path.starts_with("/api/") && r.path != "/api/v1/tokens") {
            for (role, token) in &tokens {
                n += 1;
                let column = ROLES.iter().position(|r| r == role).unwrap();
                let response = if row.ends_session {
                    let (client, _) = world.fresh_session(*role, SessionKind::Api).await;
                    world.send(&client, row, None, n).await
                } else {
                    world.send(&bearer_client(token), row, None, n).await
                };
                if let Err(message) = verdict(row.expect[column], &response) {
                    failures.push(format!("{} {} with a bearer token as {role:?}: {message}", row.method, row.path));
                }
            }
        }

        // What a list shows is limited too.
        for (role, token, sees, hidden) in [
            (Role::AdminA, &tokens[0].1, world.ids.group_a, world.ids.group_b),
            (Role::AdminB, &tokens[1].1, world.ids.group_b, world.ids.group_a),
        ] {
            let groups: serde_json::Value = bearer_client(token).get(world.app.url("/api/v1/groups")).send().await.unwrap().json().await.unwrap();
            let ids: Vec<i64> = groups.as_array().unwrap().iter().map(|g| g["id"].as_i64().unwrap()).collect();
            assert!(ids.contains(&sees) && !ids.contains(&hidden), "{role:?} lists {ids:?}");
        }
        let tree = world.app.get_with(&world.actors[3].client, "/admin").await.text().await.unwrap();
        assert!(tree.contains("Bravo Team") && !tree.contains("Alpha Team"), "B's tree: {tree}");
        assert!(failures.is_empty(), "{} of the matrix's answers are wrong:\n{}", failures.len(), failures.join("\n"));
        world.app.stop().await;
    }
}
