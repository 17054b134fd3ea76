//! How a result sheet looks: a bold header frozen above an autofilter, columns as wide as what
//! they hold, and each Result cell coloured by what became of its row.
//!
//! The sheets are written with constant memory, which flushes each row as the next begins: a
//! column's width has to be known before the first row is written, and `autofit` (which reads
//! the rows back) sees only the last one. So the writers measure first, in a pass that keeps
//! one number per column, then write.

use std::fmt::{self, Display, Write as _};

use rust_xlsxwriter::{Color, Format, Worksheet, XlsxError};

use crate::import::RowOutcome;

/// In Excel's character units. Narrower than Excel's default (8.43) would crop the header.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;
/// Messages say what to fix, so the Result column may grow wider than the data.
const MAX_RESULT_WIDTH: usize = 80;
/// Room for the autofilter's dropdown button beside a header's text.
const FILTER_BUTTON: usize = 3;
/// A little air after the longest value.
const PADDING: usize = 1;

/// The longest value of each column, in characters.
pub(crate) struct Widths {
    longest: Vec<usize>,
    result: usize,
}

impl Widths {
    /// `columns` columns, of which `result` is the Result column.
    pub(crate) fn new(columns: usize, result: usize) -> Widths {
        Widths {
            longest: vec![0; columns.max(result + 1)],
            result,
        }
    }

    pub(crate) fn header(&mut self, column: usize, chars: usize) {
        self.fit(column, chars + FILTER_BUTTON);
    }

    pub(crate) fn cell(&mut self, column: usize, chars: usize) {
        self.fit(column, chars + PADDING);
    }

    fn fit(&mut self, column: usize, chars: usize) {
        if let Some(longest) = self.longest.get_mut(column) {
            *longest = (*longest).max(chars);
        }
    }

    /// The width of each column, from the first.
    pub(crate) fn widths(&self) -> impl Iterator<Item = usize> + '_ {
        self.longest.iter().enumerate().map(|(column, longest)| {
            let max = if column == self.result {
                MAX_RESULT_WIDTH
            } else {
                MAX_WIDTH
            };
            (*longest).clamp(MIN_WIDTH, max)
        })
    }
}

/// Prepares a sheet before its first row: column widths, the header row frozen, and an
/// autofilter from the header down to `last_row` over every column.
pub(crate) fn prepare(ws: &mut Worksheet, widths: &Widths, last_row: u32) -> Result<(), XlsxError> {
    let mut columns = 0;
    for (column, width) in widths.widths().enumerate() {
        ws.set_column_width(col(column)?, width as f64)?;
        columns += 1;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, last_row, col(columns.max(1) - 1)?)?;
    Ok(())
}

pub(crate) fn col(column: usize) -> Result<u16, XlsxError> {
    u16::try_from(column).map_err(|_| XlsxError::RowColumnLimitError)
}

/// Characters of `value` as shown, counted without building the text.
pub(crate) fn shown_chars(value: &impl Display) -> usize {
    struct Count(usize);
    impl fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 += s.chars().count();
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing into a counter cannot fail; a Display that fails counts what it wrote.
    let _ = write!(count, "{value}");
    count.0
}

/// The formats of a result sheet: made once, used for every row.
pub(crate) struct Styles {
    pub(crate) header: Format,
    error: Format,
    not_imported: Format,
    skipped: Format,
    done: Format,
}

impl Styles {
    pub(crate) fn new() -> Styles {
        Styles {
            header: Format::new().set_bold(),
            // Excel's own "Bad" and "Neutral" cell styles, which readers know on sight.
            error: Format::new()
                .set_background_color(Color::RGB(0xFFC7CE))
                .set_font_color(Color::RGB(0x9C0006)),
            not_imported: Format::new()
                .set_background_color(Color::RGB(0xFFEB9C))
                .set_font_color(Color::RGB(0x9C5700)),
            skipped: Format::new().set_background_color(Color::RGB(0xEDEDED)),
            // Rows that went as asked stay plain, so the few that need a look stand out.
            done: Format::new(),
        }
    }

    /// The Result cell's format: only what needs a second look is coloured.
    pub(crate) fn result(&self, outcome: &RowOutcome) -> &Format {
        match outcome {
            RowOutcome::Error(_) => &self.error,
            RowOutcome::NotImported(_) => &self.not_imported,
            RowOutcome::Skipped(_) | RowOutcome::WouldSkip(_) => &self.skipped,
            RowOutcome::Success
            | RowOutcome::Updated
            | RowOutcome::Kept(_)
            | RowOutcome::WouldCreate
            | RowOutcome::WouldUpdate => &self.done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_bounded_and_the_result_column_may_be_wider() {
        let mut widths = Widths::new(3, 2);
        widths.header(0, 2);
        widths.cell(1, 500);
        widths.cell(2, 500);
        assert_eq!(widths.widths().collect::<Vec<_>>(), [8, 60, 80]);
        widths.cell(0, 20);
        widths.cell(7, 20);
        assert_eq!(widths.widths().next(), Some(21));
    }

    #[test]
    fn shown_chars_counts_characters_not_bytes() {
        assert_eq!(shown_chars(&"Zoë"), 3);
        assert_eq!(
            shown_chars(&RowOutcome::Error("bad".into())),
            "Error: bad".len()
        );
    }
}
