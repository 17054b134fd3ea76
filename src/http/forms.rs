//! What every form shares: the messages shown beside its fields.

use std::{collections::BTreeMap, fmt::Display};

use super::error::AppError;
use crate::storage::StorageError;

/// Messages by field name; a form is re-rendered with them and with the input kept, and the
/// API answers them as a JSON object (`{"email": "…"}`).
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    pub(crate) fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    /// Keeps the value, or records the error beside `field`.
    pub(crate) fn check<T, E: Display>(
        &mut self,
        field: &'static str,
        result: Result<T, E>,
    ) -> Option<T> {
        result
            .map_err(|error| self.add(field, error.to_string()))
            .ok()
    }

    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each field's message, for the API's error body.
    pub(crate) fn messages(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(field, message)| ((*field).to_owned(), message.clone()))
            .collect()
    }

    /// The fields with a message, as a sentence names them: "email, name".
    pub(crate) fn names(&self) -> String {
        self.0.keys().copied().collect::<Vec<_>>().join(", ")
    }

    /// The same message under the name a form gives the field: the shared code says `name`,
    /// the panel's "new group" form calls it `new_name`.
    pub(crate) fn renamed(mut self, from: &'static str, to: &'static str) -> FieldErrors {
        if let Some(message) = self.0.remove(from) {
            self.0.insert(to, message);
        }
        self
    }
}

/// An HTML checkbox sends its value only when ticked.
pub(crate) fn ticked(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.is_empty())
}

/// A `<select>` of groups posts "" for "none" and an id otherwise.
pub(crate) fn optional_id(value: &str) -> Result<Option<i64>, &'static str> {
    match value.trim() {
        "" => Ok(None),
        text => text
            .parse()
            .map(Some)
            .map_err(|_| "Choose a group from the list"),
    }
}

/// Unix seconds as the pages show them.
pub(crate) fn datetime(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// Turns a uniqueness rule's refusal into a message beside the field it is about, in the shape
/// of realworld-axum-sqlx's `ResultExt::on_constraint`: the one place where a handler's write
/// meets [`StorageError::Duplicate`].
pub(crate) trait ResultExt<T> {
    /// `Ok(Some(value))` when the write succeeded; `Ok(None)` with `message` recorded beside
    /// `field` when it broke a uniqueness rule; any other failure as an [`AppError`].
    fn on_duplicate(
        self,
        errors: &mut FieldErrors,
        field: &'static str,
        message: &str,
    ) -> Result<Option<T>, AppError>;
}

impl<T> ResultExt<T> for Result<T, StorageError> {
    fn on_duplicate(
        self,
        errors: &mut FieldErrors,
        field: &'static str,
        message: &str,
    ) -> Result<Option<T>, AppError> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(StorageError::Duplicate) => {
                errors.add(field, message);
                Ok(None)
            }
            Err(other) => Err(other.into()),
        }
    }
}
