//! Scenario files (`wxemu serve --scenario FILE`): one TOML file that sets
//! up a reproducible run for CI: accounts, apps, the standing policy, the
//! client's state, and the decisions and faults queued from the start.
//!
//! The scenario's accounts and apps are added to the config in memory (an
//! entry with the same id/appid replaces the file's); they reach the config
//! file only if the control API later saves it. A reset
//! (`POST /__wxemu/reset`) plays the scenario again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::approval::{ApprovalMode, QueuedAnswer, QueuedDecision};
use crate::config::{Account, ClientState, Config, WebsiteApp};
use crate::faults::FaultSpec;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// The standing policy: ask, auto, deny or never.
    pub policy: Option<ApprovalMode>,
    pub client: Option<ScenarioClient>,
    pub accounts: Vec<Account>,
    pub apps: Vec<WebsiteApp>,
    /// Answers for the first authorize requests, in order.
    pub decisions: Vec<DecisionBatch>,
    pub faults: Vec<FaultSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScenarioClient {
    pub state: Option<ClientState>,
    pub account: Option<String>,
}

/// `count` copies of one queued answer: the shape of `[[decisions]]` and
/// of `POST /__wxemu/decisions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBatch {
    pub decision: QueuedAnswer,
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub delay: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// How many authorize requests get this answer (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// Most answers one batch may queue: a typo like `count = 1000000000`
/// should not eat the memory.
pub const MAX_BATCH: u32 = 10_000;

impl DecisionBatch {
    pub fn validate(&self, config: &Config) -> Result<(), String> {
        match self.count {
            Some(0) => return Err("count must be at least 1".into()),
            Some(n) if n > MAX_BATCH => return Err(format!("count must be at most {MAX_BATCH}")),
            _ => {}
        }
        if let Some(account) = &self.account {
            if self.decision != QueuedAnswer::Allow {
                return Err("account only goes with decision = \"allow\"".into());
            }
            if config.account(account).is_none() {
                return Err(format!("account {account:?} does not exist"));
            }
        }
        Ok(())
    }

    pub fn expand(&self) -> impl Iterator<Item = QueuedDecision> + '_ {
        (0..self.count.unwrap_or(1)).map(|_| QueuedDecision {
            decision: self.decision,
            delay: self.delay,
            account: self.account.clone(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read the scenario file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the scenario file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Scenario {
    /// Reads and parses `path` (checked against a config with
    /// [`Scenario::merge_into`]).
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Scenario::parse(&text).map_err(|message| ScenarioError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Scenario, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Adds the scenario's accounts and apps to `config` and checks that
    /// everything the scenario names exists.
    pub fn merge_into(&self, config: &mut Config) -> Result<(), String> {
        for account in &self.accounts {
            config.accounts.retain(|a| a.id != account.id);
            config.accounts.push(account.clone());
        }
        for app in &self.apps {
            config.apps.retain(|a| a.appid != app.appid);
            config.apps.push(app.clone());
        }
        config.validate()?;
        if let Some(account) = self.client.as_ref().and_then(|c| c.account.as_ref()) {
            if config.account(account).is_none() {
                return Err(format!("[client] account {account:?} does not exist"));
            }
        }
        for (i, batch) in self.decisions.iter().enumerate() {
            batch
                .validate(config)
                .map_err(|e| format!("[[decisions]] #{}: {e}", i + 1))?;
        }
        for (i, fault) in self.faults.iter().enumerate() {
            fault
                .validate()
                .map_err(|e| format!("[[faults]] #{}: {e}", i + 1))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
policy = "ask"

[client]
state = "logged_in"
account = "alice"

[[accounts]]
id = "alice"
nickname = "Alice"

[[apps]]
appid = "wxa04304ceaedaf538"
secret = "0123456789abcdef0123456789abcdef"
callback_domains = ["site.example"]

[[decisions]]
decision = "deny"

[[decisions]]
decision = "allow"
account = "alice"
delay = "2s"
count = 2

[[faults]]
endpoint = "check-login"
latency = "500ms"
once = true

[[faults]]
endpoint = "token"
errcode = 40029
times = 3
"#;

    #[test]
    fn parses_and_merges_the_documented_example() {
        let scenario = Scenario::parse(EXAMPLE).unwrap();
        let mut config = Config::default();
        scenario.merge_into(&mut config).unwrap();
        assert!(config.account("alice").is_some());
        assert_eq!(scenario.policy, Some(ApprovalMode::Ask));
        let queued: Vec<_> = scenario.decisions.iter().flat_map(|b| b.expand()).collect();
        assert_eq!(queued.len(), 3);
        assert_eq!(queued[1].delay, Some(Duration::from_secs(2)));
        assert_eq!(scenario.faults[1].times, Some(3));
    }

    #[test]
    fn explains_what_is_wrong() {
        for (text, needle) in [
            ("[[decisions]]\ndecision = \"maybe\"\n", "unknown variant"),
            (
                "[[decisions]]\ndecision = \"allow\"\naccount = \"nobody\"\n",
                "#1: account \"nobody\" does not exist",
            ),
            (
                "[[decisions]]\ndecision = \"deny\"\naccount = \"default\"\n",
                "only goes with",
            ),
            (
                "[[faults]]\nendpoint = \"authorize\"\n",
                "#1: a fault needs",
            ),
            (
                "[[faults]]\nendpoint = \"nowhere\"\nerrcode = 1\n",
                "unknown variant",
            ),
            ("[client]\naccount = \"ghost\"\n", "ghost"),
            ("bogus = 1\n", "unknown field"),
        ] {
            let err = Scenario::parse(text)
                .and_then(|s| s.merge_into(&mut Config::default()))
                .unwrap_err();
            assert!(err.contains(needle), "{text:?} gave {err}");
        }
    }
}
