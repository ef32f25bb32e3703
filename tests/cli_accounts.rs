use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli_serve::{Server, request};
use crate::util::{gridgov, repo, s, tmp_dir};

fn seed() -> String {
    s(&repo().join("data/sample-district.json")).to_owned()
}

#[test]
fn the_first_start_creates_an_admin_with_a_password_shown_once_that_signs_in() {
    let dir = tmp_dir("first_admin");
    let db = dir.join("first.gpkg");
    let start = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_gridgov"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--db",
                s(&db),
                "--seed",
                &seed(),
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = BufReader::new(c.stderr.take().unwrap());
        let mut addr = String::new();
        for line in err.lines().map_while(Result::ok) {
            if line.contains("serving") {
                addr = line
                    .split("addr=")
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .into();
                break;
            }
        }
        (c, addr)
    };
    let (mut c, addr) = start();
    let body = r#"{"name":"admin","password":"not the password"}"#;
    let (status, _, _) = request(
        &addr,
        "POST",
        "/login",
        &[("content-type", "application/json")],
        body,
    )
    .unwrap();
    assert_eq!(status, 401);
    let _ = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status();
    let mut out = String::new();
    c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    c.wait().unwrap();
    let password = out
        .split("created user \"admin\" with password ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password in {out:?}"))
        .to_owned();
    assert!(password.len() >= 16);
    // Only its hash is kept: the store does not hold the password.
    let bytes = std::fs::read(&db).unwrap();
    assert!(
        !bytes
            .windows(password.len())
            .any(|w| w == password.as_bytes())
    );
    // The second start prints nothing of the kind, and the password works.
    let (mut c, addr) = start();
    let body = format!(r#"{{"name":"admin","password":"{password}"}}"#);
    let (status, _, reply) = request(
        &addr,
        "POST",
        "/login",
        &[("content-type", "application/json")],
        &body,
    )
    .unwrap();
    assert_eq!(status, 200, "{reply}");
    let _ = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status();
    let mut out = String::new();
    c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    c.wait().unwrap();
    assert!(!out.contains("password"), "{out}");
}

#[test]
fn users_and_tokens_made_with_the_cli_decide_what_grid_staff_see_over_http() {
    let dir = tmp_dir("cli_accounts");
    let db = dir.join("accounts.gpkg");
    let dbs = s(&db).to_owned();
    let server = Server::start(&dbs);
    // A household and the grid it is in, as the admin sees it.
    let (status, _, body) = request(&server.addr, "GET", "/households?limit=1", &[], "").unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let h = &v["households"][0];
    let (id, grid) = (
        h["id"].as_u64().unwrap(),
        h["grid"].as_str().unwrap().to_owned(),
    );
    // Grid staff are assigned to real grids only.
    let bad = gridgov(&[
        "users",
        "add",
        "zhao",
        "--role",
        "grid_staff",
        "--grid",
        "NOPE",
        "--db",
        &dbs,
        "--seed",
        &seed(),
    ]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("no grid \"NOPE\""), "{}", bad.stderr);
    let add = gridgov(&[
        "users",
        "add",
        "li",
        "--role",
        "grid_staff",
        "--grid",
        &grid,
        "--db",
        &dbs,
        "--seed",
        &seed(),
    ]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(add.stdout.contains("with password "), "{}", add.stdout);
    let list = gridgov(&["users", "list", "--json", "--db", &dbs, "--seed", &seed()]);
    let users = list.json();
    let li = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "li")
        .unwrap();
    assert_eq!(li["role"], "grid_staff");
    assert_eq!(li["grids"][0], grid.as_str());
    let issued = gridgov(&[
        "tokens",
        "issue",
        "li",
        "--days",
        "1",
        "--db",
        &dbs,
        "--seed",
        &seed(),
    ]);
    assert_eq!(issued.code, 0, "{}", issued.stderr);
    let token = issued.stdout.trim().to_owned();
    let bearer = format!("Bearer {token}");
    let auth = [("authorization", bearer.as_str())];
    let (status, _, body) =
        request(&server.addr, "GET", &format!("/households/{id}"), &auth, "").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"masked\":false"), "{body}");
    let (status, _, body) =
        request(&server.addr, "GET", "/households?limit=100000", &auth, "").unwrap();
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        v["households"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["grid"] == grid.as_str())
    );
    let (status, _, _) = request(&server.addr, "GET", "/users", &auth, "").unwrap();
    assert_eq!(status, 403);
    // Revoked on the command line: refused over HTTP within the cache's
    // few seconds.
    let tid = gridgov(&[
        "tokens",
        "list",
        "--user",
        "li",
        "--db",
        &dbs,
        "--seed",
        &seed(),
    ]);
    let line = tid
        .stdout
        .lines()
        .find(|l| l.contains(" li "))
        .unwrap_or_else(|| panic!("{}", tid.stdout));
    let token_id = line.split_whitespace().next().unwrap();
    let rv = gridgov(&[
        "tokens",
        "revoke",
        token_id,
        "--db",
        &dbs,
        "--seed",
        &seed(),
    ]);
    assert_eq!(rv.code, 0, "{}", rv.stderr);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, _, _) = request(&server.addr, "GET", "/versions", &auth, "").unwrap();
        if status == 401 {
            break;
        }
        assert!(Instant::now() < deadline, "a revoked token still works");
        std::thread::sleep(Duration::from_millis(300));
    }
    // The audit log, read with the CLI, has li's full read and the
    // revocation.
    let log = gridgov(&[
        "audit",
        "--json",
        "--limit",
        "500",
        "--db",
        &dbs,
        "--seed",
        &seed(),
    ])
    .json();
    let lines = log.as_array().unwrap();
    assert!(lines.iter().any(|l| l["user"] == "li"
        && l["action"] == "read_personal"
        && l["object"] == format!("/households/{id}")));
    assert!(
        lines
            .iter()
            .any(|l| l["user"] == "li" && l["action"] == "denied" && l["object"] == "/users")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["action"] == "account"
                && l["detail"].as_str().unwrap().starts_with("revoked"))
    );
    server.stop();
}

#[test]
fn with_a_certificate_the_service_speaks_https_only() {
    use tokio_rustls::rustls;
    let dir = tmp_dir("tls");
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert_pem, key_pem) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_pem, cert.pem()).unwrap();
    std::fs::write(&key_pem, signing_key.serialize_pem()).unwrap();
    // A bad key file is a clear error at start.
    let bad = gridgov(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--db",
        s(&dir.join("x.gpkg")),
        "--seed",
        &seed(),
        "--tls-cert",
        s(&cert_pem),
        "--tls-key",
        s(&cert_pem),
    ]);
    assert_eq!(bad.code, 2, "a bad key is bad input");
    assert!(bad.stderr.contains("TLS key"), "{}", bad.stderr);
    let server = Server::start_with(
        s(&dir.join("tls.gpkg")),
        &["--tls-cert", s(&cert_pem), "--tls-key", s(&key_pem)],
    );
    // A client that trusts this certificate only (ureq over rustls).
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::Rustls)
                .unversioned_rustls_crypto_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[
                    ureq::tls::Certificate::from_der(cert.der()).to_owned(),
                ]))
                .build(),
        )
        .build()
        .into();
    let https_get = |path: &str| {
        let mut r = agent
            .get(format!("https://{}{path}", server.addr))
            .header("Authorization", format!("Bearer {}", server.token))
            .call()
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    let (status, health) = https_get("/health");
    assert_eq!(status, 200, "{health}");
    assert!(health.contains("data_version"), "{health}");
    let (status, versions) = https_get("/versions");
    assert_eq!(status, 200, "{versions}");
    // Plain HTTP to the same port gets no HTTP answer.
    let plain = request(&server.addr, "GET", "/health", &[], "");
    assert!(
        plain.as_ref().is_none_or(|(status, _, _)| *status != 200),
        "{plain:?}"
    );
    server.stop();
}
