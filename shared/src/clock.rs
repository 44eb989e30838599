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

/// The real clock moved by an offset a test can change, for expiry tests on the local stack; a
/// test that must not see real time pass freezes it.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset_seconds: AtomicI64,
    /// When set (seconds since the epoch), real time no longer moves this clock.
    frozen_at: AtomicI64,
}

impl ShiftedClock {
    /// Moves this clock forward (or back, with a negative duration).
    pub fn advance(&self, by: time::Duration) {
        self.offset_seconds.fetch_add(by.whole_seconds(), Ordering::SeqCst);
    }

    /// Stops real time from moving this clock: from now on only `advance` does.
    pub fn freeze(&self) {
        let _ = self.frozen_at.compare_exchange(
            0,
            OffsetDateTime::now_utc().unix_timestamp(),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> OffsetDateTime {
        let offset = time::Duration::seconds(self.offset_seconds.load(Ordering::SeqCst));
        let base = match self.frozen_at.load(Ordering::SeqCst) {
            0 => OffsetDateTime::now_utc(),
            at => OffsetDateTime::from_unix_timestamp(at).unwrap_or_else(|_| OffsetDateTime::now_utc()),
        };
        truncate(base + offset)
    }
}

fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}
