//! Client state, accounts and apps: each handler translates one call of the
//! core's settings operations (`wxemu_core::settings`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{from_value, json_body, ok, ApiError, ApiResult};
use wxemu_core::Emulator;
use wxemu_core::KnownApp;
use wxemu_core::{Account, ClientState, WebsiteApp};

fn client_view(emu: &Emulator) -> Value {
    let account = emu.current_account();
    let settings = emu.client_settings();
    json!({
        "state": settings.state,
        "account": account_view(emu, &account),
        "policy": emu.approval_mode(),
        "snapshot_user": settings.snapshot_user,
        "full_profile": settings.full_profile,
    })
}

fn account_view(emu: &Emulator, account: &Account) -> Value {
    let mut v = serde_json::to_value(account).unwrap_or_default();
    v["avatar_url"] = Value::String(emu.headimgurl(account));
    v
}

pub async fn client(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(client_view(&emu))
}

/// The body of `PATCH /client`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ClientState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Web authorization: the person sees only the page's snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_user: Option<bool>,
    /// Web authorization's userinfo tells gender and region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_profile: Option<bool>,
}

/// Changes the runtime client state (not saved to the config).
pub async fn set_client(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let change: ClientChange = json_body(&emu, body).await?;
    emu.set_client(change.state, change.account.as_deref())?;
    if change.snapshot_user.is_some() || change.full_profile.is_some() {
        emu.set_web_switches(change.snapshot_user, change.full_profile);
    }
    ok(client_view(&emu))
}

// ---- accounts ---------------------------------------------------------

pub async fn accounts(State(emu): State<Arc<Emulator>>) -> ApiResult {
    let accounts: Vec<Value> = emu
        .accounts()
        .iter()
        .map(|a| account_view(&emu, a))
        .collect();
    ok(accounts)
}

pub async fn account(State(emu): State<Arc<Emulator>>, Path(id): Path<String>) -> ApiResult {
    let account = emu
        .account(&id)
        .ok_or_else(|| ApiError::not_found(format!("account {id:?} does not exist")))?;
    ok(account_view(&emu, &account))
}

pub async fn add_account(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let value: Value = json_body(&emu, body).await?;
    if value.get("id").and_then(Value::as_str).is_none() {
        return Err(ApiError::bad("id: an account needs an id"));
    }
    let added = emu.add_account(from_value(value)?)?;
    Ok((StatusCode::CREATED, Json(account_view(&emu, &added))).into_response())
}

pub async fn change_account(
    State(emu): State<Arc<Emulator>>,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let patch: Value = json_body(&emu, body).await?;
    let changed = emu.change_account(&id, &patch)?;
    ok(account_view(&emu, &changed))
}

pub async fn remove_account(State(emu): State<Arc<Emulator>>, Path(id): Path<String>) -> ApiResult {
    emu.remove_account(&id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- apps -------------------------------------------------------------

/// An app as listed: the secret is masked (the journal rule applies here
/// too); `GET /apps/{appid}` shows it whole, for the test that needs it.
/// `configured` is false for apps permissive mode registered in memory on
/// first use (POST one with the same appid to configure it).
fn app_summary(app: &WebsiteApp, configured: bool) -> Value {
    let mut v = serde_json::to_value(app).unwrap_or_default();
    v["secret"] = Value::String(wxemu_core::mask(&app.secret));
    v["configured"] = Value::Bool(configured);
    v
}

pub async fn apps(State(emu): State<Arc<Emulator>>) -> ApiResult {
    let apps: Vec<Value> = emu
        .known_apps()
        .iter()
        .map(|k| app_summary(&k.app, k.configured))
        .collect();
    ok(apps)
}

pub async fn app(State(emu): State<Arc<Emulator>>, Path(appid): Path<String>) -> ApiResult {
    let KnownApp { app, configured } = emu
        .known_app(&appid)
        .ok_or_else(|| ApiError::not_found(format!("app {appid:?} does not exist")))?;
    let mut v = serde_json::to_value(&app).unwrap_or_default();
    v["configured"] = Value::Bool(configured);
    ok(v)
}

pub async fn add_app(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let value: Value = json_body(&emu, body).await?;
    if value.get("appid").and_then(Value::as_str).is_none() {
        return Err(ApiError::bad("appid: an app needs an appid"));
    }
    let added = emu.add_app(from_value(value)?)?;
    Ok((StatusCode::CREATED, Json(app_summary(&added, true))).into_response())
}

pub async fn change_app(
    State(emu): State<Arc<Emulator>>,
    Path(appid): Path<String>,
    body: Body,
) -> ApiResult {
    let patch: Value = json_body(&emu, body).await?;
    let changed = emu.change_app(&appid, &patch)?;
    ok(app_summary(&changed, true))
}

pub async fn remove_app(State(emu): State<Arc<Emulator>>, Path(appid): Path<String>) -> ApiResult {
    emu.remove_app(&appid)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
