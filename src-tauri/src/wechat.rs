//! The WeChat-browser window: any page (`http://localhost:5173` too) in a
//! phone-sized window that plays WeChat's in-app browser, so the page's
//! real jweixin works as it would on a phone.
//!
//! - The webview says WeChat's User-Agent (the library's `IOS_UA`) and
//!   runs wxemu's bridge (`/h5/bridge.js`'s text, rendered by the library)
//!   and then the browser's own parts (`ui/desktop/wechat-chrome.js`: title
//!   bar, the "..." menu, the share card, the pay and scan sheets) before
//!   the page's scripts.
//! - All its traffic goes through wxemu's interception proxy, so WeChat's
//!   hosts (`open.weixin.qq.com`...) reach wxemu; the window has its own
//!   data directory, so the proxy touches no other window.
//! - WebKitGTK trusts wxemu's certificates for this window only: wxemu's
//!   own leaf for `localhost.weixin.qq.com` (the bridge's calls), and a
//!   page whose certificate chains to wxemu's CA or its interception CA,
//!   for that host (`load-failed-with-tls-errors`). Never "ignore TLS
//!   errors", never a system-wide change.
//! - One overlay in the page, not a second webview for the bar: the page's
//!   window is then an ordinary top-level window, which behaves the same
//!   under Xvfb and every window manager (Tauri's multiwebview is
//!   `unstable` and positions child webviews differently per platform).
//!   The page gets no IPC: the overlay's clicks that need the app (close,
//!   the person's answer to a pay or scan sheet) arrive as a navigation to
//!   `wxemu-desktop://...`, which this module cancels and acts on.
//! - While a WeChat window is open it is a decision source for pay and
//!   scan calls (`Emulator::h5_decision_source`): a call with no queued
//!   outcome waits in the core, and the window shows the sheet.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::json;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder};
use tokio::sync::broadcast::error::RecvError;
use url::Url;
use wxemu::core::lock;
use wxemu::core::OutcomeResult;
use wxemu::core::{H5CallEvent, PendingCall};
use wxemu::Emulator;

use crate::events::changed;
use crate::state::Desktop;

/// Labels of WeChat windows start with this.
pub const LABEL_PREFIX: &str = "wechat-";
/// The window's title until the page has one.
pub const TITLE: &str = "微信 WeChat 浏览器";
/// A phone's screen, in logical pixels (iPhone 14's).
pub const WIDTH: f64 = 390.0;
pub const HEIGHT: f64 = 844.0;
/// The scheme of the overlay's messages to the app.
const SCHEME: &str = "wxemu-desktop";
const CHROME_JS: &str = include_str!("../../ui/desktop/wechat-chrome.js");

static NEXT: AtomicU64 = AtomicU64::new(1);

/// The page to open: `localhost:5173` means `http://localhost:5173`; only
/// http and https.
pub fn page_url(input: &str) -> Result<Url, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("enter the page's URL, e.g. http://localhost:5173".into());
    }
    let with_scheme = if input.contains("://") {
        input.to_owned()
    } else {
        format!("http://{input}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| format!("{input}: not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!(
            "{input}: a WeChat window opens http and https pages, not {other}:"
        )),
    }
}

/// What the bridge and the overlay need, before the page's own scripts.
pub fn initialization_script(emu: &Emulator) -> String {
    format!(
        "{}\n;\n{}",
        wxemu::h5::script_text(&emu.base_url(), "ios"),
        CHROME_JS
    )
}

/// Opens `url` in a new WeChat window; returns its label.
pub fn open<R: Runtime>(app: &AppHandle<R>, url: &str) -> Result<String, String> {
    let url = page_url(url)?;
    let desktop = app.state::<Desktop>();
    let emu = desktop.emulator()?;
    let label = format!("{LABEL_PREFIX}{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let data_dir = desktop.server.options().data_dir;
    let height = screen_height(app).map_or(HEIGHT, |h| HEIGHT.min(h - 40.0).max(480.0));
    let handle = app.clone();
    let own = label.clone();
    let mut builder = WebviewWindowBuilder::new(app, &label, WebviewUrl::External(url.clone()))
        .title(TITLE)
        .inner_size(WIDTH, height)
        .resizable(true)
        .center()
        .user_agent(wxemu::h5::IOS_UA)
        .initialization_script(initialization_script(&emu))
        // Its own web context: the proxy below applies to it alone.
        .data_directory(data_dir.join("wechat-webview"))
        .on_navigation(move |to| {
            if to.scheme() != SCHEME {
                return true;
            }
            from_overlay(&handle, &own, to);
            false
        })
        .on_document_title_changed(|window, title| {
            let title = if title.trim().is_empty() {
                TITLE.to_owned()
            } else {
                format!("{} · 微信 WeChat", title.trim())
            };
            let _ = window.set_title(&title);
        });
    match emu.listening().intercept.as_ref().and_then(|i| i.proxy) {
        Some(proxy) => {
            let proxy = Url::parse(&format!("http://{proxy}")).map_err(|e| e.to_string())?;
            builder = builder.proxy_url(proxy);
        }
        None => tracing::warn!(
            "interception proxy off: WeChat's hosts in this window go to the real WeChat"
        ),
    }
    let window = builder
        .build()
        .map_err(|e| format!("cannot open a WeChat window: {e}"))?;
    #[cfg(target_os = "linux")]
    tls::trust_wxemu(&window, &data_dir, &emu);
    lock(&desktop.wechat).insert(label.clone(), emu.h5_decision_source());
    tracing::info!(window = %label, %url, "WeChat window opened");
    Ok(label)
}

/// A WeChat window went away: it no longer answers pay and scan calls.
pub fn closed<R: Runtime>(app: &AppHandle<R>, label: &str) {
    lock(&app.state::<Desktop>().wechat).remove(label);
}

fn screen_height<R: Runtime>(app: &AppHandle<R>) -> Option<f64> {
    let monitor = app.primary_monitor().ok()??;
    let scale = monitor.scale_factor().max(0.1);
    Some(f64::from(monitor.work_area().size.height) / scale)
}

/// The overlay asked for something (`wxemu-desktop://close`,
/// `wxemu-desktop://decide?id=&result=ok|cancel[&text=]`).
fn from_overlay<R: Runtime>(app: &AppHandle<R>, label: &str, message: &Url) {
    match message.host_str() {
        Some("close") => {
            if let Some(window) = app.get_webview_window(label) {
                // Not from inside WebKit's policy callback.
                tauri::async_runtime::spawn(async move {
                    let _ = window.close();
                });
            }
        }
        Some("decide") => {
            let get = |name: &str| {
                message
                    .query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            };
            let id = get("id").and_then(|id| id.parse().ok()).unwrap_or(0);
            let result = match get("result").as_deref() {
                Some("ok") => OutcomeResult::Ok,
                _ => OutcomeResult::Cancel,
            };
            let Ok(emu) = app.state::<Desktop>().emulator() else {
                return;
            };
            let answered = emu.resolve_h5_call(id, result, answer_data(get("text")));
            tracing::info!(id, ?result, answered, "WeChat window: the person answered");
        }
        other => tracing::debug!(?other, "WeChat window: unknown overlay message"),
    }
}

/// The data of a person's answer: a scan's text as its `resultStr`.
pub fn answer_data(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|text| json!({ "resultStr": text.chars().take(2048).collect::<String>() }))
}

/// Shows each pay or scan call that waits in the WeChat window of its page
/// (in every one when none shows that page), and takes the sheet away
/// when the call ends, for as long as `emulator` runs.
pub async fn follow_calls<R: Runtime>(app: AppHandle<R>, emulator: Arc<Emulator>) {
    let mut events = emulator.subscribe_h5_calls();
    loop {
        match events.recv().await {
            Ok(H5CallEvent::Requested(call)) => {
                let script = format!(
                    "window.__wxemuChrome && window.__wxemuChrome.ask({})",
                    wxemu::h5::script_safe_json(&json!(call))
                );
                let windows = windows_for(&app, &call);
                tracing::info!(id = call.id, api = %call.api, windows = windows.len(), "WeChat window: asking the person");
                for window in windows {
                    let _ = window.eval(&script);
                }
                changed(&app);
            }
            Ok(H5CallEvent::Finished { id }) => {
                let script = format!("window.__wxemuChrome && window.__wxemuChrome.done({id})");
                for window in wechat_windows(&app) {
                    let _ = window.eval(&script);
                }
                changed(&app);
            }
            Err(RecvError::Lagged(_)) => changed(&app),
            Err(RecvError::Closed) => return,
        }
        if app.state::<Desktop>().server.emulator().is_none() {
            return;
        }
    }
}

fn wechat_windows<R: Runtime>(app: &AppHandle<R>) -> Vec<WebviewWindow<R>> {
    app.webview_windows()
        .into_iter()
        .filter(|(label, _)| label.starts_with(LABEL_PREFIX))
        .map(|(_, window)| window)
        .collect()
}

fn windows_for<R: Runtime>(app: &AppHandle<R>, call: &PendingCall) -> Vec<WebviewWindow<R>> {
    let all = wechat_windows(app);
    let page = call.url.split('#').next().unwrap_or_default();
    let showing: Vec<_> = all
        .iter()
        .filter(|w| {
            w.url()
                .is_ok_and(|u| u.as_str().split('#').next() == Some(page))
        })
        .cloned()
        .collect();
    if showing.is_empty() {
        all
    } else {
        showing
    }
}

#[cfg(target_os = "linux")]
mod tls {
    //! WebKitGTK: wxemu's certificates, trusted in this window only.

    use std::path::Path;

    use tauri::{Runtime, WebviewWindow};
    use webkit2gtk::gio::prelude::TlsCertificateExt;
    use webkit2gtk::gio::{SocketConnectable, TlsCertificate, TlsCertificateFlags};
    use webkit2gtk::{WebContextExt, WebViewExt};
    use wxemu::Emulator;

    fn load(path: &Path) -> Option<TlsCertificate> {
        TlsCertificate::from_file(path)
            .map_err(|e| tracing::debug!(path = %path.display(), "not loaded: {e}"))
            .ok()
    }

    /// Whether `cert` chains to one of `cas` (and is valid now).
    fn chains(cert: &TlsCertificate, cas: &[TlsCertificate]) -> bool {
        cas.iter().any(|ca| {
            cert.verify(None::<&SocketConnectable>, Some(ca)) == TlsCertificateFlags::empty()
        })
    }

    pub fn trust_wxemu<R: Runtime>(window: &WebviewWindow<R>, data_dir: &Path, emu: &Emulator) {
        // Paths cross to the UI thread; GObjects are made there.
        let mut ca_paths = vec![wxemu_certs::ca_cert_path(data_dir)];
        if let Some(intercept) = &emu.listening().intercept {
            ca_paths.push(intercept.ca_path.clone());
        }
        let leaf_path = wxemu_certs::leaf_cert_path(data_dir);
        let result = window.with_webview(move |platform| {
            let cas: Vec<TlsCertificate> = ca_paths.iter().filter_map(|p| load(p)).collect();
            let view = platform.inner();
            let Some(context) = view.context() else {
                return;
            };
            // The bridge's calls to wxemu's own origin are subresources,
            // about which WebKit asks nobody: allow its leaf up front.
            if let Some(leaf) = load(&leaf_path).filter(|leaf| chains(leaf, &cas)) {
                context.allow_tls_certificate_for_host(&leaf, wxemu::CANONICAL_HOST);
            }
            view.connect_load_failed_with_tls_errors(move |view, uri, cert, errors| {
                let host = url::Url::parse(uri)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned));
                let Some(host) = host else {
                    return false;
                };
                if !chains(cert, &cas) {
                    tracing::info!(%host, ?errors, "WeChat window: an untrusted certificate, not wxemu's");
                    return false;
                }
                if let Some(context) = view.context() {
                    context.allow_tls_certificate_for_host(cert, &host);
                    tracing::info!(%host, "WeChat window: wxemu's certificate allowed for this host");
                    view.load_uri(uri);
                    return true;
                }
                false
            });
        });
        if let Err(e) = result {
            tracing::warn!("cannot set up the WeChat window's certificates: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_urls() {
        assert_eq!(
            page_url("localhost:5173").unwrap().as_str(),
            "http://localhost:5173/"
        );
        assert_eq!(
            page_url(" https://example.com/a?b#c ").unwrap().as_str(),
            "https://example.com/a?b#c"
        );
        assert!(page_url("").is_err());
        assert!(page_url("file:///etc/passwd")
            .unwrap_err()
            .contains("not file:"));
        assert!(page_url("javascript://x").is_err());
    }

    #[test]
    fn a_scan_answer_carries_its_text() {
        assert_eq!(answer_data(None), None);
        assert_eq!(
            answer_data(Some("hello".into())),
            Some(json!({"resultStr": "hello"}))
        );
    }
}
