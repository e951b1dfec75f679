//! Connection discipline: every open connection is registered here so the
//! server can bound how many there are and how long each may do nothing.
//!
//! A connection is *busy* while a request on it is in flight, from the
//! moment hyper hands the request to the service until its response body
//! has been sent (or dropped). Held long polls and held authorize calls are
//! busy by design, so no timeout here ever cuts them. A connection that is
//! not busy is *idle*, and an idle connection:
//! - is closed when its first request has not arrived within
//!   `first_request_timeout` of the TLS handshake, or no next request within
//!   `idle_timeout` of the last one;
//! - is the first to go when the connection cap is reached: the oldest idle
//!   one is closed to make room, so a legitimate client always gets in while
//!   an attacker's silent connections are shed.
//!
//! An HTTP/1.1 connection idle for [`PARK_AFTER`] is asked to *park*
//! (see [`crate::web::transport::parking`]): it stays open but gives back hyper's
//! buffers until its next request.
//!
//! A busy connection whose response body has made no progress for
//! `send_stall_timeout` (a reader that stopped reading, an HTTP/2 window of
//! zero) is closed too, so a stalled reader cannot pin response bytes.
//!
//! One sweeper task checks every connection on a short tick instead of one
//! timer per connection.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use http_body::{Body as HttpBody, Frame, SizeHint};

/// The knobs, taken from [`wxemu_core::Limits`].
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub first_request_timeout: Duration,
    pub idle_timeout: Duration,
    pub send_stall_timeout: Duration,
}

/// Why a connection was asked to close (for the debug log and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// No first request within `first_request_timeout`.
    NoRequest,
    /// No next request within `idle_timeout`.
    Idle,
    /// The response body made no progress within `send_stall_timeout`.
    Stalled,
    /// The oldest idle connection, closed to make room for a new one.
    Evicted,
    /// The server is shutting down.
    Shutdown,
}

/// How long an HTTP/1.1 connection sits idle before it parks. Long enough
/// that a client sending requests back to back never parks; short enough
/// that the connections a bot or a browser keeps in its pool cost little.
pub const PARK_AFTER: Duration = Duration::from_secs(2);

/// Every open connection, in accept order.
pub struct Connections {
    limits: ConnLimits,
    epoch: Instant,
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    /// Wakes [`Connections::wait_empty`] when the last connection ends.
    emptied: tokio::sync::Notify,
    /// "Refused a connection: all busy" is said once per episode.
    refusing: AtomicBool,
}

/// One open connection's activity.
pub struct Conn {
    id: u64,
    epoch: Instant,
    /// Requests whose response has not been fully sent yet.
    in_flight: AtomicUsize,
    /// Requests seen so far.
    served: AtomicU64,
    /// Milliseconds since `epoch` of the last request start or end.
    last_active_ms: AtomicU64,
    /// Response bodies being sent, and when one last made progress.
    sending: AtomicUsize,
    last_sent_ms: AtomicU64,
    close: tokio::sync::watch::Sender<Option<CloseReason>>,
    /// Set when the sweeper asked this idle connection to park; cleared
    /// by its next request.
    parked: AtomicBool,
    park: tokio::sync::Notify,
}

/// A registered connection; dropping it unregisters.
pub struct Admitted {
    pub conn: Arc<Conn>,
    registry: Arc<Connections>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.registry.lock();
        open.remove(&self.conn.id);
        if open.is_empty() {
            self.registry.emptied.notify_waiters();
        }
    }
}

impl std::ops::Deref for Admitted {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl Connections {
    pub fn new(limits: ConnLimits) -> Arc<Connections> {
        Arc::new(Connections {
            limits,
            epoch: Instant::now(),
            open: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            emptied: tokio::sync::Notify::new(),
            refusing: AtomicBool::new(false),
        })
    }

    pub fn limits(&self) -> ConnLimits {
        self.limits
    }

    /// Registers a just-accepted connection. At the cap the oldest idle
    /// connection is closed to make room; None when every open connection
    /// is busy (the caller drops the new one).
    pub fn admit(self: &Arc<Self>) -> Option<Admitted> {
        let mut open = self.lock();
        let live = open.values().filter(|c| !c.is_closing()).count();
        if live >= self.limits.max_connections && !evict_oldest_idle(&open) {
            drop(open);
            if !self.refusing.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    max = self.limits.max_connections,
                    "refusing new connections: all {} open connections are busy",
                    self.limits.max_connections
                );
            }
            return None;
        }
        if self.refusing.swap(false, Ordering::Relaxed) {
            tracing::info!("accepting new connections again");
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        let conn = Arc::new(Conn {
            id,
            epoch: self.epoch,
            in_flight: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            last_active_ms: AtomicU64::new(now),
            sending: AtomicUsize::new(0),
            last_sent_ms: AtomicU64::new(now),
            close: tokio::sync::watch::Sender::new(None),
            parked: AtomicBool::new(false),
            park: tokio::sync::Notify::new(),
        });
        open.insert(id, conn.clone());
        Some(Admitted {
            conn,
            registry: self.clone(),
        })
    }

    /// Closes the oldest idle connection (when out of file descriptors).
    pub fn shed_one(&self) -> bool {
        evict_oldest_idle(&self.lock())
    }

    /// How many connections are open (including those closing).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Asks every connection to close (gracefully: in-flight requests finish).
    pub fn close_all(&self) {
        for conn in self.lock().values() {
            conn.request_close(CloseReason::Shutdown);
        }
    }

    /// Waits until no connection is open.
    pub async fn wait_empty(&self) {
        loop {
            let emptied = self.emptied.notified();
            tokio::pin!(emptied);
            emptied.as_mut().enable();
            if self.is_empty() {
                return;
            }
            emptied.await;
        }
    }

    /// Closes connections that sat idle or stalled too long, until `stop`.
    pub async fn sweep(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let shortest = self
            .limits
            .first_request_timeout
            .min(self.limits.idle_timeout)
            .min(self.limits.send_stall_timeout);
        // A quarter of the shortest timeout: a connection outlives its
        // deadline by at most that much.
        let period = (shortest / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => self.sweep_once(),
                _ = stop.changed() => return,
            }
        }
    }

    fn sweep_once(&self) {
        let now = self.now_ms();
        let limits = self.limits;
        for conn in self.lock().values() {
            if conn.is_closing() {
                continue;
            }
            if conn.in_flight.load(Ordering::Acquire) == 0 {
                let (limit, reason) = if conn.served.load(Ordering::Relaxed) == 0 {
                    (limits.first_request_timeout, CloseReason::NoRequest)
                } else {
                    (limits.idle_timeout, CloseReason::Idle)
                };
                let since = now.saturating_sub(conn.last_active_ms.load(Ordering::Acquire));
                if since >= millis(limit) {
                    conn.request_close(reason);
                } else if since >= millis(PARK_AFTER) && !conn.parked.swap(true, Ordering::AcqRel) {
                    conn.park.notify_one();
                }
            } else if conn.sending.load(Ordering::Acquire) > 0 {
                let since = now.saturating_sub(conn.last_sent_ms.load(Ordering::Acquire));
                if since >= millis(limits.send_stall_timeout) {
                    conn.request_close(CloseReason::Stalled);
                }
            }
        }
    }

    fn now_ms(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        // Plain bookkeeping: a panic elsewhere cannot leave it inconsistent.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Asks the oldest idle connection (least recently active) to close.
fn evict_oldest_idle(open: &BTreeMap<u64, Arc<Conn>>) -> bool {
    let oldest = open
        .values()
        .filter(|c| !c.is_closing() && c.in_flight.load(Ordering::Acquire) == 0)
        .min_by_key(|c| c.last_active_ms.load(Ordering::Acquire));
    match oldest {
        Some(conn) => {
            conn.request_close(CloseReason::Evicted);
            true
        }
        None => false,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Conn {
    fn now_ms(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    /// Restarts the idle clock (the TLS handshake just finished).
    pub fn touch(&self) {
        self.last_active_ms.store(self.now_ms(), Ordering::Release);
    }

    pub fn request_close(&self, reason: CloseReason) {
        self.close.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    pub fn is_closing(&self) -> bool {
        self.close.borrow().is_some()
    }

    /// Requests seen so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Completes when the sweeper asks this idle connection to park.
    pub async fn parking(&self) {
        self.park.notified().await;
    }

    /// Completes when the connection is asked to close, with the reason.
    pub async fn closing(&self) -> CloseReason {
        let mut rx = self.close.subscribe();
        let reason = rx.wait_for(Option::is_some).await.ok().and_then(|r| *r);
        // The sender lives in `self`, so the channel cannot close first.
        reason.unwrap_or(CloseReason::Shutdown)
    }

    /// A request started: the connection is busy until the guard (carried
    /// by the response body) is dropped.
    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.served.fetch_add(1, Ordering::Relaxed);
        self.parked.store(false, Ordering::Release);
        self.touch();
        InFlight {
            conn: self.clone(),
            sending: false,
        }
    }
}

/// Keeps its connection busy while alive.
struct InFlight {
    conn: Arc<Conn>,
    sending: bool,
}

impl InFlight {
    fn start_sending(&mut self) {
        if !self.sending {
            self.sending = true;
            self.conn.sending.fetch_add(1, Ordering::AcqRel);
            self.progress();
        }
    }

    fn progress(&self) {
        self.conn
            .last_sent_ms
            .store(self.conn.now_ms(), Ordering::Release);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.sending {
            self.conn.sending.fetch_sub(1, Ordering::AcqRel);
        }
        self.conn.touch();
        self.conn.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection busy until it is sent, and
/// reports each chunk taken as progress.
struct TrackedBody {
    inner: Body,
    guard: Option<InFlight>,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => self.guard = None,
            Poll::Ready(Some(Ok(_))) => {
                if let Some(guard) = &self.guard {
                    guard.progress();
                }
                if self.inner.is_end_stream() {
                    self.guard = None;
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `inner` with every request counted as activity on `conn`.
pub fn track<S, E>(
    inner: S,
    conn: Arc<Conn>,
) -> impl tower::Service<
    axum::http::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = E,
    Future = impl std::future::Future<Output = Result<axum::response::Response, E>> + Send,
> + Clone
where
    S: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = E,
        > + Clone
        + Send
        + 'static,
    S::Future: Send,
    E: Send + 'static,
{
    use tower::ServiceExt;
    tower::service_fn(move |req: axum::http::Request<hyper::body::Incoming>| {
        let mut guard = conn.request_started();
        let inner = inner.clone();
        async move {
            let response = inner.oneshot(req).await?;
            guard.start_sending();
            Ok(response.map(|body| {
                if body.is_end_stream() {
                    // Nothing to send: done (dropping the guard).
                    drop(guard);
                    body
                } else {
                    Body::new(TrackedBody {
                        inner: body,
                        guard: Some(guard),
                    })
                }
            }))
        }
    })
}

/// How many connections the process can hold: the configured cap, lowered
/// to what the file-descriptor limit leaves (minus a reserve for the
/// listeners, the journal, config and cert files), so accept never meets
/// EMFILE while idle connections could have been shed instead.
pub fn fd_bounded(max_connections: usize) -> usize {
    const RESERVE: u64 = 64;
    match open_files_limit() {
        Some(limit) => {
            let budget = limit.saturating_sub(RESERVE).max(8);
            max_connections.min(usize::try_from(budget).unwrap_or(usize::MAX))
        }
        None => max_connections,
    }
}

#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not on every unix
fn open_files_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (rc == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as u64)
}

#[cfg(not(unix))]
fn open_files_limit() -> Option<u64> {
    None
}

/// Says "accept failed" once per episode instead of once per attempt, and
/// backs off exponentially while it lasts.
#[derive(Default)]
pub struct AcceptErrors {
    failures: u64,
}

impl AcceptErrors {
    /// Records a failure; returns how long to wait before accepting again.
    pub fn failed(&mut self, error: &std::io::Error) -> Duration {
        self.failures += 1;
        if self.failures == 1 {
            tracing::warn!(
                "accept failed: {error}; shedding idle connections and retrying (said once until it recovers)"
            );
        }
        let exponent = u32::try_from(self.failures.min(5)).unwrap_or(5);
        Duration::from_millis(10 << exponent) // 20 ms .. 320 ms
    }

    pub fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "accept works again");
            self.failures = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize) -> ConnLimits {
        ConnLimits {
            max_connections: max,
            first_request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            send_stall_timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn at_the_cap_the_oldest_idle_connection_goes_first() {
        let registry = Connections::new(limits(2));
        let first = registry.admit().unwrap();
        std::thread::sleep(Duration::from_millis(3));
        let second = registry.admit().unwrap();
        second.touch();
        let busy = first.conn.request_started();
        let third = registry.admit().expect("room is made");
        // first is busy, so the idle second one went.
        assert!(!first.is_closing());
        assert_eq!(*second.close.borrow(), Some(CloseReason::Evicted));
        drop(busy);
        assert!(!third.is_closing());
    }

    #[test]
    fn all_busy_refuses_the_newcomer() {
        let registry = Connections::new(limits(1));
        let only = registry.admit().unwrap();
        let _busy = only.conn.request_started();
        assert!(registry.admit().is_none());
        assert!(!only.is_closing());
    }

    #[test]
    fn unregisters_on_drop() {
        let registry = Connections::new(limits(4));
        let a = registry.admit().unwrap();
        assert_eq!(registry.len(), 1);
        drop(a);
        assert!(registry.is_empty());
    }
}
