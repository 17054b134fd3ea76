//! `roster import` and `roster export`: the web's import pipeline and the tree's agents, from a
//! terminal.

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    config::Config,
    domain::{GroupPath, Id},
    import::{FileError, pipeline, summary_line},
    jobs::Worker,
    org::{OrgTree, export},
    storage::{
        AuditAction, AuditActor, CancelRequest, ExportRow, ImportJob, ImportOptions, JobState,
        NewAuditEvent, Storage, UndoRequest,
    },
};

/// Exit code for a file rejected as a whole (SPEC §4).
const FILE_REJECTED: u8 = 2;

fn find_group(tree: &OrgTree, path: &str) -> anyhow::Result<Id> {
    let parsed = GroupPath::parse(path)?;
    tree.find(&parsed)
        .with_context(|| format!("there is no group {path:?}"))
}

/// `roster import`: what to import, where, and how.
pub struct ImportRequest<'a> {
    pub group: &'a str,
    pub file: &'a Path,
    pub result: Option<&'a Path>,
    pub options: ImportOptions,
}

pub async fn import(
    storage: &Storage,
    config: &Config,
    request: ImportRequest<'_>,
) -> anyhow::Result<ExitCode> {
    let ImportRequest {
        group,
        file,
        result,
        options,
    } = request;
    let group_id = find_group(&OrgTree::new(storage.all_groups().await?), group)?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if size > config.limits.max_upload_bytes {
        return rejected(&FileError::TooLarge {
            limit: config.limits.max_upload_bytes,
        });
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".into());
    let submission = pipeline::Submission {
        group_id,
        submitted_by: "command line",
        submitted_by_id: None,
        file_name: &file_name,
        options,
    };
    let submitted = match pipeline::submit(storage, &config.limits, submission, bytes).await {
        Ok(submitted) => submitted,
        Err(pipeline::SubmitError::File(error)) => return rejected(&error),
        Err(pipeline::SubmitError::Storage(error)) => return Err(error.into()),
    };
    if !options.dry_run {
        let subject = format!("#{} {file_name}", submitted.job_id);
        let detail = format!("mode {}", options.mode.as_str());
        let event = NewAuditEvent {
            group_id: Some(group_id),
            import_job_id: Some(submitted.job_id),
            detail: &detail,
            ..NewAuditEvent::new(AuditAction::ImportStarted, &subject)
        };
        storage
            .record_audit(&AuditActor::command_line(), event)
            .await?;
    }

    let bar = progress_bar(submitted.data_rows as u64);
    let worker = Worker::new(storage.clone(), config.clone());
    // A server on the same database may have claimed the job first; then we watch it finish.
    let update = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    worker.run_one(submitted.job_id, &update).await?;
    let job = wait_for(storage, submitted.job_id, &bar).await?;
    bar.finish_and_clear();

    if let Some(error) = &job.error {
        eprintln!("roster: the import of {file_name} failed: {error}");
        return Ok(ExitCode::from(FILE_REJECTED));
    }
    let out = result
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_result_path(file));
    let bytes = storage
        .import_result(job.id)
        .await?
        .context("the import finished without a result file")?;
    std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("{}. Result: {}", summary_line(&job), out.display());
    Ok(ExitCode::SUCCESS)
}

fn rejected(error: &FileError) -> anyhow::Result<ExitCode> {
    eprintln!("roster: the file was not imported: {error}");
    Ok(ExitCode::from(FILE_REJECTED))
}

/// `agents.xlsx` → `agents.result.xlsx`, in the same folder.
fn default_result_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".into());
    file.with_file_name(format!("{stem}.result.xlsx"))
}

/// A bar on a terminal; nothing when output goes to a file or a pipe.
fn progress_bar(rows: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(rows);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

async fn wait_for(storage: &Storage, job_id: Id, bar: &ProgressBar) -> anyhow::Result<ImportJob> {
    loop {
        let Some(job) = storage.import_job(job_id).await? else {
            bail!("the import job {job_id} disappeared (was its group deleted?)");
        };
        if job.state.is_done() && job.state != JobState::Undoing {
            return Ok(job);
        }
        bar.set_length(job.total_rows.unwrap_or(0) as u64);
        bar.set_position(job.done_rows as u64);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Records what the command line did to an import, in the import's group.
async fn record_on_job(storage: &Storage, job_id: Id, action: AuditAction) -> anyhow::Result<()> {
    let Some(job) = storage.import_job(job_id).await? else {
        return Ok(());
    };
    let subject = format!("#{job_id} {}", job.file_name);
    let event = NewAuditEvent {
        group_id: Some(job.group_id),
        import_job_id: Some(job_id),
        ..NewAuditEvent::new(action, &subject)
    };
    storage
        .record_audit(&AuditActor::command_line(), event)
        .await?;
    Ok(())
}

/// `roster imports cancel ID`: exit 0 when the import will stop, 1 when it had already ended.
pub async fn cancel(storage: &Storage, job_id: Id) -> anyhow::Result<ExitCode> {
    match storage.request_cancel(job_id).await? {
        CancelRequest::Requested => {
            record_on_job(storage, job_id, AuditAction::ImportCancelled).await?;
            println!(
                "Import {job_id} stops after the batch in progress; its result lists the rows not imported."
            );
            Ok(ExitCode::SUCCESS)
        }
        CancelRequest::AlreadyEnded => {
            eprintln!("roster: import {job_id} has already ended");
            Ok(ExitCode::FAILURE)
        }
        CancelRequest::NotFound => bail!("there is no import {job_id}"),
    }
}

/// Kept agents `roster imports undo` lists by name.
const KEPT_LISTED: i64 = 50;

/// `roster imports undo ID`: queues the undo and runs it here (a server on the same database
/// may take it first; then this waits for it). Exit 1 when it cannot be undone.
pub async fn undo(storage: &Storage, config: &Config, job_id: Id) -> anyhow::Result<ExitCode> {
    let refused = match storage.request_undo(job_id, "command line").await? {
        UndoRequest::Requested => None,
        UndoRequest::AlreadyUndone => Some("has already been undone"),
        UndoRequest::StillRunning => Some("is still running; cancel it or let it end first"),
        UndoRequest::NothingToUndo => Some("changed nothing, so there is nothing to undo"),
        UndoRequest::NotFound => bail!("there is no import {job_id}"),
    };
    if let Some(why) = refused {
        eprintln!("roster: import {job_id} {why}");
        return Ok(ExitCode::FAILURE);
    }
    record_on_job(storage, job_id, AuditAction::ImportUndone).await?;
    let bar = progress_bar(0);
    let worker = Worker::new(storage.clone(), config.clone());
    let update = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    // Runs here until it has ended. While a server on the same database holds it, this waits;
    // if that server stops, or this run was interrupted (a panic lets the undo go at once),
    // the next round takes it over, so the command never waits for a job nobody runs.
    let job = loop {
        worker.run_one(job_id, &update).await?;
        let Some(job) = storage.import_job(job_id).await? else {
            bail!("the import job {job_id} disappeared (was its group deleted?)");
        };
        if job.state != JobState::Undoing {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    bar.finish_and_clear();
    println!("{}", summary_line(&job));
    let kept = storage.undo_kept_agents(job_id, KEPT_LISTED).await?;
    for agent in &kept {
        println!("  kept: {agent}");
    }
    let more = job.undo_kept_count - kept.len() as i64;
    if more > 0 {
        println!("  and {more} more kept");
    }
    Ok(ExitCode::SUCCESS)
}

/// `roster imports list --group PATH`: the group's imports, newest first, a line each.
pub async fn list(storage: &Storage, group: &str) -> anyhow::Result<ExitCode> {
    let group_id = find_group(&OrgTree::new(storage.all_groups().await?), group)?;
    let jobs = storage.group_imports(group_id, 100).await?;
    if jobs.is_empty() {
        println!("No imports into {group} yet.");
    }
    for job in jobs {
        let at = chrono::DateTime::from_timestamp(job.created_at, 0)
            .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        println!(
            "{:>6}  {:<9}  {:<6}  {at}  by {}  {}",
            job.id,
            job.state.as_str(),
            job.options.mode.as_str(),
            job.submitted_by,
            summary_line(&job)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The group's agents as CSV (name, email, group path, status, created), never passwords.
pub async fn export(storage: &Storage, group: &str, recursive: bool) -> anyhow::Result<ExitCode> {
    let tree = OrgTree::new(storage.all_groups().await?);
    let root = find_group(&tree, group)?;
    let groups = if recursive {
        tree.subtree(root)
    } else {
        vec![root]
    };
    let agents = storage.export_agents(&groups).await?;
    match write_export(&tree, root, &agents, std::io::stdout().lock()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `roster export … | head`: the reader has all it wanted, which is no error.
        Err(error) if reader_left(&error) => Ok(ExitCode::SUCCESS),
        Err(error) => Err(error.into()),
    }
}

fn write_export(
    tree: &OrgTree,
    root: Id,
    agents: &[ExportRow],
    to: impl std::io::Write,
) -> csv::Result<()> {
    export::write_csv(&export::lines(tree, root, agents), to)
}

fn reader_left(error: &csv::Error) -> bool {
    matches!(error.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe whose reader has gone, as `roster export … | head` leaves it.
    struct ClosedPipe;

    impl std::io::Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_reader_that_leaves_early_is_no_error() {
        let tree = OrgTree::new(Vec::new());
        let error = write_export(&tree, 1, &[], ClosedPipe).unwrap_err();
        assert!(reader_left(&error), "{error}");
        let other = csv::Error::from(std::io::Error::other("disk full"));
        assert!(!reader_left(&other));
    }

    #[test]
    fn formulas_are_defused_and_result_goes_beside_the_file() {
        assert_eq!(export::defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(export::defuse("Ann"), "Ann");
        assert_eq!(
            default_result_path(Path::new("/tmp/agents.xlsx")),
            PathBuf::from("/tmp/agents.result.xlsx")
        );
    }
}
