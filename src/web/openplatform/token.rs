//! The token API a site's backend calls (api.weixin.qq.com's paths):
//! `/sns/oauth2/access_token`, `/sns/oauth2/refresh_token`, `/sns/auth` and
//! `/sns/userinfo`.
//!
//! Answers are JSON, HTTP 200 even for errors, `{"errcode","errmsg"}` with
//! the real service's `", rid: ..."` suffix. Server-to-server only: no CORS
//! headers, so a browser page elsewhere cannot read them.

use crate::web::journal::ReplyErrcode;
use axum::Extension;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use wxemu_core::config::WebsiteApp;
use wxemu_core::emulator::Emulator;
use wxemu_core::identity;
use wxemu_core::store::{
    random_token, AccessGrant, Grant, Lookup, RefreshGrant, ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL,
};

/// The errcodes (the Open Platform's global error codes) and their texts.
/// Texts marked "assumed" were not seen in a capture.
pub mod errcode {
    pub const INVALID_APPSECRET: (i32, &str) = (40125, "invalid appsecret");
    pub const INVALID_APPID: (i32, &str) = (40013, "invalid appid");
    pub const INVALID_GRANT_TYPE: (i32, &str) = (40002, "invalid grant_type");
    pub const INVALID_CODE: (i32, &str) = (40029, "invalid code");
    pub const CODE_USED: (i32, &str) = (40163, "code been used");
    /// assumed text
    pub const CODE_EXPIRED: (i32, &str) = (42003, "code expired");
    pub const INVALID_REFRESH_TOKEN: (i32, &str) = (40030, "invalid refresh_token");
    /// assumed text
    pub const REFRESH_TOKEN_EXPIRED: (i32, &str) = (42002, "refresh_token expired");
    pub const INVALID_ACCESS_TOKEN: (i32, &str) = (40014, "invalid access_token");
    /// assumed text
    pub const ACCESS_TOKEN_EXPIRED: (i32, &str) = (42001, "access_token expired");
    pub const INVALID_OPENID: (i32, &str) = (40003, "invalid openid");
    pub const API_UNAUTHORIZED: (i32, &str) = (48001, "api unauthorized");
    pub const MISSING_ACCESS_TOKEN: (i32, &str) = (41001, "access_token missing");
    pub const MISSING_APPID: (i32, &str) = (41002, "appid missing");
    pub const MISSING_REFRESH_TOKEN: (i32, &str) = (41003, "refresh_token missing");
    pub const MISSING_SECRET: (i32, &str) = (41004, "appsecret missing");
    pub const MISSING_CODE: (i32, &str) = (41008, "missing code");
    pub const MISSING_OPENID: (i32, &str) = (41009, "missing openid");
}

type ApiError = (i32, &'static str);

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

/// `{"errcode":N,"errmsg":"text, rid: xxxxxxxx-xxxxxxxx-xxxxxxxx"}`.
fn error_reply((code, text): ApiError) -> Response {
    let rid = format!(
        "{:08x}-{:08x}-{:08x}",
        rand::random::<u32>(),
        rand::random::<u32>(),
        rand::random::<u32>()
    );
    json_reply(&json!({"errcode": code, "errmsg": format!("{text}, rid: {rid}")}))
}

fn reply(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(body) => json_reply(&body),
        Err(e) => error_reply(e),
    }
}

/// The query's parameters; an empty value counts as missing.
struct Params(HashMap<String, String>);

impl Params {
    fn parse(query: Option<String>) -> Params {
        Params(super::query_params(query))
    }

    fn require(&self, name: &str, missing: ApiError) -> Result<&str, ApiError> {
        self.optional(name).ok_or(missing)
    }

    fn optional(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The app named by `appid`, authenticated by `secret` when given.
fn known_app(emu: &Emulator, appid: &str, secret: Option<&str>) -> Result<WebsiteApp, ApiError> {
    let app = emu.app(appid).ok_or(errcode::INVALID_APPID)?;
    if let Some(secret) = secret {
        if !emu.secret_matches(&app, secret) {
            return Err(errcode::INVALID_APPSECRET);
        }
    }
    Ok(app)
}

/// The person's unionid for the app's owner (every website app sits on an
/// Open Platform account, so it is always there).
fn unionid(emu: &Emulator, grant: &Grant) -> String {
    let owner = emu
        .app(&grant.appid)
        .map(|app| identity::owner(&app).to_owned())
        .unwrap_or_else(|| grant.appid.clone());
    identity::unionid(&grant.account_id, &owner)
}

/// The token reply for `grant`.
fn token_body(emu: &Emulator, grant: &Grant, access_token: &str, refresh_token: &str) -> Value {
    json!({
        "access_token": access_token,
        "expires_in": ACCESS_TOKEN_TTL.as_secs(),
        "refresh_token": refresh_token,
        "openid": grant.openid,
        "scope": grant.scope,
        "unionid": unionid(emu, grant),
    })
}

/// `GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`
pub async fn access_token(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    reply(redeem_code(&emu, &Params::parse(query)))
}

fn redeem_code(emu: &Emulator, params: &Params) -> Result<Value, ApiError> {
    let appid = params.require("appid", errcode::MISSING_APPID)?;
    let secret = params.require("secret", errcode::MISSING_SECRET)?;
    let code = params.require("code", errcode::MISSING_CODE)?;
    if params.optional("grant_type") != Some("authorization_code") {
        return Err(errcode::INVALID_GRANT_TYPE);
    }
    known_app(emu, appid, Some(secret))?;
    let now = emu.clock.now();
    // Mark used atomically with the check: two racing redemptions get one
    // token and one 40163. Another app's code is not touched.
    let issued = match emu.store.codes.update(code, now, |c| {
        let was_used = c.used;
        if c.appid == appid {
            c.used = true;
        }
        (was_used, c.clone())
    }) {
        Lookup::Missing => return Err(errcode::INVALID_CODE),
        Lookup::Live((_, c)) | Lookup::Expired((_, c)) if c.appid != appid => {
            return Err(errcode::INVALID_CODE)
        }
        Lookup::Expired(_) => return Err(errcode::CODE_EXPIRED),
        Lookup::Live((true, _)) => return Err(errcode::CODE_USED),
        Lookup::Live((false, c)) => c,
    };
    let grant = Grant {
        openid: identity::openid(&issued.account_id, &issued.appid),
        appid: issued.appid,
        account_id: issued.account_id,
        scope: issued.scope,
    };
    let access = random_token(64);
    let refresh = random_token(64);
    emu.store.access_tokens.insert(
        access.clone(),
        AccessGrant {
            grant: grant.clone(),
            refresh_token: refresh.clone(),
        },
        now + ACCESS_TOKEN_TTL,
    );
    emu.store.refresh_tokens.insert(
        refresh.clone(),
        RefreshGrant {
            grant: grant.clone(),
            access_token: access.clone(),
        },
        now + REFRESH_TOKEN_TTL,
    );
    Ok(token_body(emu, &grant, &access, &refresh))
}

/// `GET /sns/oauth2/refresh_token?appid&grant_type=refresh_token&refresh_token`
///
/// As the Open Platform documents it: while the last access_token lives,
/// refreshing extends it by 2 hours and returns it again; once it has
/// expired, refreshing mints a new one. The refresh_token stays the same
/// and keeps its 30-day lifetime.
pub async fn refresh_token(
    State(emu): State<Arc<Emulator>>,
    RawQuery(query): RawQuery,
) -> Response {
    reply(refresh(&emu, &Params::parse(query)))
}

fn refresh(emu: &Emulator, params: &Params) -> Result<Value, ApiError> {
    let appid = params.require("appid", errcode::MISSING_APPID)?;
    let refresh = params.require("refresh_token", errcode::MISSING_REFRESH_TOKEN)?;
    if params.optional("grant_type") != Some("refresh_token") {
        return Err(errcode::INVALID_GRANT_TYPE);
    }
    known_app(emu, appid, None)?;
    let now = emu.clock.now();
    let held = match emu.store.refresh_tokens.get(refresh, now) {
        Lookup::Missing => return Err(errcode::INVALID_REFRESH_TOKEN),
        Lookup::Live(r) | Lookup::Expired(r) if r.grant.appid != appid => {
            return Err(errcode::INVALID_REFRESH_TOKEN)
        }
        Lookup::Expired(_) => return Err(errcode::REFRESH_TOKEN_EXPIRED),
        Lookup::Live(r) => r,
    };
    let access = match emu.store.access_tokens.get(&held.access_token, now) {
        Lookup::Live(_) => held.access_token.clone(),
        Lookup::Expired(_) | Lookup::Missing => {
            let fresh = random_token(64);
            // A refresh_token expired meanwhile stays expired: update()
            // changes it in place without touching its expiry.
            emu.store
                .refresh_tokens
                .update(refresh, now, |r| r.access_token = fresh.clone());
            fresh
        }
    };
    emu.store.access_tokens.insert(
        access.clone(),
        AccessGrant {
            grant: held.grant.clone(),
            refresh_token: refresh.to_owned(),
        },
        now + ACCESS_TOKEN_TTL,
    );
    Ok(token_body(emu, &held.grant, &access, refresh))
}

/// The grant behind `access_token` if it is live and for `openid`.
fn authenticate(emu: &Emulator, params: &Params, now: SystemTime) -> Result<Grant, ApiError> {
    let token = params.require("access_token", errcode::MISSING_ACCESS_TOKEN)?;
    let openid = params.require("openid", errcode::MISSING_OPENID)?;
    let grant = match emu.store.access_tokens.get(token, now) {
        Lookup::Missing => return Err(errcode::INVALID_ACCESS_TOKEN),
        Lookup::Expired(_) => return Err(errcode::ACCESS_TOKEN_EXPIRED),
        Lookup::Live(a) => a.grant,
    };
    if grant.openid != openid {
        return Err(errcode::INVALID_OPENID);
    }
    Ok(grant)
}

/// `GET /sns/auth?access_token&openid`: `{"errcode":0,"errmsg":"ok"}`.
pub async fn auth(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query);
    reply(
        authenticate(&emu, &params, emu.clock.now()).map(|_| json!({"errcode": 0, "errmsg": "ok"})),
    )
}

/// `GET /sns/userinfo?access_token&openid[&lang=zh_CN|zh_TW|en]`
pub async fn userinfo(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    reply(user_info(&emu, &Params::parse(query)))
}

fn user_info(emu: &Emulator, params: &Params) -> Result<Value, ApiError> {
    let grant = authenticate(emu, params, emu.clock.now())?;
    let allowed = grant
        .scope
        .split(',')
        .any(|s| matches!(s.trim(), "snsapi_login" | "snsapi_userinfo"));
    if !allowed {
        return Err(errcode::API_UNAUTHORIZED);
    }
    // An account removed from the config since the login is gone.
    let account = emu
        .config()
        .account(&grant.account_id)
        .ok_or(errcode::INVALID_OPENID)?;
    let lang = Lang::parse(params.optional("lang"));
    Ok(json!({
        "openid": grant.openid,
        "nickname": account.nickname,
        "sex": account.sex,
        "province": lang.place(&account.province),
        "city": lang.place(&account.city),
        "country": lang.place(&account.country),
        "headimgurl": emu.headimgurl(&account),
        "privilege": [],
        "unionid": unionid(emu, &grant),
    }))
}

/// userinfo's `lang`; the Open Platform's default is `en`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    ZhCn,
    ZhTw,
}

/// Place names in en / zh_CN / zh_TW. An account's value found in any
/// column is answered in the requested one; others are answered as written.
const PLACES: &[[&str; 3]] = &[
    ["CN", "中国", "中國"],
    ["China", "中国", "中國"],
    ["Guangdong", "广东", "廣東"],
    ["Shenzhen", "深圳", "深圳"],
    ["Guangzhou", "广州", "廣州"],
    ["Beijing", "北京", "北京"],
    ["Shanghai", "上海", "上海"],
    ["Zhejiang", "浙江", "浙江"],
    ["Hangzhou", "杭州", "杭州"],
    ["Jiangsu", "江苏", "江蘇"],
    ["Nanjing", "南京", "南京"],
    ["Sichuan", "四川", "四川"],
    ["Chengdu", "成都", "成都"],
    ["Hong Kong", "香港", "香港"],
    ["Taiwan", "台湾", "臺灣"],
    ["Taipei", "台北", "臺北"],
];

impl Lang {
    fn parse(lang: Option<&str>) -> Lang {
        match lang {
            Some("zh_CN") => Lang::ZhCn,
            Some("zh_TW") => Lang::ZhTw,
            _ => Lang::En,
        }
    }

    fn place(self, value: &str) -> String {
        let column = match self {
            Lang::En => 0,
            Lang::ZhCn => 1,
            Lang::ZhTw => 2,
        };
        PLACES
            .iter()
            .find(|row| row.iter().any(|name| name.eq_ignore_ascii_case(value)))
            .map_or_else(|| value.to_owned(), |row| row[column].to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn places_are_localized() {
        assert_eq!(Lang::parse(Some("zh_CN")).place("Guangdong"), "广东");
        assert_eq!(Lang::parse(Some("zh_TW")).place("Guangdong"), "廣東");
        assert_eq!(Lang::parse(None).place("广东"), "Guangdong");
        assert_eq!(Lang::parse(Some("xx")).place("CN"), "CN");
        assert_eq!(Lang::parse(Some("zh_CN")).place("CN"), "中国");
        assert_eq!(Lang::parse(Some("zh_CN")).place("Atlantis"), "Atlantis");
    }
}
