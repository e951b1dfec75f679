//! The emulated WeChat Open Platform (protocol.md section 2): what
//! open.weixin.qq.com, lp.open.weixin.qq.com, res.wx.qq.com and
//! api.weixin.qq.com do for "Log in with WeChat", served from wxemu's own
//! origin.
//!
//! - [`page`]: the authorization page, its QR image, the long poll and
//!   `wxLogin.js`.
//! - [`qr`]: QR login sessions and the one set of operations (scan,
//!   confirm, cancel, expire) every caller uses.
//! - [`apps`]: which appids exist and what is checked about them.
//! - [`identity`]: openid and unionid.
//! - [`token`]: the token API a site's backend calls.

pub mod page;
pub mod token;

use std::collections::HashMap;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;

use wxemu_core::emulator::Emulator;

/// The Open Platform's routes. Plain GETs loaded by pages and called by
/// site backends: no Origin check and no CORS headers, so no other site's
/// page can read an answer (the Host check applies to every route).
pub fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/connect/qrconnect", get(page::qrconnect))
        .route("/connect/l/qrconnect", get(page::long_poll))
        .route("/connect/qrcode/{uuid}", get(page::qrcode_image))
        .route(
            "/connect/zh_CN/htmledition/js/wxLogin.js",
            get(page::wxlogin_js),
        )
        .route("/sns/oauth2/access_token", get(token::access_token))
        .route("/sns/oauth2/refresh_token", get(token::refresh_token))
        .route("/sns/auth", get(token::auth))
        .route("/sns/userinfo", get(token::userinfo))
}

/// Query parameters, decoded (lossily: a broken byte must not fail a page
/// or an API call). A repeated name keeps its last value.
pub(crate) fn query_params(query: Option<String>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}
