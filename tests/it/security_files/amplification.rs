//! Small XML that a reader would copy many times over, and a million rows that say nothing.

use std::io::Write;

use super::files::{Expect, Files, TOO_MUCH, UNPROCESSABLE};
use super::workbook::{Archive, NS, agent_rows, header_and_one, repeat};

pub(super) fn add_to(files: &mut Files) {
    use Expect::{Imports, Refused};
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
    files.add(
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
    files.add(
        "one 32,000-character shared string in every cell of 100,000 rows",
        "amplified.xlsx",
        shared_everywhere,
        Refused(UNPROCESSABLE, TOO_MUCH),
    );
    let tiny_strings = Archive::workbook()
        .part("xl/worksheets/sheet1.xml", &header_and_one())
        .streamed("xl/sharedStrings.xml", |w| {
            write!(w, "<?xml version=\"1.0\"?><sst {NS}>").unwrap();
            repeat(w, b"<si/>", 50_000_000 * 5);
            w.write_all(b"</sst>").unwrap();
        })
        .finish();
    files.add(
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
    files.add(
        "a value in column 256 on each of 100,000 rows",
        "wide.xlsx",
        wide.finish(),
        Refused(UNPROCESSABLE, TOO_MUCH),
    );
}
