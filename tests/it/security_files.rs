//! Hostile files through the running server. Each one is built here, uploaded through the web
//! form, and must be refused with a file-level message that names the problem (or, where the
//! file is odd but harmless, imported correctly), create nothing, leave the server serving, and
//! cost the process less than 256 MB of extra memory.
//!
//! The server runs in this process, so the process's own peak RSS is the server's. Tests in one
//! binary run in parallel threads, so every upload is made from the single test below, one after
//! another; the peak is reset (`/proc/self/clear_refs`) before each.

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use crate::common::{Backend, MASTER_EMAIL, MASTER_PASSWORD, TestApp, location};
use reqwest::{Client, StatusCode, redirect::Policy};
use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

const MB: u64 = 1 << 20;
/// What one hostile upload may add to the process's resident memory.
const MEMORY_BOUND: u64 = 256 * MB;
/// What one upload may take, answer and (for the harmless files) import included: generous, as
/// a debug build reads a million rows slowly and the machine may be busy; a hang still fails.
const TIME_BOUND: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------------------------------------
// Building workbooks by hand, part by part, so that every declaration can lie.

const NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main""#;
const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Agents" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;
/// Style 1 is a yellow fill: what "formatted but empty" rows carry.
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFFFFF00"/></patternFill></fill></fills><borders count="1"><border/></borders><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/><xf numFmtId="0" fontId="0" fillId="2" borderId="0" applyFill="1"/></cellXfs></styleSheet>"#;
const LAUGHS: &str = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>"#;
const EXTERNAL: &str =
    r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"#;

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(false)
}

/// A zip written entry by entry; big entries are streamed so the test never holds them.
struct Archive(ZipWriter<Cursor<Vec<u8>>>);

impl Archive {
    fn new() -> Archive {
        Archive(ZipWriter::new(Cursor::new(Vec::new())))
    }

    fn part(self, name: &str, content: &str) -> Archive {
        self.streamed(name, |w| w.write_all(content.as_bytes()).unwrap())
    }

    fn streamed(mut self, name: &str, write: impl FnOnce(&mut dyn Write)) -> Archive {
        self.0.start_file(name, deflated()).unwrap();
        write(&mut self.0);
        self
    }

    /// Content types, relationships, workbook and styles: all a workbook needs but its sheet and
    /// shared strings.
    fn workbook() -> Archive {
        Archive::new()
            .part("[Content_Types].xml", CONTENT_TYPES)
            .part("_rels/.rels", RELS)
            .part("xl/workbook.xml", WORKBOOK)
            .part("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
            .part("xl/styles.xml", STYLES)
    }

    fn finish(self) -> Vec<u8> {
        self.0.finish().unwrap().into_inner()
    }
}

fn inline(at: &str, text: &str) -> String {
    format!("<c r=\"{at}\" t=\"inlineStr\"><is><t>{text}</t></is></c>")
}

/// Row 1 (the header) and agent rows at the given row numbers, as inline strings.
fn agent_rows(prefix: &str, numbers: &[u32]) -> String {
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

fn worksheet(before_data: &str, rows: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet {NS}>{before_data}<sheetData>{rows}</sheetData></worksheet>"
    )
}

/// A plain, valid workbook: the header and agents `prefix` at rows 2..=n+1.
fn valid(prefix: &str, n: u32) -> Vec<u8> {
    let numbers: Vec<u32> = (2..n + 2).collect();
    Archive::workbook()
        .part(
            "xl/worksheets/sheet1.xml",
            &worksheet("", &agent_rows(prefix, &numbers)),
        )
        .finish()
}

fn with_parts(sheet: &str, shared_strings: Option<&str>) -> Vec<u8> {
    let archive = Archive::workbook().part("xl/worksheets/sheet1.xml", sheet);
    match shared_strings {
        Some(sst) => archive.part("xl/sharedStrings.xml", sst),
        None => archive,
    }
    .finish()
}

fn repeat(w: &mut dyn Write, bytes: &[u8], total: usize) {
    let chunk: Vec<u8> = bytes.iter().copied().cycle().take(1 << 20).collect();
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len());
        w.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
}

/// Rewrites the sizes entry `name` declares, in its local and its central header alike.
fn lie_about(
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

fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-world/");
    std::fs::read(format!("{path}{name}")).unwrap_or_else(|e| panic!("{path}{name}: {e}"))
}

fn xorshift(seed: u64) -> impl FnMut() -> u8 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    }
}

// ---------------------------------------------------------------------------------------------
// The hostile files and what each must give.

enum Expect {
    /// Refused as a whole: this status, and a page whose message says all of these.
    Refused(StatusCode, &'static [&'static str]),
    /// Harmless after all: imported, creating exactly this many agents and failing none.
    Imports(i64),
}

struct Hostile {
    what: &'static str,
    file_name: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
}

const DAMAGED: &[&str] = &["The file is damaged and cannot be read"];
const LONG_TOKEN: &[&str] = &["damaged", "longer than 4 MB"];
const TOO_MUCH: &[&str] = &["more data than Roster reads from one file (128 MB"];
const FORBIDDEN_XML: &[&str] = &["DOCTYPE or ENTITY"];
const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

fn hostile_files() -> Vec<Hostile> {
    use Expect::{Imports, Refused};
    let mut files = Vec::new();
    let mut add = |what, file_name, bytes: Vec<u8>, expect| {
        files.push(Hostile {
            what,
            file_name,
            bytes,
            expect,
        })
    };
    let header_and_one = worksheet("", &agent_rows("Bomb", &[2]));

    // Zip bombs: hundreds of MB that deflate to almost nothing.
    let zeros = Archive::workbook()
        .part("xl/worksheets/sheet1.xml", &header_and_one)
        .streamed("xl/media/image1.png", |w| repeat(w, &[0], 400 << 20))
        .finish();
    add(
        "zip bomb: 400 MB of zeros in one part",
        "bomb.xlsx",
        zeros,
        Refused(UNPROCESSABLE, LONG_TOKEN),
    );
    let elements = Archive::workbook()
        .part("xl/worksheets/sheet1.xml", &header_and_one)
        .streamed("xl/printerSettings.xml", |w| {
            for _ in 0..300 {
                w.write_all(b"<a>").unwrap();
                repeat(w, &[0], (1 << 20) - 7);
                w.write_all(b"</a>").unwrap();
            }
        })
        .finish();
    add(
        "zip bomb: 300 MB of XML elements",
        "xml-bomb.xlsx",
        elements,
        Refused(UNPROCESSABLE, &["unpacks to more than 256 MB"]),
    );
    let text_bomb = Archive::workbook()
        .part("xl/worksheets/sheet1.xml", &header_and_one)
        .streamed("xl/sharedStrings.xml", |w| {
            write!(
                w,
                "<?xml version=\"1.0\"?><sst {NS} count=\"1\" uniqueCount=\"1\"><si><t>"
            )
            .unwrap();
            repeat(w, b"A", 200 << 20);
            w.write_all(b"</t></si></sst>").unwrap();
        })
        .finish();
    add(
        "text bomb: one 200 MB shared string (under the unpacked limit)",
        "text-bomb.xlsx",
        text_bomb,
        Refused(UNPROCESSABLE, LONG_TOKEN),
    );
    let attribute_bomb = Archive::workbook()
        .streamed("xl/worksheets/sheet1.xml", |w| {
            write!(
                w,
                "<?xml version=\"1.0\"?><worksheet {NS}><sheetData><row r=\"1\" x=\""
            )
            .unwrap();
            repeat(w, b"A", 200 << 20);
            w.write_all(b"\">").unwrap();
            w.write_all(
                agent_rows("Attr", &[])
                    .trim_start_matches("<row r=\"1\">")
                    .as_bytes(),
            )
            .unwrap();
            w.write_all(b"</sheetData></worksheet>").unwrap();
        })
        .finish();
    add(
        "attribute bomb: a 200 MB attribute in the sheet",
        "attribute-bomb.xlsx",
        attribute_bomb,
        Refused(UNPROCESSABLE, LONG_TOKEN),
    );

    // Headers that lie about sizes.
    let bomb = Archive::workbook()
        .part("xl/worksheets/sheet1.xml", &header_and_one)
        .streamed("xl/media/image1.png", |w| repeat(w, &[0], 300 << 20))
        .finish();
    let claims_small = lie_about(bomb, "xl/media/image1.png", None, Some(1024));
    add(
        "an entry whose headers claim 1 KB but inflate to 300 MB",
        "small-claim.xlsx",
        claims_small,
        Refused(UNPROCESSABLE, &["damaged"]),
    );
    let claims_huge = lie_about(
        valid("Huge", 3),
        "xl/worksheets/sheet1.xml",
        None,
        Some(u32::MAX - 1),
    );
    add(
        "a worksheet whose headers claim 4 GB but hold a few hundred bytes",
        "big-claim.xlsx",
        claims_huge,
        Imports(3),
    );
    let claims_compressed = lie_about(
        valid("Comp", 3),
        "xl/worksheets/sheet1.xml",
        Some(u32::MAX - 1),
        None,
    );
    add(
        "a worksheet whose headers claim 4 GB of compressed data",
        "compressed-claim.xlsx",
        claims_compressed,
        Imports(3),
    );

    // Declared counts.
    let sst = format!(
        "<?xml version=\"1.0\"?><sst {NS} count=\"4000000000\" uniqueCount=\"4000000000\"><si><t>Ann</t></si></sst>"
    );
    let rows = format!(
        "{}<row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c>{}{}</row>",
        agent_rows("Sst", &[]),
        inline("B2", "ann@example.com"),
        inline("C2", "password-ann")
    );
    add(
        "sharedStrings declaring 4,000,000,000 strings",
        "count.xlsx",
        with_parts(&worksheet("", &rows), Some(&sst)),
        Refused(UNPROCESSABLE, &["declares 4000000000 texts"]),
    );
    let disguised = sst.replace("<?xml version=\"1.0\"?>", "\u{89}PNG junk ");
    add(
        "the same declaration in a part that does not start like XML",
        "count-disguised.xlsx",
        with_parts(&worksheet("", &rows), Some(&disguised)),
        Refused(UNPROCESSABLE, &["declares 4000000000 texts"]),
    );
    let font = format!("<font><name val=\"{}\"/></font>", "F".repeat(1000));
    let styles = format!(
        "<?xml version=\"1.0\"?><styleSheet {NS}><fonts count=\"1\">{font}</fonts><cellXfs count=\"65536\">{}</cellXfs></styleSheet>",
        "<xf numFmtId=\"0\" fontId=\"0\"/>".repeat(65_536)
    );
    let styled = Archive::new()
        .part("[Content_Types].xml", CONTENT_TYPES)
        .part("_rels/.rels", RELS)
        .part("xl/workbook.xml", WORKBOOK)
        .part("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        .part("xl/styles.xml", &styles)
        .part(
            "xl/worksheets/sheet1.xml",
            &worksheet("", &agent_rows("Styled", &[2])),
        )
        .finish();
    add(
        "65,536 cell formats, each cloning a 1 KB font name",
        "styles.xlsx",
        styled,
        Refused(UNPROCESSABLE, TOO_MUCH),
    );

    // The edge of the grid and past it.
    add(
        "a dimension of A1:XFD1048576 around three real rows",
        "dimension.xlsx",
        with_parts(
            &worksheet(
                "<dimension ref=\"A1:XFD1048576\"/>",
                &agent_rows("Dim", &[2, 3, 4]),
            ),
            None,
        ),
        Imports(3),
    );
    add(
        "a dimension past the grid (A1:XFE1048577)",
        "dimension-past.xlsx",
        with_parts(
            &worksheet(
                "<dimension ref=\"A1:XFE1048577\"/>",
                &agent_rows("Dim", &[2]),
            ),
            None,
        ),
        Refused(UNPROCESSABLE, &["outside the sheet"]),
    );
    add(
        "a value in cell XFD1048576",
        "far-value.xlsx",
        with_parts(
            &worksheet(
                "",
                &format!(
                    "{}<row r=\"1048576\">{}</row>",
                    agent_rows("Far", &[2]),
                    inline("XFD1048576", "far away")
                ),
            ),
            None,
        ),
        Refused(UNPROCESSABLE, &["more than 256 columns"]),
    );
    add(
        "a cell reference past the grid (XFE1048577)",
        "past-grid.xlsx",
        with_parts(
            &worksheet(
                "",
                &format!(
                    "{}<row r=\"3\">{}</row>",
                    agent_rows("Past", &[2]),
                    inline("XFE1048577", "beyond")
                ),
            ),
            None,
        ),
        Refused(UNPROCESSABLE, &["outside the sheet"]),
    );

    // Entity expansion, internal and external, in the shared strings and in the sheet.
    let laughs_sst =
        format!("{LAUGHS}<sst {NS} count=\"1\" uniqueCount=\"1\"><si><t>&lol9;</t></si></sst>");
    let external_sst =
        format!("{EXTERNAL}<sst {NS} count=\"1\" uniqueCount=\"1\"><si><t>&xxe;</t></si></sst>");
    let sst_rows = format!(
        "{}<row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c>{}{}</row>",
        agent_rows("Xml", &[]),
        inline("B2", "xml@example.com"),
        inline("C2", "password-xml")
    );
    let entity_sheet = |prolog: &str, entity: &str| {
        format!(
            "{prolog}<worksheet {NS}><sheetData>{}<row r=\"2\">{}{}{}</row></sheetData></worksheet>",
            agent_rows("Xml", &[]),
            inline("A2", entity),
            inline("B2", "xml@example.com"),
            inline("C2", "password-xml")
        )
    };
    add(
        "billion laughs in sharedStrings",
        "laughs-sst.xlsx",
        with_parts(&worksheet("", &sst_rows), Some(&laughs_sst)),
        Refused(UNPROCESSABLE, FORBIDDEN_XML),
    );
    add(
        "billion laughs in the sheet",
        "laughs-sheet.xlsx",
        with_parts(&entity_sheet(LAUGHS, "&lol9;"), None),
        Refused(UNPROCESSABLE, FORBIDDEN_XML),
    );
    add(
        "an external entity (file:///etc/passwd) in sharedStrings",
        "xxe-sst.xlsx",
        with_parts(&worksheet("", &sst_rows), Some(&external_sst)),
        Refused(UNPROCESSABLE, FORBIDDEN_XML),
    );
    add(
        "an external entity (file:///etc/passwd) in the sheet",
        "xxe-sheet.xlsx",
        with_parts(&entity_sheet(EXTERNAL, "&xxe;"), None),
        Refused(UNPROCESSABLE, FORBIDDEN_XML),
    );

    // Too many parts.
    let mut many = Archive::workbook().part("xl/worksheets/sheet1.xml", &header_and_one);
    for i in 0..20_000 {
        many = many.part(&format!("xl/junk/{i}.xml"), "");
    }
    add(
        "20,000 archive entries",
        "entries.xlsx",
        many.finish(),
        Refused(UNPROCESSABLE, &["more than 1000 internal parts"]),
    );

    // Broken, encrypted, empty, renamed.
    let whole = valid("Cut", 20);
    add(
        "a truncated workbook",
        "truncated.xlsx",
        whole[..whole.len() / 2].to_vec(),
        Refused(UNPROCESSABLE, DAMAGED),
    );
    let mut random = xorshift(0x5EED_1234_ABCD);
    let mut corrupt = b"PK\x03\x04".to_vec();
    corrupt.extend((0..64 << 10).map(|_| random()));
    add(
        "random bytes after a zip header",
        "corrupt.xlsx",
        corrupt,
        Refused(UNPROCESSABLE, DAMAGED),
    );
    add(
        "a workbook encrypted by Excel (calamine fixture)",
        "protected.xlsx",
        fixture("calamine__pass_protected.xlsx"),
        Refused(UNPROCESSABLE, &["protected by a password"]),
    );
    add(
        "a workbook encrypted with AES (excelize fixture)",
        "aes.xlsx",
        fixture("excelize__encryptAES.xlsx"),
        Refused(UNPROCESSABLE, &["protected by a password"]),
    );
    add(
        "an empty file",
        "empty.xlsx",
        Vec::new(),
        Refused(UNPROCESSABLE, &["The file is empty"]),
    );
    let mut png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    png.extend(b"\0\0\0\nIDATx\x9cc\0\x01\0\0\x05\0\x01\r\n-\xb4\0\0\0\0IEND\xaeB`\x82");
    add(
        "a PNG named .xlsx",
        "photo.xlsx",
        png,
        Refused(UNPROCESSABLE, &["The file is not a spreadsheet"]),
    );
    let mut random = xorshift(42);
    add(
        "11 MB, over the upload limit",
        "large.xlsx",
        (0..11 << 20).map(|_| random()).collect(),
        Refused(StatusCode::PAYLOAD_TOO_LARGE, &["larger than 10 MB"]),
    );

    // A million rows that carry a style and nothing else, around four real ones.
    let empty_rows = Archive::workbook()
        .streamed("xl/worksheets/sheet1.xml", |w| {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
            write!(
                w,
                "<?xml version=\"1.0\"?><worksheet {NS}><dimension ref=\"A1:C1000010\"/><sheetData>"
            )
            .unwrap();
            let real = agent_rows("Sparse", &[2, 3, 4]);
            w.write_all(real.as_bytes()).unwrap();
            for n in 5..1_000_005u32 {
                write!(
                    w,
                    "<row r=\"{n}\" s=\"1\" customFormat=\"1\"><c r=\"A{n}\" s=\"1\"/></row>"
                )
                .unwrap();
            }
            let last = agent_rows("Sparse", &[1_000_010]);
            let last = &last[last.find("</row>").unwrap() + "</row>".len()..];
            write!(w, "{last}</sheetData></worksheet>").unwrap();
        })
        .finish();
    add(
        "a million formatted-but-empty rows around four real rows",
        "sparse.xlsx",
        empty_rows,
        Imports(4),
    );

    // Amplification: small XML that a reader would copy many times over.
    let shared_everywhere = Archive::workbook()
        .part(
            "xl/sharedStrings.xml",
            &format!("<?xml version=\"1.0\"?><sst {NS} count=\"1\" uniqueCount=\"1\"><si><t>{}</t></si></sst>", "x".repeat(32_000)),
        )
        .streamed("xl/worksheets/sheet1.xml", |w| {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
            write!(w, "<?xml version=\"1.0\"?><worksheet {NS}><sheetData>{}", agent_rows("Amp", &[])).unwrap();
            for n in 2..100_002u32 {
                write!(w, "<row r=\"{n}\"><c r=\"A{n}\" t=\"s\"><v>0</v></c><c r=\"B{n}\" t=\"s\"><v>0</v></c><c r=\"C{n}\" t=\"s\"><v>0</v></c></row>").unwrap();
            }
            w.write_all(b"</sheetData></worksheet>").unwrap();
        })
        .finish();
    add(
        "one 32,000-character shared string in every cell of 100,000 rows",
        "amplified.xlsx",
        shared_everywhere,
        Refused(UNPROCESSABLE, TOO_MUCH),
    );
    let tiny_strings = Archive::workbook()
        .part("xl/worksheets/sheet1.xml", &header_and_one)
        .streamed("xl/sharedStrings.xml", |w| {
            write!(w, "<?xml version=\"1.0\"?><sst {NS}>").unwrap();
            repeat(w, b"<si/>", 50_000_000 * 5);
            w.write_all(b"</sst>").unwrap();
        })
        .finish();
    add(
        "50 million empty shared strings",
        "strings.xlsx",
        tiny_strings,
        Refused(UNPROCESSABLE, TOO_MUCH),
    );
    let wide = Archive::workbook().streamed("xl/worksheets/sheet1.xml", |w| {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
        write!(
            w,
            "<?xml version=\"1.0\"?><worksheet {NS}><sheetData>{}",
            agent_rows("Wide", &[])
        )
        .unwrap();
        for n in 2..100_002u32 {
            write!(
                w,
                "<row r=\"{n}\"><c r=\"A{n}\"><v>1</v></c><c r=\"IV{n}\"><v>1</v></c></row>"
            )
            .unwrap();
        }
        w.write_all(b"</sheetData></worksheet>").unwrap();
    });
    add(
        "a value in column 256 on each of 100,000 rows",
        "wide.xlsx",
        wide.finish(),
        Refused(UNPROCESSABLE, TOO_MUCH),
    );
    files
}

// ---------------------------------------------------------------------------------------------
// Memory of this process (the server runs in it).

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .expect("Linux /proc/self/status")
}

/// Resets VmHWM to the current RSS (Linux 4.0+); false where that is not allowed.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

// ---------------------------------------------------------------------------------------------

/// No pooled connections: after refusing an oversized body the server closes that connection,
/// and a request racing onto it would fail on the client side, not the server's.
fn signed_in_client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(0)
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(TIME_BOUND)
        .build()
        .unwrap()
}

async fn still_serving(app: &TestApp, client: &Client, group: i64, after: &str) {
    let health = app.get_with(client, "/healthz").await;
    assert_eq!(health.status(), StatusCode::OK, "healthz after {after}");
    let page = app
        .get_with(client, &format!("/admin/groups/{group}"))
        .await;
    assert_eq!(page.status(), StatusCode::OK, "a real page after {after}");
    assert!(
        page.text().await.unwrap().contains("Hostile"),
        "after {after}"
    );
}

/// The job's status once it has ended, waiting at most [`TIME_BOUND`].
async fn wait_for_job(app: &TestApp, client: &Client, job: i64) -> serde_json::Value {
    let started = Instant::now();
    while started.elapsed() < TIME_BOUND {
        let response = app
            .get_with(client, &format!("/api/v1/imports/{job}"))
            .await;
        let status: serde_json::Value = response.json().await.expect("status JSON");
        if status["state"] == "finished" || status["state"] == "failed" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("import {job} did not end within {TIME_BOUND:?}");
}

/// The message the import page shows when it refuses a file.
fn upload_error(page: &str) -> Option<&str> {
    let start = page.find("id=\"upload-error\">")? + "id=\"upload-error\">".len();
    let end = page[start..].find("</p>")? + start;
    Some(&page[start..end])
}

/// Non-empty cells of a result file's first sheet, streamed: the file may span a million rows.
fn result_cells(bytes: &[u8]) -> Vec<(u32, u32, String)> {
    use calamine::{DataRef, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("the result is an xlsx");
    let name = book.sheet_names()[0].clone();
    let mut reader = book.worksheet_cells_reader(&name).expect("first sheet");
    let mut cells = Vec::new();
    while let Some(cell) = reader.next_cell().expect("a readable cell") {
        let value = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::String(s) => s.clone(),
            DataRef::SharedString(s) => (*s).to_owned(),
            other => format!("{other:?}"),
        };
        let (r, c) = cell.get_position();
        cells.push((r, c, value));
    }
    cells
}

async fn run_hostile_files(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.setup_master().await;
    let group = app.create_group(None, "Hostile").await;
    let client = signed_in_client();
    assert_eq!(
        app.login_with(&client, MASTER_EMAIL, MASTER_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let files = hostile_files();
    let resettable = reset_peak();
    let mut report = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    macro_rules! check {
        ($ok:expr, $($message:tt)+) => {
            if !$ok {
                problems.push(format!($($message)+));
            }
        };
    }
    let mut sparse_job = None;
    for file in files {
        let Hostile {
            what,
            file_name,
            bytes,
            expect,
        } = file;
        let size = bytes.len();
        assert!(
            size < 12 << 20,
            "{what}: {size} bytes is more than a hostile upload needs"
        );
        let jobs_before = app.storage.group_imports(group, 1000).await.unwrap().len();
        let agents_before = app
            .storage
            .agents_in_group(group, 1_000_000, 0)
            .await
            .unwrap()
            .len();

        reset_peak();
        let baseline = if resettable {
            status_kb("VmRSS:")
        } else {
            status_kb("VmHWM:")
        } * 1024;
        let started = Instant::now();
        let response = app.upload(&client, group, file_name, bytes).await;
        let status = response.status();
        let answered = started.elapsed();
        let accepted = status == StatusCode::SEE_OTHER;
        let redirect = location(&response);
        let page = response.text().await.unwrap();
        let upload_grown = (status_kb("VmHWM:") * 1024).saturating_sub(baseline);
        // An accepted file is imported, and measured again, whether or not it should have been
        // accepted: the job reads the file a second time.
        reset_peak();
        let baseline = if resettable {
            status_kb("VmRSS:")
        } else {
            status_kb("VmHWM:")
        } * 1024;
        let outcome = if accepted {
            let job = app.latest_job(&client, group).await;
            if file_name == "sparse.xlsx" {
                sparse_job = Some(job);
            }
            Some(wait_for_job(&app, &client, job).await)
        } else {
            None
        };
        let job_grown = if accepted {
            (status_kb("VmHWM:") * 1024).saturating_sub(baseline)
        } else {
            0
        };
        let elapsed = started.elapsed();
        let message = upload_error(&page).unwrap_or_default();
        let line = format!(
            "{what:<60} {size:>8} B {:>3} {:>6.2} s  upload +{:>3} MB  job +{:>3} MB  {}",
            status.as_u16(),
            answered.as_secs_f64(),
            upload_grown / MB,
            job_grown / MB,
            message.chars().take(50).collect::<String>()
        );
        eprintln!("{line}");
        report.push(line);
        for (grown, when) in [(upload_grown, "upload"), (job_grown, "import job")] {
            check!(
                grown < MEMORY_BOUND,
                "{what}: the process grew by {} MB during the {when}",
                grown / MB
            );
        }
        check!(elapsed < TIME_BOUND, "{what}: took {elapsed:?}");
        let jobs_after = app.storage.group_imports(group, 1000).await.unwrap().len();
        let agents_after = app
            .storage
            .agents_in_group(group, 1_000_000, 0)
            .await
            .unwrap()
            .len();
        match expect {
            Expect::Refused(expected, says) => {
                check!(
                    status == expected,
                    "{what}: answered {status}, not {expected}"
                );
                check!(
                    !message.is_empty() || accepted,
                    "{what}: no file-level message on the page: {page}"
                );
                for words in says {
                    check!(
                        accepted || message.contains(words),
                        "{what}: the message should say {words:?}: {message}"
                    );
                }
                check!(!page.contains("root:x:0:0"), "{what}: file content leaked");
                check!(jobs_after == jobs_before, "{what}: a job was created");
                check!(agents_after == agents_before, "{what}: agents were created");
            }
            Expect::Imports(created) => {
                check!(accepted, "{what}: answered {status}: {message}");
                check!(
                    redirect == format!("/admin/groups/{group}?done=import-queued"),
                    "{what}: redirected to {redirect}"
                );
                let counts = outcome.as_ref().map(|o| {
                    (
                        o["state"].clone(),
                        o["created"].as_i64(),
                        o["failed"].as_i64(),
                    )
                });
                check!(
                    counts == Some(("finished".into(), Some(created), Some(0))),
                    "{what}: {outcome:?}"
                );
                check!(
                    agents_after == agents_before + created as usize,
                    "{what}: {agents_after} agents"
                );
            }
        }
        still_serving(&app, &client, group, what).await;
    }
    assert!(
        problems.is_empty(),
        "on {backend:?}:\n{}\n\n{}",
        problems.join("\n"),
        report.join("\n")
    );
    let peak_note = if resettable {
        "peak RSS reset before each upload"
    } else {
        "peak RSS could not be reset: growth is over the previous peak"
    };
    crate::common::shout(&format!(
        "hostile files on {backend:?} ({peak_note}):\n{}",
        report.join("\n")
    ));

    // The sparse file's result holds its four real rows, each a success, and nothing else.
    let job = sparse_job.expect("the sparse file was imported");
    let result = app
        .get_with(&client, &format!("/admin/imports/{job}/result"))
        .await;
    let cells = result_cells(&result.bytes().await.unwrap());
    let results: Vec<(u32, &str)> = cells
        .iter()
        .filter(|(_, c, _)| *c == 3)
        .map(|(r, _, v)| (*r + 1, v.as_str()))
        .collect();
    assert_eq!(
        results,
        [
            (1, "Result"),
            (2, "Success"),
            (3, "Success"),
            (4, "Success"),
            (1_000_010, "Success")
        ]
    );
    app.stop().await;
}

/// One test, so that no other upload runs beside the measured one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_files_are_refused_in_bounded_memory_and_time() {
    run_hostile_files(Backend::Sqlite).await;
    run_hostile_files(Backend::Postgres).await;
}

/// Writes every hostile file, and an index of what each is and what it must give, to the
/// directory in `ROSTER_HOSTILE_DIR`: `scripts/hostile-memory.sh` uploads them to a real
/// `roster serve`.
#[test]
#[ignore = "a tool for scripts/hostile-memory.sh, not a test"]
fn write_hostile_files() {
    let dir = std::env::var("ROSTER_HOSTILE_DIR").expect("set ROSTER_HOSTILE_DIR");
    std::fs::create_dir_all(&dir).unwrap();
    let mut index = String::new();
    for (i, file) in hostile_files().into_iter().enumerate() {
        let name = format!("{i:02}-{}", file.file_name);
        std::fs::write(format!("{dir}/{name}"), &file.bytes).unwrap();
        let expected = match file.expect {
            Expect::Refused(status, _) => status.as_u16().to_string(),
            Expect::Imports(n) => format!("303 (imports {n})"),
        };
        index.push_str(&format!("{name}\t{expected}\t{}\n", file.what));
    }
    std::fs::write(format!("{dir}/index.tsv"), index).unwrap();
}
