//! The JS-SDK's operations on [`Emulator`] (the rules: `crate::jssdk`).

use std::collections::{HashMap, VecDeque};
use std::time::SystemTime;

use serde_json::Value;

use crate::config::{AppKind, PlatformMode, WebsiteApp};
use crate::emulator::Emulator;
use crate::jssdk::state::{insert_bounded, BaseGrant, IssuedTicket};
use crate::jssdk::*;
use crate::random::random_token;
use crate::store::Lookup;

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
        let app = self
            .app_used_as(&request.app_id, AppKind::OfficialAccount)
            .ok_or_else(|| {
                fail(
                    "invalid appid",
                    format!(
                        "appId {:?} is not an app of this wxemu (unknown in strict mode, or malformed)",
                        request.app_id
                    ),
                )
            })?;
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
        // Held, not copied: every verification reads it, and a failed one
        // is diagnosed against other apps' tickets too.
        let tickets = crate::sync::lock(&self.jssdk.tickets);
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
        drop(queue);
        self.publish(crate::events::Event::H5OutcomesChanged);
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
        let n = {
            let mut queue = crate::sync::lock(&self.jssdk.outcomes);
            let n = queue.len();
            queue.clear();
            n
        };
        self.publish(crate::events::Event::H5OutcomesChanged);
        n
    }

    /// What this call of `api` answers: the first queued outcome for it
    /// (spent by one), else "ok" with `defaults`.
    pub fn next_h5_outcome(&self, api: &str) -> Option<(OutcomeResult, Option<Value>)> {
        let answer = {
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
            answer
        };
        // What GET /h5/outcomes shows changed.
        self.publish(crate::events::Event::H5OutcomesChanged);
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
            crate::ops::apps::split_domain(domain).is_some_and(|(d, _)| {
                let d = d.to_ascii_lowercase();
                host == d || host.ends_with(&format!(".{d}"))
            })
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
