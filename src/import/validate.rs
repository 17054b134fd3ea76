//! The rules of one row (SPEC "File rules"), and of rows against each other.

use std::collections::HashMap;

use super::{Cell, Columns, Row, RowOutcome, Sheet};
use crate::domain::{AgentName, Email, PasswordPolicy};

/// A row that passed every rule: ready to hash and create.
#[derive(Debug, Clone)]
pub struct ValidRow {
    pub row_no: u32,
    pub name: AgentName,
    pub email: Email,
    /// Exactly as written in the cell: never trimmed.
    pub password: String,
}

/// Each data row becomes a valid row or the outcome for its Result cell.
pub enum Checked {
    Valid(ValidRow),
    Invalid { row_no: u32, outcome: RowOutcome },
}

/// Validates every row, then marks later repeats of an email within the file.
pub fn validate_rows(sheet: &Sheet, columns: &Columns, policy: &PasswordPolicy) -> Vec<Checked> {
    let mut first_seen: HashMap<String, u32> = HashMap::new();
    sheet
        .rows
        .iter()
        .map(|row| match check_row(row, columns, policy) {
            Ok(valid) => match first_seen.get(valid.email.key()) {
                Some(first) => Checked::Invalid {
                    row_no: row.number,
                    outcome: RowOutcome::Error(format!(
                        "Email {} is a duplicate of row {first}; every agent needs an email of their own",
                        valid.email
                    )),
                },
                None => {
                    first_seen.insert(valid.email.key().to_owned(), row.number);
                    Checked::Valid(valid)
                }
            },
            Err(problems) => Checked::Invalid {
                row_no: row.number,
                outcome: RowOutcome::Error(problems.join("; ")),
            },
        })
        .collect()
}

/// Every problem of the row, not only the first, so one round of fixes is enough.
fn check_row(
    row: &Row,
    columns: &Columns,
    policy: &PasswordPolicy,
) -> Result<ValidRow, Vec<String>> {
    let mut problems = Vec::new();
    let name = cell_text(row, columns.name, "Name")
        .and_then(|text| AgentName::parse(&text).map_err(|error| error.to_string()))
        .map_err(|problem| problems.push(problem))
        .ok();
    let email = cell_text(row, columns.email, "Email")
        .and_then(|text| Email::parse(&text).map_err(|error| error.to_string()))
        .map_err(|problem| problems.push(problem))
        .ok();
    let password = cell_text(row, columns.password, "Password")
        .and_then(|text| {
            policy
                .check(&text)
                .map(|()| text)
                .map_err(|error| error.to_string())
        })
        .map_err(|problem| problems.push(problem))
        .ok();
    match (name, email, password) {
        (Some(name), Some(email), Some(password)) => Ok(ValidRow {
            row_no: row.number,
            name,
            email,
            password,
        }),
        _ => Err(problems),
    }
}

/// The cell as the text the user typed. Dates, times and booleans are not text: a date in the
/// Password column would otherwise become a serial number nobody can sign in with.
fn cell_text(row: &Row, column: usize, field: &str) -> Result<String, String> {
    match row.cells.get(column).unwrap_or(&Cell::Empty) {
        Cell::Empty => Ok(String::new()),
        Cell::Text(text) => Ok(text.clone()),
        number @ (Cell::Number(_) | Cell::Int(_)) => Ok(number.display().unwrap_or_default()),
        Cell::Bool(value) => Err(format!(
            "{field} must be text, but the cell holds the logical value {}; format the column as Text and type it again",
            if *value { "TRUE" } else { "FALSE" }
        )),
        Cell::DateTime(value) => Err(format!(
            "{field} must be text, but the cell holds a date or time ({value}); format the column as Text and type it again"
        )),
        Cell::Error(code) => Err(format!(
            "{field} holds the spreadsheet error {code}; fix the formula or type the value"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(rows: Vec<Vec<Cell>>) -> Sheet {
        let text = |s: &str| Cell::Text(s.into());
        Sheet {
            name: "Agents".into(),
            header: vec![text("Name"), text("Email"), text("Password")],
            rows: rows
                .into_iter()
                .enumerate()
                .map(|(i, cells)| Row {
                    number: i as u32 + 2,
                    cells,
                })
                .collect(),
            width: 3,
        }
    }

    fn messages(rows: Vec<Vec<Cell>>) -> Vec<String> {
        let columns = Columns {
            name: 0,
            email: 1,
            password: 2,
        };
        validate_rows(&sheet(rows), &columns, &PasswordPolicy::default())
            .into_iter()
            .map(|checked| match checked {
                Checked::Valid(row) => format!("ok {} {} {}", row.name, row.email, row.password),
                Checked::Invalid { outcome, .. } => outcome.to_string(),
            })
            .collect()
    }

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn numbers_become_the_digits_typed() {
        let out = messages(vec![vec![
            t("Ann"),
            t("ann@example.com"),
            Cell::Number(12345678.0),
        ]]);
        assert_eq!(out, ["ok Ann ann@example.com 12345678"]);
    }

    #[test]
    fn every_problem_of_a_row_is_named() {
        let out = messages(vec![vec![
            Cell::DateTime("2024-03-01".into()),
            t("nope"),
            t("short"),
        ]]);
        assert!(
            out[0].starts_with("Error: Name must be text, but the cell holds a date"),
            "{}",
            out[0]
        );
        assert!(
            out[0].contains("Email \"nope\" is not a valid address"),
            "{}",
            out[0]
        );
        assert!(
            out[0].contains("Password is 5 characters long; at least 8"),
            "{}",
            out[0]
        );
    }

    #[test]
    fn repeats_within_the_file_name_the_first_row() {
        let out = messages(vec![
            vec![t("Ann"), t("Ann@Example.com"), t("password1")],
            vec![t("Bob"), t(" ann@example.COM "), t("password2")],
        ]);
        assert!(out[0].starts_with("ok"));
        assert!(out[1].contains("is a duplicate of row 2"), "{}", out[1]);
    }

    #[test]
    fn error_cells_and_booleans_fail_their_row() {
        let out = messages(vec![vec![
            t("Ann"),
            Cell::Error("#DIV/0!".into()),
            Cell::Bool(true),
        ]]);
        assert!(
            out[0].contains("Email holds the spreadsheet error #DIV/0!"),
            "{}",
            out[0]
        );
        assert!(
            out[0].contains("Password must be text, but the cell holds the logical value TRUE"),
            "{}",
            out[0]
        );
    }

    #[test]
    fn passwords_are_never_trimmed() {
        let out = messages(vec![vec![
            t("Ann"),
            t("ann@example.com"),
            t("  pass word  "),
        ]]);
        assert_eq!(out, ["ok Ann ann@example.com   pass word  "]);
    }
}
