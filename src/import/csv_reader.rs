//! A CSV upload as a sheet named "Sheet1", the name Excel gives it when opened.

use super::cell::{Cell, Sheet};
use super::error::FileError;
use super::limits::Limits;
use super::rows::Rows;

pub(super) fn read(bytes: &[u8], limits: &Limits) -> Result<Sheet, FileError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(text);
    let mut rows = Rows::new("Sheet1".to_string(), limits);
    let mut record = csv::StringRecord::new();
    // A spreadsheet shows each record as one row, a quoted multi-line value included, and a
    // blank line (which the csv crate skips) as an empty row. The row number is therefore
    // the physical line the record starts on, less the line breaks inside earlier values.
    let mut cursor = 0usize;
    let mut lines_before = 0u64;
    let mut breaks_in_values = 0u64;
    let mut next_row = 0u64;
    while reader.read_record(&mut record).map_err(csv_error)? {
        let end =
            usize::try_from(reader.position().byte()).map_or(text.len(), |e| e.min(text.len()));
        let mut content_end = end.max(cursor);
        while content_end > cursor && matches!(text[content_end - 1], b'\n' | b'\r') {
            content_end -= 1;
        }
        // A quote left open runs to the end of the file: the line breaks just trimmed are then
        // its value's own, not the end of the record.
        let value_ends_in_break = record
            .iter()
            .next_back()
            .is_some_and(|f| f.ends_with(['\n', '\r']));
        if value_ends_in_break && content_end > cursor && text[content_end - 1] != b'"' {
            content_end = end.max(cursor);
        }
        lines_before += line_breaks(&text[cursor..content_end]);
        cursor = content_end;
        let inside: u64 = record.iter().map(|f| line_breaks(f.as_bytes())).sum();
        // Never before the row of the previous record, whatever a malformed file holds.
        let row = lines_before
            .saturating_sub(inside)
            .saturating_sub(breaks_in_values)
            .max(next_row);
        next_row = row + 1;
        breaks_in_values += inside;
        let row = u32::try_from(row).map_err(|_| FileError::TooManyRows {
            limit: limits.max_rows,
        })?;
        for (column, field) in record.iter().enumerate() {
            let cell = if field.is_empty() {
                Cell::Empty
            } else {
                // Always text: "000123" stays "000123", as the template promises.
                Cell::Text(field.to_string())
            };
            let column = u32::try_from(column).unwrap_or(u32::MAX);
            rows.push(row, column, cell)?;
        }
    }
    rows.finish()
}

/// Excel saves "CSV" with a semicolon where the comma is the decimal mark (much of Europe),
/// and some tools export tabs: the header line tells which one this file uses.
fn delimiter(text: &[u8]) -> u8 {
    let first_line = text
        .split(|&b| b == b'\n' || b == b'\r')
        .find(|line| !line.is_empty())
        .unwrap_or(&[]);
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|&d| (count(d), d == b','))
        .unwrap_or(b',')
}

/// CRLF, LF and a lone CR each end a line, as the csv crate reads them.
fn line_breaks(bytes: &[u8]) -> u64 {
    let lone_cr = bytes
        .windows(2)
        .filter(|w| w[0] == b'\r' && w[1] != b'\n')
        .count()
        + usize::from(bytes.last() == Some(&b'\r'));
    (bytes.iter().filter(|&&b| b == b'\n').count() + lone_cr) as u64
}

fn csv_error(e: csv::Error) -> FileError {
    FileError::Corrupt(format!("the CSV file cannot be read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{read, read_with, shown, text};
    use super::*;

    #[test]
    fn csv_with_and_without_bom() {
        for bytes in [
            &b"Name,Email,Password\r\nAnn,ann@x.org,secret123\r\n"[..],
            &b"\xEF\xBB\xBFName,Email,Password\nAnn,ann@x.org,secret123\n"[..],
        ] {
            let sheet = read(bytes).unwrap();
            assert_eq!(sheet.name, "Sheet1");
            assert_eq!(
                sheet.header,
                vec![text("Name"), text("Email"), text("Password")]
            );
            assert_eq!(sheet.rows.len(), 1);
            assert_eq!(sheet.rows[0].number, 2);
            assert_eq!(sheet.width, 3);
        }
    }

    #[test]
    fn quoted_commas_and_newlines_stay_in_one_cell() {
        let bytes =
            b"Name,Email,Password\n\"Doe, Jane\",jane@x.org,\"line1\nline2\"\nBob,bob@x.org,pw\n";
        let sheet = read(bytes).unwrap();
        assert_eq!(sheet.rows.len(), 2);
        assert_eq!(sheet.rows[0].cells[0], text("Doe, Jane"));
        assert_eq!(sheet.rows[0].cells[2], text("line1\nline2"));
        // Bob sits on row 3 as a spreadsheet shows it, although he is on line 4.
        assert_eq!(sheet.rows[1].number, 3);
    }

    #[test]
    fn csv_cells_are_text_and_empty_is_empty() {
        let bytes = b"Name,Email,Password\nAnn,,000123\n";
        let sheet = read(bytes).unwrap();
        assert_eq!(
            sheet.rows[0].cells,
            vec![text("Ann"), Cell::Empty, text("000123")]
        );
        assert_eq!(shown(&sheet, 2)[2].as_deref(), Some("000123"));
    }

    #[test]
    fn blank_lines_are_skipped_but_keep_row_numbers() {
        let bytes = b"Name,Email,Password\n\n , ,\nAnn,a@x.org,pw\n,,\n";
        let sheet = read(bytes).unwrap();
        assert_eq!(sheet.rows.len(), 1);
        assert_eq!(sheet.rows[0].number, 4);
    }

    #[test]
    fn ragged_rows_and_extra_columns() {
        let bytes = b"Name,Email,Password,Team\nAnn,a@x.org\nBob,b@x.org,pw,Blue,extra\n";
        let sheet = read(bytes).unwrap();
        assert_eq!(sheet.width, 5);
        assert_eq!(sheet.rows[0].cells.len(), 2);
    }

    #[test]
    fn too_many_csv_rows_stop_the_read() {
        let mut bytes = b"Name,Email,Password\n".to_vec();
        for i in 0..11 {
            bytes.extend(format!("n{i},e{i}@x.org,password\n").as_bytes());
        }
        let limits = Limits {
            max_rows: 10,
            ..Limits::default()
        };
        assert_eq!(
            read_with(&bytes, &limits),
            Err(FileError::TooManyRows { limit: 10 })
        );
        let limits = Limits {
            max_rows: 11,
            ..Limits::default()
        };
        assert_eq!(read_with(&bytes, &limits).unwrap().rows.len(), 11);
    }

    #[test]
    fn a_header_further_down_is_not_searched_for() {
        let bytes = b"\n\nName,Email,Password\nAnn,a@x.org,pw\n";
        let sheet = read(bytes).unwrap();
        assert!(sheet.header.is_empty());
        assert_eq!(sheet.rows[0].number, 3);
    }

    #[test]
    fn old_mac_line_ends_make_rows_too() {
        let sheet = read(b"Name,Email,Password\rAnn,a@x.org,pw\r\rBob,b@x.org,pw").unwrap();
        assert_eq!(sheet.header[0], text("Name"));
        let numbers: Vec<u32> = sheet.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [2, 4]);
    }

    #[test]
    fn semicolon_and_tab_separated_files_are_understood() {
        let sheet = read(b"Name;Email;Password\n\"Doe, Jane\";j@x.org;pw;x\n").unwrap();
        assert_eq!(
            sheet.header,
            vec![text("Name"), text("Email"), text("Password")]
        );
        assert_eq!(sheet.rows[0].cells[0], text("Doe, Jane"));
        let sheet = read(b"Name\tEmail\tPassword\nAnn\ta@x.org\tpw\n").unwrap();
        assert_eq!(sheet.rows[0].cells[2], text("pw"));
        // A comma header with a semicolon in a later value stays comma separated.
        let sheet = read(b"Name,Email,Password\nA;B,a@x.org,pw\n").unwrap();
        assert_eq!(sheet.rows[0].cells[0], text("A;B"));
    }

    #[test]
    fn rows_past_the_last_spreadsheet_row_are_refused() {
        let mut bytes = b"Name,Email,Password\n".to_vec();
        bytes.extend(vec![b'\n'; 1_048_576]);
        bytes.extend(b"Ann,a@x.org,pw\n");
        assert_eq!(read(&bytes), Err(FileError::PastLastRow));
    }

    #[test]
    fn a_quote_left_open_at_the_end_keeps_its_line_breaks() {
        // Found by fuzzing: the value's line breaks were taken for the record's end, and the
        // row number underflowed.
        let sheet = read(b"Name,Email\r\n\"Ann\n\n").unwrap();
        assert_eq!(sheet.header, vec![text("Name"), text("Email")]);
        assert_eq!(sheet.rows.len(), 1);
        assert_eq!(sheet.rows[0].number, 2);
        assert_eq!(sheet.rows[0].cells[0], text("Ann\n\n"));
        let sheet = read(b"Name,Email\n\n\nBob,\"b\n\n").unwrap();
        assert_eq!(sheet.rows[0].number, 4);
    }

    #[test]
    fn a_sheet_of_blanks_has_no_header() {
        assert_eq!(read(b"\n , \n\n"), Err(FileError::NoHeader));
    }
}
