//! The template offered for download, as .xlsx and as CSV.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

const HEADER: [(&str, f64); 5] = [
    ("Name", 32.0),
    ("Email", 40.0),
    ("Password", 24.0),
    ("Nickname", 20.0),
    ("Description", 40.0),
];

const INSTRUCTIONS: [(&str, &str); 13] = [
    (
        "Name",
        "Required. The agent's display name, at most 128 characters.",
    ),
    (
        "Email",
        "Required. The address the agent signs in with, at most 254 characters. It must be \
         unique: not used twice in the file, nor by an existing agent (case does not matter).",
    ),
    (
        "Password",
        "Required. Taken exactly as typed, spaces included, at least 8 characters by default \
         (your administrator may require more). The columns are formatted as text, so 000123 \
         keeps its zeros.",
    ),
    (
        "Nickname, Description",
        "Optional. Used when agents are created and when they are updated; leave the cells \
         blank, or delete the columns, if you do not need them.",
    ),
    (
        "Group",
        "Optional column you may add: a path below the group you import into, such as Tier 1 \
         or Tier 1/Night. The agent goes there; missing subgroups are created. Blank means the \
         group itself.",
    ),
    (
        "Existing agents",
        "Choose on the import page what an email that already exists gets: Create (the row \
         fails), Update (the agent is updated from the row; a blank Password keeps theirs) or \
         Skip. Check file validates every row without changing anything.",
    ),
    (
        "Retry",
        "Upload a result file again to retry only the rows that failed: rows marked Success, \
         Updated or Skipped are left alone. Type their passwords again first.",
    ),
    (
        "Header",
        "Do not change row 1 of the Agents sheet. The columns may be in any order; the header \
         names are compared without case.",
    ),
    (
        "One agent per row",
        "Start in row 2. Blank rows are skipped. Hidden rows are imported like the others.",
    ),
    (
        "Other columns",
        "Are ignored by the import, but kept in the result file.",
    ),
    (
        "The file",
        "Save it as .xlsx (or as CSV UTF-8). Only the first visible sheet is read: keep the \
         Agents sheet first.",
    ),
    (
        "The result",
        "When the import ends, download the result: your sheet with a Result column saying \
         Success or what to fix on each row. Passwords there read ********.",
    ),
    (
        "Safety",
        "The uploaded file contains passwords: it is erased once the import ends. Delete your \
         own copy too.",
    ),
];

pub(crate) fn template_xlsx() -> Vec<u8> {
    build().expect("a fixed workbook always builds")
}

fn build() -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    // Built-in format 49 is Excel's "Text" ("@").
    let text = Format::new().set_num_format_index(49);
    let header = Format::new().set_num_format_index(49).set_bold();

    let agents = workbook.add_worksheet().set_name("Agents")?;
    for (column, (name, width)) in (0u16..).zip(HEADER) {
        // A column format covers every row, however far down the administrator types.
        agents.set_column_format(column, &text)?;
        agents.set_column_width(column, width)?;
        agents.write_string_with_format(0, column, name, &header)?;
    }
    agents.set_freeze_panes(1, 0)?;

    let help = workbook.add_worksheet().set_name("Instructions")?;
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let bold = Format::new().set_bold().set_align(FormatAlign::Top);
    help.set_column_width(0, 20)?;
    help.set_column_width(1, 90)?;
    help.write_string_with_format(0, 0, "How to fill in the Agents sheet", &bold)?;
    for (row, (topic, rule)) in (2u32..).zip(INSTRUCTIONS) {
        help.write_string_with_format(row, 0, topic, &bold)?;
        help.write_string_with_format(row, 1, rule, &wrap)?;
    }
    workbook.save_to_buffer()
}

/// The header line after a UTF-8 byte order mark: without it Excel opens the file in the
/// machine's legacy code page and mangles every accented name typed into it.
pub(crate) fn template_csv() -> Vec<u8> {
    let names: Vec<&str> = HEADER.iter().map(|(name, _)| *name).collect();
    format!("\u{feff}{}\r\n", names.join(",")).into_bytes()
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use calamine::{Reader, Xlsx};

    use super::super::columns::Columns;
    use super::super::error::FileError;
    use super::super::test_support::{read, text};
    use super::*;

    #[test]
    fn the_xlsx_template_reads_back_as_an_empty_import() {
        let sheet = read(&template_xlsx()).unwrap();
        assert_eq!(sheet.name, "Agents");
        assert_eq!(
            sheet.header,
            ["Name", "Email", "Password", "Nickname", "Description"].map(text)
        );
        assert!(sheet.rows.is_empty());
        assert!(Columns::find(&sheet.header).is_ok());
    }

    #[test]
    fn the_template_has_text_columns_frozen_header_and_instructions() {
        let bytes = template_xlsx();
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.as_slice())).unwrap();
        assert_eq!(book.sheet_names(), vec!["Agents", "Instructions"]);
        let help = book.worksheet_range("Instructions").unwrap();
        let all: Vec<String> = help.cells().map(|(_, _, v)| v.to_string()).collect();
        let all = all.join(" ");
        for needle in [
            "128",
            "254",
            "unique",
            "8 characters",
            "Do not change",
            "Blank rows",
            "ignored",
        ] {
            assert!(all.contains(needle), "instructions lack {needle}");
        }
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut sheet = String::new();
        zip.by_name("xl/worksheets/sheet1.xml")
            .unwrap()
            .read_to_string(&mut sheet)
            .unwrap();
        assert!(sheet.contains("<pane ySplit=\"1\""), "{sheet}");
        assert!(sheet.contains("<col min=\"1\" max=\"1\""), "{sheet}");
        let mut styles = String::new();
        zip.by_name("xl/styles.xml")
            .unwrap()
            .read_to_string(&mut styles)
            .unwrap();
        // Built-in format 49 is "@", Text.
        assert!(styles.contains("numFmtId=\"49\""), "{styles}");
    }

    #[test]
    fn the_csv_template_is_just_the_header() {
        assert_eq!(
            template_csv(),
            "\u{feff}Name,Email,Password,Nickname,Description\r\n".as_bytes()
        );
        assert_eq!(read(&template_csv()).map(|s| s.rows.len()), Ok(0));
        assert_ne!(read(&template_csv()).err(), Some(FileError::NoHeader));
    }
}
