//! Spreadsheets and archives built in code for the unit tests.

use std::io::{Cursor, Write};

use rust_xlsxwriter::{Workbook, Worksheet};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::cell::{Cell, Sheet};
use super::error::FileError;
use super::limits::Limits;
use super::sheet;

/// A zip archive holding exactly these entries, deflated.
pub fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(false);
    for (name, content) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Agents" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
pub const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// The smallest workbook calamine opens (one sheet "Agents", header Name | Email | Password
/// as inline strings), with `parts` replacing or adding entries by name.
pub fn xlsx_with(parts: &[(&str, &str)]) -> Vec<u8> {
    let sheet = format!(
        "{SHEET_START}<sheetData><row r=\"1\">{}{}{}</row></sheetData></worksheet>",
        inline("A1", "Name"),
        inline("B1", "Email"),
        inline("C1", "Password")
    );
    let mut entries: Vec<(&str, String)> = vec![
        ("[Content_Types].xml", CONTENT_TYPES.into()),
        ("_rels/.rels", RELS.into()),
        ("xl/workbook.xml", WORKBOOK.into()),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.into()),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    for (name, content) in parts {
        match entries.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = (*content).to_string(),
            None => entries.push((name, (*content).to_string())),
        }
    }
    let entries: Vec<(&str, Vec<u8>)> = entries
        .into_iter()
        .map(|(n, c)| (n, c.into_bytes()))
        .collect();
    zip_of(&entries)
}

/// A worksheet holding these rows.
pub fn sheet_with(rows: &str) -> String {
    format!("{SHEET_START}<sheetData>{rows}</sheetData></worksheet>")
}

/// Row 1: Name | Email | Password, as inline strings.
pub fn header_row() -> String {
    format!(
        "<row r=\"1\">{}{}{}</row>",
        inline("A1", "Name"),
        inline("B1", "Email"),
        inline("C1", "Password")
    )
}

pub fn inline(at: &str, text: &str) -> String {
    format!("<c r=\"{at}\" t=\"inlineStr\"><is><t>{text}</t></is></c>")
}

/// An .xlsx written by rust_xlsxwriter; `fill` writes the first sheet.
pub fn xlsx_from(fill: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    let mut workbook = Workbook::new();
    fill(workbook.add_worksheet());
    workbook.save_to_buffer().unwrap()
}

/// A sheet whose row 1 is `header`, then one string row per entry of `rows`.
pub fn xlsx_rows(header: &[&str], rows: &[&[&str]]) -> Vec<u8> {
    xlsx_from(|ws| {
        for (c, h) in header.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
    })
}

pub fn read(bytes: &[u8]) -> Result<Sheet, FileError> {
    read_with(bytes, &Limits::default())
}

/// [`read`] within other limits.
pub fn read_with(bytes: &[u8], limits: &Limits) -> Result<Sheet, FileError> {
    sheet::read(bytes, limits)
}

pub fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

/// The cells of a data row, by 1-based row number, shown as typed.
pub fn shown(sheet: &Sheet, number: u32) -> Vec<Option<String>> {
    let row = sheet.rows.iter().find(|r| r.number == number).unwrap();
    row.cells.iter().map(Cell::display).collect()
}

/// `size` bytes of XML, almost all zeros, deflated into xl/sharedStrings.xml, a part calamine
/// reads first. Each MiB is an element of its own, so only the unpacked size stops it.
pub fn bomb(size: usize) -> Vec<u8> {
    let mut zip = ZipWriter::new_append(Cursor::new(xlsx_with(&[]))).unwrap();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(false);
    zip.start_file("xl/sharedStrings.xml", options).unwrap();
    let mut chunk = vec![0u8; 1 << 20];
    chunk[..3].copy_from_slice(b"<a>");
    let end = chunk.len() - 4;
    chunk[end..].copy_from_slice(b"</a>");
    for _ in 0..size >> 20 {
        zip.write_all(&chunk).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The fields of a zip entry header that tests tamper with.
pub struct Header {
    pub flags: u16,
    pub uncompressed_size: u32,
}

/// Rewrites what entry `name` declares, in its local and its central header alike.
pub fn patch_entry(mut bytes: Vec<u8>, name: &str, change: impl Fn(&mut Header)) -> Vec<u8> {
    // (signature, offset of flags, of uncompressed size, of name length, of name)
    const LOCAL: (&[u8], usize, usize, usize, usize) = (b"PK\x03\x04", 6, 22, 26, 30);
    const CENTRAL: (&[u8], usize, usize, usize, usize) = (b"PK\x01\x02", 8, 24, 28, 46);
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let mut at = 0;
    while at + 46 < bytes.len() {
        let Some((_, flags, size, name_len, name_at)) = [LOCAL, CENTRAL]
            .into_iter()
            .find(|h| bytes[at..].starts_with(h.0))
        else {
            at += 1;
            continue;
        };
        let len = usize::from(u16_at(&bytes, at + name_len));
        if bytes.get(at + name_at..at + name_at + len) == Some(name.as_bytes()) {
            let mut header = Header {
                flags: u16_at(&bytes, at + flags),
                uncompressed_size: u32::from_le_bytes(
                    bytes[at + size..at + size + 4].try_into().unwrap(),
                ),
            };
            change(&mut header);
            bytes[at + flags..at + flags + 2].copy_from_slice(&header.flags.to_le_bytes());
            bytes[at + size..at + size + 4]
                .copy_from_slice(&header.uncompressed_size.to_le_bytes());
        }
        at += 4;
    }
    bytes
}
