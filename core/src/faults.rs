//! Faults QA injects: make the fake client misbehave on purpose.
//!
//! A [`FaultSpec`] names an endpoint ([`Endpoint`]) and what goes wrong
//! there: added latency, an errcode in that endpoint's own wire format, a
//! bare HTTP status, or a dropped connection; for the next request, the next
//! N, or until cleared. [`Faults`] holds them; the web floor's fault layer
//! takes one per request and shapes the reply.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::endpoint::Endpoint;

/// The longest latency a fault may add: it holds a connection busy, and
/// no test waits longer than this for one reply.
pub const MAX_LATENCY: Duration = Duration::from_secs(3600);

/// What goes wrong, where, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub endpoint: Endpoint,
    /// Hold the request this long first (then answer normally, or with
    /// the errcode/status/drop below).
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub latency: Option<Duration>,
    /// Answer with this errcode, in the endpoint's own wire format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// Answer with this HTTP status and a short text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Close the connection without answering.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop: bool,
    /// How many requests it hits; absent means until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Shorthand for `times = 1`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub once: bool,
}

impl FaultSpec {
    /// Checks the combination makes sense; the message says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        if !self.endpoint.accepts_faults() {
            return Err(format!(
                "faults cannot be injected into {:?}; use check-login, authorize, token, long-poll, qrcode or login-page",
                self.endpoint.as_str()
            ));
        }
        let actions = usize::from(self.errcode.is_some())
            + usize::from(self.status.is_some())
            + usize::from(self.drop);
        if actions > 1 {
            return Err("choose at most one of errcode, status and drop".into());
        }
        if actions == 0 && self.latency.is_none() {
            return Err("a fault needs latency, errcode, status or drop".into());
        }
        if self.latency.is_some_and(|l| l > MAX_LATENCY) {
            return Err("latency must be at most 1h".into());
        }
        if let Some(status) = self.status {
            if !(200..=599).contains(&status) {
                return Err(format!("status {status} must be 200..=599"));
            }
        }
        if self.once && self.times.is_some() {
            return Err("give either once or times, not both".into());
        }
        if self.times == Some(0) {
            return Err("times must be at least 1".into());
        }
        Ok(())
    }

    fn limit(&self) -> Option<u32> {
        if self.once {
            Some(1)
        } else {
            self.times
        }
    }

    /// One line for the journal: `errcode 10050`, `latency 2s + drop`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(latency) = self.latency {
            parts.push(format!("latency {}", humantime::format_duration(latency)));
        }
        if let Some(code) = self.errcode {
            parts.push(format!("errcode {code}"));
        }
        if let Some(status) = self.status {
            parts.push(format!("status {status}"));
        }
        if self.drop {
            parts.push("drop".into());
        }
        parts.join(" + ")
    }
}

/// A fault in force, as the control API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveFault {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Requests it will still hit; absent means until cleared.
    pub remaining: Option<u32>,
    /// Requests it has hit so far.
    pub hits: u64,
}

/// The faults in force. The first one added for an endpoint is used first.
#[derive(Default)]
pub struct Faults {
    active: Mutex<Vec<ActiveFault>>,
    next_id: AtomicU64,
}

impl Faults {
    /// Adds a validated fault; returns its id.
    pub(crate) fn add(&self, spec: FaultSpec) -> Result<u64, String> {
        spec.validate()?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let remaining = spec.limit();
        self.lock().push(ActiveFault {
            id,
            spec,
            remaining,
            hits: 0,
        });
        Ok(id)
    }

    pub fn list(&self) -> Vec<ActiveFault> {
        self.lock().clone()
    }

    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut active = self.lock();
        let before = active.len();
        active.retain(|f| f.id != id);
        active.len() != before
    }

    /// Removes every fault; returns how many there were.
    pub(crate) fn clear(&self) -> usize {
        let mut active = self.lock();
        let n = active.len();
        active.clear();
        n
    }

    /// The fault the next request to `endpoint` gets, counted as used.
    pub(crate) fn take(&self, endpoint: Endpoint) -> Option<FaultSpec> {
        let mut active = self.lock();
        let index = active.iter().position(|f| f.spec.endpoint == endpoint)?;
        let fault = &mut active[index];
        fault.hits += 1;
        let spec = fault.spec.clone();
        if let Some(remaining) = fault.remaining.as_mut() {
            *remaining -= 1;
            if *remaining == 0 {
                active.remove(index);
            }
        }
        Some(spec)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ActiveFault>> {
        crate::sync::lock(&self.active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(endpoint: Endpoint) -> FaultSpec {
        FaultSpec {
            endpoint,
            latency: None,
            errcode: Some(10050),
            status: None,
            drop: false,
            times: None,
            once: false,
        }
    }

    #[test]
    fn once_n_times_and_until_cleared() {
        let faults = Faults::default();
        faults
            .add(FaultSpec {
                once: true,
                ..spec(Endpoint::Authorize)
            })
            .unwrap();
        faults
            .add(FaultSpec {
                times: Some(2),
                ..spec(Endpoint::CheckLogin)
            })
            .unwrap();
        let forever = faults.add(spec(Endpoint::Token)).unwrap();
        assert!(faults.take(Endpoint::Authorize).is_some());
        assert!(faults.take(Endpoint::Authorize).is_none());
        assert!(faults.take(Endpoint::CheckLogin).is_some());
        assert!(faults.take(Endpoint::CheckLogin).is_some());
        assert!(faults.take(Endpoint::CheckLogin).is_none());
        for _ in 0..10 {
            assert!(faults.take(Endpoint::Token).is_some());
        }
        assert_eq!(faults.list()[0].hits, 10);
        assert!(faults.remove(forever));
        assert!(faults.take(Endpoint::Token).is_none());
    }

    #[test]
    fn rejects_nonsense() {
        for (bad, needle) in [
            (
                FaultSpec {
                    drop: true,
                    ..spec(Endpoint::Authorize)
                },
                "at most one",
            ),
            (
                FaultSpec {
                    errcode: None,
                    ..spec(Endpoint::Authorize)
                },
                "needs",
            ),
            (spec(Endpoint::Control), "cannot be injected"),
            (
                FaultSpec {
                    errcode: None,
                    status: Some(99),
                    ..spec(Endpoint::Token)
                },
                "200..=599",
            ),
            (
                FaultSpec {
                    once: true,
                    times: Some(2),
                    ..spec(Endpoint::Token)
                },
                "either",
            ),
            (
                FaultSpec {
                    latency: Some(Duration::from_secs(u64::MAX)),
                    ..spec(Endpoint::Token)
                },
                "at most 1h",
            ),
        ] {
            let err = bad.validate().unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
    }
}
