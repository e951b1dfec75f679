//! Quitting: from the tray, `wxemu-desktop --quit`, SIGTERM/SIGINT. The
//! server stops first (held-open authorize calls answer 10046 at once), then
//! the app exits.

use std::sync::atomic::Ordering;

use tauri::{AppHandle, Manager, Runtime};

use crate::state::Desktop;

/// Stops the server cleanly (pending requests answer at once), then exits.
pub fn quit<R: Runtime>(app: AppHandle<R>) {
    if app.state::<Desktop>().quitting.swap(true, Ordering::SeqCst) {
        return;
    }
    tauri::async_runtime::spawn(async move {
        app.state::<Desktop>().server.stop().await;
        tracing::info!("bye");
        app.exit(0);
    });
}

/// SIGTERM/SIGINT quit like the tray's Quit.
pub fn watch_signals<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
        }
        quit(app);
    });
}
