//! What became of one data row: the text of its Result cell, as a type.

use std::fmt;

use crate::storage::{OutcomeKind, StoredOutcome};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// The agent was created.
    Success,
    /// The row breaks a rule; the message says which and how to fix it.
    Error(String),
    /// The import ended before reaching the row; the message says why and what to do.
    NotImported(String),
}

/// The Result cell of a row whose email an agent already has.
pub const EMAIL_TAKEN: &str =
    "an agent with this email already exists; remove the row or use another email";

impl RowOutcome {
    pub fn email_taken() -> RowOutcome {
        RowOutcome::Error(EMAIL_TAKEN.to_owned())
    }

    pub fn is_success(&self) -> bool {
        matches!(self, RowOutcome::Success)
    }
}

impl fmt::Display for RowOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowOutcome::Success => f.write_str("Success"),
            RowOutcome::Error(message) => write!(f, "Error: {message}"),
            RowOutcome::NotImported(message) => write!(f, "Not imported: {message}"),
        }
    }
}

impl From<&RowOutcome> for StoredOutcome {
    fn from(outcome: &RowOutcome) -> StoredOutcome {
        let (kind, message) = match outcome {
            RowOutcome::Success => (OutcomeKind::Success, String::new()),
            RowOutcome::Error(message) => (OutcomeKind::Error, message.clone()),
            RowOutcome::NotImported(message) => (OutcomeKind::NotImported, message.clone()),
        };
        StoredOutcome { kind, message }
    }
}

impl From<StoredOutcome> for RowOutcome {
    fn from(stored: StoredOutcome) -> RowOutcome {
        match stored.kind {
            OutcomeKind::Success => RowOutcome::Success,
            OutcomeKind::Error => RowOutcome::Error(stored.message),
            OutcomeKind::NotImported => RowOutcome::NotImported(stored.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_survives_storage_and_reads_as_its_result_cell() {
        for (outcome, cell) in [
            (RowOutcome::Success, "Success"),
            (RowOutcome::Error("bad".into()), "Error: bad"),
            (
                RowOutcome::NotImported("the server stopped".into()),
                "Not imported: the server stopped",
            ),
        ] {
            let back = RowOutcome::from(StoredOutcome::from(&outcome));
            assert_eq!(back, outcome);
            assert_eq!(back.to_string(), cell);
        }
    }
}
