//! Who may do what, and the sessions that say who is asking: every route against every kind of
//! visitor, CSRF on every state-changing route, session rotation and timeouts, cookie flags,
//! throttling, security headers, a hostile download name, and passwords that leave no trace in
//! logs, result files or the database.

use std::io::{Cursor, Read, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::common::sheets::{C, read_result, xlsx};
use crate::common::{Backend, MASTER_EMAIL, MASTER_PASSWORD, TestApp, browser, location};
use reqwest::{Client, Method, Response, StatusCode, header, redirect::Policy};
use roster::domain::now;
use roster::http::session::{random_token, token_hash};
use roster::storage::SessionKind;

// ---------------------------------------------------------------------------------------------
// The authorization matrix.

/// Who is asking, in the order of each row's expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    Agent,
    AdminA,
    AdminB,
    Master,
}

const ROLES: [Role; 5] = [
    Role::Anonymous,
    Role::Agent,
    Role::AdminA,
    Role::AdminB,
    Role::Master,
];

/// What a request must answer.
#[derive(Debug, Clone, Copy)]
enum E {
    Code(u16),
    /// 303 to exactly this place.
    To(&'static str),
    /// 303 somewhere other than the sign-in page: the change was made.
    Done,
}

const OK: E = E::Code(200);
const NF: E = E::Code(404);
const API_NO: E = E::Code(401);
const LOGIN: E = E::To("/login");
const DONE: E = E::Done;

#[derive(Debug, Clone, Copy)]
enum Body {
    None,
    /// An urlencoded form, with the CSRF token added.
    Form(&'static [(&'static str, &'static str)]),
    /// `multipart/form-data` with the CSRF token and a small valid CSV.
    Upload,
    /// JSON, as API clients send it.
    Json(&'static str),
}

struct Row {
    method: Method,
    /// `{group_a}`, `{agent_a}`, `{job_a}`, `{admin_a}`: group A's objects; `{fresh_group}`,
    /// `{fresh_agent}`, `{fresh_admin}`: made for this one request; `{n}`: a number unique to it.
    path: &'static str,
    body: Body,
    /// Anonymous, agent, administrator of group A, administrator of group B, master.
    expect: [E; 5],
    /// The request ends the session it is made with: each gets a session of its own.
    ends_session: bool,
}

fn row(method: Method, path: &'static str, body: Body, expect: [E; 5]) -> Row {
    Row {
        method,
        path,
        body,
        expect,
        ends_session: false,
    }
}

fn ending(method: Method, path: &'static str, body: Body, expect: [E; 5]) -> Row {
    Row {
        ends_session: true,
        ..row(method, path, body, expect)
    }
}

const NEW_GROUP: Body = Body::Form(&[
    ("parent_id", "{group_a}"),
    ("name", "New {n}"),
    ("description", ""),
]);
const GROUP_A: Body = Body::Form(&[
    ("name", "Alpha Team"),
    ("description", "Renamed {n}"),
    ("enabled", "on"),
    ("parent_id", ""),
]);
const NEW_AGENT: Body = Body::Form(&[
    ("name", "New Agent {n}"),
    ("email", "new.{n}@example.com"),
    ("password", "new password {n}"),
    ("group_id", "{group_a}"),
    ("enabled", "on"),
]);
const AGENT_A: Body = Body::Form(&[
    ("name", "Alpha Agent"),
    ("email", "alpha.agent@example.com"),
    ("group_id", "{group_a}"),
    ("enabled", "on"),
]);
const NEW_PASSWORD: Body = Body::Form(&[("password", "changed password {n}")]);
const NEW_ADMIN: Body = Body::Form(&[
    ("name", "New Admin {n}"),
    ("email", "admin.{n}@example.com"),
    ("password", "admin password {n}"),
]);
const ADMIN_A: Body = Body::Form(&[("name", "Alpha Admin"), ("group_id", "{group_a}")]);
const SETUP: Body = Body::Form(&[
    ("name", "M"),
    ("email", "m.{n}@example.com"),
    ("password", "a password {n}"),
    ("confirm", "a password {n}"),
]);
const EMPTY: Body = Body::Form(&[]);

const WRONG_ADMIN: Body = Body::Form(&[("email", "nobody.1@example.com"), ("password", "wrong")]);
const WRONG_AGENT: Body = Body::Form(&[("email", "nobody.2@example.com"), ("password", "wrong")]);
const WRONG_TOKEN: Body = Body::Json(r#"{"email":"nobody.3@example.com","password":"wrong"}"#);
const TO_ADMIN: E = E::To("/admin");
const ACCEPTED: E = E::Code(202);
const GONE: E = E::Code(204);
const WRONG: E = E::Code(401);

/// Every route of src/http/mod.rs and src/http/api.rs. A new route is one line here; the
/// answers are for: anonymous, agent, administrator of A, administrator of B, master.
#[rustfmt::skip]
fn routes() -> Vec<Row> {
    use Method as M;
    use Body::{None as Nothing, Upload};
    let all = |e: E| [e; 5];
    vec![
        row(M::GET, "/", Nothing, all(TO_ADMIN)),
        row(M::GET, "/healthz", Nothing, all(OK)),
        row(M::GET, "/readyz", Nothing, all(OK)),
        row(M::GET, "/static/app.css", Nothing, all(OK)),
        row(M::GET, "/static/app.js", Nothing, all(OK)),
        row(M::GET, "/no/such/page", Nothing, all(NF)),
        row(M::GET, "/setup/not-a-live-token", Nothing, all(NF)),
        row(M::POST, "/setup/not-a-live-token", SETUP, all(NF)),
        row(M::GET, "/login", Nothing, [OK, OK, TO_ADMIN, TO_ADMIN, TO_ADMIN]),
        row(M::POST, "/login", WRONG_ADMIN, all(WRONG)),
        row(M::GET, "/agent/login", Nothing, [OK, E::To("/agent"), OK, OK, OK]),
        row(M::POST, "/agent/login", WRONG_AGENT, all(WRONG)),
        row(M::GET, "/agent", Nothing, [LOGIN, OK, LOGIN, LOGIN, LOGIN]),
        row(M::GET, "/admin", Nothing, [LOGIN, LOGIN, OK, OK, OK]),
        row(M::GET, "/admin/tree/groups/{group_a}/agents", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/groups", NEW_GROUP, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::GET, "/admin/groups/{group_a}", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/groups/{group_a}", GROUP_A, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::POST, "/admin/groups/{fresh_group}/delete", EMPTY, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::POST, "/admin/groups/{group_a}/agents", NEW_AGENT, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::GET, "/admin/groups/{group_a}/agents/new", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::GET, "/admin/agents/{agent_a}", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/agents/{agent_a}", AGENT_A, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::POST, "/admin/agents/{agent_a}/password", NEW_PASSWORD, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::POST, "/admin/agents/{fresh_agent}/delete", EMPTY, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::POST, "/admin/admins", NEW_ADMIN, [LOGIN, LOGIN, NF, NF, DONE]),
        row(M::GET, "/admin/admins/new", Nothing, [LOGIN, LOGIN, NF, NF, OK]),
        row(M::GET, "/admin/admins/{admin_a}", Nothing, [LOGIN, LOGIN, NF, NF, OK]),
        row(M::POST, "/admin/admins/{admin_a}", ADMIN_A, [LOGIN, LOGIN, NF, NF, DONE]),
        row(M::POST, "/admin/admins/{fresh_admin}/delete", EMPTY, [LOGIN, LOGIN, NF, NF, DONE]),
        row(M::GET, "/admin/groups/{group_a}/import", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/groups/{group_a}/import", Upload, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::GET, "/admin/import-template.xlsx", Nothing, [LOGIN, LOGIN, OK, OK, OK]),
        row(M::GET, "/admin/import-template.csv", Nothing, [LOGIN, LOGIN, OK, OK, OK]),
        row(M::GET, "/admin/imports/{job_a}/result", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/api/v1/tokens", WRONG_TOKEN, all(API_NO)),
        row(M::GET, "/api/v1/groups", Nothing, [API_NO, API_NO, OK, OK, OK]),
        row(M::GET, "/api/v1/groups/{group_a}/imports", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::POST, "/api/v1/groups/{group_a}/imports", Upload, [API_NO, API_NO, ACCEPTED, NF, ACCEPTED]),
        row(M::GET, "/api/v1/imports/{job_a}", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::GET, "/api/v1/imports/{job_a}/result", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::GET, "/api/v1/no/such/thing", Nothing, all(NF)),
        ending(M::POST, "/logout", EMPTY, all(LOGIN)),
        ending(M::POST, "/agent/logout", EMPTY, all(E::To("/agent/login"))),
        ending(M::DELETE, "/api/v1/tokens/current", Nothing, [API_NO, API_NO, GONE, GONE, GONE]),
    ]
}

/// A state-changing request a browser session makes: it must carry the session's CSRF token.
fn changes_state(row: &Row) -> bool {
    row.method != Method::GET && !matches!(row.body, Body::Json(_))
}

/// Group A's objects, and the others the matrix needs.
#[derive(Debug, Clone, Copy)]
struct Ids {
    group_a: i64,
    group_b: i64,
    agent_a: i64,
    agent_self: i64,
    job_a: i64,
    admin_a: i64,
    admin_b: i64,
    master: i64,
}

struct Actor {
    role: Role,
    client: Client,
    csrf: String,
}

struct World {
    app: TestApp,
    ids: Ids,
    actors: Vec<Actor>,
}

const ALPHA_ADMIN: &str = "alpha-admin@example.com";
const BRAVO_ADMIN: &str = "bravo-admin@example.com";
const ADMIN_PASSWORD: &str = "admin password 1";

async fn admin_id(app: &TestApp, email: &str) -> i64 {
    let admins = app.storage.list_admins().await.unwrap();
    admins
        .iter()
        .find(|a| a.email == email)
        .expect("the administrator exists")
        .id
}

/// Master, groups A and B with agents, an administrator of each, an agent signed in, and a
/// finished import in group A.
async fn world(backend: Backend) -> Option<World> {
    let app = TestApp::spawn(backend).await?;
    app.setup_master().await;
    let group_a = app.create_group(None, "Alpha Team").await;
    let group_b = app.create_group(None, "Bravo Team").await;
    let agent_a = app
        .create_agent(
            group_a,
            "Alpha Agent",
            "alpha.agent@example.com",
            "alpha password 1",
        )
        .await;
    let agent_self = app
        .create_agent(
            group_a,
            "Signed In",
            "signed.in@example.com",
            "agent password 1",
        )
        .await;
    app.create_agent(
        group_b,
        "Bravo Agent",
        "bravo.agent@example.com",
        "bravo password 1",
    )
    .await;
    let admin_a_client = app.admin_of(ALPHA_ADMIN, &[group_a]).await;
    let admin_b_client = app.admin_of(BRAVO_ADMIN, &[group_b]).await;

    let csv = b"Name,Email,Password\nImported One,imported.one@example.com,imported password 1\n";
    let upload = app
        .upload(&app.client, group_a, "alpha.csv", csv.to_vec())
        .await;
    assert_eq!(upload.status(), StatusCode::SEE_OTHER);
    let job_a = app.latest_job(&app.client, group_a).await;
    assert_eq!(
        app.wait_for_import(&app.client, job_a).await["state"],
        "finished"
    );

    let agent = browser();
    let signed_in = app
        .post_form_with(
            &agent,
            "/agent/login",
            "/agent/login",
            &[
                ("email", "signed.in@example.com"),
                ("password", "agent password 1"),
            ],
        )
        .await;
    assert_eq!(location(&signed_in), "/agent");
    let anonymous = browser();
    let ids = Ids {
        group_a,
        group_b,
        agent_a,
        agent_self,
        job_a,
        admin_a: admin_id(&app, ALPHA_ADMIN).await,
        admin_b: admin_id(&app, BRAVO_ADMIN).await,
        master: admin_id(&app, MASTER_EMAIL).await,
    };
    let mut actors = Vec::new();
    for (role, client, page) in [
        (Role::Anonymous, anonymous, "/login"),
        (Role::Agent, agent, "/agent"),
        (Role::AdminA, admin_a_client, "/admin"),
        (Role::AdminB, admin_b_client, "/admin"),
        (Role::Master, app.client.clone(), "/admin"),
    ] {
        let csrf = app.csrf_from(&client, page).await;
        actors.push(Actor { role, client, csrf });
    }
    Some(World { app, ids, actors })
}

impl World {
    /// Fills a path or field template; `{fresh_*}` objects are made (by the master) on the way.
    async fn fill(&self, template: &str, n: usize) -> String {
        let mut text = template
            .replace("{group_a}", &self.ids.group_a.to_string())
            .replace("{agent_a}", &self.ids.agent_a.to_string())
            .replace("{job_a}", &self.ids.job_a.to_string())
            .replace("{admin_a}", &self.ids.admin_a.to_string())
            .replace("{n}", &n.to_string());
        if text.contains("{fresh_group}") {
            let id = self
                .app
                .create_group(Some(self.ids.group_a), &format!("Fresh {n}"))
                .await;
            text = text.replace("{fresh_group}", &id.to_string());
        }
        if text.contains("{fresh_agent}") {
            let email = format!("fresh.{n}@example.com");
            let id = self
                .app
                .create_agent(self.ids.group_a, "Fresh Agent", &email, "fresh password 1")
                .await;
            text = text.replace("{fresh_agent}", &id.to_string());
        }
        if text.contains("{fresh_admin}") {
            let email = format!("fresh.admin.{n}@example.com");
            let made = self
                .app
                .post_form(
                    "/admin/admins/new",
                    "/admin/admins",
                    &[
                        ("name", "Fresh Admin"),
                        ("email", &email),
                        ("password", "fresh password 1"),
                    ],
                )
                .await;
            let id = crate::common::id_from_location(&made, "/admin/admins/");
            text = text.replace("{fresh_admin}", &id.to_string());
        }
        text
    }

    /// Sends a row's request as a browser would; `csrf` None leaves the token out.
    async fn send(&self, client: &Client, row: &Row, csrf: Option<&str>, n: usize) -> Response {
        let url = self.app.url(&self.fill(row.path, n).await);
        let request = client.request(row.method.clone(), url);
        let request = match row.body {
            Body::None if row.method == Method::GET => request,
            Body::None => match csrf {
                Some(token) => request.header("x-csrf-token", token),
                None => request,
            },
            Body::Form(fields) => {
                let mut form: Vec<(String, String)> = csrf
                    .map(|t| ("csrf".to_owned(), t.to_owned()))
                    .into_iter()
                    .collect();
                for (key, value) in fields {
                    form.push(((*key).to_owned(), self.fill(value, n).await));
                }
                request.form(&form)
            }
            Body::Upload => {
                let csv = format!(
                    "Name,Email,Password\nUploaded {n},uploaded.{n}@example.com,uploaded password {n}\n"
                );
                let mut form = reqwest::multipart::Form::new();
                if let Some(token) = csrf {
                    form = form.text("csrf", token.to_owned());
                }
                let file = reqwest::multipart::Part::bytes(csv.into_bytes())
                    .file_name(format!("up-{n}.csv"));
                request.multipart(form.part("file", file))
            }
            Body::Json(json) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(json),
        };
        request.send().await.expect("the server answers")
    }

    /// A session of its own for `role`, made directly in storage: for requests that end it.
    async fn fresh_session(&self, role: Role, kind_for_admins: SessionKind) -> (Client, String) {
        let token = random_token();
        let csrf = random_token();
        let principal = match role {
            Role::Anonymous => None,
            Role::Agent => Some((SessionKind::Agent, self.ids.agent_self)),
            Role::AdminA => Some((kind_for_admins, self.ids.admin_a)),
            Role::AdminB => Some((kind_for_admins, self.ids.admin_b)),
            Role::Master => Some((kind_for_admins, self.ids.master)),
        };
        let mut headers = header::HeaderMap::new();
        match principal {
            Some((kind, id)) => {
                self.app
                    .storage
                    .create_session(&token_hash(&token), kind, id, &csrf, now())
                    .await
                    .unwrap();
                if kind == SessionKind::Api {
                    headers.insert(
                        header::AUTHORIZATION,
                        format!("Bearer {token}").parse().unwrap(),
                    );
                } else {
                    headers.insert(
                        header::COOKIE,
                        format!("roster_session={token}").parse().unwrap(),
                    );
                }
            }
            None => {
                headers.insert(
                    header::COOKIE,
                    format!("roster_csrf={csrf}").parse().unwrap(),
                );
            }
        }
        let client = Client::builder()
            .redirect(Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        (client, csrf)
    }
}

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
        for row in routes().iter().filter(|r| r.path.starts_with("/api/") && !matches!(r.body, Body::Json(_))) {
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

// ---------------------------------------------------------------------------------------------
// CSRF.

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
                    storage.agents_in_group(group_a, 10_000, 0).await.unwrap().len(),
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

// ---------------------------------------------------------------------------------------------
// Sessions.

/// The value of the session cookie a response sets.
fn session_cookie(response: &Response) -> Option<String> {
    set_cookies(response)
        .iter()
        .find_map(|c| c.strip_prefix("roster_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// A client that sends exactly this session cookie and keeps none.
fn with_session(token: &str) -> Client {
    let mut headers = header::HeaderMap::new();
    headers.insert(
        header::COOKIE,
        format!("roster_session={token}").parse().unwrap(),
    );
    Client::builder()
        .redirect(Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

on_both_backends! {
    async fn a_sign_in_always_starts_a_new_session(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        app.create_agent(group, "Ann Lee", "ann@example.com", "agent password 1").await;

        // A session id planted in the browser before sign-in is never promoted.
        let planted = random_token();
        let jar = Arc::new(reqwest::cookie::Jar::default());
        jar.add_cookie_str(&format!("roster_session={planted}; Path=/"), &app.base.parse().unwrap());
        let client = Client::builder().cookie_provider(jar).redirect(Policy::none()).build().unwrap();
        let admin = app.login_with(&client, MASTER_EMAIL, MASTER_PASSWORD).await;
        assert_eq!(location(&admin), "/admin");
        let first = session_cookie(&admin).expect("a session cookie at sign-in");
        assert_ne!(first, planted);
        assert_eq!(location(&app.get_with(&with_session(&planted), "/admin").await), "/login");
        assert_eq!(app.get_with(&with_session(&first), "/admin").await.status(), StatusCode::OK);

        // Signing in again from the same browser, as an agent this time, through the agent
        // sign-in page as it is served: a new id again, and the first session is over.
        let agent = app
            .post_form_with(&client, "/agent/login", "/agent/login", &[("email", "ann@example.com"), ("password", "agent password 1")])
            .await;
        assert_eq!(location(&agent), "/agent", "{}", agent.text().await.unwrap_or_default());
        let second = session_cookie(&agent).expect("a new session cookie");
        assert_ne!(second, first);
        assert!(app.storage.session(&token_hash(&first)).await.unwrap().is_none(), "the first session is deleted");
        assert_eq!(location(&app.get_with(&with_session(&first), "/admin").await), "/login");
        assert_eq!(app.get_with(&with_session(&second), "/agent").await.status(), StatusCode::OK);
        app.stop().await;
    }
}

/// Signs in through the form and answers the session token, without keeping any cookie.
async fn sign_in_token(app: &TestApp) -> String {
    let response = app
        .login_with(&browser(), MASTER_EMAIL, MASTER_PASSWORD)
        .await;
    session_cookie(&response).expect("a session cookie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_and_when_too_old() {
    // The session layer compares whole seconds: an idle limit of 2 s is passed after 3 s.
    let (idle, old) = tokio::join!(
        TestApp::spawn_with(Backend::Sqlite, |config| {
            config.session_idle = Duration::from_secs(2);
            config.session_max = Duration::from_secs(3600);
        }),
        TestApp::spawn_with(Backend::Sqlite, |config| {
            config.session_idle = Duration::from_secs(3600);
            config.session_max = Duration::from_secs(3);
        }),
    );
    let (idle, old) = (idle.unwrap(), old.unwrap());
    tokio::join!(idle.setup_master(), old.setup_master());
    let (idle_token, old_token) = tokio::join!(sign_in_token(&idle), sign_in_token(&old));
    // Cookies are sent by hand, so the browser's own expiry (Max-Age) plays no part.
    let (idle_client, old_client) = (with_session(&idle_token), with_session(&old_token));
    assert_eq!(
        idle.get_with(&idle_client, "/admin").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        old.get_with(&old_client, "/admin").await.status(),
        StatusCode::OK
    );

    let idle_check = async {
        tokio::time::sleep(Duration::from_millis(3_200)).await;
        idle.get_with(&idle_client, "/admin").await
    };
    let old_check = async {
        // In use all along, and still ended at its absolute limit.
        let mut in_use = Vec::new();
        for _ in 0..2 {
            tokio::time::sleep(Duration::from_millis(1_200)).await;
            in_use.push(old.get_with(&old_client, "/admin").await.status());
        }
        tokio::time::sleep(Duration::from_millis(2_200)).await;
        (in_use, old.get_with(&old_client, "/admin").await)
    };
    let (idle_after, (in_use, old_after)) = tokio::join!(idle_check, old_check);
    assert_eq!(
        location(&idle_after),
        "/login",
        "idle for 3 s with a 2 s limit"
    );
    assert_eq!(in_use, [StatusCode::OK; 2], "used within its 3 s");
    assert_eq!(location(&old_after), "/login", "4.6 s old with a 3 s limit");
    for (app, token) in [(&idle, &idle_token), (&old, &old_token)] {
        assert!(
            app.storage
                .session(&token_hash(token))
                .await
                .unwrap()
                .is_none(),
            "an expired session is deleted"
        );
    }
    idle.stop().await;
    old.stop().await;
}

/// Attributes of a Set-Cookie header, lowercased, without the name=value pair.
fn cookie_flags(cookie: &str) -> Vec<String> {
    cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_http_only_same_site_and_secure_when_configured() {
    for secure in [false, true] {
        let app = TestApp::spawn_with(Backend::Sqlite, |config| config.secure_cookies = secure)
            .await
            .unwrap();
        // Cookies go by hand: a client keeps Secure cookies away from http://.
        let plain = Client::builder().redirect(Policy::none()).build().unwrap();
        let setup = app.setup_url.clone().unwrap();
        let form = plain.get(&setup).send().await.unwrap();
        let mut cookies = set_cookies(&form);
        let csrf_cookie = cookies[0].split(';').next().unwrap().to_owned();
        let csrf = crate::common::extract_csrf(&form.text().await.unwrap()).unwrap();
        let made = plain
            .post(&setup)
            .header(header::COOKIE, &csrf_cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("name", "Maria Master"),
                ("email", MASTER_EMAIL),
                ("password", MASTER_PASSWORD),
                ("confirm", MASTER_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), StatusCode::SEE_OTHER);
        cookies.extend(set_cookies(&made));
        let session = session_cookie(&made).unwrap();
        let page = plain
            .get(app.url("/admin"))
            .header(header::COOKIE, format!("roster_session={session}"))
            .send()
            .await
            .unwrap();
        let token = crate::common::extract_csrf(&page.text().await.unwrap()).unwrap();
        let out = plain
            .post(app.url("/logout"))
            .header(header::COOKIE, format!("roster_session={session}"))
            .form(&[("csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&out), "/login");
        cookies.extend(set_cookies(&out));
        let names: Vec<&str> = cookies
            .iter()
            .map(|c| c.split('=').next().unwrap())
            .collect();
        assert_eq!(
            names,
            ["roster_csrf", "roster_session", "roster_session"],
            "{cookies:?}"
        );
        assert!(
            cookies[2].contains("Max-Age=0"),
            "sign-out deletes the cookie: {}",
            cookies[2]
        );
        for cookie in &cookies {
            let flags = cookie_flags(cookie);
            for wanted in ["httponly", "samesite=lax", "path=/"] {
                assert!(flags.iter().any(|f| f == wanted), "{wanted} in {cookie}");
            }
            assert_eq!(
                flags.iter().any(|f| f == "secure"),
                secure,
                "Secure iff configured: {cookie}"
            );
        }
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_slows_one_account_and_then_lets_it_in_again() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.setup_master().await;
    let group = app.create_group(None, "Support").await;
    app.admin_of(ALPHA_ADMIN, &[group]).await;
    let client = browser();
    for attempt in 1..=5 {
        let wrong = app
            .login_with(&client, MASTER_EMAIL, "not the password")
            .await;
        assert_eq!(
            wrong.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let throttled = app.login_with(&client, MASTER_EMAIL, MASTER_PASSWORD).await;
    assert_eq!(
        throttled.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry_after: u64 = throttled.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=12).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    let page = throttled.text().await.unwrap();
    assert!(
        page.contains(&format!("Wait {retry_after} seconds")),
        "{page}"
    );

    // The API's token endpoint counts the same attempts, and says so in JSON.
    let api = Client::new()
        .post(app.url("/api/v1/tokens"))
        .json(&serde_json::json!({ "email": MASTER_EMAIL, "password": MASTER_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(api.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(
        api.json::<serde_json::Value>().await.unwrap()["error"]["status"],
        429
    );

    // Another account is not slowed down.
    let other = app
        .login_with(&browser(), ALPHA_ADMIN, ADMIN_PASSWORD)
        .await;
    assert_eq!(location(&other), "/admin");

    // After the wait, the right password works again.
    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(500)).await;
    let again = app.login_with(&client, MASTER_EMAIL, MASTER_PASSWORD).await;
    assert_eq!(location(&again), "/admin", "the allowance refilled");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Headers and downloads.

fn assert_security_headers(what: &str, response: &Response) {
    let headers = response.headers();
    let csp = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"))
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{what}: {csp}"
    );
    assert_eq!(
        headers
            .get(header::X_CONTENT_TYPE_OPTIONS)
            .map(|v| v.to_str().unwrap()),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        headers
            .get(header::X_FRAME_OPTIONS)
            .map(|v| v.to_str().unwrap()),
        Some("DENY"),
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_errors_and_downloads_carry_the_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.setup_master().await;
    let group = app.create_group(None, "Support").await;
    let upload = app
        .upload(
            &app.client,
            group,
            "a.csv",
            b"Name,Email,Password\nAnn,ann@example.com,password-1\n".to_vec(),
        )
        .await;
    assert_eq!(upload.status(), StatusCode::SEE_OTHER);
    let job = app.latest_job(&app.client, group).await;
    app.wait_for_import(&app.client, job).await;
    let anonymous = browser();
    let checks: Vec<(&str, Response, StatusCode)> = vec![
        ("a page", app.get("/admin").await, StatusCode::OK),
        (
            "the sign-in page",
            app.get_with(&anonymous, "/login").await,
            StatusCode::OK,
        ),
        (
            "a redirect",
            app.get_with(&anonymous, "/admin").await,
            StatusCode::SEE_OTHER,
        ),
        (
            "a 404 page",
            app.get("/admin/groups/999999").await,
            StatusCode::NOT_FOUND,
        ),
        (
            "a refused form",
            app.client
                .post(app.url("/admin/groups"))
                .form(&[("name", "x")])
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        ),
        (
            "a refused upload",
            app.upload(&app.client, group, "x.xlsx", b"junk\x00".to_vec())
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "an API error",
            app.get_with(&anonymous, "/api/v1/imports/1").await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "API JSON",
            app.get(&format!("/api/v1/imports/{job}")).await,
            StatusCode::OK,
        ),
        (
            "the result download",
            app.get(&format!("/admin/imports/{job}/result")).await,
            StatusCode::OK,
        ),
        (
            "the template",
            app.get("/admin/import-template.xlsx").await,
            StatusCode::OK,
        ),
        (
            "the CSV template",
            app.get("/admin/import-template.csv").await,
            StatusCode::OK,
        ),
        (
            "the stylesheet",
            app.get("/static/app.css").await,
            StatusCode::OK,
        ),
    ];
    for (what, response, status) in &checks {
        assert_eq!(response.status(), *status, "{what}");
        assert_security_headers(what, response);
    }
    app.stop().await;
}

/// The value must not let a name break out of its quotes, add a header, or name a path.
fn assert_safe_disposition(value: &str) {
    assert!(!value.contains(['\r', '\n']), "{value:?}");
    let rest = value
        .strip_prefix("attachment; filename=\"")
        .unwrap_or_else(|| panic!("{value:?}"));
    let (plain, rest) = rest.split_once('"').unwrap();
    assert!(
        plain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        "{plain:?}"
    );
    assert!(
        plain.ends_with(".result.xlsx") && !plain.starts_with('.'),
        "{plain:?}"
    );
    let encoded = rest
        .strip_prefix("; filename*=UTF-8''")
        .unwrap_or_else(|| panic!("{value:?}"));
    assert!(
        encoded
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-%".contains(c)),
        "{encoded:?}"
    );
    assert!(
        !encoded.contains("%2F") && !encoded.contains("%5C"),
        "no path in {encoded:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_file_name_gives_a_safe_download() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.setup_master().await;
    let group = app.create_group(None, "Support").await;
    let evil = "../../evil\"name\r\n.xlsx";
    let csv = b"Name,Email,Password\nAnn,ann@example.com,password-1\n".to_vec();

    let post = |name: &'static str| {
        let app = &app;
        let csv = csv.clone();
        async move {
            let csrf = app
                .csrf_from(&app.client, &format!("/admin/groups/{group}/import"))
                .await;
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .part("file", reqwest::multipart::Part::bytes(csv).file_name(name));
            app.client
                .post(app.url(&format!("/admin/groups/{group}/import")))
                .multipart(form)
                .send()
                .await
                .unwrap()
        }
    };
    // A raw line break cannot be sent in a multipart header: refused as malformed, nothing kept.
    let raw = post(evil).await;
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    assert!(raw.text().await.unwrap().contains("malformed"));
    assert!(
        app.storage
            .group_imports(group, 10)
            .await
            .unwrap()
            .is_empty(),
        "no job"
    );
    // The path and the quote arrive (reqwest escapes the quote; a browser would send %22).
    let web = post("../../evil\"name.xlsx").await;
    assert_eq!(
        web.status(),
        StatusCode::SEE_OTHER,
        "{}",
        web.text().await.unwrap_or_default()
    );
    let web_job = app.latest_job(&app.client, group).await;

    // Stored as is: the command line takes the name from the path, and a Unix file name may
    // hold quotes and line breaks.
    let raw_job = app
        .storage
        .enqueue_import(group, "Maria Master", evil, &csv)
        .await
        .unwrap();
    for job in [web_job, raw_job] {
        assert_eq!(
            app.wait_for_import(&app.client, job).await["state"],
            "finished"
        );
        let download = app.get(&format!("/admin/imports/{job}/result")).await;
        assert_eq!(download.status(), StatusCode::OK);
        let dispositions: Vec<&str> = download
            .headers()
            .get_all(header::CONTENT_DISPOSITION)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(dispositions.len(), 1, "{dispositions:?}");
        assert_safe_disposition(dispositions[0]);
        assert_security_headers("the download", &download);
    }
    // The web upload's name lost its path; the history shows both names escaped.
    let status = app.wait_for_import(&app.client, web_job).await;
    assert!(
        !status["file_name"].as_str().unwrap().contains('/'),
        "{status}"
    );
    let page = app
        .get(&format!("/admin/groups/{group}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("evil&#34;name") && !page.contains("evil\"name"),
        "escaped in the page"
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Passwords.

/// Everything this test binary logs, at TRACE for roster and sqlx: the app logs through
/// `tracing`, and the server runs in this process.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Captured(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,roster=trace,sqlx=trace,tower_http=trace",
            ))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        buffer
    })
    .clone()
}

#[derive(Clone)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The ways a password could be written down: as is, trimmed, escaped for XML, HTML or JSON.
fn written_forms(password: &str) -> Vec<String> {
    let xml = password
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;");
    let html = xml.replace("&quot;", "&#34;").replace("&apos;", "&#39;");
    let json = serde_json::to_string(password).unwrap();
    let mut forms = vec![
        password.to_owned(),
        password.trim().to_owned(),
        xml,
        html,
        json[1..json.len() - 1].to_owned(),
    ];
    forms.sort();
    forms.dedup();
    forms
}

fn find_any<'a>(haystack: &[u8], passwords: &'a [String]) -> Option<&'a str> {
    passwords
        .iter()
        .find(|p| {
            written_forms(p)
                .iter()
                .any(|form| haystack.windows(form.len()).any(|w| w == form.as_bytes()))
        })
        .map(String::as_str)
}

/// Every value of every column of every table, as bytes, with where it was found.
async fn database_values(url: &str) -> Vec<(String, Vec<u8>)> {
    let mut values = Vec::new();
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&pool)
                .await
                .unwrap();
        for table in tables {
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
                .bind(&table)
                .fetch_all(&pool)
                .await
                .unwrap();
            for column in columns {
                let sql = format!("SELECT CAST(\"{column}\" AS BLOB) FROM \"{table}\"");
                let found: Vec<Option<Vec<u8>>> =
                    sqlx::query_scalar(&sql).fetch_all(&pool).await.unwrap();
                values.extend(
                    found
                        .into_iter()
                        .flatten()
                        .map(|v| (format!("{table}.{column}"), v)),
                );
            }
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 'public'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for (table, column, kind) in columns {
            let place = format!("{table}.{column}");
            if kind == "bytea" {
                let sql = format!("SELECT \"{column}\" FROM \"{table}\"");
                let found: Vec<Option<Vec<u8>>> =
                    sqlx::query_scalar(&sql).fetch_all(&pool).await.unwrap();
                values.extend(found.into_iter().flatten().map(|v| (place.clone(), v)));
            } else {
                let sql = format!("SELECT \"{column}\"::text FROM \"{table}\"");
                let found: Vec<Option<String>> =
                    sqlx::query_scalar(&sql).fetch_all(&pool).await.unwrap();
                values.extend(
                    found
                        .into_iter()
                        .flatten()
                        .map(|v| (place.clone(), v.into_bytes())),
                );
            }
        }
        pool.close().await;
    }
    values
}

/// The text of every part of a zip (an .xlsx), one after the other.
fn unzipped(bytes: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut all = Vec::new();
    for i in 0..zip.len() {
        zip.by_index(i).unwrap().read_to_end(&mut all).unwrap();
    }
    all
}

/// `$argon2id$v=19$m=19456,t=2,p=1$salt$hash` → ("argon2id", m, t, p).
fn argon2_parameters(hash: &str) -> (String, u32, u32, u32) {
    let parts: Vec<&str> = hash.split('$').collect();
    assert_eq!(parts.len(), 6, "a PHC string: {hash}");
    let param = |key: &str| -> u32 {
        parts[3]
            .split(',')
            .find_map(|p| p.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("{key} in {hash}"))
    };
    (parts[1].to_owned(), param("m"), param("t"), param("p"))
}

fn csv_field(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

on_both_backends! {
    async fn passwords_leave_no_trace_and_are_stored_as_argon2id(backend) {
        let logs = captured_logs();
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        app.create_agent(group, "Existing", "taken@example.com", "existing password 1").await;

        // Passwords as people type them, each unique to this run, on rows that succeed and on
        // rows that fail for another reason.
        let tag: String = random_token().chars().filter(char::is_ascii_alphanumeric).take(10).collect();
        let digits: String = format!("{:012}", rand_digits());
        let passwords: Vec<String> = vec![
            format!("Plain{tag}1"),
            format!("000{digits}"),
            format!("  {tag} with spaces  "),
            format!("<{tag}>&\"quoted\"'"),
            format!("BadEmail{tag}"),
            format!("Duplicate{tag}"),
            format!("Taken{tag}"),
            format!("Sh{}", &tag[..5]),
            format!("Sheet{tag}"),
            format!("9{}", &digits[..8]),
        ];
        let p = |i: usize| csv_field(&passwords[i]);
        let csv = format!(
            "Name,Email,Password\n\
             Plain One,plain.{tag}@example.com,{}\n\
             Digits,digits.{tag}@example.com,{}\n\
             Spaced,spaced.{tag}@example.com,{}\n\
             Specials,specials.{tag}@example.com,{}\n\
             Bad Email,not-an-email,{}\n\
             Plain Again,plain.{tag}@example.com,{}\n\
             Taken,taken@example.com,{}\n\
             Short,short.{tag}@example.com,{}\n",
            p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7)
        );
        let sheet = xlsx(&[
            vec![C::S("Name".into()), C::S("Email".into()), C::S("Password".into())],
            vec![C::S("From Excel".into()), C::S(format!("excel.{tag}@example.com")), C::S(passwords[8].clone())],
            vec![C::S("A Number".into()), C::S(format!("number.{tag}@example.com")), C::N(passwords[9].parse().unwrap())],
        ]);
        let mut jobs = Vec::new();
        for (name, bytes) in [("agents.csv", csv.into_bytes()), ("agents.xlsx", sheet)] {
            let response = app.upload(&app.client, group, name, bytes).await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{name}");
            let job = app.latest_job(&app.client, group).await;
            let status = app.wait_for_import(&app.client, job).await;
            assert_eq!(status["state"], "finished", "{status}");
            jobs.push((job, status));
        }
        assert_eq!((jobs[0].1["created"].as_i64(), jobs[0].1["failed"].as_i64()), (Some(4), Some(4)), "{}", jobs[0].1);
        assert_eq!((jobs[1].1["created"].as_i64(), jobs[1].1["failed"].as_i64()), (Some(2), Some(0)), "{}", jobs[1].1);

        // Not in the logs, which did record the imports and their SQL.
        let log = logs.lock().unwrap().clone();
        let text = String::from_utf8_lossy(&log);
        assert!(text.contains("import finished") && text.contains("INSERT INTO agents"), "the capture works");
        assert_eq!(find_any(&log, &passwords), None, "a password in the logs");

        // Not in the result files: the cells read back, nor the raw XML inside.
        for (job, _) in &jobs {
            let download = app.get(&format!("/admin/imports/{job}/result")).await;
            let bytes = download.bytes().await.unwrap();
            let cells = read_result(&bytes);
            assert_eq!(cells[0][2], "Password");
            for row in &cells[1..] {
                assert_eq!(row[2], "********", "{row:?}");
            }
            let all_cells = cells.concat().join("\n");
            assert_eq!(find_any(all_cells.as_bytes(), &passwords), None, "a password in result {job}");
            assert_eq!(find_any(&unzipped(&bytes), &passwords), None, "a password in the XML of result {job}");
        }

        // Not anywhere in the database once the jobs have ended: the uploads are erased.
        let values = database_values(&app.database_url).await;
        let places: std::collections::BTreeSet<&str> = values.iter().map(|(place, _)| place.split('.').next().unwrap()).collect();
        assert!(["admins", "agent_groups", "agents", "import_jobs", "import_rows", "sessions"].iter().all(|t| places.contains(t)), "{places:?}");
        assert!(values.iter().any(|(_, v)| v.as_slice() == format!("plain.{tag}@example.com").as_bytes()), "the dump sees the agents");
        for (place, value) in &values {
            assert_eq!(find_any(value, &passwords), None, "a password in {place}");
        }
        for (job, _) in &jobs {
            let stored = app.storage.import_job(*job).await.unwrap().unwrap();
            assert!(!stored.has_upload, "the upload of job {job} is erased");
        }
        // Nor in SQLite's files, where an erased value lives on in the write-ahead log or a
        // freed page until it is overwritten (the job ends just before this is checked).
        if let Some(path) = app.database_url.strip_prefix("sqlite://").and_then(|p| p.split('?').next()) {
            let files = [path.to_owned(), format!("{path}-wal")];
            let found = || files.iter().find_map(|f| find_any(&std::fs::read(f).unwrap_or_default(), &passwords).map(|p| (f.clone(), p.to_owned())));
            for _ in 0..50 {
                if found().is_none() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(found(), None, "a password in the database files");
            assert!(std::fs::metadata(path).unwrap().len() > 4096, "the data reached the database file");
        }

        // Stored as Argon2id with at least OWASP's parameters, from the password exactly as written.
        let hashes: Vec<&[u8]> = values.iter().filter(|(place, _)| place.ends_with(".password_hash")).map(|(_, v)| v.as_slice()).collect();
        assert_eq!(hashes.len(), 1 + 1 + 6, "the master, the existing agent and six imported agents");
        for hash in hashes {
            let hash = std::str::from_utf8(hash).unwrap();
            let (algorithm, m, t, p) = argon2_parameters(hash);
            assert_eq!(algorithm, "argon2id", "{hash}");
            assert!(m >= 19_456 && t >= 2 && p >= 1, "{hash}");
        }
        let spaced = app.storage.agent_by_email(&roster::domain::Email::parse(&format!("spaced.{tag}@example.com")).unwrap()).await.unwrap().unwrap();
        assert!(roster::domain::verify_password(&spaced.password_hash, &passwords[2]), "the exact password");
        assert!(!roster::domain::verify_password(&spaced.password_hash, passwords[2].trim()), "never trimmed");
        app.stop().await;
    }
}

fn rand_digits() -> u64 {
    u64::from_le_bytes(random_token().as_bytes()[..8].try_into().unwrap()) % 1_000_000_000_000
}
