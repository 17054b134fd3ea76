//! Streamed cells gathered into rows, within the row, column and memory limits.

use super::cell::{Cell, Row, Sheet};
use super::error::FileError;
use super::limits::{Limits, text_cost};

const LAST_ROW: u32 = 1_048_576;

fn cell_cost(cell: &Cell) -> u64 {
    match cell {
        Cell::Text(s) | Cell::DateTime(s) | Cell::Error(s) => text_cost(s.len() as u64),
        _ => 0,
    }
}

/// Gathers streamed cells into rows, applying the row, column and memory limits as it goes so
/// that a hostile file is stopped at the first cell past them.
pub(super) struct Rows {
    name: String,
    header: Vec<Cell>,
    rows: Vec<Row>,
    current: Option<Row>,
    width: usize,
    max_rows: usize,
    max_columns: usize,
    /// Bytes held by the rows kept so far (and whatever else the reader holds), the row being
    /// gathered, and the most they may add up to.
    held: u64,
    current_cost: u64,
    max_bytes: u64,
}

impl Rows {
    pub(super) fn new(name: String, limits: &Limits) -> Self {
        Self {
            name,
            header: Vec::new(),
            rows: Vec::new(),
            current: None,
            width: 0,
            max_rows: limits.max_rows,
            max_columns: limits.max_columns,
            held: 0,
            current_cost: 0,
            max_bytes: limits.max_sheet_bytes,
        }
    }

    /// Counts memory the reader holds beside the rows (an .xlsx's shared strings and styles).
    pub(super) fn holding(mut self, bytes: u64) -> Result<Self, FileError> {
        self.held = bytes;
        self.check_memory()?;
        Ok(self)
    }

    fn check_memory(&self) -> Result<(), FileError> {
        if self.held.saturating_add(self.current_cost) > self.max_bytes {
            return Err(FileError::TooMuchData {
                limit: self.max_bytes,
            });
        }
        Ok(())
    }

    /// `row` and `column` are 0-based; cells must come row by row, as every writer stores them.
    pub(super) fn push(&mut self, row: u32, column: u32, cell: Cell) -> Result<(), FileError> {
        if matches!(cell, Cell::Empty) {
            return Ok(());
        }
        let column = column as usize;
        if column >= self.max_columns {
            return Err(FileError::TooManyColumns {
                limit: self.max_columns,
            });
        }
        // The result file is a spreadsheet too: a row past its last one could not be written.
        if row >= LAST_ROW {
            return Err(FileError::PastLastRow);
        }
        let number = row + 1;
        match &self.current {
            Some(current) if current.number == number => {}
            Some(current) if current.number > number => {
                return Err(FileError::Corrupt(format!(
                    "row {number} is stored after row {}",
                    current.number
                )));
            }
            _ => {
                self.flush()?;
                self.current = Some(Row {
                    number,
                    cells: Vec::new(),
                });
                self.current_cost = size_of::<Row>() as u64;
            }
        }
        // One text may stand in every cell (a shared string), so what the cells hold is
        // counted, not what the file took to say it.
        let cells = &mut self.current.as_mut().expect("set above").cells;
        let added = (column + 1).saturating_sub(cells.len());
        self.current_cost += (added * size_of::<Cell>()) as u64 + cell_cost(&cell);
        if cells.len() <= column {
            cells.resize(column + 1, Cell::Empty);
        }
        cells[column] = cell;
        self.check_memory()
    }

    fn flush(&mut self) -> Result<(), FileError> {
        let Some(mut row) = self.current.take() else {
            return Ok(());
        };
        let cost = std::mem::take(&mut self.current_cost);
        row.cells.shrink_to_fit();
        if row.number == 1 || !row.cells.iter().all(Cell::is_blank) {
            self.held += cost;
        }
        if row.number == 1 {
            self.width = self.width.max(row.cells.len());
            self.header = row.cells;
        } else if !row.cells.iter().all(Cell::is_blank) {
            if self.rows.len() == self.max_rows {
                return Err(FileError::TooManyRows {
                    limit: self.max_rows,
                });
            }
            self.width = self.width.max(row.cells.len());
            self.rows.push(row);
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<Sheet, FileError> {
        self.flush()?;
        Ok(Sheet {
            name: self.name,
            header: self.header,
            rows: self.rows,
            width: self.width,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::limits::Limits;

    #[test]
    fn rows_stop_at_the_row_limit() {
        let limits = Limits {
            max_rows: 2,
            ..Limits::default()
        };
        let mut rows = Rows::new("S".into(), &limits);
        rows.push(0, 0, Cell::Text("h".into())).unwrap();
        rows.push(1, 0, Cell::Text("a".into())).unwrap();
        rows.push(2, 0, Cell::Text("b".into())).unwrap();
        // The third data row is refused as soon as the row after it starts.
        assert_eq!(
            rows.push(3, 0, Cell::Text("c".into()))
                .and_then(|()| rows.push(4, 0, Cell::Text("d".into()))),
            Err(FileError::TooManyRows { limit: 2 })
        );
    }

    #[test]
    fn rows_stop_at_the_memory_budget() {
        let limits = Limits {
            max_sheet_bytes: 10_000,
            ..Limits::default()
        };
        let too_much = Err(FileError::TooMuchData { limit: 10_000 });
        // One long text in every row, as a shared string makes cheap to write.
        let mut rows = Rows::new("S".into(), &limits);
        let long = "x".repeat(1_000);
        let pushed: Result<(), _> =
            (0..20).try_for_each(|r| rows.push(r, 0, Cell::Text(long.clone())));
        assert_eq!(pushed, too_much);
        // A far column costs the empty cells before it.
        let mut rows = Rows::new("S".into(), &limits);
        rows.push(0, 200, Cell::Int(1)).unwrap();
        assert_eq!(rows.push(1, 200, Cell::Int(1)), too_much);
        // Blank rows are dropped, and cost nothing once passed.
        let mut rows = Rows::new("S".into(), &limits);
        for r in 1..1_000 {
            rows.push(r, 0, Cell::Text("   ".into())).unwrap();
        }
        // What the reader holds beside the rows counts too.
        assert!(Rows::new("S".into(), &limits).holding(10_001).is_err());
    }

    #[test]
    fn rows_refuse_far_columns_and_disorder() {
        let limits = Limits {
            max_columns: 4,
            ..Limits::default()
        };
        let mut rows = Rows::new("S".into(), &limits);
        assert_eq!(
            rows.push(0, 4, Cell::Text("x".into())),
            Err(FileError::TooManyColumns { limit: 4 })
        );
        // An empty cell far away costs nothing and is not refused.
        rows.push(0, 16_000, Cell::Empty).unwrap();
        rows.push(5, 0, Cell::Text("x".into())).unwrap();
        assert!(matches!(
            rows.push(2, 0, Cell::Text("y".into())),
            Err(FileError::Corrupt(_))
        ));
    }
}
