//! Sustained load over loopback: client threads mixing reads (lookups,
//! vector tiles, cases, counts) and writes (filing and stepping cases)
//! against a real server for a minute (`GRIDGOV_LOAD_SECS` to change it).
//! Every answer must be the one expected: zero errors. The rate and
//! latencies are printed (`--nocapture`) for BENCHMARKS.md. Each client
//! keeps its one connection alive, as browsers and phones do;
//! `GRIDGOV_LOAD_KEEPALIVE=0` opens a new connection for every request.

use std::time::{Duration, Instant};

use crate::cli_serve::{Server, request_on};
use crate::util::{s, tmp_dir};

/// One client's tally.
#[derive(Default)]
struct Tally {
    reads: Vec<Duration>,
    writes: Vec<Duration>,
    errors: Vec<String>,
}

fn client(addr: &str, k: u64, until: Instant, keep_alive: bool) -> Tally {
    // One connection kept alive, or none kept (a new one each request).
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .max_idle_connections(usize::from(keep_alive))
        .max_idle_connections_per_host(usize::from(keep_alive))
        .build()
        .into();
    let mut t = Tally::default();
    let mut rng = gridgov_spatial::Rng::new(k + 1);
    let mut mine: Vec<i64> = Vec::new();
    while Instant::now() < until {
        let roll = rng.f64();
        let lon = 117.53 + 0.04 * rng.f64();
        let lat = 34.845 + 0.03 * rng.f64();
        let (method, path, body, want, write) = if roll < 0.35 {
            (
                "GET",
                format!("/lookup?lon={lon:.6}&lat={lat:.6}"),
                String::new(),
                200,
                false,
            )
        } else if roll < 0.55 {
            let (tx, ty) = tile(lon, lat, 15);
            (
                "GET",
                format!("/tiles/all/15/{tx}/{ty}.mvt"),
                String::new(),
                200,
                false,
            )
        } else if roll < 0.65 {
            let id = 1 + (rng.f64() * 5700.0) as i64;
            ("GET", format!("/incidents/{id}"), String::new(), 200, false)
        } else if roll < 0.70 {
            (
                "GET",
                "/stats/incidents?level=grid&period=2026-10".into(),
                String::new(),
                200,
                false,
            )
        } else if roll < 0.85 || mine.is_empty() {
            let body = format!(
                r#"{{"lon": {lon:.6}, "lat": {lat:.6}, "category": "load", "source": "wechat", "description": "client {k}"}}"#
            );
            ("POST", "/incidents".into(), body, 201, true)
        } else {
            let id = mine.swap_remove((rng.f64() * mine.len() as f64) as usize % mine.len());
            (
                "POST",
                format!("/incidents/{id}/steps"),
                r#"{"action": "accept", "actor": "load"}"#.into(),
                201,
                true,
            )
        };
        let t0 = Instant::now();
        let r = request_on(
            &agent,
            addr,
            method,
            &path,
            &[("Content-Type", "application/json")],
            &body,
        );
        let dt = t0.elapsed();
        match r {
            Some((status, _, b)) if status == want => {
                if path == "/incidents"
                    && let Some(id) = serde_json::from_str::<serde_json::Value>(&b)
                        .ok()
                        .and_then(|v| v["id"].as_i64())
                {
                    mine.push(id);
                }
                if write {
                    t.writes.push(dt);
                } else {
                    t.reads.push(dt);
                }
            }
            Some((status, _, b)) => t.errors.push(format!(
                "{method} {path} → {status}: {}",
                b.chars().take(200).collect::<String>()
            )),
            None => t.errors.push(format!("{method} {path} → no answer")),
        }
    }
    t
}

fn tile(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
    (x, y)
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i].as_secs_f64() * 1000.0
}

#[test]
fn a_minute_of_mixed_reads_and_writes_over_loopback_has_no_errors() {
    let secs: u64 = std::env::var("GRIDGOV_LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let clients: u64 = std::env::var("GRIDGOV_LOAD_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let keep_alive = std::env::var("GRIDGOV_LOAD_KEEPALIVE").map_or(true, |v| v != "0");
    let dir = tmp_dir("load");
    let db = dir.join("load.gpkg");
    let server = Server::start_with(s(&db), &["--rate-limit", "0"]);
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|k| {
            let a = server.addr.clone();
            std::thread::spawn(move || client(&a, k, until, keep_alive))
        })
        .collect();
    let mut all = Tally::default();
    for h in handles {
        let t = h.join().unwrap();
        all.reads.extend(t.reads);
        all.writes.extend(t.writes);
        all.errors.extend(t.errors);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (nr, nw) = (all.reads.len(), all.writes.len());
    let mut both: Vec<Duration> = all.reads.iter().chain(&all.writes).copied().collect();
    eprintln!(
        "load: {secs} s, {clients} clients ({}): {} requests ({nr} reads, {nw} writes), {:.0} requests/s; \
         p50 {:.1} ms, p99 {:.1} ms (reads p99 {:.1} ms, writes p99 {:.1} ms); {} errors",
        if keep_alive {
            "connections kept alive"
        } else {
            "a new connection each request"
        },
        nr + nw,
        (nr + nw) as f64 / elapsed,
        pct(&mut both, 0.50),
        pct(&mut both, 0.99),
        pct(&mut all.reads, 0.99),
        pct(&mut all.writes, 0.99),
        all.errors.len()
    );
    assert!(
        all.errors.is_empty(),
        "{} errors, the first: {:?}",
        all.errors.len(),
        &all.errors[..all.errors.len().min(5)]
    );
    assert!(nw > 0 && nr > 0);
    let (code, _) = server.stop();
    assert_eq!(code, 0, "the server stops cleanly after the load");
}
