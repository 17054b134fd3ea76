//! Checks inside each part of an .xlsx, run by `archive.rs` before calamine opens it.
//!
//! Every part is parsed with the quick-xml that calamine uses, configured the same way, so both
//! see the same elements. Every part, whatever its name or first bytes: the relationships decide
//! which parts calamine reads as XML (a worksheet may be `xl/media/image1.png`), and quick-xml
//! reads a part that starts with junk as text followed by elements. [`scan_part`] reads the
//! events and hands each element to the module of the bound it concerns. What calamine 0.38
//! would otherwise trust, and how it is bounded:
//!
//! - One text or tag (or comment, or declaration) is buffered whole, by this scan and by
//!   calamine alike: one longer than [`MAX_RUN`] bytes rejects the file as soon as that many
//!   bytes are read (`run_limit`). A cell holds at most 32,767 characters (about 330 KB even
//!   fully escaped); a picture or other binary part breaks into short tokens at the `<` and `>`
//!   bytes that random data holds every few hundred bytes.
//! - `<!DOCTYPE>` / `<!ENTITY>` (billion laughs, external entities): no spreadsheet program
//!   writes them; any part holding one rejects the file (here).
//! - `<sst uniqueCount>`: `read_shared_strings` calls `strings.reserve(uniqueCount)` (24 bytes
//!   per string; 4e9 asks for ~96 GB). The declared count may not exceed the `<si>` elements
//!   actually present by more than [`COUNT_SLACK`](strings::COUNT_SLACK) (`strings`).
//! - What calamine keeps: the shared strings (`<si/>` is 5 bytes of XML for 24 bytes of
//!   `String`, and one string may stand in every cell of the sheet) and the styles (each `xf`
//!   a 152-byte `Style` holding copies of its font name and format code). What they will cost
//!   is estimated (`strings`, `styles`), spent from the budget (`scan`), and it counts against
//!   `Limits::max_sheet_bytes`, the budget `rows.rs` goes on with.
//! - Records `read_styles` turns into structs, each `xf` cloning its font, fill, border and
//!   format code: `cellXfs/xf`, `font`, `fill`, `border` and `numFmt` are limited to
//!   [`MAX_STYLE_RECORDS`](styles::MAX_STYLE_RECORDS) each, and attribute values in the style
//!   sheet to [`MAX_STYLE_ATTR`](styles::MAX_STYLE_ATTR) bytes (Excel's own limits are 64,000
//!   formats and 255-character format codes), so a big font name cannot be cloned thousands of
//!   times (`styles`).
//! - Cell and row references (`c r`, `row r`, `dimension ref`, `f ref`, `mergeCell ref`):
//!   calamine parses them into u32 without overflow checks (a panic in debug builds, a wrapped
//!   index in release). Each must name a cell inside Excel's grid (XFD1048576) (`refs`). The
//!   streaming reader never allocates from them; `rows.rs` bounds the columns that hold values.
//! - Shared formula index `f si`: `formulas.resize(si + 1)` in calamine's formula readers.
//!   It must not exceed the number of `<f>` elements seen so far in the part (`scan`).
//! - Attribute values are read both as quick-xml and as calamine read them (`attrs`), so that
//!   no check sees less than calamine does.
//!
//! A part that is not well-formed is scanned up to the error: calamine stops at the same
//! error, so it cannot reach anything this scan did not see.

mod attrs;
mod refs;
mod run_limit;
mod scan;
mod strings;
mod styles;

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::error::FileError;
use run_limit::{LongRun, MAX_RUN, RunLimit};
use scan::Scan;

/// What a part's scan found beyond its checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct PartFacts {
    /// What calamine will hold for the shared strings and styles in it.
    pub(super) held: u64,
    /// The workbook asks to be calculated again when opened (`<calcPr fullCalcOnLoad="1">`):
    /// its formulas' saved values may be placeholders (see `xlsx_reader`).
    pub(super) recalculates_on_load: bool,
}

/// Scans one part; answers what calamine will hold for the shared strings and styles in it,
/// which may be at most `budget` bytes, and what else the reader needs to know of it.
pub(super) fn scan_part<R: BufRead>(
    source: R,
    name: &str,
    budget: u64,
) -> Result<PartFacts, FileError> {
    let mut xml = Reader::from_reader(RunLimit::new(source));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;

    let mut scan = Scan::new(budget);
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        let event = xml.read_event_into(&mut buf);
        xml.get_mut().event_ended();
        match event {
            Ok(Event::DocType(_)) => return Err(FileError::ForbiddenXml),
            Ok(Event::Start(e) | Event::Empty(e)) => scan.start(&e, name)?,
            Ok(Event::End(e)) => scan.end(e.local_name().as_ref())?,
            Ok(Event::Text(text)) => scan.text(text.len()),
            Ok(Event::CData(text)) => scan.text(text.len()),
            // `&amp;` and the like: one character, at most four bytes.
            Ok(Event::GeneralRef(_)) => scan.text(4),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(quick_xml::Error::Io(e)) if e.get_ref().is_some_and(|e| e.is::<LongRun>()) => {
                return Err(FileError::Corrupt(format!(
                    "part {name} holds a text or tag longer than {} MB, far more than any cell",
                    MAX_RUN >> 20
                )));
            }
            Err(quick_xml::Error::Io(e)) => return Err(FileError::unreadable_part(name, &e)),
            Err(_) => break,
        }
    }
    scan.finish(name)
}

#[cfg(test)]
mod tests {
    use crate::import::error::FileError;
    use crate::import::test_support::{inline, read, xlsx_with};

    #[test]
    fn doctype_and_entities_are_refused_in_any_part() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>"#;
        let sst =
            format!("{laughs}<sst count=\"1\" uniqueCount=\"1\"><si><t>&lol3;</t></si></sst>");
        let sheet = format!(
            "{laughs}<worksheet><sheetData><row r=\"1\">{}</row></sheetData></worksheet>",
            inline("A1", "&lol3;")
        );
        let external = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Properties>&xxe;</Properties>"#;
        for (part, xml) in [
            ("xl/sharedStrings.xml", sst.as_str()),
            ("xl/worksheets/sheet1.xml", sheet.as_str()),
            ("docProps/app.xml", external),
        ] {
            assert_eq!(
                read(&xlsx_with(&[(part, xml)])),
                Err(FileError::ForbiddenXml),
                "{part}"
            );
        }
    }
}
