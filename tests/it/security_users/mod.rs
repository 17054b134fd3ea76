//! Who may do what, and the sessions that say who is asking: every route against every kind of
//! visitor, CSRF on every state-changing route, session rotation and timeouts, cookie flags,
//! throttling, security headers, a hostile download name, and passwords that leave no trace in
//! logs, result files or the database.

mod csrf;
mod headers;
mod matrix;
mod passwords;
mod routes;
mod sessions;
mod throttling;
mod world;
