//! Reads an upload into a [`Sheet`]: the file-level checks, then the reader its content calls
//! for.

use super::archive;
use super::cell::{Cell, Sheet};
use super::csv_reader;
use super::detect::{self, FileKind};
use super::error::FileError;
use super::limits::Limits;
use super::xlsx_reader;

/// Reads the first visible worksheet of an .xlsx, or a CSV, after every file-level check.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Sheet, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if bytes.len() as u64 > limits.max_upload_bytes {
        return Err(FileError::TooLarge {
            limit: limits.max_upload_bytes,
        });
    }
    let sheet = match detect::detect_with(bytes, limits.max_archive_entries)? {
        FileKind::Xlsx => {
            let inspected = archive::inspect(bytes, limits)?;
            xlsx_reader::read(bytes, limits, inspected)?
        }
        FileKind::Csv => csv_reader::read(bytes, limits)?,
    };
    if sheet.header.iter().all(Cell::is_blank) && sheet.rows.is_empty() {
        return Err(FileError::NoHeader);
    }
    Ok(sheet)
}
