//! Clients that send a request a byte at a time are answered 408 and let go, within the
//! configured times, however many of them there are; a prompt client is served as before.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::common::{ANSWER_LIMIT, Backend, TestApp};

async fn app() -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |config| {
        config.header_timeout = Duration::from_secs(1);
        config.body_timeout = Duration::from_secs(1);
    })
    .await
    .expect("SQLite always runs")
}

/// Sends `start` and nothing more, then reads what the server answers until it closes.
async fn stall(app: &TestApp, start: &str) -> String {
    let address = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(start.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(ANSWER_LIMIT, stream.read_to_end(&mut answer))
        .await
        .expect("the server lets a stalled client go")
        .expect("read until the server closes");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_that_stops_halfway_is_answered_408() {
    let app = app().await;
    let answer = stall(
        &app,
        "GET /login HTTP/1.1\r\nHost: roster\r\nAccept: text/ht",
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{answer}"
    );
    assert!(answer.contains("did not arrive in time"), "{answer}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_halfway_is_answered_408() {
    let app = app().await;
    let start = "POST /api/v1/tokens HTTP/1.1\r\nHost: roster\r\nContent-Type: application/json\r\n\
                 Content-Length: 200\r\n\r\n{\"email\": \"a";
    let answer = stall(&app, start).await;
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{answer}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_slow_clients_are_all_let_go_and_others_are_served() {
    let app = app().await;
    let stalled: Vec<_> = (0..100)
        .map(|i| {
            let start = if i % 2 == 0 {
                "GET /login HTTP/1.1\r\nHost: ro".to_owned()
            } else {
                "POST /api/v1/tokens HTTP/1.1\r\nHost: roster\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"
                    .to_owned()
            };
            let app = &app;
            async move { stall(app, &start).await }
        })
        .collect();
    // Meanwhile a prompt client is served at once.
    let prompt = app.get("/login").await;
    assert_eq!(prompt.status(), StatusCode::OK);
    let answers = futures_util::future::join_all(stalled).await;
    for answer in &answers {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    assert_eq!(
        app.get("/login").await.status(),
        StatusCode::OK,
        "still serving"
    );
    app.stop().await;
}
