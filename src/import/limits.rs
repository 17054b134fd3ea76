//! The bounds on an uploaded file, and their defaults.

/// Bounds applied to every uploaded file before and while it is read.
///
/// Each one turns a hostile or oversized upload into a clear [`super::error::FileError`]
/// instead of a process that runs out of memory or time.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Size of the uploaded file itself.
    pub max_upload_bytes: u64,
    /// Data rows: non-blank rows below the header.
    pub max_rows: usize,
    /// Total bytes actually inflated from the zip, whatever the entries declare.
    pub max_unpacked_bytes: u64,
    /// Entries in the zip archive.
    pub max_archive_entries: usize,
    /// Columns holding a value; bounds the memory a far-away sparse cell would cost.
    pub max_columns: usize,
    /// Memory the sheet may take once read: its cells, and the shared strings and styles
    /// calamine keeps. A few bytes of XML can stand for a long text repeated in every cell, so
    /// this is counted on what is held, not on the size of the file.
    pub max_sheet_bytes: u64,
}

// The defaults, named so that the settings' own defaults (flags, environment) are these too.

/// [`Limits::max_upload_bytes`]: 10 MB.
pub(crate) const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;
/// [`Limits::max_rows`].
pub(crate) const DEFAULT_MAX_ROWS: usize = 100_000;
/// [`Limits::max_unpacked_bytes`]: 256 MB.
pub(crate) const DEFAULT_MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;
/// [`Limits::max_archive_entries`].
pub(crate) const DEFAULT_MAX_ARCHIVE_ENTRIES: usize = 1_000;
/// [`Limits::max_columns`].
pub(crate) const DEFAULT_MAX_COLUMNS: usize = 256;
/// [`Limits::max_sheet_bytes`]: 128 MB.
pub(crate) const DEFAULT_MAX_SHEET_BYTES: u64 = 128 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_rows: DEFAULT_MAX_ROWS,
            max_unpacked_bytes: DEFAULT_MAX_UNPACKED_BYTES,
            max_archive_entries: DEFAULT_MAX_ARCHIVE_ENTRIES,
            max_columns: DEFAULT_MAX_COLUMNS,
            max_sheet_bytes: DEFAULT_MAX_SHEET_BYTES,
        }
    }
}

/// What holding a text of `len` bytes costs: the bytes and, when there are any, the heap
/// block's bookkeeping (the allocator rounds small blocks up to 32 bytes).
pub(super) fn text_cost(len: u64) -> u64 {
    if len == 0 { 0 } else { len + 32 }
}
