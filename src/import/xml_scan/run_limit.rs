//! A bound on the bytes one XML token may take, enforced under the tokenizer.

use std::io::{self, BufRead, Read};

pub(super) const MAX_RUN: usize = 4 << 20;

/// Refuses to read on once more than [`MAX_RUN`] bytes have gone into the event being read, so
/// neither this scan nor calamine (the same tokenizer, configured alike) ever buffers a longer
/// text, tag, comment or declaration. The scan resets the count after each event.
pub(super) struct RunLimit<R> {
    inner: R,
    /// Bytes consumed since the last event ended.
    run: usize,
}

impl<R> RunLimit<R> {
    pub(super) fn new(inner: R) -> Self {
        Self { inner, run: 0 }
    }

    /// Called once an event has been read: the next one starts from nothing.
    pub(super) fn event_ended(&mut self) {
        self.run = 0;
    }
}

/// The error [`RunLimit`] fails a read with, told apart from the source's own I/O errors.
#[derive(Debug)]
pub(super) struct LongRun;

impl std::fmt::Display for LongRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an XML token longer than {MAX_RUN} bytes")
    }
}

impl std::error::Error for LongRun {}

impl<R: BufRead> BufRead for RunLimit<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.run > MAX_RUN {
            return Err(io::Error::other(LongRun));
        }
        // Never more than the event may still take, so the limit is exact.
        let room = MAX_RUN + 1 - self.run;
        let buffered = self.inner.fill_buf()?;
        Ok(&buffered[..buffered.len().min(room)])
    }

    fn consume(&mut self, amount: usize) {
        self.run += amount;
        self.inner.consume(amount);
    }
}

impl<R: BufRead> Read for RunLimit<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::error::FileError;
    use crate::import::test_support::{
        SHEET_START, header_row, inline, read, sheet_with, xlsx_with,
    };

    #[test]
    fn a_text_tag_or_comment_longer_than_the_run_limit_is_refused() {
        let long = "A".repeat(MAX_RUN + 1);
        // '>' inside quotes or a comment does not end the token: counting is by event.
        let arrows = ">".repeat(MAX_RUN + 1);
        for sheet in [
            sheet_with(&format!("<row r=\"1\">{}</row>", inline("A1", &long))),
            sheet_with(&format!("<row r=\"1\" x=\"{arrows}\"></row>")),
            format!("{SHEET_START}<!--{arrows}--><sheetData/></worksheet>"),
        ] {
            let got = read(&xlsx_with(&[("xl/worksheets/sheet1.xml", &sheet)])).map(|s| s.width);
            assert!(
                matches!(&got, Err(FileError::Corrupt(m)) if m.contains("longer than 4 MB")),
                "{got:?}"
            );
        }
        // A long cell within the limit is read like any other.
        let long = "A".repeat(1 << 20);
        let rows = format!("{}<row r=\"2\">{}</row>", header_row(), inline("A2", &long));
        let sheet = read(&xlsx_with(&[(
            "xl/worksheets/sheet1.xml",
            &sheet_with(&rows),
        )]))
        .unwrap();
        assert_eq!(
            sheet.rows[0].cells[0].display().map(|t| t.len()),
            Some(1 << 20)
        );
    }
}
