//! The import pipeline, testable without HTTP: sheet (read) → validate → apply → report (write).
//!
//! `detect`, `archive`, `sheet`, `columns`, `report` and `template` know files; `validate` knows
//! the rules of a row; `pipeline` ties them to storage and is what the job runner, the web and
//! the command line all call.

pub mod archive;
mod cell;
pub mod columns;
mod csv_reader;
pub mod detect;
pub mod error;
pub mod limits;
pub mod pipeline;
pub mod report;
mod rows;
pub mod sheet;
pub mod template;
pub mod validate;
mod xlsx_reader;
mod xml_scan;

#[cfg(test)]
mod peak_memory;
#[cfg(test)]
mod real_world;
#[cfg(test)]
mod test_support;

pub use cell::{Cell, Row, Sheet};
pub use columns::Columns;
pub use error::FileError;
pub use limits::Limits;
pub use pipeline::{JobOutcome, RunLimit, Submitted};
