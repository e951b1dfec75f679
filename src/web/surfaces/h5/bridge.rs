//! The client side of pages inside WeChat's browser, played in the page:
//!
//! - `GET /h5/bridge.js[?os=ios|android]`: a script a page runs before its
//!   own (Playwright's `addInitScript`, a dev-only `<script>`, the desktop
//!   app's WeChat window). It makes the User-Agent WeChat's, defines
//!   `window.WeixinJSBridge` and fires `WeixinJSBridgeReady`, so the real
//!   jweixin runs (`ui/h5/bridge.js`).
//! - `POST /h5/verify`: `wx.config`'s check (`preVerifyJSAPI`). It only
//!   verifies, never logs anyone in, so any page may call it (CORS `*`).
//! - `POST /h5/call`: what a JS API call answers (a queued outcome, or "ok"
//!   with plausible data); the journal keeps each call's arguments (share
//!   data, pay requests).
//! - `GET /sdk/report`: jweixin's report beacon, answered quietly (204).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use wxemu_core::Emulator;
use wxemu_core::{OutcomeResult, VerifyRequest};

use super::cgi::cgi_error;
use crate::web::marks::{RequestApp, Warnings};
use crate::web::registry;
use crate::web::surfaces::openplatform::page::{script_safe_json, CONFIG_PLACEHOLDER};
use crate::web::surfaces::openplatform::query_params;
use crate::web::surfaces::openplatform::token::{api_json_body, json_reply_as, JSON};

const BRIDGE_TEMPLATE: &str = include_str!("../../../../ui/h5/bridge.js");

/// WeChat's browser's User-Agent on iOS and Android (protocol.md section
/// 4). Whole strings, not a suffix: jweixin tells the platforms apart by
/// `iphone` and `android` in it, and shapes answers accordingly.
pub const IOS_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN";
pub const ANDROID_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.120 Mobile Safari/537.36 XWEB/1260117 MMWEBSDK/20240404 MMWEBID/9203 MicroMessenger/8.0.49.2600(0x2800315A) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";

/// WeChat's browser's User-Agent on `os` (`ios` or `android`): what the
/// bridge makes `navigator.userAgent`, and what a test gives its browser
/// context so that servers see it too.
pub fn user_agent(os: &str) -> &'static str {
    if os == "android" {
        ANDROID_UA
    } else {
        IOS_UA
    }
}

/// `GET /h5/bridge.js?os=ios|android` (iOS by default).
pub async fn script(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query);
    let os = params.get("os").map(String::as_str).unwrap_or("ios");
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        script_text(&emu.base_url(), os),
    )
        .into_response()
}

/// The text of `/h5/bridge.js` for a wxemu at `base_url` on `os` (`ios`,
/// else Android for `android`): what the desktop app's WeChat window
/// injects before a page's own scripts.
pub fn script_text(base_url: &str, os: &str) -> String {
    let os = if os == "android" { "android" } else { "ios" };
    let config = json!({
        "base": base_url,
        "os": os,
        "ua": user_agent(os),
        "verify_url": registry::H5_VERIFY.path,
        "call_url": registry::H5_CALL.path,
    });
    BRIDGE_TEMPLATE.replacen(CONFIG_PLACEHOLDER, &script_safe_json(&config), 1)
}

/// `POST /h5/verify`: `{"err_msg":"pre_verify_jsapi:ok"}`, or the native
/// failure jweixin turns into `config:invalid signature` (and friends)
/// with wxemu's explanation beside it; the journal keeps the explanation.
pub async fn verify(State(emu): State<Arc<Emulator>>, body: Body) -> Response {
    let request: VerifyRequest = match api_json_body(&emu, body, cgi_error).await {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    let app = RequestApp(request.app_id.clone());
    let (mut reply, notes) = match emu.verify_js_config(&request) {
        Ok(page) => (
            json_reply(json!({"err_msg": "pre_verify_jsapi:ok", "warnings": page.warnings})),
            page.warnings,
        ),
        Err(failure) => {
            let mut notes = vec![format!("config:{}: {}", failure.error, failure.reason)];
            if let Some(expected) = &failure.expected_string {
                notes.push(format!("string to sign: {expected}"));
            }
            if let Some(signature) = &failure.expected_signature {
                notes.push(format!(
                    "its signature: {signature}; the page sent: {}",
                    failure.sent_signature
                ));
            }
            if let Some(cause) = &failure.cause {
                notes.push(format!("likely cause: {cause}"));
            }
            (
                json_reply(json!({
                    "err_msg": format!("pre_verify_jsapi:fail_{}", failure.error),
                    "wxemu": failure,
                })),
                notes,
            )
        }
    };
    reply.extensions_mut().insert(app);
    reply.extensions_mut().insert(Warnings(notes));
    reply
}

#[derive(Deserialize)]
struct Call {
    #[serde(default, alias = "appId")]
    app_id: String,
    /// The JS API's name as pages know it (`chooseWXPay`).
    api: String,
    /// `ios` or `android`: local resource ids differ.
    #[serde(default)]
    os: String,
    /// The calling page and what it passed: shown to the person when the
    /// call waits for one (pay, scan in the desktop's WeChat window).
    #[serde(default)]
    url: String,
    #[serde(default)]
    args: Value,
}

/// `POST /h5/call`: `{"result":"ok|cancel|fail","data":{...}}`.
pub async fn call(State(emu): State<Arc<Emulator>>, body: Body) -> Response {
    let call: Call = match api_json_body(&emu, body, cgi_error).await {
        Ok(call) => call,
        Err(reply) => return reply,
    };
    if call.api.is_empty() || call.api.len() > 64 {
        return cgi_error(40097, "invalid args: api must name a JS API");
    }
    // A queued outcome first; else the person, when one is there (the
    // desktop's pay and scan sheets); else "ok" with plausible data.
    let (result, data) = match emu.next_h5_outcome(&call.api) {
        Some((result, data)) => (result, data.unwrap_or_else(|| json!({}))),
        None => match emu
            .ask_person_h5(&call.api, &call.app_id, &call.url, call.args)
            .await
        {
            Some((OutcomeResult::Ok, data)) if data.as_object().is_some_and(|d| d.is_empty()) => {
                (OutcomeResult::Ok, default_data(&call.api, &call.os))
            }
            Some(answer) => answer,
            None => (OutcomeResult::Ok, default_data(&call.api, &call.os)),
        },
    };
    let mut reply = json_reply(json!({"result": result, "data": data}));
    reply.extensions_mut().insert(RequestApp(call.app_id));
    reply
}

/// What a JS API answers by default: "ok" with plausible data.
fn default_data(api: &str, os: &str) -> Value {
    match api {
        "scanQRCode" => json!({"resultStr": "https://weixin.qq.com/r/wxemu-scan"}),
        "chooseImage" => {
            let id = if os == "android" {
                "weixin://resourceid/wxemu0000000001"
            } else {
                "wxLocalResource://wxemu0000000001"
            };
            json!({"localIds": [id], "sourceType": "album"})
        }
        "getLocation" => {
            json!({"latitude": 22.5431, "longitude": 114.0579, "speed": 0.0, "accuracy": 65.0})
        }
        "getNetworkType" => json!({"networkType": "wifi"}),
        _ => json!({}),
    }
}

/// `GET /sdk/report`: jweixin's beacon, answered with nothing.
pub async fn report() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The bridge's calls answer plain JSON.
fn json_reply(body: Value) -> Response {
    json_reply_as(JSON, &body)
}
