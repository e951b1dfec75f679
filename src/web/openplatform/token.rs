//! The token API a site's backend calls (api.weixin.qq.com's paths):
//! `/sns/oauth2/access_token`, `/sns/oauth2/refresh_token`, `/sns/auth` and
//! `/sns/userinfo`; the rules are the core's (`wxemu_core::tokens`).
//!
//! Answers are JSON, HTTP 200 even for errors, `{"errcode","errmsg"}` with
//! the real service's `", rid: ..."` suffix. Server-to-server only: no CORS
//! headers, so a browser page elsewhere cannot read them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};

use wxemu_core::emulator::Emulator;
use wxemu_core::tokens::{Lang, TokenError, TokenGrant, UserInfo};

use crate::web::marks::ReplyErrcode;

fn json_reply(body: &Value) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
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
    let rid = format!(
        "{:08x}-{:08x}-{:08x}",
        rand::random::<u32>(),
        rand::random::<u32>(),
        rand::random::<u32>()
    );
    json_reply(&json!({"errcode": code, "errmsg": format!("{text}, rid: {rid}")}))
}

fn reply(result: Result<Value, TokenError>) -> Response {
    match result {
        Ok(body) => json_reply(&body),
        Err(e) => api_error(e.errcode().into(), &e.to_string()),
    }
}

/// The query's parameters; an empty value counts as missing.
struct Params(HashMap<String, String>);

impl Params {
    fn parse(query: Option<String>) -> Params {
        Params(super::query_params(query))
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
    json!({
        "access_token": grant.access_token,
        "expires_in": grant.expires_in,
        "refresh_token": grant.refresh_token,
        "openid": grant.openid,
        "scope": grant.scope,
        "unionid": grant.unionid,
    })
}

/// `GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`
pub async fn access_token(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query);
    reply((|| {
        let appid = params.require("appid", TokenError::MissingAppid)?;
        let secret = params.require("secret", TokenError::MissingSecret)?;
        let code = params.require("code", TokenError::MissingCode)?;
        params.grant_type("authorization_code")?;
        emu.redeem_code(appid, secret, code).map(token_body)
    })())
}

/// `GET /sns/oauth2/refresh_token?appid&grant_type=refresh_token&refresh_token`
pub async fn refresh_token(
    State(emu): State<Arc<Emulator>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query);
    reply((|| {
        let appid = params.require("appid", TokenError::MissingAppid)?;
        let refresh = params.require("refresh_token", TokenError::MissingRefreshToken)?;
        params.grant_type("refresh_token")?;
        emu.refresh_access(appid, refresh).map(token_body)
    })())
}

/// `GET /sns/auth?access_token&openid`: `{"errcode":0,"errmsg":"ok"}`.
pub async fn auth(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query);
    reply((|| {
        let (token, openid) = params.user()?;
        emu.check_access(token, openid)?;
        Ok(json!({"errcode": 0, "errmsg": "ok"}))
    })())
}

/// `GET /sns/userinfo?access_token&openid[&lang=zh_CN|zh_TW|en]`
pub async fn userinfo(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query);
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
            "unionid": info.unionid,
        }))
    })())
}
