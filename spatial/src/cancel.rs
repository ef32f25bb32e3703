//! Stopping long work from outside: a flag the caller may raise and the
//! work checks at its loop heads. The service raises it when a request
//! is abandoned or times out, so the work itself stops rather than run
//! on for nobody.
//!
//! ```
//! use gridgov_spatial::cancel::{Cancel, Cancelled};
//! let c = Cancel::new();
//! assert_eq!(c.check(), Ok(()));
//! c.clone().cancel();
//! assert_eq!(c.check(), Err(Cancelled));
//! assert_eq!(Cancel::never().check(), Ok(()));
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag shared by whoever may stop the work and the work.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Option<Arc<AtomicBool>>);

/// The work was stopped before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopped before it finished: the request ended")]
pub struct Cancelled;

impl Cancel {
    /// A flag not yet raised.
    pub fn new() -> Cancel {
        Cancel(Some(Arc::new(AtomicBool::new(false))))
    }

    /// A flag nobody can raise.
    pub fn never() -> Cancel {
        Cancel(None)
    }

    /// Raises the flag.
    pub fn cancel(&self) {
        if let Some(f) = &self.0 {
            f.store(true, Ordering::Relaxed);
        }
    }

    /// `Err(Cancelled)` once the flag is raised.
    pub fn check(&self) -> Result<(), Cancelled> {
        match &self.0 {
            Some(f) if f.load(Ordering::Relaxed) => Err(Cancelled),
            _ => Ok(()),
        }
    }
}

/// Two flags are equal when they are the same flag (or both never).
impl PartialEq for Cancel {
    fn eq(&self, other: &Cancel) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}
