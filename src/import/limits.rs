#[derive(Debug, Clone)]
pub struct Limits {
    pub max_upload_bytes: u64,
    pub max_rows: usize,
    pub max_unpacked_bytes: u64,
    pub max_archive_entries: usize,
    pub max_columns: usize,
}
impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 10 << 20,
            max_rows: 100_000,
            max_unpacked_bytes: 256 << 20,
            max_archive_entries: 1000,
            max_columns: 256,
        }
    }
}
