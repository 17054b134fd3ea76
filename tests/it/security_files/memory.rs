//! Memory of this process, where the server runs.

pub(super) fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .expect("Linux /proc/self/status")
}

/// Resets VmHWM to the current RSS (Linux 4.0+); false where that is not allowed.
pub(super) fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
