//! Every hostile file uploaded in turn, each measured and checked.

use std::time::Instant;

use reqwest::StatusCode;

use super::files::{Expect, Hostile};
use super::memory::{reset_peak, status_kb};
use super::server::{
    TIME_BOUND, result_cells, run_job, signed_in_client, still_serving, upload_error,
};
use crate::common::{Backend, MASTER_EMAIL, MASTER_PASSWORD, TestApp, location};

const MB: u64 = 1 << 20;
/// What one hostile upload may add to the process's resident memory.
const MEMORY_BOUND: u64 = 256 * MB;

pub(super) async fn run_hostile_files(backend: Backend, files: Vec<Hostile>) {
    let Some(app) = TestApp::spawn_driven(backend).await else {
        return;
    };
    app.setup_master().await;
    let group = app.create_group(None, "Hostile").await;
    let client = signed_in_client();
    assert_eq!(
        app.login_with(&client, MASTER_EMAIL, MASTER_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let resettable = reset_peak();
    let mut report = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    macro_rules! check {
        ($ok:expr, $($message:tt)+) => {
            if !$ok {
                problems.push(format!($($message)+));
            }
        };
    }
    let mut sparse_job = None;
    for file in files {
        let Hostile {
            what,
            file_name,
            bytes,
            expect,
        } = file;
        let size = bytes.len();
        assert!(
            size < 12 << 20,
            "{what}: {size} bytes is more than a hostile upload needs"
        );
        let jobs_before = app.storage.group_imports(group, 1000).await.unwrap().len();
        let agents_before = app
            .storage
            .agents_in_group(group, 1_000_000, None)
            .await
            .unwrap()
            .len();

        reset_peak();
        let baseline = if resettable {
            status_kb("VmRSS:")
        } else {
            status_kb("VmHWM:")
        } * 1024;
        let started = Instant::now();
        let response = app.upload(&client, group, file_name, bytes).await;
        let status = response.status();
        let answered = started.elapsed();
        let accepted = status == StatusCode::SEE_OTHER;
        let redirect = location(&response);
        let page = response.text().await.unwrap();
        let upload_grown = (status_kb("VmHWM:") * 1024).saturating_sub(baseline);
        // An accepted file is imported, and measured again, whether or not it should have been
        // accepted: the job reads the file a second time.
        reset_peak();
        let baseline = if resettable {
            status_kb("VmRSS:")
        } else {
            status_kb("VmHWM:")
        } * 1024;
        let outcome = if accepted {
            let job = app.latest_job(&client, group).await;
            if file_name == "sparse.xlsx" {
                sparse_job = Some(job);
            }
            Some(run_job(&app, &client, job).await)
        } else {
            None
        };
        let job_grown = if accepted {
            (status_kb("VmHWM:") * 1024).saturating_sub(baseline)
        } else {
            0
        };
        let elapsed = started.elapsed();
        let message = upload_error(&page).unwrap_or_default();
        let line = format!(
            "{what:<60} {size:>8} B {:>3} {:>6.2} s  upload +{:>3} MB  job +{:>3} MB  {}",
            status.as_u16(),
            answered.as_secs_f64(),
            upload_grown / MB,
            job_grown / MB,
            message.chars().take(50).collect::<String>()
        );
        eprintln!("{line}");
        report.push(line);
        for (grown, when) in [(upload_grown, "upload"), (job_grown, "import job")] {
            check!(
                grown < MEMORY_BOUND,
                "{what}: the process grew by {} MB during the {when}",
                grown / MB
            );
        }
        check!(elapsed < TIME_BOUND, "{what}: took {elapsed:?}");
        let jobs_after = app.storage.group_imports(group, 1000).await.unwrap().len();
        let agents_after = app
            .storage
            .agents_in_group(group, 1_000_000, None)
            .await
            .unwrap()
            .len();
        match expect {
            Expect::Refused(expected, says) => {
                check!(
                    status == expected,
                    "{what}: answered {status}, not {expected}"
                );
                check!(
                    !message.is_empty() || accepted,
                    "{what}: no file-level message on the page: {page}"
                );
                for words in says {
                    check!(
                        accepted || message.contains(words),
                        "{what}: the message should say {words:?}: {message}"
                    );
                }
                check!(!page.contains("root:x:0:0"), "{what}: file content leaked");
                check!(jobs_after == jobs_before, "{what}: a job was created");
                check!(agents_after == agents_before, "{what}: agents were created");
            }
            Expect::Imports(created) => {
                check!(accepted, "{what}: answered {status}: {message}");
                check!(
                    redirect == format!("/admin/groups/{group}?done=import-queued"),
                    "{what}: redirected to {redirect}"
                );
                let counts = outcome.as_ref().map(|o| {
                    (
                        o["state"].clone(),
                        o["created"].as_i64(),
                        o["failed"].as_i64(),
                    )
                });
                check!(
                    counts == Some(("finished".into(), Some(created), Some(0))),
                    "{what}: {outcome:?}"
                );
                check!(
                    agents_after == agents_before + created as usize,
                    "{what}: {agents_after} agents"
                );
            }
        }
        still_serving(&app, &client, group, what).await;
    }
    assert!(
        problems.is_empty(),
        "on {backend:?}:\n{}\n\n{}",
        problems.join("\n"),
        report.join("\n")
    );
    let peak_note = if resettable {
        "peak RSS reset before each upload"
    } else {
        "peak RSS could not be reset: growth is over the previous peak"
    };
    crate::common::shout(&format!(
        "hostile files on {backend:?} ({peak_note}):\n{}",
        report.join("\n")
    ));

    // The sparse file's result holds its four real rows, each a success, and nothing else.
    let job = sparse_job.expect("the sparse file was imported");
    let result = app
        .get_with(&client, &format!("/admin/imports/{job}/result"))
        .await;
    let cells = result_cells(&result.bytes().await.unwrap());
    let results: Vec<(u32, &str)> = cells
        .iter()
        .filter(|(_, c, _)| *c == 3)
        .map(|(r, _, v)| (*r + 1, v.as_str()))
        .collect();
    assert_eq!(
        results,
        [
            (1, "Result"),
            (2, "Success"),
            (3, "Success"),
            (4, "Success"),
            (1_000_010, "Success")
        ]
    );
    app.stop().await;
}
