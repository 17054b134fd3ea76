//! Talking to the server under test: a client, and what its answers say.

use std::io::Cursor;
use std::time::Duration;

use reqwest::{Client, StatusCode, redirect::Policy};
use roster::jobs::Step;

use crate::common::TestApp;

/// What one upload may take, answer and (for the harmless files) import included: generous, as
/// a debug build reads a million rows slowly and the machine may be busy; a hang still fails.
pub(super) const TIME_BOUND: Duration = Duration::from_secs(300);

/// No pooled connections: after refusing an oversized body the server closes that connection,
/// and a request racing onto it would fail on the client side, not the server's.
pub(super) fn signed_in_client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(0)
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(TIME_BOUND)
        .build()
        .unwrap()
}

pub(super) async fn still_serving(app: &TestApp, client: &Client, group: i64, after: &str) {
    let health = app.get_with(client, "/healthz").await;
    assert_eq!(health.status(), StatusCode::OK, "healthz after {after}");
    let page = app
        .get_with(client, &format!("/admin/groups/{group}"))
        .await;
    assert_eq!(page.status(), StatusCode::OK, "a real page after {after}");
    assert!(
        page.text().await.unwrap().contains("Hostile"),
        "after {after}"
    );
}

/// Runs the queued job `job` with the app's worker (the app has none of its own, so the test
/// drives it and waits for nothing), then answers the job's status as the API shows it.
pub(super) async fn run_job(app: &TestApp, client: &Client, job: i64) -> serde_json::Value {
    let step = app.worker().step().await.expect("the worker runs a step");
    assert!(
        matches!(step, Step::Ran(_)),
        "import {job} was not run: {step:?}"
    );
    let response = app
        .get_with(client, &format!("/api/v1/imports/{job}"))
        .await;
    let status: serde_json::Value = response.json().await.expect("status JSON");
    assert!(
        status["state"] == "finished" || status["state"] == "failed",
        "import {job} has not ended: {status}"
    );
    status
}

/// The message the import page shows when it refuses a file.
pub(super) fn upload_error(page: &str) -> Option<&str> {
    let start = page.find("id=\"upload-error\">")? + "id=\"upload-error\">".len();
    let end = page[start..].find("</p>")? + start;
    Some(&page[start..end])
}

/// Non-empty cells of a result file's first sheet, streamed: the file may span a million rows.
pub(super) fn result_cells(bytes: &[u8]) -> Vec<(u32, u32, String)> {
    use calamine::{DataRef, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("the result is an xlsx");
    let name = book.sheet_names()[0].clone();
    let mut reader = book.worksheet_cells_reader(&name).expect("first sheet");
    let mut cells = Vec::new();
    while let Some(cell) = reader.next_cell().expect("a readable cell") {
        let value = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::String(s) => s.clone(),
            DataRef::SharedString(s) => (*s).to_owned(),
            other => format!("{other:?}"),
        };
        let (r, c) = cell.get_position();
        cells.push((r, c, value));
    }
    cells
}
