//! Receiving an uploaded file: streamed, capped at the configured size, and with its
//! CSRF field checked before a byte of the file is kept. One path for the web form and the API.

use axum::{
    extract::Multipart,
    http::{HeaderValue, header},
};

use super::{
    AppState, audit,
    auth::AdminUser,
    error::AppError,
    session::{CSRF_FIELD, Session, verify_csrf},
};
use crate::{
    domain::Id,
    import::{FileError, pipeline},
    storage::{AuditAction, ImportOptions, NewAuditEvent, SessionKind, UnknownMode},
};

/// An upload the queue accepted.
pub(crate) struct Queued {
    pub(crate) job_id: Id,
    pub(crate) options: ImportOptions,
}

/// Receives `multipart`'s file for `group_id` and queues its import. The
/// group must be one the administrator sees (else the same 404 as a group that never was);
/// a file that cannot be imported is refused as a whole ([`AppError::File`]), nothing created.
#[tracing::instrument(skip_all, fields(group_id = group_id, admin_id = user.admin.id))]
pub(crate) async fn submit_upload(
    state: &AppState,
    user: &AdminUser,
    group_id: Id,
    multipart: Multipart,
) -> Result<Queued, AppError> {
    if !user.access(state).await?.can_see(group_id) {
        return Err(AppError::NotFound);
    }
    let limits = &state.config.limits;
    // A browser session must prove the form is ours; a bearer token already does.
    let csrf_for = (user.session.kind == SessionKind::Admin).then_some(&user.session);
    let form = read_upload_form(multipart, limits.max_upload_bytes, csrf_for).await?;
    let submission = pipeline::Submission {
        group_id,
        submitted_by: &user.admin.name,
        submitted_by_id: Some(user.admin.id),
        file_name: &form.file_name,
        options: form.options,
    };
    let submitted = pipeline::submit(&state.storage, limits, submission, form.bytes).await?;
    state.worker.wake();
    if !form.options.dry_run {
        // A check changes nothing: only imports are recorded.
        let subject = format!("#{} {}", submitted.job_id, form.file_name);
        let detail = format!(
            "mode {}{}",
            form.options.mode.as_str(),
            if form.options.must_change_password {
                "; agents must change their password"
            } else {
                ""
            }
        );
        let event = NewAuditEvent {
            group_id: Some(group_id),
            import_job_id: Some(submitted.job_id),
            detail: &detail,
            ..NewAuditEvent::new(AuditAction::ImportStarted, &subject)
        };
        audit::record(state, user, event).await?;
    }
    Ok(Queued {
        job_id: submitted.job_id,
        options: form.options,
    })
}

struct UploadForm {
    file_name: String,
    bytes: Vec<u8>,
    options: ImportOptions,
}

/// Reads the `file` field and the options beside it (`mode`, `dry_run`,
/// `must_change_password`, in any order: a
/// browser sends its "Check file" button after the file). With `csrf_for` set (a browser form),
/// a valid `csrf` field must come first. Anything over `max_bytes` is refused as soon as it is
/// seen, not after it is stored.
async fn read_upload_form(
    mut multipart: Multipart,
    max_bytes: u64,
    csrf_for: Option<&Session>,
) -> Result<UploadForm, AppError> {
    let mut csrf_checked = csrf_for.is_none();
    let mut file = None;
    let mut options = ImportOptions::default();
    let too_large = || AppError::File(FileError::TooLarge { limit: max_bytes });
    let unreadable = || AppError::BadRequest("The form could not be read.".into());
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|error| multipart_error(&error.body_text(), max_bytes))?
    {
        match field.name() {
            Some(CSRF_FIELD) => {
                let provided = field.text().await.map_err(|_| unreadable())?;
                if let Some(session) = csrf_for {
                    verify_csrf(session, &provided)?;
                    csrf_checked = true;
                }
            }
            Some("file") => {
                if !csrf_checked {
                    return Err(AppError::Forbidden(
                        "This form has expired or did not come from Roster. Reload the page and submit it again.",
                    ));
                }
                // A form sent with no file chosen still carries an empty, nameless file part.
                let chosen = field.file_name().is_some_and(|name| !name.is_empty());
                let file_name = clean_file_name(field.file_name().unwrap_or("upload"));
                let mut bytes = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|error| multipart_error(&error.body_text(), max_bytes))?
                {
                    if (bytes.len() + chunk.len()) as u64 > max_bytes {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                if chosen || !bytes.is_empty() {
                    file = Some((file_name, bytes));
                }
            }
            Some("mode") => {
                let typed = field.text().await.map_err(|_| unreadable())?;
                options.mode = typed
                    .parse()
                    .map_err(|error: UnknownMode| AppError::BadRequest(capitalized(&error)))?;
            }
            Some("dry_run") => {
                let typed = field.text().await.map_err(|_| unreadable())?;
                options.dry_run = parse_flag(&typed)
                    .ok_or_else(|| AppError::BadRequest("dry_run must be true or false.".into()))?;
            }
            Some("must_change_password") => {
                let typed = field.text().await.map_err(|_| unreadable())?;
                options.must_change_password = parse_flag(&typed).ok_or_else(|| {
                    AppError::BadRequest("must_change_password must be true or false.".into())
                })?;
            }
            _ => {}
        }
    }
    match file {
        Some((file_name, bytes)) => Ok(UploadForm {
            file_name,
            bytes,
            options,
        }),
        None => Err(AppError::BadRequest(
            "Choose a file to upload (.xlsx or .csv).".into(),
        )),
    }
}

/// A form's yes or no: a checkbox sends `on`, a script `true` or `1`.
fn parse_flag(typed: &str) -> Option<bool> {
    match typed.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Some(true),
        "false" | "0" | "off" | "no" | "" => Some(false),
        _ => None,
    }
}

fn capitalized(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => text,
    }
}

fn multipart_error(text: &str, max_bytes: u64) -> AppError {
    if text.contains("length limit") {
        AppError::File(FileError::TooLarge { limit: max_bytes })
    } else {
        AppError::BadRequest("The upload was interrupted or malformed; try again.".into())
    }
}

/// The name shown in the history and used for the result file: no path, no control
/// characters, bounded length.
fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c))
        .take(200)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "upload".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// The marks that reorder text around them: `agents\u{202E}xslx.exe` would show as
/// `agentsexe.xlsx`. Dropped from file names, so a name shows as it is.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// `Content-Disposition: attachment` with an ASCII fallback name (no quotes, slashes or other
/// surprises) and the exact name in RFC 5987 form. Names from elsewhere than the web form (the
/// command line takes the file's own name) are cleaned here too: no path, no control
/// characters, no leading dot.
pub(crate) fn attachment(file_name: &str) -> (header::HeaderName, HeaderValue) {
    let cleaned = clean_file_name(file_name);
    let file_name = match cleaned.trim_start_matches(['.', ' ']) {
        "" => "download",
        name => name,
    };
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let value = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    (
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment")),
    )
}

/// `agents.xlsx` → `agents.result.xlsx`.
pub(crate) fn result_file_name(upload_name: &str) -> String {
    let stem = upload_name
        .rsplit_once('.')
        .map_or(upload_name, |(stem, _)| stem);
    format!("{stem}.result.xlsx")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_tricks() {
        assert_eq!(
            clean_file_name("C:\\Users\\ann\\agents.xlsx"),
            "agents.xlsx"
        );
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\r\nb.csv"), "ab.csv");
        assert_eq!(
            clean_file_name("agents\u{202E}xslx.exe"),
            "agentsxslx.exe",
            "no mark reorders what is shown"
        );
        assert_eq!(clean_file_name("\u{2067}a\u{2069}\u{200F}.csv"), "a.csv");
        assert_eq!(result_file_name("agents.xlsx"), "agents.result.xlsx");
        let (_, value) = attachment("my \"agents\".xlsx");
        assert_eq!(
            value.to_str().unwrap(),
            "attachment; filename=\"my__agents_.xlsx\"; filename*=UTF-8''my%20%22agents%22.xlsx"
        );
    }
}
