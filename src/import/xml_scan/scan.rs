//! One part's elements, each handed to the checks that concern it, and what calamine will hold
//! for them spent from the part's budget.

use quick_xml::events::BytesStart;

use super::PartFacts;
use super::attrs::{attrs, leading_number};
use super::refs::{check_refs, check_row};
use super::strings::SharedStrings;
use super::styles::Styles;
use crate::import::error::FileError;

pub(super) struct Scan {
    strings: SharedStrings,
    styles: Styles,
    formulas: u64,
    in_sheet_data: bool,
    recalculates_on_load: bool,
    /// What calamine will hold for what this part says so far, and what it may.
    cost: u64,
    budget: u64,
}

impl Scan {
    pub(super) fn new(budget: u64) -> Self {
        Self {
            strings: SharedStrings::default(),
            styles: Styles::default(),
            formulas: 0,
            in_sheet_data: false,
            recalculates_on_load: false,
            cost: 0,
            budget,
        }
    }

    pub(super) fn start(&mut self, e: &BytesStart<'_>, part: &str) -> Result<(), FileError> {
        let local = e.local_name();
        let local = local.as_ref();
        self.styles.start(local, e, part)?;
        let held = self.strings.start(local, e);
        self.add_cost(held)?;
        match local {
            "sheetData" => self.in_sheet_data = true,
            "dimension" | "mergeCell" => check_refs(e, "ref", part)?,
            "c" if self.in_sheet_data => check_refs(e, "r", part)?,
            "row" if self.in_sheet_data => check_row(e, part)?,
            // An xsd:boolean: "1" or "true".
            "calcPr" => {
                self.recalculates_on_load |= attrs(e, "fullCalcOnLoad")
                    .iter()
                    .any(|v| matches!(v.trim_ascii(), b"1" | b"true"));
            }
            // Shared formula index `f si`: calamine's formula readers call
            // `formulas.resize(si + 1)`, so it must not exceed the `<f>` elements seen so far.
            "f" => {
                self.formulas += 1;
                check_refs(e, "ref", part)?;
                for v in attrs(e, "si") {
                    if leading_number(&v) >= self.formulas {
                        return Err(FileError::Corrupt(format!(
                            "part {part} refers to a shared formula that does not exist"
                        )));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn end(&mut self, local: &str) -> Result<(), FileError> {
        if local == "sheetData" {
            self.in_sheet_data = false;
        }
        self.styles.end(local);
        let held = self.strings.end(local);
        self.add_cost(held)
    }

    pub(super) fn text(&mut self, bytes: usize) {
        self.strings.text(bytes);
    }

    fn add_cost(&mut self, bytes: u64) -> Result<(), FileError> {
        self.cost = self.cost.saturating_add(bytes);
        if self.cost > self.budget {
            return Err(FileError::TooMuchData { limit: self.budget });
        }
        Ok(())
    }

    /// Answers what calamine will hold for the shared strings and styles of the whole part.
    pub(super) fn finish(mut self, part: &str) -> Result<PartFacts, FileError> {
        self.add_cost(self.styles.cost())?;
        self.strings.finish(part)?;
        Ok(PartFacts {
            held: self.cost,
            recalculates_on_load: self.recalculates_on_load,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::import::error::FileError;
    use crate::import::test_support::{header_row, read, sheet_with, xlsx_with};

    #[test]
    fn a_shared_formula_index_must_exist() {
        let rows = format!(
            "{}<row r=\"2\"><c r=\"A2\"><f t=\"shared\" si=\"4000000000\"/><v>1</v></c></row>",
            header_row()
        );
        let got = read(&xlsx_with(&[(
            "xl/worksheets/sheet1.xml",
            &sheet_with(&rows),
        )]));
        assert!(matches!(got, Err(FileError::Corrupt(_))), "{got:?}");
        let rows = format!(
            "{}<row r=\"2\"><c r=\"A2\"><f t=\"shared\" ref=\"A2:A3\" si=\"0\">1+1</f><v>2</v></c></row>\
             <row r=\"3\"><c r=\"A3\"><f t=\"shared\" si=\"0\"/><v>2</v></c></row>",
            header_row()
        );
        let sheet = read(&xlsx_with(&[(
            "xl/worksheets/sheet1.xml",
            &sheet_with(&rows),
        )]))
        .unwrap();
        assert_eq!(sheet.rows.len(), 2);
    }
}
