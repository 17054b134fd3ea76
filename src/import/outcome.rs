//! What became of one data row: the text of its Result cell, as a type.

use std::fmt;

use crate::storage::{OutcomeKind, StoredOutcome};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// The agent was created.
    Success,
    /// An existing agent of the group was updated from the row (mode `update`).
    Updated,
    /// The row was left alone; the message says why (mode `skip`: the agent exists).
    Skipped(String),
    /// The row breaks a rule; the message says which and how to fix it.
    Error(String),
    /// The import ended before reaching the row; the message says why and what to do.
    NotImported(String),
    /// A row of a result file uploaded again that had already succeeded: not processed again,
    /// its earlier Result cell kept as it was.
    Kept(String),
    /// A check (dry run): what importing the row would do.
    WouldCreate,
    WouldUpdate,
    WouldSkip(String),
}

/// The Result cell of a row whose email an agent already has.
pub const EMAIL_TAKEN: &str = "an agent with this email already exists; remove the row, use another email, or import with the mode Update or Skip";

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
            RowOutcome::Updated => f.write_str("Updated"),
            RowOutcome::Skipped(message) => write!(f, "Skipped: {message}"),
            RowOutcome::Error(message) => write!(f, "Error: {message}"),
            RowOutcome::NotImported(message) => write!(f, "Not imported: {message}"),
            RowOutcome::Kept(earlier) => f.write_str(earlier),
            RowOutcome::WouldCreate => f.write_str("Would create"),
            RowOutcome::WouldUpdate => f.write_str("Would update"),
            RowOutcome::WouldSkip(message) => write!(f, "Would skip: {message}"),
        }
    }
}

impl From<&RowOutcome> for StoredOutcome {
    fn from(outcome: &RowOutcome) -> StoredOutcome {
        let (kind, message) = match outcome {
            RowOutcome::Success => (OutcomeKind::Success, ""),
            RowOutcome::Updated => (OutcomeKind::Updated, ""),
            RowOutcome::Skipped(message) => (OutcomeKind::Skipped, message.as_str()),
            RowOutcome::Error(message) => (OutcomeKind::Error, message.as_str()),
            RowOutcome::NotImported(message) => (OutcomeKind::NotImported, message.as_str()),
            RowOutcome::Kept(earlier) => (OutcomeKind::Kept, earlier.as_str()),
            RowOutcome::WouldCreate => (OutcomeKind::WouldCreate, ""),
            RowOutcome::WouldUpdate => (OutcomeKind::WouldUpdate, ""),
            RowOutcome::WouldSkip(message) => (OutcomeKind::WouldSkip, message.as_str()),
        };
        StoredOutcome {
            kind,
            message: message.to_owned(),
        }
    }
}

impl From<StoredOutcome> for RowOutcome {
    fn from(stored: StoredOutcome) -> RowOutcome {
        let message = stored.message;
        match stored.kind {
            OutcomeKind::Success => RowOutcome::Success,
            OutcomeKind::Updated => RowOutcome::Updated,
            OutcomeKind::Skipped => RowOutcome::Skipped(message),
            OutcomeKind::Error => RowOutcome::Error(message),
            OutcomeKind::NotImported => RowOutcome::NotImported(message),
            OutcomeKind::Kept => RowOutcome::Kept(message),
            OutcomeKind::WouldCreate => RowOutcome::WouldCreate,
            OutcomeKind::WouldUpdate => RowOutcome::WouldUpdate,
            OutcomeKind::WouldSkip => RowOutcome::WouldSkip(message),
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
            (RowOutcome::Updated, "Updated"),
            (
                RowOutcome::Skipped("it exists".into()),
                "Skipped: it exists",
            ),
            (RowOutcome::Kept("Success".into()), "Success"),
            (RowOutcome::WouldCreate, "Would create"),
            (RowOutcome::WouldUpdate, "Would update"),
            (
                RowOutcome::WouldSkip("it exists".into()),
                "Would skip: it exists",
            ),
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
