//! The login page side of the Open Platform (protocol.md section 2): the
//! authorization page `/connect/qrconnect`, its `f=xml` refresh, the QR
//! image, the long poll and `wxLogin.js`.
//!
//! The page's HTML/JS lives in `ui/connect/` and is compiled in. wxemu
//! injects the page's configuration as a JSON object in place of the text
//! [`CONFIG_PLACEHOLDER`]; see docs/open-platform.md for its keys.

use crate::web::marks::{ReplyErrcode, Warnings};
use axum::Extension;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::query_params;
use crate::web::registry;
use wxemu_core::{Emulator, CANONICAL_HOST, KNOWN_PORTS};
use wxemu_core::{PollReply, QrTarget};

/// The login page template; the loginpage UI replaces its content.
const PAGE_TEMPLATE: &str = include_str!("../../../../ui/connect/qrconnect.html");
/// The embedding script sites load from res.wx.qq.com.
const WXLOGIN_JS: &str = include_str!("../../../../ui/connect/wxLogin.js");

/// Replaced (once) by the page's configuration, a JSON object.
pub const CONFIG_PLACEHOLDER: &str = "/*WXEMU_CONFIG*/";

/// What the QR code says: the real one's content format.
pub fn qr_content(uuid: &str) -> String {
    format!("https://open.weixin.qq.com/connect/confirm?uuid={uuid}")
}

/// `GET /connect/qrconnect`: validates the login request like the real
/// page, starts a QR login and serves the page (or, with `f=xml`, just the
/// new uuid).
pub async fn qrconnect(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query);
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();

    let appid = param("appid");
    // Each QR login keeps these until it is forgotten: bounded.
    if let Err(e) = wxemu_core::check_login_target(
        appid,
        param("scope"),
        param("redirect_uri"),
        param("state"),
        emu.website_state_limit(),
    ) {
        // The real page's title for the parameter at fault.
        let title = match e.field {
            "appid" => "AppID 参数错误",
            "redirect_uri" => "redirect_uri 参数错误",
            "scope" => "Scope 参数错误或没有 Scope 权限",
            _ => "state 参数错误",
        };
        return error_page(title, &e.to_string());
    }
    let Some(app) = emu.app(appid) else {
        return error_page(
            "AppID 参数错误",
            &if appid.is_empty() {
                "the appid parameter is missing".to_owned()
            } else {
                format!("appid {appid:?} is unknown (not in [[apps]] in strict mode, or malformed)")
            },
        );
    };
    let redirect_uri = param("redirect_uri");
    let redirect = match url::Url::parse(redirect_uri) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => url,
        _ => {
            return error_page(
                "redirect_uri 参数错误",
                "redirect_uri must be an absolute http(s) URL (URL-encoded in the query)",
            )
        }
    };
    if !emu.redirect_allowed(&app, &redirect) {
        return error_page(
            "redirect_uri 参数错误",
            &format!(
                "the host of redirect_uri is not a callback domain of {appid} (callback_domains = {:?})",
                app.callback_domains
            ),
        );
    }
    let scope = param("scope");
    if scope != "snsapi_login" {
        return error_page(
            "Scope 参数错误或没有 Scope 权限",
            "website login uses scope=snsapi_login",
        );
    }

    let qr = emu.qr_create(QrTarget {
        appid: appid.to_owned(),
        scope: scope.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        state: param("state").to_owned(),
    });
    if param("f") == "xml" {
        return (
            [
                (header::CONTENT_TYPE, "text/xml; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            format!("<xml><uuid>{}</uuid></xml>", qr.uuid),
        )
            .into_response();
    }

    let warnings: Vec<String> = wxemu_core::long_state_warning(param("state"))
        .into_iter()
        .collect();
    let port = emu.port();
    let mut ports = KNOWN_PORTS.to_vec();
    if emu.listening().own_port_only {
        ports = vec![port];
    } else if !ports.contains(&port) {
        ports.insert(0, port);
    }
    let self_redirect = match param("self_redirect") {
        "true" => json!(true),
        "false" => json!(false),
        _ => json!(null),
    };
    let color_scheme = match param("color_scheme") {
        s @ ("auto" | "dark" | "light") => s,
        _ => "light",
    };
    // Custom CSS only from https URLs, as the real page requires.
    let href = url::Url::parse(param("href"))
        .ok()
        .filter(|u| u.scheme() == "https")
        .map(String::from)
        .unwrap_or_default();
    let config = json!({
        "appid": appid,
        "app_name": app.name,
        "app_icon_url": app.icon_url,
        "redirect_uri": redirect_uri,
        "state": qr.target.state,
        "scope": scope,
        "uuid": qr.uuid,
        "qrcode_url": registry::QRCODE.fill(&[&qr.uuid]),
        "long_poll_url": registry::LONG_POLL.path,
        "login_type": param("login_type"),
        "self_redirect": self_redirect,
        "fast_login": param("fast_login") != "0",
        "color_scheme": color_scheme,
        "lang": if param("lang") == "en" { "en" } else { "zh_CN" },
        "style": param("style"),
        "href": href,
        "stylelite": param("stylelite") == "1",
        "fast_login_ports": ports,
        "fast_login_host": CANONICAL_HOST,
        "scan_only": app.scan_only,
        "warnings": warnings,
    });
    // The template's two halves go out as they are in the binary: a reader
    // that stalls holds a few hundred bytes of config per stream, not a
    // copy of the whole page.
    let page = match PAGE_TEMPLATE.split_once(CONFIG_PLACEHOLDER) {
        Some((before, after)) => crate::web::transport::body::chunks(vec![
            axum::body::Bytes::from_static(before.as_bytes()),
            axum::body::Bytes::from(script_safe_json(&config)),
            axum::body::Bytes::from_static(after.as_bytes()),
        ]),
        None => axum::body::Body::from(PAGE_TEMPLATE),
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Extension(Warnings(warnings)),
        page,
    )
        .into_response()
}

/// JSON that can sit inside a `<script>` element: `<`, `>` and `&` become
/// `\u003c` etc. (so no `</script>` or `<!--` can appear), and the two
/// line separators JavaScript once treated as newlines are escaped too.
pub fn script_safe_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The real service's answer to bad login parameters: an HTML page, HTTP 200.
pub(crate) fn error_page(title: &str, detail: &str) -> Response {
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>微信登录</title>
<style>body{{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;text-align:center;color:#353535;margin:0;padding:80px 20px}}
h4{{font-size:20px;font-weight:400;margin:0 0 12px}}p{{color:#888;font-size:13px}}</style></head>
<body><div class="weui-msg"><h4 class="weui-msg__title">{}</h4><p class="wxemu-detail">wxemu: {}</p></div></body></html>
"#,
        html_escape(title),
        html_escape(detail)
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `GET /connect/l/qrconnect?uuid=&last=[&f=json]`: the long poll. Always
/// HTTP 200; the news is in `wx_errcode`.
pub async fn long_poll(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query);
    let uuid = params.get("uuid").map(String::as_str).unwrap_or_default();
    let last = params.get("last").and_then(|l| l.parse::<u16>().ok());
    let reply = if uuid.is_empty() {
        PollReply::Unknown
    } else {
        emu.qr_poll(uuid, last, emu.limits().long_poll_hold).await
    };
    let json_wanted = params.get("f").is_some_and(|f| f == "json");
    poll_reply(reply.wx_errcode().into(), reply.wx_code(), json_wanted)
}

/// A long-poll answer in the page's format: JavaScript, or JSON with
/// `f=json`. Injected errcodes use it too ([`crate::web::registry::Wire::LongPoll`]).
pub(crate) fn poll_reply(errcode: i64, code: &str, json_wanted: bool) -> Response {
    let (content_type, body) = if json_wanted {
        (
            "application/json; charset=utf-8",
            json!({"wx_errcode": errcode, "wx_code": code}).to_string(),
        )
    } else {
        // The code is [0-9A-Za-z]: nothing in it can leave the JS string.
        (
            "application/javascript; charset=utf-8",
            format!("window.wx_errcode={errcode};window.wx_code='{code}';"),
        )
    };
    (
        Extension(ReplyErrcode(Some(errcode))),
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// `GET /connect/qrcode/{uuid}`: the QR code as a PNG.
pub async fn qrcode_image(State(emu): State<Arc<Emulator>>, Path(uuid): Path<String>) -> Response {
    let known = emu.qr_login(&uuid).is_some();
    qr_image_reply(known, &qr_content(&uuid), StatusCode::INTERNAL_SERVER_ERROR)
}

/// A QR image endpoint's answer: the PNG of `content` for a `known` login,
/// a plain 404 otherwise, `draw_failure` if the code cannot be drawn (each
/// surface keeps its own status for that).
pub(crate) fn qr_image_reply(known: bool, content: &str, draw_failure: StatusCode) -> Response {
    if !known {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no QR login has this uuid\n",
        )
            .into_response();
    }
    match qr_png(content) {
        Ok(png) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            png,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("cannot draw the QR code: {e}");
            (
                draw_failure,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "cannot draw the QR code\n",
            )
                .into_response()
        }
    }
}

/// About the real image's size, in pixels.
const QR_TARGET_PX: usize = 280;
/// The quiet zone the QR standard asks for, in modules.
const QUIET_ZONE: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum QrImageError {
    #[error(transparent)]
    Encode(#[from] qrcode::types::QrError),
    #[error(transparent)]
    Png(#[from] png::EncodingError),
}

/// `content` as a black-on-white 8-bit grayscale PNG with a quiet zone.
pub fn qr_png(content: &str) -> Result<Vec<u8>, QrImageError> {
    let code = qrcode::QrCode::with_error_correction_level(content, qrcode::EcLevel::M)?;
    let modules = code.width();
    let colors = code.to_colors();
    let total = modules + 2 * QUIET_ZONE;
    let scale = (QR_TARGET_PX / total).max(1);
    let side = total * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * scale..(my + 1) * scale {
            pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
        }
    }
    let side = u32::try_from(side).unwrap_or(u32::MAX);
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}

/// `GET /connect/zh_CN/htmledition/js/wxLogin.js` (the path sites load from
/// res.wx.qq.com).
pub async fn wxlogin_js() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        WXLOGIN_JS,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_json_cannot_close_the_script() {
        let v = json!({"state": "</script><script>alert(1)</script><!--&\u{2028}"});
        let s = script_safe_json(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert!(!s.contains('\u{2028}'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn qr_png_is_a_png() {
        let png = qr_png(&qr_content("0123456789abcdef")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
