//! Connections: the accept loop in front of the router.
//!
//! Every connection is counted, per client address and overall, before
//! any byte of it is read: past either cap it is answered at once with a
//! short problem+json (429 for one address holding too many, 503 for the
//! whole service) and closed, so a client that opens thousands of
//! connections and sends nothing costs a file descriptor for
//! microseconds, not for ever. An accepted connection has
//! [`ConnLimits::header_timeout`] to send a request's head, and as long
//! again between requests on a kept-alive connection (hyper's header
//! read timeout, which also runs while a kept-alive connection is idle);
//! a TLS handshake has [`crate::tls::HANDSHAKE_LIMIT`]. The router's own
//! time limit (the guard) bounds each request once its head is in.
//!
//! Why an accept loop of our own rather than `axum::serve`: that one sets
//! no timer, so hyper's header timeout never fires, and it has no
//! connection caps.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::{Service, ServiceExt};

/// How many connections, and how long a silent one may stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// Open connections from one client address at most.
    pub per_client: usize,
    /// Open connections in all at most.
    pub total: usize,
    /// How long a client has to send a request's head, and how long a
    /// kept-alive connection may wait for the next request.
    pub header_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            per_client: 256,
            total: 4096,
            header_timeout: Duration::from_secs(15),
        }
    }
}

impl ConnLimits {
    /// `total` capped below the process's open-file limit (leaving room
    /// for the store, logs and the connections being refused).
    ///
    /// ```
    /// use gridgov_service::conn::ConnLimits;
    /// let l = ConnLimits { total: 100_000, ..Default::default() }.within_files(20_000);
    /// assert!(l.total < 20_000);
    /// let l = ConnLimits::default().within_files(1_000_000);
    /// assert_eq!(l.total, ConnLimits::default().total);
    /// ```
    #[must_use]
    pub fn within_files(self, open_files: u64) -> ConnLimits {
        let room = usize::try_from(open_files.saturating_sub(256) / 10 * 9).unwrap_or(usize::MAX);
        ConnLimits {
            total: self.total.min(room.max(16)),
            ..self
        }
    }
}

/// Raises the soft open-file limit to the hard one and returns it (on
/// systems without such limits, a large number).
pub fn raise_file_limit() -> u64 {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let l = getrlimit(Resource::Nofile);
        let mut raised = l;
        raised.current = l.maximum;
        if raised.current != l.current && setrlimit(Resource::Nofile, raised).is_ok() {
            return l.maximum.unwrap_or(u64::MAX);
        }
        l.current.unwrap_or(u64::MAX)
    }
    #[cfg(not(unix))]
    {
        u64::MAX
    }
}

/// The open connections, per client address and in all.
#[derive(Default)]
struct Counts {
    per: Mutex<HashMap<IpAddr, usize>>,
}

/// One counted connection: uncounted when dropped.
struct Slot {
    counts: Arc<Counts>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut m = self
            .counts
            .per
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// Why a connection is refused.
enum Refusal {
    Client,
    Total,
}

impl Counts {
    fn take(
        self: &Arc<Self>,
        ip: IpAddr,
        limits: &ConnLimits,
        total: usize,
    ) -> Result<Slot, Refusal> {
        let mut m = self
            .per
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if total >= limits.total {
            return Err(Refusal::Total);
        }
        let n = m.entry(ip).or_insert(0);
        if *n >= limits.per_client {
            return Err(Refusal::Client);
        }
        *n += 1;
        Ok(Slot {
            counts: self.clone(),
            ip,
        })
    }
}

/// The short answer a refused connection gets, written without waiting
/// (a client that does not read it simply does not get it).
fn refuse(s: &TcpStream, why: &Refusal) {
    let (status, title, detail) = match why {
        Refusal::Client => (
            "429 Too Many Requests",
            "too many connections",
            "this address has too many open connections (--max-connections-per-client); close some and try again",
        ),
        Refusal::Total => (
            "503 Service Unavailable",
            "too many connections",
            "the service has as many open connections as it takes (--max-connections); try again shortly",
        ),
    };
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status[..3].parse::<u16>().unwrap_or(503),
        "detail": detail,
    })
    .to_string();
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.try_write(head.as_bytes());
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until
/// `shutdown` resolves; then stops accepting, lets requests in flight
/// finish (up to `drain`) and returns. Each request carries the client's
/// address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let counts = Arc::new(Counts::default());
    let open = Arc::new(());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors or the like: wait a moment
                    // rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let total = Arc::strong_count(&open) - 1;
        let slot = match counts.take(addr.ip(), &limits, total) {
            Ok(s) => s,
            Err(why) => {
                refuse(&stream, &why);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let held = open.clone();
        let svc = router
            .clone()
            .map_request(move |mut r: Request<hyper::body::Incoming>| {
                r.extensions_mut().insert(ConnectInfo(addr));
                r.map(axum::body::Body::new)
            });
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _slot = (slot, held);
            match tls {
                None => serve_one(stream, svc, header_timeout, watcher).await,
                Some(acceptor) => {
                    match tokio::time::timeout(crate::tls::HANDSHAKE_LIMIT, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(s)) => serve_one(s, svc, header_timeout, watcher).await,
                        Ok(Err(e)) => {
                            tracing::debug!(client = %addr, error = %e, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(client = %addr, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the drain time: stopping anyway");
    }
}

async fn serve_one<I, S>(
    io: I,
    svc: S,
    header_timeout: Duration,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: Service<
            Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(
            TokioIo::new(io),
            hyper_util::service::TowerToHyperService::new(svc),
        );
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, "connection ended");
    }
}
