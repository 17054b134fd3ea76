//! The result file's tests; the reading helpers serve `outcome_sheet`'s too.

use std::io::{Cursor, Read};

use calamine::{Data, DataType, Reader, Xlsx};

use super::super::test_support::{read, xlsx_from, xlsx_rows};
use super::*;

fn error(text: &str) -> RowOutcome {
    RowOutcome::Error(text.into())
}

/// Row 2 succeeded, every other row failed.
fn outcome_of(n: u32) -> Option<RowOutcome> {
    Some(if n == 2 {
        RowOutcome::Success
    } else {
        error(&format!("row {n}"))
    })
}

fn result_of(bytes: &[u8]) -> (Sheet, Vec<u8>) {
    let sheet = read(bytes).unwrap();
    let columns = Columns::find(&sheet.header).unwrap();
    let summary = ResultSummary::sample(&[]);
    let out = write_result(&sheet, &columns, &outcome_of, &summary).unwrap();
    (sheet, out)
}

pub(crate) fn cells_of(result: &[u8]) -> (String, calamine::Range<Data>) {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(result)).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).unwrap();
    (name, range)
}

fn at(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

pub(crate) fn part(zip_bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(zip_bytes)).unwrap();
    let mut text = String::new();
    zip.by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The style index of a cell ("F2") in a worksheet's XML; 0 when it has none.
pub(crate) fn style_of(sheet_xml: &str, cell: &str) -> u32 {
    let start = sheet_xml
        .find(&format!("<c r=\"{cell}\""))
        .unwrap_or_else(|| panic!("no cell {cell} in {sheet_xml}"));
    let tag = &sheet_xml[start..start + sheet_xml[start..].find('>').unwrap()];
    tag.split(" s=\"")
        .nth(1)
        .map_or(0, |rest| rest.split('"').next().unwrap().parse().unwrap())
}

/// Each column's width, from the first, in a worksheet's XML.
pub(crate) fn widths_of(sheet_xml: &str) -> Vec<f64> {
    let mut widths = Vec::new();
    for tag in sheet_xml.split("<col ").skip(1) {
        let attr = |name: &str| -> f64 {
            let rest = tag.split(&format!("{name}=\"")).nth(1).unwrap();
            rest.split('"').next().unwrap().parse().unwrap()
        };
        let (min, max) = (attr("min") as usize, attr("max") as usize);
        widths.resize(max, 0.0);
        widths[min - 1..max].fill(attr("width"));
    }
    widths
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
    let summary = ResultSummary::sample(&[]);
    let out = write_result(&sheet, &columns, &|_| None, &summary).unwrap();
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
    // The width pass saw the 40,000 characters too, and stopped at the widest column allowed.
    let widths = widths_of(&part(&out, "xl/worksheets/sheet1.xml"));
    assert!(widths[0] > 55.0 && widths[0] < 65.0, "{widths:?}");
}

#[test]
fn a_result_file_uploaded_again_keeps_one_result_column() {
    let upload = xlsx_rows(
        &["Name", "Email", "Password", "Team", " result "],
        &[
            &["Ann", "a@x.org", "********", "Blue", "Success"],
            &[
                "Bob",
                "b@x.org",
                "pw-bob",
                "",
                "Error: the email is not valid",
            ],
            &[
                "Cy",
                "c@x.org",
                "pw-cy",
                "Red",
                "Not imported: the server stopped",
            ],
        ],
    );
    let sheet = read(&upload).unwrap();
    let columns = Columns::find(&sheet.header).unwrap();
    assert_eq!(columns.result, Some(4));
    let now = |n: u32| match n {
        2 => Some(RowOutcome::Kept("Success".into())),
        3 => Some(RowOutcome::Success),
        _ => Some(error("the password is too short")),
    };
    let summary = ResultSummary::sample(&[]);
    let out = write_result(&sheet, &columns, &now, &summary).unwrap();

    let (_, range) = cells_of(&out);
    assert_eq!(range.end(), Some((3, 4)), "no column was added");
    assert_eq!(at(&range, 0, 4), Data::String("Result".into()));
    assert_eq!(at(&range, 1, 4), Data::String("Success".into()));
    assert_eq!(at(&range, 2, 4), Data::String("Success".into()));
    assert_eq!(
        at(&range, 3, 4),
        Data::String("Error: the password is too short".into())
    );
    assert_eq!(at(&range, 3, 3), Data::String("Red".into()));

    // The result file is an upload like any other, and again it does not grow.
    let again = read(&out).unwrap();
    assert_eq!(again.width, 5);
    let columns = Columns::find(&again.header).unwrap();
    assert_eq!(columns.result, Some(4));
    let out = write_result(&again, &columns, &|_| Some(RowOutcome::Success), &summary).unwrap();
    let (_, range) = cells_of(&out);
    assert_eq!(range.end(), Some((3, 4)));
    assert_eq!(at(&range, 3, 4), Data::String("Success".into()));
}

#[test]
fn the_header_is_bold_frozen_and_filtered() {
    let bytes = xlsx_rows(
        &["Name", "Email", "Password"],
        &[&["Ann", "a@x.org", "pw"], &["Bob", "b@x.org", "pw"]],
    );
    let (_, out) = result_of(&bytes);
    let sheet_xml = part(&out, "xl/worksheets/sheet1.xml");
    let pane = sheet_xml
        .split("<pane ")
        .nth(1)
        .unwrap_or_else(|| panic!("no pane in {sheet_xml}"));
    let pane = &pane[..pane.find('>').unwrap()];
    assert!(pane.contains("ySplit=\"1\""), "{pane}");
    assert!(pane.contains("state=\"frozen\""), "{pane}");
    assert!(
        sheet_xml.contains("<autoFilter ref=\"A1:D3\""),
        "{sheet_xml}"
    );

    let header = style_of(&sheet_xml, "A1");
    assert_ne!(header, 0);
    assert_eq!(style_of(&sheet_xml, "D1"), header);
    assert_eq!(style_of(&sheet_xml, "A2"), 0, "only the header is bold");
    let styles = part(&out, "xl/styles.xml");
    assert!(styles.contains("<b/>"), "{styles}");
}

#[test]
fn result_cells_are_coloured_by_kind() {
    let bytes = xlsx_rows(
        &["Name", "Email", "Password"],
        &[
            &["Ann", "a@x.org", "pw"],
            &["Bob", "b@x.org", "pw"],
            &["Cy", "c@x.org", "pw"],
            &["Di", "d@x.org", "pw"],
            &["Ed", "e@x.org", "pw"],
        ],
    );
    let sheet = read(&bytes).unwrap();
    let columns = Columns::find(&sheet.header).unwrap();
    let outcomes = [
        RowOutcome::Success,
        error("bad"),
        RowOutcome::NotImported("cancelled".into()),
        RowOutcome::Skipped("exists".into()),
        error("worse"),
    ];
    let outcome = |n: u32| outcomes.get(n as usize - 2).cloned();
    let summary = ResultSummary::sample(&outcomes);
    let out = write_result(&sheet, &columns, &outcome, &summary).unwrap();
    let sheet_xml = part(&out, "xl/worksheets/sheet1.xml");
    let [success, error, not_imported, skipped, error_again] =
        ["D2", "D3", "D4", "D5", "D6"].map(|cell| style_of(&sheet_xml, cell));
    assert_ne!(error, success);
    assert_ne!(not_imported, success);
    assert_ne!(skipped, success);
    assert_ne!(error, not_imported);
    assert_eq!(error, error_again);
    // The data cells of a failed row are not coloured: only its Result cell is.
    assert_eq!(style_of(&sheet_xml, "A3"), style_of(&sheet_xml, "A2"));
    let styles = part(&out, "xl/styles.xml");
    assert!(styles.contains("FFFFC7CE"), "the light red fill: {styles}");
    assert!(styles.contains("FF9C0006"), "the dark red text: {styles}");
}

#[test]
fn columns_are_as_wide_as_their_values() {
    let long_email = "a.very.long.name.of.somebody@an-example-organisation.org";
    let bytes = xlsx_rows(
        &["Name", "Email", "Password"],
        &[
            &["Al", long_email, "a-rather-long-password"],
            &["Bo", "b@x.org", ""],
        ],
    );
    let sheet = read(&bytes).unwrap();
    let columns = Columns::find(&sheet.header).unwrap();
    let summary = ResultSummary::sample(&[]);
    let long_error = error(&"the row breaks a rule, and this says which. ".repeat(5));
    let out = write_result(&sheet, &columns, &|_| Some(long_error.clone()), &summary).unwrap();
    let widths = widths_of(&part(&out, "xl/worksheets/sheet1.xml"));
    let [name, email, password, result] = widths[..] else {
        panic!("four columns, not {widths:?}");
    };
    assert!(email > name + 30.0, "{widths:?}");
    // Fitted to the mask, not to the password the cell no longer shows.
    assert!(password < 15.0, "{widths:?}");
    assert!(result > 75.0 && result < 85.0, "{widths:?}");
    assert!(name >= 8.0, "{widths:?}");
}

pub(crate) fn summary_rows(result: &[u8], name: &str) -> Vec<(String, Data)> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(result)).unwrap();
    assert_eq!(book.sheet_names()[1], name);
    let range = book.worksheet_range(name).unwrap();
    range
        .rows()
        .filter_map(|row| Some((row.first()?.as_string()?, row.get(1)?.clone())))
        .collect()
}

pub(crate) fn value(rows: &[(String, Data)], label: &str) -> Data {
    rows.iter()
        .find(|(l, _)| l == label)
        .unwrap_or_else(|| panic!("no {label} in {rows:?}"))
        .1
        .clone()
}

/// 100,000 rows: what writing them adds to the sheet already read must stay small, whatever
/// the rows hold. Measured in a process of its own, as tests beside it would count in the peak.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
fn a_hundred_thousand_rows_are_written_in_little_memory() {
    use super::super::cell::Row;
    use super::super::peak_memory::growth_alone;

    let header =
        ["Name", "Email", "Password", "Team", "Note"].map(super::super::test_support::text);
    let rows = (2..100_002)
        .map(|number| Row {
            number,
            cells: vec![
                Cell::Text(format!("Agent number {number}")),
                Cell::Text(format!("agent.{number}@example.org")),
                Cell::Text(format!("password-{number}")),
                Cell::Text("Blue".into()),
                Cell::Int(i64::from(number)),
            ],
        })
        .collect();
    let sheet = Sheet {
        name: "Agents".into(),
        header: header.to_vec(),
        rows,
        width: 5,
    };
    let columns = Columns::find(&sheet.header).unwrap();
    let outcome = |n: u32| {
        Some(if n.is_multiple_of(10) {
            error("the email is not valid; use name@example.org")
        } else {
            RowOutcome::Success
        })
    };
    let summary = ResultSummary::sample(&[]);
    let grown = growth_alone(
        module_path!(),
        "a_hundred_thousand_rows_are_written_in_little_memory",
        || {
            let out = write_result(&sheet, &columns, &outcome, &summary).unwrap();
            std::hint::black_box(out);
        },
    );
    // Measured: 6 MB, the finished file included. Building each cell's text for the widths
    // instead (500,000 Strings) made it 34 MB.
    if let Some(grown) = grown {
        assert!(grown < 16 << 20, "peak grew by {grown} bytes");
    }
}
