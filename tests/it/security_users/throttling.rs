//! Sign-in throttling, on a clock the test moves (more cases: `sign_in_throttle`).

use reqwest::{Client, StatusCode, header};

use super::world::{ADMIN_PASSWORD, ALPHA_ADMIN};
use crate::common::{Backend, MASTER_EMAIL, MASTER_PASSWORD, TestApp, browser, location};

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
    assert_eq!(
        retry_after, 60,
        "five failures, then a wait until the first is a minute old"
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

    // After the wait, and not a second before, the right password works again.
    app.clock.advance(retry_after as i64 - 1);
    let early = app.login_with(&client, MASTER_EMAIL, MASTER_PASSWORD).await;
    assert_eq!(
        early.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a second early"
    );
    app.clock.advance(1);
    let again = app.login_with(&client, MASTER_EMAIL, MASTER_PASSWORD).await;
    assert_eq!(location(&again), "/admin", "the allowance refilled");
    app.stop().await;
}
