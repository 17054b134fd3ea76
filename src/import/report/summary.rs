//! The Summary sheet of a result file: which file went where, how, by whom and when, and what
//! became of its rows.

use rust_xlsxwriter::{Format, Worksheet, XlsxError};

use crate::import::RowOutcome;
use crate::storage::ImportOptions;

/// What the Summary sheet says of an import.
#[derive(Debug, Clone)]
pub(crate) struct ResultSummary {
    pub file_name: String,
    /// "Support/Tier 1".
    pub group_path: String,
    pub options: ImportOptions,
    pub submitted_by: String,
    /// Seconds since the epoch, UTC.
    pub submitted_at: i64,
    pub finished_at: i64,
    pub counts: ResultCounts,
}

/// Rows by what became of them. A check's "would create" counts as created, and so on: the
/// Summary's labels say which of the two the numbers mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ResultCounts {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    /// Rows of a result file uploaded again that were done already.
    pub kept: u64,
    pub failed: u64,
    pub not_imported: u64,
}

impl ResultCounts {
    pub(crate) fn of<'a>(outcomes: impl IntoIterator<Item = &'a RowOutcome>) -> ResultCounts {
        let mut counts = ResultCounts::default();
        for outcome in outcomes {
            counts.rows += 1;
            *match outcome {
                RowOutcome::Success | RowOutcome::WouldCreate => &mut counts.created,
                RowOutcome::Updated | RowOutcome::WouldUpdate => &mut counts.updated,
                RowOutcome::Skipped(_) | RowOutcome::WouldSkip(_) => &mut counts.skipped,
                RowOutcome::Kept(_) => &mut counts.kept,
                RowOutcome::Error(_) => &mut counts.failed,
                RowOutcome::NotImported(_) => &mut counts.not_imported,
            } += 1;
        }
        counts
    }
}

const NAME: &str = "Summary";
/// Excel's sheet names ignore case, and the uploaded sheet may already be called Summary.
const OTHER_NAME: &str = "Import summary";
/// About 80 characters, in pixels: a long group path or file name still fits the screen.
const MAX_WIDTH_PIXELS: u32 = 565;

/// The Summary sheet, to follow the sheet named `data_sheet`.
pub(super) fn sheet(summary: &ResultSummary, data_sheet: &str) -> Result<Worksheet, XlsxError> {
    let mut ws = Worksheet::new();
    ws.set_name(if data_sheet.eq_ignore_ascii_case(NAME) {
        OTHER_NAME
    } else {
        NAME
    })?;
    let label = Format::new().set_bold();
    let dry_run = summary.options.dry_run;
    let texts = [
        ("File", summary.file_name.clone()),
        ("Group", summary.group_path.clone()),
        ("Mode", summary.options.mode.describe().to_owned()),
        ("Check only", if dry_run { "Yes" } else { "No" }.to_owned()),
        ("Submitted by", summary.submitted_by.clone()),
        ("Submitted at", utc(summary.submitted_at)),
        ("Finished at", utc(summary.finished_at)),
    ];
    let counts = summary.counts;
    let numbers = [
        ("Rows", counts.rows),
        (pick(dry_run, "Created", "Would be created"), counts.created),
        (pick(dry_run, "Updated", "Would be updated"), counts.updated),
        (pick(dry_run, "Skipped", "Would be skipped"), counts.skipped),
        ("Already done", counts.kept),
        ("Errors", counts.failed),
        ("Not imported", counts.not_imported),
    ];
    let mut row = 0;
    for (name, value) in &texts {
        ws.write_string_with_format(row, 0, *name, &label)?;
        // A file name or a group may start with "=": written as text, never as a formula.
        ws.write_string(row, 1, value)?;
        row += 1;
    }
    // A blank row between the import and its counts.
    row += 1;
    for (name, value) in numbers {
        ws.write_string_with_format(row, 0, name, &label)?;
        ws.write_number(row, 1, value as f64)?;
        row += 1;
    }
    // A small sheet held in memory, unlike the rows: autofit can read it back.
    ws.set_autofit_max_width(MAX_WIDTH_PIXELS).autofit();
    Ok(ws)
}

fn pick(dry_run: bool, done: &'static str, would: &'static str) -> &'static str {
    if dry_run { would } else { done }
}

/// "2024-03-01 10:30:00 UTC".
fn utc(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).map_or_else(
        || seconds.to_string(),
        |at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

#[cfg(test)]
impl ResultSummary {
    /// An import of agents.xlsx into Support/Tier 1, counted from `outcomes`.
    pub(crate) fn sample<'a>(outcomes: impl IntoIterator<Item = &'a RowOutcome>) -> ResultSummary {
        ResultSummary {
            file_name: "agents.xlsx".into(),
            group_path: "Support/Tier 1".into(),
            options: ImportOptions::default(),
            submitted_by: "admin".into(),
            submitted_at: 1_709_289_000,
            finished_at: 1_709_289_065,
            counts: ResultCounts::of(outcomes),
        }
    }
}

#[cfg(test)]
mod tests {
    use calamine::Data;

    use super::super::super::test_support::{read, xlsx_from, xlsx_rows};
    use super::super::tests::{cells_of, part, summary_rows, value};
    use super::super::write_result;
    use super::*;
    use crate::import::Columns;
    use crate::storage::ImportMode;

    #[test]
    fn checks_count_what_they_would_do_with_what_imports_did() {
        let outcomes = [
            RowOutcome::Success,
            RowOutcome::WouldCreate,
            RowOutcome::Updated,
            RowOutcome::WouldUpdate,
            RowOutcome::WouldUpdate,
            RowOutcome::Skipped("exists".into()),
            RowOutcome::WouldSkip("exists".into()),
            RowOutcome::Kept("Success".into()),
            RowOutcome::Error("bad".into()),
            RowOutcome::NotImported("cancelled".into()),
        ];
        assert_eq!(
            ResultCounts::of(&outcomes),
            ResultCounts {
                rows: 10,
                created: 2,
                updated: 3,
                skipped: 2,
                kept: 1,
                failed: 1,
                not_imported: 1,
            }
        );
    }

    #[test]
    fn times_read_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_709_289_000), "2024-03-01 10:30:00 UTC");
    }

    #[test]
    fn the_summary_sheet_says_what_was_imported_and_how_it_went() {
        let bytes = xlsx_rows(
            &["Name", "Email", "Password"],
            &[&["Ann", "a@x.org", "pw"], &["Bob", "b@x.org", "pw"]],
        );
        let sheet = read(&bytes).unwrap();
        let columns = Columns::find(&sheet.header).unwrap();
        let outcomes = [RowOutcome::Success, RowOutcome::Error("bad".into())];
        let summary = ResultSummary {
            file_name: "=cmd|'/c calc'!A1.xlsx".into(),
            options: ImportOptions {
                mode: ImportMode::Update,
                dry_run: false,
                ..ImportOptions::default()
            },
            ..ResultSummary::sample(&outcomes)
        };
        let outcome = |n: u32| outcomes.get(n as usize - 2).cloned();
        let out = write_result(&sheet, &columns, &outcome, &summary).unwrap();
        let rows = summary_rows(&out, "Summary");
        let text = |s: &str| Data::String(s.into());
        assert_eq!(value(&rows, "File"), text("=cmd|'/c calc'!A1.xlsx"));
        assert_eq!(value(&rows, "Group"), text("Support/Tier 1"));
        assert_eq!(value(&rows, "Mode"), text(ImportMode::Update.describe()));
        assert_eq!(value(&rows, "Check only"), text("No"));
        assert_eq!(value(&rows, "Submitted by"), text("admin"));
        assert_eq!(
            value(&rows, "Submitted at"),
            text("2024-03-01 10:30:00 UTC")
        );
        assert_eq!(value(&rows, "Finished at"), text("2024-03-01 10:31:05 UTC"));
        assert_eq!(value(&rows, "Rows"), Data::Float(2.0));
        assert_eq!(value(&rows, "Created"), Data::Float(1.0));
        assert_eq!(value(&rows, "Errors"), Data::Float(1.0));
        assert_eq!(value(&rows, "Not imported"), Data::Float(0.0));
        assert_eq!(value(&rows, "Already done"), Data::Float(0.0));
        let summary_xml = part(&out, "xl/worksheets/sheet2.xml");
        assert!(!summary_xml.contains("<f>") && !summary_xml.contains("<f "));
    }

    #[test]
    fn a_check_says_what_would_be_done_and_a_sheet_named_summary_is_kept() {
        let bytes = xlsx_from(|ws| {
            ws.set_name("summary").unwrap();
            for (c, h) in ["Name", "Email", "Password"].iter().enumerate() {
                ws.write_string(0, c as u16, *h).unwrap();
            }
            ws.write_string(1, 0, "Ann").unwrap();
        });
        let sheet = read(&bytes).unwrap();
        let columns = Columns::find(&sheet.header).unwrap();
        let outcomes = [RowOutcome::WouldCreate];
        let summary = ResultSummary {
            options: ImportOptions {
                mode: ImportMode::Skip,
                dry_run: true,
                ..ImportOptions::default()
            },
            ..ResultSummary::sample(&outcomes)
        };
        let out = write_result(
            &sheet,
            &columns,
            &|_| Some(RowOutcome::WouldCreate),
            &summary,
        )
        .unwrap();
        assert_eq!(cells_of(&out).0, "summary");
        let rows = summary_rows(&out, "Import summary");
        assert_eq!(value(&rows, "Check only"), Data::String("Yes".into()));
        assert_eq!(value(&rows, "Would be created"), Data::Float(1.0));
        assert_eq!(value(&rows, "Would be skipped"), Data::Float(0.0));
    }
}
