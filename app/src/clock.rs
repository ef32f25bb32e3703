//! The clock, passed in. The application reads the time from a [`Clock`]
//! it is given, and hands times to the stores in what it asks them to
//! write: storage never reads a clock, so tests set the time and replay
//! a day in a second.

use std::sync::Mutex;

use gridgov_spatial::Timestamp;
use gridgov_spatial::time::{from_epoch, whole_seconds};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// Now, in whole seconds (what the stores keep).
    fn now(&self) -> Timestamp;
}

/// The system's clock.
///
/// ```
/// use gridgov_app::{Clock, SystemClock};
/// assert!(SystemClock.now().as_second() > 1_700_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        whole_seconds(Timestamp::now())
    }
}

/// A clock that shows the time it is set to (tests, replays).
///
/// ```
/// use gridgov_app::{Clock, FixedClock};
/// let c = FixedClock::at("2026-11-01T09:00:00+08:00".parse().unwrap());
/// c.advance(3600);
/// assert_eq!(c.now().to_string(), "2026-11-01T02:00:00Z");
/// ```
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    /// A clock showing `t`.
    pub fn at(t: Timestamp) -> Self {
        FixedClock(Mutex::new(whole_seconds(t)))
    }

    /// Sets it to `t`.
    pub fn set(&self, t: Timestamp) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = whole_seconds(t);
    }

    /// Moves it on by `secs` seconds.
    pub fn advance(&self, secs: i64) {
        let mut t = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *t = from_epoch(t.as_second().saturating_add(secs));
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
