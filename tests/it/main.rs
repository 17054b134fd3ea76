//! The integration tests, one binary (each binary links the whole stack): a module per area.
//! Every test starts the real application with a fresh database of its own.

#[macro_use]
mod common;

mod accounts_cli;
mod admin_accounts;
mod admin_center;
mod agent_order;
mod api_bulk;
mod api_crud;
mod audit_log;
mod browser;
mod browser_bulk;
mod bulk_actions;
mod crash_restart;
mod import;
mod import_cancel;
mod import_flow;
mod import_jobs;
mod import_modes;
mod import_undo;
mod multi_process;
mod password_change;
mod search;
mod security_files;
mod security_users;
mod setup;
mod sign_in_throttle;
mod slow_clients;
mod storage_story;
