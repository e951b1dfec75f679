//! wxemu's desktop app: the embedded wxemu server behind a tray icon, a
//! WeChat-style confirm window for each login request, and a dashboard.
//!
//! The app has no protocol logic: it starts the same [`wxemu::Server`] as
//! `wxemu serve` (same data directory and config file), sets the approval
//! mode to `ask` and answers requests from its confirm window.
//!
//! Floors, each importing only from below (none imports `lib.rs`):
//!
//! - [`commands`] (IPC for the pages), [`tray`]: the views.
//! - [`welcome`], [`serving`], [`switches`], [`windows`], [`lifecycle`]:
//!   what the views share (first-run trust check, server start wiring, the
//!   tester's switches, opening windows, quitting).
//! - [`state`] ([`Desktop`], the managed state), [`confirm`] (request queue
//!   and confirm window; [`confirm_queue`] its bookkeeping), [`embedded`] (the server), [`trust_install`] over
//!   [`elevate`] over [`trust`] (trust stores, administrator prompt), [`events`] (the
//!   "state changed" event), [`tray_icon`], [`browser`], [`memory`].

pub mod browser;
pub mod commands;
pub mod confirm;
pub mod confirm_queue;
pub mod elevate;
pub mod embedded;
pub mod events;
pub mod lifecycle;
pub mod memory;
pub mod serving;
pub mod state;
pub mod switches;
pub mod tray;
pub mod tray_icon;
pub mod trust;
pub mod trust_install;
pub mod wechat;
pub mod welcome;
pub mod windows;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use tauri::{Manager, RunEvent, Runtime, WindowEvent};
use wxemu::core::{ApprovalMode, Decision};
use wxemu::ServeOptions;

pub use crate::state::Desktop;
use crate::windows::open_dashboard;
use wxemu::core::lock;

/// `wxemu-desktop` command line. A second launch hands its arguments to
/// the running app (which then opens its dashboard, or quits on `--quit`).
#[derive(Debug, Parser)]
#[command(
    name = "wxemu-desktop",
    version,
    about = "wxemu in the tray: a fake WeChat desktop client with a confirm window"
)]
pub struct DesktopArgs {
    /// Port on 127.0.0.1. The real login page tries 14013, 14014, 14015, 13013, 13014, 13015.
    #[arg(long, default_value_t = wxemu::core::DEFAULT_PORT)]
    pub port: u16,
    /// Where the CA, keys and config live [default: the same as `wxemu serve`].
    #[arg(long, env = "WXEMU_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file [default: <data dir>/config.toml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How long a login request waits for an answer before it fails with 10046
    /// (e.g. 60s) [default: the config's decision_timeout].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub decision_timeout: Option<Duration>,
    /// The interception proxy's port (0 picks a free one): the WeChat
    /// window's traffic goes through it so that WeChat's hosts reach wxemu.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub proxy_port: u16,
    /// Open a WeChat window on this page (e.g. http://localhost:5173), at
    /// start or in the running app.
    #[arg(long, value_name = "URL")]
    pub wechat: Option<String>,
    /// Open the dashboard at start.
    #[arg(long)]
    pub dashboard: bool,
    /// Keep a hidden confirm window loaded all the time: fastest, at the
    /// cost of WebKit's processes (~100 MB) running while idle.
    #[arg(long)]
    pub prewarm_confirm: bool,
    /// How long the confirm window stays loaded (hidden) after a login
    /// page's check-login or a confirm, so it appears at once (0s: never
    /// load ahead).
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = humantime::parse_duration)]
    pub confirm_warm: Duration,
    /// Ask the running app to quit (stops its server cleanly).
    #[arg(long)]
    pub quit: bool,
    /// Do not open the welcome window when the CA is not trusted (the
    /// dashboard's Certificate tab still offers Trust).
    #[arg(long)]
    pub no_welcome: bool,
}

fn serve_options(args: &DesktopArgs) -> Result<ServeOptions, String> {
    let data_dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => wxemu::default_data_dir().ok_or(
            "cannot find a home directory for the data directory; pass --data-dir or set WXEMU_DATA_DIR",
        )?,
    };
    let mut options = ServeOptions::new(data_dir);
    options.port = args.port;
    if let Some(config) = &args.config {
        options.config_path = config.clone();
    }
    // The confirm window is the decision source.
    options.approval = ApprovalMode::Ask;
    options.decision_timeout = args.decision_timeout;
    // The WeChat window's way to WeChat's hosts (only it uses the proxy).
    options.intercept.proxy_port = Some(args.proxy_port);
    Ok(options)
}

/// Registers the IPC commands (shared by the app and the tests).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::confirm_current,
        commands::confirm_rendered,
        commands::confirm_painted,
        commands::confirm_decide,
        commands::status,
        commands::start_server,
        commands::set_client_state,
        commands::set_account,
        commands::set_approval_mode,
        commands::resolve,
        commands::config_get,
        commands::save_accounts,
        commands::save_apps,
        commands::journal_list,
        commands::journal_clear,
        commands::qr_list,
        commands::qr_scan,
        commands::qr_confirm,
        commands::qr_cancel,
        commands::trust_status,
        commands::trust_install,
        commands::trust_uninstall,
        commands::open_demo,
        commands::intercept_status,
        commands::webwx_sessions,
        commands::webwx_session,
        commands::webwx_messages,
        commands::webwx_send,
        commands::webwx_end,
        commands::wechat_open,
        commands::h5_status,
        commands::h5_outcome_add,
        commands::h5_outcomes_clear,
        commands::h5_resolve,
        commands::autostart_get,
        commands::autostart_set,
    ])
}

/// Linux: no OpenGL in the app's own process unless asked for. GTK would
/// otherwise load the GL driver at start (Mesa's llvmpipe alone is ~25 MB)
/// for a tray icon and two small pages that render fine without it.
/// `WXEMU_DESKTOP_GL=1` (or any `GDK_GL` setting) keeps GL.
fn prefer_no_gl() {
    if cfg!(target_os = "linux")
        && std::env::var_os("GDK_GL").is_none()
        && std::env::var_os("WXEMU_DESKTOP_GL").is_none()
    {
        // Before GTK starts and before any other thread exists.
        std::env::set_var("GDK_GL", "disable");
    }
}

/// The app's `main`.
pub fn run() -> std::process::ExitCode {
    // The elevated trust helper (see `elevate`): no window code at all.
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == elevate::HELPER_FLAG) {
        return elevate::helper_main(&argv[2..]);
    }
    memory::limit_arenas();
    prefer_no_gl();
    let args = DesktopArgs::parse();
    init_tracing();
    let options = match serve_options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("wxemu-desktop: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let open_dashboard_at_start = args.dashboard;
    let wechat_at_start = args.wechat.clone();
    let quit_only = args.quit;
    let show_welcome = !args.no_welcome;
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            match DesktopArgs::try_parse_from(&argv) {
                Ok(second) if second.quit => lifecycle::quit(app.clone()),
                // `wxemu-desktop --wechat URL` while the app runs: a WeChat window.
                Ok(DesktopArgs {
                    wechat: Some(url), ..
                }) => {
                    if let Err(e) = wechat::open(app, &url) {
                        tracing::error!("{e}");
                    }
                }
                _ => open_dashboard(app),
            }
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .manage(Desktop::new(
            options,
            (!args.prewarm_confirm).then_some(args.confirm_warm),
        ))
        .on_window_event(on_window_event)
        .setup(move |app| {
            if quit_only {
                // Reached only when no other instance took the arguments.
                eprintln!("wxemu-desktop: no running instance to quit");
                std::process::exit(0);
            }
            let handle = app.handle().clone();
            if let Err(e) = tray::create(&handle) {
                // No tray (no StatusNotifier host, say): the dashboard and
                // the confirm window still work; `--dashboard` opens it.
                tracing::warn!("cannot create the tray icon: {e}");
            }
            let started =
                tauri::async_runtime::block_on(handle.state::<Desktop>().server.start(None));
            match started {
                Ok(emu) => serving::on_server_started(&handle, emu),
                // The dashboard shows the error and the fix.
                Err(_) => open_dashboard(&handle),
            }
            if open_dashboard_at_start {
                open_dashboard(&handle);
            }
            if let Some(url) = &wechat_at_start {
                if let Err(e) = wechat::open(&handle, url) {
                    tracing::error!("{e}");
                }
            }
            welcome::check_at_start(&handle, show_welcome);
            lifecycle::watch_signals(handle);
            Ok(())
        });
    let app = match with_commands(builder).build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("wxemu-desktop: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    app.run(|_app, event| {
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            // Closing the last window leaves the app in the tray.
            api.prevent_exit();
        }
    });
    std::process::ExitCode::SUCCESS
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("wxemu=info,wxemu_desktop=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn on_window_event<R: Runtime>(window: &tauri::Window<R>, event: &WindowEvent) {
    if window.label() != confirm::WINDOW_LABEL {
        if let WindowEvent::Destroyed = event {
            if window.label().starts_with(wechat::LABEL_PREFIX) {
                wechat::closed(window.app_handle(), window.label());
            }
            // The dashboard or the welcome window closed: back to the tray.
            memory::trim_in_background();
        }
        return;
    }
    if let WindowEvent::CloseRequested { api, .. } = event {
        // Closing the confirm window is Deny, like WeChat's close button.
        api.prevent_close();
        let app = window.app_handle();
        let desktop = app.state::<Desktop>();
        let showing = lock(&desktop.confirm).showing();
        match (showing, desktop.server.emulator()) {
            (Some(request), Some(emu)) => {
                emu.resolve_authorization(request.id, Decision::Deny, None);
            }
            _ => {
                let _ = window.hide();
            }
        }
    }
}
