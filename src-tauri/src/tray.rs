//! The tray icon: what WeChat's tray icon is, plus the switches a tester
//! needs (account, client state, approval mode) and "Start at login".
//!
//! The icon shows the client state at a glance ([`crate::tray_icon`]) with
//! a red dot while a request waits. Menu, icon and tooltip are rebuilt from
//! the emulator's state on every [`CHANGED_EVENT`], so they always tell the
//! truth, whoever changed the state.

use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Listener, Manager, Runtime};
use tauri_plugin_autostart::AutoLaunchManager;
use wxemu::core::ClientState;

use crate::events::{changed, CHANGED_EVENT};
use crate::lifecycle::quit;
use crate::state::Desktop;
use crate::switches::{apply_switch, state_label, Switch, MODES, STATES};
use crate::windows::open_dashboard;

pub const TRAY_ID: &str = "wxemu";
const AUTOSTART_ID: &str = "autostart";
const DEMO_ID: &str = "demo";
const WECHAT_ID: &str = "wechat";

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayIcon<R>> {
    let (state, waiting) = shown_state(app);
    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip(tooltip(app))
        .icon(crate::tray_icon::picture(state, waiting))
        .menu(&menu(app)?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu_event)
        .build(app)?;
    let handle = app.clone();
    app.listen_any(CHANGED_EVENT, move |_| refresh(&handle));
    Ok(tray)
}

/// Rebuilds menu, icon and tooltip from the current state.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    match menu(app) {
        Ok(menu) => {
            let _ = tray.set_menu(Some(menu));
        }
        Err(e) => tracing::warn!("cannot rebuild the tray menu: {e}"),
    }
    let (state, waiting) = shown_state(app);
    let _ = tray.set_icon(Some(crate::tray_icon::picture(state, waiting)));
    let _ = tray.set_tooltip(Some(tooltip(app)));
}

/// The client state and whether a request waits (a stopped server shows
/// as logged out).
pub fn shown_state<R: Runtime>(app: &AppHandle<R>) -> (ClientState, bool) {
    match app.state::<Desktop>().server.emulator() {
        Some(emu) => (emu.client_state(), !emu.pending_authorizations().is_empty()),
        None => (ClientState::LoggedOut, false),
    }
}

/// "wxemu · 127.0.0.1:14013 · 已登录 Logged in · nickname", or what went wrong.
pub fn tooltip<R: Runtime>(app: &AppHandle<R>) -> String {
    let desktop = app.state::<Desktop>();
    match desktop.server.emulator() {
        Some(emu) => {
            let waiting = emu.pending_authorizations().len();
            format!(
                "wxemu · 127.0.0.1:{} · {} · {}{}",
                emu.port(),
                state_label(emu.client_state()),
                emu.current_account().nickname,
                if waiting > 0 {
                    format!(" · {waiting} 待确认 waiting")
                } else {
                    String::new()
                }
            )
        }
        None => match desktop.server.failure() {
            Some(f) => format!("wxemu · port {} in use · not serving", f.port),
            None => "wxemu · not serving".to_owned(),
        },
    }
}

/// Whether the app starts at login (`None`: the autostart plugin is not
/// running, e.g. in the IPC tests).
pub fn autostart_enabled<R: Runtime>(app: &AppHandle<R>) -> Option<bool> {
    app.try_state::<AutoLaunchManager>()?.is_enabled().ok()
}

/// Turns "Start at login" on or off.
pub fn set_autostart<R: Runtime>(app: &AppHandle<R>, on: bool) -> Result<(), String> {
    let manager = app
        .try_state::<AutoLaunchManager>()
        .ok_or("start at login is not available here")?;
    let result = if on {
        manager.enable()
    } else {
        manager.disable()
    };
    result.map_err(|e| format!("cannot change start at login: {e}"))?;
    tracing::info!(on, "start at login changed");
    changed(app);
    Ok(())
}

fn menu<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Menu<R>> {
    let desktop = app.state::<Desktop>();
    let menu = Menu::new(app)?;
    match desktop.server.emulator() {
        Some(emu) => {
            let current = emu.current_account();
            menu.append(&MenuItem::with_id(
                app,
                "info",
                format!("{} · :{}", current.nickname, emu.port()),
                false,
                None::<&str>,
            )?)?;
            let accounts = Submenu::new(app, "切换账号 Switch account", true)?;
            for account in emu.config().accounts() {
                accounts.append(&CheckMenuItem::with_id(
                    app,
                    Switch::Account(account.id.clone()).id(),
                    format!("{} ({})", account.nickname, account.id),
                    true,
                    account.id == current.id,
                    None::<&str>,
                )?)?;
            }
            menu.append(&accounts)?;
            let states = Submenu::new(app, "客户端状态 Client state", true)?;
            for (state, label) in STATES {
                states.append(&CheckMenuItem::with_id(
                    app,
                    Switch::State(state).id(),
                    label,
                    true,
                    emu.client_state() == state,
                    None::<&str>,
                )?)?;
            }
            menu.append(&states)?;
            let modes = Submenu::new(app, "登录确认 Approval", true)?;
            for (mode, label) in MODES {
                modes.append(&CheckMenuItem::with_id(
                    app,
                    Switch::Mode(mode).id(),
                    label,
                    true,
                    emu.approval_mode() == mode,
                    None::<&str>,
                )?)?;
            }
            menu.append(&modes)?;
        }
        None => {
            let text = match desktop.server.failure() {
                Some(f) => format!("端口 {} 被占用 Port {} in use", f.port, f.port),
                None => "未运行 Not serving".to_owned(),
            };
            menu.append(&MenuItem::with_id(app, "info", text, false, None::<&str>)?)?;
        }
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    if let Some(on) = autostart_enabled(app) {
        menu.append(&CheckMenuItem::with_id(
            app,
            AUTOSTART_ID,
            "开机启动 Start at login",
            true,
            on,
            None::<&str>,
        )?)?;
    }
    menu.append(&MenuItem::with_id(
        app,
        "dashboard",
        "打开控制台 Open dashboard",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        DEMO_ID,
        "打开演示 Open the demo",
        desktop.server.emulator().is_some(),
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        WECHAT_ID,
        "在微信中打开网页… Open a page in WeChat…",
        desktop.server.emulator().is_some(),
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        "quit",
        "退出 Quit",
        true,
        None::<&str>,
    )?)?;
    Ok(menu)
}

fn on_menu_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let id = event.id().as_ref();
    let result = match id {
        "dashboard" => {
            open_dashboard(app);
            Ok(())
        }
        "quit" => {
            quit(app.clone());
            Ok(())
        }
        AUTOSTART_ID => set_autostart(app, !autostart_enabled(app).unwrap_or(false)),
        WECHAT_ID => {
            // The URL is asked for in the dashboard's H5 tab.
            crate::windows::open_dashboard_at(app, "h5");
            Ok(())
        }
        DEMO_ID => match app.state::<Desktop>().server.emulator() {
            Some(emu) => crate::browser::open_demo(&emu).map(drop),
            None => Err("not serving: no demo to open".to_owned()),
        },
        _ => apply_switch(app, id),
    };
    if let Err(e) = result {
        tracing::warn!("{e}");
    }
}
