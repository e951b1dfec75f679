//! Web authorization inside WeChat's browser (protocol.md section 4):
//! `GET /connect/oauth2/authorize`, and the two calls its consent page
//! makes on its own origin (wxemu's, not WeChat's: the real consent sheet
//! is native). The rules are the core's (`wxemu_core::openplatform::oauth2`).
//!
//! - the authorize URL answers a 302 to `redirect_uri` (with `code` and
//!   `state`, or `state` alone when denied), one of WeChat's error pages,
//!   or the consent page (`ui/connect/oauth2.html`);
//! - `POST /connect/oauth2/consent/wait {"ticket"}` is held until the
//!   person decides (the page's buttons, or any decision source), then
//!   answers `{"errcode":0,"outcome","redirect_url"}`;
//! - `POST /connect/oauth2/consent/answer {"ticket","decision"}` is a tap
//!   on Allow or Deny.
//!
//! Both calls are browser calls (Origin checked: only the consent page's
//! own origin may make them) and name a ticket only the page knows.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use wxemu_core::Emulator;
use wxemu_core::{Consent, WebAuthDone, WebAuthError, WebAuthRequest, WebAuthStart};
use wxemu_core::{Decision, Outcome};

use super::page::{error_page, script_safe_json, CONFIG_PLACEHOLDER};
use super::query_params;
use super::token::{api_error, api_json_body, json_reply_as, JSON};
use crate::web::marks::{DecisionNote, RequestApp, Warnings};
use crate::web::registry;
use crate::web::surfaces::fastlogin::RequestOrigin;

/// The consent page; wxemu puts its config where the placeholder is.
const CONSENT_TEMPLATE: &str = include_str!("../../../../ui/connect/oauth2.html");

/// `GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope&state`
pub async fn authorize(
    State(emu): State<Arc<Emulator>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = query_params(query);
    let param = |name: &str| params.get(name).cloned().unwrap_or_default();
    let in_wechat = headers
        .get(header::USER_AGENT)
        .and_then(|ua| ua.to_str().ok())
        .is_some_and(|ua| ua.contains("MicroMessenger"));
    let request = WebAuthRequest {
        appid: param("appid"),
        redirect_uri: param("redirect_uri"),
        response_type: param("response_type"),
        scope: param("scope"),
        state: param("state"),
        in_wechat,
    };
    let app = RequestApp(request.appid.clone());
    let mut warnings = Vec::new();
    let mut response = match emu.web_authorize(request, &mut warnings).await {
        Ok(WebAuthStart::Done(done)) => finished(done),
        Ok(WebAuthStart::Consent(consent)) => consent_page(&consent, &warnings),
        Err(e) => web_error(&e),
    };
    response.extensions_mut().insert(app);
    response.extensions_mut().insert(Warnings(warnings));
    response
}

#[derive(Deserialize)]
struct Wait {
    ticket: String,
}

#[derive(Deserialize)]
struct Answer {
    ticket: String,
    decision: Decision,
}

/// `POST /connect/oauth2/consent/wait`: held until the person decides.
pub async fn wait(State(emu): State<Arc<Emulator>>, body: Body) -> Response {
    let wait: Wait = match api_json_body(&emu, body, api_error).await {
        Ok(wait) => wait,
        Err(reply) => return reply,
    };
    match emu.web_consent_wait(&wait.ticket).await {
        Ok(done) => {
            let note = DecisionNote {
                outcome: done.outcome,
                account: done.account.clone(),
            };
            let mut reply = json_reply(json!({
                "errcode": 0,
                "outcome": done.outcome,
                "redirect_url": done.url,
            }));
            reply.extensions_mut().insert(note);
            reply
        }
        Err(e) => consent_error(&e),
    }
}

/// `POST /connect/oauth2/consent/answer`: the person tapped Allow or Deny.
/// Only a page may tap: a call without an Origin (a script on the machine)
/// is refused, as is one from another site (by the front's Origin check).
pub async fn answer(
    State(emu): State<Arc<Emulator>>,
    RequestOrigin(origin): RequestOrigin,
    body: Body,
) -> Response {
    if origin.is_none() {
        let mut reply = api_error(
            CONSENT_OVER,
            "only the consent page may answer (no Origin: not a browser page); use the control API's /authorizations",
        );
        *reply.status_mut() = StatusCode::FORBIDDEN;
        return reply;
    }
    let answer: Answer = match api_json_body(&emu, body, api_error).await {
        Ok(answer) => answer,
        Err(reply) => return reply,
    };
    match emu.web_consent_answer(&answer.ticket, answer.decision) {
        Ok(()) => json_reply(json!({"errcode": 0})),
        Err(e) => consent_error(&e),
    }
}

/// Where the page goes once decided: a 302 (code and state, or state
/// alone), or, when nobody answered, a page saying so.
fn finished(done: WebAuthDone) -> Response {
    let note = DecisionNote {
        outcome: done.outcome,
        account: done.account,
    };
    let mut response = match done.url {
        Some(url) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, url),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response(),
        None => error_page(
            "授权超时，请重新进入页面",
            match done.outcome {
                Outcome::Cancelled => "the authorization was withdrawn",
                _ => "nobody answered before the decision deadline",
            },
        ),
    };
    response.extensions_mut().insert(note);
    response
}

/// One of WeChat's error pages (HTTP 200, HTML): its errcode and text,
/// and wxemu's reason.
fn web_error(e: &WebAuthError) -> Response {
    let title = match e.errcode() {
        Some(code) => format!("{} ({code})", e.title()),
        None => e.title().to_owned(),
    };
    error_page(&title, &e.to_string())
}

fn consent_page(consent: &Consent, warnings: &[String]) -> Response {
    let config = json!({
        "ticket": consent.ticket,
        "app_name": consent.app_name,
        "app_icon_url": consent.app_icon_url,
        "nickname": consent.nickname,
        "headimgurl": consent.headimgurl,
        "site": consent.site,
        "timeout_ms": consent.timeout.as_millis() as u64,
        "wait_url": registry::OAUTH2_CONSENT_WAIT.path,
        "answer_url": registry::OAUTH2_CONSENT_ANSWER.path,
        "warnings": warnings,
    });
    let page = match CONSENT_TEMPLATE.split_once(CONFIG_PLACEHOLDER) {
        Some((before, after)) => format!("{before}{}{after}", script_safe_json(&config)),
        None => CONSENT_TEMPLATE.to_owned(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

/// The consent calls' errors: the API's `{"errcode","errmsg"}`.
fn consent_error(e: &WebAuthError) -> Response {
    api_error(CONSENT_OVER, &e.to_string())
}

/// The consent calls' errcode for a ticket that is over (WeChat's
/// "invalid code" family has no better fit; the page only checks non-zero).
const CONSENT_OVER: i64 = 40029;

/// The consent page's own calls answer plain JSON.
fn json_reply(body: serde_json::Value) -> Response {
    json_reply_as(JSON, &body)
}
