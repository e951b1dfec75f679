//! The Web WeChat QR login: jslogin, the QR image, the login long poll and
//! webwxnewloginpage (protocol.md section 3, "Login"). Texts are exact:
//! clients match them with regexes or eval them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::image::avatar_png;
use super::wire::{cookie_date, home_origin, js};
use crate::web::registry;
use crate::web::surfaces::openplatform::page::qr_image_reply;
use crate::web::surfaces::openplatform::query_params;
use wxemu_core::Emulator;
use wxemu_core::{is_login_uuid, LoginPoll, WEB_APPID};

/// What the QR code says (the phone app opens this).
pub fn qr_content(uuid: &str) -> String {
    format!("https://login.weixin.qq.com/l/{uuid}")
}

/// `GET` or `POST /jslogin?appid=wx782c26e4c19acffb&fun=new&lang=zh_CN...`
/// (wechat4u posts an empty form): a new QR login.
pub async fn jslogin(
    State(emu): State<Arc<Emulator>>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    let params = query_params(query);
    let appid = params.get("appid").map(String::as_str).unwrap_or("");
    if appid != WEB_APPID {
        // The shape clients parse, with a code that is not 200.
        return js(format!(
            "window.QRLogin.code = 400; window.QRLogin.error = \"appid must be {WEB_APPID}\";"
        ));
    }
    let redirect_base = format!(
        "{}{}",
        home_origin(&headers, &uri),
        registry::WEBWX_NEWLOGINPAGE.path
    );
    let qr = emu.qr_create_webwx(redirect_base);
    js(format!(
        "window.QRLogin.code = 200; window.QRLogin.uuid = \"{}\";",
        qr.uuid
    ))
}

/// `GET /qrcode/<uuid>`: the QR code the browser shows (libraries draw
/// their own from the uuid).
pub async fn qrcode(State(emu): State<Arc<Emulator>>, Path(uuid): Path<String>) -> Response {
    let known = is_login_uuid(&uuid) && emu.webwx_qr_exists(&uuid);
    // Content this short always encodes; say so plainly if not.
    qr_image_reply(known, &qr_content(&uuid), StatusCode::SERVICE_UNAVAILABLE)
}

/// `GET /cgi-bin/mmwebwx-bin/login?loginicon=true&uuid=U&tip=..&r=..&_=..`:
/// held until the QR login changes (or `long_poll_hold`, under 30 s).
pub async fn poll(
    State(emu): State<Arc<Emulator>>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    let params = query_params(query);
    let uuid = params.get("uuid").map(String::as_str).unwrap_or("");
    if !is_login_uuid(uuid) {
        return js("window.code=400;".into());
    }
    let hold = emu.limits().long_poll_hold.min(Duration::from_secs(29));
    match emu.webwx_login_poll(uuid, hold).await {
        LoginPoll::Waiting => js("window.code=408;".into()),
        LoginPoll::Gone => js("window.code=400;".into()),
        LoginPoll::Scanned { account_id, .. } => {
            let avatar = data_encoding::BASE64.encode(&avatar_png(&account_id));
            // Spaces around '=' as the real one; a non-empty avatar, or
            // wechat4u never reports the scan.
            js(format!(
                "window.code=201;window.userAvatar = 'data:img/jpg;base64,{avatar}';"
            ))
        }
        LoginPoll::Confirmed { ticket } => {
            let base = emu.webwx_redirect_base(uuid).unwrap_or_else(|| {
                format!(
                    "{}{}",
                    home_origin(&headers, &uri),
                    registry::WEBWX_NEWLOGINPAGE.path
                )
            });
            let scan = wxemu_core::unix_secs(emu.webwx_now());
            js(format!(
                "window.code=200;\nwindow.redirect_uri=\"{base}?ticket={ticket}&uuid={uuid}&lang=zh_CN&scan={scan}\";"
            ))
        }
    }
}

/// `GET webwxnewloginpage?ticket=T&uuid=U&lang=zh_CN&scan=..[&fun=new][&version=v2]`:
/// redeems the ticket. With `version=v2` HTTP 200, without it HTTP 301
/// with no Location (wechat4u reads the XML only in its 301 handler); the
/// same XML body and cookies either way.
pub async fn newloginpage(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query);
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    let status = if param("version") == "v2" {
        StatusCode::OK
    } else {
        StatusCode::MOVED_PERMANENTLY
    };
    let grant = match emu.webwx_login(param("ticket"), param("uuid")) {
        Ok(grant) => grant,
        Err(e) => {
            // Assumed shape: the real service's code for a bad ticket is
            // not documented; `ret` non-zero is what clients check.
            let body = format!("<error><ret>1</ret><message>{e}</message></error>");
            return (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                body,
            )
                .into_response();
        }
    };
    let c = &grant.creds;
    let body = format!(
        "<error><ret>0</ret><message></message><skey>{}</skey><wxsid>{}</wxsid><wxuin>{}</wxuin><pass_ticket>{}</pass_ticket><isgrayscale>1</isgrayscale></error>",
        c.skey, c.sid, c.uin, c.pass_ticket
    );
    let now = emu.webwx_now();
    let session_expiry = cookie_date(now + Duration::from_secs(12 * 3600));
    let long_expiry = cookie_date(now + Duration::from_secs(10 * 365 * 86_400));
    let loadtime = wxemu_core::unix_secs(now).to_string();
    // Host-only (no Domain): wxemu is not the real domain.
    let cookies = [
        ("wxuin", c.uin.to_string(), &session_expiry),
        ("wxsid", c.sid.clone(), &session_expiry),
        ("wxloadtime", loadtime, &session_expiry),
        ("mm_lang", "zh_CN".to_owned(), &session_expiry),
        ("webwx_data_ticket", c.data_ticket.clone(), &session_expiry),
        ("webwxuvid", c.uvid.clone(), &long_expiry),
        ("webwx_auth_ticket", c.auth_ticket.clone(), &long_expiry),
    ];
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response();
    for (name, value, expires) in cookies {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; Expires={expires}; Secure"
        )) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}
