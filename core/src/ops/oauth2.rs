//! Web authorization's operations on [`Emulator`] (the types:
//! `crate::openplatform::oauth2`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::oneshot;

use crate::approval::{ApprovalMode, AuthorizeRequest, Decision, Outcome};
use crate::config::{Account, AppKind, PlatformMode, WebsiteApp};
use crate::emulator::Emulator;
use crate::fastlogin::{denied_redirect_url, redirect_url};
use crate::limits::{MAX_REDIRECT_URI_BYTES, MAX_SCOPE_BYTES, MAX_STATE_BYTES};
use crate::openplatform::oauth2::consents::{PendingConsent, Target};
use crate::openplatform::oauth2::*;
use crate::random::random_token;
use crate::store::{Flow, IssuedCode, Lookup};

impl Emulator {
    /// `GET connect/oauth2/authorize`: checks the request as WeChat does,
    /// then answers at once (`snsapi_base`, a queued decision, the policy
    /// `auto` or `deny`) or opens a consent page. The warnings say what
    /// was accepted that real WeChat would refuse.
    pub async fn web_authorize(
        &self,
        request: WebAuthRequest,
        warnings: &mut Vec<String>,
    ) -> Result<WebAuthStart, WebAuthError> {
        let strict = self.config().platform.mode == PlatformMode::Strict;
        if request.appid.is_empty() {
            return Err(WebAuthError::MissingAppid);
        }
        let app = self
            .app_used_as(&request.appid, AppKind::OfficialAccount)
            .ok_or_else(|| WebAuthError::UnknownAppid(request.appid.clone()))?;
        if request.redirect_uri.is_empty() {
            return Err(WebAuthError::MissingRedirectUri);
        }
        let redirect = check_redirect(&request.redirect_uri)?;
        if request.scope.is_empty() {
            return Err(WebAuthError::MissingScope);
        }
        let scope = check_scope(&request.scope)?;
        if request.response_type != "code" {
            return Err(WebAuthError::ResponseType(request.response_type));
        }
        if request.state.len() > MAX_STATE_BYTES {
            return Err(WebAuthError::StateTooLong(request.state.len()));
        }
        if app.kind != AppKind::OfficialAccount {
            if strict {
                return Err(WebAuthError::NotAnOfficialAccount(app.appid));
            }
            warnings.push(format!(
                "appid {} is a website app: real WeChat refuses it here (10016); set kind = \"official_account\"",
                app.appid
            ));
        }
        self.check_oauth_domain(&app, &redirect, strict, warnings)?;
        if !request.in_wechat {
            if strict {
                return Err(WebAuthError::NotInWechat);
            }
            warnings.push(
                "not WeChat's browser (no MicroMessenger in the User-Agent): real WeChat shows 请在微信客户端打开链接 instead".into(),
            );
        }
        let account = self.current_account();
        let target = Target {
            appid: app.appid.clone(),
            redirect_uri: request.redirect_uri,
            scope: scope.to_owned(),
            state: request.state,
            account_id: account.id.clone(),
        };
        if scope == SNSAPI_BASE {
            return Ok(WebAuthStart::Done(self.finish_web_auth(
                &target,
                Outcome::Allowed,
                None,
            )));
        }
        let decides_now = !self.approvals().queued().is_empty()
            || matches!(
                self.approvals().mode(),
                ApprovalMode::Auto | ApprovalMode::Deny
            );
        if decides_now {
            let verdict = self
                .approvals()
                .decide_detailed(self.consent_request(&app, &target, &account, &redirect))
                .await;
            return Ok(WebAuthStart::Done(self.finish_web_auth(
                &target,
                verdict.outcome,
                verdict.account,
            )));
        }
        let ticket = random_token(32);
        let (tap, tapped) = oneshot::channel();
        let timeout = self.decision_timeout();
        self.consents.0.insert(
            ticket.clone(),
            PendingConsent {
                target,
                tap: Arc::new(Mutex::new(Some(tap))),
                tapped: Arc::new(Mutex::new(Some(tapped))),
            },
            self.clock().now() + timeout + Duration::from_secs(60),
        );
        Ok(WebAuthStart::Consent(Consent {
            ticket,
            app_name: display_name(&app),
            app_icon_url: app.icon_url.clone(),
            nickname: account.nickname.clone(),
            headimgurl: self.headimgurl(&account),
            site: redirect.host_str().unwrap_or_default().to_owned(),
            timeout,
        }))
    }

    /// The consent page waits here for its decision: the page's own tap, or
    /// any decision source (the desktop app, the control API, the terminal
    /// prompt), whichever comes first; at most the decision deadline.
    pub async fn web_consent_wait(&self, ticket: &str) -> Result<WebAuthDone, WebAuthError> {
        let now = self.clock().now();
        let (target, tapped) = match self.consents.0.update(ticket, now, |c| {
            (c.target.clone(), crate::sync::lock(&c.tapped).take())
        }) {
            Lookup::Live((target, Some(tapped))) => (target, tapped),
            _ => return Err(WebAuthError::ConsentOver),
        };
        let app = self
            .app_used_as(&target.appid, AppKind::OfficialAccount)
            .unwrap_or_default();
        let account = self
            .config()
            .account(&target.account_id)
            .unwrap_or_else(|| self.current_account());
        let redirect = url::Url::parse(&target.redirect_uri)
            .map_err(|e| WebAuthError::BadRedirectUri(e.to_string()))?;
        let request = self.consent_request(&app, &target, &account, &redirect);
        // The page's tap drops the other sources' request (they hear it
        // was withdrawn), exactly as a person closing the question would.
        let (outcome, account) = tokio::select! {
            verdict = self.approvals().decide_detailed(request) => (verdict.outcome, verdict.account),
            Ok(tap) = tapped => match tap {
                Decision::Allow => (Outcome::Allowed, None),
                Decision::Deny => (Outcome::Denied, None),
            },
        };
        self.consents.0.take(ticket, self.clock().now());
        Ok(self.finish_web_auth(&target, outcome, account))
    }

    /// The consent page's Allow or Deny: the person's tap, handed to the
    /// page's waiting call.
    pub fn web_consent_answer(&self, ticket: &str, decision: Decision) -> Result<(), WebAuthError> {
        let now = self.clock().now();
        match self
            .consents
            .0
            .update(ticket, now, |c| crate::sync::lock(&c.tap).take())
        {
            Lookup::Live(Some(tap)) => {
                let _ = tap.send(decision);
                Ok(())
            }
            _ => Err(WebAuthError::ConsentOver),
        }
    }

    /// Checks redirect_uri's host against the app's 网页授权域名: exactly
    /// one of them, no subdomain. A port is WeChat's 10003; permissive mode
    /// lets it through (a local dev server) with a warning, as it does an
    /// app with no domains configured.
    fn check_oauth_domain(
        &self,
        app: &WebsiteApp,
        redirect: &url::Url,
        strict: bool,
        warnings: &mut Vec<String>,
    ) -> Result<(), WebAuthError> {
        let host = redirect.host_str().unwrap_or_default();
        let mismatch = |why| WebAuthError::DomainMismatch {
            host: host.to_owned(),
            domains: app.oauth_domains.clone(),
            why,
        };
        if app.oauth_domains.is_empty() {
            if strict {
                return Err(mismatch(": the app has no oauth_domains"));
            }
            return Ok(());
        }
        // The host alone (url's host_str has no port): a port is judged below.
        let name = host.trim_end_matches('.');
        let listed = app.oauth_domains.iter().any(|domain| {
            crate::ops::apps::split_domain(domain)
                .is_some_and(|(d, _)| d.eq_ignore_ascii_case(name))
        });
        if !listed {
            return Err(mismatch(""));
        }
        if redirect.port().is_some() {
            if strict {
                return Err(mismatch(": WeChat refuses a port in redirect_uri"));
            }
            warnings.push(format!(
                "redirect_uri has a port ({}): real WeChat refuses it (10003)",
                redirect.port().unwrap_or_default()
            ));
        }
        Ok(())
    }

    fn consent_request(
        &self,
        app: &WebsiteApp,
        target: &Target,
        account: &Account,
        redirect: &url::Url,
    ) -> AuthorizeRequest {
        AuthorizeRequest {
            id: 0,
            appid: target.appid.clone(),
            app_name: display_name(app),
            app_icon_url: app.icon_url.clone(),
            site: redirect.host_str().unwrap_or_default().to_owned(),
            redirect_uri: target.redirect_uri.clone(),
            origin: None,
            account_id: account.id.clone(),
            nickname: account.nickname.clone(),
            headimgurl: self.headimgurl(account),
            position: None,
            received_at: SystemTime::now(),
            timeout: self.decision_timeout(),
        }
    }

    /// Issues the code of an allowed authorization (as `allowed_as` when a
    /// decision source chose another account) and builds where the page
    /// goes.
    fn finish_web_auth(
        &self,
        target: &Target,
        outcome: Outcome,
        allowed_as: Option<String>,
    ) -> WebAuthDone {
        match outcome {
            Outcome::Allowed => {
                let account_id = allowed_as
                    .filter(|id| self.config().account(id).is_some())
                    .unwrap_or_else(|| target.account_id.clone());
                let code = self.store().issue(
                    IssuedCode {
                        appid: target.appid.clone(),
                        scope: target.scope.clone(),
                        account_id: account_id.clone(),
                        redirect_uri: target.redirect_uri.clone(),
                        flow: Flow::WebAuthorization {
                            snapshot: self.client_settings().snapshot_user,
                        },
                        used: false,
                    },
                    self.clock().now(),
                );
                WebAuthDone {
                    url: Some(redirect_url(&target.redirect_uri, &code, &target.state)),
                    outcome,
                    account: Some(account_id),
                }
            }
            Outcome::Denied => WebAuthDone {
                url: Some(denied_redirect_url(&target.redirect_uri, &target.state)),
                outcome,
                account: None,
            },
            Outcome::TimedOut | Outcome::Cancelled => WebAuthDone {
                url: None,
                outcome,
                account: None,
            },
        }
    }
}

/// An absolute http(s) URL with a host and no fragment, within bounds.
fn check_redirect(redirect_uri: &str) -> Result<url::Url, WebAuthError> {
    let bad = |why: &str| Err(WebAuthError::BadRedirectUri(why.to_owned()));
    if redirect_uri.len() > MAX_REDIRECT_URI_BYTES {
        return bad(&format!(
            "{} bytes; at most {MAX_REDIRECT_URI_BYTES} are accepted",
            redirect_uri.len()
        ));
    }
    let Ok(url) = url::Url::parse(redirect_uri) else {
        return bad("must be an absolute http(s) URL, URL-encoded in the query");
    };
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return bad("must be an http or https URL");
    }
    if url.fragment().is_some() {
        return bad("must not carry a fragment (#...): the code would be lost in it");
    }
    Ok(url)
}

/// The one scope asked for: `snsapi_base` or `snsapi_userinfo` (a comma
/// list naming only those, the widest wins).
fn check_scope(scope: &str) -> Result<&'static str, WebAuthError> {
    if scope.len() > MAX_SCOPE_BYTES {
        return Err(WebAuthError::Scope(format!(
            "{}…",
            &scope[..crate::journal::floor_char_boundary(scope, 32)]
        )));
    }
    let mut widest = None;
    for part in scope.split(',').map(str::trim) {
        widest = match (part, widest) {
            (SNSAPI_USERINFO, _) | (SNSAPI_BASE, Some(SNSAPI_USERINFO)) => Some(SNSAPI_USERINFO),
            (SNSAPI_BASE, _) => Some(SNSAPI_BASE),
            _ => return Err(WebAuthError::Scope(part.to_owned())),
        };
    }
    widest.ok_or_else(|| WebAuthError::Scope(scope.to_owned()))
}

fn display_name(app: &WebsiteApp) -> String {
    if app.name.is_empty() {
        app.appid.clone()
    } else {
        app.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(check_scope("snsapi_base"), Ok(SNSAPI_BASE));
        assert_eq!(check_scope("snsapi_userinfo"), Ok(SNSAPI_USERINFO));
        assert_eq!(
            check_scope("snsapi_base,snsapi_userinfo"),
            Ok(SNSAPI_USERINFO)
        );
        assert_eq!(
            check_scope("snsapi_base,snsapi_login"),
            Err(WebAuthError::Scope("snsapi_login".into()))
        );
        assert!(check_scope(&"x".repeat(500)).is_err());
    }

    #[test]
    fn redirects() {
        assert!(check_redirect("https://a.example/cb?x=1").is_ok());
        for bad in [
            "ftp://a.example/",
            "/cb",
            "https://a.example/cb#frag",
            "javascript:alert(1)",
        ] {
            assert!(check_redirect(bad).is_err(), "{bad}");
        }
    }
}
