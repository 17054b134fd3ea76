//! The result file of last resort: when the uploaded sheet cannot be read again, each row's
//! number and outcome, so an administrator still knows what became of every row.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

pub fn write(rows: &[u32], outcome: &dyn Fn(u32) -> Option<String>) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet_with_constant_memory()?;
    let bold = Format::new().set_bold();
    ws.set_column_width(0, 10)?;
    ws.set_column_width(1, 80)?;
    ws.write_string_with_format(0, 0, "Row", &bold)?;
    ws.write_string_with_format(0, 1, "Result", &bold)?;
    for (at, row) in (1u32..).zip(rows) {
        ws.write_number(at, 0, f64::from(*row))?;
        ws.write_string(at, 1, outcome(*row).unwrap_or_default())?;
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use calamine::{Data, Reader, Xlsx};

    #[test]
    fn every_row_number_has_its_outcome() {
        let bytes = super::write(&[2, 5], &|row| Some(format!("Not imported: row {row}"))).unwrap();
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(range.get((1, 0)), Some(&Data::Float(2.0)));
        assert_eq!(
            range.get((2, 1)),
            Some(&Data::String("Not imported: row 5".into()))
        );
    }
}
