//! The shared strings: the count `<sst>` declares, and what calamine will keep for them.

use quick_xml::events::BytesStart;

use super::attrs::{attr, leading_number};
use crate::import::error::FileError;
use crate::import::limits::text_cost;

/// Lying generators aside, `uniqueCount` equals the `<si>` count; the slack only tolerates
/// sloppy writers, at a cost of at most 24 bytes each.
pub(super) const COUNT_SLACK: u64 = 65_536;
/// A shared string's `String` in calamine's vector, counted twice: the vector grows by
/// doubling when the declared count is missing or low.
const STRING_SLOT: u64 = 48;

#[derive(Default)]
pub(super) struct SharedStrings {
    declared: Option<u64>,
    strings: u64,
    in_sst: bool,
    in_text: bool,
    /// Text bytes of the `<si>` being read.
    string_bytes: u64,
}

impl SharedStrings {
    /// Answers what calamine will hold for the element this starts.
    pub(super) fn start(&mut self, local: &str, e: &BytesStart<'_>) -> u64 {
        match local {
            "sst" => {
                self.in_sst = true;
                if let Some(v) = attr(e, "uniqueCount") {
                    let n = leading_number(&v);
                    self.declared = Some(self.declared.unwrap_or(0).max(n));
                }
            }
            "si" => {
                self.strings += 1;
                if self.in_sst {
                    self.string_bytes = 0;
                    return STRING_SLOT;
                }
            }
            "t" if self.in_sst => self.in_text = true,
            _ => {}
        }
        0
    }

    /// Answers what calamine will hold for the text of the element this ends.
    pub(super) fn end(&mut self, local: &str) -> u64 {
        match local {
            "sst" => self.in_sst = false,
            "t" => self.in_text = false,
            "si" if self.in_sst => {
                let cost = text_cost(self.string_bytes);
                self.string_bytes = 0;
                return cost;
            }
            _ => {}
        }
        0
    }

    /// Text calamine keeps: inside `<t>` in the shared strings.
    pub(super) fn text(&mut self, bytes: usize) {
        if self.in_sst && self.in_text {
            self.string_bytes += bytes as u64;
        }
    }

    /// The declared count may not exceed the `<si>` elements present by more than the slack:
    /// calamine reserves room for that many strings.
    pub(super) fn finish(&self, part: &str) -> Result<(), FileError> {
        if let Some(declared) = self.declared
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

#[cfg(test)]
mod tests {
    use crate::import::error::FileError;
    use crate::import::limits::Limits;
    use crate::import::test_support::{header_row, read, read_with, sheet_with, xlsx_with};

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
            read_with(&bytes, &budget(400_000)),
            Err(FileError::TooMuchData { limit: 400_000 })
        );
        assert!(read_with(&bytes, &budget(500_000)).is_ok());
        let texts = format!(
            "<sst>{}</sst>",
            format!("<si><t>{}</t></si>", "x".repeat(1000)).repeat(100)
        );
        let bytes = xlsx_with(&[("xl/sharedStrings.xml", &texts)]);
        assert_eq!(
            read_with(&bytes, &budget(100_000)),
            Err(FileError::TooMuchData { limit: 100_000 })
        );
        assert!(read_with(&bytes, &budget(120_000)).is_ok());
    }
}
