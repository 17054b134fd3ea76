//! Finding the columns by their header, in any order: Name, Email and Password are required,
//! Nickname, Description and Group optional, and a last column headed Result marks a result file
//! uploaded again.

use super::cell::Cell;
use super::error::FileError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    pub(crate) name: usize,
    pub(crate) email: usize,
    pub(crate) password: usize,
    pub(crate) nickname: Option<usize>,
    pub(crate) description: Option<usize>,
    /// A path below the selected group, per row.
    pub(crate) group: Option<usize>,
    /// Set when the last used header cell reads Result: the file is an earlier result, whose
    /// done rows are kept and whose Result column the new outcome replaces.
    pub(crate) result: Option<usize>,
}

const REQUIRED: [&str; 3] = ["Name", "Email", "Password"];
const OPTIONAL: [&str; 3] = ["Nickname", "Description", "Group"];
const RESULT: &str = "Result";

impl Columns {
    /// Matches header cells without case and surrounding spaces; a BOM that a CSV editor
    /// glued to the first header is dropped too.
    pub(crate) fn find(header: &[Cell]) -> Result<Columns, FileError> {
        let names = REQUIRED.iter().chain(OPTIONAL.iter());
        let mut found: [Option<usize>; 6] = [None; 6];
        let mut last_used = None;
        for (index, cell) in header.iter().enumerate() {
            let Some(text) = cell.display() else { continue };
            let key = normalize(&text);
            if key.is_empty() {
                continue;
            }
            last_used = Some((index, key.eq_ignore_ascii_case(RESULT)));
            if let Some(which) = names.clone().position(|n| n.eq_ignore_ascii_case(key)) {
                if found[which].is_some() {
                    let name = names.clone().nth(which).expect("found by position");
                    return Err(FileError::DuplicateColumn { name });
                }
                found[which] = Some(index);
            }
        }
        let result = last_used.and_then(|(index, is_result)| is_result.then_some(index));
        match found {
            [
                Some(name),
                Some(email),
                Some(password),
                nickname,
                description,
                group,
            ] => Ok(Columns {
                name,
                email,
                password,
                nickname,
                description,
                group,
                result,
            }),
            _ => Err(FileError::MissingColumns {
                missing: REQUIRED
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

    /// The three required columns at these places, nothing else: how most tests start.
    #[cfg(test)]
    pub(crate) fn required(name: usize, email: usize, password: usize) -> Columns {
        Columns {
            name,
            email,
            password,
            nickname: None,
            description: None,
            group: None,
            result: None,
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
        assert_eq!(found, Ok(Columns::required(3, 1, 0)));
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
        assert_eq!(Columns::find(&sheet.header), Ok(Columns::required(2, 0, 1)));
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

    #[test]
    fn optional_columns_are_found_by_name_too() {
        let found = Columns::find(&header(&[
            "Group",
            "Name",
            " description",
            "Email",
            "NICKNAME",
            "Password",
        ]))
        .unwrap();
        assert_eq!(
            found,
            Columns {
                nickname: Some(4),
                description: Some(2),
                group: Some(0),
                ..Columns::required(1, 3, 5)
            }
        );
        let err = Columns::find(&header(&["Name", "Email", "Password", "Group", "group"]));
        assert_eq!(err, Err(FileError::DuplicateColumn { name: "Group" }));
    }

    #[test]
    fn a_last_column_headed_result_makes_a_result_file() {
        let with = |cells: &[&str]| Columns::find(&header(cells)).unwrap().result;
        assert_eq!(with(&["Name", "Email", "Password", " result "]), Some(3));
        // Blank header cells after it do not count as used.
        assert_eq!(
            with(&["Name", "Email", "Password", "Result", "", "  "]),
            Some(3)
        );
        // Anywhere but last it is a column like any other, ignored.
        assert_eq!(with(&["Result", "Name", "Email", "Password"]), None);
        assert_eq!(with(&["Name", "Email", "Password", "Result", "Note"]), None);
        assert_eq!(with(&["Name", "Email", "Password"]), None);
    }

    #[test]
    fn a_result_file_written_by_roster_is_recognised() {
        let bytes = xlsx_rows(
            &["Name", "Email", "Password", "Team", "Result"],
            &[&["Ann", "a@x.org", "********", "", "Success"]],
        );
        let sheet = read(&bytes).unwrap();
        assert_eq!(Columns::find(&sheet.header).unwrap().result, Some(4));
    }
}
