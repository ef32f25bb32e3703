//! What the storage tests share: fresh stores of the sample district on
//! either backend, and `both!`, which makes a test once per backend.

#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;

use gridgov_app::Store;
use gridgov_spatial::sample::{SampleSpec, district};
use gridgov_storage::testing::{cluster, fresh_database, now};

/// A fresh GeoPackage store of the sample district, and its folder
/// (removed when dropped).
pub fn gpkg(name: &str) -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("gridgov-contract-{name}-"))
        .tempdir()
        .unwrap();
    let seed = dir.path().join("seed.json");
    gridgov_storage::save_district_file(&seed, &district(&SampleSpec::default())).unwrap();
    let db = dir.path().join("t.gpkg");
    let store = gridgov_storage::open(db.to_str().unwrap(), &seed, now())
        .unwrap()
        .store;
    (dir, store)
}

/// A fresh PostGIS store of the sample district; `None` without a test
/// cluster (outside CI).
pub fn pg(name: &str) -> Option<Arc<dyn Store>> {
    let cluster = cluster()?;
    let url = fresh_database(&cluster, name);
    gridgov_storage::save_district(&url, &district(&SampleSpec::default()), now()).unwrap();
    Some(
        gridgov_storage::open(&url, std::path::Path::new("/nonexistent"), now())
            .unwrap()
            .store,
    )
}

/// Runs `check` on both backends, as `name::geopackage` and
/// `name::postgis`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[test]
            fn geopackage() {
                let (_dir, s) = super::gpkg(stringify!($name));
                super::$name(s.as_ref());
            }
            #[test]
            fn postgis() {
                let Some(s) = super::pg(stringify!($name)) else {
                    return;
                };
                super::$name(s.as_ref());
            }
        }
    };
}
