//! Accepting an upload: the whole file is checked at once and queued, or refused with the reason.

use crate::{
    domain::Id,
    import::{Columns, FileError, Limits, sheet},
    storage::{ImportOptions, NewImport, Storage, StorageError},
    telemetry::spawn_blocking_with_tracing,
};

/// What an accepted upload looks like before its job runs.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub job_id: Id,
    pub data_rows: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Reads the whole file once (about 0.3 s for 100,000 rows) so that anything making it unusable
/// — format, size, header, row count — is reported at once and nothing is queued.
pub async fn check_file(bytes: Vec<u8>, limits: Limits) -> Result<(Vec<u8>, usize), FileError> {
    spawn_blocking_with_tracing(move || {
        let sheet = sheet::read(&bytes, &limits)?;
        Columns::find(&sheet.header)?;
        // Queued, such a file would end at once with nothing done: say so while the
        // administrator is still on the page. (A template downloaded and sent back untouched.)
        if sheet.rows.is_empty() {
            return Err(FileError::NoAgents);
        }
        Ok((bytes, sheet.rows.len()))
    })
    .await
}

/// Who sends a file, to which group, and how it is to be imported.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    pub group_id: Id,
    pub submitted_by: &'a str,
    /// The administrator's id: their rights decide which other groups a row's message names.
    /// None from the command line, which has every right.
    pub submitted_by_id: Option<Id>,
    pub file_name: &'a str,
    pub options: ImportOptions,
}

impl<'a> Submission<'a> {
    /// A create-mode import with no administrator behind it (the command line, tests).
    pub fn plain(group_id: Id, submitted_by: &'a str, file_name: &'a str) -> Submission<'a> {
        Submission {
            group_id,
            submitted_by,
            submitted_by_id: None,
            file_name,
            options: ImportOptions::default(),
        }
    }
}

/// Checks the file and queues its job. The stored file holds plaintext passwords until the job
/// ends.
#[tracing::instrument(skip_all, fields(group_id = submission.group_id, file_name = submission.file_name))]
pub async fn submit(
    storage: &Storage,
    limits: &Limits,
    submission: Submission<'_>,
    bytes: Vec<u8>,
) -> Result<Submitted, SubmitError> {
    let (bytes, data_rows) = check_file(bytes, limits.clone()).await?;
    let job_id = storage
        .enqueue_import(NewImport {
            group_id: submission.group_id,
            submitted_by: submission.submitted_by,
            submitted_by_id: submission.submitted_by_id,
            file_name: submission.file_name,
            upload: &bytes,
            options: submission.options,
        })
        .await?;
    let mode = submission.options.mode.as_str();
    let dry_run = submission.options.dry_run;
    tracing::info!(job_id, data_rows, mode, dry_run, "import queued");
    Ok(Submitted { job_id, data_rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::template;

    async fn checked(bytes: Vec<u8>) -> Result<usize, FileError> {
        check_file(bytes, Limits::default())
            .await
            .map(|(_, rows)| rows)
    }

    #[tokio::test]
    async fn a_header_without_agents_is_refused_at_upload() {
        for bytes in [template::template_xlsx(), template::template_csv()] {
            let refused = checked(bytes).await.unwrap_err();
            assert_eq!(refused, FileError::NoAgents);
            assert!(
                refused
                    .to_string()
                    .starts_with("The file has a header but no agents")
            );
        }
        let one = b"Name,Email,Password\r\nAnn,ann@example.com,password1\r\n".to_vec();
        assert_eq!(checked(one).await, Ok(1));
        // A missing column is the first thing to fix, and said first.
        let no_password = b"Name,Email\r\n".to_vec();
        assert!(matches!(
            checked(no_password).await,
            Err(FileError::MissingColumns { .. })
        ));
    }
}
