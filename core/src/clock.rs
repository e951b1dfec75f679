//! The emulator's notion of "now", injectable so expiry can be tested (and
//! demonstrated) without sleeping.
//!
//! Every lifetime wxemu enforces (authorize_uuid, code, token, QR) compares
//! against [`Clock::now`]. The clock follows real time plus an offset that
//! tests and the control API can advance, and it can be frozen. Timers that
//! wait for a person (the decision deadline) use tokio's real time instead:
//! a person's patience does not jump when the clock is advanced.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    inner: Arc<Mutex<Skew>>,
}

#[derive(Debug, Default)]
struct Skew {
    /// Nanoseconds added to the real time; negative after unfreezing.
    offset_nanos: i64,
    /// When set, `now` returns this instead of moving.
    frozen_at: Option<SystemTime>,
}

impl Skew {
    fn apply(&self, real: SystemTime) -> SystemTime {
        let magnitude = Duration::from_nanos(self.offset_nanos.unsigned_abs());
        if self.offset_nanos >= 0 {
            real + magnitude
        } else {
            real - magnitude
        }
    }
}

impl Clock {
    pub fn new() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> SystemTime {
        let skew = self.lock();
        skew.frozen_at
            .unwrap_or_else(|| skew.apply(SystemTime::now()))
    }

    /// Moves the emulated time forward (frozen or not).
    pub fn advance(&self, by: Duration) {
        let mut skew = self.lock();
        skew.offset_nanos = skew
            .offset_nanos
            .saturating_add(i64::try_from(by.as_nanos()).unwrap_or(i64::MAX));
        if let Some(at) = skew.frozen_at.as_mut() {
            *at += by;
        }
    }

    /// Stops the emulated time where it is until [`Clock::unfreeze`].
    pub fn freeze(&self) {
        let mut skew = self.lock();
        if skew.frozen_at.is_none() {
            skew.frozen_at = Some(skew.apply(SystemTime::now()));
        }
    }

    /// Lets time run again from the frozen instant (no jump).
    pub fn unfreeze(&self) {
        let mut skew = self.lock();
        if let Some(at) = skew.frozen_at.take() {
            let real = SystemTime::now();
            skew.offset_nanos = match at.duration_since(real) {
                Ok(ahead) => i64::try_from(ahead.as_nanos()).unwrap_or(i64::MAX),
                Err(behind) => -i64::try_from(behind.duration().as_nanos()).unwrap_or(i64::MAX),
            };
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.lock().frozen_at.is_some()
    }

    /// Back to real time.
    pub fn reset(&self) {
        *self.lock() = Skew::default();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Skew> {
        // The guarded data is two plain values: a panic elsewhere cannot
        // leave them inconsistent, so a poisoned lock is still usable.
        crate::sync::lock(&self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_forward() {
        let clock = Clock::new();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        let skipped = clock.now().duration_since(before).unwrap();
        assert!(skipped >= Duration::from_secs(3600));
        assert!(skipped < Duration::from_secs(3700));
    }

    #[test]
    fn frozen_clock_stands_still_until_advanced() {
        let clock = Clock::new();
        clock.freeze();
        let t = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), t);
        clock.advance(Duration::from_secs(60));
        assert_eq!(clock.now(), t + Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(5));
        clock.unfreeze();
        let resumed = clock.now();
        assert!(resumed >= t + Duration::from_secs(60));
        assert!(resumed < t + Duration::from_secs(61), "unfreeze jumped");
        assert!(!clock.is_frozen());
    }
}
