//! Roster: a self-hosted Admin Center for remote-support teams.
//!
//! Data flows one way: [`http`] or [`cli`] → [`domain`] types → [`import`] pipeline and [`jobs`]
//! runner → [`storage`]. Nothing below calls back up.

pub(crate) mod accounts;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod import;
pub mod jobs;
pub(crate) mod org;
pub mod startup;
pub mod storage;
pub mod telemetry;
