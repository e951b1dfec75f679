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

/// The most one `advance` may move the clock: 100 years.
pub const MAX_ADVANCE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
/// The furthest the emulated time may run ahead of real time: 200 years
/// (within i64 nanoseconds, and far from `SystemTime`'s end), so "now" plus
/// any lifetime wxemu adds to it stays representable.
pub const MAX_OFFSET: Duration = Duration::from_secs(200 * 365 * 24 * 3600);
const MAX_OFFSET_NANOS: i64 = MAX_OFFSET.as_nanos() as i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("the clock may be advanced by at most 100 years at a time, and to at most 200 years ahead of real time")]
    TooFar,
}

/// How far `at` is ahead of real time, in nanoseconds (None past i64).
fn offset_of(at: SystemTime) -> Option<i64> {
    match at.duration_since(SystemTime::now()) {
        Ok(ahead) => i64::try_from(ahead.as_nanos()).ok(),
        Err(_) => Some(0),
    }
}

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

    /// Moves the emulated time forward (frozen or not) by at most
    /// [`MAX_ADVANCE`] and to at most [`MAX_OFFSET`] ahead of real time;
    /// refuses (changing nothing) otherwise. For user-supplied durations.
    pub(crate) fn try_advance(&self, by: Duration) -> Result<(), ClockError> {
        if by > MAX_ADVANCE {
            return Err(ClockError::TooFar);
        }
        let mut skew = self.lock();
        let by_nanos = i64::try_from(by.as_nanos()).map_err(|_| ClockError::TooFar)?;
        let offset = match skew.frozen_at {
            Some(at) => offset_of(at.checked_add(by).ok_or(ClockError::TooFar)?),
            None => skew.offset_nanos.checked_add(by_nanos),
        };
        if offset.is_none_or(|o| o > MAX_OFFSET_NANOS) {
            return Err(ClockError::TooFar);
        }
        skew.offset_nanos = skew.offset_nanos.saturating_add(by_nanos);
        if let Some(at) = skew.frozen_at.as_mut() {
            *at += by; // checked above
        }
        Ok(())
    }

    /// Stops the emulated time where it is until [`Clock::unfreeze`].
    pub(crate) fn freeze(&self) {
        let mut skew = self.lock();
        if skew.frozen_at.is_none() {
            skew.frozen_at = Some(skew.apply(SystemTime::now()));
        }
    }

    /// Lets time run again from the frozen instant (no jump).
    pub(crate) fn unfreeze(&self) {
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
    pub(crate) fn reset(&self) {
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
        clock.try_advance(Duration::from_secs(3600)).unwrap();
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
        clock.try_advance(Duration::from_secs(60)).unwrap();
        assert_eq!(clock.now(), t + Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(5));
        clock.unfreeze();
        let resumed = clock.now();
        assert!(resumed >= t + Duration::from_secs(60));
        assert!(resumed < t + Duration::from_secs(61), "unfreeze jumped");
        assert!(!clock.is_frozen());
    }

    #[test]
    fn absurd_advances_are_refused_not_overflowed() {
        for frozen in [false, true] {
            let clock = Clock::new();
            if frozen {
                clock.freeze();
            }
            let before = clock.now();
            assert_eq!(clock.try_advance(Duration::MAX), Err(ClockError::TooFar));
            assert_eq!(
                clock.try_advance(Duration::from_secs(u64::MAX / 2)),
                Err(ClockError::TooFar)
            );
            // Many legal steps stop at the bound instead of overflowing.
            let mut refused = false;
            for _ in 0..5 {
                refused |= clock.try_advance(MAX_ADVANCE).is_err();
            }
            assert!(refused, "frozen={frozen}");
            let ahead = clock.now().duration_since(before).unwrap();
            assert!(ahead <= MAX_OFFSET + Duration::from_secs(60), "{ahead:?}");
            let _ = clock.now() + Duration::from_secs(366 * 24 * 3600);
        }
    }
}
