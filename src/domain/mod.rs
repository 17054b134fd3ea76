//! Parsed types only, no I/O. A value is checked once, where it enters, into a type that
//! cannot hold a bad value; later code trusts the type.

mod clock;
mod email;
mod group_path;
mod natural;
mod password;
mod text;

pub use clock::Clock;
pub use email::{Email, EmailError};
pub use group_path::{GroupPath, GroupPathError};
pub use natural::{natural_cmp, natural_key};
pub use password::{PasswordError, PasswordPolicy, hash_password, verify_password};
pub use text::{AgentName, Description, GroupName, Nickname, TextError};

/// Database ids are 64-bit everywhere, so both backends agree.
pub type Id = i64;
