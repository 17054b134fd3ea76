//! Sessions: a new one at every sign-in, idle and absolute timeouts on a clock the test moves,
//! cookie flags.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Response, StatusCode, header, redirect::Policy};
use roster::http::session::{random_token, token_hash};

use crate::common::{Backend, MASTER_EMAIL, MASTER_PASSWORD, TestApp, browser, location};

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

/// What `/admin` answers this client: its status and where it redirects.
async fn status(app: &TestApp, client: &Client) -> (StatusCode, String) {
    let response = app.get_with(client, "/admin").await;
    (response.status(), location(&response))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_and_when_too_old() {
    let (idle, old) = tokio::join!(
        TestApp::spawn_with(Backend::Sqlite, |config| {
            config.session_idle = Duration::from_secs(120);
            config.session_max = Duration::from_secs(3600);
        }),
        TestApp::spawn_with(Backend::Sqlite, |config| {
            config.session_idle = Duration::from_secs(3600);
            config.session_max = Duration::from_secs(300);
        }),
    );
    let (idle, old) = (idle.unwrap(), old.unwrap());
    tokio::join!(idle.setup_master(), old.setup_master());
    let (idle_token, old_token) = tokio::join!(sign_in_token(&idle), sign_in_token(&old));
    // Cookies are sent by hand, so the browser's own expiry (Max-Age) plays no part.
    let (idle_client, old_client) = (with_session(&idle_token), with_session(&old_token));
    let fine = (StatusCode::OK, String::new());
    let ended = (StatusCode::SEE_OTHER, "/login".to_owned());

    // Idle: used at its limit it lives on (and is marked as used), one second more ends it.
    idle.clock.advance(120);
    assert_eq!(
        status(&idle, &idle_client).await,
        fine,
        "idle exactly 120 s"
    );
    idle.clock.advance(120);
    assert_eq!(status(&idle, &idle_client).await, fine, "used 120 s ago");
    idle.clock.advance(121);
    assert_eq!(
        status(&idle, &idle_client).await,
        ended,
        "idle 121 s with a 120 s limit"
    );

    // Too old: in use all along, and still ended at its absolute limit.
    for _ in 0..3 {
        old.clock.advance(100);
        assert_eq!(
            status(&old, &old_client).await,
            fine,
            "used within its 300 s"
        );
    }
    old.clock.advance(1);
    assert_eq!(
        status(&old, &old_client).await,
        ended,
        "301 s old with a 300 s limit"
    );

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
