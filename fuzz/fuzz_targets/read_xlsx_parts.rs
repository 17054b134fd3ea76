//! The XML inside an .xlsx, fuzzed directly: mutating a real .xlsx mostly breaks its deflate
//! streams and CRCs, so the fuzzer would rarely get past the zip layer. Here the input is the
//! text of the parts, separated by a line `--part--`, in this order: worksheet, shared strings,
//! styles, workbook. They are stored (not deflated) with correct CRCs in an otherwise valid
//! workbook, so every mutation reaches the XML checks and calamine.
#![no_main]

use std::io::{Cursor, Write};

use libfuzzer_sys::fuzz_target;
use roster::import::{Limits, sheet};
use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Agents" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const SEPARATOR: &[u8] = b"\n--part--\n";

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        parts.push(&rest[..at]);
        rest = &rest[at + SEPARATOR.len()..];
    }
    parts.push(rest);
    parts
}

fuzz_target!(|data: &[u8]| {
    let parts = split(data);
    let part = |i: usize| parts.get(i).copied();
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut add = |name: &str, content: &[u8]| {
        zip.start_file(name, stored).unwrap();
        zip.write_all(content).unwrap();
    };
    add("[Content_Types].xml", CONTENT_TYPES.as_bytes());
    add("_rels/.rels", RELS.as_bytes());
    add("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes());
    add("xl/workbook.xml", part(3).unwrap_or(WORKBOOK.as_bytes()));
    add("xl/worksheets/sheet1.xml", part(0).unwrap_or_default());
    if let Some(strings) = part(1) {
        add("xl/sharedStrings.xml", strings);
    }
    if let Some(styles) = part(2) {
        add("xl/styles.xml", styles);
    }
    let bytes = zip.finish().unwrap().into_inner();
    let limits = Limits::default();
    if let Ok(sheet) = sheet::read(&bytes, &limits) {
        assert!(sheet.rows.len() <= limits.max_rows);
        assert!(sheet.width <= limits.max_columns);
    }
});
