//! A request body read as it streams in, from a blocking thread: the
//! batch parsers pull it chunk by chunk (so memory follows what they keep,
//! not the body's size), under a byte limit and the request's deadline.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

/// Why reading stopped early.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stop {
    /// The body went past the limit.
    pub(crate) too_large: Arc<AtomicBool>,
    /// The client was too slow (the request's time ran out).
    pub(crate) too_slow: Arc<AtomicBool>,
}

/// The body as `std::io::Read`, for a thread that may block.
pub(crate) struct BodyReader {
    body: Body,
    rt: tokio::runtime::Handle,
    chunk: Bytes,
    read: usize,
    limit: usize,
    deadline: Instant,
    stop: Stop,
}

impl BodyReader {
    /// Reads `body` on `rt`, at most `limit` bytes, until `deadline`.
    pub(crate) fn new(
        body: Body,
        rt: tokio::runtime::Handle,
        limit: usize,
        deadline: Instant,
    ) -> (Self, Stop) {
        let stop = Stop::default();
        (
            BodyReader {
                body,
                rt,
                chunk: Bytes::new(),
                read: 0,
                limit,
                deadline,
                stop: stop.clone(),
            },
            stop,
        )
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            let left = self.deadline.saturating_duration_since(Instant::now());
            let body = &mut self.body;
            let frame = self
                .rt
                .block_on(async { tokio::time::timeout(left, body.frame()).await });
            match frame {
                Err(_) => {
                    self.stop.too_slow.store(true, Ordering::Relaxed);
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the body came too slowly",
                    ));
                }
                Ok(None) => return Ok(0),
                Ok(Some(Err(e))) => return Err(std::io::Error::other(e)),
                Ok(Some(Ok(f))) => {
                    if let Ok(data) = f.into_data() {
                        self.read += data.len();
                        if self.read > self.limit {
                            self.stop.too_large.store(true, Ordering::Relaxed);
                            return Err(std::io::Error::other("the body is over the limit"));
                        }
                        self.chunk = data;
                    }
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(body: &'static str, limit: usize) -> (std::io::Result<String>, Stop) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        let (mut r, stop) = BodyReader::new(Body::from(body), rt.handle().clone(), limit, deadline);
        let mut out = String::new();
        // Small reads, as the parsers make them.
        let mut buf = [0u8; 3];
        let res = loop {
            match r.read(&mut buf) {
                Ok(0) => break Ok(out),
                Ok(n) => out.push_str(std::str::from_utf8(&buf[..n]).unwrap()),
                Err(e) => break Err(e),
            }
        };
        (res, stop)
    }

    #[test]
    fn a_body_reads_whole_in_small_pieces_up_to_its_limit_and_not_past_it() {
        let (r, stop) = read_all("lon,lat\n117.5,34.8\n", 100);
        assert_eq!(r.unwrap(), "lon,lat\n117.5,34.8\n");
        assert!(!stop.too_large.load(Ordering::Relaxed));
        let (r, stop) = read_all("lon,lat\n117.5,34.8\n", 10);
        assert!(r.is_err());
        assert!(stop.too_large.load(Ordering::Relaxed));
        assert!(!stop.too_slow.load(Ordering::Relaxed));
    }
}
