//! Zip bombs, and entry headers that lie about sizes.

use super::files::{Expect, Files, LONG_TOKEN, UNPROCESSABLE};
use super::workbook::{Archive, NS, agent_rows, header_and_one, lie_about, repeat, valid};

pub(super) fn add_to(files: &mut Files) {
    use Expect::{Imports, Refused};
    // Zip bombs: hundreds of MB that deflate to almost nothing.
    let zeros = Archive::workbook()
        .part("xl/worksheets/sheet1.xml", &header_and_one())
        .streamed("xl/media/image1.png", |w| repeat(w, &[0], 400 << 20))
        .finish();
    files.add(
        "zip bomb: 400 MB of zeros in one part",
        "bomb.xlsx",
        zeros,
        Refused(UNPROCESSABLE, LONG_TOKEN),
    );
    let elements = Archive::workbook()
        .part("xl/worksheets/sheet1.xml", &header_and_one())
        .streamed("xl/printerSettings.xml", |w| {
            for _ in 0..300 {
                w.write_all(b"<a>").unwrap();
                repeat(w, &[0], (1 << 20) - 7);
                w.write_all(b"</a>").unwrap();
            }
        })
        .finish();
    files.add(
        "zip bomb: 300 MB of XML elements",
        "xml-bomb.xlsx",
        elements,
        Refused(UNPROCESSABLE, &["unpacks to more than 256 MB"]),
    );
    let text_bomb = Archive::workbook()
        .part("xl/worksheets/sheet1.xml", &header_and_one())
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
    files.add(
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
    files.add(
        "attribute bomb: a 200 MB attribute in the sheet",
        "attribute-bomb.xlsx",
        attribute_bomb,
        Refused(UNPROCESSABLE, LONG_TOKEN),
    );

    // Headers that lie about sizes.
    let bomb = Archive::workbook()
        .part("xl/worksheets/sheet1.xml", &header_and_one())
        .streamed("xl/media/image1.png", |w| repeat(w, &[0], 300 << 20))
        .finish();
    let claims_small = lie_about(bomb, "xl/media/image1.png", None, Some(1024));
    files.add(
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
    files.add(
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
    files.add(
        "a worksheet whose headers claim 4 GB of compressed data",
        "compressed-claim.xlsx",
        claims_compressed,
        Imports(3),
    );
}
