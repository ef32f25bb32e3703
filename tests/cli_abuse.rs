//! A running `gridgov serve` against clients that hold connections, send
//! slowly or ask for costly work: nobody else may be kept out.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::cli_serve::Server;
use crate::util::{s, tmp_dir};

/// A connection to `addr` from `from` (a loopback address of its own, so
/// the server sees another client).
fn connect_from(from: &str, addr: &str) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr: SocketAddr = addr.parse().unwrap();
    let s = rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind(format!("{from}:0").parse().unwrap()).unwrap();
        sock.connect(addr).await.unwrap()
    });
    let s = s.into_std().unwrap();
    s.set_nonblocking(false).unwrap();
    s
}

/// `GET /health` from `from` on a fresh connection: (status line, time).
fn health_from(from: &str, addr: &str) -> (String, Duration) {
    let t = Instant::now();
    let mut c = connect_from(from, addr);
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    (out.lines().next().unwrap_or("").to_string(), t.elapsed())
}

/// What a connection has received until the server closed it (or
/// `None` when it is still open after `wait`).
fn closed_within(c: &mut TcpStream, wait: Duration) -> Option<String> {
    c.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&got).into_owned());
            }
            Err(_) => return None,
        }
    }
}

#[test]
fn one_address_holding_two_thousand_idle_connections_keeps_nobody_else_out() {
    gridgov_service::conn::raise_file_limit();
    let dir = tmp_dir("idle-connections");
    let db = dir.join("t.gpkg");
    let server = Server::start_with(
        s(&db),
        &[
            "--max-connections-per-client",
            "64",
            "--header-timeout",
            "8",
        ],
    );
    // 2,000 connections from one address, each sending one header line
    // and then nothing.
    let mut held: Vec<TcpStream> = (0..2000)
        .map(|_| {
            let mut c = connect_from("127.0.0.1", &server.addr);
            c.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
            c
        })
        .collect();
    let (status, took) = health_from("127.0.0.2", &server.addr);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(took < Duration::from_secs(1), "/health took {took:?}");
    // All but 64 were refused at once, with a problem naming the option
    // (given a moment to be written on a busy machine).
    std::thread::sleep(Duration::from_millis(500));
    let mut refused = 0;
    let mut open = Vec::new();
    for (i, c) in held.iter_mut().enumerate() {
        match closed_within(c, Duration::from_millis(1)) {
            Some(text) => {
                assert!(text.starts_with("HTTP/1.1 429"), "{text}");
                assert!(text.contains("--max-connections-per-client"), "{text}");
                refused += 1;
            }
            None => open.push(i),
        }
    }
    assert_eq!(refused, 2000 - 64, "{} left open", open.len());
    // The 64 that got in are cut off once their header is 8 s late
    // (counted from their connecting, before the checks above).
    let t = Instant::now();
    for i in open {
        assert!(
            closed_within(&mut held[i], Duration::from_secs(15)).is_some(),
            "connection {i} still open after {:?}",
            t.elapsed()
        );
    }
    assert!(t.elapsed() < Duration::from_secs(12), "{:?}", t.elapsed());
    // And the same address may connect again.
    assert_eq!(health_from("127.0.0.1", &server.addr).0, "HTTP/1.1 200 OK");
}

#[test]
fn a_client_trickling_its_header_or_idling_between_requests_is_cut_off() {
    let dir = tmp_dir("trickle");
    let db = dir.join("t.gpkg");
    let server = Server::start_with(s(&db), &["--header-timeout", "2"]);
    // One header line every half second: the head is never finished.
    let mut c = connect_from("127.0.0.1", &server.addr);
    c.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
    let t = Instant::now();
    let mut cut = None;
    for i in 0..40 {
        std::thread::sleep(Duration::from_millis(500));
        if c.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
            .is_err()
        {
            cut = Some(t.elapsed());
            break;
        }
        if closed_within(&mut c, Duration::from_millis(1)).is_some() {
            cut = Some(t.elapsed());
            break;
        }
    }
    let cut = cut.expect("a trickling client stays connected for 20 s");
    assert!(cut < Duration::from_secs(6), "cut off after {cut:?}");
    // A kept-alive connection is answered, then closed when idle.
    let mut k = connect_from("127.0.0.1", &server.addr);
    k.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 4096];
    k.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = k.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let t = Instant::now();
    assert!(closed_within(&mut k, Duration::from_secs(10)).is_some());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn past_the_total_cap_a_new_connection_is_told_to_come_back() {
    let dir = tmp_dir("total-cap");
    let db = dir.join("t.gpkg");
    let server = Server::start_with(
        s(&db),
        &["--max-connections", "20", "--header-timeout", "5"],
    );
    let held: Vec<TcpStream> = (0..20)
        .map(|i| connect_from(&format!("127.0.1.{}", i + 1), &server.addr))
        .collect();
    // Let the server count them all.
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = connect_from("127.0.2.1", &server.addr);
    let text = closed_within(&mut extra, Duration::from_secs(5)).expect("refused at once");
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("--max-connections"), "{text}");
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(health_from("127.0.2.1", &server.addr).0, "HTTP/1.1 200 OK");
}

/// CPU seconds process `pid` has used (all its threads).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[test]
fn a_hot_spot_question_too_costly_is_refused_and_an_abandoned_one_stops() {
    let dir = tmp_dir("abandoned");
    let db = dir.join("t.gpkg");
    let server = Server::start(s(&db));
    // The question from the field: refused at once, naming what to change.
    let (status, body) = server
        .get("/hotspots?period=2026-11&method=lattice&cell_m=30&permutations=99999&weeks=104");
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("over the limit") && body.contains("cell_m"),
        "{body}"
    );
    // A costly question within the limit, abandoned after a second.
    let mut c = TcpStream::connect(&server.addr).unwrap();
    write!(
        c,
        "GET /hotspots?period=2026-11&method=lattice&cell_m=150&permutations=99999&weeks=8 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        server.token
    )
    .unwrap();
    let before = cpu_seconds(server.pid());
    std::thread::sleep(Duration::from_secs(1));
    let busy = cpu_seconds(server.pid()) - before;
    assert!(
        busy > 0.2,
        "the question did not keep the server busy ({busy} s)"
    );
    drop(c);
    std::thread::sleep(Duration::from_secs(1));
    let t = cpu_seconds(server.pid());
    std::thread::sleep(Duration::from_secs(2));
    let after = cpu_seconds(server.pid()) - t;
    assert!(
        after < 0.3,
        "{after} s of CPU in the 2 s after the client left"
    );
    assert_eq!(server.get("/health").0, 200);
}

#[test]
fn two_forty_thousand_vertex_drafts_are_checked_while_others_are_answered() {
    use crate::cli_serve::request;
    let dir = tmp_dir("big-drafts");
    let db = dir.join("t.gpkg");
    let server = Server::start(s(&db));
    let n = 40_000;
    let mut ring: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i) / f64::from(n);
            let r = 1.0 + 0.01 * (f64::from(i) * 0.1).sin();
            [117.526 + 0.002 * r * a.cos(), 34.866 + 0.0016 * r * a.sin()]
        })
        .collect();
    ring.push(ring[0]);
    let body = serde_json::json!({
        "reason": "a very detailed boundary",
        "changes": [{"code": "370402005001001", "geometry": {"type": "Polygon", "coordinates": [ring]}}],
    })
    .to_string();
    let addr = server.addr.clone();
    let drafts: Vec<_> = (0..2)
        .map(|_| {
            let (addr, body) = (addr.clone(), body.clone());
            std::thread::spawn(move || {
                let (st, _, b) = request(&addr, "POST", "/drafts", &[], &body).unwrap();
                assert_eq!(st, 201, "{b}");
                let v: serde_json::Value = serde_json::from_str(&b).unwrap();
                let id = v["id"].as_str().unwrap().to_string();
                request(&addr, "GET", &format!("/drafts/{id}/validate"), &[], "").unwrap()
            })
        })
        .collect();
    let mut worst = Duration::ZERO;
    while drafts.iter().any(|d| !d.is_finished()) {
        let (status, took) = health_from("127.0.0.2", &server.addr);
        assert_eq!(status, "HTTP/1.1 200 OK");
        worst = worst.max(took);
        std::thread::sleep(Duration::from_millis(50));
    }
    for d in drafts {
        let (status, _, body) = d.join().unwrap();
        // Checked in full (within the request's time limit): the new
        // boundary overlaps its neighbours, and says so.
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(v["errors"].as_u64().unwrap() > 0, "{body:.300}");
        assert!(!body.contains("is not a valid polygon"), "{body:.300}");
    }
    assert!(worst < Duration::from_secs(1), "/health took {worst:?}");
}

/// The most memory process `pid` has held (`VmHWM`), in MB.
fn peak_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<f64>()
        .unwrap()
        / 1024.0
}

#[test]
fn six_big_batch_lookups_at_once_take_memory_for_two() {
    use crate::cli_serve::request;
    let dir = tmp_dir("big-batches");
    let db = dir.join("t.gpkg");
    let server = Server::start(s(&db));
    let features: Vec<serde_json::Value> = (0..30_000)
        .map(|i| {
            serde_json::json!({
                "type": "Feature", "id": i, "properties": {"note": "a field nobody reads"},
                "geometry": {"type": "Point", "coordinates": [117.526 + f64::from(i % 997) * 1e-6, 34.866 + f64::from(i % 991) * 1e-6]},
            })
        })
        .collect();
    let body = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string();
    assert!(body.len() > 4_000_000, "{} bytes", body.len());
    let before = peak_mb(server.pid());
    let batches: Vec<_> = (0..6)
        .map(|_| {
            let (addr, body) = (server.addr.clone(), body.clone());
            std::thread::spawn(move || {
                request(
                    &addr,
                    "POST",
                    "/lookup/batch",
                    &[("Content-Type", "application/geo+json")],
                    &body,
                )
                .unwrap()
            })
        })
        .collect();
    for b in batches {
        let (status, _, text) = b.join().unwrap();
        assert_eq!(status, 200, "{text:.300}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["count"], 30_000);
        assert!(
            v["results"][5]["grid"].is_string(),
            "{:.300}",
            v["results"][5]
        );
    }
    let grew = peak_mb(server.pid()) - before;
    // More points than a batch takes: refused, naming the limit.
    let many: String = std::iter::once("lon,lat\n".to_string())
        .chain((0..100_001).map(|_| "117.526,34.866\n".to_string()))
        .collect();
    let (status, _, text) = request(
        &server.addr,
        "POST",
        "/lookup/batch",
        &[("Content-Type", "text/csv")],
        &many,
    )
    .unwrap();
    assert_eq!(status, 400, "{text:.300}");
    assert!(text.contains("at most 100000"), "{text:.300}");
    // Six bodies of 4 MB are in memory at once; their work two at a time.
    assert!(grew < 250.0, "peak memory grew by {grew:.0} MB");
    // A batch bigger than the service's body limit (10 MB) streams in
    // under the batch limit and is answered.
    let features: Vec<serde_json::Value> = (0..90_000)
        .map(|i| {
            serde_json::json!({
                "type": "Feature", "id": i, "properties": {"note": "a field nobody reads, of some length"},
                "geometry": {"type": "Point", "coordinates": [117.526 + f64::from(i % 997) * 1e-6, 34.866]},
            })
        })
        .collect();
    let body = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string();
    assert!(body.len() > 10 * 1024 * 1024, "{} bytes", body.len());
    let (status, _, text) = request(
        &server.addr,
        "POST",
        "/lookup/batch",
        &[("Content-Type", "application/geo+json")],
        &body,
    )
    .unwrap();
    assert_eq!(status, 200, "{text:.300}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["count"], 90_000);
}

#[test]
fn a_batch_sent_too_slowly_is_cut_off_at_the_request_time_and_others_are_served() {
    let dir = tmp_dir("slow-batch");
    let db = dir.join("t.gpkg");
    let server = Server::start_with(s(&db), &["--request-timeout", "2"]);
    let mut c = connect_from("127.0.0.2", &server.addr);
    let head = format!(
        "POST /lookup/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: text/csv\r\nContent-Length: 1000000\r\n\r\nlon,lat\n117.526,34.866\n",
        server.token
    );
    let t = Instant::now();
    c.write_all(head.as_bytes()).unwrap();
    // … and then nothing more: the answer comes when the request's time
    // is up, not never.
    let got = closed_within(&mut c, Duration::from_secs(15)).unwrap_or_default();
    let status = got.lines().next().unwrap_or("").to_string();
    assert!(
        status.contains(" 408 ") || status.contains(" 503 "),
        "{status:?} after {:?}",
        t.elapsed()
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let (ok, _) = health_from("127.0.0.3", &server.addr);
    assert!(ok.contains(" 200 "), "{ok}");
}

#[test]
fn a_store_is_its_owner_s_alone_and_a_damaged_one_is_refused_and_reported() {
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;
    let dir = tmp_dir("damaged");
    let db = dir.join("t.gpkg");
    let server = Server::start(s(&db));
    for f in [db.clone(), dir.join("t.gpkg-wal")] {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: {mode:o}", f.display());
    }
    server.stop();
    let check = |db: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_gridgov"))
            .args(["check", "--db", s(db)])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = check(&db);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("no damage"), "{text}");
    // A store readable by others (copied, or from an older version) is
    // tightened when opened.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let server = Server::start(s(&db));
    server.stop();
    assert_eq!(
        std::fs::metadata(&db).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Damage in the middle of the file: `check` lists it, and the service
    // will not open it (so nothing more is written to it).
    let n = std::fs::metadata(&db).unwrap().len();
    let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(n / 2)).unwrap();
    f.write_all(&[0xff; 8192]).unwrap();
    drop(f);
    let (code, text) = check(&db);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("damaged") && text.contains("page"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args(["serve", "--addr", "127.0.0.1:0", "--db", s(&db)])
        .args([
            "--seed",
            s(&crate::util::repo().join("data/sample-district.json")),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("damaged") && err.contains("backup"), "{err}");
}

#[test]
fn an_overlong_address_or_head_is_refused_as_a_problem() {
    let dir = tmp_dir("long-head");
    let db = dir.join("t.gpkg");
    let server = Server::start(s(&db));
    let ask = |head: String| {
        let mut c = TcpStream::connect(&server.addr).unwrap();
        c.write_all(head.as_bytes()).unwrap();
        closed_within(&mut c, Duration::from_secs(10)).expect("answered and closed")
    };
    let long_uri = format!(
        "GET /lookup?address={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(9000)
    );
    let text = ask(long_uri);
    assert!(text.starts_with("HTTP/1.1 414"), "{text:.200}");
    assert!(
        text.contains("application/problem+json") && text.contains("at most 8192"),
        "{text}"
    );
    let big_header = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(40_000)
    );
    let text = ask(big_header);
    assert!(text.starts_with("HTTP/1.1 431"), "{text:.200}");
    assert!(text.contains("application/problem+json"), "{text}");
}
