//! The IPC commands the app's own pages call (`window.__TAURI__.core.invoke`).
//!
//! Each is a thin wrapper over the embedded emulator's API: the app has no
//! protocol logic of its own. Changes made here refresh the tray and tell
//! open pages (`wxemu:changed`) so every view shows the same state.

use std::sync::Arc;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime, State};
use wxemu::core::approval::{ApprovalMode, AuthorizeRequest, Decision};
use wxemu::core::config::{Account, ClientState, WebsiteApp};
use wxemu::core::journal::{Entry, Filter};
use wxemu::core::qr::QrSummary;
use wxemu::Emulator;

use crate::confirm::ConfirmView;
use crate::embedded::StartFailure;
use crate::trust::TrustInfo;
use crate::Desktop;

/// Event sent to every page after a state change.
pub const CHANGED_EVENT: &str = "wxemu:changed";

fn emulator(desktop: &Desktop) -> Result<Arc<Emulator>, String> {
    desktop
        .server
        .emulator()
        .ok_or_else(|| match desktop.server.failure() {
            Some(f) => f.message,
            None => "the wxemu server is not running".to_owned(),
        })
}

fn changed<R: Runtime>(app: &AppHandle<R>) {
    crate::tray::refresh(app);
    let _ = app.emit(CHANGED_EVENT, ());
}

// ---- confirm window ----

/// The request the confirm window should show now.
#[tauri::command]
pub fn confirm_current<R: Runtime>(app: AppHandle<R>) -> Option<ConfirmView> {
    // Called once per page load: the window is ready to show requests.
    tracing::info!("confirm page loaded");
    crate::confirm::current_view(&app)
}

/// The confirm page has rendered request `id`: show the window. Returns the
/// latency from the request's arrival in milliseconds.
#[tauri::command]
pub fn confirm_rendered<R: Runtime>(app: AppHandle<R>, id: u64) -> Option<u64> {
    crate::confirm::rendered(&app, id)
}

/// The confirm window has painted request `id` on screen (two animation
/// frames after it was shown). Returns the latency from the request's
/// arrival in milliseconds: what a person waits for.
#[tauri::command]
pub fn confirm_painted<R: Runtime>(app: AppHandle<R>, id: u64) -> Option<u64> {
    crate::confirm::painted(&app, id)
}

/// Allow or Deny from the confirm window (Enter, Esc, buttons, close).
#[tauri::command]
pub fn confirm_decide(desktop: State<'_, Desktop>, id: u64, decision: Decision) -> bool {
    match desktop.server.emulator() {
        Some(emu) => emu.approvals.resolve(id, decision),
        None => false,
    }
}

// ---- dashboard ----

#[derive(Debug, Serialize)]
pub struct Status {
    pub running: bool,
    pub port: Option<u16>,
    pub failure: Option<StartFailure>,
    pub client_state: Option<ClientState>,
    pub account: Option<Account>,
    pub approval_mode: Option<ApprovalMode>,
    pub config_path: String,
    pub data_dir: String,
    pub trust: Option<TrustInfo>,
    pub pending: Vec<AuthorizeRequest>,
    pub last_confirm_latency_ms: Option<u64>,
    pub version: &'static str,
}

#[tauri::command]
pub fn status(desktop: State<'_, Desktop>) -> Status {
    let options = desktop.server.options();
    let emu = desktop.server.emulator();
    let ca = wxemu_certs::ca_cert_path(&options.data_dir);
    Status {
        running: emu.is_some(),
        port: emu.as_ref().map(|e| e.port()),
        failure: desktop.server.failure(),
        client_state: emu.as_ref().map(|e| e.client_state()),
        account: emu.as_ref().map(|e| e.current_account()),
        approval_mode: emu.as_ref().map(|e| e.approvals.mode()),
        config_path: options.config_path.display().to_string(),
        data_dir: options.data_dir.display().to_string(),
        trust: ca.exists().then(|| crate::trust::info(&ca)),
        pending: emu
            .as_ref()
            .map(|e| {
                e.approvals
                    .pending()
                    .iter()
                    .map(|r| (**r).clone())
                    .collect()
            })
            .unwrap_or_default(),
        last_confirm_latency_ms: crate::lock(&desktop.confirm).last_latency_ms(),
        version: env!("CARGO_PKG_VERSION"),
    }
}

/// Starts the server again, on `port` (the dashboard's "use port 14014").
#[tauri::command]
pub async fn start_server<R: Runtime>(
    app: AppHandle<R>,
    desktop: State<'_, Desktop>,
    port: Option<u16>,
) -> Result<u16, String> {
    let result = desktop.server.start(port).await;
    if let Ok(emu) = &result {
        crate::on_server_started(&app, emu.clone());
    }
    changed(&app);
    result.map(|e| e.port()).map_err(|f| f.message)
}

#[tauri::command]
pub fn set_client_state<R: Runtime>(
    app: AppHandle<R>,
    desktop: State<'_, Desktop>,
    state: ClientState,
) -> Result<(), String> {
    emulator(&desktop)?.set_client_state(state);
    changed(&app);
    Ok(())
}

#[tauri::command]
pub fn set_account<R: Runtime>(
    app: AppHandle<R>,
    desktop: State<'_, Desktop>,
    id: String,
) -> Result<(), String> {
    if !emulator(&desktop)?.set_current_account(&id) {
        return Err(format!("no account has the id {id:?}"));
    }
    changed(&app);
    Ok(())
}

#[tauri::command]
pub fn set_approval_mode<R: Runtime>(
    app: AppHandle<R>,
    desktop: State<'_, Desktop>,
    mode: ApprovalMode,
) -> Result<(), String> {
    emulator(&desktop)?.approvals.set_mode(mode);
    changed(&app);
    Ok(())
}

/// Answers a pending request from the dashboard.
#[tauri::command]
pub fn resolve(desktop: State<'_, Desktop>, id: u64, decision: Decision) -> Result<bool, String> {
    Ok(emulator(&desktop)?.approvals.resolve(id, decision))
}

#[derive(Debug, Serialize)]
pub struct Editable {
    pub accounts: Vec<Account>,
    pub apps: Vec<WebsiteApp>,
}

#[tauri::command]
pub fn config_get(desktop: State<'_, Desktop>) -> Result<Editable, String> {
    let emu = emulator(&desktop)?;
    let config = emu.config();
    Ok(Editable {
        accounts: config.accounts(),
        apps: config.apps.clone(),
    })
}

/// Replaces the accounts and saves the config file atomically. Refused
/// (nothing saved) when the result would not load again.
#[tauri::command]
pub fn save_accounts<R: Runtime>(
    app: AppHandle<R>,
    desktop: State<'_, Desktop>,
    accounts: Vec<Account>,
) -> Result<(), String> {
    let emu = emulator(&desktop)?;
    save(&emu, |c| c.accounts = accounts)?;
    // The logged-in account may be gone: fall back to the first one.
    let current = emu.current_account();
    if emu.config().account(&current.id).is_none() {
        if let Some(first) = emu.config().accounts().first() {
            emu.set_current_account(&first.id);
        }
    }
    changed(&app);
    Ok(())
}

#[tauri::command]
pub fn save_apps<R: Runtime>(
    app: AppHandle<R>,
    desktop: State<'_, Desktop>,
    apps: Vec<WebsiteApp>,
) -> Result<(), String> {
    let emu = emulator(&desktop)?;
    save(&emu, |c| c.apps = apps)?;
    changed(&app);
    Ok(())
}

fn save(
    emu: &Emulator,
    change: impl FnOnce(&mut wxemu::core::config::Config),
) -> Result<(), String> {
    let mut next = emu.config().clone();
    change(&mut next);
    next.validate()?;
    emu.update_config(|c| *c = next).map_err(|e| e.to_string())
}

// ---- request journal (the same one the control API serves) ----

/// The newest `limit` journal entries matching `filter`, oldest first.
#[tauri::command]
pub fn journal_list(
    desktop: State<'_, Desktop>,
    filter: Option<Filter>,
    limit: Option<usize>,
) -> Result<Vec<Entry>, String> {
    let emu = emulator(&desktop)?;
    let entries = emu
        .journal
        .list(&filter.unwrap_or_default(), Some(limit.unwrap_or(500)));
    Ok(entries.iter().map(|e| (**e).clone()).collect())
}

/// Empties the journal; returns how many entries were dropped.
#[tauri::command]
pub fn journal_clear(desktop: State<'_, Desktop>) -> Result<usize, String> {
    Ok(emulator(&desktop)?.journal.clear())
}

// ---- QR logins (the Open Platform page's codes), as the phone ----

#[tauri::command]
pub fn qr_list(desktop: State<'_, Desktop>) -> Result<Vec<QrSummary>, String> {
    Ok(emulator(&desktop)?.qr_list())
}

/// The phone of `account` scans QR login `uuid`.
#[tauri::command]
pub fn qr_scan(
    desktop: State<'_, Desktop>,
    uuid: String,
    account: String,
) -> Result<QrSummary, String> {
    emulator(&desktop)?
        .qr_scan(&uuid, &account)
        .map_err(|e| e.to_string())
}

#[tauri::command]
pub fn qr_confirm(desktop: State<'_, Desktop>, uuid: String) -> Result<QrSummary, String> {
    emulator(&desktop)?
        .qr_confirm(&uuid)
        .map_err(|e| e.to_string())
}

#[tauri::command]
pub fn qr_cancel(desktop: State<'_, Desktop>, uuid: String) -> Result<QrSummary, String> {
    emulator(&desktop)?
        .qr_cancel(&uuid)
        .map_err(|e| e.to_string())
}

/// A tray switch: `account:<id>`, `state:<state>` or `mode:<mode>`.
pub fn apply_switch<R: Runtime>(app: &AppHandle<R>, id: &str) -> Result<(), String> {
    use tauri::Manager;
    let desktop = app.state::<Desktop>();
    let emu = emulator(&desktop)?;
    let (kind, value) = id
        .split_once(':')
        .ok_or_else(|| format!("unknown menu item {id:?}"))?;
    match kind {
        "account" => {
            if !emu.set_current_account(value) {
                return Err(format!("no account has the id {value:?}"));
            }
        }
        "state" => {
            let state = crate::tray::STATES
                .iter()
                .find(|(s, _)| s.as_str() == value)
                .ok_or_else(|| format!("unknown client state {value:?}"))?
                .0;
            emu.set_client_state(state);
        }
        "mode" => {
            let mode = crate::tray::MODES
                .iter()
                .find(|(m, _)| m.as_str() == value)
                .ok_or_else(|| format!("unknown approval mode {value:?}"))?
                .0;
            emu.approvals.set_mode(mode);
        }
        _ => return Err(format!("unknown menu item {id:?}")),
    }
    changed(app);
    Ok(())
}
