//! The uploaded sheet as rows of typed cells, whatever the file format: what the readers
//! produce and the rest of the import reads.

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Int(i64),
    Bool(bool),
    /// A readable rendering: "2024-03-01", "10:30:00" or "2024-03-01 10:30:00".
    DateTime(String),
    /// The error code, e.g. "#DIV/0!".
    Error(String),
    /// A formula saved without its value, by a program that writes formulas but does not
    /// calculate them: what the cell shows is unknown until a spreadsheet program does.
    UnsavedFormula,
}

impl Cell {
    /// The value as the user typed it; `None` for an empty cell.
    pub(crate) fn display(&self) -> Option<String> {
        match self {
            Cell::Empty | Cell::UnsavedFormula => None,
            Cell::Text(s) | Cell::DateTime(s) | Cell::Error(s) => Some(s.clone()),
            Cell::Number(f) => Some(number_text(*f)),
            Cell::Int(i) => Some(i.to_string()),
            Cell::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
        }
    }

    /// Empty, or text of only whitespace: such a cell does not make a row count.
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            // Something is in it, just not known: the row is a row, and says so.
            Cell::UnsavedFormula => false,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// Excel shows and keeps 15 significant digits: rounding there first turns binary noise such
/// as 0.30000000000000004 back into what the user typed, and integers lose their ".0".
fn number_text(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded}")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based row number in the sheet, as the user sees it.
    pub number: u32,
    /// Index = column; trailing empty cells are not stored.
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The worksheet name ("Sheet1" for a CSV).
    pub name: String,
    /// Row 1 exactly: the header is never searched for further down.
    pub header: Vec<Cell>,
    /// Data rows below the header; blank rows are skipped, hidden rows kept.
    pub rows: Vec<Row>,
    /// Columns used by the header or any data row.
    pub width: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(Cell::Number(123456.0).display().unwrap(), "123456");
        assert_eq!(Cell::Number(0.5).display().unwrap(), "0.5");
        assert_eq!(
            Cell::Number(8595602512225.0).display().unwrap(),
            "8595602512225"
        );
        assert_eq!(Cell::Number(-42.0).display().unwrap(), "-42");
        assert_eq!(Cell::Number(0.1 + 0.2).display().unwrap(), "0.3");
        assert_eq!(
            Cell::Number(1.5e20).display().unwrap(),
            "150000000000000000000"
        );
        assert_eq!(Cell::Int(7).display().unwrap(), "7");
        assert_eq!(Cell::Bool(true).display().unwrap(), "TRUE");
        assert_eq!(Cell::Empty.display(), None);
    }

    #[test]
    fn blank_is_empty_or_spaces_only() {
        assert!(Cell::Empty.is_blank());
        assert!(Cell::Text(" \t ".into()).is_blank());
        assert!(!Cell::Text(" x ".into()).is_blank());
        assert!(!Cell::Number(0.0).is_blank());
    }
}
