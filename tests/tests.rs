//! End-to-end tests: the `gridgov` binary run as a user runs it.

#![allow(clippy::unwrap_used)]

mod util;

mod cli_abuse;
mod cli_accounts;
mod cli_assign;
mod cli_cards;
mod cli_crash;
mod cli_import;
mod cli_import_incidents;
mod cli_load;
mod cli_lookup;
mod cli_partition;
mod cli_render;
mod cli_report;
mod cli_roles;
mod cli_sample;
mod cli_serve;
mod cli_validate;
mod cli_view;
mod fuzz_brief;
