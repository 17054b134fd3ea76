//! The style sheet: the records `read_styles` turns into structs, each `xf` cloning its font,
//! fill, border and format code, and what calamine will keep for them.

use quick_xml::events::BytesStart;

use super::attrs::calamine_attrs;
use crate::import::error::FileError;
use crate::import::limits::text_cost;

pub(super) const MAX_STYLE_RECORDS: u64 = 65_536;
pub(super) const MAX_STYLE_ATTR: usize = 1024;

#[derive(Default)]
pub(super) struct Styles {
    xfs: u64,
    fonts: u64,
    fills: u64,
    borders: u64,
    num_fmts: u64,
    in_style_sheet: bool,
    in_cell_xfs: bool,
    longest_style_attr: usize,
}

impl Styles {
    pub(super) fn start(
        &mut self,
        local: &str,
        e: &BytesStart<'_>,
        part: &str,
    ) -> Result<(), FileError> {
        if self.in_style_sheet {
            let longest = check_attr_lengths(e, part)?;
            self.longest_style_attr = self.longest_style_attr.max(longest);
        }
        match local {
            "styleSheet" => self.in_style_sheet = true,
            "cellXfs" => self.in_cell_xfs = true,
            "xf" if self.in_cell_xfs => bump(&mut self.xfs, "cell formats", part)?,
            "font" if self.in_style_sheet => bump(&mut self.fonts, "fonts", part)?,
            "fill" if self.in_style_sheet => bump(&mut self.fills, "fills", part)?,
            "border" if self.in_style_sheet => bump(&mut self.borders, "borders", part)?,
            "numFmt" if self.in_style_sheet => bump(&mut self.num_fmts, "number formats", part)?,
            _ => {}
        }
        Ok(())
    }

    pub(super) fn end(&mut self, local: &str) {
        if local == "cellXfs" {
            self.in_cell_xfs = false;
        }
    }

    /// What calamine will hold for the styles of this part, once it has been read.
    pub(super) fn cost(&self) -> u64 {
        if !self.in_style_sheet {
            return 0;
        }
        // Each xf is a Style (twice, for the vector's growth) with a copy of its font name and
        // format code; fonts, fills, borders and formats are kept once more each.
        let slot = size_of::<calamine::Style>() as u64;
        let text = text_cost(self.longest_style_attr as u64);
        let records = self.fonts + self.fills + self.borders + self.num_fmts;
        self.xfs * (2 * slot + 16 + 2 * text) + records * (slot + text)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::limits::Limits;
    use crate::import::test_support::{read, read_with, xlsx_with};

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
            read_with(&bytes, &budget(2_000_000)).map(|s| s.width),
            Err(FileError::TooMuchData { limit: 2_000_000 })
        );
        assert!(read_with(&bytes, &budget(3_000_000)).is_ok());
    }
}
