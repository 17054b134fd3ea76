//! Accounts as the web forms, the API and the command line share them: session tokens, password
//! hashing off the async runtime, the sign-in throttle, and the one sign-in service.

mod own_password;
mod passwords;
mod sign_in;
mod throttle;
mod tokens;

pub(crate) use own_password::{OwnPasswordChange, check_own_change};
pub(crate) use passwords::new_password_hash;
pub(crate) use sign_in::{Attempt, SignInError, sign_in, start_session};
pub(crate) use throttle::{LOOK_BACK_SECONDS as THROTTLE_LOOK_BACK_SECONDS, Throttled};
pub use tokens::{random_token, token_hash};
