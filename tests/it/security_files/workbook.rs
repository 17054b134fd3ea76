//! Workbooks built by hand, part by part, so that every declaration can lie.

use std::io::{Cursor, Write};

use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

pub(super) const NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main""#;
pub(super) const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
pub(super) const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
pub(super) const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Agents" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
pub(super) const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;
/// Style 1 is a yellow fill: what "formatted but empty" rows carry.
pub(super) const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFFFFF00"/></patternFill></fill></fills><borders count="1"><border/></borders><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/><xf numFmtId="0" fontId="0" fillId="2" borderId="0" applyFill="1"/></cellXfs></styleSheet>"#;
pub(super) const LAUGHS: &str = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>"#;
pub(super) const EXTERNAL: &str =
    r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"#;

pub(super) fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(false)
}

/// A zip written entry by entry; big entries are streamed so the test never holds them.
pub(super) struct Archive(ZipWriter<Cursor<Vec<u8>>>);

impl Archive {
    pub(super) fn new() -> Archive {
        Archive(ZipWriter::new(Cursor::new(Vec::new())))
    }

    pub(super) fn part(self, name: &str, content: &str) -> Archive {
        self.streamed(name, |w| w.write_all(content.as_bytes()).unwrap())
    }

    pub(super) fn streamed(mut self, name: &str, write: impl FnOnce(&mut dyn Write)) -> Archive {
        self.0.start_file(name, deflated()).unwrap();
        write(&mut self.0);
        self
    }

    /// Content types, relationships, workbook and styles: all a workbook needs but its sheet and
    /// shared strings.
    pub(super) fn workbook() -> Archive {
        Archive::new()
            .part("[Content_Types].xml", CONTENT_TYPES)
            .part("_rels/.rels", RELS)
            .part("xl/workbook.xml", WORKBOOK)
            .part("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
            .part("xl/styles.xml", STYLES)
    }

    pub(super) fn finish(self) -> Vec<u8> {
        self.0.finish().unwrap().into_inner()
    }
}

pub(super) fn inline(at: &str, text: &str) -> String {
    format!("<c r=\"{at}\" t=\"inlineStr\"><is><t>{text}</t></is></c>")
}

/// Row 1 (the header) and agent rows at the given row numbers, as inline strings.
pub(super) fn agent_rows(prefix: &str, numbers: &[u32]) -> String {
    let mut rows = format!(
        "<row r=\"1\">{}{}{}</row>",
        inline("A1", "Name"),
        inline("B1", "Email"),
        inline("C1", "Password")
    );
    for n in numbers {
        rows.push_str(&format!(
            "<row r=\"{n}\">{}{}{}</row>",
            inline(&format!("A{n}"), &format!("{prefix} Agent {n}")),
            inline(&format!("B{n}"), &format!("{prefix}.{n}@example.com")),
            inline(&format!("C{n}"), &format!("secret-{prefix}-{n}")),
        ));
    }
    rows
}

pub(super) fn worksheet(before_data: &str, rows: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet {NS}>{before_data}<sheetData>{rows}</sheetData></worksheet>"
    )
}

/// A plain, valid workbook: the header and agents `prefix` at rows 2..=n+1.
pub(super) fn valid(prefix: &str, n: u32) -> Vec<u8> {
    let numbers: Vec<u32> = (2..n + 2).collect();
    Archive::workbook()
        .part(
            "xl/worksheets/sheet1.xml",
            &worksheet("", &agent_rows(prefix, &numbers)),
        )
        .finish()
}

pub(super) fn with_parts(sheet: &str, shared_strings: Option<&str>) -> Vec<u8> {
    let archive = Archive::workbook().part("xl/worksheets/sheet1.xml", sheet);
    match shared_strings {
        Some(sst) => archive.part("xl/sharedStrings.xml", sst),
        None => archive,
    }
    .finish()
}

pub(super) fn repeat(w: &mut dyn Write, bytes: &[u8], total: usize) {
    let chunk: Vec<u8> = bytes.iter().copied().cycle().take(1 << 20).collect();
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len());
        w.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
}

/// Rewrites the sizes entry `name` declares, in its local and its central header alike.
pub(super) fn lie_about(
    mut bytes: Vec<u8>,
    name: &str,
    compressed: Option<u32>,
    size: Option<u32>,
) -> Vec<u8> {
    // (signature, offset of compressed size, of name length, of name); the uncompressed size
    // follows the compressed one.
    const HEADERS: [(&[u8], usize, usize, usize); 2] =
        [(b"PK\x03\x04", 18, 26, 30), (b"PK\x01\x02", 20, 28, 46)];
    let mut at = 0;
    while at + 46 < bytes.len() {
        let Some(&(_, sizes, name_len, name_at)) =
            HEADERS.iter().find(|h| bytes[at..].starts_with(h.0))
        else {
            at += 1;
            continue;
        };
        let len = usize::from(u16::from_le_bytes([
            bytes[at + name_len],
            bytes[at + name_len + 1],
        ]));
        if bytes.get(at + name_at..at + name_at + len) == Some(name.as_bytes()) {
            if let Some(compressed) = compressed {
                bytes[at + sizes..at + sizes + 4].copy_from_slice(&compressed.to_le_bytes());
            }
            if let Some(size) = size {
                bytes[at + sizes + 4..at + sizes + 8].copy_from_slice(&size.to_le_bytes());
            }
        }
        at += 4;
    }
    bytes
}

pub(super) fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-world/");
    std::fs::read(format!("{path}{name}")).unwrap_or_else(|e| panic!("{path}{name}: {e}"))
}

pub(super) fn xorshift(seed: u64) -> impl FnMut() -> u8 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    }
}

/// The header and one agent: the sheet beside a hostile part.
pub(super) fn header_and_one() -> String {
    worksheet("", &agent_rows("Bomb", &[2]))
}
