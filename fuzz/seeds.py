#!/usr/bin/env python3
"""Writes the committed seed corpus (tiny valid files and a few hostile ones, each < 50 KB).
Rerun from fuzz/: python3 seeds.py. The regression-* files beside them are inputs the fuzzers
found crashing, kept so every run tries them first."""
import io, os, zipfile

CT = '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
RELS = '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
WB = '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Agents" sheetId="1" r:id="rId1"/></sheets></workbook>'
WB_RELS = '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>'
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
STYLES = f'<?xml version="1.0" encoding="UTF-8"?><styleSheet {NS}><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellXfs count="3"><xf numFmtId="0" fontId="0"/><xf numFmtId="49" fontId="0" applyNumberFormat="1"/><xf numFmtId="164" fontId="0" applyNumberFormat="1"/></cellXfs></styleSheet>'
SST = f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="6" uniqueCount="6"><si><t>Name</t></si><si><t>Email</t></si><si><t>Password</t></si><si><t>Ann Lee</t></si><si><t>ann@example.com</t></si><si><t xml:space="preserve"> 000123 </t></si></sst>'
SHEET = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><dimension ref="A1:D3"/><sheetData>'
         '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
         '<row r="2" s="1" customFormat="1"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>4</v></c><c r="C2" t="s" s="1"><v>5</v></c>'
         '<c r="D2"><f t="shared" ref="D2:D3" si="0">1+1</f><v>2</v></c></row>'
         '<row r="3"><c r="A3" t="inlineStr"><is><r><t>Bob</t></r><r><t> Ray</t></r></is></c><c r="B3" t="str"><f>"b@x.org"</f><v>b@x.org</v></c>'
         '<c r="C3" s="2"><v>45352</v></c><c r="D3"><f t="shared" si="0"/><v>2</v></c><c r="E3" t="b"><v>1</v></c><c r="F3" t="e"><v>#DIV/0!</v></c></row>'
         '</sheetData><mergeCells count="1"><mergeCell ref="G1:H2"/></mergeCells></worksheet>')
LAUGHS = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'


def xlsx(parts, method=zipfile.ZIP_DEFLATED):
    entries = {"[Content_Types].xml": CT, "_rels/.rels": RELS, "xl/workbook.xml": WB,
               "xl/_rels/workbook.xml.rels": WB_RELS, "xl/worksheets/sheet1.xml": SHEET,
               "xl/sharedStrings.xml": SST, "xl/styles.xml": STYLES}
    entries.update(parts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, text in entries.items():
            if text is not None:
                z.writestr(name, text)
    return out.getvalue()


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    assert len(data) < 50_000, name
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


sheets = "corpus/read_sheet"
write(sheets, "valid.xlsx", xlsx({}))
write(sheets, "valid-stored.xlsx", xlsx({}, zipfile.ZIP_STORED))
write(sheets, "valid.csv", "Name,Email,Password\r\nAnn Lee,ann@example.com,000123\r\n\"Doe, Jane\",jane@x.org,\"pa\"\"ss\nword\"\r\n")
write(sheets, "bom-semicolon.csv", "\ufeffName;Email;Password;Team\nZoë;zoe@x.org;sécret99;Blue\n;;;\n")
write(sheets, "hostile-sst-count.xlsx", xlsx({"xl/sharedStrings.xml": SST.replace('count="6" uniqueCount="6"', 'count="4000000000" uniqueCount="4000000000"')}))
write(sheets, "hostile-laughs.xlsx", xlsx({"xl/worksheets/sheet1.xml": LAUGHS + SHEET.split("?>", 1)[1]}))
write(sheets, "hostile-far-cell.xlsx", xlsx({"xl/worksheets/sheet1.xml": SHEET.replace('r="E3"', 'r="XFE1048577"')}))
full = xlsx({})
write(sheets, "hostile-truncated.xlsx", full[: len(full) // 2])

parts = "corpus/read_xlsx_parts"
sep = "\n--part--\n"
write(parts, "valid.txt", sep.join([SHEET, SST, STYLES, WB]))
write(parts, "sheet-only.txt", SHEET.replace('t="s"><v>0', 't="inlineStr"><is><t>Name</t></is><v>0'))
write(parts, "hostile-sst-count.txt", sep.join([SHEET, SST.replace('uniqueCount="6"', 'uniqueCount="4000000000"'), STYLES]))
write(parts, "hostile-shared-formula.txt", SHEET.replace('si="0"/>', 'si="4000000000"/>'))
write(parts, "hostile-laughs.txt", sep.join([SHEET, LAUGHS + SST.split("?>", 1)[1]]))

# Files written by Excel and LibreOffice, from tests/fixtures/real-world (calamine: MIT,
# excelize: BSD-3-Clause; see SOURCES.md there).
real = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "real-world")
for name in ["calamine__richtext-namespaced.xlsx", "excelize__MergeCell.xlsx", "calamine__errors.xlsx",
             "excelize__BadWorkbook.xlsx", "calamine__issue_594_dos.ods", "calamine__date_1904.xlsx"]:
    path = os.path.join(real, name)
    if os.path.exists(path):
        with open(path, "rb") as f:
            write(sheets, "real-" + name, f.read())
