//! The real files of tests/fixtures/real-world: none uses Roster's header, so each must be
//! rejected as a whole, cleanly, with the reason SOURCES.md gives.

use super::columns::Columns;
use super::error::FileError;
use super::limits::Limits;
use super::sheet;

/// The fixtures live in the repository (copied with their `SOURCES.md`), so a clone tests alone.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/real-world/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// What the import page would show for the file.
fn outcome(bytes: &[u8]) -> Result<Columns, FileError> {
    let sheet = sheet::read(bytes, &Limits::default())?;
    Columns::find(&sheet.header)
}

fn missing_columns(bytes: &[u8]) -> Vec<String> {
    match outcome(bytes) {
        Err(FileError::MissingColumns { found, .. }) => found,
        other => panic!("expected MissingColumns, got {other:?}"),
    }
}

#[test]
fn encrypted_workbooks_are_password_protected() {
    assert_eq!(
        outcome(&fixture("calamine__pass_protected.xlsx")),
        Err(FileError::PasswordProtected)
    );
    assert_eq!(
        outcome(&fixture("excelize__encryptAES.xlsx")),
        Err(FileError::PasswordProtected)
    );
}

#[test]
fn opendocument_is_refused_before_its_cells_are_read() {
    assert_eq!(
        outcome(&fixture("calamine__issue_594_dos.ods")),
        Err(FileError::OpenDocument)
    );
}

#[test]
fn a_workbook_without_sheets_has_no_worksheet() {
    let got = outcome(&fixture("excelize__BadWorkbook.xlsx"));
    assert!(
        matches!(got, Err(FileError::NoWorksheet | FileError::Corrupt(_))),
        "{got:?}"
    );
}

#[test]
fn error_cells_make_a_header_that_is_not_ours() {
    let found = missing_columns(&fixture("calamine__errors.xlsx"));
    assert_eq!(found, vec!["#DIV/0!"]);
    let sheet = sheet::read(&fixture("calamine__errors.xlsx"), &Limits::default()).unwrap();
    assert_eq!(sheet.name, "Feuil1");
    let codes: Vec<String> = sheet
        .rows
        .iter()
        .filter_map(|r| r.cells[0].display())
        .collect();
    assert_eq!(
        codes,
        ["#NAME?", "#VALUE!", "#NULL!", "#REF!", "#NUM!", "#N/A"]
    );
}

#[test]
fn the_header_is_row_one_even_when_the_table_starts_lower() {
    let found = missing_columns(&fixture("calamine__header-row.xlsx"));
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn files_from_office_programs_are_read_then_refused_by_header() {
    for name in [
        "calamine__richtext-namespaced.xlsx",
        "calamine__has_x000D_.xlsx",
        "calamine__date_1904.xlsx",
        "excelize__OverflowNumericCell.xlsx",
        "excelize__MergeCell.xlsx",
    ] {
        missing_columns(&fixture(name));
    }
}

#[test]
fn special_values_come_through() {
    let sheet = sheet::read(&fixture("calamine__has_x000D_.xlsx"), &Limits::default()).unwrap();
    let all: Vec<String> = std::iter::once(&sheet.header)
        .chain(sheet.rows.iter().map(|r| &r.cells))
        .flatten()
        .filter_map(|c| c.display())
        .collect();
    assert!(all.iter().any(|t| t.contains("ABC\r\nDEF")), "{all:?}");

    let sheet = sheet::read(
        &fixture("excelize__OverflowNumericCell.xlsx"),
        &Limits::default(),
    )
    .unwrap();
    let all: Vec<String> = std::iter::once(&sheet.header)
        .chain(sheet.rows.iter().map(|r| &r.cells))
        .flatten()
        .filter_map(|c| c.display())
        .collect();
    assert!(all.iter().any(|t| t == "8595602512225"), "{all:?}");

    let sheet = sheet::read(&fixture("calamine__date_1904.xlsx"), &Limits::default()).unwrap();
    let dates = std::iter::once(&sheet.header)
        .chain(sheet.rows.iter().map(|r| &r.cells))
        .flatten()
        .filter(|c| matches!(c, super::cell::Cell::DateTime(_)))
        .count();
    assert!(dates > 0, "{sheet:?}");
}
