//! Checks inside each part of an .xlsx, run by `archive.rs` before calamine opens it.
//!
//! Every part is parsed with the quick-xml that calamine uses, configured the same way, so both
//! see the same elements. Every part, whatever its name or first bytes: the relationships decide
//! which parts calamine reads as XML (a worksheet may be `xl/media/image1.png`), and quick-xml
//! reads a part that starts with junk as text followed by elements. What calamine 0.38 would
//! otherwise trust, and how it is bounded:
//!
//! - One text or tag (or comment, or declaration) is buffered whole, by this scan and by
//!   calamine alike: one longer than [`MAX_RUN`] bytes rejects the file as soon as that many
//!   bytes are read. A cell holds at most 32,767 characters (about 330 KB even fully escaped); a
//!   picture or other binary part breaks into short tokens at the `<` and `>` bytes that random
//!   data holds every few hundred bytes.
//! - `<!DOCTYPE>` / `<!ENTITY>` (billion laughs, external entities): no spreadsheet program
//!   writes them; any part holding one rejects the file.
//! - `<sst uniqueCount>`: `read_shared_strings` calls `strings.reserve(uniqueCount)` (24 bytes
//!   per string; 4e9 asks for ~96 GB). The declared count may not exceed the `<si>` elements
//!   actually present by more than [`COUNT_SLACK`].
//! - What calamine keeps: the shared strings (`<si/>` is 5 bytes of XML for 24 bytes of
//!   `String`, and one string may stand in every cell of the sheet) and the styles (each `xf`
//!   a 152-byte `Style` holding copies of its font name and format code). What they will cost
//!   is estimated here, and it counts against `Limits::max_sheet_bytes`, the budget `sheet.rs`
//!   goes on with.
//! - Records `read_styles` turns into structs, each `xf` cloning its font, fill, border and
//!   format code: `cellXfs/xf`, `font`, `fill`, `border` and `numFmt` are limited to
//!   [`MAX_STYLE_RECORDS`] each, and attribute values in the style sheet to
//!   [`MAX_STYLE_ATTR`] bytes (Excel's own limits are 64,000 formats and 255-character format
//!   codes), so a big font name cannot be cloned thousands of times.
//! - Cell and row references (`c r`, `row r`, `dimension ref`, `f ref`, `mergeCell ref`):
//!   calamine parses them into u32 without overflow checks (a panic in debug builds, a wrapped
//!   index in release). Each must name a cell inside Excel's grid (XFD1048576). The streaming
//!   reader never allocates from them; `sheet.rs` bounds the columns that hold values.
//! - Shared formula index `f si`: `formulas.resize(si + 1)` in calamine's formula readers.
//!   It must not exceed the number of `<f>` elements seen so far in the part.
//!
//! A part that is not well-formed is scanned up to the error: calamine stops at the same
//! error, so it cannot reach anything this scan did not see.

use std::io::{self, BufRead, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::error::FileError;
use super::limits::text_cost;

/// Lying generators aside, `uniqueCount` equals the `<si>` count; the slack only tolerates
/// sloppy writers, at a cost of at most 24 bytes each.
const COUNT_SLACK: u64 = 65_536;
const MAX_STYLE_RECORDS: u64 = 65_536;
const MAX_STYLE_ATTR: usize = 1024;
const MAX_ROW: u64 = 1_048_576;
const MAX_COLUMN: u64 = 16_384;
const MAX_RUN: usize = 4 << 20;
/// A shared string's `String` in calamine's vector, counted twice: the vector grows by
/// doubling when the declared count is missing or low.
const STRING_SLOT: u64 = 48;

#[derive(Default)]
struct Scan {
    declared_strings: Option<u64>,
    strings: u64,
    formulas: u64,
    xfs: u64,
    fonts: u64,
    fills: u64,
    borders: u64,
    num_fmts: u64,
    in_style_sheet: bool,
    in_cell_xfs: bool,
    in_sheet_data: bool,
    in_sst: bool,
    in_text: bool,
    /// Text bytes of the `<si>` being read.
    string_bytes: u64,
    longest_style_attr: usize,
    /// What calamine will hold for what this part says so far, and what it may.
    cost: u64,
    budget: u64,
}

/// Scans one part; answers what calamine will hold for the shared strings and styles in it,
/// which may be at most `budget` bytes.
pub(super) fn scan_part<R: BufRead>(source: R, name: &str, budget: u64) -> Result<u64, FileError> {
    let mut xml = Reader::from_reader(RunLimit {
        inner: source,
        run: 0,
    });
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;

    let mut scan = Scan {
        budget,
        ..Scan::default()
    };
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        let event = xml.read_event_into(&mut buf);
        xml.get_mut().run = 0;
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
            Err(quick_xml::Error::Io(e)) => return Err(super::archive::io_error(&e, name)),
            Err(_) => break,
        }
    }
    scan.finish(name)?;
    Ok(scan.cost)
}

/// Refuses to read on once more than [`MAX_RUN`] bytes have gone into the event being read, so
/// neither this scan nor calamine (the same tokenizer, configured alike) ever buffers a longer
/// text, tag, comment or declaration. The scan resets the count after each event.
struct RunLimit<R> {
    inner: R,
    /// Bytes consumed since the last event ended.
    run: usize,
}

#[derive(Debug)]
struct LongRun;

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

impl Scan {
    fn start(&mut self, e: &BytesStart<'_>, part: &str) -> Result<(), FileError> {
        let local = e.local_name();
        let local = local.as_ref();
        if self.in_style_sheet {
            let longest = check_attr_lengths(e, part)?;
            self.longest_style_attr = self.longest_style_attr.max(longest);
        }
        match local {
            "styleSheet" => self.in_style_sheet = true,
            "sst" => {
                self.in_sst = true;
                if let Some(v) = attr(e, "uniqueCount") {
                    let n = leading_number(&v);
                    self.declared_strings = Some(self.declared_strings.unwrap_or(0).max(n));
                }
            }
            "si" => {
                self.strings += 1;
                if self.in_sst {
                    self.string_bytes = 0;
                    self.add_cost(STRING_SLOT)?;
                }
            }
            "t" if self.in_sst => self.in_text = true,
            "cellXfs" => self.in_cell_xfs = true,
            "xf" if self.in_cell_xfs => bump(&mut self.xfs, "cell formats", part)?,
            "font" if self.in_style_sheet => bump(&mut self.fonts, "fonts", part)?,
            "fill" if self.in_style_sheet => bump(&mut self.fills, "fills", part)?,
            "border" if self.in_style_sheet => bump(&mut self.borders, "borders", part)?,
            "numFmt" if self.in_style_sheet => bump(&mut self.num_fmts, "number formats", part)?,
            "sheetData" => self.in_sheet_data = true,
            "dimension" | "mergeCell" => check_refs(e, "ref", part)?,
            "c" if self.in_sheet_data => check_refs(e, "r", part)?,
            "row" if self.in_sheet_data => {
                for v in attrs(e, "r") {
                    row_number(&v).ok_or_else(|| bad_ref(&v, part))?;
                }
            }
            "f" => {
                self.formulas += 1;
                check_refs(e, "ref", part)?;
                for v in attrs(e, "si") {
                    if leading_number(&v) >= self.formulas {
                        return Err(FileError::Corrupt(format!(
                            "part {part} refers to a shared formula that does not exist"
                        )));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, local: &str) -> Result<(), FileError> {
        match local {
            "sheetData" => self.in_sheet_data = false,
            "cellXfs" => self.in_cell_xfs = false,
            "sst" => self.in_sst = false,
            "t" => self.in_text = false,
            "si" if self.in_sst => {
                let cost = text_cost(self.string_bytes);
                self.string_bytes = 0;
                self.add_cost(cost)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Text calamine keeps: inside `<t>` in the shared strings.
    fn text(&mut self, bytes: usize) {
        if self.in_sst && self.in_text {
            self.string_bytes += bytes as u64;
        }
    }

    fn add_cost(&mut self, bytes: u64) -> Result<(), FileError> {
        self.cost = self.cost.saturating_add(bytes);
        if self.cost > self.budget {
            return Err(FileError::TooMuchData { limit: self.budget });
        }
        Ok(())
    }

    fn finish(&mut self, part: &str) -> Result<(), FileError> {
        if self.in_style_sheet {
            // Each xf is a Style (twice, for the vector's growth) with a copy of its font name and
            // format code; fonts, fills, borders and formats are kept once more each.
            let slot = size_of::<calamine::Style>() as u64;
            let text = text_cost(self.longest_style_attr as u64);
            let records = self.fonts + self.fills + self.borders + self.num_fmts;
            let styles = self.xfs * (2 * slot + 16 + 2 * text) + records * (slot + text);
            self.add_cost(styles)?;
        }
        if let Some(declared) = self.declared_strings
            && declared > self.strings.saturating_add(COUNT_SLACK)
        {
            return Err(FileError::Corrupt(format!(
                "part {part} declares {declared} texts but holds {}",
                self.strings
            )));
        }
        Ok(())
    }
}

fn bump(count: &mut u64, what: &str, part: &str) -> Result<(), FileError> {
    *count += 1;
    if *count > MAX_STYLE_RECORDS {
        return Err(FileError::Corrupt(format!(
            "part {part} holds more than {MAX_STYLE_RECORDS} {what}"
        )));
    }
    Ok(())
}

/// Every value of attributes named `key`, with or without a namespace prefix: calamine takes
/// the exact name, sometimes the first and sometimes the last one, so all are checked.
fn attrs(e: &BytesStart<'_>, key: &str) -> Vec<Vec<u8>> {
    let mut attributes = e.attributes();
    attributes.with_checks(false);
    let mut values: Vec<Vec<u8>> = attributes
        .map_while(Result::ok)
        .filter(|a| a.key.local_name().as_ref() == key)
        .map(|a| a.value.into_owned().into_bytes())
        .collect();
    values.extend(
        calamine_attrs(e.attributes_raw())
            .filter(|(k, _)| k.rsplit(':').next() == Some(key))
            .map(|(_, v)| v.as_bytes().to_vec()),
    );
    values
}

/// The pairs calamine (since 0.38, with its own `attrs.rs`) reads from a tag's attributes,
/// which differ from quick-xml's on malformed input: the key is whatever comes before `=`, the
/// value runs to the next matching quote, and reading stops at the first pair without them.
/// Found by fuzzing: `<sst 1.0" encoding="UTF-8" uniqueCount="4000000000" z=">` hid the count
/// from quick-xml's reading, not from calamine's.
fn calamine_attrs(raw: &str) -> CalamineAttrs<'_> {
    CalamineAttrs { raw, at: 0 }
}

struct CalamineAttrs<'a> {
    raw: &'a str,
    at: usize,
}

impl<'a> Iterator for CalamineAttrs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (raw, bytes) = (self.raw, self.raw.as_bytes());
        let mut at = self.at;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let key_start = at;
        while at < bytes.len() && bytes[at] != b'=' {
            at += 1;
        }
        self.at = bytes.len();
        if at >= bytes.len() {
            return None;
        }
        let key = raw[key_start..at].trim_ascii_end();
        at += 1;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let quote = match bytes.get(at) {
            Some(&quote @ (b'"' | b'\'')) => quote,
            _ => return None,
        };
        at += 1;
        let value_start = at;
        while at < bytes.len() && bytes[at] != quote {
            at += 1;
        }
        self.at = (at + 1).min(bytes.len());
        Some((key, &raw[value_start..at]))
    }
}

fn attr(e: &BytesStart<'_>, key: &str) -> Option<Vec<u8>> {
    attrs(e, key).into_iter().max_by_key(|v| leading_number(v))
}

/// Answers the longest attribute value of the element.
fn check_attr_lengths(e: &BytesStart<'_>, part: &str) -> Result<usize, FileError> {
    let mut attributes = e.attributes();
    attributes.with_checks(false);
    let longest = attributes
        .map_while(Result::ok)
        .map(|a| a.value.len())
        .chain(calamine_attrs(e.attributes_raw()).map(|(_, v)| v.len()))
        .max()
        .unwrap_or(0);
    if longest > MAX_STYLE_ATTR {
        return Err(FileError::Corrupt(format!(
            "part {part} holds a style value longer than {MAX_STYLE_ATTR} characters"
        )));
    }
    Ok(longest)
}

fn check_refs(e: &BytesStart<'_>, key: &str, part: &str) -> Result<(), FileError> {
    for v in attrs(e, key) {
        // A range ("A1:C9") or a list of ranges ("A1:B2 D4"), as dimension and sqref allow.
        for range in v.split(|&b| b == b' ') {
            let mut cells = Vec::new();
            for cell in range.split(|&b| b == b':').filter(|c| !c.is_empty()) {
                cells.push(cell_ref(cell).ok_or_else(|| bad_ref(&v, part))?);
            }
            // calamine subtracts a range's start from its end, unchecked (found by fuzzing:
            // `A4:D3` panics in a debug build).
            if let [(first_row, first_column), (last_row, last_column)] = cells[..]
                && (last_row < first_row || last_column < first_column)
            {
                let shown: String = String::from_utf8_lossy(range).chars().take(40).collect();
                return Err(FileError::Corrupt(format!(
                    "part {part} holds the range \"{shown}\", which ends before it starts"
                )));
            }
        }
    }
    Ok(())
}

fn bad_ref(v: &[u8], part: &str) -> FileError {
    let shown: String = String::from_utf8_lossy(v).chars().take(40).collect();
    FileError::Corrupt(format!(
        "part {part} refers to cell \"{shown}\", outside the sheet"
    ))
}

/// Letters then digits, as calamine's parser reads them, inside Excel's grid.
fn cell_ref(v: &[u8]) -> Option<(u64, u64)> {
    let digits_at = v.iter().position(u8::is_ascii_digit)?;
    let (letters, digits) = v.split_at(digits_at);
    if letters.is_empty() || letters.len() > 3 || !letters.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let column = letters.iter().fold(0u64, |acc, c| {
        acc * 26 + u64::from(c.to_ascii_uppercase() - b'A') + 1
    });
    let row = row_digits(digits)?;
    (column <= MAX_COLUMN).then_some((row, column))
}

/// A `row r` attribute: calamine accepts and ignores a column part.
fn row_number(v: &[u8]) -> Option<u64> {
    let digits_at = v.iter().position(u8::is_ascii_digit)?;
    if digits_at == 0 {
        row_digits(v)
    } else {
        cell_ref(v).map(|(row, _)| row)
    }
}

fn row_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 7 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let row = digits
        .iter()
        .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    (1..=MAX_ROW).contains(&row).then_some(row)
}

/// The number a lenient integer parser would read: leading digits, saturating, so that an
/// absurd count is never mistaken for a small one.
fn leading_number(v: &[u8]) -> u64 {
    let v = v.trim_ascii();
    let v = v.strip_prefix(b"+").unwrap_or(v);
    v.iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0u64, |acc, d| {
            acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        })
}

#[cfg(test)]
mod tests {
    use super::super::limits::Limits;
    use super::super::sheet;
    use super::super::test_support::{SHEET_START, inline, read, xlsx_with};
    use super::*;

    fn sheet_with(rows: &str) -> String {
        format!("{SHEET_START}<sheetData>{rows}</sheetData></worksheet>")
    }

    fn header_row() -> String {
        format!(
            "<row r=\"1\">{}{}{}</row>",
            inline("A1", "Name"),
            inline("B1", "Email"),
            inline("C1", "Password")
        )
    }

    const SST: &str = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="COUNT" uniqueCount="COUNT"><si><t>Ann</t></si></sst>"#;

    #[test]
    fn an_absurd_shared_string_count_is_refused_before_calamine_reserves_it() {
        let sst = SST.replace("COUNT", "4000000000");
        let got = read(&xlsx_with(&[("xl/sharedStrings.xml", &sst)]));
        assert!(
            matches!(&got, Err(FileError::Corrupt(m)) if m.contains("4000000000")),
            "{got:?}"
        );
        // Beyond u64: still refused, never read as a small number.
        let sst = SST.replace("COUNT", "99999999999999999999999");
        assert!(matches!(
            read(&xlsx_with(&[("xl/sharedStrings.xml", &sst)])),
            Err(FileError::Corrupt(_))
        ));
        // An honest or slightly wrong count is fine.
        for count in ["1", "0", "7"] {
            let sst = SST.replace("COUNT", count);
            let rows = format!(
                "{}<row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c></row>",
                header_row()
            );
            let bytes = xlsx_with(&[
                ("xl/sharedStrings.xml", &sst),
                ("xl/worksheets/sheet1.xml", &sheet_with(&rows)),
            ]);
            let sheet = read(&bytes).unwrap();
            assert_eq!(sheet.rows[0].cells[0].display().as_deref(), Some("Ann"));
        }
    }

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

    #[test]
    fn references_outside_the_grid_are_refused() {
        for bad in [
            r#"<row r="1"><c r="XFE1"><v>1</v></c></row>"#,
            r#"<row r="1"><c r="A1048577"><v>1</v></c></row>"#,
            r#"<row r="1"><c r="A99999999999"><v>1</v></c></row>"#,
            r#"<row r="1"><c r="AAAAAAAAAAAAAAA1"><v>1</v></c></row>"#,
            r#"<row r="4294967297"><c><v>1</v></c></row>"#,
            r#"<row r="1"><c r="A0"><v>1</v></c></row>"#,
        ] {
            let got = read(&xlsx_with(&[(
                "xl/worksheets/sheet1.xml",
                &sheet_with(bad),
            )]));
            assert!(matches!(got, Err(FileError::Corrupt(_))), "{bad}: {got:?}");
        }
        let dimension = format!(
            "{SHEET_START}<dimension ref=\"A1:XFD99999999\"/><sheetData>{}</sheetData></worksheet>",
            header_row()
        );
        let got = read(&xlsx_with(&[("xl/worksheets/sheet1.xml", &dimension)]));
        assert!(matches!(got, Err(FileError::Corrupt(_))), "{got:?}");
        // A range must not end before it starts: calamine subtracts one from the other.
        for backwards in ["A4:D3", "D1:A3"] {
            let sheet = format!(
                "{SHEET_START}<dimension ref=\"{backwards}\"/><sheetData>{}</sheetData></worksheet>",
                header_row()
            );
            let got = read(&xlsx_with(&[("xl/worksheets/sheet1.xml", &sheet)]));
            assert!(
                matches!(&got, Err(FileError::Corrupt(m)) if m.contains("ends before it starts")),
                "{backwards}: {got:?}"
            );
        }
        // The last cell of the grid is a valid reference.
        assert_eq!(cell_ref(b"XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(row_number(b"1048576"), Some(1_048_576));
    }

    #[test]
    fn a_shared_formula_index_must_exist() {
        let rows = format!(
            "{}<row r=\"2\"><c r=\"A2\"><f t=\"shared\" si=\"4000000000\"/><v>1</v></c></row>",
            header_row()
        );
        let got = read(&xlsx_with(&[(
            "xl/worksheets/sheet1.xml",
            &sheet_with(&rows),
        )]));
        assert!(matches!(got, Err(FileError::Corrupt(_))), "{got:?}");
        let rows = format!(
            "{}<row r=\"2\"><c r=\"A2\"><f t=\"shared\" ref=\"A2:A3\" si=\"0\">1+1</f><v>2</v></c></row>\
             <row r=\"3\"><c r=\"A3\"><f t=\"shared\" si=\"0\"/><v>2</v></c></row>",
            header_row()
        );
        let sheet = read(&xlsx_with(&[(
            "xl/worksheets/sheet1.xml",
            &sheet_with(&rows),
        )]))
        .unwrap();
        assert_eq!(sheet.rows.len(), 2);
    }

    #[test]
    fn style_records_are_bounded() {
        let many = "<xf numFmtId=\"0\" fontId=\"0\"/>".repeat(MAX_STYLE_RECORDS as usize + 1);
        let styles = format!("<styleSheet><cellXfs count=\"1\">{many}</cellXfs></styleSheet>");
        let got = read(&xlsx_with(&[("xl/styles.xml", &styles)]));
        assert!(
            matches!(&got, Err(FileError::Corrupt(m)) if m.contains("cell formats")),
            "{got:?}"
        );

        let name = "x".repeat(MAX_STYLE_ATTR + 1);
        let styles = format!(
            "<styleSheet><fonts count=\"1\"><font><name val=\"{name}\"/></font></fonts></styleSheet>"
        );
        let got = read(&xlsx_with(&[("xl/styles.xml", &styles)]));
        assert!(matches!(got, Err(FileError::Corrupt(_))), "{got:?}");

        // What calamine will keep for them counts against the sheet's memory: here 1,000
        // formats each copying a 1,000-character font name, about 2.4 MB.
        let name = "F".repeat(1000);
        let xfs = "<xf numFmtId=\"0\" fontId=\"0\"/>".repeat(1000);
        let styles = format!(
            "<styleSheet><fonts count=\"1\"><font><name val=\"{name}\"/></font></fonts><cellXfs count=\"1000\">{xfs}</cellXfs></styleSheet>"
        );
        let bytes = xlsx_with(&[("xl/styles.xml", &styles)]);
        let budget = |max_sheet_bytes| Limits {
            max_sheet_bytes,
            ..Limits::default()
        };
        assert_eq!(
            sheet::read(&bytes, &budget(2_000_000)).map(|s| s.width),
            Err(FileError::TooMuchData { limit: 2_000_000 })
        );
        assert!(sheet::read(&bytes, &budget(3_000_000)).is_ok());
    }

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

    #[test]
    fn attributes_are_read_as_calamine_reads_them_too() {
        // A stray `1.0"` ends quick-xml's reading of the attributes; calamine reads on.
        let sst =
            r#"<sst 1.0" encoding="UTF-8" uniqueCount="4000000000" z="><si><t>Ann</t></si></sst>"#;
        let got = read(&xlsx_with(&[("xl/sharedStrings.xml", sst)]));
        assert!(
            matches!(&got, Err(FileError::Corrupt(m)) if m.contains("4000000000")),
            "{got:?}"
        );
        assert_eq!(
            calamine_attrs(r#" a="1" 1.0" b="2"?>" c='3' d"#).collect::<Vec<_>>(),
            [("a", "1"), ("1.0\" b", "2"), ("?>\" c", "3")]
        );
    }

    #[test]
    fn a_part_is_scanned_whatever_it_starts_with() {
        // quick-xml reads the junk as text, then the elements: calamine would reserve 4e9.
        let (_, body) = SST.split_once("?>").unwrap();
        let sst = format!("junk{}", body.replace("COUNT", "4000000000"));
        let got = read(&xlsx_with(&[("xl/sharedStrings.xml", &sst)]));
        assert!(
            matches!(&got, Err(FileError::Corrupt(m)) if m.contains("4000000000")),
            "{got:?}"
        );
    }

    #[test]
    fn shared_strings_count_against_the_sheet_budget() {
        let budget = |max_sheet_bytes| Limits {
            max_sheet_bytes,
            ..Limits::default()
        };
        // 5 bytes of XML each, 48 bytes of memory each.
        let empty = format!("<sst>{}</sst>", "<si/>".repeat(10_000));
        let bytes = xlsx_with(&[("xl/sharedStrings.xml", &empty)]);
        assert_eq!(
            sheet::read(&bytes, &budget(400_000)),
            Err(FileError::TooMuchData { limit: 400_000 })
        );
        assert!(sheet::read(&bytes, &budget(500_000)).is_ok());
        let texts = format!(
            "<sst>{}</sst>",
            format!("<si><t>{}</t></si>", "x".repeat(1000)).repeat(100)
        );
        let bytes = xlsx_with(&[("xl/sharedStrings.xml", &texts)]);
        assert_eq!(
            sheet::read(&bytes, &budget(100_000)),
            Err(FileError::TooMuchData { limit: 100_000 })
        );
        assert!(sheet::read(&bytes, &budget(120_000)).is_ok());
    }

    #[test]
    fn declared_numbers_saturate() {
        assert_eq!(leading_number(b" 42 "), 42);
        assert_eq!(leading_number(b"99999999999999999999999"), u64::MAX);
    }
}
