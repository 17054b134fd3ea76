use super::{columns::Columns, sheet::Sheet};
pub fn write_result(
    _sheet: &Sheet,
    _columns: &Columns,
    _outcome: &dyn Fn(u32) -> Option<String>,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    todo!()
}
