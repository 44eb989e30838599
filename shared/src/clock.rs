//! Time as a capability, so that expiry can be tested without waiting seven days.

use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;

/// Where the service reads the current time from.
pub trait Clock: Send + Sync {
    /// Now, truncated to whole seconds so that stored timestamps compare as strings.
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate(OffsetDateTime::now_utc())
    }
}

/// The real clock moved by an offset a test can change, for expiry tests on the local stack.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset_seconds: AtomicI64,
}

impl ShiftedClock {
    /// Moves this clock forward (or back, with a negative duration).
    pub fn advance(&self, by: time::Duration) {
        self.offset_seconds.fetch_add(by.whole_seconds(), Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> OffsetDateTime {
        let offset = time::Duration::seconds(self.offset_seconds.load(Ordering::SeqCst));
        truncate(OffsetDateTime::now_utc() + offset)
    }
}

fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}
