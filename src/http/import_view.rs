//! A job as the notification bar, the history and the API show it: what it is doing now, in
//! words that tell the truth — queued behind others, reading, checking, creating, waiting for a
//! server after a restart, writing the result — and how it ended.

use super::{AppState, error::AppError, forms::datetime};
use crate::import::{plural, summary_line};
use crate::{
    domain::Id,
    storage::{ImportJob, JobPhase, JobState},
};

#[derive(Debug, Clone)]
pub struct ImportView {
    pub id: Id,
    pub group_id: Id,
    pub file_name: String,
    pub submitted_by: String,
    pub created_at: String,
    pub state: &'static str,
    pub running: bool,
    /// A check: nothing is changed.
    pub dry_run: bool,
    /// Running, and asked to stop: no second Cancel button.
    pub cancelling: bool,
    /// Ended without a result file: the whole file was unusable.
    pub failed_state: bool,
    /// Ended before its last row, with a result file saying which rows were not imported.
    pub ended_early: bool,
    pub total_for_bar: i64,
    pub done: i64,
    pub created: i64,
    pub failed: i64,
    pub not_imported: i64,
    pub percent: i64,
    pub progress_text: String,
    pub summary: String,
    pub error: Option<String>,
    pub has_result: bool,
    /// Servers writing its agents now (PostgreSQL spreads an import over all of them); 0 when
    /// not asked.
    pub processes: i64,
}

/// When the view is made: the clock's now, and the lease length, to tell a job whose server
/// stopped renewing its lease from one at work.
#[derive(Debug, Clone, Copy)]
pub struct Moment {
    pub now: i64,
    pub lease_seconds: i64,
}

impl Moment {
    pub fn of(state: &AppState) -> Moment {
        Moment {
            now: state.storage.clock().now(),
            lease_seconds: state.config.job_lease.as_secs() as i64,
        }
    }
}

impl ImportView {
    pub fn new(job: &ImportJob, at: Moment) -> ImportView {
        let state = job.state;
        let total = job.total_rows.unwrap_or(0);
        let percent = if total > 0 {
            job.done_rows * 100 / total
        } else {
            0
        };
        let ended_early =
            (state == JobState::Failed && job.has_result) || state == JobState::Cancelled;
        let summary = summary_line(job);
        ImportView {
            id: job.id,
            group_id: job.group_id,
            file_name: job.file_name.clone(),
            submitted_by: job.submitted_by.clone(),
            created_at: datetime(job.created_at),
            state: state.as_str(),
            running: !state.is_done(),
            dry_run: job.options.dry_run,
            cancelling: job.cancel_requested && !state.is_done(),
            failed_state: state == JobState::Failed && !job.has_result,
            ended_early,
            total_for_bar: total.max(1),
            done: job.done_rows,
            created: job.created_count,
            failed: job.failed_count,
            not_imported: job.not_imported_count,
            percent,
            progress_text: progress_text(job, at),
            summary,
            error: job.error.clone(),
            has_result: job.has_result,
            processes: 0,
        }
    }

    /// The view of a group's latest job, with its place in the queue when it waits for others
    /// and, when several servers write its agents, how many.
    pub async fn latest(state: &AppState, job: &ImportJob) -> Result<ImportView, AppError> {
        let at = Moment::of(state);
        let mut view = ImportView::new(job, at);
        let at_work = job
            .lease_until
            .is_some_and(|until| until - at.now >= at.lease_seconds / 3);
        if job.state == JobState::Running && job.phase == Some(JobPhase::Creating) && at_work {
            view.processes = state.storage.processes_working(job.id).await?;
            if view.processes > 1 && !job.cancel_requested {
                view.progress_text
                    .push_str(&format!("; {} servers are working on it", view.processes));
            }
        }
        if job.state == JobState::Queued {
            let ahead = state.storage.imports_ahead(job.id).await?;
            if ahead > 0 {
                view.progress_text = format!(
                    "Queued behind {}; it starts when they are done.",
                    plural(ahead, "other import", "other imports")
                );
            }
        }
        Ok(view)
    }
}

fn progress_text(job: &ImportJob, at: Moment) -> String {
    if job.cancel_requested && !job.state.is_done() {
        return "Cancelling: the import stops after the batch in progress.".to_owned();
    }
    if job.state == JobState::Queued {
        return "Queued; it starts in a moment.".to_owned();
    }
    // A working server renews its lease every third of it: a lease this close to its end
    // means nobody renewed it for a while.
    match job.lease_until {
        None if !job.state.is_done() => {
            return "Waiting to resume: the server that ran it stopped; the next server to start resumes it at once.".to_owned();
        }
        Some(until) if until < at.now => {
            return "Waiting to resume: the server that ran it stopped; the next server to look takes it over.".to_owned();
        }
        Some(until) if until - at.now < at.lease_seconds / 3 => {
            return format!(
                "Waiting to resume: the server running it seems to have stopped; if so, another takes it over by {} UTC.",
                clock_time(until)
            );
        }
        _ => {}
    }
    match (job.phase, job.total_rows) {
        (Some(JobPhase::Reading), _) | (None, None) => "Reading the file…".to_owned(),
        (Some(JobPhase::Checking), _) => "Checking every row…".to_owned(),
        (Some(JobPhase::Writing), _) => "Writing the result file…".to_owned(),
        (Some(JobPhase::Creating), _) | (None, Some(_)) => format!(
            "{} of {} rows done, {} so far",
            job.done_rows,
            job.total_rows.unwrap_or(0),
            plural(job.failed_count, "error", "errors")
        ),
    }
}

fn clock_time(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|at| at.format("%H:%M:%S").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state: JobState, phase: Option<JobPhase>, lease_until: Option<i64>) -> ImportJob {
        ImportJob {
            id: 1,
            group_id: 1,
            submitted_by: "Maria".into(),
            file_name: "agents.xlsx".into(),
            state,
            phase,
            total_rows: Some(100),
            done_rows: 40,
            created_count: 38,
            failed_count: 2,
            not_imported_count: 0,
            error: None,
            created_at: 0,
            finished_at: None,
            result_expires_at: None,
            lease_until,
            has_result: false,
            has_upload: true,
            cancel_requested: false,
            ..crate::import::sample_job()
        }
    }

    const AT: Moment = Moment {
        now: 1_000,
        lease_seconds: 30,
    };

    fn text(job: &ImportJob) -> String {
        ImportView::new(job, AT).progress_text
    }

    #[test]
    fn the_banner_says_what_the_job_is_doing() {
        let running = |phase| job(JobState::Running, Some(phase), Some(1_025));
        assert_eq!(text(&running(JobPhase::Reading)), "Reading the file…");
        assert_eq!(text(&running(JobPhase::Checking)), "Checking every row…");
        assert_eq!(
            text(&running(JobPhase::Creating)),
            "40 of 100 rows done, 2 errors so far"
        );
        assert_eq!(
            text(&running(JobPhase::Writing)),
            "Writing the result file…"
        );
        assert!(text(&job(JobState::Queued, None, None)).starts_with("Queued"));
    }

    #[test]
    fn a_job_whose_server_stopped_says_it_waits_to_resume_and_by_when() {
        let released = job(JobState::Running, Some(JobPhase::Creating), None);
        assert!(
            text(&released).contains("resumes it at once"),
            "{}",
            text(&released)
        );
        let expired = job(JobState::Running, Some(JobPhase::Creating), Some(999));
        assert!(
            text(&expired).contains("next server to look"),
            "{}",
            text(&expired)
        );
        // A heartbeat renews a lease every third of it: 5 s left of 30 means none came lately.
        let silent = job(JobState::Running, Some(JobPhase::Creating), Some(1_005));
        assert!(
            text(&silent).contains("takes it over by 00:16:45 UTC"),
            "{}",
            text(&silent)
        );
    }

    #[test]
    fn a_job_that_ended_early_says_so_and_offers_its_result() {
        let mut ended = job(JobState::Failed, None, None);
        ended.has_result = true;
        ended.not_imported_count = 60;
        let view = ImportView::new(&ended, AT);
        assert!(view.ended_early && !view.failed_state && view.has_result);
        assert_eq!(
            view.summary,
            "Import of agents.xlsx ended early: 38 agents created, 2 failed, 60 not imported"
        );
    }
}
