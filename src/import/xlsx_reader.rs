//! The first visible worksheet of an .xlsx, streamed cell by cell.
//!
//! Only after `archive::inspect` passed: calamine trusts what the file declares.
//! `worksheet_range` is never used, since it allocates a dense grid spanning the cells
//! present; the streaming reader holds one cell at a time (plus the shared strings).

use std::io::Cursor;

use calamine::{
    DataRef, ExcelDateTime, Reader, SheetType, SheetVisible, Xlsx, XlsxCellFormulaMetadataRecord,
    XlsxError,
};

use super::archive::Inspected;
use super::cell::{Cell, Sheet};
use super::error::FileError;
use super::limits::Limits;
use super::rows::Rows;

/// `inspected`: what `archive::inspect` found, among it what calamine will hold for the
/// shared strings and styles.
pub(super) fn read(
    bytes: &[u8],
    limits: &Limits,
    inspected: Inspected,
) -> Result<Sheet, FileError> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_error)?;
    let name = workbook
        .sheets_metadata()
        .iter()
        .find(|s| s.visible == SheetVisible::Visible && s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or(FileError::NoWorksheet)?;
    let mut cells = match workbook.worksheet_cells_reader(&name) {
        Ok(cells) => cells,
        Err(XlsxError::NotAWorksheet(_) | XlsxError::WorksheetNotFound(_)) => {
            return Err(FileError::NoWorksheet);
        }
        Err(e) => return Err(xlsx_error(e)),
    };
    let mut rows = Rows::new(name.clone(), limits).holding(inspected.held_by_calamine)?;
    // The streamed value of a formula cell is the result saved with it (`<v>`). The formula
    // itself comes along in the same pass, so a formula saved without a result is told from
    // an empty cell; a shared formula's text is not expanded, nor kept.
    while let Some(cell) = cells
        .next_cell_with_formula_metadata()
        .map_err(xlsx_error)?
    {
        let (row, column) = cell.pos;
        rows.push(row, column, convert(&cell, inspected.recalculates_on_load))?;
    }
    rows.finish()
}

/// A formula's cell: its saved value, unless it has none. Some programs write formulas
/// without calculating them: openpyxl saves no value (`<v/>`); XlsxWriter, rust_xlsxwriter
/// and libxlsxwriter save the number 0 and ask for the workbook to be calculated again when
/// opened (`fullCalcOnLoad`). Such a 0 cannot be told from a 0 the program was given, so in
/// a workbook asking for that, a formula's 0 is not taken as its value either: saving the
/// file from a spreadsheet program settles both.
fn convert(cell: &XlsxCellFormulaMetadataRecord<'_>, recalculates_on_load: bool) -> Cell {
    if cell.formula.is_none() {
        return value(&cell.value);
    }
    match cell.value {
        DataRef::Empty => Cell::UnsavedFormula,
        DataRef::Float(zero) if zero == 0.0 && recalculates_on_load => Cell::UnsavedFormula,
        DataRef::Int(0) if recalculates_on_load => Cell::UnsavedFormula,
        ref saved => value(saved),
    }
}

/// calamine trims the text of `<t>` unless it carries `xml:space="preserve"` (which Excel
/// writes whenever the text has outer spaces), so outer spaces may be lost only from files of
/// other writers; names and emails are trimmed anyway, and a password with outer spaces is
/// written by Excel with the attribute.
fn value(value: &DataRef<'_>) -> Cell {
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_string()),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Int(i) => Cell::Int(*i),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(d) => Cell::DateTime(render_datetime(d)),
        DataRef::DateTimeIso(s) => Cell::DateTime(s.replacen('T', " ", 1)),
        DataRef::DurationIso(s) => Cell::DateTime(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

fn render_datetime(d: &ExcelDateTime) -> String {
    if d.is_duration() {
        let seconds = (d.as_f64() * 86_400.0).round() as i64;
        let sign = if seconds < 0 { "-" } else { "" };
        let s = seconds.abs();
        return format!("{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    }
    let (year, month, day, hour, minute, second, milli) = d.to_ymd_hms_milli();
    let mut time = format!("{hour:02}:{minute:02}:{second:02}");
    if milli != 0 {
        time.push_str(&format!(".{milli:03}"));
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if d.as_f64().abs() < 1.0 {
        time
    } else if (hour, minute, second, milli) == (0, 0, 0, 0) {
        date
    } else {
        format!("{date} {time}")
    }
}

fn xlsx_error(e: XlsxError) -> FileError {
    match e {
        XlsxError::Password => FileError::PasswordProtected,
        other => FileError::Corrupt(format!("the workbook cannot be read: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use rust_xlsxwriter::{ExcelDateTime as Date, Format, Formula, Workbook};

    use super::super::cell::Cell;
    use super::super::error::FileError;
    use super::super::limits::Limits;
    use super::super::test_support::{
        SHEET_START, inline, read, read_with, shown, text, xlsx_from, xlsx_with,
    };

    #[test]
    fn numbers_and_text_read_as_typed() {
        let bytes = xlsx_from(|ws| {
            ws.write_string(0, 0, "Name").unwrap();
            ws.write_number(1, 0, 123456.0).unwrap();
            ws.write_string(1, 1, "000123").unwrap();
            ws.write_number(1, 2, 0.5).unwrap();
            ws.write_boolean(1, 3, false).unwrap();
        });
        let sheet = read(&bytes).unwrap();
        assert_eq!(sheet.rows[0].cells[0], Cell::Number(123456.0));
        assert_eq!(
            shown(&sheet, 2),
            [Some("123456"), Some("000123"), Some("0.5"), Some("FALSE")]
                .map(|s| s.map(String::from))
        );
    }

    #[test]
    fn formulas_give_their_cached_value() {
        let bytes = xlsx_from(|ws| {
            ws.write_string(0, 0, "Name").unwrap();
            ws.write_formula(1, 0, Formula::new("=6*7").set_result("42"))
                .unwrap();
            ws.write_formula(
                1,
                1,
                Formula::new("=\"Ann\"&\"-Lee\"").set_result("Ann-Lee"),
            )
            .unwrap();
            ws.write_formula(1, 2, Formula::new("=1/0").set_result("#DIV/0!"))
                .unwrap();
        });
        let sheet = read(&bytes).unwrap();
        assert_eq!(
            sheet.rows[0].cells,
            vec![
                Cell::Number(42.0),
                text("Ann-Lee"),
                Cell::Error("#DIV/0!".into())
            ]
        );
    }

    #[test]
    fn formulas_written_without_their_value_are_not_empty_cells() {
        // rust_xlsxwriter, given no result, saves 0 and asks for a calculation on opening.
        let bytes = xlsx_from(|ws| {
            for (c, h) in ["Name", "Email", "Password", "Nickname"].iter().enumerate() {
                ws.write_string(0, c as u16, *h).unwrap();
            }
            ws.write_formula(1, 0, "=\"Ann\"&\" Lee\"").unwrap();
            ws.write_formula(1, 1, "=LOWER(\"ANN@EXAMPLE.COM\")")
                .unwrap();
            ws.write_formula(1, 2, "=\"secret\"&\"-1\"").unwrap();
            ws.write_formula(1, 3, Formula::new("=\"Annie\"").set_result("Annie"))
                .unwrap();
        });
        let sheet = read(&bytes).unwrap();
        assert_eq!(
            sheet.rows[0].cells,
            vec![
                Cell::UnsavedFormula,
                Cell::UnsavedFormula,
                Cell::UnsavedFormula,
                text("Annie")
            ]
        );
        assert_eq!(shown(&sheet, 2)[0], None, "nothing to show of it");
    }

    #[test]
    fn a_formula_with_no_value_element_or_an_empty_one_has_no_saved_value() {
        // As openpyxl writes them (an empty <v>), or with none at all; no calcPr here, so a
        // saved 0 is a 0, and an empty text result (Excel's t="str") is a value too.
        let sheet_xml = format!(
            "{SHEET_START}<sheetData><row r=\"1\">{}</row><row r=\"2\">\
             <c r=\"A2\"><f>\"Ann\"</f><v/></c><c r=\"B2\"><f>B1</f></c>\
             <c r=\"C2\"><f>0*1</f><v>0</v></c><c r=\"D2\" t=\"str\"><f>\"\"</f><v></v></c>\
             <c r=\"E2\"><f t=\"shared\" ref=\"E2:E3\" si=\"0\">1+1</f></c></row>\
             <row r=\"3\"><c r=\"E3\"><f t=\"shared\" si=\"0\"/></c></row></sheetData></worksheet>",
            inline("A1", "Name")
        );
        let sheet = read(&xlsx_with(&[("xl/worksheets/sheet1.xml", &sheet_xml)])).unwrap();
        assert_eq!(
            sheet.rows[0].cells,
            vec![
                Cell::UnsavedFormula,
                Cell::UnsavedFormula,
                Cell::Number(0.0),
                text(""),
                Cell::UnsavedFormula
            ]
        );
        assert_eq!(
            sheet.rows[1].cells[4],
            Cell::UnsavedFormula,
            "a shared formula's copy"
        );
    }

    #[test]
    fn error_cells_carry_their_code() {
        let sheet_xml = format!(
            "{SHEET_START}<sheetData><row r=\"1\">{}</row><row r=\"2\"><c r=\"A2\" t=\"e\"><f>A0</f><v>#NAME?</v></c></row></sheetData></worksheet>",
            inline("A1", "Name")
        );
        let sheet = read(&xlsx_with(&[("xl/worksheets/sheet1.xml", &sheet_xml)])).unwrap();
        assert_eq!(sheet.rows[0].cells, vec![Cell::Error("#NAME?".into())]);
    }

    #[test]
    fn dates_are_dates_in_readable_form() {
        let bytes = xlsx_from(|ws| {
            let day = Format::new().set_num_format("yyyy-mm-dd");
            let stamp = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
            let clock = Format::new().set_num_format("hh:mm");
            ws.write_string(0, 0, "Name").unwrap();
            let date = Date::from_ymd(2024, 3, 1).unwrap();
            ws.write_datetime_with_format(1, 0, &date, &day).unwrap();
            let at = Date::from_ymd(2024, 3, 1)
                .unwrap()
                .and_hms(10, 30, 0)
                .unwrap();
            ws.write_datetime_with_format(1, 1, &at, &stamp).unwrap();
            let time = Date::from_hms(8, 15, 0).unwrap();
            ws.write_datetime_with_format(1, 2, &time, &clock).unwrap();
        });
        let sheet = read(&bytes).unwrap();
        assert_eq!(
            sheet.rows[0].cells,
            vec![
                Cell::DateTime("2024-03-01".into()),
                Cell::DateTime("2024-03-01 10:30:00".into()),
                Cell::DateTime("08:15:00".into()),
            ]
        );
    }

    #[test]
    fn blank_rows_are_skipped_even_when_formatted_and_hidden_rows_kept() {
        let bytes = xlsx_from(|ws| {
            let yellow = Format::new().set_background_color("FFFF00");
            for (c, h) in ["Name", "Email", "Password"].iter().enumerate() {
                ws.write_string(0, c as u16, *h).unwrap();
            }
            ws.write_string(1, 0, "Ann").unwrap();
            ws.write_blank(2, 0, &yellow).unwrap();
            ws.write_blank(2, 1, &yellow).unwrap();
            ws.write_string(3, 0, "   ").unwrap();
            ws.write_string(3, 2, "\t").unwrap();
            ws.set_row_format(4, &yellow).unwrap();
            ws.write_string(5, 1, "bob@x.org").unwrap();
            ws.set_row_hidden(5).unwrap();
            ws.write_blank(9, 40, &yellow).unwrap();
        });
        let sheet = read(&bytes).unwrap();
        let numbers: Vec<u32> = sheet.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [2, 6]);
        assert_eq!(sheet.width, 3, "formatted empty cells use no column");
    }

    #[test]
    fn the_first_visible_worksheet_is_read() {
        let mut workbook = Workbook::new();
        let hidden = workbook.add_worksheet().set_name("Old").unwrap();
        hidden.write_string(0, 0, "Nope").unwrap();
        hidden.set_hidden(true);
        let agents = workbook.add_worksheet().set_name("Agents").unwrap();
        agents.write_string(0, 0, "Name").unwrap();
        agents.set_active(true);
        let sheet = read(&workbook.save_to_buffer().unwrap()).unwrap();
        assert_eq!(sheet.name, "Agents");
        assert_eq!(sheet.header, vec![text("Name")]);
    }

    #[test]
    fn more_rows_than_the_limit_stop_the_read() {
        let bytes = xlsx_from(|ws| {
            ws.write_string(0, 0, "Name").unwrap();
            for r in 1..=50 {
                ws.write_string(r, 0, format!("agent {r}")).unwrap();
            }
        });
        let limits = |max_rows| Limits {
            max_rows,
            ..Limits::default()
        };
        assert_eq!(
            read_with(&bytes, &limits(49)),
            Err(FileError::TooManyRows { limit: 49 })
        );
        assert_eq!(read_with(&bytes, &limits(50)).unwrap().rows.len(), 50);
    }

    #[test]
    fn text_without_preserve_is_trimmed_by_calamine() {
        // Excel marks text with outer spaces xml:space="preserve"; other writers may not, and
        // then calamine trims it. Documented, not fought.
        let sheet_xml = format!(
            "{SHEET_START}<sheetData><row r=\"1\">{}<c r=\"B1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">  kept  </t></is></c></row></sheetData></worksheet>",
            inline("A1", "  trimmed  ")
        );
        let sheet = read(&xlsx_with(&[("xl/worksheets/sheet1.xml", &sheet_xml)])).unwrap();
        assert_eq!(sheet.header, vec![text("trimmed"), text("  kept  ")]);
    }

    #[test]
    fn a_value_far_to_the_right_is_refused_but_a_far_dimension_is_harmless() {
        let far = format!(
            "{SHEET_START}<dimension ref=\"A1:XFD1048576\"/><sheetData><row r=\"1\">{}</row><row r=\"1048576\"><c r=\"XFD1048576\" s=\"0\"/></row></sheetData></worksheet>",
            inline("A1", "Name")
        );
        let sheet = read(&xlsx_with(&[("xl/worksheets/sheet1.xml", &far)])).unwrap();
        assert_eq!((sheet.width, sheet.rows.len()), (1, 0));

        let far_value = format!(
            "{SHEET_START}<dimension ref=\"A1:XFD1048576\"/><sheetData><row r=\"1\">{}</row><row r=\"1048576\">{}</row></sheetData></worksheet>",
            inline("A1", "Name"),
            inline("XFD1048576", "boom")
        );
        assert_eq!(
            read(&xlsx_with(&[("xl/worksheets/sheet1.xml", &far_value)])),
            Err(FileError::TooManyColumns { limit: 256 })
        );
    }
}
