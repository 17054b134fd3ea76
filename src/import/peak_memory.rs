//! The peak memory of some test work, measured in a process of its own.
//!
//! Tests of one binary run side by side in threads of one process, so that process's peak
//! resident memory (VmHWM) counts whatever the other tests held meanwhile: a test reading it
//! would pass or fail by what ran beside it. Here the test binary is started again to run only
//! the calling test, where the work is all there is, and that process reports how far its peak
//! rose while the work ran.

use std::process::Command;

/// Set in the copy of the test binary that runs the work, to the name of the test it runs.
const ALONE: &str = "ROSTER_TEST_ALONE";
/// Starts the line on which that copy reports its peak's growth.
const MARK: &str = "peak memory growth (bytes): ";

/// How far the peak memory rose while `work` ran alone, in a fresh copy of this test binary.
///
/// `module` is the caller's `module_path!()` and `test` the calling test's name: the copy runs
/// exactly that test, which calls this again and there runs `work`. The answer is `None` in
/// that copy (the caller has nothing left to do), `Some` in the test that asked.
pub(crate) fn growth_alone(module: &str, test: &str, work: impl FnOnce()) -> Option<u64> {
    // libtest names a test by its path inside the crate.
    let name = match module.split_once("::") {
        Some((_crate, path)) => format!("{path}::{test}"),
        None => test.to_string(),
    };
    if std::env::var(ALONE).as_deref() == Ok(name.as_str()) {
        let before = peak_bytes();
        work();
        let grown = peak_bytes().saturating_sub(before);
        println!("{MARK}{grown}");
        return None;
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
    let grown = stdout
        .lines()
        .find_map(|line| line.strip_prefix(MARK)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name}, run alone, reported no peak:\n{stdout}\n{stderr}"));
    Some(grown)
}

/// The peak resident memory of this process (Linux only: tests that measure are ignored
/// elsewhere).
fn peak_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("Linux /proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .expect("VmHWM in /proc/self/status")
        * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The measure can fail: memory the work holds shows in it, whatever the parent holds.
    #[test]
    #[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
    fn memory_the_work_holds_shows_in_its_peak() {
        const HELD: usize = 48 << 20;
        let grown = growth_alone(
            module_path!(),
            "memory_the_work_holds_shows_in_its_peak",
            || {
                // Written, not only reserved: untouched pages are never resident.
                let held = std::hint::black_box(vec![1u8; HELD]);
                drop(held);
            },
        );
        if let Some(grown) = grown {
            assert!(grown >= HELD as u64, "the peak grew by only {grown} bytes");
        }
    }
}
