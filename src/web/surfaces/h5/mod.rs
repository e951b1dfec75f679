//! Pages inside WeChat's browser (protocol.md section 4): the JS-SDK's
//! server side on `api.weixin.qq.com`'s paths ([`cgi`]: base token, stable
//! token, tickets) and the client side a page needs to run the real
//! jweixin without WeChat ([`bridge`]: `bridge.js`, which plays
//! `WeixinJSBridge` in the page, and the two calls it makes: the
//! `wx.config` check and each JS API's answer). The rules are the core's
//! (`wxemu_core::jssdk`).

pub mod bridge;
pub mod cgi;

use axum::routing::{get, post};

use crate::web::registry::Binding;

pub(crate) fn routes() -> Vec<Binding> {
    use crate::web::registry as r;
    vec![
        (&r::CGI_TOKEN, get(cgi::token)),
        (&r::CGI_STABLE_TOKEN, post(cgi::stable_token)),
        (&r::CGI_GETTICKET, get(cgi::getticket)),
        (&r::H5_BRIDGE, get(bridge::script)),
        (&r::H5_VERIFY, post(bridge::verify)),
        (&r::H5_CALL, post(bridge::call)),
        (&r::SDK_REPORT, get(bridge::report)),
    ]
}
