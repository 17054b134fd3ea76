//! Finding the Name, Email and Password columns by their header, in any order.

use super::cell::Cell;
use super::error::FileError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    pub(crate) name: usize,
    pub(crate) email: usize,
    pub(crate) password: usize,
}

const NAMES: [&str; 3] = ["Name", "Email", "Password"];

impl Columns {
    /// Matches header cells without case and surrounding spaces; a BOM that a CSV editor
    /// glued to the first header is dropped too.
    pub(crate) fn find(header: &[Cell]) -> Result<Columns, FileError> {
        let mut found: [Option<usize>; 3] = [None; 3];
        for (index, cell) in header.iter().enumerate() {
            let Some(text) = cell.display() else { continue };
            let key = normalize(&text);
            if let Some(which) = NAMES.iter().position(|n| n.eq_ignore_ascii_case(key)) {
                if found[which].is_some() {
                    return Err(FileError::DuplicateColumn { name: NAMES[which] });
                }
                found[which] = Some(index);
            }
        }
        match found {
            [Some(name), Some(email), Some(password)] => Ok(Columns {
                name,
                email,
                password,
            }),
            _ => Err(FileError::MissingColumns {
                missing: NAMES
                    .iter()
                    .zip(found)
                    .filter(|(_, at)| at.is_none())
                    .map(|(n, _)| *n)
                    .collect(),
                found: header
                    .iter()
                    .filter_map(Cell::display)
                    .map(|t| normalize(&t).to_string())
                    .filter(|t| !t.is_empty())
                    .collect(),
            }),
        }
    }
}

fn normalize(text: &str) -> &str {
    text.trim().trim_start_matches('\u{FEFF}').trim()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{read, text, xlsx_rows};
    use super::*;

    fn header(cells: &[&str]) -> Vec<Cell> {
        cells.iter().map(|c| text(c)).collect()
    }

    #[test]
    fn any_order_case_spaces_and_bom() {
        let found = Columns::find(&header(&["  PASSWORD ", "\u{FEFF}email", "Team", "name"]));
        assert_eq!(
            found,
            Ok(Columns {
                name: 3,
                email: 1,
                password: 0
            })
        );
    }

    #[test]
    fn missing_columns_name_what_is_missing_and_what_was_found() {
        let err = Columns::find(&header(&["Name", "E-mail", "", "Pass word"])).unwrap_err();
        assert_eq!(
            err,
            FileError::MissingColumns {
                missing: vec!["Email", "Password"],
                found: vec!["Name".into(), "E-mail".into(), "Pass word".into()],
            }
        );
        let text = err.to_string();
        assert!(text.contains("\"Email\" or \"Password\""), "{text}");
        assert!(text.contains("\"E-mail\""), "{text}");
    }

    #[test]
    fn a_doubled_column_is_refused() {
        let err = Columns::find(&header(&["Name", "Email", "Password", " EMAIL"])).unwrap_err();
        assert_eq!(err, FileError::DuplicateColumn { name: "Email" });
    }

    #[test]
    fn a_header_row_in_a_workbook_is_matched_the_same_way() {
        let bytes = xlsx_rows(&["\u{FEFF}E-Mail", " Password", "NAME "], &[]);
        let err = Columns::find(&read(&bytes).unwrap().header).unwrap_err();
        assert!(
            matches!(err, FileError::MissingColumns { ref missing, .. } if missing == &["Email"])
        );
        let bytes = xlsx_rows(
            &["Email", " Password", "NAME "],
            &[&["a@x.org", "pw", "Ann"]],
        );
        let sheet = read(&bytes).unwrap();
        assert_eq!(
            Columns::find(&sheet.header),
            Ok(Columns {
                name: 2,
                email: 0,
                password: 1
            })
        );
    }

    #[test]
    fn an_empty_header_row_misses_everything() {
        let err = Columns::find(&[Cell::Empty, text("  ")]).unwrap_err();
        assert_eq!(
            err,
            FileError::MissingColumns {
                missing: vec!["Name", "Email", "Password"],
                found: vec![]
            }
        );
    }
}
