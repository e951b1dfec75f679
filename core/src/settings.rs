//! Client state, accounts and apps: the operations the control API, the
//! desktop app and scenarios share. Account and app changes are validated,
//! saved to the config file atomically (a failed save changes nothing) and
//! live at once; client changes are runtime only.

use serde_json::Value;

use crate::config::{Account, ClientState, WebsiteApp, DEFAULT_ACCOUNT_ID};
use crate::emulator::{Emulator, UpdateError};

/// An app as the Open Platform knows it right now.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownApp {
    pub app: WebsiteApp,
    /// False for an app permissive mode registered in memory on first use.
    pub configured: bool,
}

impl Emulator {
    /// Changes the runtime client state and/or the logged-in account (not
    /// saved to the config). Nothing changes when the account is unknown.
    pub fn set_client(
        &self,
        state: Option<ClientState>,
        account: Option<&str>,
    ) -> Result<(), UpdateError> {
        if let Some(id) = account {
            if self.config().account(id).is_none() {
                return Err(not_found_account(id));
            }
        }
        if let Some(state) = state {
            self.set_client_state(state);
        }
        if let Some(id) = account {
            self.set_current_account(id);
        }
        Ok(())
    }

    /// Every account, the built-in one first unless the config replaces it.
    pub fn accounts(&self) -> Vec<Account> {
        self.config().accounts()
    }

    pub fn account(&self, id: &str) -> Option<Account> {
        self.config().account(id)
    }

    pub fn add_account(&self, account: Account) -> Result<Account, UpdateError> {
        self.try_update_config(|config| {
            if config.account(&account.id).is_some() && account.id != DEFAULT_ACCOUNT_ID
                || config.accounts.iter().any(|a| a.id == account.id)
            {
                return Err(UpdateError::Conflict(format!(
                    "account {:?} already exists; change it instead",
                    account.id
                )));
            }
            config.accounts.push(account.clone());
            Ok(account)
        })
    }

    /// Replaces the fields named in the JSON object `patch`; `id` stays.
    pub fn change_account(&self, id: &str, patch: &Value) -> Result<Account, UpdateError> {
        self.try_update_config(|config| {
            let current = config.account(id).ok_or_else(|| not_found_account(id))?;
            let next: Account = merged(&current, patch, "id", id)?;
            config.accounts.retain(|a| a.id != id);
            config.accounts.push(next.clone());
            Ok(next)
        })
    }

    /// Removes an account. The one the client is logged in as cannot go
    /// (switch first), nor the built-in one.
    pub fn remove_account(&self, id: &str) -> Result<(), UpdateError> {
        let in_use = self.current_account().id;
        self.try_update_config(|config| {
            if config.account(id).is_none() {
                return Err(not_found_account(id));
            }
            if in_use == id || config.client.account == id {
                return Err(logged_in_account(id));
            }
            if !config.accounts.iter().any(|a| a.id == id) {
                return Err(UpdateError::Conflict(format!(
                    "account {id:?} is built in and cannot be removed"
                )));
            }
            config.accounts.retain(|a| a.id != id);
            Ok(())
        })
    }

    /// Replaces every configured account (the desktop's accounts editor).
    /// The same rule as [`Emulator::remove_account`]: the logged-in account
    /// must stay.
    pub fn replace_accounts(&self, accounts: Vec<Account>) -> Result<(), UpdateError> {
        let in_use = self.current_account().id;
        self.try_update_config(|config| {
            config.accounts = accounts;
            if config.account(&in_use).is_none() {
                return Err(logged_in_account(&in_use));
            }
            Ok(())
        })
    }

    /// Configured apps, then those permissive mode registered.
    pub fn known_apps(&self) -> Vec<KnownApp> {
        let config = self.config();
        let mut apps: Vec<KnownApp> = config
            .apps
            .iter()
            .map(|app| KnownApp {
                app: app.clone(),
                configured: true,
            })
            .collect();
        apps.extend(
            self.registered_apps()
                .into_iter()
                .filter(|a| config.app(&a.appid).is_none())
                .map(|app| KnownApp {
                    app,
                    configured: false,
                }),
        );
        apps
    }

    /// The app `appid` names, configured or registered (never registers).
    pub fn known_app(&self, appid: &str) -> Option<KnownApp> {
        self.known_apps().into_iter().find(|k| k.app.appid == appid)
    }

    pub fn add_app(&self, app: WebsiteApp) -> Result<WebsiteApp, UpdateError> {
        self.try_update_config(|config| {
            if config.app(&app.appid).is_some() {
                return Err(UpdateError::Conflict(format!(
                    "app {:?} already exists; change it instead",
                    app.appid
                )));
            }
            config.apps.push(app.clone());
            Ok(app)
        })
    }

    /// Replaces the fields named in the JSON object `patch`; `appid` stays.
    pub fn change_app(&self, appid: &str, patch: &Value) -> Result<WebsiteApp, UpdateError> {
        self.try_update_config(|config| {
            let current = config.app(appid).cloned().ok_or_else(|| {
                UpdateError::NotFound(format!("app {appid:?} is not configured; add it first"))
            })?;
            let next: WebsiteApp = merged(&current, patch, "appid", appid)?;
            if let Some(slot) = config.apps.iter_mut().find(|a| a.appid == appid) {
                *slot = next.clone();
            }
            Ok(next)
        })
    }

    pub fn remove_app(&self, appid: &str) -> Result<(), UpdateError> {
        self.try_update_config(|config| {
            if config.app(appid).is_none() {
                return Err(UpdateError::NotFound(format!(
                    "app {appid:?} does not exist"
                )));
            }
            config.apps.retain(|a| a.appid != appid);
            Ok(())
        })
    }

    /// Replaces every configured app (the desktop's apps editor).
    pub fn replace_apps(&self, apps: Vec<WebsiteApp>) -> Result<(), UpdateError> {
        self.try_update_config(|config| {
            config.apps = apps;
            Ok(())
        })
    }
}

fn not_found_account(id: &str) -> UpdateError {
    UpdateError::NotFound(format!("account {id:?} does not exist"))
}

fn logged_in_account(id: &str) -> UpdateError {
    UpdateError::Conflict(format!(
        "account {id:?} is the one the client is logged in as; switch to another account first"
    ))
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
    crate::json::from_value(value).map_err(UpdateError::Invalid)
}
