//! A test run alone, in a fresh copy of this test binary.
//!
//! Tests of one binary run side by side in threads of one process, so that process's peak
//! memory counts whatever the other tests held meanwhile: a test reading it would pass or fail
//! by what ran beside it. Started again with the test's exact name, the binary runs that test
//! and nothing else.

use std::io::Write;
use std::process::Command;

/// Set in the copy that runs the test, to the test's name.
const ALONE: &str = "ROSTER_TEST_ALONE";
/// What the copy prints once `work` has returned, so an empty run cannot pass for a good one.
const DONE: &str = "ran alone to the end: ";

/// Runs `work` in a fresh copy of this test binary that runs only the calling test, and fails
/// as that run fails. `module` is the caller's `module_path!()`, `test` its name; the copy
/// calls this again and there runs `work`.
pub(super) fn run(module: &str, test: &str, work: impl FnOnce()) {
    // libtest names a test by its path inside the crate.
    let name = match module.split_once("::") {
        Some((_crate, path)) => format!("{path}::{test}"),
        None => test.to_string(),
    };
    if std::env::var(ALONE).as_deref() == Ok(name.as_str()) {
        work();
        println!("{DONE}{name}");
        return;
    }
    let binary = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(binary)
        .args([name.as_str(), "--exact", "--nocapture"])
        .env(ALONE, &name)
        .output()
        .expect("the test binary starts again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name}, run alone, failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("{DONE}{name}")),
        "{name}, run alone, did not run to the end:\n{stdout}\n{stderr}"
    );
    // What the copy shouted (the measurements, a skipped backend) is this test's to show, around
    // the harness's capture as `common::shout` does.
    if let Some(at) = stderr.find("\n!!! ") {
        let _ = std::io::stderr().write_all(stderr[at..].as_bytes());
    }
}
