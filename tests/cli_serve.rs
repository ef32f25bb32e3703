use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{gridgov, postgis_database, repo, s, tmp_dir};

/// A `gridgov serve` on an ephemeral port, stopped (SIGTERM) when dropped.
pub struct Server {
    child: Option<Child>,
    pub addr: String,
    /// An admin's API token on its store.
    pub token: String,
    log: std::sync::mpsc::Receiver<String>,
}

/// The admin token of each server started here, by address: [`request`]
/// signs in with it unless told otherwise.
static TOKENS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
    std::sync::LazyLock::new(Default::default);

/// An API token of user `name` on store `db`, adding them with `role`
/// (and `extra` options, e.g. grids) first when missing: the way an
/// operator does it, through the CLI.
pub fn cli_token(db: &str, name: &str, role: &str, extra: &[&str]) -> String {
    let seed = repo().join("data/sample-district.json");
    let mut add = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args([
            "users",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "--db",
            db,
            "--seed",
            s(&seed),
        ])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long test password\n")
        .unwrap();
    let out = add.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || err.contains("already a user"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args([
            "tokens",
            "issue",
            name,
            "--days",
            "1",
            "--db",
            db,
            "--seed",
            s(&seed),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

impl Server {
    /// Starts a server over `db`: a GeoPackage path or a `postgres://` URL.
    pub fn start(db: &str) -> Server {
        Server::start_with(db, &[])
    }

    /// Starts a server over `db` with more options.
    pub fn start_with(db: &str, extra: &[&str]) -> Server {
        let token = cli_token(db, "tester", "admin", &[]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_gridgov"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--db",
                db,
                "--seed",
                s(&repo().join("data/sample-district.json")),
            ])
            .args(extra)
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("gridgov serve starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("gridgov serve did not log that it is serving");
            };
            if let Some(rest) = line.split("addr=").nth(1)
                && line.contains("serving")
            {
                let addr = rest.split_whitespace().next().unwrap().to_string();
                TOKENS.lock().unwrap().insert(addr.clone(), token.clone());
                return Server {
                    child: Some(child),
                    addr,
                    token,
                    log: rx,
                };
            }
        }
    }

    /// A GET as the admin: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) =
            request(&self.addr, "GET", path, &[], "").expect("the server answers");
        (status, body)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Kills the server with SIGKILL (no chance to clean up).
    pub fn kill9(mut self) -> Child {
        let child = self.child.take().unwrap();
        let _ = Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status();
        child
    }

    /// Sends SIGTERM and waits; returns the exit code and the log.
    pub fn stop(mut self) -> (i32, Vec<String>) {
        let mut child = self.child.take().unwrap();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let status = child.wait().unwrap();
        let log: Vec<String> = self.log.try_iter().collect();
        (status.code().unwrap_or(-1), log)
    }
}

/// The HTTP client of the end-to-end tests (ureq): every status is an
/// answer, redirects are not followed, no request waits over 30 s.
fn agent() -> &'static ureq::Agent {
    static AGENT: std::sync::LazyLock<ureq::Agent> = std::sync::LazyLock::new(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into()
    });
    &AGENT
}

/// One request as the admin of the server at `addr` unless `headers`
/// carry an authorization: (status, headers as `name: value` lines,
/// body); `None` when the connection fails (the server is gone).
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String, String)> {
    request_on(agent(), addr, method, path, headers, body)
}

/// [`request`] through `agent` (its own connections: kept alive or not).
pub fn request_on(
    agent: &ureq::Agent,
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String, String)> {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        && let Some(t) = TOKENS.lock().unwrap().get(addr)
    {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut r = if body.is_empty() {
        agent.run(req.body(()).ok()?)
    } else {
        agent.run(req.body(body.as_bytes()).ok()?)
    }
    .ok()?;
    let mut head = String::new();
    for (k, v) in r.headers() {
        let _ = writeln!(head, "{k}: {}", String::from_utf8_lossy(v.as_bytes()));
    }
    // Binary bodies (tiles) come back lossily as text.
    let bytes = r
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .ok()?;
    Some((
        r.status().as_u16(),
        head,
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn ogrinfo(args: &[&str]) -> String {
    let out = Command::new("ogrinfo")
        .args(args)
        .output()
        .expect("ogrinfo (gdal-bin) is installed");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ogrinfo {args:?} failed:\n{text}");
    text
}

#[test]
fn the_store_is_a_geopackage_that_gdal_reads_with_layers_counts_types_and_srs() {
    let dir = tmp_dir("gpkg_gdal");
    let db = dir.join("d.gpkg");
    let r = gridgov(&["sample", "--out", s(&db)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let all = ogrinfo(&["-ro", "-q", s(&db)]);
    for layer in [
        "streets (Multi Polygon)",
        "communities (Multi Polygon)",
        "grids (Multi Polygon)",
        "buildings (Multi Polygon)",
        "units (Point)",
        "merchants (Point)",
        "cameras (Point)",
        "incidents (Point)",
        "households (None)",
    ] {
        assert!(all.contains(layer), "{layer} missing:\n{all}");
    }
    for (layer, count) in [
        ("grids", 52),
        ("buildings", 453),
        ("merchants", 1100),
        ("cameras", 220),
        ("incidents", 5700),
    ] {
        let info = ogrinfo(&["-ro", "-so", s(&db), layer]);
        assert!(
            info.contains(&format!("Feature Count: {count}")),
            "{layer}:\n{info}"
        );
        assert!(
            info.contains("ID[\"EPSG\",4326]") || info.contains("AUTHORITY[\"EPSG\",\"4326\"]"),
            "{layer} SRS:\n{info}"
        );
    }
    // The spatial index answers a window query.
    let win = ogrinfo(&[
        "-ro",
        "-so",
        "-spat",
        "117.55",
        "34.85",
        "117.56",
        "34.86",
        s(&db),
        "incidents",
    ]);
    let n: u32 = win
        .split("Feature Count: ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(n > 0 && n < 5700);
    // GDAL's own validity checks pass (no warnings about the GeoPackage).
    assert!(!all.contains("Warning"), "{all}");
    // And the CLI reads the same file.
    let r = gridgov(&["stats", "--db", s(&db), "--level", "street", "--json"]);
    assert_eq!(r.json()[0]["counts"]["buildings"], 453);
    // A store is never overwritten.
    let r = gridgov(&["sample", "--out", s(&db)]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
}

#[test]
fn a_real_server_answers_gdal_as_an_ogc_api_features_client_and_stops_gracefully() {
    let dir = tmp_dir("serve_oapif");
    let db = dir.join("served.gpkg");
    let server = Server::start(s(&db));
    assert!(db.exists(), "the store is created from the seed");
    let (status, body) = server.get("/health");
    assert_eq!(status, 200, "{body}");
    let url = format!("OAPIF:http://{}", server.addr);
    let bearer = format!("Authorization: Bearer {}", server.token);
    // Without the token GDAL is refused.
    let out = Command::new("ogrinfo")
        .args(["-ro", "-q", &url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let layers = ogrinfo(&["--config", "GDAL_HTTP_HEADERS", &bearer, "-ro", "-q", &url]);
    assert!(
        layers.contains("grids") && layers.contains("incidents"),
        "{layers}"
    );
    let grids = ogrinfo(&[
        "--config",
        "GDAL_HTTP_HEADERS",
        &bearer,
        "-ro",
        "-so",
        &url,
        "grids",
    ]);
    assert!(grids.contains("Feature Count: 52"), "{grids}");
    assert!(grids.contains("Multi Polygon"), "{grids}");
    // Paging through next links: GDAL fetches all 5,700 incidents.
    let out = dir.join("incidents.geojson");
    let st = Command::new("ogr2ogr")
        .args(["--config", "GDAL_HTTP_HEADERS", &bearer])
        .args(["-f", "GeoJSON", s(&out), &url, "incidents"])
        .status()
        .expect("ogr2ogr");
    assert!(st.success());
    let fc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(fc["features"].as_array().unwrap().len(), 5700);
    let (status, body) = server.get("/lookup?lon=117.55&lat=34.86");
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.get("/lookup?lon=x&lat=1");
    assert_eq!(status, 400, "{body}");
    let (code, log) = server.stop();
    assert_eq!(code, 0, "{log:?}");
    assert!(log.iter().any(|l| l.contains("stopped")), "{log:?}");
}

pub fn etag(headers: &str) -> Option<String> {
    headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("etag: ")
                .or_else(|| l.strip_prefix("ETag: "))
        })
        .map(|v| v.trim().to_string())
}

/// The grid the crash tests publish over and over.
pub const CRASH_GRID: &str = "370402005001001";

/// Every acknowledged version is listed by the server, and versions run
/// 1..=latest without a gap. Returns the latest.
pub fn versions_hold(server: &Server, acknowledged: &[i64]) -> i64 {
    let (status, body) = server.get("/versions");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let have: Vec<i64> = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["version"].as_i64().unwrap())
        .collect();
    for a in acknowledged {
        assert!(have.contains(a), "acknowledged version {a} is lost");
    }
    let latest = *have.iter().max().unwrap();
    assert_eq!(
        have,
        (1..=latest).collect::<Vec<_>>(),
        "versions are gapless"
    );
    latest
}

/// Publishes in a loop against a server over `db`, killing it with
/// SIGKILL three times, then checks through the API that every
/// acknowledged version is there, gapless, and the grid's `ETag` is the
/// latest. Returns the latest version.
fn publish_through_kill_minus_9(db: &str) -> i64 {
    let code = CRASH_GRID;
    let mut acknowledged: Vec<i64> = Vec::new();
    for round in 0..3 {
        let server = Server::start(db);
        let addr = server.addr.clone();
        // A writer publishes as fast as it can; the server is killed under
        // it once it has acknowledged a few (however slow the machine).
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = count.clone();
        let writer = std::thread::spawn(move || {
            let mut acks = Vec::new();
            for i in 0..10_000 {
                let Some((200, h, f)) = request(&addr, "GET", &format!("/grids/{code}"), &[], "")
                else {
                    break;
                };
                let tag = etag(&h).unwrap();
                let f: serde_json::Value = serde_json::from_str(&f).unwrap();
                let body = serde_json::json!({"geometry": f["geometry"], "reason": format!("round {round} publish {i}")}).to_string();
                match request(
                    &addr,
                    "PUT",
                    &format!("/grids/{code}"),
                    &[("If-Match", &tag), ("Content-Type", "application/json")],
                    &body,
                ) {
                    Some((200, _, b)) => {
                        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
                        acks.push(v["published"]["version"].as_i64().unwrap());
                        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    Some((status, _, b)) => panic!("publish answered {status}: {b}"),
                    None => break, // killed mid-request: not acknowledged
                }
            }
            acks
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        while count.load(std::sync::atomic::Ordering::SeqCst) < 2 + round as usize
            && Instant::now() < deadline
            && !writer.is_finished()
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(37 * round));
        let mut child = server.kill9();
        let _ = child.wait();
        let acks = writer.join().unwrap();
        assert!(
            !acks.is_empty(),
            "round {round}: no publish was acknowledged before the kill"
        );
        acknowledged.extend(acks);
    }
    // Restart: every acknowledged version is there, and the store agrees with itself.
    let server = Server::start(db);
    let latest = versions_hold(&server, &acknowledged);
    let (_, h, _) = request(&server.addr, "GET", &format!("/grids/{code}"), &[], "").unwrap();
    assert_eq!(etag(&h).unwrap(), format!("\"{latest}\""));
    drop(server);
    latest
}

#[test]
fn every_acknowledged_publish_survives_kill_minus_9_and_the_store_stays_consistent() {
    let dir = tmp_dir("crash");
    let db = dir.join("crash.gpkg");
    let code = CRASH_GRID;
    publish_through_kill_minus_9(s(&db));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    // The live layer holds the latest version of the grid.
    let (live, hist): (Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT g.geom, h.geom FROM grids g JOIN grid_history h ON h.code = g.code WHERE g.code = ?1 ORDER BY h.version DESC LIMIT 1",
            [code],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(live, hist);
    let rtree: i64 = conn
        .query_row("SELECT count(*) FROM rtree_grids_geom", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rtree, 52);
}

#[test]
fn on_postgis_every_acknowledged_publish_survives_kill_minus_9() {
    let Some(url) = postgis_database("crash") else {
        return;
    };
    let latest = publish_through_kill_minus_9(&url);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let row = c
        .query_one(
            "SELECT ST_Equals(g.geom, h.geom), h.version FROM grids g JOIN grid_history h ON h.code = g.code
             WHERE g.code = $1 ORDER BY h.version DESC LIMIT 1",
            &[&CRASH_GRID],
        )
        .unwrap();
    assert!(row.get::<_, bool>(0), "the live grid is its latest version");
    assert_eq!(row.get::<_, i64>(1), latest);
    let n: i64 = c
        .query_one("SELECT count(*) FROM grids", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 52);
}

#[test]
fn two_replicas_over_one_postgis_stay_in_step_and_gdal_reads_both_the_database_and_the_api() {
    let Some(url) = postgis_database("replicas") else {
        return;
    };
    let a = Server::start(&url);
    let b = Server::start(&url);
    // GDAL reads the PostGIS tables directly…
    let (host_db, _) = url.rsplit_once('/').unwrap();
    let port = host_db.rsplit(':').next().unwrap();
    let dbname = url.rsplit('/').next().unwrap();
    let pg = format!("PG:host=127.0.0.1 port={port} user=postgres dbname={dbname}");
    let info = ogrinfo(&["-ro", "-so", &pg, "grids"]);
    assert!(info.contains("Feature Count: 52"), "{info}");
    assert!(info.contains("Multi Polygon"), "{info}");
    // …and each replica as an OGC API – Features client.
    for srv in [&a, &b] {
        let url = format!("OAPIF:http://{}", srv.addr);
        let bearer = format!("Authorization: Bearer {}", srv.token);
        let grids = ogrinfo(&[
            "--config",
            "GDAL_HTTP_HEADERS",
            &bearer,
            "-ro",
            "-so",
            &url,
            "grids",
        ]);
        assert!(grids.contains("Feature Count: 52"), "{grids}");
    }
    // A publish on replica a reaches replica b within moments.
    let code = CRASH_GRID;
    let (_, h, f) = request(&a.addr, "GET", &format!("/grids/{code}"), &[], "").unwrap();
    let f: serde_json::Value = serde_json::from_str(&f).unwrap();
    let body = serde_json::json!({"geometry": f["geometry"], "reason": "rename", "name": "新名字"})
        .to_string();
    let tag = etag(&h).unwrap();
    let (status, _, reply) = request(
        &a.addr,
        "PUT",
        &format!("/grids/{code}"),
        &[("If-Match", &tag), ("Content-Type", "application/json")],
        &body,
    )
    .unwrap();
    assert_eq!(status, 200, "{reply}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, h, _) = request(&b.addr, "GET", &format!("/grids/{code}"), &[], "").unwrap();
        if etag(&h).unwrap() == "\"2\"" {
            break;
        }
        assert!(Instant::now() < deadline, "replica b never saw version 2");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The old ETag is stale on b too: 412, never a silent overwrite.
    let (status, _, reply) = request(
        &b.addr,
        "PUT",
        &format!("/grids/{code}"),
        &[("If-Match", &tag), ("Content-Type", "application/json")],
        &body,
    )
    .unwrap();
    assert_eq!(status, 412, "{reply}");
    let (code_a, _) = a.stop();
    let (code_b, _) = b.stop();
    assert_eq!((code_a, code_b), (0, 0));
}
