//! Cell and row references, which calamine parses into u32 without overflow checks: each must
//! name a cell inside Excel's grid, and a range must not end before it starts.

use quick_xml::events::BytesStart;

use super::attrs::attrs;
use crate::import::error::FileError;

const MAX_ROW: u64 = 1_048_576;
const MAX_COLUMN: u64 = 16_384;

/// Every `key` attribute of the element: a cell, a range ("A1:C9") or a list of ranges.
pub(super) fn check_refs(e: &BytesStart<'_>, key: &str, part: &str) -> Result<(), FileError> {
    for v in attrs(e, key) {
        // A range ("A1:C9") or a list of ranges ("A1:B2 D4"), as dimension and sqref allow.
        for range in v.split(|&b| b == b' ') {
            let mut cells = Vec::new();
            for cell in range.split(|&b| b == b':').filter(|c| !c.is_empty()) {
                cells.push(cell_ref(cell).ok_or_else(|| bad_ref(&v, part))?);
            }
            // calamine subtracts a range's start from its end, unchecked (found by fuzzing:
            // `A4:D3` panics in a debug build).
            if let [(first_row, first_column), (last_row, last_column)] = cells[..]
                && (last_row < first_row || last_column < first_column)
            {
                let shown: String = String::from_utf8_lossy(range).chars().take(40).collect();
                return Err(FileError::Corrupt(format!(
                    "part {part} holds the range \"{shown}\", which ends before it starts"
                )));
            }
        }
    }
    Ok(())
}

/// Every `r` attribute of a `<row>`.
pub(super) fn check_row(e: &BytesStart<'_>, part: &str) -> Result<(), FileError> {
    for v in attrs(e, "r") {
        row_number(&v).ok_or_else(|| bad_ref(&v, part))?;
    }
    Ok(())
}

fn bad_ref(v: &[u8], part: &str) -> FileError {
    let shown: String = String::from_utf8_lossy(v).chars().take(40).collect();
    FileError::Corrupt(format!(
        "part {part} refers to cell \"{shown}\", outside the sheet"
    ))
}

/// Letters then digits, as calamine's parser reads them, inside Excel's grid.
fn cell_ref(v: &[u8]) -> Option<(u64, u64)> {
    let digits_at = v.iter().position(u8::is_ascii_digit)?;
    let (letters, digits) = v.split_at(digits_at);
    if letters.is_empty() || letters.len() > 3 || !letters.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let column = letters.iter().fold(0u64, |acc, c| {
        acc * 26 + u64::from(c.to_ascii_uppercase() - b'A') + 1
    });
    let row = row_digits(digits)?;
    (column <= MAX_COLUMN).then_some((row, column))
}

/// A `row r` attribute: calamine accepts and ignores a column part.
fn row_number(v: &[u8]) -> Option<u64> {
    let digits_at = v.iter().position(u8::is_ascii_digit)?;
    if digits_at == 0 {
        row_digits(v)
    } else {
        cell_ref(v).map(|(row, _)| row)
    }
}

fn row_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 7 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let row = digits
        .iter()
        .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    (1..=MAX_ROW).contains(&row).then_some(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::{SHEET_START, header_row, read, sheet_with, xlsx_with};

    #[test]
    fn references_outside_the_grid_are_refused() {
        for bad in [
            r#"<row r="1"><c r="XFE1"><v>1</v></c></row>"#,
            r#"<row r="1"><c r="A1048577"><v>1</v></c></row>"#,
            r#"<row r="1"><c r="A99999999999"><v>1</v></c></row>"#,
            r#"<row r="1"><c r="AAAAAAAAAAAAAAA1"><v>1</v></c></row>"#,
            r#"<row r="4294967297"><c><v>1</v></c></row>"#,
            r#"<row r="1"><c r="A0"><v>1</v></c></row>"#,
        ] {
            let got = read(&xlsx_with(&[(
                "xl/worksheets/sheet1.xml",
                &sheet_with(bad),
            )]));
            assert!(matches!(got, Err(FileError::Corrupt(_))), "{bad}: {got:?}");
        }
        let dimension = format!(
            "{SHEET_START}<dimension ref=\"A1:XFD99999999\"/><sheetData>{}</sheetData></worksheet>",
            header_row()
        );
        let got = read(&xlsx_with(&[("xl/worksheets/sheet1.xml", &dimension)]));
        assert!(matches!(got, Err(FileError::Corrupt(_))), "{got:?}");
        // A range must not end before it starts: calamine subtracts one from the other.
        for backwards in ["A4:D3", "D1:A3"] {
            let sheet = format!(
                "{SHEET_START}<dimension ref=\"{backwards}\"/><sheetData>{}</sheetData></worksheet>",
                header_row()
            );
            let got = read(&xlsx_with(&[("xl/worksheets/sheet1.xml", &sheet)]));
            assert!(
                matches!(&got, Err(FileError::Corrupt(m)) if m.contains("ends before it starts")),
                "{backwards}: {got:?}"
            );
        }
        // The last cell of the grid is a valid reference.
        assert_eq!(cell_ref(b"XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(row_number(b"1048576"), Some(1_048_576));
    }
}
