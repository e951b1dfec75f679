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

pub mod apps;
pub mod page;
pub mod qr;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;

use crate::emulator::Emulator;

/// The Open Platform's routes. Plain GETs loaded by pages and servers:
/// no Origin check, no CORS (the Host check applies to every route).
pub fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/connect/qrconnect", get(page::qrconnect))
        .route("/connect/l/qrconnect", get(page::long_poll))
        .route("/connect/qrcode/{uuid}", get(page::qrcode_image))
        .route(
            "/connect/zh_CN/htmledition/js/wxLogin.js",
            get(page::wxlogin_js),
        )
}
