//! The one sentence that says how an import went, in the notification bar, the history, the
//! API's `summary` and the command line alike.

use crate::storage::{ImportJob, JobState};

pub(crate) fn plural(count: i64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// How the job ended (or, while it runs, what it has done so far), from its counts.
pub fn summary_line(job: &ImportJob) -> String {
    let file = &job.file_name;
    if job.options.dry_run {
        return check_line(job);
    }
    match job.state {
        JobState::Undoing => format!(
            "Undoing the import of {file}: {} taken back so far",
            plural(job.undone_count, "agent", "agents")
        ),
        JobState::Undone => {
            let mut line = format!(
                "Import of {file} undone: {} taken back",
                plural(job.undone_count, "agent", "agents")
            );
            if job.undo_kept_count > 0 {
                line.push_str(&format!(
                    ", {} kept because {} changed after the import",
                    job.undo_kept_count,
                    if job.undo_kept_count == 1 {
                        "it"
                    } else {
                        "they"
                    }
                ));
            }
            line
        }
        JobState::Cancelled => format!("Import of {file} cancelled: {}", counts(job, true)),
        JobState::Failed if job.has_result => {
            format!("Import of {file} ended early: {}", counts(job, true))
        }
        _ => format!("Import of {file} finished: {}", counts(job, false)),
    }
}

/// "4 agents created, 2 updated, 1 skipped, 320 already done, 2 failed[, 60 not imported]":
/// what the mode and a result file add is named only when it happened.
fn counts(job: &ImportJob, with_not_imported: bool) -> String {
    let mut parts = vec![plural(job.created_count, "agent", "agents") + " created"];
    if job.updated_count > 0 {
        parts.push(format!("{} updated", job.updated_count));
    }
    if job.skipped_count > 0 {
        parts.push(format!("{} skipped", job.skipped_count));
    }
    if job.kept_count > 0 {
        parts.push(format!("{} already done", job.kept_count));
    }
    parts.push(format!("{} failed", job.failed_count));
    if with_not_imported {
        parts.push(format!("{} not imported", job.not_imported_count));
    }
    parts.join(", ")
}

/// "Check of agents.xlsx: 97 would be created, 3 errors — nothing was changed".
fn check_line(job: &ImportJob) -> String {
    let file = &job.file_name;
    if !job.state.is_done() {
        return format!("Checking {file}…");
    }
    let mut parts = Vec::new();
    for (count, what) in [
        (job.created_count, "created"),
        (job.updated_count, "updated"),
        (job.skipped_count, "skipped"),
    ] {
        if count > 0 || (what == "created" && job.updated_count + job.skipped_count == 0) {
            parts.push(format!("{count} would be {what}"));
        }
    }
    if job.kept_count > 0 {
        parts.push(format!("{} already done", job.kept_count));
    }
    parts.push(plural(job.failed_count, "error", "errors"));
    if job.not_imported_count > 0 {
        parts.push(format!("{} not checked", job.not_imported_count));
    }
    format!(
        "Check of {file}: {} — nothing was changed",
        parts.join(", ")
    )
}

/// A finished create-mode import of 100 rows, 97 created and 3 failed, for tests to vary.
#[cfg(test)]
pub(crate) fn sample_job() -> ImportJob {
    use crate::storage::ImportOptions;
    {
        ImportJob {
            id: 1,
            group_id: 1,
            submitted_by: "Maria".into(),
            file_name: "agents.xlsx".into(),
            state: JobState::Finished,
            phase: None,
            total_rows: Some(100),
            done_rows: 100,
            created_count: 97,
            failed_count: 3,
            not_imported_count: 0,
            error: None,
            created_at: 0,
            finished_at: None,
            result_expires_at: None,
            lease_until: None,
            has_result: true,
            has_upload: false,
            cancel_requested: false,
            options: ImportOptions::default(),
            updated_count: 0,
            skipped_count: 0,
            kept_count: 0,
            undone_count: 0,
            undo_kept_count: 0,
            undo_requested_by: None,
            undone_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> ImportJob {
        sample_job()
    }

    #[test]
    fn a_check_says_what_would_happen_and_that_nothing_changed() {
        let mut check = job();
        check.options.dry_run = true;
        assert_eq!(
            summary_line(&check),
            "Check of agents.xlsx: 97 would be created, 3 errors — nothing was changed"
        );
        check.created_count = 0;
        check.updated_count = 5;
        check.skipped_count = 1;
        check.failed_count = 1;
        assert_eq!(
            summary_line(&check),
            "Check of agents.xlsx: 5 would be updated, 1 would be skipped, 1 error — nothing was changed"
        );
    }

    #[test]
    fn an_import_names_what_its_mode_and_a_result_file_added() {
        let mut import = job();
        assert_eq!(
            summary_line(&import),
            "Import of agents.xlsx finished: 97 agents created, 3 failed"
        );
        import.created_count = 1;
        import.updated_count = 2;
        import.kept_count = 320;
        assert_eq!(
            summary_line(&import),
            "Import of agents.xlsx finished: 1 agent created, 2 updated, 320 already done, 3 failed"
        );
        import.state = JobState::Undone;
        import.undone_count = 3;
        import.undo_kept_count = 1;
        assert_eq!(
            summary_line(&import),
            "Import of agents.xlsx undone: 3 agents taken back, 1 kept because it changed after the import"
        );
    }
}
