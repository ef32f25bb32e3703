//! gridgov: the spatial heart of grid-based community governance — the
//! command line, the HTTP service, storage and import, over the pure
//! `gridgov-spatial` and `gridgov-tiles` crates.

pub mod accounts;
pub mod cases;
pub mod cli;
pub mod fuzzing;
pub mod import;
pub mod report;
pub mod service;
pub mod storage;
pub mod store;
