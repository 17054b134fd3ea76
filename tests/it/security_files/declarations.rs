//! What the XML declares: counts, cell references and ranges, entities, and the number of parts.

use super::files::{Expect, FORBIDDEN_XML, Files, TOO_MUCH, UNPROCESSABLE};
use super::workbook::{
    Archive, CONTENT_TYPES, EXTERNAL, LAUGHS, NS, RELS, WORKBOOK, WORKBOOK_RELS, agent_rows,
    header_and_one, inline, with_parts, worksheet,
};

pub(super) fn add_to(files: &mut Files) {
    use Expect::{Imports, Refused};
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
    files.add(
        "sharedStrings declaring 4,000,000,000 strings",
        "count.xlsx",
        with_parts(&worksheet("", &rows), Some(&sst)),
        Refused(UNPROCESSABLE, &["declares 4000000000 texts"]),
    );
    let disguised = sst.replace("<?xml version=\"1.0\"?>", "\u{89}PNG junk ");
    files.add(
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
    files.add(
        "65,536 cell formats, each cloning a 1 KB font name",
        "styles.xlsx",
        styled,
        Refused(UNPROCESSABLE, TOO_MUCH),
    );

    // The edge of the grid and past it.
    files.add(
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
    files.add(
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
    files.add(
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
    files.add(
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
    files.add(
        "billion laughs in sharedStrings",
        "laughs-sst.xlsx",
        with_parts(&worksheet("", &sst_rows), Some(&laughs_sst)),
        Refused(UNPROCESSABLE, FORBIDDEN_XML),
    );
    files.add(
        "billion laughs in the sheet",
        "laughs-sheet.xlsx",
        with_parts(&entity_sheet(LAUGHS, "&lol9;"), None),
        Refused(UNPROCESSABLE, FORBIDDEN_XML),
    );
    files.add(
        "an external entity (file:///etc/passwd) in sharedStrings",
        "xxe-sst.xlsx",
        with_parts(&worksheet("", &sst_rows), Some(&external_sst)),
        Refused(UNPROCESSABLE, FORBIDDEN_XML),
    );
    files.add(
        "an external entity (file:///etc/passwd) in the sheet",
        "xxe-sheet.xlsx",
        with_parts(&entity_sheet(EXTERNAL, "&xxe;"), None),
        Refused(UNPROCESSABLE, FORBIDDEN_XML),
    );

    // Too many parts.
    let mut many = Archive::workbook().part("xl/worksheets/sheet1.xml", &header_and_one());
    for i in 0..20_000 {
        many = many.part(&format!("xl/junk/{i}.xml"), "");
    }
    files.add(
        "20,000 archive entries",
        "entries.xlsx",
        many.finish(),
        Refused(UNPROCESSABLE, &["more than 1000 internal parts"]),
    );
}
