//! The tray icon: what WeChat's tray icon is, plus the switches a tester
//! needs (account, client state, approval mode).
//!
//! The menu is rebuilt from the emulator's state after every change, so the
//! check marks always tell the truth, whoever changed the state (tray,
//! dashboard, control API).

use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};
use wxemu::core::approval::ApprovalMode;
use wxemu::core::config::ClientState;

use crate::Desktop;

pub const TRAY_ID: &str = "wxemu";

pub const STATES: [(ClientState, &str); 3] = [
    (ClientState::LoggedIn, "已登录 Logged in"),
    (ClientState::LoggedOut, "未登录 Logged out"),
    (ClientState::Locked, "已锁定 Locked (QR fallback)"),
];

pub const MODES: [(ApprovalMode, &str); 4] = [
    (ApprovalMode::Ask, "询问 Ask (confirm window)"),
    (ApprovalMode::Auto, "自动允许 Allow all"),
    (ApprovalMode::Deny, "自动拒绝 Deny all"),
    (ApprovalMode::Never, "不回应 Never answer (→10046)"),
];

pub fn state_label(state: ClientState) -> &'static str {
    STATES
        .iter()
        .find(|(s, _)| *s == state)
        .map(|(_, l)| *l)
        .unwrap_or("")
}

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayIcon<R>> {
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip(tooltip(app))
        .menu(&menu(app)?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu_event);
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)
}

/// Rebuilds menu and tooltip from the current state.
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
    let _ = tray.set_tooltip(Some(tooltip(app)));
}

/// "wxemu · 127.0.0.1:14013 · 已登录 Logged in", or what went wrong.
pub fn tooltip<R: Runtime>(app: &AppHandle<R>) -> String {
    let desktop = app.state::<Desktop>();
    match desktop.server.emulator() {
        Some(emu) => format!(
            "wxemu · 127.0.0.1:{} · {} · {}",
            emu.port(),
            state_label(emu.client_state()),
            emu.current_account().nickname
        ),
        None => match desktop.server.failure() {
            Some(f) => format!("wxemu · port {} in use · not serving", f.port),
            None => "wxemu · not serving".to_owned(),
        },
    }
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
                    format!("account:{}", account.id),
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
                    format!("state:{}", state.as_str()),
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
                    format!("mode:{}", mode.as_str()),
                    label,
                    true,
                    emu.approvals.mode() == mode,
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
    menu.append(&MenuItem::with_id(
        app,
        "dashboard",
        "打开控制台 Open dashboard",
        true,
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
    match id {
        "dashboard" => crate::open_dashboard(app),
        "quit" => crate::quit(app.clone()),
        _ => {
            if let Err(e) = crate::commands::apply_switch(app, id) {
                tracing::warn!("{e}");
            }
        }
    }
}
