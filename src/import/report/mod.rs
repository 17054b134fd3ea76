//! The result file: the uploaded sheet, passwords masked, with one Result column, then a
//! Summary sheet of the import.

mod layout;
mod summary;
#[cfg(test)]
pub(super) mod tests;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::cell::{Cell, Sheet};
use super::columns::Columns;
use super::outcome::RowOutcome;
pub(super) use layout::{Styles, Widths, col, prepare, shown_chars};
pub(crate) use summary::{ResultCounts, ResultSummary};

pub(super) const MASK: &str = "********";
/// Excel's limit for one cell, in UTF-16 units; rust_xlsxwriter refuses longer text, and a
/// CSV or a crafted workbook may hold longer.
const MAX_TEXT: usize = 32_767;
pub(super) const RESULT: &str = "Result";

/// Writes the result workbook. Rows keep their original numbers, so "row 7" in a message
/// is row 7 here and in the uploaded file. An upload that was itself a result file keeps its
/// Result column, the new outcomes in it: uploaded again and again, a file never grows.
pub(crate) fn write_result(
    sheet: &Sheet,
    columns: &Columns,
    outcome: &dyn Fn(u32) -> Option<RowOutcome>,
    summary: &ResultSummary,
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    // Level 1: most of a save is deflating the sheet; 100,000 rows save in about half the
    // time of the default level 6, for a file a few tenths larger.
    workbook.set_zip_compression_level(1);
    // Constant memory: rows go straight to a temporary file, so 100,000 rows cost megabytes,
    // not hundreds of them. Rows must then be written in ascending order, as they are.
    let ws = workbook.add_worksheet_with_constant_memory()?;
    if ws.set_name(&sheet.name).is_err() {
        // A crafted workbook may carry a name Excel refuses; the sheet is still the same.
        ws.set_name("Sheet1")?;
    }
    let result = columns.result.unwrap_or(sheet.width);
    let last_row = sheet
        .rows
        .iter()
        .map(|row| row.number - 1)
        .max()
        .unwrap_or(0);
    let widths = measure(sheet, columns, result, outcome);
    prepare(ws, &widths, last_row)?;
    let styles = Styles::new();

    for (column, cell) in sheet.header.iter().enumerate() {
        if column != result {
            write_cell(ws, 0, column, cell, Some(&styles.header))?;
        }
    }
    ws.write_string_with_format(0, col(result)?, RESULT, &styles.header)?;
    for row in &sheet.rows {
        let at = row.number - 1;
        for (column, cell) in row.cells.iter().enumerate() {
            if column == result {
                // The earlier outcome: replaced below, or left empty if the row has none now.
                continue;
            }
            if column == columns.password && !matches!(cell, Cell::Empty) {
                ws.write_string(at, col(column)?, MASK)?;
            } else {
                write_cell(ws, at, column, cell, None)?;
            }
        }
        if let Some(outcome) = outcome(row.number) {
            write_outcome(ws, at, result, &outcome, &styles)?;
        }
    }
    finish(workbook, summary)
}

/// Adds the Summary sheet after the first, the rows' sheet, and saves the workbook.
pub(super) fn finish(
    mut workbook: Workbook,
    summary: &ResultSummary,
) -> Result<Vec<u8>, XlsxError> {
    let data_sheet = workbook.worksheet_from_index(0)?.name();
    workbook.push_worksheet(summary::sheet(summary, &data_sheet)?);
    workbook.save_to_buffer()
}

/// The widths the cells will need, from the cells as they will be written (a password as its
/// mask): one pass that keeps only the longest length of each column.
fn measure(
    sheet: &Sheet,
    columns: &Columns,
    result: usize,
    outcome: &dyn Fn(u32) -> Option<RowOutcome>,
) -> Widths {
    let mut widths = Widths::new(sheet.width, result);
    for (column, cell) in sheet.header.iter().enumerate() {
        if column != result {
            widths.header(column, cell_chars(cell));
        }
    }
    widths.header(result, RESULT.len());
    for row in &sheet.rows {
        for (column, cell) in row.cells.iter().enumerate() {
            let chars = match cell {
                _ if column == result => continue,
                Cell::Empty => continue,
                _ if column == columns.password => MASK.len(),
                cell => cell_chars(cell),
            };
            widths.cell(column, chars);
        }
        if let Some(outcome) = outcome(row.number) {
            widths.cell(result, shown_chars(&outcome));
        }
    }
    widths
}

fn cell_chars(cell: &Cell) -> usize {
    match cell {
        Cell::Empty | Cell::UnsavedFormula => 0,
        Cell::Text(s) | Cell::DateTime(s) | Cell::Error(s) => s.chars().count(),
        Cell::Bool(true) => 4,
        Cell::Bool(false) => 5,
        Cell::Number(_) | Cell::Int(_) => cell.display().map_or(0, |shown| shown.len()),
    }
}

/// A Result cell, coloured by what became of the row.
pub(super) fn write_outcome(
    ws: &mut Worksheet,
    row: u32,
    column: usize,
    outcome: &RowOutcome,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let text = outcome.to_string();
    ws.write_string_with_format(row, col(column)?, clip(&text), styles.result(outcome))?;
    Ok(())
}

/// Values go in as values: text always as a string, never a formula, whatever it starts with.
fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    column: usize,
    cell: &Cell,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    let column = col(column)?;
    let plain = Format::new();
    let format = format.unwrap_or(&plain);
    match cell {
        // Its value is not known, and a formula is never written.
        Cell::Empty | Cell::UnsavedFormula => {}
        Cell::Text(s) | Cell::DateTime(s) | Cell::Error(s) => {
            ws.write_string_with_format(row, column, clip(s), format)?;
        }
        Cell::Number(f) if f.is_finite() => {
            ws.write_number_with_format(row, column, *f, format)?;
        }
        Cell::Int(i) => {
            ws.write_number_with_format(row, column, *i as f64, format)?;
        }
        Cell::Number(_) => {
            let shown = cell.display().unwrap_or_default();
            ws.write_string_with_format(row, column, shown, format)?;
        }
        Cell::Bool(b) => {
            ws.write_boolean_with_format(row, column, *b, format)?;
        }
    }
    Ok(())
}

fn clip(text: &str) -> &str {
    let mut units = 0;
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units > MAX_TEXT {
            return &text[..at];
        }
    }
    text
}
