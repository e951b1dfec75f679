//! The JS-SDK's server side, as `api.weixin.qq.com` answers it:
//! `GET /cgi-bin/token`, `POST /cgi-bin/stable_token`,
//! `GET /cgi-bin/ticket/getticket`. Replies are JSON labelled
//! `application/json; encoding=utf-8` (what wechatpy#147 captured from
//! `cgi-bin`), HTTP 200, errors `{"errcode","errmsg": "..., rid: ..."}`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::{json, Value};

use wxemu_core::Emulator;
use wxemu_core::{BaseToken, JsSdkError};

use crate::web::marks::RequestApp;
use crate::web::surfaces::openplatform::query_params;
use crate::web::surfaces::openplatform::token::{api_error_as, json_reply_as, read_api_body};

/// The Content-Type of every `cgi-bin` reply (module doc).
pub const CONTENT_TYPE: &str = "application/json; encoding=utf-8";

/// An error as `cgi-bin` sends it ([`crate::web::registry::Wire::CgiApi`]).
pub(crate) fn cgi_error(code: i64, text: &str) -> Response {
    api_error_as(CONTENT_TYPE, code, text)
}

fn reply(result: Result<Value, JsSdkError>) -> Response {
    match result {
        Ok(body) => json_reply_as(CONTENT_TYPE, &body),
        Err(e) => cgi_error(e.errcode(), &e.to_string()),
    }
}

fn token_body(token: BaseToken) -> Value {
    json!({"access_token": token.access_token, "expires_in": token.expires_in})
}

/// `GET /cgi-bin/token?grant_type=client_credential&appid&secret`
pub async fn token(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query);
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let mut response = reply(
        emu.cgi_token(param("grant_type"), param("appid"), param("secret"))
            .map(token_body),
    );
    response
        .extensions_mut()
        .insert(RequestApp(param("appid").to_owned()));
    response
}

/// `POST /cgi-bin/stable_token` with
/// `{"grant_type":"client_credential","appid","secret","force_refresh":false}`.
pub async fn stable_token(State(emu): State<Arc<Emulator>>, body: Body) -> Response {
    let bytes = match read_api_body(&emu, body, cgi_error).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&bytes) else {
        return cgi_error(
            47001,
            "data format error: the body must be a JSON object {\"grant_type\",\"appid\",\"secret\"}",
        );
    };
    let field = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or_default();
    let force = match fields.get("force_refresh") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(force)) => *force,
        Some(_) => {
            return cgi_error(
                47001,
                "data format error: force_refresh must be true or false",
            )
        }
    };
    let mut response = reply(
        emu.stable_token(field("grant_type"), field("appid"), field("secret"), force)
            .map(token_body),
    );
    response
        .extensions_mut()
        .insert(RequestApp(field("appid").to_owned()));
    response
}

/// `GET /cgi-bin/ticket/getticket?access_token&type=jsapi|wx_card`
pub async fn getticket(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query);
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    reply(
        emu.js_ticket(param("access_token"), param("type"))
            .map(|ticket| {
                json!({
                    "errcode": 0,
                    "errmsg": "ok",
                    "ticket": ticket,
                    "expires_in": wxemu_core::TICKET_TTL.as_secs(),
                })
            }),
    )
}
