//! What happens when the embedded server starts (at launch, or from the
//! dashboard's "Use port N"): the confirm window follows its requests, and
//! every view is told.

use std::sync::Arc;

use tauri::{AppHandle, Manager, Runtime};
use wxemu::core::ApprovalMode;
use wxemu::Emulator;

use crate::confirm;
use crate::events::changed;
use crate::state::Desktop;

/// Wires a freshly started server to the confirm window and the views.
pub fn on_server_started<R: Runtime>(app: &AppHandle<R>, emu: Arc<Emulator>) {
    // The confirm window is the decision source.
    emu.set_approval_mode(ApprovalMode::Ask);
    tauri::async_runtime::spawn(confirm::follow(app.clone(), emu.clone()));
    tauri::async_runtime::spawn(crate::wechat::follow_calls(app.clone(), emu.clone()));
    tauri::async_runtime::spawn(confirm::follow_events(app.clone(), emu));
    if app.state::<Desktop>().warmth.always()
        && app.get_webview_window(confirm::WINDOW_LABEL).is_none()
    {
        if let Err(e) = confirm::build(app, None) {
            tracing::warn!("cannot pre-create the confirm window: {e}");
        }
    }
    changed(app);
}
