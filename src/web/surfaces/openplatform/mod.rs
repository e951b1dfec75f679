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
//! - [`oauth2`]: web authorization inside WeChat's browser
//!   (`connect/oauth2/authorize`) and its consent page.
//! - [`token`]: the token API a site's backend calls.

pub mod oauth2;
pub mod page;
pub mod token;

use std::collections::HashMap;

use axum::routing::{get, on, post, MethodFilter};

use crate::web::registry::Binding;

/// The Open Platform's handlers, bound to their registry routes (plain
/// GETs loaded by pages and called by site backends, [`Access::Open`]).
///
/// [`Access::Open`]: crate::web::registry::Access::Open
pub(crate) fn routes() -> Vec<Binding> {
    use crate::web::registry as r;
    vec![
        (&r::LOGIN_PAGE, get(page::qrconnect)),
        (&r::LONG_POLL, get(page::long_poll)),
        (&r::QRCODE, get(page::qrcode_image)),
        (&r::WXLOGIN_JS, get(page::wxlogin_js)),
        (&r::OAUTH2_AUTHORIZE, get(oauth2::authorize)),
        (&r::OAUTH2_CONSENT_WAIT, post(oauth2::wait)),
        (&r::OAUTH2_CONSENT_ANSWER, post(oauth2::answer)),
        (&r::ACCESS_TOKEN, on(GET_POST, token::access_token)),
        (&r::REFRESH_TOKEN, on(GET_POST, token::refresh_token)),
        (&r::AUTH, on(GET_POST, token::auth)),
        (&r::USERINFO, on(GET_POST, token::userinfo)),
    ]
}

/// The token API takes GET and POST alike.
const GET_POST: MethodFilter = MethodFilter::GET.or(MethodFilter::POST);

/// Query parameters, decoded (lossily: a broken byte must not fail a page
/// or an API call). A repeated name keeps its last value.
pub(crate) fn query_params(query: Option<String>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}
