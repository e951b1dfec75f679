//! Web WeChat on wxemu's own origin (protocol.md section 3, issue 11): the
//! QR login (`/jslogin`, `/qrcode/<uuid>`, the login poll,
//! `webwxnewloginpage`) and the session (`webwxinit` ... `webwxlogout`),
//! answered from [`wxemu_core::webwx`]. Every path the real service spreads over
//! `login.`, the home host, `webpush.` and `file.` is served here, and the
//! login poll's `redirect_uri` names the origin the client used.
//!
//! - [`login`]: jslogin, the QR image, the long poll, webwxnewloginpage.
//! - [`session`]: the JSON calls, synccheck, logout.
//! - [`wire`]: request parsing and the reply envelopes every call shares.
//! - [`image`]: drawn avatars (201's userAvatar, webwxgeticon).

pub mod image;
pub mod login;
pub mod session;
pub mod wire;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use wxemu_core::emulator::Emulator;

/// Where the session calls live on every host of the real service.
pub const CGI: &str = "/cgi-bin/mmwebwx-bin";

/// The Web WeChat routes. Called by bot libraries and the old browser
/// client; no Origin check and no CORS headers (the Host check applies).
pub fn routes() -> Router<Arc<Emulator>> {
    let cgi = |name: &str| format!("{CGI}/{name}");
    Router::new()
        .route("/jslogin", get(login::jslogin).post(login::jslogin))
        .route("/qrcode/{uuid}", get(login::qrcode))
        .route(&cgi("login"), get(login::poll))
        .route(&cgi("webwxnewloginpage"), get(login::newloginpage))
        .route(&cgi("webwxinit"), post(session::init))
        .route(&cgi("webwxstatusnotify"), post(session::status_notify))
        .route(
            &cgi("webwxgetcontact"),
            get(session::get_contact).post(session::get_contact),
        )
        .route(
            &cgi("webwxbatchgetcontact"),
            post(session::batch_get_contact),
        )
        .route(&cgi("synccheck"), get(session::synccheck))
        .route(&cgi("webwxsync"), post(session::sync))
        .route(&cgi("webwxsendmsg"), post(session::send_msg))
        .route(
            &cgi("webwxlogout"),
            get(session::logout).post(session::logout),
        )
        .route(&cgi("webwxgeticon"), get(image::icon))
        .route(&cgi("webwxgetheadimg"), get(image::icon))
}
