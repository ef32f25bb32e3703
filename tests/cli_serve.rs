use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{gridgov, repo, s, tmp_dir};

/// A `gridgov serve` on an ephemeral port, stopped (SIGTERM) when dropped.
pub struct Server {
    child: Option<Child>,
    pub addr: String,
    log: std::sync::mpsc::Receiver<String>,
}

impl Server {
    pub fn start(db: &std::path::Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gridgov"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--db",
                s(db),
                "--seed",
                s(&repo().join("data/sample-district.json")),
            ])
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
                return Server {
                    child: Some(child),
                    addr,
                    log: rx,
                };
            }
        }
    }

    /// A plain HTTP/1.1 GET: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut c = TcpStream::connect(&self.addr).unwrap();
        write!(
            c,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
        let body = out
            .split_once("\r\n\r\n")
            .map(|x| x.1.to_string())
            .unwrap_or_default();
        (status, body)
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
    let server = Server::start(&db);
    assert!(db.exists(), "the store is created from the seed");
    let (status, body) = server.get("/health");
    assert_eq!(status, 200, "{body}");
    let url = format!("OAPIF:http://{}", server.addr);
    let layers = ogrinfo(&["-ro", "-q", &url]);
    assert!(
        layers.contains("grids") && layers.contains("incidents"),
        "{layers}"
    );
    let grids = ogrinfo(&["-ro", "-so", &url, "grids"]);
    assert!(grids.contains("Feature Count: 52"), "{grids}");
    assert!(grids.contains("Multi Polygon"), "{grids}");
    // Paging through next links: GDAL fetches all 5,700 incidents.
    let out = dir.join("incidents.geojson");
    let st = Command::new("ogr2ogr")
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
