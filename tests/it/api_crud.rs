//! Groups and agents through the JSON API: the web's changes, rights, validation and audit
//! events, keyset pages of a group's agents, and the OpenAPI document.

use std::collections::BTreeSet;

use reqwest::{Client, Method, StatusCode, header};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};

/// A client that sends `token` as a bearer token with every request.
pub(crate) fn bearer(token: &str) -> Client {
    let mut headers = header::HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    Client::builder()
        .default_headers(headers)
        .timeout(crate::common::ANSWER_LIMIT)
        .build()
        .unwrap()
}

/// Sends a request with an optional JSON body; the status and the JSON answer (Null if none).
pub(crate) async fn call(
    app: &TestApp,
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method.clone(), app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let text = response.text().await.unwrap();
    let json = match text.is_empty() {
        true => Value::Null,
        false => serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}")),
    };
    (status, json)
}

pub(crate) async fn master_api(app: &TestApp) -> Client {
    bearer(&app.master_token().await)
}

pub(crate) fn id(json: &Value) -> i64 {
    json["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("an id in {json}"))
}

/// The field messages of a 422 answer.
pub(crate) fn field_errors(status: StatusCode, json: &Value) -> BTreeSet<String> {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{json}");
    assert_eq!(json["error"]["status"], 422, "{json}");
    json["error"]["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("fields in {json}"))
        .keys()
        .cloned()
        .collect()
}

pub(crate) fn fields(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

async fn audited(app: &TestApp, action: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_events WHERE action = '{action}'"
    ))
    .await
}

on_both_backends! {
    async fn a_master_creates_changes_moves_and_deletes_groups_and_agents(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let api = master_api(&app).await;

        let (status, support) = call(&app, &api, Method::POST, "/api/v1/groups", Some(json!({"name": "Support", "description": "Everyone"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{support}");
        let support = id(&support);
        let (status, tier1) = call(&app, &api, Method::POST, "/api/v1/groups", Some(json!({"name": "Tier 1", "parent_id": support, "enabled": false}))).await;
        assert_eq!(status, StatusCode::CREATED, "{tier1}");
        assert_eq!((tier1["path"].as_str(), tier1["enabled"].as_bool(), tier1["parent_id"].as_i64()), (Some("Support/Tier 1"), Some(false), Some(support)));
        let tier1 = id(&tier1);

        let (status, read) = call(&app, &api, Method::GET, &format!("/api/v1/groups/{support}"), None).await;
        assert_eq!((status, read["name"].as_str(), read["description"].as_str()), (StatusCode::OK, Some("Support"), Some("Everyone")));

        // A change keeps what it does not name; a move is a new parent_id, null the top.
        let (status, changed) = call(&app, &api, Method::PATCH, &format!("/api/v1/groups/{tier1}"), Some(json!({"description": "Nights", "enabled": true}))).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!((changed["name"].as_str(), changed["description"].as_str(), changed["enabled"].as_bool(), changed["parent_id"].as_i64()), (Some("Tier 1"), Some("Nights"), Some(true), Some(support)));
        let (status, moved) = call(&app, &api, Method::PATCH, &format!("/api/v1/groups/{tier1}"), Some(json!({"parent_id": null}))).await;
        assert_eq!((status, moved["parent_id"].clone(), moved["path"].as_str()), (StatusCode::OK, Value::Null, Some("Tier 1")));
        let (status, back) = call(&app, &api, Method::PATCH, &format!("/api/v1/groups/{tier1}"), Some(json!({"parent_id": support}))).await;
        assert_eq!((status, back["path"].as_str()), (StatusCode::OK, Some("Support/Tier 1")));
        let (status, refused) = call(&app, &api, Method::PATCH, &format!("/api/v1/groups/{support}"), Some(json!({"parent_id": tier1}))).await;
        assert_eq!(field_errors(status, &refused), fields(&["parent_id"]), "not into a group below itself");

        // An agent: created, read, renamed and moved, given a password, deleted.
        let (status, agent) = call(&app, &api, Method::POST, &format!("/api/v1/groups/{support}/agents"), Some(json!({"name": "Ann Lee", "email": "ann@example.com", "password": "ann password 1"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{agent}");
        assert_eq!((agent["group_id"].as_i64(), agent["enabled"].as_bool(), agent["must_change_password"].as_bool()), (Some(support), Some(true), Some(true)));
        let text = agent.to_string();
        assert!(!text.contains("password_hash") && !text.contains("argon2") && !text.contains("ann password"), "{text}");
        let ann = id(&agent);
        let (status, read) = call(&app, &api, Method::GET, &format!("/api/v1/agents/{ann}"), None).await;
        assert_eq!((status, read["email"].as_str()), (StatusCode::OK, Some("ann@example.com")));
        let (status, moved) = call(&app, &api, Method::PATCH, &format!("/api/v1/agents/{ann}"), Some(json!({"name": "Anna Lee", "group_id": tier1}))).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!((moved["name"].as_str(), moved["group_id"].as_i64(), moved["email"].as_str()), (Some("Anna Lee"), Some(tier1), Some("ann@example.com")));
        let (status, short) = call(&app, &api, Method::PATCH, &format!("/api/v1/agents/{ann}"), Some(json!({"password": "short", "name": ""}))).await;
        assert_eq!(field_errors(status, &short), fields(&["name", "password"]));
        let (status, set) = call(&app, &api, Method::PATCH, &format!("/api/v1/agents/{ann}"), Some(json!({"password": "a new password 1", "must_change_password": false}))).await;
        assert_eq!((status, set["must_change_password"].as_bool()), (StatusCode::OK, Some(false)), "{set}");
        let signed_in = app.agent_login(&crate::common::browser(), "ann@example.com", "a new password 1").await;
        assert_eq!(crate::common::location(&signed_in), "/agent", "the new password works");

        // A group with an agent is not deleted without its name; empty, it is.
        let (status, full) = call(&app, &api, Method::DELETE, &format!("/api/v1/groups/{tier1}"), None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{full}");
        assert!(full["error"]["message"].as_str().unwrap().contains("confirm_name"), "{full}");
        let (status, _) = call(&app, &api, Method::DELETE, &format!("/api/v1/agents/{ann}"), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, gone) = call(&app, &api, Method::GET, &format!("/api/v1/agents/{ann}"), None).await;
        assert_eq!((status, gone["error"]["status"].as_i64()), (StatusCode::NOT_FOUND, Some(404)));
        let (status, _) = call(&app, &api, Method::DELETE, &format!("/api/v1/groups/{tier1}"), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = call(&app, &api, Method::GET, &format!("/api/v1/groups/{tier1}"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The audit log has each change, as the web's forms record them, and never a password.
        for (action, times) in [
            ("group.created", 2), ("group.changed", 3), ("group.deleted", 1),
            ("agent.created", 1), ("agent.changed", 2), ("agent.password_set", 1), ("agent.deleted", 1),
        ] {
            assert_eq!(audited(&app, action).await, times, "{action}");
        }
        let master_id = app.storage.list_admins().await.unwrap()[0].id;
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE actor_id <> {master_id}")).await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE detail LIKE '%password 1%' OR subject LIKE '%password 1%'").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'agent.changed' AND detail LIKE '%name: Ann Lee → Anna Lee%group: Support → Support / Tier 1%'").await, 1);
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_groups_agents_come_in_keyset_pages_each_once(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let api = master_api(&app).await;
        let group = app.create_group(None, "Support").await;
        let other = app.create_group(None, "Sales").await;
        let hash = roster::domain::hash_password("seeded password 1");
        app.seed_agents(group, "Page", 0..250, &hash).await;
        app.seed_agents(other, "Elsewhere", 0..5, &hash).await;

        let mut names = Vec::new();
        let mut path = format!("/api/v1/groups/{group}/agents?limit=100");
        let mut pages = 0;
        loop {
            let (status, page) = call(&app, &api, Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            pages += 1;
            for agent in page["agents"].as_array().unwrap() {
                assert!(agent.get("password_hash").is_none(), "{agent}");
                names.push(agent["name"].as_str().unwrap().to_owned());
            }
            match page["next"].as_str() {
                Some(next) => path = format!("/api/v1/groups/{group}/agents?limit=100&after={next}"),
                None => break,
            }
        }
        let expected: Vec<String> = (0..250).map(|n| format!("Page {n:05}")).collect();
        assert_eq!(names, expected, "every agent once, in order");
        assert_eq!(pages, 3, "100, 100, 50: the last page says there is no next");

        let (status, default) = call(&app, &api, Method::GET, &format!("/api/v1/groups/{group}/agents"), None).await;
        assert_eq!((status, default["agents"].as_array().unwrap().len()), (StatusCode::OK, 100));
        for bad in ["after=not-a-cursor", "after=eyJ4IjoxfQ", "limit=0", "limit=100000"] {
            let (status, error) = call(&app, &api, Method::GET, &format!("/api/v1/groups/{group}/agents?{bad}"), None).await;
            assert_eq!((status, error["error"]["status"].as_i64()), (StatusCode::BAD_REQUEST, Some(400)), "{bad}: {error}");
        }
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_scoped_administrator_gets_404_for_another_groups_objects(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let alpha = app.create_group(None, "Alpha").await;
        let alpha_child = app.create_group(Some(alpha), "Alpha Nights").await;
        let bravo = app.create_group(None, "Bravo").await;
        let bravo_agent = app.create_agent(bravo, "Bravo Agent", "bravo.agent@example.com", "bravo password 1").await;
        app.admin_of("alpha-admin@example.com", &[alpha]).await;
        let token: Value = Client::new().post(app.url("/api/v1/tokens"))
            .json(&json!({"email": "alpha-admin@example.com", "password": "admin password 1"}))
            .send().await.unwrap().json().await.unwrap();
        let api = bearer(token["token"].as_str().unwrap());

        let hidden = [
            (Method::GET, format!("/api/v1/groups/{bravo}"), None),
            (Method::PATCH, format!("/api/v1/groups/{bravo}"), Some(json!({"name": "Mine"}))),
            (Method::DELETE, format!("/api/v1/groups/{bravo}"), None),
            (Method::GET, format!("/api/v1/groups/{bravo}/agents"), None),
            (Method::POST, format!("/api/v1/groups/{bravo}/agents"), Some(json!({"name": "X", "email": "x@example.com", "password": "x password 1"}))),
            (Method::GET, format!("/api/v1/agents/{bravo_agent}"), None),
            (Method::PATCH, format!("/api/v1/agents/{bravo_agent}"), Some(json!({"group_id": alpha}))),
            (Method::DELETE, format!("/api/v1/agents/{bravo_agent}"), None),
            (Method::POST, "/api/v1/groups".to_owned(), Some(json!({"name": "Under Bravo", "parent_id": bravo}))),
            (Method::POST, "/api/v1/groups".to_owned(), Some(json!({"name": "At the top"}))),
        ];
        for (method, path, body) in hidden {
            let (status, answer) = call(&app, &api, method.clone(), &path, body).await;
            assert_eq!((status, answer["error"]["status"].as_i64()), (StatusCode::NOT_FOUND, Some(404)), "{method} {path}: {answer}");
            let text = answer.to_string();
            assert!(!text.contains("Bravo") && !text.contains("bravo.agent"), "{method} {path} shows B's data: {text}");
        }
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM agents WHERE group_id = {bravo}")).await, 1, "B's agent is untouched");

        // Their own: an agent they cannot move out of sight, a group they cannot move under B.
        let (status, agent) = call(&app, &api, Method::POST, &format!("/api/v1/groups/{alpha}/agents"), Some(json!({"name": "Al Pha", "email": "al@example.com", "password": "al password 1"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{agent}");
        let al = id(&agent);
        let (status, refused) = call(&app, &api, Method::PATCH, &format!("/api/v1/agents/{al}"), Some(json!({"group_id": bravo}))).await;
        assert_eq!(field_errors(status, &refused), fields(&["group_id"]));
        assert!(!refused.to_string().contains("Bravo"), "{refused}");
        let (status, moved) = call(&app, &api, Method::PATCH, &format!("/api/v1/agents/{al}"), Some(json!({"group_id": alpha_child}))).await;
        assert_eq!((status, moved["group_id"].as_i64()), (StatusCode::OK, Some(alpha_child)), "{moved}");
        let (status, refused) = call(&app, &api, Method::PATCH, &format!("/api/v1/groups/{alpha_child}"), Some(json!({"parent_id": bravo}))).await;
        assert_eq!(field_errors(status, &refused), fields(&["parent_id"]));
        let (status, listed) = call(&app, &api, Method::GET, "/api/v1/groups", None).await;
        let ids: Vec<i64> = listed.as_array().unwrap().iter().map(id).collect();
        assert_eq!((status, ids), (StatusCode::OK, vec![alpha, alpha_child]));

        // An administrator of a group below another is not told the name of the one above.
        app.admin_of("nights-admin@example.com", &[alpha_child]).await;
        let token: Value = Client::new().post(app.url("/api/v1/tokens"))
            .json(&json!({"email": "nights-admin@example.com", "password": "admin password 1"}))
            .send().await.unwrap().json().await.unwrap();
        let nights = bearer(token["token"].as_str().unwrap());
        let (status, own) = call(&app, &nights, Method::GET, &format!("/api/v1/groups/{alpha_child}"), None).await;
        assert_eq!((status, own["path"].as_str(), own["parent_id"].clone()), (StatusCode::OK, Some("Alpha Nights"), Value::Null), "{own}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn refused_input_answers_422_naming_each_field(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let api = master_api(&app).await;
        let group = app.create_group(None, "Support").await;
        app.create_agent(group, "Ann Lee", "ann@example.com", "ann password 1").await;

        let (status, answer) = call(&app, &api, Method::POST, &format!("/api/v1/groups/{group}/agents"), Some(json!({"name": "", "email": "not an email", "password": "short"}))).await;
        assert_eq!(field_errors(status, &answer), fields(&["email", "name", "password"]));
        let (status, answer) = call(&app, &api, Method::POST, &format!("/api/v1/groups/{group}/agents"), Some(json!({"name": "Ann Twin", "email": " ANN@example.com ", "password": "twin password 1"}))).await;
        assert_eq!(field_errors(status, &answer), fields(&["email"]), "a taken email");
        assert!(answer["error"]["fields"]["email"].as_str().unwrap().contains("already exists"), "{answer}");
        let (status, answer) = call(&app, &api, Method::POST, "/api/v1/groups", Some(json!({"name": "  "}))).await;
        assert_eq!(field_errors(status, &answer), fields(&["name"]));
        let (status, answer) = call(&app, &api, Method::POST, "/api/v1/groups", Some(json!({"name": "support"}))).await;
        assert_eq!(field_errors(status, &answer), fields(&["name"]), "a name taken at the same level");
        let (status, answer) = call(&app, &api, Method::PATCH, &format!("/api/v1/groups/{group}"), Some(json!({"name": 7}))).await;
        assert_eq!((status, answer["error"]["status"].as_i64()), (StatusCode::UNPROCESSABLE_ENTITY, Some(422)), "a wrong type: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains("name"), "{answer}");
        // Nothing of it was made, and the log has only the web's two creations.
        assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM agent_groups").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events").await, 2);
        app.stop().await;
    }
}

/// Every route of `/api/v1`, as `src/http/api/mod.rs` routes them: the document must list each.
const API_ROUTES: [(&str, &str); 22] = [
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/current"),
    ("get", "/api/v1/groups"),
    ("post", "/api/v1/groups"),
    ("get", "/api/v1/groups/{id}"),
    ("patch", "/api/v1/groups/{id}"),
    ("delete", "/api/v1/groups/{id}"),
    ("get", "/api/v1/groups/{id}/agents"),
    ("post", "/api/v1/groups/{id}/agents"),
    ("get", "/api/v1/agents/{id}"),
    ("patch", "/api/v1/agents/{id}"),
    ("delete", "/api/v1/agents/{id}"),
    ("post", "/api/v1/groups/{id}/agents/bulk"),
    ("get", "/api/v1/bulk-jobs/{id}"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/groups/{id}/imports"),
    ("post", "/api/v1/groups/{id}/imports"),
    ("get", "/api/v1/imports/{id}"),
    ("get", "/api/v1/imports/{id}/result"),
    ("post", "/api/v1/imports/{id}/cancel"),
    ("post", "/api/v1/imports/{id}/undo"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    // No token: the document is public.
    let response = Client::new()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.expect("the document is JSON");
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    let listed: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = API_ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(listed, routed);
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        document["security"][0]["bearer"],
        json!([]),
        "every route asks for the token…"
    );
    let public = |method: &str, path: &str| document["paths"][path][method]["security"].clone();
    assert_eq!(
        public("post", "/api/v1/tokens"),
        json!([{}]),
        "…but the token request"
    );
    assert_eq!(public("get", "/api/v1/openapi.json"), json!([{}]));
    for schema in [
        "GroupJson",
        "AgentJson",
        "AgentPage",
        "ErrorJson",
        "ImportJson",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
    let agent = document["components"]["schemas"]["AgentJson"]["properties"]
        .as_object()
        .unwrap();
    assert!(
        !agent.keys().any(|key| key.contains("password_hash")),
        "{agent:?}"
    );
    app.stop().await;
}
