//! The table of every route with what each kind of visitor must get from it.

use reqwest::Method;

use super::world::ALPHA_ADMIN;

/// Who is asking, in the order of each row's expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Anonymous,
    Agent,
    AdminA,
    AdminB,
    Master,
}

pub(super) const ROLES: [Role; 5] = [
    Role::Anonymous,
    Role::Agent,
    Role::AdminA,
    Role::AdminB,
    Role::Master,
];

/// What a request must answer.
#[derive(Debug, Clone, Copy)]
pub(super) enum E {
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
/// An agent's page, without an agent's session, sends to the agents' sign-in.
const AGENT_LOGIN: E = E::To("/agent/login");
const DONE: E = E::Done;

#[derive(Debug, Clone, Copy)]
pub(super) enum Body {
    None,
    /// An urlencoded form, with the CSRF token added.
    Form(&'static [(&'static str, &'static str)]),
    /// `multipart/form-data` with the CSRF token and a small valid CSV.
    Upload,
    /// JSON, as API clients send it.
    Json(&'static str),
}

pub(super) struct Row {
    pub(super) method: Method,
    /// `{group_a}`, `{agent_a}`, `{job_a}`, `{admin_a}`: group A's objects; `{fresh_group}`,
    /// `{fresh_agent}`, `{fresh_admin}`: made for this one request; `{n}`: a number unique to it.
    pub(super) path: &'static str,
    pub(super) body: Body,
    /// Anonymous, agent, administrator of group A, administrator of group B, master.
    pub(super) expect: [E; 5],
    /// The request ends the session it is made with: each gets a session of its own.
    pub(super) ends_session: bool,
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
const ADMIN_A: Body = Body::Form(&[
    ("name", "Alpha Admin"),
    ("email", ALPHA_ADMIN),
    ("group_id", "{group_a}"),
]);
const SETUP: Body = Body::Form(&[
    ("name", "M"),
    ("email", "m.{n}@example.com"),
    ("password", "a password {n}"),
    ("confirm", "a password {n}"),
]);
const EMPTY: Body = Body::Form(&[]);
/// A bulk action asked for (the confirmation page), and confirmed.
const BULK_ASK: Body = Body::Form(&[("action", "enable"), ("all", "1")]);
const BULK_DO: Body = Body::Form(&[("action", "enable"), ("all", "1"), ("confirmed", "1")]);

const WRONG_ADMIN: Body = Body::Form(&[("email", "nobody.1@example.com"), ("password", "wrong")]);
const WRONG_AGENT: Body = Body::Form(&[("email", "nobody.2@example.com"), ("password", "wrong")]);
/// An agent changing their password with a wrong current one: refused beside the field, nothing changed.
const WRONG_CURRENT: Body = Body::Form(&[
    ("current", "not the password"),
    ("new", "another password 9"),
    ("again", "another password 9"),
]);
const WRONG_TOKEN: Body = Body::Json(r#"{"email":"nobody.3@example.com","password":"wrong"}"#);
/// The API's changes, in JSON; `{n}` keeps each request's names and emails its own.
const API_NEW_GROUP: Body = Body::Json(r#"{"name":"Api Group {n}","parent_id":{group_a}}"#);
const API_BULK: Body = Body::Json(r#"{"action":"enable","all":true}"#);
const API_GROUP_A: Body = Body::Json(r#"{"description":"Api {n}"}"#);
const API_NEW_AGENT: Body = Body::Json(
    r#"{"name":"Api Agent {n}","email":"api.{n}@example.com","password":"api password {n}"}"#,
);
const API_AGENT_A: Body = Body::Json(r#"{"nickname":"Api {n}"}"#);
const CREATED: E = E::Code(201);
const CONFLICT: E = E::Code(409);
const TO_ADMIN: E = E::To("/admin");
const ACCEPTED: E = E::Code(202);
const GONE: E = E::Code(204);
const UNPROCESSABLE: E = E::Code(422);
const WRONG: E = E::Code(401);

/// Every route of src/http/mod.rs and src/http/api/mod.rs. A new route is one line here; the
/// answers are for: anonymous, agent, administrator of A, administrator of B, master.
#[rustfmt::skip]
pub(super) fn routes() -> Vec<Row> {
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
        row(M::GET, "/agent", Nothing, [AGENT_LOGIN, OK, AGENT_LOGIN, AGENT_LOGIN, AGENT_LOGIN]),
        row(M::GET, "/agent/password", Nothing, [AGENT_LOGIN, OK, AGENT_LOGIN, AGENT_LOGIN, AGENT_LOGIN]),
        row(M::POST, "/agent/password", WRONG_CURRENT, [AGENT_LOGIN, E::Code(422), AGENT_LOGIN, AGENT_LOGIN, AGENT_LOGIN]),
        row(M::GET, "/admin", Nothing, [LOGIN, LOGIN, OK, OK, OK]),
        row(M::GET, "/admin/tree/groups/{group_a}/agents", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::GET, "/admin/tree/search?q=a", Nothing, [LOGIN, LOGIN, OK, OK, OK]),
        row(M::POST, "/admin/groups", NEW_GROUP, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::GET, "/admin/groups/{group_a}", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/groups/{group_a}", GROUP_A, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::GET, "/admin/groups/{group_a}/delete", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::GET, "/admin/groups/{group_a}/export.csv", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::GET, "/admin/groups/{group_a}/export.xlsx?subgroups=1", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/groups/{fresh_group}/delete", EMPTY, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::POST, "/admin/groups/{group_a}/agents", NEW_AGENT, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::GET, "/admin/groups/{group_a}/agents/new", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/groups/{group_a}/agents/bulk", BULK_ASK, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/groups/{group_a}/agents/bulk", BULK_DO, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::GET, "/admin/agents/{agent_a}", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/agents/{agent_a}", AGENT_A, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::POST, "/admin/agents/{agent_a}/password", NEW_PASSWORD, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::GET, "/admin/agents/{agent_a}/delete", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/agents/{fresh_agent}/delete", EMPTY, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::POST, "/admin/admins", NEW_ADMIN, [LOGIN, LOGIN, NF, NF, DONE]),
        row(M::GET, "/admin/admins/new", Nothing, [LOGIN, LOGIN, NF, NF, OK]),
        row(M::GET, "/admin/admins/{admin_a}", Nothing, [LOGIN, LOGIN, NF, NF, OK]),
        row(M::POST, "/admin/admins/{admin_a}", ADMIN_A, [LOGIN, LOGIN, NF, NF, DONE]),
        row(M::GET, "/admin/admins/{admin_a}/delete", Nothing, [LOGIN, LOGIN, NF, NF, OK]),
        row(M::POST, "/admin/admins/{fresh_admin}/delete", EMPTY, [LOGIN, LOGIN, NF, NF, DONE]),
        row(M::POST, "/admin/admins/{fresh_admin}/password", NEW_PASSWORD, [LOGIN, LOGIN, NF, NF, DONE]),
        row(M::GET, "/admin/password", Nothing, [LOGIN, LOGIN, OK, OK, OK]),
        row(M::GET, "/admin/audit", Nothing, [LOGIN, LOGIN, OK, OK, OK]),
        row(M::GET, "/admin/audit?group={group_a}", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::GET, "/api/v1/audit", Nothing, [API_NO, API_NO, OK, OK, OK]),
        row(M::GET, "/api/v1/audit?group={group_a}", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::POST, "/admin/password", WRONG_CURRENT, [LOGIN, LOGIN, E::Code(422), E::Code(422), E::Code(422)]),
        row(M::GET, "/admin/groups/{group_a}/import", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/admin/groups/{group_a}/import", Upload, [LOGIN, LOGIN, DONE, NF, DONE]),
        row(M::GET, "/admin/import-template.xlsx", Nothing, [LOGIN, LOGIN, OK, OK, OK]),
        row(M::GET, "/admin/import-template.csv", Nothing, [LOGIN, LOGIN, OK, OK, OK]),
        row(M::GET, "/admin/imports/{job_a}/result", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::GET, "/admin/imports/{job_a}/undo", Nothing, [LOGIN, LOGIN, OK, NF, OK]),
        row(M::POST, "/api/v1/tokens", WRONG_TOKEN, all(API_NO)),
        row(M::GET, "/api/v1/groups", Nothing, [API_NO, API_NO, OK, OK, OK]),
        row(M::GET, "/api/v1/groups/{group_a}/imports", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::POST, "/api/v1/groups/{group_a}/imports", Upload, [API_NO, API_NO, ACCEPTED, NF, ACCEPTED]),
        row(M::GET, "/api/v1/imports/{job_a}", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::GET, "/api/v1/imports/{job_a}/result", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::GET, "/api/v1/no/such/thing", Nothing, all(NF)),
        row(M::GET, "/api/v1/openapi.json", Nothing, all(OK)),
        row(M::POST, "/api/v1/groups", API_NEW_GROUP, [API_NO, API_NO, CREATED, NF, CREATED]),
        row(M::GET, "/api/v1/groups/{group_a}", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::PATCH, "/api/v1/groups/{group_a}", API_GROUP_A, [API_NO, API_NO, OK, NF, OK]),
        row(M::DELETE, "/api/v1/groups/{group_a}", Nothing, [API_NO, API_NO, CONFLICT, NF, CONFLICT]),
        row(M::DELETE, "/api/v1/groups/{fresh_group}", Nothing, [API_NO, API_NO, GONE, NF, GONE]),
        row(M::GET, "/api/v1/groups/{group_a}/agents?limit=1", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::POST, "/api/v1/groups/{group_a}/agents", API_NEW_AGENT, [API_NO, API_NO, CREATED, NF, CREATED]),
        row(M::GET, "/api/v1/agents/{agent_a}", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::PATCH, "/api/v1/agents/{agent_a}", API_AGENT_A, [API_NO, API_NO, OK, NF, OK]),
        row(M::DELETE, "/api/v1/agents/{fresh_agent}", Nothing, [API_NO, API_NO, GONE, NF, GONE]),
        row(M::POST, "/api/v1/groups/{group_a}/agents/bulk", API_BULK, [API_NO, API_NO, ACCEPTED, NF, ACCEPTED]),
        row(M::GET, "/api/v1/bulk-jobs/{bulk_a}", Nothing, [API_NO, API_NO, OK, NF, OK]),
        row(M::DELETE, "/api/v1/groups/{group_a}?confirm_name=wrong", Nothing, [API_NO, API_NO, UNPROCESSABLE, NF, UNPROCESSABLE]),
        ending(M::POST, "/logout", EMPTY, all(LOGIN)),
        ending(M::POST, "/agent/logout", EMPTY, all(E::To("/agent/login"))),
        ending(M::DELETE, "/api/v1/tokens/current", Nothing, [API_NO, API_NO, GONE, GONE, GONE]),
    ]
}

/// A state-changing request a browser session makes: it must carry the session's CSRF token.
pub(super) fn changes_state(row: &Row) -> bool {
    row.method != Method::GET && !matches!(row.body, Body::Json(_))
}
