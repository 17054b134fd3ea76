//! The result file: the uploaded sheet, passwords masked, with a Result column.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::cell::{Cell, Sheet};
use super::columns::Columns;

pub(super) const MASK: &str = "********";
/// Excel's limit for one cell, in UTF-16 units; rust_xlsxwriter refuses longer text, and a
/// CSV or a crafted workbook may hold longer.
const MAX_TEXT: usize = 32_767;

/// Writes the result workbook. Rows keep their original numbers, so "row 7" in a message
/// is row 7 here and in the uploaded file.
pub(crate) fn write_result(
    sheet: &Sheet,
    columns: &Columns,
    outcome: &dyn Fn(u32) -> Option<String>,
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    // Constant memory: rows go straight to a temporary file, so 100,000 rows cost megabytes,
    // not hundreds of them. Rows must then be written in ascending order, as they are.
    let ws = workbook.add_worksheet_with_constant_memory()?;
    if ws.set_name(&sheet.name).is_err() {
        // A crafted workbook may carry a name Excel refuses; the sheet is still the same.
        ws.set_name("Sheet1")?;
    }
    let result_column = u16::try_from(sheet.width).map_err(|_| XlsxError::RowColumnLimitError)?;
    let bold = Format::new().set_bold();
    for column in 0..=result_column {
        ws.set_column_width(column, 20)?;
    }
    ws.set_column_width(result_column, 60)?;

    for (column, cell) in sheet.header.iter().enumerate() {
        write_cell(ws, 0, column, cell, Some(&bold))?;
    }
    ws.write_string_with_format(0, result_column, "Result", &bold)?;

    for row in &sheet.rows {
        let at = row.number - 1;
        for (column, cell) in row.cells.iter().enumerate() {
            if column == columns.password && !matches!(cell, Cell::Empty) {
                ws.write_string(at, column as u16, MASK)?;
            } else {
                write_cell(ws, at, column, cell, None)?;
            }
        }
        if let Some(text) = outcome(row.number) {
            ws.write_string(at, result_column, clip(&text))?;
        }
    }
    workbook.save_to_buffer()
}

/// Values go in as values: text always as a string, never a formula, whatever it starts with.
fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    column: usize,
    cell: &Cell,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    let column = u16::try_from(column).map_err(|_| XlsxError::RowColumnLimitError)?;
    let plain = Format::new();
    let format = format.unwrap_or(&plain);
    match cell {
        Cell::Empty => {}
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

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use calamine::{Data, Reader, Xlsx};

    use super::super::test_support::{read, xlsx_from, xlsx_rows};
    use super::*;

    fn result_of(bytes: &[u8]) -> (Sheet, Vec<u8>) {
        let sheet = read(bytes).unwrap();
        let columns = Columns::find(&sheet.header).unwrap();
        let outcome = |n: u32| {
            Some(if n == 2 {
                "Success".into()
            } else {
                format!("Error: row {n}")
            })
        };
        let out = write_result(&sheet, &columns, &outcome).unwrap();
        (sheet, out)
    }

    fn cells_of(result: &[u8]) -> (String, calamine::Range<Data>) {
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(result)).unwrap();
        let name = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&name).unwrap();
        (name, range)
    }

    fn at(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
        range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
    }

    #[test]
    fn result_column_masks_and_keeps_everything_else() {
        let bytes = xlsx_from(|ws| {
            ws.set_name("My agents").unwrap();
            for (c, h) in ["Team", "Name", "Email", "Password", "Note"]
                .iter()
                .enumerate()
            {
                ws.write_string(0, c as u16, *h).unwrap();
            }
            ws.write_string(1, 0, "Blue").unwrap();
            ws.write_string(1, 1, "=HYPERLINK(\"http://evil\",\"x\")")
                .unwrap();
            ws.write_string(1, 2, "+a@x.org").unwrap();
            ws.write_string(1, 3, "secret-password").unwrap();
            ws.write_number(1, 4, 42.0).unwrap();
            // Row 3 left blank, row 4 hidden: the numbers must survive.
            ws.write_string(3, 1, "@Bob").unwrap();
            ws.write_number(3, 3, 123456.0).unwrap();
            ws.write_boolean(3, 4, true).unwrap();
            ws.set_row_hidden(3).unwrap();
        });
        let (sheet, out) = result_of(&bytes);
        assert_eq!(sheet.width, 5);
        let (name, range) = cells_of(&out);
        assert_eq!(name, "My agents");
        assert_eq!(at(&range, 0, 5), Data::String("Result".into()));
        assert_eq!(at(&range, 0, 0), Data::String("Team".into()));
        assert_eq!(at(&range, 1, 0), Data::String("Blue".into()));
        assert_eq!(
            at(&range, 1, 1),
            Data::String("=HYPERLINK(\"http://evil\",\"x\")".into())
        );
        assert_eq!(at(&range, 1, 2), Data::String("+a@x.org".into()));
        assert_eq!(at(&range, 1, 3), Data::String(MASK.into()));
        assert_eq!(at(&range, 1, 4), Data::Float(42.0));
        assert_eq!(at(&range, 1, 5), Data::String("Success".into()));
        assert_eq!(at(&range, 2, 1), Data::Empty, "blank row 3 stays absent");
        assert_eq!(at(&range, 3, 1), Data::String("@Bob".into()));
        assert_eq!(at(&range, 3, 3), Data::String(MASK.into()));
        assert_eq!(at(&range, 3, 4), Data::Bool(true));
        assert_eq!(at(&range, 3, 5), Data::String("Error: row 4".into()));
        assert_eq!(range.end(), Some((3, 5)));

        let sheet_xml = part(&out, "xl/worksheets/sheet1.xml");
        assert!(
            !sheet_xml.contains("<f>") && !sheet_xml.contains("<f "),
            "{sheet_xml}"
        );
        assert!(!sheet_xml.contains("secret-password"));
        assert!(!sheet_xml.contains("123456"));
    }

    #[test]
    fn a_blank_password_stays_blank_and_no_outcome_leaves_no_text() {
        let bytes = xlsx_rows(&["Name", "Email", "Password"], &[&["Ann", "a@x.org"]]);
        let sheet = read(&bytes).unwrap();
        let columns = Columns::find(&sheet.header).unwrap();
        let out = write_result(&sheet, &columns, &|_| None).unwrap();
        let (_, range) = cells_of(&out);
        assert_eq!(at(&range, 1, 2), Data::Empty);
        assert_eq!(at(&range, 1, 3), Data::Empty);
        assert_eq!(at(&range, 0, 3), Data::String("Result".into()));
    }

    #[test]
    fn csv_results_and_overlong_text() {
        let long = "x".repeat(40_000);
        let csv = format!("Name,Email,Password\n{long},a@x.org,pw\n");
        let (_, out) = result_of(csv.as_bytes());
        let (name, range) = cells_of(&out);
        assert_eq!(name, "Sheet1");
        assert_eq!(at(&range, 1, 0), Data::String("x".repeat(MAX_TEXT)));
        assert_eq!(at(&range, 1, 2), Data::String(MASK.into()));
        assert_eq!(at(&range, 1, 3), Data::String("Success".into()));
    }

    fn part(zip_bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(zip_bytes)).unwrap();
        let mut text = String::new();
        zip.by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }
}
