//! Any bytes, as an upload: the reader must answer with a sheet or a `FileError`, never panic,
//! hang or allocate without bound (libFuzzer's -malloc_limit_mb / -rss_limit_mb catch that).
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster::import::{Limits, detect, sheet};

fuzz_target!(|data: &[u8]| {
    let _ = detect::detect(data);
    let limits = Limits::default();
    if let Ok(sheet) = sheet::read(data, &limits) {
        assert!(sheet.rows.len() <= limits.max_rows);
        assert!(sheet.width <= limits.max_columns);
        assert!(sheet.rows.windows(2).all(|w| w[0].number < w[1].number));
    }
});
