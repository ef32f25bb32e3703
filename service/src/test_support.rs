//! What router tests share: a fresh store of the sample district on
//! either backend, the service state over it, tokens per state, and the
//! router signed in as an admin.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use gridgov_app::{App, Rules, Store, SystemClock};
use gridgov_spatial::access::Role;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::{AppState, Config, app};

/// Where a test's store lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    GeoPackage,
    PostGis,
}

/// Runs each named test (an `async fn(Backend)`) once per backend, as
/// `name::on_geopackage` and `name::on_postgis`. The PostGIS variant
/// needs the test cluster (`GRIDGOV_TEST_PG`): without it, it is skipped
/// locally and fails under `CI`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn on_geopackage() {
                super::$name(crate::test_support::Backend::GeoPackage).await;
            }
            #[tokio::test]
            async fn on_postgis() {
                if gridgov_storage::testing::cluster().is_some() {
                    super::$name(crate::test_support::Backend::PostGis).await;
                }
            }
        }
    )*};
}

/// The sample district the stores are made from.
pub(crate) fn seed() -> std::path::PathBuf {
    std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/sample-district.json"
    ))
    .to_path_buf()
}

/// A store for one test and, for a GeoPackage, the folder it is in
/// (removed when the last state over it is dropped).
#[derive(Clone)]
pub(crate) struct TestStore {
    pub(crate) store: Arc<dyn Store>,
    dir: Option<Arc<tempfile::TempDir>>,
}

/// A service state for one test: derefs to the state, and keeps its
/// store's folder until the test is done.
pub(crate) struct TestState {
    state: Arc<AppState>,
    _dir: Option<Arc<tempfile::TempDir>>,
}

impl std::ops::Deref for TestState {
    type Target = Arc<AppState>;
    fn deref(&self) -> &Arc<AppState> {
        &self.state
    }
}

/// A store of the sample district for one test (made off the async
/// threads: the PostgreSQL client blocks).
pub(crate) fn store(name: &str, backend: Backend) -> TestStore {
    let name = name.to_owned();
    std::thread::spawn(move || {
        let (db, dir) = match backend {
            Backend::GeoPackage => {
                let dir = tempfile::Builder::new()
                    .prefix(&format!("gridgov-service-{name}-"))
                    .tempdir()
                    .unwrap();
                let db = dir.path().join("e.gpkg").to_string_lossy().into_owned();
                (db, Some(Arc::new(dir)))
            }
            Backend::PostGis => {
                let cluster = gridgov_storage::testing::cluster().unwrap();
                (
                    gridgov_storage::testing::fresh_database(&cluster, &name),
                    None,
                )
            }
        };
        let opened = gridgov_storage::open(&db, &seed(), gridgov_storage::testing::now()).unwrap();
        assert!(opened.created);
        TestStore {
            store: opened.store,
            dir,
        }
    })
    .join()
    .unwrap()
}

/// A store opened some other way (a second replica), with no folder.
impl From<Arc<dyn Store>> for TestStore {
    fn from(store: Arc<dyn Store>) -> Self {
        TestStore { store, dir: None }
    }
}

/// A service state over `store` with `config` that follows the store.
pub(crate) fn state_with(store: impl Into<TestStore>, config: Config) -> TestState {
    let TestStore { store, dir } = store.into();
    let state = std::thread::spawn(move || {
        let app = Arc::new(App::open(store, Arc::new(SystemClock), Rules::default()).unwrap());
        app.follow_store().unwrap();
        let st = Arc::new(AppState::new(app, config));
        forget(&st);
        st
    })
    .join()
    .unwrap();
    TestState { state, _dir: dir }
}

/// Two service states over one store `name`, each following it: on
/// PostGIS the second opens the database as another replica would (its own
/// connections, LISTEN/NOTIFY); two processes over one GeoPackage are not
/// a supported deployment, so there both share the store, which still
/// must agree.
pub(crate) fn replicas(name: &str, b: Backend) -> (TestState, TestState) {
    let store = store(name, b);
    let config = || test_config(super::harden::Guard::default());
    let one = state_with(store.clone(), config());
    let two = match b {
        Backend::GeoPackage => state_with(store, config()),
        Backend::PostGis => {
            let url = gridgov_storage::testing::cluster().unwrap();
            let url = format!("{url}/gridgov_{name}_{}", std::process::id());
            let s = std::thread::spawn(move || {
                gridgov_storage::open(
                    &url,
                    std::path::Path::new("/nonexistent"),
                    gridgov_storage::testing::now(),
                )
                .unwrap()
                .store
            })
            .join()
            .unwrap();
            state_with(s, config())
        }
    };
    (one, two)
}

/// The settings router tests run with.
pub(crate) fn test_config(guard: super::harden::Guard) -> Config {
    Config {
        base_url: "http://test".into(),
        body_limit: 4 << 20,
        guard,
        ..Config::default()
    }
}

/// The installed CJK font as a PDF report font; `None` (the test skips)
/// only outside CI, which installs one.
pub(crate) fn pdf_font() -> Option<Arc<gridgov_app::report::pdf::PdfFont>> {
    match gridgov_fonts::find(None) {
        Ok((path, _)) => {
            let bytes = std::fs::read(&path).unwrap();
            Some(Arc::new(
                gridgov_app::report::pdf::PdfFont::from_bytes(bytes).unwrap(),
            ))
        }
        Err(e) => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "CI installs a CJK font: {e}"
            );
            None
        }
    }
}

/// A fresh state over a new store of the sample district.
pub(crate) fn fresh(name: &str, backend: Backend) -> TestState {
    let tag = format!("{name}_{backend:?}").to_lowercase();
    state_with(
        store(&tag, backend),
        test_config(super::harden::Guard::default()),
    )
}

/// A fresh state behind a guard of its own.
pub(crate) fn guarded(name: &str, guard: super::harden::Guard, backend: Backend) -> TestState {
    let tag = format!("{name}_{backend:?}").to_lowercase();
    state_with(store(&tag, backend), test_config(guard))
}

static TOKENS: std::sync::LazyLock<Mutex<HashMap<(usize, String), String>>> =
    std::sync::LazyLock::new(|| Mutex::new(HashMap::new()));

/// A token of user `name` (created with `role`, `grids` and `department`
/// when missing) on `st`'s store; made off the async threads (the
/// PostgreSQL client blocks) and remembered per state.
pub(crate) fn token_for(
    st: &Arc<AppState>,
    name: &str,
    role: Role,
    grids: &[&str],
    department: Option<&str>,
) -> String {
    let key = (Arc::as_ptr(st) as usize, name.to_owned());
    if let Some(t) = TOKENS.lock().unwrap().get(&key) {
        return t.clone();
    }
    let st2 = st.clone();
    let (name2, grids2, dept2) = (
        name.to_owned(),
        grids.iter().map(|g| (*g).to_owned()).collect::<Vec<_>>(),
        department.map(String::from),
    );
    let t = std::thread::spawn(move || {
        let g: Vec<&str> = grids2.iter().map(String::as_str).collect();
        gridgov_app::accounts::ensure_user_token(
            st2.app.store.as_ref(),
            &name2,
            role,
            &g,
            dept2.as_deref(),
            st2.app.now(),
        )
        .unwrap()
    })
    .join()
    .unwrap();
    TOKENS.lock().unwrap().insert(key, t.clone());
    t
}

/// Forgets the tokens of a state about to be made at a reused address.
pub(crate) fn forget(st: &Arc<AppState>) {
    let p = Arc::as_ptr(st) as usize;
    TOKENS.lock().unwrap().retain(|k, _| k.0 != p);
}

/// An admin's token on `st`.
pub(crate) fn admin_token(st: &Arc<AppState>) -> String {
    token_for(st, "tester", Role::Admin, &[], None)
}

/// The router, signed in as an admin unless a request says otherwise.
pub(crate) fn signed_app(st: &Arc<AppState>) -> Router {
    let bearer = HeaderValue::from_str(&format!("Bearer {}", admin_token(st))).unwrap();
    app(st.clone()).layer(axum::middleware::map_request(
        move |mut req: Request<Body>| {
            let bearer = bearer.clone();
            async move {
                if !req.headers().contains_key(header::AUTHORIZATION) {
                    req.headers_mut().insert(header::AUTHORIZATION, bearer);
                }
                req
            }
        },
    ))
}

/// One request through the signed-in router: status, headers and JSON
/// (null when the body is empty or not JSON).
pub(crate) async fn call(
    st: &Arc<AppState>,
    method: &str,
    uri: &str,
    headers: &[(&str, String)],
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let r = signed_app(st).oneshot(req).await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, headers, v)
}

/// [`call`] with a body that is not JSON (`content_type`), as the admin
/// signs in; the answer parsed as JSON when it is.
pub(crate) async fn call_raw(
    st: &Arc<AppState>,
    method: &str,
    uri: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let r = signed_app(st).oneshot(req).await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
