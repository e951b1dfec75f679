//! The IPC commands the app's own pages call (`window.__TAURI__.core.invoke`).
//!
//! Each is a thin wrapper over the embedded emulator's API: the app has no
//! protocol logic of its own. Changes made here refresh the tray and tell
//! open pages (`wxemu:changed`) so every view shows the same state.

use std::sync::Arc;

use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use wxemu::core::PendingCall;
use wxemu::core::QrSummary;
use wxemu::core::{Account, ClientState, WebsiteApp};
use wxemu::core::{ApprovalMode, AuthorizeRequest, Decision};
use wxemu::core::{ContactSummary, ConversationEntry, Injection, SessionSummary, WebWxError};
use wxemu::core::{Entry, Filter};
use wxemu::core::{OutcomeResult, QueuedOutcome, VerifiedPage};
use wxemu::Emulator;

use crate::confirm::ConfirmView;
use crate::elevate::Action;
use crate::embedded::StartFailure;
use crate::events::changed;
use crate::state::Desktop;
use crate::switches::{apply, Switch};
use crate::trust::{InterceptInfo, TrustInfo, TrustLine};
use wxemu::core::lock;

fn emulator(desktop: &Desktop) -> Result<Arc<Emulator>, String> {
    desktop.emulator()
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
        Some(emu) => emu.resolve_authorization(id, decision, None),
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
    Status {
        running: emu.is_some(),
        port: emu.as_ref().map(|e| e.port()),
        failure: desktop.server.failure(),
        client_state: emu.as_ref().map(|e| e.client_state()),
        account: emu.as_ref().map(|e| e.current_account()),
        approval_mode: emu.as_ref().map(|e| e.approval_mode()),
        config_path: options.config_path.display().to_string(),
        data_dir: options.data_dir.display().to_string(),
        trust: lock(&desktop.trust)
            .clone()
            .or_else(|| Some(crate::trust::unchecked(&options.data_dir))),
        pending: emu
            .as_ref()
            .map(|e| {
                e.pending_authorizations()
                    .iter()
                    .map(|r| (**r).clone())
                    .collect()
            })
            .unwrap_or_default(),
        last_confirm_latency_ms: lock(&desktop.confirm).last_latency_ms(),
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
        crate::serving::on_server_started(&app, emu.clone());
    }
    changed(&app);
    result.map(|e| e.port()).map_err(|f| f.message)
}

#[tauri::command]
pub fn set_client_state<R: Runtime>(app: AppHandle<R>, state: ClientState) -> Result<(), String> {
    apply(&app, Switch::State(state))
}

#[tauri::command]
pub fn set_account<R: Runtime>(app: AppHandle<R>, id: String) -> Result<(), String> {
    apply(&app, Switch::Account(id))
}

#[tauri::command]
pub fn set_approval_mode<R: Runtime>(app: AppHandle<R>, mode: ApprovalMode) -> Result<(), String> {
    apply(&app, Switch::Mode(mode))
}

/// Answers a pending request from the dashboard.
#[tauri::command]
pub fn resolve(desktop: State<'_, Desktop>, id: u64, decision: Decision) -> Result<bool, String> {
    Ok(emulator(&desktop)?.resolve_authorization(id, decision, None))
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
/// (nothing saved) when the result would not load again, or would drop the
/// logged-in account: the same rules as the control API.
#[tauri::command]
pub fn save_accounts<R: Runtime>(
    app: AppHandle<R>,
    desktop: State<'_, Desktop>,
    accounts: Vec<Account>,
) -> Result<(), String> {
    emulator(&desktop)?
        .replace_accounts(accounts)
        .map_err(|e| e.to_string())?;
    changed(&app);
    Ok(())
}

#[tauri::command]
pub fn save_apps<R: Runtime>(
    app: AppHandle<R>,
    desktop: State<'_, Desktop>,
    apps: Vec<WebsiteApp>,
) -> Result<(), String> {
    emulator(&desktop)?
        .replace_apps(apps)
        .map_err(|e| e.to_string())?;
    changed(&app);
    Ok(())
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
    let entries = emu.journal_entries(&filter.unwrap_or_default(), Some(limit.unwrap_or(500)));
    Ok(entries.iter().map(|e| (**e).clone()).collect())
}

/// Empties the journal; returns how many entries were dropped.
#[tauri::command]
pub fn journal_clear(desktop: State<'_, Desktop>) -> Result<usize, String> {
    Ok(emulator(&desktop)?.clear_journal())
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

// ---- Web WeChat (bots' sessions), as the phone and the friends ----

#[derive(Debug, Serialize)]
pub struct WebwxSessionView {
    #[serde(flatten)]
    pub summary: SessionSummary,
    /// Who can write to the bot: filehelper, friends, groups, official accounts.
    pub contacts: Vec<ContactSummary>,
}

/// Every kept Web WeChat session, oldest first.
#[tauri::command]
pub fn webwx_sessions(desktop: State<'_, Desktop>) -> Result<Vec<SessionSummary>, String> {
    Ok(emulator(&desktop)?.webwx_sessions())
}

/// One session with its contacts.
#[tauri::command]
pub fn webwx_session(desktop: State<'_, Desktop>, id: u64) -> Result<WebwxSessionView, String> {
    let emu = emulator(&desktop)?;
    let summary = emu
        .webwx_session(id)
        .ok_or_else(|| WebWxError::UnknownSession(id).to_string())?;
    let contacts = emu.webwx_contacts(id).map_err(|e| e.to_string())?;
    Ok(WebwxSessionView { summary, contacts })
}

/// The session's whole kept conversation, both ways, oldest first.
#[tauri::command]
pub fn webwx_messages(
    desktop: State<'_, Desktop>,
    id: u64,
) -> Result<Vec<ConversationEntry>, String> {
    emulator(&desktop)?
        .webwx_conversation(id)
        .map_err(|e| e.to_string())
}

/// A friend, group or filehelper (`from`) writes `text` to the bot in
/// session `id`: what `POST /__wxemu/webwx/messages` does.
#[tauri::command]
pub fn webwx_send(
    desktop: State<'_, Desktop>,
    id: u64,
    from: String,
    text: String,
) -> Result<ConversationEntry, String> {
    emulator(&desktop)?
        .webwx_inject(Injection {
            session: Some(id),
            from: &from,
            to: None,
            member: None,
            text: &text,
        })
        .map_err(|e| e.to_string())
}

/// The phone logs session `id` out (the bot's synccheck gets 1101).
#[tauri::command]
pub fn webwx_end(desktop: State<'_, Desktop>, id: u64) -> Result<SessionSummary, String> {
    emulator(&desktop)?
        .webwx_end_session(id)
        .map_err(|e| e.to_string())
}

// ---- trust (the welcome window and the Certificate tab) ----

/// Asks every trust store again.
#[tauri::command]
pub async fn trust_status<R: Runtime>(app: AppHandle<R>) -> Result<TrustInfo, String> {
    crate::welcome::refresh(&app).await
}

/// Installs the CA into every store (the system store through the OS's
/// administrator prompt); one line per store.
#[tauri::command]
pub async fn trust_install<R: Runtime>(app: AppHandle<R>) -> Result<Vec<TrustLine>, String> {
    trust_apply(app, Action::Install).await
}

/// Removes exactly this CA from every store; one line per store.
#[tauri::command]
pub async fn trust_uninstall<R: Runtime>(app: AppHandle<R>) -> Result<Vec<TrustLine>, String> {
    trust_apply(app, Action::Uninstall).await
}

async fn trust_apply<R: Runtime>(
    app: AppHandle<R>,
    action: Action,
) -> Result<Vec<TrustLine>, String> {
    use tauri::Manager;
    let data_dir = app.state::<Desktop>().server.options().data_dir;
    let lines = tauri::async_runtime::spawn_blocking(move || {
        crate::trust_install::apply(action, &data_dir)
    })
    .await
    .map_err(|e| format!("the trust change stopped: {e}"))?;
    for line in &lines {
        tracing::info!(store = %line.store, outcome = %line.outcome, detail = %line.detail, ?action, "trust store");
    }
    crate::welcome::refresh(&app).await?;
    changed(&app);
    Ok(lines)
}

/// Interception: on or off in this app, its ports, the hosts it answers
/// as and whether the interception CA is trusted, as `GET /__wxemu/intercept`
/// says (asks the stores: the dashboard calls it on demand, not on every
/// refresh).
#[tauri::command]
pub async fn intercept_status(desktop: State<'_, Desktop>) -> Result<InterceptInfo, String> {
    let data_dir = desktop.server.options().data_dir;
    // Stopped: nothing intercepts; the configured hosts are still shown.
    let (on, hosts) = match desktop.server.emulator() {
        Some(emu) => (
            emu.listening().intercept.clone(),
            emu.config().intercept.hosts.clone(),
        ),
        None => (None, Vec::new()),
    };
    tauri::async_runtime::spawn_blocking(move || {
        crate::trust::intercept_info(&data_dir, on.as_ref(), hosts)
    })
    .await
    .map_err(|e| format!("the interception check stopped: {e}"))
}

/// Opens the built-in demo site in the default browser; returns its URL.
#[tauri::command]
pub fn open_demo(desktop: State<'_, Desktop>) -> Result<String, String> {
    crate::browser::open_demo(&*emulator(&desktop)?)
}

// ---- pages in WeChat's browser (H5) ----

/// Opens `url` in a new WeChat-browser window; returns its label.
#[tauri::command]
pub async fn wechat_open<R: Runtime>(app: AppHandle<R>, url: String) -> Result<String, String> {
    crate::wechat::open(&app, &url)
}

#[derive(Debug, Serialize)]
pub struct H5Status {
    /// Pages that passed `wx.config`, oldest first.
    pub pages: Vec<VerifiedPage>,
    pub outcomes: Vec<QueuedOutcome>,
    /// Pay and scan calls waiting for the person.
    pub pending: Vec<PendingCall>,
}

/// The H5 panel: what `/__wxemu/h5/pages` and `/__wxemu/h5/outcomes` say,
/// and the calls waiting for a person.
#[tauri::command]
pub fn h5_status(desktop: State<'_, Desktop>) -> Result<H5Status, String> {
    let emu = emulator(&desktop)?;
    Ok(H5Status {
        pages: emu.verified_pages(),
        outcomes: emu.h5_outcomes(),
        pending: emu.pending_h5_calls(),
    })
}

/// What `POST /__wxemu/h5/outcomes` does.
#[tauri::command]
pub fn h5_outcome_add(desktop: State<'_, Desktop>, outcome: QueuedOutcome) -> Result<(), String> {
    emulator(&desktop)?.queue_h5_outcome(outcome)
}

/// What `DELETE /__wxemu/h5/outcomes` does; how many were dropped.
#[tauri::command]
pub fn h5_outcomes_clear(desktop: State<'_, Desktop>) -> Result<usize, String> {
    Ok(emulator(&desktop)?.clear_h5_outcomes())
}

/// Answers a waiting pay or scan call from the dashboard (`text`: a
/// scan's result).
#[tauri::command]
pub fn h5_resolve(
    desktop: State<'_, Desktop>,
    id: u64,
    result: OutcomeResult,
    text: Option<String>,
) -> Result<bool, String> {
    Ok(emulator(&desktop)?.resolve_h5_call(id, result, crate::wechat::answer_data(text)))
}

// ---- start at login ----

/// Whether the app starts at login; `None` where that is not available.
#[tauri::command]
pub fn autostart_get<R: Runtime>(app: AppHandle<R>) -> Option<bool> {
    crate::tray::autostart_enabled(&app)
}

#[tauri::command]
pub fn autostart_set<R: Runtime>(app: AppHandle<R>, enabled: bool) -> Result<(), String> {
    crate::tray::set_autostart(&app, enabled)
}
