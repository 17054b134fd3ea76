//! A group's agents as a spreadsheet, for the web's "Export agents" and `roster export`: the
//! template's columns first (the Password column left empty), so the file can be edited and
//! imported back into the same group in mode `update`; never a password.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::OrgTree;
use crate::{domain::Id, storage::ExportRow};

pub(crate) const HEADER: [&str; 9] = [
    "Name",
    "Email",
    "Password",
    "Nickname",
    "Description",
    "Group",
    "Status",
    "Created",
    "Last sign-in",
];

/// One agent's cells, in [`HEADER`]'s order. The Group cell is the path below the exported
/// group (empty for the group itself), which is what the import's Group column means.
pub(crate) fn lines(tree: &OrgTree, root: Id, agents: &[ExportRow]) -> Vec<[String; 9]> {
    let root_path = tree.path(root);
    agents
        .iter()
        .map(|agent| {
            let path = tree.path(agent.group_id);
            let below = path
                .strip_prefix(&root_path)
                .map(|rest| rest.trim_start_matches('/'))
                .unwrap_or(&path)
                .to_owned();
            let when = |at: i64| {
                chrono::DateTime::from_timestamp(at, 0)
                    .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default()
            };
            let status = if agent.enabled != 0 {
                "enabled"
            } else {
                "disabled"
            };
            [
                agent.name.clone(),
                agent.email.clone(),
                String::new(),
                agent.nickname.clone(),
                agent.description.clone(),
                below,
                status.to_owned(),
                when(agent.created_at),
                agent.last_sign_in_at.map(when).unwrap_or_default(),
            ]
        })
        .collect()
}

/// CSV: a spreadsheet opening it must not run a cell as a formula.
pub(crate) fn write_csv(lines: &[[String; 9]], to: impl std::io::Write) -> csv::Result<()> {
    let mut out = csv::Writer::from_writer(to);
    out.write_record(HEADER)?;
    for line in lines {
        out.write_record(line.iter().map(|cell| defuse(cell)))?;
    }
    out.flush()?;
    Ok(())
}

/// The .xlsx: every cell written as text, so nothing in it is ever a formula.
pub(crate) fn xlsx(lines: &[[String; 9]]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name("Agents")?;
    let bold = Format::new().set_bold();
    for (column, name) in (0u16..).zip(HEADER) {
        sheet.write_string_with_format(0, column, name, &bold)?;
        sheet.set_column_width(column, if column < 2 { 28 } else { 16 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (row, line) in (1u32..).zip(lines) {
        for (column, cell) in (0u16..).zip(line) {
            if !cell.is_empty() {
                sheet.write_string(row, column, cell)?;
            }
        }
    }
    workbook.save_to_buffer()
}

/// A spreadsheet opening the export must not run a name like `=HYPERLINK(...)` as a formula
/// (OWASP "CSV injection"): such cells get a leading apostrophe.
pub(crate) fn defuse(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}
