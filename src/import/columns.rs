use super::{error::FileError, sheet::Cell};
pub struct Columns {
    pub name: usize,
    pub email: usize,
    pub password: usize,
}
impl Columns {
    pub fn find(_header: &[Cell]) -> Result<Columns, FileError> {
        todo!()
    }
}
