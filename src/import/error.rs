#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FileError {
    #[error("stub")]
    Empty,
    #[error("too large")]
    TooLarge { limit: u64 },
}
