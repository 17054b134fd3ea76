use super::{error::FileError, limits::Limits};
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Int(i64),
    Bool(bool),
    DateTime(String),
    Error(String),
}
impl Cell {
    pub fn display(&self) -> Option<String> {
        todo!()
    }
    pub fn is_blank(&self) -> bool {
        todo!()
    }
}
pub struct Row {
    pub number: u32,
    pub cells: Vec<Cell>,
}
pub struct Sheet {
    pub name: String,
    pub header: Vec<Cell>,
    pub rows: Vec<Row>,
    pub width: usize,
}
pub fn read(_bytes: &[u8], _limits: &Limits) -> Result<Sheet, FileError> {
    todo!()
}
