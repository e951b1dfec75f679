//! The WeChat-style confirm window: where an authorize request waits for
//! the person at the laptop.
//!
//! Requests arrive as [`ApprovalEvent`]s from the embedded server. They
//! queue in [`ConfirmQueue`] and are shown one after another in a single
//! 360x263 window labelled `confirm`, placed where the login page asked
//! (clamped to the screen). The page renders a request, then calls
//! `confirm_rendered`; only then is the window shown and focused, so it
//! never flashes the previous request. Allow/Deny come back through
//! `confirm_decide`; closing the window denies. A request that ends any other
//! way (deadline, client gone, decided elsewhere) leaves the queue through
//! its `Finished` event, so nothing is shown for a request nobody waits on.
//!
//! Speed versus memory: a new webview costs WebKit a process start (a few
//! hundred ms), a loaded hidden one costs ~100 MB. So the window is loaded
//! (hidden) when a login page shows up — its check-login, which comes
//! before any authorize — and dropped again after a quiet while
//! ([`Warmth`]). Idle, no WebKit process runs; when the person clicks
//! "log in", the window is already there.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tauri::{
    AppHandle, Emitter, LogicalPosition, Manager, Runtime, WebviewUrl, WebviewWindow,
    WebviewWindowBuilder,
};
use tokio::sync::broadcast::error::RecvError;
use wxemu::core::approval::{ApprovalEvent, ApprovalMode, AuthorizeRequest, Position};
use wxemu::core::endpoint::Endpoint;
use wxemu::core::journal::Filter;
use wxemu::Emulator;

use crate::Desktop;

pub const WINDOW_LABEL: &str = "confirm";
/// The real client's confirm window size, which the login page centres.
pub const WIDTH: f64 = 360.0;
pub const HEIGHT: f64 = 263.0;
/// Event carrying the request to render to an already loaded window.
pub const REQUEST_EVENT: &str = "confirm:request";

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
    fn touch(&self) -> Option<Duration> {
        let keep_for = self.keep_for.filter(|d| !d.is_zero())?;
        *lock(&self.until) = Some(Instant::now() + keep_for);
        Some(keep_for)
    }

    fn keep_loaded(&self) -> bool {
        match self.keep_for {
            None => true,
            Some(_) => lock(&self.until).is_some_and(|until| Instant::now() < until),
        }
    }
}

/// Loads the hidden confirm window whenever a login page asks check-login,
/// for as long as `emulator` runs.
pub async fn warm_on_check_login<R: Runtime>(app: AppHandle<R>, emulator: Arc<Emulator>) {
    let mut since = emulator
        .journal
        .list(&Filter::default(), Some(1))
        .last()
        .map_or(0, |e| e.id);
    loop {
        let filter = Filter {
            endpoint: Some(Endpoint::CheckLogin),
            since: Some(since),
            ..Filter::default()
        };
        let Some(entry) = emulator
            .journal
            .wait(&filter, Duration::from_secs(600))
            .await
        else {
            if app.state::<Desktop>().server.emulator().is_none() {
                return;
            }
            continue;
        };
        since = entry.id;
        tracing::debug!(id = entry.id, errcode = ?entry.errcode, "check-login seen");
        if entry.errcode == Some(0) && emulator.approvals.mode() == ApprovalMode::Ask {
            warm(&app);
        }
    }
}

/// Loads the hidden window (if needed) and drops it after the warm period
/// unless something used it since.
fn warm<R: Runtime>(app: &AppHandle<R>) {
    let Some(keep_for) = app.state::<Desktop>().warmth.touch() else {
        return;
    };
    if app.get_webview_window(WINDOW_LABEL).is_none() {
        if let Err(e) = build(app, None) {
            tracing::warn!("cannot load the confirm window ahead: {e}");
            return;
        }
        tracing::debug!("confirm window loaded ahead (check-login)");
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(keep_for + Duration::from_millis(50)).await;
        cool_down(&app);
    });
}

/// Drops the hidden window once it is neither shown nor warm.
fn cool_down<R: Runtime>(app: &AppHandle<R>) {
    let desktop = app.state::<Desktop>();
    if desktop.warmth.keep_loaded() || !lock(&desktop.confirm).is_empty() {
        return;
    }
    if let Some(window) = app.get_webview_window(WINDOW_LABEL) {
        if !window.is_visible().unwrap_or(false) {
            // Closing the webview lets WebKit's processes go.
            let _ = window.destroy();
            tracing::debug!("confirm window unloaded");
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

    pub fn last_latency_ms(&self) -> Option<u64> {
        self.last_latency_ms
    }
}

/// What the confirm page renders: the request, plus what the page cannot
/// compute or fetch itself.
#[derive(Debug, Clone, Serialize)]
pub struct ConfirmView {
    #[serde(flatten)]
    pub request: AuthorizeRequest,
    /// The avatar as a `data:` URL when it is wxemu's own (the webview need
    /// not trust wxemu's CA), else the account's URL.
    pub avatar: String,
    /// Wall-clock deadline (Unix milliseconds): the countdown's end.
    pub deadline_ms: u64,
    /// Requests waiting behind this one.
    pub queued: usize,
}

pub fn view(emulator: Option<&Emulator>, request: &AuthorizeRequest, queued: usize) -> ConfirmView {
    let own = emulator.is_some_and(|e| request.headimgurl.starts_with(&e.base_url()));
    let avatar = if own || request.headimgurl.is_empty() {
        let svg = wxemu::core::avatar::svg(&request.account_id, &request.nickname);
        format!(
            "data:image/svg+xml;charset=utf-8,{}",
            percent_encoding::utf8_percent_encode(&svg, percent_encoding::NON_ALPHANUMERIC)
        )
    } else {
        request.headimgurl.clone()
    };
    let deadline = request.received_at + request.timeout;
    ConfirmView {
        request: request.clone(),
        avatar,
        deadline_ms: deadline
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
        queued,
    }
}

/// The view of the request shown now.
pub fn current_view<R: Runtime>(app: &AppHandle<R>) -> Option<ConfirmView> {
    let (showing, queued) = {
        let q = queue(app);
        (q.showing()?, q.waiting.len())
    };
    let emu = app.state::<Desktop>().server.emulator();
    Some(view(emu.as_deref(), &showing, queued))
}

/// A screen area in logical pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// Where the window goes: the page's position, kept fully on the screen
/// that contains it (or the first one); centred when the page sent none.
pub fn place(position: Option<Position>, screens: &[Area]) -> (f64, f64) {
    let Some(first) = screens.first() else {
        return position.map(|p| (p.x, p.y)).unwrap_or((0.0, 0.0));
    };
    let Some(p) = position.filter(|p| p.x.is_finite() && p.y.is_finite()) else {
        return (
            first.x + ((first.width - WIDTH) / 2.0).max(0.0),
            first.y + ((first.height - HEIGHT) / 2.0).max(0.0),
        );
    };
    let screen = screens
        .iter()
        .find(|s| p.x >= s.x && p.x < s.x + s.width && p.y >= s.y && p.y < s.y + s.height)
        .unwrap_or(first);
    let clamp =
        |v: f64, start: f64, len: f64, size: f64| v.min(start + len - size).max(start).round();
    (
        clamp(p.x, screen.x, screen.width, WIDTH),
        clamp(p.y, screen.y, screen.height, HEIGHT),
    )
}

/// The usable areas of the screens (work areas, without panels), in
/// logical pixels.
fn screens<R: Runtime>(app: &AppHandle<R>) -> Vec<Area> {
    let mut monitors = app.available_monitors().unwrap_or_default();
    if let Ok(Some(primary)) = app.primary_monitor() {
        // The primary screen first: it is the fallback.
        monitors.sort_by_key(|m| m.name() != primary.name());
    }
    monitors
        .iter()
        .map(|m| {
            let scale = m.scale_factor().max(0.1);
            let area = m.work_area();
            Area {
                x: f64::from(area.position.x) / scale,
                y: f64::from(area.position.y) / scale,
                width: f64::from(area.size.width) / scale,
                height: f64::from(area.size.height) / scale,
            }
        })
        .collect()
}

/// Follows the approval events of `emulator` for as long as it runs.
pub async fn follow<R: Runtime>(app: AppHandle<R>, emulator: Arc<Emulator>) {
    let mut events = emulator.approvals.subscribe();
    loop {
        let change = match events.recv().await {
            Ok(ApprovalEvent::Requested(request)) => {
                // Only `ask` waits for a person; `never` is for testing
                // the deadline, so nobody is asked.
                if emulator.approvals.mode() != ApprovalMode::Ask {
                    continue;
                }
                queue(&app).push(request)
            }
            Ok(ApprovalEvent::Finished { id, .. }) => queue(&app).finish(id),
            Err(RecvError::Lagged(_)) => {
                // Missed events: start over from what is really pending.
                let mut q = queue(&app);
                let pending = emulator.approvals.pending();
                let gone: Vec<u64> = q
                    .showing
                    .iter()
                    .chain(&q.waiting)
                    .filter(|r| !pending.iter().any(|p| p.id == r.id))
                    .map(|r| r.id)
                    .collect();
                let mut change = Change::None;
                for id in gone {
                    change = merge(change, q.finish(id));
                }
                for request in pending {
                    change = merge(change, q.push(request));
                }
                change
            }
            Err(RecvError::Closed) => return,
        };
        apply(&app, change);
    }
}

fn merge(before: Change, after: Change) -> Change {
    match after {
        Change::None => before,
        other => other,
    }
}

fn queue<R: Runtime>(app: &AppHandle<R>) -> std::sync::MutexGuard<'_, ConfirmQueue> {
    lock(&app.state::<Desktop>().inner().confirm)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes the window follow the queue.
pub fn apply<R: Runtime>(app: &AppHandle<R>, change: Change) {
    match change {
        Change::None => {}
        Change::Show(request) => show(app, &request),
        Change::Hide => hide(app),
    }
}

fn show<R: Runtime>(app: &AppHandle<R>, request: &AuthorizeRequest) {
    let (x, y) = place(request.position, &screens(app));
    if let Some(window) = app.get_webview_window(WINDOW_LABEL) {
        let _ = window.set_position(LogicalPosition::new(x, y));
        // The loaded page renders it and calls `confirm_rendered`.
        if let Some(view) = current_view(app) {
            let _ = window.emit_to(WINDOW_LABEL, REQUEST_EVENT, view);
        }
        return;
    }
    // The new page asks for the request itself (`confirm_current`).
    if let Err(e) = build(app, Some((x, y))) {
        tracing::error!("cannot open the confirm window: {e}");
    }
}

/// Creates the (hidden) confirm window.
pub fn build<R: Runtime>(
    app: &AppHandle<R>,
    position: Option<(f64, f64)>,
) -> tauri::Result<WebviewWindow<R>> {
    let (x, y) = position.unwrap_or((0.0, 0.0));
    WebviewWindowBuilder::new(app, WINDOW_LABEL, WebviewUrl::App("confirm.html".into()))
        .title("微信 WeChat")
        .inner_size(WIDTH, HEIGHT)
        .position(x, y)
        .resizable(false)
        .maximizable(false)
        .minimizable(false)
        .decorations(false)
        .always_on_top(true)
        .skip_taskbar(true)
        .visible(false)
        .focused(true)
        .build()
}

fn hide<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(WINDOW_LABEL) else {
        return;
    };
    let _ = window.hide();
    // Someone is logging in: the next confirm may follow soon.
    warm(app);
    cool_down(app);
}

/// The page rendered request `id`: show the window, on top and focused.
pub fn rendered<R: Runtime>(app: &AppHandle<R>, id: u64) -> Option<u64> {
    let showing = queue(app).showing()?;
    if showing.id != id {
        return None;
    }
    let window = app.get_webview_window(WINDOW_LABEL)?;
    let (x, y) = place(showing.position, &screens(app));
    let _ = window.set_position(LogicalPosition::new(x, y));
    let _ = window.show();
    let _ = window.set_always_on_top(true);
    let _ = window.set_focus();
    let latency = since(showing.received_at);
    tracing::info!(id, latency_ms = latency, x, y, "confirm window shown");
    Some(latency)
}

/// The page painted request `id` in the shown window.
pub fn painted<R: Runtime>(app: &AppHandle<R>, id: u64) -> Option<u64> {
    let mut q = queue(app);
    let showing = q.showing()?;
    if showing.id != id {
        return None;
    }
    let latency = since(showing.received_at);
    q.last_latency_ms = Some(latency);
    tracing::info!(id, latency_ms = latency, "confirm window painted");
    Some(latency)
}

fn since(t: SystemTime) -> u64 {
    SystemTime::now()
        .duration_since(t)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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

    const SCREEN: Area = Area {
        x: 0.0,
        y: 0.0,
        width: 1280.0,
        height: 800.0,
    };

    #[test]
    fn the_window_goes_where_the_page_asked() {
        let at = |x, y| Some(Position { x, y });
        assert_eq!(place(at(576.0, 391.5), &[SCREEN]), (576.0, 392.0));
        // Kept whole on the screen.
        assert_eq!(place(at(1200.0, 700.0), &[SCREEN]), (920.0, 537.0));
        assert_eq!(place(at(-50.0, -10.0), &[SCREEN]), (0.0, 0.0));
        // Centred without a position.
        assert_eq!(place(None, &[SCREEN]), (460.0, 268.5));
        // On the screen that contains the point.
        let right = Area {
            x: 1280.0,
            ..SCREEN
        };
        assert_eq!(place(at(1400.0, 100.0), &[SCREEN, right]), (1400.0, 100.0));
        assert_eq!(place(at(2500.0, 100.0), &[SCREEN, right]), (2200.0, 100.0));
        // Off every screen: onto the first.
        assert_eq!(place(at(9000.0, 9000.0), &[SCREEN, right]), (920.0, 537.0));
        assert_eq!(place(at(f64::NAN, 3.0), &[SCREEN]), (460.0, 268.5));
    }
}
