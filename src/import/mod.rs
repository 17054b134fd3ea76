//! The import pipeline, testable without HTTP: sheet (read) → validate → apply → report (write).
//!
//! `detect`, `archive` (with `xml_scan`), `sheet` (with `rows` and the two readers), `cell`,
//! `columns`, `report` and `template` know files; `validate` knows the rules of a row;
//! `pipeline` ties them to storage and is what the job runner, the web and the command line all
//! call. Of the file-reading modules only `detect` and `sheet` are public: the fuzz targets call
//! them.

mod archive;
mod cell;
mod columns;
mod csv_reader;
pub mod detect;
mod error;
mod job_summary;
pub(crate) mod limits;
mod outcome;
mod outcome_sheet;
pub mod pipeline;
mod plan;
mod report;
mod rows;
pub mod sheet;
pub(crate) mod template;
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
pub(crate) use job_summary::plural;
#[cfg(test)]
pub(crate) use job_summary::sample_job;
pub use job_summary::summary_line;
pub use limits::Limits;
pub use outcome::{EMAIL_TAKEN, RowOutcome};
pub use pipeline::{HashPool, JobOutcome, RunControl, RunLimit, RunSettings, Stop, Submitted};
