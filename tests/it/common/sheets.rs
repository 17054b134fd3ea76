//! Spreadsheets built in code for the tests, with the real writer.

use rust_xlsxwriter::{Format, Formula, Workbook};

/// A cell to write: text, number, a formula with its cached value or without one, a date, a
/// boolean, an error.
#[derive(Clone, Debug)]
pub enum C {
    T(&'static str),
    S(String),
    N(f64),
    F(&'static str, &'static str),
    /// A formula written as programs that do not calculate write it: no result given.
    Unsaved(&'static str),
    Date,
    B(bool),
    Blank,
}

pub fn t(text: &'static str) -> C {
    C::T(text)
}

/// An .xlsx whose first sheet holds `rows` (row 0 is the header).
pub fn xlsx(rows: &[Vec<C>]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                C::T(text) => sheet.write_string(r, c, *text).map(|_| ()),
                C::S(text) => sheet.write_string(r, c, text).map(|_| ()),
                C::N(number) => sheet.write_number(r, c, *number).map(|_| ()),
                C::F(formula, cached) => sheet
                    .write_formula(r, c, Formula::new(*formula).set_result(*cached))
                    .map(|_| ()),
                C::Unsaved(formula) => sheet.write_formula(r, c, *formula).map(|_| ()),
                C::Date => sheet
                    .write_number_with_format(r, c, 45352.0, &date)
                    .map(|_| ()),
                C::B(value) => sheet.write_boolean(r, c, *value).map(|_| ()),
                C::Blank => sheet
                    .write_blank(r, c, &Format::new().set_bold())
                    .map(|_| ()),
            }
            .expect("write cell");
        }
    }
    workbook.save_to_buffer().expect("save workbook")
}

/// The standard header and `n` valid agents named after `prefix`.
pub fn agents(prefix: &str, n: usize) -> Vec<Vec<C>> {
    let mut rows = vec![vec![t("Name"), t("Email"), t("Password")]];
    for i in 0..n {
        rows.push(vec![
            C::S(format!("{prefix} Agent {i}")),
            C::S(format!("{prefix}.agent{i}@example.com").to_lowercase()),
            C::S(format!("secret-{prefix}-{i}")),
        ]);
    }
    rows
}

/// Reads a result file's first sheet as text cells, for assertions.
pub fn read_result(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("the result is an xlsx");
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).expect("first sheet");
    let (height, width) = range.get_size();
    let start = range.start().unwrap_or((0, 0));
    let mut rows = vec![vec![String::new(); width + start.1 as usize]; height + start.0 as usize];
    for (r, c, value) in range.used_cells() {
        rows[r + start.0 as usize][c + start.1 as usize] = value.to_string();
    }
    rows
}
