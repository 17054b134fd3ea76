//! Attribute values read both as quick-xml and as calamine read them, and numbers as a lenient
//! parser reads them: a check must see every value calamine might act on.

use quick_xml::events::BytesStart;

/// Every value of attributes named `key`, with or without a namespace prefix: calamine takes
/// the exact name, sometimes the first and sometimes the last one, so all are checked.
pub(super) fn attrs(e: &BytesStart<'_>, key: &str) -> Vec<Vec<u8>> {
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
pub(super) fn calamine_attrs(raw: &str) -> CalamineAttrs<'_> {
    CalamineAttrs { raw, at: 0 }
}

pub(super) struct CalamineAttrs<'a> {
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

pub(super) fn attr(e: &BytesStart<'_>, key: &str) -> Option<Vec<u8>> {
    attrs(e, key).into_iter().max_by_key(|v| leading_number(v))
}

/// The number a lenient integer parser would read: leading digits, saturating, so that an
/// absurd count is never mistaken for a small one.
pub(super) fn leading_number(v: &[u8]) -> u64 {
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
    use super::*;
    use crate::import::error::FileError;
    use crate::import::test_support::{read, xlsx_with};

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
    fn declared_numbers_saturate() {
        assert_eq!(leading_number(b" 42 "), 42);
        assert_eq!(leading_number(b"99999999999999999999999"), u64::MAX);
    }
}
