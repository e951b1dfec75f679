//! The tester's switches (client state, approval mode, account), as the tray
//! menu and the dashboard name them: their labels, and applying a menu id
//! such as `state:locked`. Shared by [`crate::tray`] (which shows them) and
//! [`crate::commands`] (which apply them for the pages).

use tauri::{AppHandle, Manager, Runtime};
use wxemu::core::ApprovalMode;
use wxemu::core::ClientState;

use crate::events::changed;
use crate::state::Desktop;

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

/// One switch, parsed from a menu id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switch {
    Account(String),
    State(ClientState),
    Mode(ApprovalMode),
}

impl Switch {
    /// `account:<id>`, `state:<state>` or `mode:<mode>`.
    pub fn parse(id: &str) -> Result<Switch, String> {
        let (kind, value) = id
            .split_once(':')
            .ok_or_else(|| format!("unknown menu item {id:?}"))?;
        match kind {
            "account" => Ok(Switch::Account(value.to_owned())),
            "state" => STATES
                .iter()
                .find(|(s, _)| s.as_str() == value)
                .map(|(s, _)| Switch::State(*s))
                .ok_or_else(|| format!("unknown client state {value:?}")),
            "mode" => MODES
                .iter()
                .find(|(m, _)| m.as_str() == value)
                .map(|(m, _)| Switch::Mode(*m))
                .ok_or_else(|| format!("unknown approval mode {value:?}")),
            _ => Err(format!("unknown menu item {id:?}")),
        }
    }

    /// The menu id of this switch (the inverse of [`Switch::parse`]).
    pub fn id(&self) -> String {
        match self {
            Switch::Account(id) => format!("account:{id}"),
            Switch::State(s) => format!("state:{}", s.as_str()),
            Switch::Mode(m) => format!("mode:{}", m.as_str()),
        }
    }
}

/// Applies the switch named by menu id `id` and tells the views.
pub fn apply_switch<R: Runtime>(app: &AppHandle<R>, id: &str) -> Result<(), String> {
    apply(app, Switch::parse(id)?)
}

/// Applies `switch` to the running emulator and tells the views.
pub fn apply<R: Runtime>(app: &AppHandle<R>, switch: Switch) -> Result<(), String> {
    let emu = app.state::<Desktop>().emulator()?;
    match switch {
        Switch::Account(id) => {
            if !emu.set_current_account(&id) {
                return Err(format!("no account has the id {id:?}"));
            }
        }
        Switch::State(state) => emu.set_client_state(state),
        Switch::Mode(mode) => emu.set_approval_mode(mode),
    }
    changed(app);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_round_trip() {
        for id in ["account:default", "state:locked", "mode:never"] {
            assert_eq!(Switch::parse(id).unwrap().id(), id);
        }
        assert!(Switch::parse("state:asleep").is_err());
        assert!(Switch::parse("mode:sometimes").is_err());
        assert!(Switch::parse("bogus").is_err());
        assert!(Switch::parse("volume:11").is_err());
    }
}
