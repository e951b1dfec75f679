//! Opening the app's own windows (other than the confirm window, which
//! follows the request queue in [`crate::confirm`]): the dashboard and the
//! first-run welcome window. Each is created on first use and shown again
//! (not re-created) afterwards.

use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

pub const DASHBOARD_LABEL: &str = "dashboard";
pub const DASHBOARD_TITLE: &str = "wxemu 控制台 Dashboard";
pub const WELCOME_LABEL: &str = "welcome";
pub const WELCOME_TITLE: &str = "欢迎使用 wxemu Welcome";

/// Shows the dashboard, creating it when needed.
pub fn open_dashboard<R: Runtime>(app: &AppHandle<R>) {
    show_dashboard(app, None);
}

/// Shows the dashboard on its tab `tab` (`h5`: the tray's "Open a page in
/// WeChat…", whose URL the tab asks for).
pub fn open_dashboard_at<R: Runtime>(app: &AppHandle<R>, tab: &str) {
    if app.get_webview_window(DASHBOARD_LABEL).is_some() {
        let _ = app.emit_to(DASHBOARD_LABEL, "wxemu:tab", tab);
    }
    let tab = serde_json::Value::from(tab);
    show_dashboard(app, Some(format!("window.__wxemuTab = {tab};")));
}

/// The dashboard window, with `init` run before its page on creation.
fn show_dashboard<R: Runtime>(app: &AppHandle<R>, init: Option<String>) {
    open(
        app,
        DASHBOARD_LABEL,
        "dashboard.html",
        DASHBOARD_TITLE,
        (980.0, 700.0),
        init,
    );
}

/// Shows the first-run welcome window (trust the CA, open the demo).
pub fn open_welcome<R: Runtime>(app: &AppHandle<R>) {
    open(
        app,
        WELCOME_LABEL,
        "welcome.html",
        WELCOME_TITLE,
        (560.0, 440.0),
        None,
    );
}

fn open<R: Runtime>(
    app: &AppHandle<R>,
    label: &str,
    page: &str,
    title: &str,
    size: (f64, f64),
    init: Option<String>,
) {
    if let Some(window) = app.get_webview_window(label) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let mut builder = WebviewWindowBuilder::new(app, label, WebviewUrl::App(page.into()));
    if let Some(script) = init {
        builder = builder.initialization_script(script);
    }
    let built = builder
        .title(title)
        .inner_size(size.0, size.1)
        .min_inner_size(size.0.min(640.0), size.1.min(420.0))
        .center()
        .build();
    match built {
        Ok(_) => tracing::info!(window = label, "window opened"),
        Err(e) => tracing::error!("cannot open the {label} window: {e}"),
    }
}
