//! The JS-SDK's server side (protocol.md section 4): an Official Account's
//! base access_token (`cgi-bin/token`, `cgi-bin/stable_token`), its
//! `jsapi` / `wx_card` tickets, the signature check `wx.config` asks the
//! client for (the bridge asks wxemu), and the outcomes queued for the
//! JS APIs a page calls (`chooseWXPay`, `scanQRCode`, ...).
//!
//! Rules, as WeChat has them: a base token lives 7200 s and a new
//! `cgi-bin/token` retires the app's previous one (clients retry on 40001);
//! the stable token is the same while valid, renewed in its last 5
//! minutes (old and new both valid then), separate from `cgi-bin/token`;
//! a ticket lives its whole 7200 s whatever happens to the token that
//! fetched it, so a backend that caches it keeps verifying.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{AppKind, PlatformMode, WebsiteApp};
use crate::emulator::Emulator;
use crate::random::random_token;
use crate::store::{Expiring, Lookup};

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

#[derive(Debug, Clone)]
struct IssuedTicket {
    ticket: String,
    kind: TicketKind,
    expires_at: SystemTime,
}

#[derive(Debug, Clone)]
struct BaseGrant {
    appid: String,
}

/// The JS-SDK's state in one emulator.
#[derive(Debug)]
pub(crate) struct JsSdk {
    /// Every base token issued, to the app it is for.
    tokens: Expiring<BaseGrant>,
    /// Each app's newest `cgi-bin/token` (a new one retires it) and its
    /// stable token with its expiry.
    latest: Mutex<Latest>,
    /// Each app's last few tickets, newest last.
    tickets: Mutex<HashMap<String, VecDeque<IssuedTicket>>>,
    outcomes: Mutex<VecDeque<QueuedOutcome>>,
    pages: Mutex<VecDeque<VerifiedPage>>,
}

#[derive(Debug, Default)]
struct Latest {
    token: HashMap<String, String>,
    stable: HashMap<String, (String, SystemTime)>,
}

impl Default for JsSdk {
    fn default() -> Self {
        JsSdk {
            tokens: Expiring::capped(Duration::from_secs(24 * 3600), MAX_BASE_TOKENS),
            latest: Mutex::default(),
            tickets: Mutex::default(),
            outcomes: Mutex::default(),
            pages: Mutex::default(),
        }
    }
}

impl JsSdk {
    pub(crate) fn clear(&self) {
        self.tokens.clear();
        *crate::sync::lock(&self.latest) = Latest::default();
        crate::sync::lock(&self.tickets).clear();
        crate::sync::lock(&self.outcomes).clear();
        crate::sync::lock(&self.pages).clear();
    }

    pub(crate) fn purge(&self, now: SystemTime) -> usize {
        self.tokens.purge(now)
    }
}

/// A map that forgets an arbitrary entry when it is full: per-app state
/// for appids anyone may make up in permissive mode.
fn insert_bounded<V>(map: &mut HashMap<String, V>, key: String, value: V, cap: usize) {
    if map.len() >= cap && !map.contains_key(&key) {
        if let Some(victim) = map.keys().next().cloned() {
            map.remove(&victim);
        }
    }
    map.insert(key, value);
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

impl Emulator {
    /// `GET cgi-bin/token?grant_type=client_credential&appid&secret`: a
    /// new base token; the app's previous one stops working at once.
    pub fn cgi_token(
        &self,
        grant_type: &str,
        appid: &str,
        secret: &str,
    ) -> Result<BaseToken, JsSdkError> {
        self.official_account(grant_type, appid, secret)?;
        let now = self.clock().now();
        let token = self.mint_base_token(appid, now);
        let retired = insert_latest(
            &mut crate::sync::lock(&self.jssdk.latest).token,
            appid,
            &token,
        );
        if let Some(old) = retired {
            self.jssdk.tokens.take(&old, now);
        }
        Ok(BaseToken {
            access_token: token,
            expires_in: BASE_TOKEN_TTL.as_secs(),
        })
    }

    /// `POST cgi-bin/stable_token`: the same token while it has more than
    /// 5 minutes left (unless `force_refresh`), then a new one; the old
    /// one stays valid until its own expiry.
    pub fn stable_token(
        &self,
        grant_type: &str,
        appid: &str,
        secret: &str,
        force_refresh: bool,
    ) -> Result<BaseToken, JsSdkError> {
        self.official_account(grant_type, appid, secret)?;
        let now = self.clock().now();
        let mut latest = crate::sync::lock(&self.jssdk.latest);
        if let Some((token, expires_at)) = latest.stable.get(appid) {
            let left = expires_at.duration_since(now).unwrap_or_default();
            if !force_refresh && left > STABLE_RENEWAL {
                return Ok(BaseToken {
                    access_token: token.clone(),
                    expires_in: left.as_secs(),
                });
            }
        }
        let token = self.mint_base_token(appid, now);
        insert_bounded(
            &mut latest.stable,
            appid.to_owned(),
            (token.clone(), now + BASE_TOKEN_TTL),
            MAX_TICKET_APPS,
        );
        Ok(BaseToken {
            access_token: token,
            expires_in: BASE_TOKEN_TTL.as_secs(),
        })
    }

    /// `GET cgi-bin/ticket/getticket?access_token&type`: the app's live
    /// ticket of that kind, or a new one once it expired. `expires_in` is
    /// 7200 on every call, as WeChat answers.
    pub fn js_ticket(&self, access_token: &str, kind: &str) -> Result<String, JsSdkError> {
        if access_token.is_empty() {
            return Err(JsSdkError::MissingAccessToken);
        }
        let now = self.clock().now();
        let appid = match self.jssdk.tokens.get(access_token, now) {
            Lookup::Live(grant) => grant.appid,
            Lookup::Expired(_) => return Err(JsSdkError::AccessTokenExpired),
            Lookup::Missing => return Err(JsSdkError::InvalidCredential),
        };
        let kind = TicketKind::parse(kind).ok_or(JsSdkError::InvalidTicketType)?;
        let mut all = crate::sync::lock(&self.jssdk.tickets);
        if let Some(live) = all.get(&appid).and_then(|issued| {
            issued
                .iter()
                .rev()
                .find(|t| t.kind == kind && t.expires_at > now)
        }) {
            return Ok(live.ticket.clone());
        }
        let ticket = random_token(86);
        if !all.contains_key(&appid) {
            insert_bounded(&mut all, appid.clone(), VecDeque::new(), MAX_TICKET_APPS);
        }
        let issued = all.entry(appid).or_default();
        if issued.len() >= TICKETS_PER_APP {
            issued.pop_front();
        }
        issued.push_back(IssuedTicket {
            ticket: ticket.clone(),
            kind,
            expires_at: now + TICKET_TTL,
        });
        Ok(ticket)
    }

    /// What the client checks for `wx.config` (`preVerifyJSAPI`): the
    /// fields, the appid, the page's host against the app's JS接口安全域名
    /// (subdomains included; ports 80/443 only in strict mode), and the
    /// signature over a live jsapi ticket of the app and the page URL.
    pub fn verify_js_config(
        &self,
        request: &VerifyRequest,
    ) -> Result<VerifiedPage, Box<VerifyFailure>> {
        let fail = |error: &str, reason: String| {
            Box::new(VerifyFailure {
                error: error.to_owned(),
                reason,
                expected_string: None,
                expected_signature: None,
                sent_signature: request.signature.chars().take(64).collect(),
                cause: None,
            })
        };
        let timestamp = match &request.timestamp {
            Value::Number(n) if n.is_u64() => n.to_string(),
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
            other => {
                return Err(fail(
                    "invalid signature",
                    format!("timestamp must be a number of seconds, not {other}"),
                ))
            }
        };
        if request.nonce_str.is_empty() || request.nonce_str.len() > 64 {
            return Err(fail(
                "invalid signature",
                "nonceStr must be 1 to 64 characters".into(),
            ));
        }
        let sent = request.signature.to_ascii_lowercase();
        if sent.len() != 40 || !sent.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fail(
                "invalid signature",
                format!(
                    "signature must be 40 hex digits (a SHA-1), not {} characters",
                    request.signature.chars().count()
                ),
            ));
        }
        if request.js_api_list.len() > MAX_JS_APIS || request.open_tag_list.len() > MAX_JS_APIS {
            return Err(fail(
                "invalid signature",
                format!("jsApiList and openTagList take at most {MAX_JS_APIS} names"),
            ));
        }
        for len in [
            request.url.len(),
            request.href.len(),
            request.landing_url.len(),
        ] {
            if len > MAX_PAGE_URL_BYTES {
                return Err(fail(
                    "invalid url domain",
                    format!(
                        "the page URL is {len} bytes; at most {MAX_PAGE_URL_BYTES} are checked"
                    ),
                ));
            }
        }
        let app = match self.config().app(&request.app_id).cloned() {
            Some(app) => app,
            None if self.config().platform.mode == PlatformMode::Permissive
                && !request.app_id.is_empty() =>
            {
                self.app_used_as(&request.app_id, AppKind::OfficialAccount)
                    .ok_or_else(|| {
                        fail(
                            "invalid appid",
                            format!("appId {:?} is malformed", request.app_id),
                        )
                    })?
            }
            None => {
                return Err(fail(
                    "invalid appid",
                    format!("appId {:?} is not an app of this wxemu", request.app_id),
                ))
            }
        };
        let mut warnings = Vec::new();
        let url = url::Url::parse(&request.url).map_err(|_| {
            fail(
                "invalid url domain",
                format!("the page URL {:?} is not absolute", request.url),
            )
        })?;
        self.check_js_domain(&app, &url, &mut warnings)
            .map_err(|reason| fail("invalid url domain", reason))?;

        let now = self.clock().now();
        let tickets = self.ticket_history();
        let live: Vec<&str> = tickets
            .get(&app.appid)
            .into_iter()
            .flatten()
            .filter(|t| t.kind == TicketKind::Jsapi && t.expires_at > now)
            .map(|t| t.ticket.as_str())
            .collect();
        let good = live
            .iter()
            .any(|ticket| signature(ticket, &request.nonce_str, &timestamp, &request.url) == sent);
        if good {
            let page = VerifiedPage {
                app_id: app.appid,
                url: request.url.clone(),
                js_api_list: request.js_api_list.clone(),
                open_tag_list: request.open_tag_list.clone(),
                at: SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64),
                warnings,
            };
            let mut pages = crate::sync::lock(&self.jssdk.pages);
            if pages.len() >= MAX_PAGES {
                pages.pop_front();
            }
            pages.push_back(page.clone());
            return Ok(page);
        }
        let newest = live.last().copied();
        Err(Box::new(VerifyFailure {
            error: "invalid signature".into(),
            reason: match newest {
                Some(_) => "the signature is not sha1 of the expected string".into(),
                None => format!(
                    "no live jsapi ticket was issued to {} (call cgi-bin/ticket/getticket?type=jsapi with its access_token)",
                    app.appid
                ),
            },
            expected_signature: newest
                .map(|t| signature(t, &request.nonce_str, &timestamp, &request.url)),
            expected_string: newest
                .map(|t| string_to_sign(t, &request.nonce_str, &timestamp, &request.url)),
            sent_signature: sent.clone(),
            cause: diagnose(request, &timestamp, &sent, &app.appid, &tickets, now),
        }))
    }

    /// Pages that passed `wx.config`, oldest first (at most [`MAX_PAGES`]).
    pub fn verified_pages(&self) -> Vec<VerifiedPage> {
        crate::sync::lock(&self.jssdk.pages)
            .iter()
            .cloned()
            .collect()
    }

    /// Queues what the next call(s) of a JS API answer.
    pub fn queue_h5_outcome(&self, outcome: QueuedOutcome) -> Result<(), String> {
        if outcome.api.is_empty() || outcome.api.len() > 64 {
            return Err("api: name a JS API, e.g. chooseWXPay".into());
        }
        if outcome.times == Some(0) || outcome.times.is_some_and(|t| t > 10_000) {
            return Err("times must be 1 to 10000".into());
        }
        if outcome.data.as_ref().is_some_and(|d| !d.is_object()) {
            return Err("data must be a JSON object".into());
        }
        if outcome
            .data
            .as_ref()
            .is_some_and(|d| d.to_string().len() > 8192)
        {
            return Err("data is over 8 KiB".into());
        }
        let mut queue = crate::sync::lock(&self.jssdk.outcomes);
        if queue.len() >= MAX_OUTCOMES {
            return Err(format!("at most {MAX_OUTCOMES} outcomes may wait"));
        }
        queue.push_back(outcome);
        Ok(())
    }

    pub fn h5_outcomes(&self) -> Vec<QueuedOutcome> {
        crate::sync::lock(&self.jssdk.outcomes)
            .iter()
            .cloned()
            .collect()
    }

    /// Forgets every queued outcome; how many there were.
    pub fn clear_h5_outcomes(&self) -> usize {
        let mut queue = crate::sync::lock(&self.jssdk.outcomes);
        let n = queue.len();
        queue.clear();
        n
    }

    /// What this call of `api` answers: the first queued outcome for it
    /// (spent by one), else "ok" with `defaults`.
    pub fn next_h5_outcome(&self, api: &str) -> Option<(OutcomeResult, Option<Value>)> {
        let mut queue = crate::sync::lock(&self.jssdk.outcomes);
        let at = queue.iter().position(|o| o.api == api)?;
        let outcome = &mut queue[at];
        let answer = (outcome.result, outcome.data.clone());
        match outcome.times {
            Some(n) if n > 1 => outcome.times = Some(n - 1),
            _ => {
                queue.remove(at);
            }
        }
        Some(answer)
    }

    /// Issues a base token for `appid`.
    fn mint_base_token(&self, appid: &str, now: SystemTime) -> String {
        let token = random_token(136);
        self.jssdk.tokens.insert(
            token.clone(),
            BaseGrant {
                appid: appid.to_owned(),
            },
            now + BASE_TOKEN_TTL,
        );
        token
    }

    /// The app behind a base-token request, authenticated.
    fn official_account(
        &self,
        grant_type: &str,
        appid: &str,
        secret: &str,
    ) -> Result<WebsiteApp, JsSdkError> {
        if appid.is_empty() {
            return Err(JsSdkError::MissingAppid);
        }
        if secret.is_empty() {
            return Err(JsSdkError::MissingSecret);
        }
        if grant_type != "client_credential" {
            return Err(JsSdkError::InvalidGrantType);
        }
        let app = self
            .app_used_as(appid, AppKind::OfficialAccount)
            .ok_or(JsSdkError::InvalidAppid)?;
        if !self.secret_matches(&app, secret) {
            return Err(JsSdkError::InvalidAppsecret);
        }
        Ok(app)
    }

    /// The page's host against the app's JS接口安全域名: the domain or a
    /// subdomain of it, on port 80 or 443 (others allowed, with a warning,
    /// in permissive mode, for a local dev server). An app with none takes
    /// any host in permissive mode.
    fn check_js_domain(
        &self,
        app: &WebsiteApp,
        url: &url::Url,
        warnings: &mut Vec<String>,
    ) -> Result<(), String> {
        let strict = self.config().platform.mode == PlatformMode::Strict;
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if app.js_domains.is_empty() {
            if strict {
                return Err(format!("{} has no js_domains (JS接口安全域名)", app.appid));
            }
            warnings.push(format!(
                "{} has no js_domains: real WeChat answers config:invalid url domain",
                app.appid
            ));
            return Ok(());
        }
        let listed = app.js_domains.iter().any(|domain| {
            let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
            let domain = domain.split(':').next().unwrap_or_default();
            host == domain || host.ends_with(&format!(".{domain}"))
        });
        if !listed {
            return Err(format!(
                "the page's host {host} is not a JS接口安全域名 of {} (js_domains = {:?}; subdomains count)",
                app.appid, app.js_domains
            ));
        }
        if let Some(port) = url.port() {
            if strict {
                return Err(format!(
                    "port {port}: WeChat takes only pages on ports 80 and 443"
                ));
            }
            warnings.push(format!(
                "the page is on port {port}: real WeChat takes only 80 and 443 (config:invalid url domain)"
            ));
        }
        Ok(())
    }

    fn ticket_history(&self) -> HashMap<String, VecDeque<IssuedTicket>> {
        crate::sync::lock(&self.jssdk.tickets).clone()
    }
}

/// Records `token` as `appid`'s newest, returning the one it retires.
fn insert_latest(latest: &mut HashMap<String, String>, appid: &str, token: &str) -> Option<String> {
    let old = latest.get(appid).cloned();
    insert_bounded(latest, appid.to_owned(), token.to_owned(), MAX_TICKET_APPS);
    old
}

/// The usual mistake a wrong signature fits: which URL and which ticket
/// the page's backend must have signed with.
fn diagnose(
    request: &VerifyRequest,
    timestamp: &str,
    sent: &str,
    appid: &str,
    tickets: &HashMap<String, VecDeque<IssuedTicket>>,
    now: SystemTime,
) -> Option<String> {
    let encoded: String = url::form_urlencoded::byte_serialize(request.url.as_bytes()).collect();
    let decoded = percent_encoding::percent_decode_str(&request.url)
        .decode_utf8_lossy()
        .into_owned();
    let urls = [
        (request.url.as_str(), "the page URL without its fragment (right)"),
        (request.href.as_str(), "the page URL with its #fragment (sign it without)"),
        (encoded.as_str(), "the page URL percent-encoded (sign it as it is, not encoded)"),
        (decoded.as_str(), "the page URL percent-decoded (sign it as it is)"),
        (
            request.landing_url.as_str(),
            "the URL the page was opened with (a single-page app must sign its current URL, except on iOS)",
        ),
    ];
    let own = tickets.get(appid).into_iter().flatten();
    let ticket_kinds = own
        .map(|t| {
            let which = match (t.kind, t.expires_at > now) {
                (TicketKind::Jsapi, true) => "a live jsapi ticket",
                (TicketKind::Jsapi, false) => {
                    "an expired jsapi ticket (fetch a new one when it expires)"
                }
                (TicketKind::WxCard, _) => "the wx_card ticket (wx.config needs type=jsapi)",
            };
            (t.ticket.as_str(), which)
        })
        .chain(
            tickets
                .iter()
                .filter(|(other, _)| other.as_str() != appid)
                .take(200)
                .flat_map(|(_, issued)| issued.iter())
                .map(|t| {
                    (
                        t.ticket.as_str(),
                        "another app's ticket (sign with this appId's)",
                    )
                }),
        );
    for (ticket, which) in ticket_kinds {
        for (url, how) in &urls {
            if url.is_empty() {
                continue;
            }
            if signature(ticket, &request.nonce_str, timestamp, url) == sent {
                if which == "a live jsapi ticket" {
                    return Some(format!("signed {how}"));
                }
                return Some(format!("signed {how} with {which}"));
            }
        }
    }
    None
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
