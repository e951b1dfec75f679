//! How the views learn that the state changed: one app-wide event,
//! [`CHANGED_EVENT`], that the pages listen to (to refresh) and the tray
//! listens to (to rebuild its menu and icon). Whoever changes something
//! calls [`changed`]; nobody calls the views directly, so the views and the
//! code that changes state do not import each other.

use tauri::{AppHandle, Emitter, Runtime};
use wxemu::core::WebWxEvent;

/// Sent to every page and to the tray after a state change.
pub const CHANGED_EVENT: &str = "wxemu:changed";

/// Tells every view the state changed.
pub fn changed<R: Runtime>(app: &AppHandle<R>) {
    if let Err(e) = app.emit(CHANGED_EVENT, ()) {
        tracing::debug!("cannot send {CHANGED_EVENT}: {e}");
    }
}

/// Sent to the pages when a Web WeChat session starts or ends or a message
/// goes either way (the dashboard's chat view follows it live). Not
/// [`CHANGED_EVENT`]: the tray has nothing to show for it.
pub const WEBWX_EVENT: &str = "wxemu:webwx";

pub fn webwx<R: Runtime>(app: &AppHandle<R>, event: &WebWxEvent) {
    if let Err(e) = app.emit(WEBWX_EVENT, event) {
        tracing::debug!("cannot send {WEBWX_EVENT}: {e}");
    }
}
