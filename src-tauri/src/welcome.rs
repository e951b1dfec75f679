//! First run: when the CA is not trusted the app opens the welcome window
//! (what wxemu is, a Trust button, an Open-the-demo button); when it is, the
//! app starts straight to the tray. The trust check runs the stores' tools,
//! so it runs off the UI thread, after the server is up.

use tauri::{AppHandle, Manager, Runtime};

use crate::state::Desktop;
use crate::trust::{self, TrustInfo};
use crate::windows::open_welcome;
use wxemu::core::lock;

/// Checks the CA's trust, remembers the answer for the pages, and opens
/// the welcome window when it is not trusted (unless `--no-welcome`).
pub fn check_at_start<R: Runtime>(app: &AppHandle<R>, show_welcome: bool) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(info) = refresh(&app).await else {
            return;
        };
        // Start-up is over (server up, stores asked): give back what it freed.
        crate::memory::trim_in_background();
        if info.trusted() {
            tracing::info!("the CA is trusted: starting to the tray");
        } else if show_welcome {
            tracing::info!(status = ?info.status, "the CA is not trusted: opening the welcome window");
            open_welcome(&app);
        } else {
            tracing::info!(status = ?info.status, "the CA is not trusted (--no-welcome: no welcome window)");
        }
    });
}

/// Asks every store again; the answer is kept for `status`.
pub async fn refresh<R: Runtime>(app: &AppHandle<R>) -> Result<TrustInfo, String> {
    let data_dir = app.state::<Desktop>().server.options().data_dir;
    let info = tauri::async_runtime::spawn_blocking(move || trust::info(&data_dir))
        .await
        .map_err(|e| format!("the trust check stopped: {e}"))?;
    *lock(&app.state::<Desktop>().trust) = Some(info.clone());
    Ok(info)
}
