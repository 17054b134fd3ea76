//! The rules of one row (SPEC "File rules"), and of rows against each other.

mod fields;

use std::collections::HashMap;

use super::{Cell, Columns, Row, RowOutcome, Sheet};
use crate::domain::{AgentName, Description, Email, GroupPath, Nickname, PasswordPolicy};
use fields::{Quote, cell_text, group_below, optional_text, password};

/// A row that passed every rule: ready to hash and create.
#[derive(Debug, Clone)]
pub struct ValidRow {
    pub row_no: u32,
    pub name: AgentName,
    pub email: Email,
    /// Exactly as written in the cell: never trimmed. None only where a blank cell is allowed:
    /// in mode update, where it keeps an existing agent's password (a new agent still needs one).
    pub password: Option<String>,
    /// Empty when the file has no Nickname column or the cell is blank.
    pub nickname: Nickname,
    /// Empty when the file has no Description column or the cell is blank.
    pub description: Description,
    /// Where the agent goes below the selected group; `None` is the selected group itself.
    pub group: Option<GroupPath>,
}

/// Each data row becomes a valid row, the outcome for its Result cell, or — in a result file
/// uploaded again — the earlier outcome of a row already done.
pub enum Checked {
    Valid(ValidRow),
    Invalid {
        row_no: u32,
        outcome: RowOutcome,
    },
    /// Not validated and not imported again: its outcome is the earlier Result cell.
    Kept {
        row_no: u32,
        outcome: RowOutcome,
    },
}

/// What a row is checked against besides its own cells.
#[derive(Debug, Clone)]
pub struct RowRules {
    pub policy: PasswordPolicy,
    /// Mode update: a blank Password cell keeps the agent's password instead of failing.
    pub blank_password_keeps: bool,
}

impl RowRules {
    pub fn creating(policy: PasswordPolicy) -> RowRules {
        RowRules {
            policy,
            blank_password_keeps: false,
        }
    }
}

/// Validates every row, then marks later repeats of an email within the file. Rows a result
/// file says are done are kept as they are and take no part in the repeat check: only rows
/// being imported are compared with each other.
pub fn validate_rows(sheet: &Sheet, columns: &Columns, rules: &RowRules) -> Vec<Checked> {
    let mut first_seen: HashMap<String, u32> = HashMap::new();
    sheet
        .rows
        .iter()
        .map(|row| {
            if let Some(earlier) = columns.result.and_then(|at| done_before(row, at)) {
                return Checked::Kept {
                    row_no: row.number,
                    outcome: RowOutcome::Kept(earlier),
                };
            }
            match check_row(row, columns, rules) {
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
            }
        })
        .collect()
}

/// The Result cell of a row an earlier import finished with: created, updated or skipped on
/// purpose. Everything else (errors, rows not imported, a check's "Would …") is imported again.
fn done_before(row: &Row, result: usize) -> Option<String> {
    let Cell::Text(text) = row.cells.get(result)? else {
        return None;
    };
    let word = text.trim();
    let done = word.eq_ignore_ascii_case("Success")
        || word.eq_ignore_ascii_case("Updated")
        || word
            .get(..7)
            .is_some_and(|start| start.eq_ignore_ascii_case("Skipped"));
    done.then(|| text.clone())
}

/// Every problem of the row, not only the first, so one round of fixes is enough.
fn check_row(row: &Row, columns: &Columns, rules: &RowRules) -> Result<ValidRow, Vec<String>> {
    let mut problems = Vec::new();
    let text = |column, field| cell_text(row, column, field, Quote::Value);
    let optional = |column, field| optional_text(row, column, field);
    let name = keep(
        &mut problems,
        text(columns.name, "Name").and_then(parse(AgentName::parse)),
    );
    let email = keep(
        &mut problems,
        text(columns.email, "Email").and_then(parse(Email::parse)),
    );
    let password = keep(
        &mut problems,
        cell_text(row, columns.password, "Password", Quote::Never).and_then(|typed| {
            match typed.is_empty() {
                true if rules.blank_password_keeps => Ok(None),
                _ => password(typed, &rules.policy).map(Some),
            }
        }),
    );
    let nickname = keep(
        &mut problems,
        optional(columns.nickname, "Nickname").and_then(parse(Nickname::parse)),
    );
    let description = keep(
        &mut problems,
        optional(columns.description, "Description").and_then(parse(Description::parse)),
    );
    let group = keep(
        &mut problems,
        optional(columns.group, "Group").and_then(|typed| group_below(&typed)),
    );
    match (name, email, password, nickname, description, group) {
        (
            Some(name),
            Some(email),
            Some(password),
            Some(nickname),
            Some(description),
            Some(group),
        ) => Ok(ValidRow {
            row_no: row.number,
            name,
            email,
            password,
            nickname,
            description,
            group,
        }),
        _ => Err(problems),
    }
}

/// A domain parser whose error becomes the row's message.
fn parse<T, E: std::fmt::Display>(
    parser: impl Fn(&str) -> Result<T, E>,
) -> impl FnOnce(String) -> Result<T, String> {
    move |typed| parser(&typed).map_err(|error| error.to_string())
}

fn keep<T>(problems: &mut Vec<String>, checked: Result<T, String>) -> Option<T> {
    checked.map_err(|problem| problems.push(problem)).ok()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{read, xlsx_rows};
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
        let columns = Columns::required(0, 1, 2);
        validate_rows(
            &sheet(rows),
            &columns,
            &RowRules::creating(PasswordPolicy::default()),
        )
        .into_iter()
        .map(|checked| match checked {
            Checked::Valid(row) => format!(
                "ok {} {} {}",
                row.name,
                row.email,
                row.password.unwrap_or_default()
            ),
            Checked::Invalid { outcome, .. } | Checked::Kept { outcome, .. } => outcome.to_string(),
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
    fn a_password_of_the_wrong_type_is_refused_without_its_value() {
        let out = messages(vec![
            vec![
                t("Ann"),
                t("ann@example.com"),
                Cell::DateTime("1999-12-03".into()),
            ],
            vec![t("Bob"), t("bob@example.com"), Cell::Bool(true)],
        ]);
        assert_eq!(
            out[0],
            "Error: Password must be text, but the cell holds a date or time; format the column as Text and type it again"
        );
        assert_eq!(
            out[1],
            "Error: Password must be text, but the cell holds a logical value; format the column as Text and type it again"
        );
        // Other columns still quote what they hold, which helps find the cell.
        let named = messages(vec![vec![
            Cell::Bool(false),
            t("cid@example.com"),
            t("password1"),
        ]]);
        assert!(named[0].contains("the logical value FALSE"), "{}", named[0]);
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
            out[0].contains("Password must be text, but the cell holds a logical value;"),
            "{}",
            out[0]
        );
    }

    #[test]
    fn a_blank_password_fails_unless_the_mode_keeps_it() {
        let row = || vec![t("Ann"), t("ann@example.com"), Cell::Empty];
        let columns = Columns::required(0, 1, 2);
        let creating = RowRules::creating(PasswordPolicy::default());
        assert!(matches!(
            &validate_rows(&sheet(vec![row()]), &columns, &creating)[0],
            Checked::Invalid { .. }
        ));
        let updating = RowRules {
            blank_password_keeps: true,
            ..creating
        };
        match &validate_rows(&sheet(vec![row()]), &columns, &updating)[0] {
            Checked::Valid(valid) => assert_eq!(valid.password, None),
            _ => panic!("a blank password keeps the agent's own in mode update"),
        }
        // The mask is refused in every mode.
        let masked = vec![t("Ann"), t("ann@example.com"), t("********")];
        assert!(matches!(
            &validate_rows(&sheet(vec![masked]), &columns, &updating)[0],
            Checked::Invalid { .. }
        ));
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

    /// What each row of a real workbook becomes, its columns found from its header.
    fn outcomes_of(header: &[&str], rows: &[&[&str]]) -> Vec<String> {
        let sheet = read(&xlsx_rows(header, rows)).unwrap();
        let columns = Columns::find(&sheet.header).unwrap();
        validate_rows(
            &sheet,
            &columns,
            &RowRules::creating(PasswordPolicy::default()),
        )
        .into_iter()
        .map(|checked| match checked {
            Checked::Valid(row) => format!(
                "ok {} [{}] [{}] {:?}",
                row.email,
                row.nickname,
                row.description,
                row.group.map(|path| path
                    .segments()
                    .iter()
                    .map(|n| n.as_str().to_owned())
                    .collect::<Vec<_>>())
            ),
            Checked::Invalid { outcome, .. } => outcome.to_string(),
            Checked::Kept { outcome, .. } => format!("kept {outcome}"),
        })
        .collect()
    }

    #[test]
    fn a_formula_with_no_saved_value_fails_its_row_and_says_so() {
        // Written by rust_xlsxwriter without results: the value is not in the file.
        let bytes = crate::import::test_support::xlsx_from(|ws| {
            for (c, h) in ["Name", "Email", "Password"].iter().enumerate() {
                ws.write_string(0, c as u16, *h).unwrap();
            }
            ws.write_formula(1, 0, "=\"Ann\"").unwrap();
            ws.write_string(1, 1, "ann@example.com").unwrap();
            ws.write_string(1, 2, "password1").unwrap();
            ws.write_string(2, 0, "Bob").unwrap();
            ws.write_formula(2, 1, "=\"bob@example.com\"").unwrap();
            ws.write_formula(2, 2, "=\"hunter2-secret\"").unwrap();
        });
        let sheet = read(&bytes).unwrap();
        let rules = RowRules::creating(PasswordPolicy::default());
        let out: Vec<String> =
            validate_rows(&sheet, &Columns::find(&sheet.header).unwrap(), &rules)
                .into_iter()
                .map(|checked| match checked {
                    Checked::Invalid { outcome, .. } => outcome.to_string(),
                    _ => panic!("a formula with no saved value fails its row"),
                })
                .collect();
        let unsaved = |field: &str| {
            format!(
                "{field} is a formula with no saved value; open the file in Excel and save it again"
            )
        };
        assert_eq!(out[0], format!("Error: {}", unsaved("Name")));
        assert_eq!(
            out[1],
            format!("Error: {}; {}", unsaved("Email"), unsaved("Password"))
        );
        assert!(!out[1].contains("hunter2"), "a password echoes nothing");
        // Not "Name is required": the cell is not empty, its value is unknown.
        assert!(!out[0].contains("required"), "{}", out[0]);
    }

    #[test]
    fn the_mask_fails_its_row_in_any_file() {
        let out = outcomes_of(
            &["Name", "Email", "Password"],
            &[&["Ann", "ann@example.com", "********"]],
        );
        assert_eq!(
            out,
            ["Error: type the password again: result files never keep passwords"]
        );
    }

    #[test]
    fn optional_columns_are_parsed_and_empty_when_absent_or_blank() {
        let out = outcomes_of(
            &[
                "Name",
                "Email",
                "Password",
                "Nickname",
                "Description",
                "Group",
            ],
            &[
                &[
                    "Ann",
                    "ann@example.com",
                    "password1",
                    " Annie ",
                    "Nights",
                    "Tier 1/Night",
                ],
                &["Bob", "bob@example.com", "password2", "", "", ""],
                &[
                    "Cy",
                    "cy@example.com",
                    "password3",
                    &"n".repeat(65),
                    "",
                    "../Other",
                ],
            ],
        );
        assert_eq!(
            out[0],
            "ok ann@example.com [Annie] [Nights] Some([\"Tier 1\", \"Night\"])"
        );
        assert_eq!(out[1], "ok bob@example.com [] [] None");
        assert!(
            out[2].contains("Nickname is 65 characters long"),
            "{}",
            out[2]
        );
        assert!(
            out[2].contains("tries to leave the selected group"),
            "{}",
            out[2]
        );
        let out = outcomes_of(
            &["Name", "Email", "Password"],
            &[&["Ann", "ann@example.com", "password1"]],
        );
        assert_eq!(out, ["ok ann@example.com [] [] None"]);
    }

    #[test]
    fn a_result_file_keeps_done_rows_and_imports_the_others() {
        let out = outcomes_of(
            &["Name", "Email", "Password", "Result"],
            &[
                &["Ann", "ann@example.com", "********", "Success"],
                &["Bob", "bob@example.com", "********", " updated"],
                &[
                    "Cy",
                    "cy@example.com",
                    "********",
                    "Skipped: an agent with this email already exists",
                ],
                &[
                    "Dee",
                    "dee@example.com",
                    "password4",
                    "Error: Email is taken",
                ],
                &[
                    "Eve",
                    "eve@example.com",
                    "********",
                    "Not imported: the import was cancelled",
                ],
                &["Fay", "fay@example.com", "password6", "Would create"],
                &["Gil", "gil@example.com", "password7"],
            ],
        );
        assert_eq!(out[0], "kept Success");
        assert_eq!(out[1], "kept  updated");
        assert_eq!(
            out[2],
            "kept Skipped: an agent with this email already exists"
        );
        assert!(out[3].starts_with("ok dee@example.com"), "{}", out[3]);
        assert_eq!(
            out[4],
            "Error: type the password again: result files never keep passwords"
        );
        assert!(out[5].starts_with("ok fay@example.com"), "{}", out[5]);
        assert!(out[6].starts_with("ok gil@example.com"), "{}", out[6]);
    }

    #[test]
    fn kept_rows_take_no_part_in_the_repeat_check() {
        let out = outcomes_of(
            &["Name", "Email", "Password", "Result"],
            &[
                &["Ann", "ann@example.com", "********", "Success"],
                &[
                    "Ann again",
                    "ann@example.com",
                    "password2",
                    "Error: it was wrong",
                ],
                &["Ann thrice", "ANN@example.com", "password3", ""],
            ],
        );
        assert_eq!(out[0], "kept Success");
        assert!(out[1].starts_with("ok ann@example.com"), "{}", out[1]);
        assert!(out[2].contains("is a duplicate of row 3"), "{}", out[2]);
    }

    #[test]
    fn success_in_a_column_that_is_not_last_is_no_result() {
        let out = outcomes_of(
            &["Name", "Email", "Password", "Result", "Note"],
            &[&["Ann", "ann@example.com", "password1", "Success", "x"]],
        );
        assert!(out[0].starts_with("ok ann@example.com"), "{}", out[0]);
    }
}
