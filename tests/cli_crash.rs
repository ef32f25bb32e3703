//! Crash consistency under a mixed write load: cases filed and stepped
//! while boundaries are published, the server killed with SIGKILL in the
//! middle, restarted, and every acknowledged write looked for.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::cli_serve::{CRASH_GRID, Server, etag, request, versions_hold};
use crate::util::{postgis_database, s, tmp_dir};

/// What the clients were told was done.
#[derive(Default)]
struct Acks {
    /// Case id → the step count acknowledged.
    cases: Vec<(i64, u64)>,
    /// Boundary versions acknowledged.
    versions: Vec<i64>,
}

fn json(b: &str) -> serde_json::Value {
    serde_json::from_str(b).unwrap_or_else(|e| panic!("not JSON ({e}): {b}"))
}

/// Files cases and accepts them, as fast as it can, until the server is
/// gone.
fn filer(addr: &str, done: &AtomicUsize, k: usize) -> Vec<(i64, u64)> {
    let mut acks = Vec::new();
    for i in 0..100_000 {
        let body = format!(
            r#"{{"lon": {}, "lat": 34.862, "category": "crash_{k}", "source": "patrol", "description": "write {i}"}}"#,
            117.545 + 0.0001 * (i % 50) as f64
        );
        let Some((status, _, b)) = request(
            addr,
            "POST",
            "/incidents",
            &[("Content-Type", "application/json")],
            &body,
        ) else {
            break;
        };
        assert_eq!(status, 201, "filing answered {status}: {b}");
        let id = json(&b)["id"].as_i64().unwrap();
        acks.push((id, 0));
        done.fetch_add(1, Ordering::SeqCst);
        let Some((status, _, b)) = request(
            addr,
            "POST",
            &format!("/incidents/{id}/steps"),
            &[("Content-Type", "application/json")],
            r#"{"action": "accept", "actor": "crash"}"#,
        ) else {
            break;
        };
        assert_eq!(status, 201, "the step answered {status}: {b}");
        let seq = json(&b)["state"]["seq"].as_u64().unwrap();
        acks.last_mut().unwrap().1 = seq;
    }
    acks
}

/// Publishes one grid again and again until the server is gone.
fn publisher(addr: &str, done: &AtomicUsize) -> Vec<i64> {
    let mut acks = Vec::new();
    for i in 0..100_000 {
        let Some((200, h, f)) = request(addr, "GET", &format!("/grids/{CRASH_GRID}"), &[], "")
        else {
            break;
        };
        let tag = etag(&h).unwrap();
        let f = json(&f);
        let body = serde_json::json!({"geometry": f["geometry"], "reason": format!("publish {i}")})
            .to_string();
        match request(
            addr,
            "PUT",
            &format!("/grids/{CRASH_GRID}"),
            &[("If-Match", &tag), ("Content-Type", "application/json")],
            &body,
        ) {
            Some((200, _, b)) => {
                acks.push(json(&b)["published"]["version"].as_i64().unwrap());
                done.fetch_add(1, Ordering::SeqCst);
            }
            Some((status, _, b)) => panic!("publish answered {status}: {b}"),
            None => break,
        }
    }
    acks
}

/// Two rounds of mixed writes each ended by SIGKILL; then checks through
/// the API that every acknowledged case and step is there, that each
/// case's stored status is the replay of its history, that ids are dense
/// and versions gapless.
fn mixed_writes_through_kill_minus_9(db: &str) {
    let mut acks = Acks::default();
    for round in 0..2u64 {
        let server = Server::start(db);
        let done = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..2)
            .map(|k| {
                let (a, d) = (server.addr.clone(), done.clone());
                std::thread::spawn(move || filer(&a, &d, k))
            })
            .collect();
        let published = Arc::new(AtomicUsize::new(0));
        let publish = {
            let (a, d) = (server.addr.clone(), published.clone());
            std::thread::spawn(move || publisher(&a, &d))
        };
        // Writes of both kinds acknowledged before the kill: cases are
        // filed much faster than a publish takes, so wait for each.
        let deadline = Instant::now() + Duration::from_secs(120);
        while (done.load(Ordering::SeqCst) < 12 || published.load(Ordering::SeqCst) < 1)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(23 * round));
        let mut child = server.kill9();
        let _ = child.wait();
        for w in writers {
            acks.cases.extend(w.join().unwrap());
        }
        acks.versions.extend(publish.join().unwrap());
    }
    assert!(acks.cases.len() >= 4, "too few writes acknowledged");
    assert!(!acks.versions.is_empty(), "no publish acknowledged");

    let server = Server::start(db);
    for &(id, seq) in &acks.cases {
        let (status, b) = server.get(&format!("/incidents/{id}"));
        assert_eq!(status, 200, "acknowledged case {id} is lost: {b}");
        let v = json(&b);
        assert!(
            v["state"]["seq"].as_u64().unwrap() >= seq,
            "case {id}: acknowledged step {seq} is lost"
        );
        assert_eq!(
            v["incident"]["status"], v["state"]["status"],
            "case {id}: the stored status is not its history's"
        );
        assert_eq!(
            v["history"].as_array().unwrap().len() as u64,
            v["state"]["seq"].as_u64().unwrap()
        );
    }
    // Every case, acknowledged or not: its stored status is the replay of
    // its history; ids run 1..=n.
    let (status, b) = server.get("/incidents?limit=10000");
    assert_eq!(status, 200);
    let list = json(&b);
    let total = list["total"].as_u64().unwrap();
    let mut ids: Vec<i64> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=total as i64).collect::<Vec<_>>(), "ids are dense");
    for id in ids.iter().filter(|&&i| i > 5700) {
        let v = json(&server.get(&format!("/incidents/{id}")).1);
        assert_eq!(v["incident"]["status"], v["state"]["status"], "case {id}");
    }
    versions_hold(&server, &acks.versions);
}

#[test]
fn every_acknowledged_write_of_a_mixed_load_survives_kill_minus_9() {
    let dir = tmp_dir("crash-mixed");
    let db = dir.join("mixed.gpkg");
    mixed_writes_through_kill_minus_9(s(&db));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn on_postgis_every_acknowledged_write_of_a_mixed_load_survives_kill_minus_9() {
    let Some(url) = postgis_database("crashmixed") else {
        return;
    };
    mixed_writes_through_kill_minus_9(&url);
}
