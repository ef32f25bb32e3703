//! `gridgov view`: the one-screen window, over a store or a running
//! service, following new versions as they are published.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use gridgov_spatial::District;
use gridgov_viewer::overlay::SensorMark;
use gridgov_viewer::window::{DataSource, ViewOptions};

use super::{CliError, CliResult, OrInput};
use gridgov_app::Store;

/// Options of `gridgov view`.
#[derive(Debug, clap::Args)]
pub struct ViewArgs {
    /// A gridgov service to follow, e.g. http://127.0.0.1:8080 or
    /// https://gridgov.district.internal.
    #[arg(long, value_name = "URL", conflicts_with = "db")]
    server: Option<String>,
    /// The token to call --server with (default: GRIDGOV_TOKEN); make one
    /// with `gridgov tokens issue USER`.
    #[arg(long, value_name = "TOKEN", requires = "server")]
    token: Option<String>,
    /// Certificate authorities to trust for an https:// --server (PEM);
    /// default: the system's bundle.
    #[arg(long, value_name = "FILE", requires = "server")]
    ca: Option<PathBuf>,
    /// The store: a GeoPackage (default data/gridgov.gpkg), a
    /// `postgres://` URL or a district JSON file.
    #[arg(long, value_name = "FILE|URL")]
    db: Option<PathBuf>,
    /// Window size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x800")]
    size: String,
    /// Seconds between checks for a new version.
    #[arg(long, default_value_t = 2.0)]
    poll: f64,
    /// Font for Chinese text; default: GRIDGOV_FONT, else an installed CJK font.
    #[arg(long, value_name = "FILE")]
    font: Option<PathBuf>,
    /// The language of the window's words: zh-CN (default) or en.
    #[arg(long, default_value = "zh-CN", value_parser = crate::cli::report::parse_lang)]
    lang: gridgov_spatial::i18n::Lang,
    /// Close after this many seconds (kiosk rotation, tests).
    #[arg(long, value_name = "SECONDS")]
    close_after: Option<f64>,
}

/// A store: GeoPackage or PostGIS, polled for its latest version.
struct StoreSource {
    store: Arc<dyn Store>,
}

impl DataSource for StoreSource {
    fn describe(&self) -> String {
        self.store.describe()
    }
    fn version(&mut self) -> Result<(i64, i64), String> {
        let v = self.store.latest_version().map_err(|e| e.to_string())?;
        let r = self.store.incident_revision().map_err(|e| e.to_string())?;
        Ok((v, r))
    }
    fn district(&mut self) -> Result<District, String> {
        self.store.load().map_err(|e| e.to_string())
    }
    fn sensors(&mut self) -> Result<Vec<SensorMark>, String> {
        let now = crate::cli::now();
        let from = gridgov_spatial::time::from_epoch(now.as_second() - 24 * 3600);
        let xs = self.store.sensors().map_err(|e| e.to_string())?;
        xs.into_iter()
            .map(|(s, state)| {
                let series = self
                    .store
                    .readings(&s.code, from, now, 500)
                    .map_err(|e| e.to_string())?;
                Ok(sensor_mark(
                    &s,
                    &state,
                    series.iter().map(|r| r.1).collect(),
                ))
            })
            .collect()
    }
}

/// A monitoring point as the viewer draws it.
fn sensor_mark(
    s: &gridgov_spatial::sensors::Sensor,
    state: &gridgov_spatial::sensors::SensorState,
    series: Vec<f64>,
) -> SensorMark {
    let reading = state
        .last_value
        .map_or_else(String::new, |v| format!(" {v} {}", s.unit));
    SensorMark {
        lon: s.location.x(),
        lat: s.location.y(),
        alarm: state.alarm_case.is_some(),
        label: format!("{}{reading}", s.name),
        series: series.into_iter().map(|v| v as f32).collect(),
        threshold: s.threshold as f32,
    }
}

/// A district JSON file: its version is its modification time.
struct FileSource {
    path: PathBuf,
}

impl DataSource for FileSource {
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
    fn version(&mut self) -> Result<(i64, i64), String> {
        let m = std::fs::metadata(&self.path).map_err(|e| e.to_string())?;
        let t = m.modified().map_err(|e| e.to_string())?;
        // The modification time moves with any change: no revision.
        Ok((
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            0,
        ))
    }
    fn district(&mut self) -> Result<District, String> {
        gridgov_storage::load_district_file(&self.path).map_err(|e| e.to_string())
    }
}

/// The system's certificate authorities, where Debian and its kin keep
/// them.
const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A gridgov service over HTTP or HTTPS (ureq, rustls): `/health` for
/// the version, `/district.json` for the data.
struct HttpSource {
    /// `http(s)://host[:port]`, no trailing slash.
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSource")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// The authorities in a PEM file.
fn certificates(ca: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, String> {
    let pem = std::fs::read(ca).map_err(|e| format!("--ca {}: {e}", ca.display()))?;
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        // Keys and other sections in the file are not authorities.
        if let ureq::tls::PemItem::Certificate(c) =
            item.map_err(|e| format!("--ca {}: {e}", ca.display()))?
        {
            out.push(c);
        }
    }
    if out.is_empty() {
        return Err(format!("--ca {}: no certificate in it", ca.display()));
    }
    Ok(out)
}

impl HttpSource {
    /// A source for `url`; an https:// one trusts `ca` (default: the
    /// system's authorities).
    fn with_ca(url: &str, ca: Option<&Path>) -> Result<Self, String> {
        let parsed: ureq::http::Uri = url.parse().map_err(|e| format!("--server {url:?}: {e}"))?;
        let https = match parsed.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(format!(
                    "--server {url:?}: expected http://HOST[:PORT] or https://HOST[:PORT]"
                ));
            }
        };
        let Some(authority) = parsed.authority().filter(|a| !a.host().is_empty()) else {
            return Err(format!("--server {url:?}: no host"));
        };
        if let Some((_, p)) = authority.as_str().rsplit_once(':')
            && !authority.host().ends_with(p)
            && authority.port_u16().is_none()
        {
            return Err(format!("--server {url:?}: bad port {p:?}"));
        }
        let mut tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(
                tokio_rustls::rustls::crypto::ring::default_provider(),
            ));
        if https {
            let certs = certificates(ca.unwrap_or(Path::new(SYSTEM_CAS)))?;
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(HttpSource {
            base: format!("{}://{authority}", if https { "https" } else { "http" }),
            token: None,
            agent,
        })
    }

    fn get(&self, path: &str) -> Result<Vec<u8>, String> {
        let mut req = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Accept", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let mut r = req.call().map_err(|e| format!("{}: {e}", self.base))?;
        let status = r.status().as_u16();
        if status == 401 {
            return Err(format!(
                "GET {path}: HTTP 401: the service wants a token: --token or GRIDGOV_TOKEN (`gridgov tokens issue USER`)"
            ));
        }
        if status != 200 {
            return Err(format!("GET {path}: HTTP {status}"));
        }
        r.body_mut()
            .with_config()
            .limit(4 << 30)
            .read_to_vec()
            .map_err(|e| format!("GET {path}: {e}"))
    }
}

impl DataSource for HttpSource {
    fn describe(&self) -> String {
        self.base.clone()
    }
    fn version(&mut self) -> Result<(i64, i64), String> {
        // One look at /health: the boundary version, and the data version
        // that moves with boundaries and incidents alike.
        let v: serde_json::Value =
            serde_json::from_slice(&self.get("/health")?).map_err(|e| e.to_string())?;
        match (v["version"].as_i64(), v["data_version"].as_i64()) {
            (Some(b), Some(d)) => Ok((b, d)),
            _ => Err("the service's /health has no version and data_version".into()),
        }
    }
    fn district(&mut self) -> Result<District, String> {
        serde_json::from_slice(&self.get("/district.json")?).map_err(|e| e.to_string())
    }
    fn sensors(&mut self) -> Result<Vec<SensorMark>, String> {
        let list: serde_json::Value =
            serde_json::from_slice(&self.get("/sensors")?).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for v in list["sensors"].as_array().into_iter().flatten().take(50) {
            let code = v["code"].as_str().unwrap_or_default();
            let series: serde_json::Value =
                serde_json::from_slice(&self.get(&format!("/sensors/{code}/readings?hours=24"))?)
                    .map_err(|e| e.to_string())?;
            let unit = v["unit"].as_str().unwrap_or_default();
            let reading = v["last"]["value"]
                .as_f64()
                .map_or_else(String::new, |x| format!(" {x} {unit}"));
            out.push(SensorMark {
                lon: v["location"][0].as_f64().unwrap_or_default(),
                lat: v["location"][1].as_f64().unwrap_or_default(),
                alarm: !v["alarm"].is_null(),
                label: format!("{}{reading}", v["name"].as_str().unwrap_or_default()),
                series: series["readings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r[1].as_f64().map(|x| x as f32))
                    .collect(),
                threshold: v["threshold"].as_f64().unwrap_or_default() as f32,
            });
        }
        Ok(out)
    }
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X', '×'])
        .ok_or_else(|| format!("--size {s:?}: expected WIDTHxHEIGHT, e.g. 1280x800"))?;
    let n = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| (64..=16384).contains(&n))
            .ok_or_else(|| format!("--size {s:?}: each side must be 64 to 16384 pixels"))
    };
    Ok((n(w)?, n(h)?))
}

/// Runs `gridgov view`.
pub fn run(a: &ViewArgs) -> CliResult {
    let size = parse_size(&a.size).input()?;
    if !(a.poll.is_finite() && (0.1..=3600.0).contains(&a.poll)) {
        return Err(CliError::input(
            "--poll must be between 0.1 and 3600 seconds",
        ));
    }
    let (font_path, font) = gridgov_fonts::find(a.font.as_deref())?;
    let font_bytes =
        std::fs::read(&font_path).map_err(|e| format!("{}: {e}", font_path.display()))?;
    let source: Box<dyn DataSource> = match (&a.server, &a.db) {
        (Some(url), _) => {
            let mut h = HttpSource::with_ca(url, a.ca.as_deref()).input()?;
            h.token = a
                .token
                .clone()
                .or_else(|| std::env::var("GRIDGOV_TOKEN").ok())
                .filter(|t| !t.is_empty());
            Box::new(h)
        }
        (None, Some(p)) if p.extension().is_some_and(|e| e == "json") => {
            if !p.exists() {
                return Err(CliError::input(format!("{}: no such file", p.display())));
            }
            Box::new(FileSource { path: p.clone() })
        }
        (None, db) => {
            let db = db
                .clone()
                .unwrap_or_else(|| PathBuf::from(gridgov_storage::DEFAULT_GPKG));
            let is_pg = matches!(
                gridgov_storage::Target::parse(&db.to_string_lossy()),
                gridgov_storage::Target::Postgres(_)
            );
            if !is_pg && !db.exists() && a.db.is_some() {
                return Err(CliError::input(format!("{}: no such store", db.display())));
            }
            let store = gridgov_storage::open(
                &db.to_string_lossy(),
                Path::new(gridgov_storage::DEFAULT_DISTRICT),
                crate::cli::now(),
            )?
            .store;
            Box::new(StoreSource { store })
        }
    };
    gridgov_viewer::window::run(
        source,
        ViewOptions {
            size,
            poll: Duration::from_secs_f64(a.poll),
            font,
            font_bytes,
            lang: a.lang,
            close_after: a.close_after.map(Duration::from_secs_f64),
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_parsed_and_bad_ones_named() {
        let s = HttpSource::with_ca("http://127.0.0.1:8080", None).unwrap();
        assert_eq!(s.describe(), "http://127.0.0.1:8080");
        assert_eq!(
            HttpSource::with_ca("http://gridgov.local/", None)
                .unwrap()
                .describe(),
            "http://gridgov.local"
        );
        assert!(
            HttpSource::with_ca("ftp://x", None)
                .unwrap_err()
                .contains("https://")
        );
        assert!(
            HttpSource::with_ca("https://x", Some(Path::new("/nonexistent.pem")))
                .unwrap_err()
                .contains("--ca")
        );
        assert!(
            HttpSource::with_ca("http://x:port", None)
                .unwrap_err()
                .contains("port")
        );
    }

    #[test]
    fn an_https_server_is_read_with_the_authority_given_and_others_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (c, k) = (dir.join("c.pem"), dir.join("k.pem"));
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, signing_key.serialize_pem()).unwrap();
        let config = gridgov_service::tls::server_config(&c, &k).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let addr = rt.block_on(async {
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = tcp.local_addr().unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            let app = axum::Router::new().route(
                "/health",
                axum::routing::get(|| async {
                    axum::Json(serde_json::json!({"version": 3, "data_version": 7}))
                }),
            );
            tokio::spawn(gridgov_service::conn::serve(
                tcp,
                Some(acceptor),
                app,
                gridgov_service::conn::ConnLimits::default(),
                std::future::pending(),
                std::time::Duration::from_secs(1),
            ));
            addr
        });
        let url = format!("https://localhost:{}", addr.port());
        let mut s = HttpSource::with_ca(&url, Some(&c)).unwrap();
        assert_eq!(s.version().unwrap(), (3, 7));
        assert!(s.describe().starts_with("https://"));
        // A server the given authority did not sign is refused.
        let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let o = dir.join("o.pem");
        std::fs::write(&o, other.cert.pem()).unwrap();
        let bad = HttpSource::with_ca(&url, Some(&o)).unwrap();
        assert!(bad.get("/health").is_err());
        drop(rt);
    }
}
