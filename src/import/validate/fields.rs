//! One cell of a row read into the value it stands for, or the problem to show in its Result.

use super::super::report::MASK;
use super::super::{Cell, Row};
use crate::domain::{GroupPath, PasswordPolicy};

/// Whether a problem with a cell may quote what it holds: never a password's, which must not
/// reach a result file, the database or a log even when it is of the wrong type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quote {
    Value,
    Never,
}

/// The cell as the text the user typed. Dates, times and booleans are not text: a date in the
/// Password column would otherwise become a serial number nobody can sign in with.
pub(super) fn cell_text(
    row: &Row,
    column: usize,
    field: &str,
    quote: Quote,
) -> Result<String, String> {
    let quoted = |shown: String, unshown: &str| match quote {
        Quote::Value => shown,
        Quote::Never => unshown.to_owned(),
    };
    match row.cells.get(column).unwrap_or(&Cell::Empty) {
        Cell::Empty => Ok(String::new()),
        Cell::Text(text) => Ok(text.clone()),
        number @ (Cell::Number(_) | Cell::Int(_)) => Ok(number.display().unwrap_or_default()),
        Cell::Bool(value) => {
            let shown = format!(
                "the logical value {}",
                if *value { "TRUE" } else { "FALSE" }
            );
            Err(not_text(field, &quoted(shown, "a logical value")))
        }
        Cell::DateTime(value) => {
            let shown = format!("a date or time ({value})");
            Err(not_text(field, &quoted(shown, "a date or time")))
        }
        Cell::Error(code) => Err(format!(
            "{field} holds the spreadsheet error {code}; fix the formula or type the value"
        )),
        // Nothing of the cell is known, so nothing is quoted, for a password neither.
        Cell::UnsavedFormula => Err(format!(
            "{field} is a formula with no saved value; open the file in Excel and save it again"
        )),
    }
}

fn not_text(field: &str, holds: &str) -> String {
    format!(
        "{field} must be text, but the cell holds {holds}; format the column as Text and type it again"
    )
}

/// An optional column's text: empty when the file has no such column.
pub(super) fn optional_text(
    row: &Row,
    column: Option<usize>,
    field: &str,
) -> Result<String, String> {
    column.map_or(Ok(String::new()), |column| {
        cell_text(row, column, field, Quote::Value)
    })
}

/// The password exactly as typed. The mask a result file shows in place of every password is
/// refused whatever the policy: an agent created with it would sign in with `********`.
pub(super) fn password(text: String, policy: &PasswordPolicy) -> Result<String, String> {
    if text == MASK {
        return Err("type the password again: result files never keep passwords".to_owned());
    }
    policy
        .check(&text)
        .map(|()| text)
        .map_err(|error| error.to_string())
}

/// A path below the group the import targets; blank means that group itself. A path that
/// would climb out of it (`..`, or a leading `/` read as starting from the top of the tree) is
/// refused here, so the pipeline only ever creates groups inside the one selected.
pub(super) fn group_below(text: &str) -> Result<Option<GroupPath>, String> {
    let path = text.trim();
    if path.is_empty() {
        return Ok(None);
    }
    let shown = shorten(path);
    if path.starts_with('/') {
        return Err(format!(
            "Group \"{shown}\" starts with \"/\"; write the path below the selected group without it, such as Tier 1/Night"
        ));
    }
    if path
        .split('/')
        .any(|segment| matches!(segment.trim(), "." | ".."))
    {
        return Err(format!(
            "Group \"{shown}\" tries to leave the selected group; write a path below it, such as Tier 1/Night"
        ));
    }
    GroupPath::parse(path).map(Some).map_err(|error| {
        format!("Group \"{shown}\" is not a path below the selected group: {error}")
    })
}

/// A cell can hold 32,767 characters; a message quoting it needs only enough to find it.
fn shorten(text: &str) -> String {
    const SHOWN: usize = 60;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(path: &GroupPath) -> Vec<&str> {
        path.segments().iter().map(|name| name.as_str()).collect()
    }

    #[test]
    fn group_paths_stay_below_the_selected_group() {
        assert_eq!(group_below("  "), Ok(None));
        let path = group_below(" Tier 1 / Night ").unwrap().unwrap();
        assert_eq!(names(&path), ["Tier 1", "Night"]);
        for (raw, says) in [
            ("..", "tries to leave the selected group"),
            ("Tier 1/../..", "tries to leave the selected group"),
            ("./Tier 1", "tries to leave the selected group"),
            ("/Tier 1", "starts with \"/\""),
            (" / ", "starts with \"/\""),
            ("Tier\u{7}1", "control character"),
        ] {
            let problem = group_below(raw).unwrap_err();
            assert!(problem.starts_with("Group \""), "{problem}");
            assert!(problem.contains(says), "{raw}: {problem}");
        }
        let long = group_below(&"x".repeat(200)).unwrap_err();
        assert!(long.contains("200 characters long"), "{long}");
        assert!(long.len() < 300, "{long}");
    }

    #[test]
    fn the_mask_is_never_a_password_whatever_the_policy() {
        let lenient = PasswordPolicy::default();
        assert_eq!(
            password(MASK.to_owned(), &lenient),
            Err("type the password again: result files never keep passwords".to_owned())
        );
        // Only the mask exactly: a password that merely contains stars is a password.
        assert!(password(" ******** ".to_owned(), &lenient).is_ok());
        assert!(password("*********".to_owned(), &lenient).is_ok());
    }
}
