//! The token API a site's backend calls (api.weixin.qq.com's paths):
//! `/sns/oauth2/access_token`, `/sns/oauth2/refresh_token`, `/sns/auth` and
//! `/sns/userinfo`; the rules are the core's (`wxemu_core::openplatform::tokens`).
//!
//! Parameters come from the query and from a POST body (a form, or JSON),
//! by GET or POST, as real integrations send them (Auth.js and
//! python-social-auth POST a form); a value in the body wins over the
//! query's, and the journal keeps both. An `Authorization` header is
//! ignored, as WeChat ignores Auth.js's Basic one.
//!
//! Answers are JSON labelled `text/plain` without a charset (what WeChat
//! sends: python-social-auth's and django-allauth's nickname fix only works
//! on such a reply; see docs/open-platform.md), HTTP 200 even for errors,
//! `{"errcode","errmsg"}` with the real service's `", rid: ..."` suffix.
//! Server-to-server only: no CORS headers, so a browser page elsewhere
//! cannot read them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};

use wxemu_core::Emulator;
use wxemu_core::{Lang, TokenError, TokenGrant, UserInfo};

use crate::web::marks::ReplyErrcode;

/// The Content-Type of every token API reply (module doc).
pub const CONTENT_TYPE: &str = "text/plain";
/// Plain JSON, for wxemu's own calls (the consent page's, the bridge's).
pub(crate) const JSON: &str = "application/json; charset=utf-8";

fn json_reply(body: &Value) -> Response {
    json_reply_as(CONTENT_TYPE, body)
}

/// `body` as a WeChat API answers: HTTP 200, `content_type`, no caching.
pub(crate) fn json_reply_as(content_type: &'static str, body: &Value) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Extension(ReplyErrcode(body.get("errcode").and_then(Value::as_i64))),
        body.to_string(),
    )
        .into_response()
}

/// `{"errcode":N,"errmsg":"text, rid: xxxxxxxx-xxxxxxxx-xxxxxxxx"}`: every
/// Open Platform API error, injected ones too
/// ([`crate::web::registry::Wire::OpenApi`]).
pub(crate) fn api_error(code: i64, text: &str) -> Response {
    api_error_as(CONTENT_TYPE, code, text)
}

/// [`api_error`] labelled `content_type` (the `cgi-bin` API's own).
pub(crate) fn api_error_as(content_type: &'static str, code: i64, text: &str) -> Response {
    let rid = format!(
        "{:08x}-{:08x}-{:08x}",
        rand::random::<u32>(),
        rand::random::<u32>(),
        rand::random::<u32>()
    );
    json_reply_as(
        content_type,
        &json!({"errcode": code, "errmsg": format!("{text}, rid: {rid}")}),
    )
}

fn reply(result: Result<Value, TokenError>) -> Response {
    match result {
        Ok(body) => json_reply(&body),
        Err(e) => api_error(e.errcode().into(), &e.to_string()),
    }
}

/// WeChat's "data format error": a body it cannot read.
pub(crate) const DATA_FORMAT_ERROR: i64 = 47001;

/// A request body within the server's limits, or `error`'s reply (47001,
/// with the limit's HTTP status) naming what went wrong.
pub(crate) async fn read_api_body(
    emu: &Emulator,
    body: Body,
    error: fn(i64, &str) -> Response,
) -> Result<axum::body::Bytes, Response> {
    crate::web::transport::body::read_body(body, emu.limits())
        .await
        .map_err(|e| {
            let mut reply = error(DATA_FORMAT_ERROR, &format!("data format error: {e}"));
            *reply.status_mut() = e.status();
            reply
        })
}

/// A JSON request body as `T`, or `error`'s reply (47001) naming what is
/// wrong (the consent page's and the bridge's calls).
pub(crate) async fn api_json_body<T: serde::de::DeserializeOwned>(
    emu: &Emulator,
    body: Body,
    error: fn(i64, &str) -> Response,
) -> Result<T, Response> {
    let bytes = read_api_body(emu, body, error).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| error(DATA_FORMAT_ERROR, &format!("data format error: {e}")))
}

/// The call's parameters: the query's, then the body's over them; an
/// empty value counts as missing. As an extractor, a body that cannot be
/// read is answered at once, in the API's own format, naming what is
/// wrong; nothing is stored.
pub(crate) struct Params(HashMap<String, String>);

impl axum::extract::FromRequest<Arc<Emulator>> for Params {
    type Rejection = Response;

    async fn from_request(
        req: axum::extract::Request,
        emu: &Arc<Emulator>,
    ) -> Result<Params, Response> {
        let (parts, body) = req.into_parts();
        Params::gather(emu, parts.uri.query(), &parts.headers, body).await
    }
}

impl Params {
    /// Reads the body (bounded by the server's limits) and merges it over
    /// the query.
    async fn gather(
        emu: &Emulator,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<Params, Response> {
        let mut params = super::query_params(query.map(str::to_owned));
        let bytes = read_api_body(emu, body, api_error).await?;
        if bytes.is_empty() {
            return Ok(Params(params));
        }
        let bad = |why: String| api_error(DATA_FORMAT_ERROR, &format!("data format error: {why}"));
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        let text =
            std::str::from_utf8(&bytes).map_err(|_| bad("the request body is not UTF-8".into()))?;
        if is_json {
            let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else {
                return Err(bad("a JSON body must be one object of parameters".into()));
            };
            for (name, value) in fields {
                let value = match value {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(bad(format!("parameter {name:?} must be a string"))),
                };
                params.insert(name, value);
            }
        } else {
            params.extend(url::form_urlencoded::parse(text.as_bytes()).into_owned());
        }
        Ok(Params(params))
    }

    fn require(&self, name: &str, missing: TokenError) -> Result<&str, TokenError> {
        self.optional(name).ok_or(missing)
    }

    fn optional(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `grant_type` must be exactly `expected`.
    fn grant_type(&self, expected: &str) -> Result<(), TokenError> {
        match self.optional("grant_type") {
            Some(g) if g == expected => Ok(()),
            _ => Err(TokenError::InvalidGrantType),
        }
    }

    /// The access_token and openid every user call names.
    fn user(&self) -> Result<(&str, &str), TokenError> {
        Ok((
            self.require("access_token", TokenError::MissingAccessToken)?,
            self.require("openid", TokenError::MissingOpenid)?,
        ))
    }
}

fn token_body(grant: TokenGrant) -> Value {
    let mut body = json!({
        "access_token": grant.access_token,
        "expires_in": grant.expires_in,
        "refresh_token": grant.refresh_token,
        "openid": grant.openid,
        "scope": grant.scope,
    });
    if grant.is_snapshotuser {
        body["is_snapshotuser"] = json!(1);
    }
    if let Some(unionid) = grant.unionid {
        body["unionid"] = json!(unionid);
    }
    body
}

/// `GET|POST /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`
pub(crate) async fn access_token(State(emu): State<Arc<Emulator>>, params: Params) -> Response {
    reply((|| {
        let appid = params.require("appid", TokenError::MissingAppid)?;
        let secret = params.require("secret", TokenError::MissingSecret)?;
        let code = params.require("code", TokenError::MissingCode)?;
        params.grant_type("authorization_code")?;
        emu.redeem_code(appid, secret, code).map(token_body)
    })())
}

/// `GET|POST /sns/oauth2/refresh_token?appid&grant_type=refresh_token&refresh_token`
pub(crate) async fn refresh_token(State(emu): State<Arc<Emulator>>, params: Params) -> Response {
    reply((|| {
        let appid = params.require("appid", TokenError::MissingAppid)?;
        let refresh = params.require("refresh_token", TokenError::MissingRefreshToken)?;
        params.grant_type("refresh_token")?;
        emu.refresh_access(appid, refresh).map(token_body)
    })())
}

/// `GET|POST /sns/auth?access_token&openid`: `{"errcode":0,"errmsg":"ok"}`.
pub(crate) async fn auth(State(emu): State<Arc<Emulator>>, params: Params) -> Response {
    reply((|| {
        let (token, openid) = params.user()?;
        emu.check_access(token, openid)?;
        Ok(json!({"errcode": 0, "errmsg": "ok"}))
    })())
}

/// `GET|POST /sns/userinfo?access_token&openid[&lang=zh_CN|zh_TW|en]`
pub(crate) async fn userinfo(State(emu): State<Arc<Emulator>>, params: Params) -> Response {
    reply((|| {
        let (token, openid) = params.user()?;
        let info: UserInfo = emu.user_info(token, openid, Lang::parse(params.optional("lang")))?;
        Ok(json!({
            "openid": info.openid,
            "nickname": info.nickname,
            "sex": info.sex,
            "province": info.province,
            "city": info.city,
            "country": info.country,
            "headimgurl": info.headimgurl,
            "privilege": [],
        }))
        .map(|mut body: Value| {
            if let Some(unionid) = info.unionid {
                body["unionid"] = json!(unionid);
            }
            body
        })
    })())
}
