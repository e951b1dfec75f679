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

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tauri::{
    AppHandle, Emitter, LogicalPosition, Manager, Runtime, WebviewUrl, WebviewWindow,
    WebviewWindowBuilder,
};
use tokio::sync::broadcast::error::RecvError;
use wxemu::core::Event;
use wxemu::core::{ApprovalEvent, ApprovalMode, AuthorizeRequest, Position};
use wxemu::Emulator;

pub use crate::confirm_queue::{Change, ConfirmQueue, Warmth};
use crate::events::changed;
use crate::state::Desktop;
use wxemu::core::lock;

pub const WINDOW_LABEL: &str = "confirm";
/// The real client's confirm window size, which the login page centres.
pub const WIDTH: f64 = 360.0;
pub const HEIGHT: f64 = 263.0;
/// Event carrying the request to render to an already loaded window.
pub const REQUEST_EVENT: &str = "confirm:request";

/// Follows the core's domain events for as long as `emulator` runs: a
/// login page's check-login (`CheckLoginServed`) loads the hidden confirm
/// window ahead of the authorize that may follow; a change of client state,
/// policy or config tells the views (tray, pages), whoever made it (the
/// control API too); Web WeChat's sessions and messages go to the
/// dashboard's chat view.
pub async fn follow_events<R: Runtime>(app: AppHandle<R>, emulator: Arc<Emulator>) {
    let mut events = emulator.subscribe();
    loop {
        // This task holds the emulator, so its events never close: look
        // now and then whether the server it belongs to is still running.
        match tokio::time::timeout(Duration::from_secs(600), events.recv()).await {
            Ok(Some(Event::CheckLoginServed { appid, .. })) => {
                tracing::debug!(appid, "check-login served");
                if emulator.approval_mode() == ApprovalMode::Ask {
                    warm(&app);
                }
            }
            // A reset also drops sessions, codes and registered apps.
            Ok(Some(
                Event::ClientChanged | Event::ConfigChanged | Event::Reset | Event::Missed(_),
            )) => changed(&app),
            Ok(Some(Event::Webwx(event))) => crate::events::webwx(&app, &event),
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(_) => {
                if app.state::<Desktop>().server.emulator().is_none() {
                    return;
                }
            }
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
            crate::memory::trim_in_background();
            tracing::debug!("confirm window unloaded");
        }
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
        let svg = wxemu::core::avatar_svg(&request.account_id, &request.nickname);
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
        (q.showing()?, q.waiting())
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
    let mut events = emulator.subscribe_approvals();
    loop {
        let change = match events.recv().await {
            Ok(ApprovalEvent::Requested(request)) => {
                // Only `ask` waits for a person; `never` is for testing
                // the deadline, so nobody is asked.
                if emulator.approval_mode() != ApprovalMode::Ask {
                    continue;
                }
                queue(&app).push(request)
            }
            Ok(ApprovalEvent::Finished { id, .. }) => queue(&app).finish(id),
            Err(RecvError::Lagged(_)) => {
                // Missed events: start over from what is really pending.
                let mut q = queue(&app);
                let pending = emulator.pending_authorizations();
                let gone: Vec<u64> = q
                    .ids()
                    .into_iter()
                    .filter(|id| !pending.iter().any(|p| p.id == *id))
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
        // The tray's badge and the pages' pending lists follow the queue.
        changed(&app);
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
    q.set_last_latency_ms(latency);
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
