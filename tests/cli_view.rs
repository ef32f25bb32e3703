//! The one-screen window under Xvfb: it opens, draws the map (checked on
//! a screenshot of the X screen), and follows a publish on the service.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli_serve::{Server, request};
use crate::util::{s, tmp_dir};

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// An X server of its own on a free display number.
fn xvfb() -> Option<(Killed, String)> {
    if !(have("Xvfb") && have("import")) {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI installs Xvfb and ImageMagick for the window test"
        );
        eprintln!("skipped: Xvfb or ImageMagick's import is not installed");
        return None;
    }
    for n in 180..220 {
        if std::path::Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            continue;
        }
        let child = Command::new("Xvfb")
            .args([
                &format!(":{n}"),
                "-screen",
                "0",
                "1024x700x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts");
        let x = Killed(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::path::Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return Some((x, format!(":{n}")));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("no free X display for Xvfb");
}

fn wait_for(rx: &std::sync::mpsc::Receiver<String>, what: &str, secs: u64, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let hit = line.contains(what);
        seen.push(line);
        if hit {
            return;
        }
    }
    panic!(
        "the viewer did not log {what:?} within {secs} s:\n{}",
        seen.join("\n")
    );
}

#[test]
fn the_window_draws_the_map_and_shows_a_publish_and_a_new_incident_within_seconds() {
    let Some((_x, display)) = xvfb() else { return };
    let dir = tmp_dir("view");
    let server = Server::start(s(&dir.join("view.gpkg")));
    let viewer = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args([
            "view",
            "--server",
            &format!("http://{}", server.addr),
            "--token",
            &server.token,
            "--size",
            "1000x680",
            "--poll",
            "0.5",
            "--close-after",
            "120",
        ])
        .env("DISPLAY", &display)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gridgov view starts");
    let mut viewer = Killed(viewer);
    let stderr = viewer.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    wait_for(&rx, "loaded version 1", 60, &mut seen);
    wait_for(&rx, "drawn with the map at version 1", 60, &mut seen);
    // The frame is on the X screen.
    std::thread::sleep(Duration::from_millis(500));
    let shot = dir.join("screen.png");
    let st = Command::new("import")
        .args(["-display", &display, "-window", "root", s(&shot)])
        .status()
        .expect("import runs");
    assert!(st.success());
    let img = image::open(&shot).unwrap().to_rgba8();
    let colours: std::collections::HashSet<[u8; 4]> = img.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 300, "{} colours on screen", colours.len());
    // The grid fill's green is on screen: the map, not only the panels.
    let green = img
        .pixels()
        .filter(|p| {
            p.0[0].abs_diff(0xd6) < 12 && p.0[1].abs_diff(0xe6) < 12 && p.0[2].abs_diff(0xd0) < 12
        })
        .count();
    assert!(green > 10_000, "{green} grid-fill pixels");

    // A publish on the service (the same boundary, a new version).
    let code = "370402005001001";
    let (_, head, body) = request(&server.addr, "GET", &format!("/grids/{code}"), &[], "").unwrap();
    let etag = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("etag:")
                .then(|| l[5..].trim().to_string())
        })
        .expect("an ETag");
    let grid: serde_json::Value = serde_json::from_str(&body).unwrap();
    let put = serde_json::json!({
        "geometry": grid["geometry"],
        "reason": "republish",
    });
    let (status, _, body) = request(
        &server.addr,
        "PUT",
        &format!("/grids/{code}"),
        &[("Content-Type", "application/json"), ("If-Match", &etag)],
        &put.to_string(),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let t = Instant::now();
    wait_for(&rx, "drawn with the map at version 2", 20, &mut seen);
    eprintln!(
        "the viewer showed version 2 {:.1} s after the publish",
        t.elapsed().as_secs_f64()
    );

    // A new incident reaches the window without any boundary change.
    let revision = |line: &str| {
        line.split("incident revision ")
            .nth(1)
            .and_then(|r| r.trim().parse::<i64>().ok())
    };
    let before = seen
        .iter()
        .rev()
        .find(|l| l.contains("drawn with the map at version 2"))
        .and_then(|l| revision(l))
        .expect("the frame line names the incident revision");
    let (status, _, body) = request(
        &server.addr,
        "POST",
        "/incidents",
        &[("Content-Type", "application/json")],
        r#"{"lon": 117.552, "lat": 34.861, "category": "road", "source": "patrol", "description": "井盖缺失"}"#,
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let t = Instant::now();
    let deadline = t + Duration::from_secs(20);
    loop {
        let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) else {
            panic!(
                "the new incident did not reach the window within 20 s:\n{}",
                seen.join("\n")
            );
        };
        let hit = line.contains("drawn with the map at version 2")
            && revision(&line).is_some_and(|r| r != before);
        seen.push(line);
        if hit {
            break;
        }
    }
    eprintln!(
        "the viewer showed the new incident {:.1} s after it was filed",
        t.elapsed().as_secs_f64()
    );
    drop(viewer);
    server.stop();
}
