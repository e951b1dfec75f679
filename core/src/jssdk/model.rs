//! The JS-SDK's vocabulary: lifetimes and bounds, errors, what a page's
//! `wx.config` sends and what its check answers, outcomes, and the
//! documented signature. No state: see `state.rs` and the operations in
//! `mod.rs`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long a base access_token lives (`expires_in: 7200`).
pub const BASE_TOKEN_TTL: Duration = Duration::from_secs(7200);
/// How long a ticket lives.
pub const TICKET_TTL: Duration = Duration::from_secs(7200);
/// The stable token is renewed when less than this is left.
pub const STABLE_RENEWAL: Duration = Duration::from_secs(300);
/// Most base tokens remembered (each app's newest and its stable one are
/// all that is ever live; the rest only say "expired").
pub const MAX_BASE_TOKENS: usize = 10_000;
/// Most apps whose tickets are remembered, and tickets per app.
pub const MAX_TICKET_APPS: usize = 1000;
pub const TICKETS_PER_APP: usize = 4;
/// Most outcomes queued, and pages remembered as verified.
pub const MAX_OUTCOMES: usize = 1000;
pub const MAX_PAGES: usize = 50;
/// Longest page URL a verification takes (as the issue bounds it).
pub const MAX_PAGE_URL_BYTES: usize = 4096;
/// Most JS APIs (and open tags) one config may list.
pub const MAX_JS_APIS: usize = 200;

/// The JS-SDK's errors: WeChat's global errcodes and texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsSdkError {
    #[error("system error")]
    System,
    #[error("invalid credential, access_token is invalid or not latest")]
    InvalidCredential,
    #[error("access_token expired")]
    AccessTokenExpired,
    #[error("invalid appid")]
    InvalidAppid,
    #[error("invalid appsecret")]
    InvalidAppsecret,
    #[error("invalid grant_type")]
    InvalidGrantType,
    #[error("appid missing")]
    MissingAppid,
    #[error("appsecret missing")]
    MissingSecret,
    #[error("access_token missing")]
    MissingAccessToken,
    #[error("invalid args: type must be jsapi or wx_card")]
    InvalidTicketType,
}

impl JsSdkError {
    pub fn errcode(&self) -> i64 {
        match self {
            JsSdkError::System => -1,
            JsSdkError::InvalidCredential => 40001,
            JsSdkError::AccessTokenExpired => 42001,
            JsSdkError::InvalidAppid => 40013,
            JsSdkError::InvalidAppsecret => 40125,
            JsSdkError::InvalidGrantType => 40002,
            JsSdkError::MissingAppid => 41002,
            JsSdkError::MissingSecret => 41004,
            JsSdkError::MissingAccessToken => 41001,
            JsSdkError::InvalidTicketType => 40097,
        }
    }
}

/// A base access_token as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseToken {
    pub access_token: String,
    pub expires_in: u64,
}

/// `jsapi` (wx.config) or `wx_card` (card APIs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    Jsapi,
    WxCard,
}

impl TicketKind {
    pub fn parse(kind: &str) -> Option<TicketKind> {
        match kind {
            "jsapi" => Some(TicketKind::Jsapi),
            "wx_card" => Some(TicketKind::WxCard),
            _ => None,
        }
    }
}

// ---- verification --------------------------------------------------------

/// What `wx.config` sends, as the bridge hands it on.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct VerifyRequest {
    #[serde(alias = "appId")]
    pub app_id: String,
    /// The page URL the client checks (without its fragment; the bridge
    /// sends the landing URL on iOS, as WeChat for iOS does).
    pub url: String,
    /// The page's current URL, with its fragment, for the diagnosis.
    pub href: String,
    /// The URL the page was first opened with (single-page apps).
    pub landing_url: String,
    pub timestamp: Value,
    #[serde(alias = "nonceStr")]
    pub nonce_str: String,
    pub signature: String,
    #[serde(alias = "jsApiList")]
    pub js_api_list: Vec<String>,
    #[serde(alias = "openTagList")]
    pub open_tag_list: Vec<String>,
}

/// A page that passed `wx.config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedPage {
    pub app_id: String,
    pub url: String,
    pub js_api_list: Vec<String>,
    pub open_tag_list: Vec<String>,
    /// Wall-clock milliseconds.
    pub at: u64,
    /// What was accepted that real WeChat would refuse.
    pub warnings: Vec<String>,
}

/// Why `wx.config` failed: the native error jweixin maps (`config:invalid
/// signature`, `config:invalid url domain`) and, for the developer, what
/// should have been signed and the likeliest mistake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyFailure {
    /// `invalid signature`, `invalid url domain`, ...: jweixin shows
    /// `config:<this>`.
    pub error: String,
    /// wxemu's reason, one line.
    pub reason: String,
    /// The exact string that should have been signed for this page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_signature: Option<String>,
    pub sent_signature: String,
    /// The usual mistake that fits, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// `sha1("jsapi_ticket=T&noncestr=N&timestamp=TS&url=URL")`, lowercase hex.
pub fn signature(ticket: &str, nonce: &str, timestamp: &str, url: &str) -> String {
    sign(&string_to_sign(ticket, nonce, timestamp, url))
}

pub fn string_to_sign(ticket: &str, nonce: &str, timestamp: &str, url: &str) -> String {
    format!("jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}")
}

fn sign(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes());
    data_encoding::HEXLOWER.encode(digest.as_ref())
}

// ---- outcomes ------------------------------------------------------------

/// What the next call(s) of a JS API answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedOutcome {
    /// The JS API's name as pages call it: `chooseWXPay`, `scanQRCode`...
    pub api: String,
    pub result: OutcomeResult,
    /// Extra fields of the answer (`resultStr`, `localIds`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// How many calls get it (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeResult {
    Ok,
    Cancel,
    Fail,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documentation's own example.
    #[test]
    fn the_documented_signature() {
        assert_eq!(
            signature(
                "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
                "Wm3WZYTPz0wzccnW",
                "1414587457",
                "http://mp.weixin.qq.com?params=value"
            ),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
        );
    }
}
