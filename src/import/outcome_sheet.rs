//! The result file of last resort: when the uploaded sheet cannot be read again, each row's
//! number and outcome, so an administrator still knows what became of every row.

use rust_xlsxwriter::{Workbook, XlsxError};

use super::outcome::RowOutcome;
use super::report::{self, ResultSummary, Styles, Widths, shown_chars};

const ROW: &str = "Row";

pub(crate) fn write(
    rows: &[u32],
    outcome: &dyn Fn(u32) -> Option<RowOutcome>,
    summary: &ResultSummary,
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    // Level 1: most of a save is deflating the sheet; 100,000 rows save in about half the
    // time of the default level 6, for a file a few tenths larger.
    workbook.set_zip_compression_level(1);
    // Constant memory, as for the full result: widths are measured before the first row.
    let ws = workbook.add_worksheet_with_constant_memory()?;
    let mut widths = Widths::new(2, 1);
    widths.header(0, ROW.len());
    widths.header(1, report::RESULT.len());
    for row in rows {
        widths.cell(0, shown_chars(row));
        if let Some(outcome) = outcome(*row) {
            widths.cell(1, shown_chars(&outcome));
        }
    }
    let last_row = u32::try_from(rows.len()).map_err(|_| XlsxError::RowColumnLimitError)?;
    report::prepare(ws, &widths, last_row)?;
    let styles = Styles::new();
    ws.write_string_with_format(0, 0, ROW, &styles.header)?;
    ws.write_string_with_format(0, 1, report::RESULT, &styles.header)?;
    for (at, row) in (1u32..).zip(rows) {
        ws.write_number(at, 0, f64::from(*row))?;
        if let Some(outcome) = outcome(*row) {
            report::write_outcome(ws, at, 1, &outcome, &styles)?;
        }
    }
    report::finish(workbook, summary)
}

#[cfg(test)]
mod tests {
    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::import::report::tests::{part, style_of, summary_rows, value, widths_of};

    #[test]
    fn every_row_number_has_its_outcome() {
        let outcomes = [RowOutcome::Success, RowOutcome::NotImported("row 5".into())];
        let outcome = |row| match row {
            2 => Some(outcomes[0].clone()),
            5 => Some(outcomes[1].clone()),
            _ => None,
        };
        let summary = ResultSummary::sample(&outcomes);
        let bytes = super::write(&[2, 5, 9], &outcome, &summary).unwrap();
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(&bytes)).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(range.get((0, 1)), Some(&Data::String("Result".into())));
        assert_eq!(range.get((1, 0)), Some(&Data::Float(2.0)));
        assert_eq!(range.get((1, 1)), Some(&Data::String("Success".into())));
        assert_eq!(
            range.get((2, 1)),
            Some(&Data::String("Not imported: row 5".into()))
        );
        assert_eq!(range.get((3, 0)), Some(&Data::Float(9.0)));
        assert_eq!(range.get((3, 1)), Some(&Data::Empty), "no outcome, no text");

        let sheet_xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(sheet_xml.contains("ySplit=\"1\""), "{sheet_xml}");
        assert!(
            sheet_xml.contains("<autoFilter ref=\"A1:B4\""),
            "{sheet_xml}"
        );
        assert_ne!(style_of(&sheet_xml, "A1"), 0, "a bold header");
        assert_ne!(style_of(&sheet_xml, "B3"), style_of(&sheet_xml, "B2"));
        let widths = widths_of(&sheet_xml);
        assert!(widths[1] > widths[0], "{widths:?}");

        let rows = summary_rows(&bytes, "Summary");
        assert_eq!(value(&rows, "File"), Data::String("agents.xlsx".into()));
        assert_eq!(value(&rows, "Rows"), Data::Float(2.0));
        assert_eq!(value(&rows, "Not imported"), Data::Float(1.0));
    }
}
