//! The confirm window's bookkeeping, apart from any window: the queue of
//! requests waiting for the person ([`ConfirmQueue`]: the shown one first,
//! then the rest in arrival order) and how long the hidden window stays
//! loaded ([`Warmth`]). [`crate::confirm`] makes the window follow them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wxemu::core::AuthorizeRequest;

use wxemu::core::lock;

/// Requests waiting for the person, the shown one first.
#[derive(Default)]
pub struct ConfirmQueue {
    showing: Option<Arc<AuthorizeRequest>>,
    waiting: VecDeque<Arc<AuthorizeRequest>>,
    /// Request arrival to the window painted on screen, last time, in ms.
    last_latency_ms: Option<u64>,
}

/// How long the hidden confirm window stays loaded after the last
/// check-login or confirm; `None`: always (`--prewarm-confirm`).
#[derive(Debug)]
pub struct Warmth {
    keep_for: Option<Duration>,
    until: Mutex<Option<Instant>>,
}

impl Warmth {
    pub fn new(keep_for: Option<Duration>) -> Warmth {
        Warmth {
            keep_for,
            until: Mutex::new(None),
        }
    }

    /// `--prewarm-confirm`: the window is loaded all the time.
    pub fn always(&self) -> bool {
        self.keep_for.is_none()
    }

    /// Something happened that may lead to a confirm: stay warm a while.
    pub(crate) fn touch(&self) -> Option<Duration> {
        let keep_for = self.keep_for.filter(|d| !d.is_zero())?;
        *lock(&self.until) = Some(Instant::now() + keep_for);
        Some(keep_for)
    }

    pub(crate) fn keep_loaded(&self) -> bool {
        match self.keep_for {
            None => true,
            Some(_) => lock(&self.until).is_some_and(|until| Instant::now() < until),
        }
    }
}

/// What the window has to do after a queue change.
#[derive(Debug)]
pub enum Change {
    None,
    Show(Arc<AuthorizeRequest>),
    Hide,
}

impl PartialEq for Change {
    fn eq(&self, other: &Change) -> bool {
        match (self, other) {
            (Change::None, Change::None) | (Change::Hide, Change::Hide) => true,
            (Change::Show(a), Change::Show(b)) => a.id == b.id,
            _ => false,
        }
    }
}

impl ConfirmQueue {
    /// Queues `request`; shows it when nothing else is shown.
    pub fn push(&mut self, request: Arc<AuthorizeRequest>) -> Change {
        let known = self
            .showing
            .iter()
            .chain(&self.waiting)
            .any(|r| r.id == request.id);
        if known {
            return Change::None;
        }
        if self.showing.is_none() {
            self.showing = Some(request.clone());
            Change::Show(request)
        } else {
            self.waiting.push_back(request);
            Change::None
        }
    }

    /// Drops request `id` (answered, timed out, withdrawn); moves on to the
    /// next one when it was the shown one.
    pub fn finish(&mut self, id: u64) -> Change {
        self.waiting.retain(|r| r.id != id);
        if self.showing.as_ref().is_some_and(|r| r.id == id) {
            self.showing = self.waiting.pop_front();
            match &self.showing {
                Some(next) => Change::Show(next.clone()),
                None => Change::Hide,
            }
        } else {
            Change::None
        }
    }

    pub fn showing(&self) -> Option<Arc<AuthorizeRequest>> {
        self.showing.clone()
    }

    pub fn len(&self) -> usize {
        self.waiting.len() + usize::from(self.showing.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The requests waiting behind the shown one.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Every queued request's id, the shown one first.
    pub fn ids(&self) -> Vec<u64> {
        self.showing
            .iter()
            .chain(&self.waiting)
            .map(|r| r.id)
            .collect()
    }

    pub fn last_latency_ms(&self) -> Option<u64> {
        self.last_latency_ms
    }

    pub fn set_last_latency_ms(&mut self, ms: u64) {
        self.last_latency_ms = Some(ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn request(id: u64) -> Arc<AuthorizeRequest> {
        Arc::new(AuthorizeRequest {
            id,
            appid: "wx1".into(),
            app_name: "Demo".into(),
            app_icon_url: String::new(),
            site: "example.com".into(),
            redirect_uri: "https://example.com/cb".into(),
            origin: None,
            account_id: "default".into(),
            nickname: "n".into(),
            headimgurl: String::new(),
            position: None,
            received_at: SystemTime::now(),
            timeout: Duration::from_secs(60),
        })
    }

    #[test]
    fn requests_queue_and_are_shown_one_after_another() {
        let mut q = ConfirmQueue::default();
        assert_eq!(q.push(request(1)), Change::Show(request(1)));
        assert_eq!(q.push(request(2)), Change::None);
        assert_eq!(q.push(request(3)), Change::None);
        assert_eq!(q.push(request(2)), Change::None, "no duplicates");
        assert_eq!(q.len(), 3);
        // 2 times out while waiting: it is dropped without being shown.
        assert_eq!(q.finish(2), Change::None);
        assert_eq!(q.finish(1), Change::Show(request(3)));
        assert_eq!(q.finish(3), Change::Hide);
        assert!(q.is_empty());
        assert_eq!(q.finish(3), Change::None);
    }
}
