//! Test support: throwaway PostGIS databases on the test cluster.
//!
//! `GRIDGOV_TEST_PG` names the cluster (`postgres://postgres@127.0.0.1:55432`,
//! no database); `.ci/run` starts one and sets it. Without it the PostGIS
//! variants of the tests are skipped locally and fail under `CI`.

use std::sync::Mutex;

use gridgov_spatial::Timestamp;
use postgres::{Client, NoTls};

/// The time the tests' stores are made at.
pub fn now() -> Timestamp {
    gridgov_spatial::time::from_epoch(1_795_000_000)
}

static CREATE: Mutex<()> = Mutex::new(());

/// The cluster URL, `None` (with a note) when there is none outside CI.
///
/// # Panics
/// Under `CI` without `GRIDGOV_TEST_PG`: the PostGIS tests must run there.
pub fn cluster() -> Option<String> {
    match std::env::var("GRIDGOV_TEST_PG") {
        Ok(u) if !u.is_empty() => Some(u.trim_end_matches('/').to_string()),
        _ if std::env::var_os("CI").is_some() => {
            panic!("GRIDGOV_TEST_PG is not set: the PostGIS tests must run in CI")
        }
        _ => {
            eprintln!("GRIDGOV_TEST_PG is not set: skipping a PostGIS test");
            None
        }
    }
}

/// A new, empty database with PostGIS enabled, named after `name`; its URL.
///
/// # Panics
/// When the cluster cannot be reached or refuses.
pub fn fresh_database(cluster: &str, name: &str) -> String {
    // On its own thread: the client blocks, and tests may be async.
    let (cluster, name) = (cluster.to_string(), name.to_string());
    std::thread::spawn(move || create_database(&cluster, &name))
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

fn create_database(cluster: &str, name: &str) -> String {
    let _guard = CREATE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let db = format!("gridgov_{name}_{}", std::process::id()).to_lowercase();
    let mut admin = Client::connect(&format!("{cluster}/postgres"), NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test cluster {cluster}: {e}"));
    let has_template = !admin
        .query(
            "SELECT 1 FROM pg_database WHERE datname = 'gridgov_template'",
            &[],
        )
        .expect("the test cluster lists its databases")
        .is_empty();
    if !has_template {
        admin
            .batch_execute("CREATE DATABASE gridgov_template")
            .expect("the test cluster makes the template database");
        let mut t = Client::connect(&format!("{cluster}/gridgov_template"), NoTls)
            .expect("the template database takes connections");
        t.batch_execute("CREATE EXTENSION postgis")
            .expect("PostGIS is installed on the test cluster");
        t.close().expect("the template database closes");
    }
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .expect("the test cluster drops an old database");
    admin
        .batch_execute(&format!("CREATE DATABASE {db} TEMPLATE gridgov_template"))
        .expect("the test cluster makes a database");
    format!("{cluster}/{db}")
}
