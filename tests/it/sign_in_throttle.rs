//! The sign-in throttle through HTTP, on both backends: keyed on the email as the lookup reads
//! it, failures alone counted, the owner never kept out by a guesser at another address.

use std::net::IpAddr;

use reqwest::{
    Client, StatusCode,
    header::{HeaderMap, HeaderValue},
    redirect::Policy,
};

use crate::common::{ANSWER_LIMIT, Backend, MASTER_EMAIL, MASTER_PASSWORD, TestApp};

/// A browser whose requests reach Roster through the trusted proxy at 127.0.0.1 (the tests'
/// own address) on behalf of `client`.
fn browser_at(client: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_str(client).unwrap());
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(ANSWER_LIMIT)
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn behind_a_proxy(backend: Backend) -> Option<TestApp> {
    let loopback: IpAddr = [127, 0, 0, 1].into();
    TestApp::spawn_with(backend, |config| config.trusted_proxies = vec![loopback]).await
}

/// One sign-in attempt from a fresh browser (one signed in already is sent past the form)
/// at `client` behind the proxy, or at the tests' own address.
async fn status(app: &TestApp, client: Option<&str>, email: &str, password: &str) -> StatusCode {
    app.login_with(&fresh(client), email, password)
        .await
        .status()
}

fn fresh(client: Option<&str>) -> Client {
    client.map_or_else(crate::common::browser, browser_at)
}

on_both_backends! {
    async fn padding_or_case_gives_no_fresh_tries(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        for typed in [" master@example.com", "\tmaster@example.com", "MASTER@example.com ", "   master@example.com", "master@EXAMPLE.com"] {
            assert_eq!(status(&app, None, typed, "guess").await, StatusCode::UNAUTHORIZED, "{typed:?}");
        }
        assert_eq!(
            status(&app, None, "  master@example.com", MASTER_PASSWORD).await,
            StatusCode::TOO_MANY_REQUESTS,
            "five failures, however the address was typed, spend the allowance"
        );
        assert_eq!(status(&app, None, MASTER_EMAIL, MASTER_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);

        // Input that is not an email shares one key: it cannot be varied for fresh tries.
        for typed in ["nobody", "nobody at all", "@", "x@", "not an email either"] {
            assert_eq!(status(&app, None, typed, "guess").await, StatusCode::UNAUTHORIZED, "{typed:?}");
        }
        assert_eq!(status(&app, None, "another non-email", "guess").await, StatusCode::TOO_MANY_REQUESTS);

        // A minute later the old failures no longer count.
        app.clock.advance(60);
        assert_eq!(status(&app, None, MASTER_EMAIL, MASTER_PASSWORD).await, StatusCode::SEE_OTHER);
        app.stop().await;
    }
}

on_both_backends! {
    async fn only_failures_count(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        for _ in 0..10 {
            assert_eq!(status(&app, None, MASTER_EMAIL, MASTER_PASSWORD).await, StatusCode::SEE_OTHER, "signing in is never throttled");
        }
        for _ in 0..4 {
            assert_eq!(status(&app, None, MASTER_EMAIL, "typo").await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(status(&app, None, MASTER_EMAIL, MASTER_PASSWORD).await, StatusCode::SEE_OTHER);
        // The success forgave the four typos: five more are allowed before the wait.
        for _ in 0..5 {
            assert_eq!(status(&app, None, MASTER_EMAIL, "typo").await, StatusCode::UNAUTHORIZED);
        }
        let refused = app.login_with(&fresh(None), MASTER_EMAIL, MASTER_PASSWORD).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()["retry-after"], "60");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_guesser_elsewhere_cannot_keep_the_owner_out(backend) {
        let Some(app) = behind_a_proxy(backend).await else { return };
        app.setup_master().await;
        let attacker = Some("198.51.100.66");
        let owner = Some("203.0.113.10");
        let mut refused = 0;
        for _ in 0..30 {
            match status(&app, attacker, MASTER_EMAIL, "guess").await {
                StatusCode::UNAUTHORIZED => {}
                StatusCode::TOO_MANY_REQUESTS => refused += 1,
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(refused, 25, "the guesser's own address gets five tries a minute");
        assert_eq!(
            status(&app, owner, MASTER_EMAIL, MASTER_PASSWORD).await,
            StatusCode::SEE_OTHER,
            "the owner, at another address, signs in meanwhile"
        );
        // The owner's own typos count for the owner's address alone.
        assert_eq!(status(&app, owner, MASTER_EMAIL, "typo").await, StatusCode::UNAUTHORIZED);
        assert_eq!(status(&app, owner, MASTER_EMAIL, MASTER_PASSWORD).await, StatusCode::SEE_OTHER);

        // Guessers at four addresses together spend the account's looser allowance.
        for address in ["198.51.100.67", "198.51.100.68", "198.51.100.69"] {
            let guesser = Some(address);
            for _ in 0..5 {
                assert_eq!(status(&app, guesser, MASTER_EMAIL, "guess").await, StatusCode::UNAUTHORIZED);
            }
        }
        assert_eq!(status(&app, owner, MASTER_EMAIL, MASTER_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        app.clock.advance(60);
        assert_eq!(status(&app, owner, MASTER_EMAIL, MASTER_PASSWORD).await, StatusCode::SEE_OTHER);
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_forwarded_address_from_an_untrusted_peer_is_not_believed(backend) {
        // No trusted proxy: every test client is 127.0.0.1, whatever it claims.
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        for i in 0..5 {
            let claimed = format!("198.51.100.{i}");
            assert_eq!(status(&app, Some(&claimed), MASTER_EMAIL, "guess").await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(status(&app, Some("203.0.113.10"), MASTER_EMAIL, MASTER_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        app.stop().await;
    }
}
