//! Client state, accounts and apps. Account and app changes are saved to
//! the config file atomically (validated first; a failed save changes
//! nothing) and are live at once.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{from_value, json_body, ok, ApiError, ApiResult};
use wxemu_core::config::{Account, ClientState, WebsiteApp, DEFAULT_ACCOUNT_ID};
use wxemu_core::emulator::{Emulator, UpdateError};

fn client_view(emu: &Emulator) -> Value {
    let account = emu.current_account();
    json!({
        "state": emu.client_state(),
        "account": account_view(emu, &account),
        "policy": emu.approvals.mode(),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientChange {
    state: Option<ClientState>,
    account: Option<String>,
}

/// Changes the runtime client state (not saved to the config).
pub async fn set_client(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let change: ClientChange = json_body(&emu, body).await?;
    if let Some(account) = &change.account {
        if emu.config().account(account).is_none() {
            return Err(ApiError::not_found(format!(
                "account {account:?} does not exist"
            )));
        }
    }
    if let Some(state) = change.state {
        emu.set_client_state(state);
    }
    if let Some(account) = &change.account {
        emu.set_current_account(account);
    }
    ok(client_view(&emu))
}

// ---- accounts ---------------------------------------------------------

pub async fn accounts(State(emu): State<Arc<Emulator>>) -> ApiResult {
    let accounts: Vec<Value> = emu
        .config()
        .accounts()
        .iter()
        .map(|a| account_view(&emu, a))
        .collect();
    ok(accounts)
}

pub async fn account(State(emu): State<Arc<Emulator>>, Path(id): Path<String>) -> ApiResult {
    let account = emu
        .config()
        .account(&id)
        .ok_or_else(|| ApiError::not_found(format!("account {id:?} does not exist")))?;
    ok(account_view(&emu, &account))
}

pub async fn add_account(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let value: Value = json_body(&emu, body).await?;
    if value.get("id").and_then(Value::as_str).is_none() {
        return Err(ApiError::bad("id: an account needs an id"));
    }
    let account: Account = from_value(value)?;
    let added = account.clone();
    emu.try_update_config(|config| {
        if config.account(&account.id).is_some() && account.id != DEFAULT_ACCOUNT_ID {
            return Err(UpdateError::Conflict(format!(
                "account {:?} already exists; PATCH /__wxemu/accounts/{} changes it",
                account.id, account.id
            )));
        }
        if config.accounts.iter().any(|a| a.id == account.id) {
            return Err(UpdateError::Conflict(format!(
                "account {:?} already exists",
                account.id
            )));
        }
        config.accounts.push(account);
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(account_view(&emu, &added))).into_response())
}

pub async fn change_account(
    State(emu): State<Arc<Emulator>>,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let patch: Value = json_body(&emu, body).await?;
    let changed = emu.try_update_config(|config| {
        let current = config
            .account(&id)
            .ok_or_else(|| UpdateError::NotFound(format!("account {id:?} does not exist")))?;
        let next: Account = merged(&current, &patch, "id", &id)?;
        config.accounts.retain(|a| a.id != id);
        config.accounts.push(next.clone());
        Ok(next)
    })?;
    ok(account_view(&emu, &changed))
}

pub async fn remove_account(State(emu): State<Arc<Emulator>>, Path(id): Path<String>) -> ApiResult {
    let in_use = emu.current_account().id == id;
    emu.try_update_config(|config| {
        if config.account(&id).is_none() {
            return Err(UpdateError::NotFound(format!("account {id:?} does not exist")));
        }
        if in_use || config.client.account == id {
            return Err(UpdateError::Conflict(format!(
                "account {id:?} is the one the client is logged in as; switch with PATCH /__wxemu/client first"
            )));
        }
        if !config.accounts.iter().any(|a| a.id == id) {
            return Err(UpdateError::Conflict(format!(
                "account {id:?} is built in and cannot be removed"
            )));
        }
        config.accounts.retain(|a| a.id != id);
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- apps -------------------------------------------------------------

/// An app as listed: the secret is masked (the journal rule applies here
/// too); `GET /apps/{appid}` shows it whole, for the test that needs it.
/// `configured` is false for apps permissive mode registered in memory on
/// first use (POST one with the same appid to configure it).
fn app_summary(app: &WebsiteApp, configured: bool) -> Value {
    let mut v = serde_json::to_value(app).unwrap_or_default();
    v["secret"] = Value::String(wxemu_core::journal::mask(&app.secret));
    v["configured"] = Value::Bool(configured);
    v
}

pub async fn apps(State(emu): State<Arc<Emulator>>) -> ApiResult {
    let config = emu.config();
    let mut apps: Vec<Value> = config.apps.iter().map(|a| app_summary(a, true)).collect();
    apps.extend(
        emu.apps
            .registered()
            .iter()
            .filter(|a| config.app(&a.appid).is_none())
            .map(|a| app_summary(a, false)),
    );
    ok(apps)
}

pub async fn app(State(emu): State<Arc<Emulator>>, Path(appid): Path<String>) -> ApiResult {
    let configured = emu.config().app(&appid).cloned();
    let found = match configured {
        Some(app) => Some((app, true)),
        None => emu
            .apps
            .registered()
            .into_iter()
            .find(|a| a.appid == appid)
            .map(|a| (a, false)),
    };
    let (app, configured) =
        found.ok_or_else(|| ApiError::not_found(format!("app {appid:?} does not exist")))?;
    let mut v = serde_json::to_value(&app).unwrap_or_default();
    v["configured"] = Value::Bool(configured);
    ok(v)
}

pub async fn add_app(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let value: Value = json_body(&emu, body).await?;
    if value.get("appid").and_then(Value::as_str).is_none() {
        return Err(ApiError::bad("appid: an app needs an appid"));
    }
    let app: WebsiteApp = from_value(value)?;
    let added = app.clone();
    emu.try_update_config(|config| {
        if config.app(&app.appid).is_some() {
            return Err(UpdateError::Conflict(format!(
                "app {:?} already exists; PATCH /__wxemu/apps/{} changes it",
                app.appid, app.appid
            )));
        }
        config.apps.push(app);
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(app_summary(&added, true))).into_response())
}

pub async fn change_app(
    State(emu): State<Arc<Emulator>>,
    Path(appid): Path<String>,
    body: Body,
) -> ApiResult {
    let patch: Value = json_body(&emu, body).await?;
    let changed = emu.try_update_config(|config| {
        let current = config.app(&appid).cloned().ok_or_else(|| {
            UpdateError::NotFound(format!(
                "app {appid:?} is not configured; POST /__wxemu/apps adds it"
            ))
        })?;
        let next: WebsiteApp = merged(&current, &patch, "appid", &appid)?;
        if let Some(slot) = config.apps.iter_mut().find(|a| a.appid == appid) {
            *slot = next.clone();
        }
        Ok(next)
    })?;
    ok(app_summary(&changed, true))
}

pub async fn remove_app(State(emu): State<Arc<Emulator>>, Path(appid): Path<String>) -> ApiResult {
    emu.try_update_config(|config| {
        if config.app(&appid).is_none() {
            return Err(UpdateError::NotFound(format!(
                "app {appid:?} does not exist"
            )));
        }
        config.apps.retain(|a| a.appid != appid);
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `current` with the fields of the JSON object `patch` replaced; the key
/// field (`id`, `appid`) cannot change.
fn merged<T>(current: &T, patch: &Value, key: &str, key_value: &str) -> Result<T, UpdateError>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let Value::Object(fields) = patch else {
        return Err(UpdateError::Invalid(
            "the body must be a JSON object of the fields to change".into(),
        ));
    };
    if fields
        .get(key)
        .is_some_and(|v| v.as_str() != Some(key_value))
    {
        return Err(UpdateError::Invalid(format!(
            "{key} cannot be changed; remove and add instead"
        )));
    }
    let mut value =
        serde_json::to_value(current).map_err(|e| UpdateError::Invalid(e.to_string()))?;
    for (k, v) in fields {
        value[k] = v.clone();
    }
    from_value(value).map_err(|e| UpdateError::Invalid(e.message))
}
