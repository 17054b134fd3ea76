//! The world the matrix and the CSRF checks run in: two groups with their administrators and
//! agents, a master, a signed-in agent, a finished import, and how a row's request is sent.

use reqwest::{Client, Method, Response, StatusCode, header, redirect::Policy};
use roster::http::session::{random_token, token_hash};
use roster::storage::SessionKind;

use super::routes::{Body, Role, Row};
use crate::common::{Backend, MASTER_EMAIL, TestApp, browser, location};

/// Group A's objects, and the others the matrix needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ids {
    pub(super) group_a: i64,
    pub(super) group_b: i64,
    pub(super) agent_a: i64,
    pub(super) agent_self: i64,
    pub(super) job_a: i64,
    /// A bulk action's job in group A (enabling its agents, done at once).
    pub(super) bulk_a: i64,
    pub(super) admin_a: i64,
    pub(super) admin_b: i64,
    pub(super) master: i64,
}

pub(super) struct Actor {
    pub(super) role: Role,
    pub(super) client: Client,
    pub(super) csrf: String,
}

pub(super) struct World {
    pub(super) app: TestApp,
    pub(super) ids: Ids,
    pub(super) actors: Vec<Actor>,
}

pub(super) const ALPHA_ADMIN: &str = "alpha-admin@example.com";
pub(super) const BRAVO_ADMIN: &str = "bravo-admin@example.com";
pub(super) const ADMIN_PASSWORD: &str = "admin password 1";

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
pub(super) async fn world(backend: Backend) -> Option<World> {
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

    let properties = format!("/admin/groups/{group_a}");
    let enabled = app
        .post_form(
            &properties,
            &format!("{properties}/agents/bulk"),
            &[("action", "enable"), ("all", "1"), ("confirmed", "1")],
        )
        .await;
    let bulk_a = location(&enabled)
        .rsplit("bulk=")
        .next()
        .and_then(|id| id.parse().ok())
        .expect("the bulk job's id");

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
        bulk_a,
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
            .replace("{bulk_a}", &self.ids.bulk_a.to_string())
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
    pub(super) async fn send(
        &self,
        client: &Client,
        row: &Row,
        csrf: Option<&str>,
        n: usize,
    ) -> Response {
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
                .body(self.fill(json, n).await),
        };
        request.send().await.expect("the server answers")
    }

    /// A session of its own for `role`, made directly in storage: for requests that end it.
    pub(super) async fn fresh_session(
        &self,
        role: Role,
        kind_for_admins: SessionKind,
    ) -> (Client, String) {
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
                    .create_session(&token_hash(&token), kind, id, &csrf, self.app.clock.now())
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
