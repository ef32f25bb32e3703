//! Fuzz targets: each takes arbitrary bytes and must neither panic nor
//! answer a server error. The same functions run under libFuzzer
//! (`fuzz/`, `cargo +nightly fuzz run <target>`) and, on stable, under
//! [`run`], a seeded mutator over the checked-in corpus that `.ci/run`
//! drives for a few seconds per target.
//!
//! Targets: [`geojson_geometry`] (GeoJSON → grid boundary → index and
//! validity), [`address`] (the address parser and matcher), [`csv_import`]
//! (hotline CSV with a mapping) and [`tile_request`] (tile paths and
//! parameters through the router).

use std::sync::{Arc, OnceLock};

use gridgov_spatial::{AddressIndex, GridIndex, assign, sample};

use gridgov_app::{App, Rules, Snapshot, SystemClock};
use gridgov_service::AppState;

fn snapshot() -> &'static Snapshot {
    static S: OnceLock<Snapshot> = OnceLock::new();
    S.get_or_init(|| {
        Snapshot::build(
            sample::district(&sample::SampleSpec::default()),
            std::collections::HashMap::new(),
            1,
        )
    })
}

/// GeoJSON text → a geometry → a grid boundary; a boundary that is
/// accepted must index and answer lookups.
pub fn geojson_geometry(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(g) = text.parse::<geojson::Geometry>() else {
        return;
    };
    let mut notes = Vec::new();
    let Ok(mp) = gridgov_app::import::to_multi_polygon(&g, &mut notes, "fuzz") else {
        return;
    };
    let _ = geo::Validation::is_valid(&mp);
    let mut d = gridgov_spatial::District::new("fuzz");
    let mut a = gridgov_spatial::Area::new(gridgov_spatial::Level::Grid, "1", "g");
    a.boundary = mp;
    d.add_area(a);
    let idx = GridIndex::new(&d);
    for (x, y) in [(0.0, 0.0), (117.55, 34.86), (f64::NAN, 1.0), (180.0, -90.0)] {
        let _ = gridgov_spatial::place_point(&idx, x, y);
    }
}

/// An address: parsed, and looked up in the sample district.
pub fn address(data: &[u8]) {
    static IDX: OnceLock<AddressIndex> = OnceLock::new();
    let s = String::from_utf8_lossy(data);
    let _ = gridgov_spatial::address::parse(&s);
    let snap = snapshot();
    let idx =
        IDX.get_or_init(|| AddressIndex::new(&snap.district, &assign(&snap.district, &snap.grids)));
    let _ = idx.lookup(&snap.district, &s, 5);
}

/// A hotline CSV export with the default mapping: every row becomes an
/// incident or a row error, never a panic.
pub fn csv_import(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let m = gridgov_app::import::incidents::Mapping::default();
    let _ = gridgov_app::import::incidents::incidents_from_csv(
        snapshot(),
        text,
        &m,
        gridgov_spatial::time::parse_instant("2026-11-22T10:00:00+08:00")
            .unwrap_or(gridgov_spatial::Timestamp::UNIX_EPOCH),
        |_| {},
    );
}

/// A tile request (`/tiles/` + the bytes as path and query) through the
/// router: any answer but a server error.
///
/// # Panics
///
/// When the router answers 5xx.
pub fn tile_request(data: &[u8]) {
    use tower::ServiceExt;
    static APP: OnceLock<(tokio::runtime::Runtime, Arc<AppState>, String)> = OnceLock::new();
    let (rt, st, token) = APP.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("gridgov-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let seed =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample-district.json");
        let store = gridgov_storage::open(
            &dir.join("f.gpkg").to_string_lossy(),
            &seed,
            crate::cli::now(),
        )
        .expect("a store for fuzzing")
        .store;
        let config = gridgov_service::Config {
            base_url: "http://fuzz".into(),
            body_limit: 1 << 20,
            label_font: None,
            tile_cache_bytes: 0,
            ..gridgov_service::Config::default()
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        // An admin's token, so requests reach the tile code.
        let token = gridgov_app::accounts::ensure_user_token(
            store.as_ref(),
            "fuzz",
            gridgov_spatial::access::Role::Admin,
            &[],
            None,
            crate::cli::now(),
        )
        .expect("a token for fuzzing");
        let app = App::open(store, Arc::new(SystemClock), Rules::default()).expect("the app");
        (rt, Arc::new(AppState::new(Arc::new(app), config)), token)
    });
    // Only what a URI can carry.
    let tail: String = String::from_utf8_lossy(data)
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '#')
        .take(200)
        .collect();
    let Ok(uri) = format!("/tiles/{tail}").parse::<axum::http::Uri>() else {
        return;
    };
    let Ok(req) = axum::http::Request::get(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
    else {
        return;
    };
    let Ok(status) = rt.block_on(async {
        gridgov_service::app(st.clone())
            .oneshot(req)
            .await
            .map(|r| r.status())
    });
    assert!(!status.is_server_error(), "/tiles/{tail} answered {status}");
}

/// A fuzz target.
pub type Target = fn(&[u8]);

/// The targets by name.
pub const TARGETS: [(&str, Target); 4] = [
    ("geojson_geometry", geojson_geometry),
    ("address", address),
    ("csv_import", csv_import),
    ("tile_request", tile_request),
];

/// Pieces of input that tend to matter.
const TOKENS: [&[u8]; 12] = [
    b"NaN",
    b"-inf",
    b"1e400",
    b"\"",
    b"[",
    b"{",
    b",",
    b"\n",
    b"-1",
    b"99999999999",
    "号楼".as_bytes(),
    b"\xff",
];

/// What a stable run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunStats {
    /// Inputs tried.
    pub executions: u64,
    /// Of those, from the corpus.
    pub corpus: usize,
}

/// Runs `target` over `corpus` and then over inputs mutated from it
/// (byte flips, insertions, deletions, splices, interesting values) for
/// `budget`, seeded by `seed`. A panic in the target propagates.
pub fn run(
    target: fn(&[u8]),
    corpus: &[Vec<u8>],
    budget: std::time::Duration,
    seed: u64,
) -> RunStats {
    let mut rng = gridgov_spatial::Rng::new(seed);
    for c in corpus {
        target(c);
    }
    let start = std::time::Instant::now();
    let mut executions = corpus.len() as u64;
    let empty = vec![Vec::new()];
    let pool = if corpus.is_empty() { &empty } else { corpus };
    while start.elapsed() < budget {
        let mut x = pool[rng.below(pool.len() as u64) as usize].clone();
        for _ in 0..=rng.below(4) {
            let n = x.len();
            match rng.below(6) {
                0 if n > 0 => {
                    let i = rng.below(n as u64) as usize;
                    x[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let i = rng.below(n as u64 + 1) as usize;
                    x.insert(i, rng.below(256) as u8);
                }
                2 if n > 0 => {
                    let i = rng.below(n as u64) as usize;
                    let len = (rng.below(16) as usize).min(n - i);
                    x.drain(i..i + len);
                }
                3 => {
                    let other = &pool[rng.below(pool.len() as u64) as usize];
                    if !other.is_empty() {
                        let a = rng.below(other.len() as u64) as usize;
                        let i = rng.below(n as u64 + 1) as usize;
                        let piece: Vec<u8> = other[a..].iter().take(32).copied().collect();
                        x.splice(i..i, piece);
                    }
                }
                4 => {
                    let t = TOKENS[rng.below(TOKENS.len() as u64) as usize];
                    let i = rng.below(n as u64 + 1) as usize;
                    x.splice(i..i, t.iter().copied());
                }
                _ if n > 1 => {
                    let i = rng.below(n as u64) as usize;
                    let j = rng.below(n as u64) as usize;
                    x.swap(i, j);
                }
                _ => {}
            }
        }
        x.truncate(64 * 1024);
        target(&x);
        executions += 1;
    }
    RunStats {
        executions,
        corpus: corpus.len(),
    }
}
