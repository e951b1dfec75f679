//! Web WeChat on wxemu's own origin (protocol.md section 3, issue 11): the
//! QR login (`/jslogin`, `/qrcode/<uuid>`, the login poll,
//! `webwxnewloginpage`) and the session (`webwxinit` ... `webwxlogout`),
//! answered from the core's Web WeChat (`core/src/webwx/`). Every path the real service spreads over
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

use axum::routing::{get, post};

use crate::web::registry as r;
use crate::web::registry::Binding;

/// The Web WeChat handlers, bound to their registry routes. Called by bot
/// libraries and the old browser client; no Origin check and no CORS
/// headers (the Host check applies).
pub(crate) fn routes() -> Vec<Binding> {
    vec![
        (&r::WEBWX_JSLOGIN, get(login::jslogin).post(login::jslogin)),
        (&r::WEBWX_QRCODE, get(login::qrcode)),
        (&r::WEBWX_LOGIN_POLL, get(login::poll)),
        (&r::WEBWX_NEWLOGINPAGE, get(login::newloginpage)),
        (&r::WEBWX_INIT, post(session::init)),
        (&r::WEBWX_STATUSNOTIFY, post(session::status_notify)),
        (
            &r::WEBWX_GETCONTACT,
            get(session::get_contact).post(session::get_contact),
        ),
        (&r::WEBWX_BATCHGETCONTACT, post(session::batch_get_contact)),
        (&r::WEBWX_SYNCCHECK, get(session::synccheck)),
        (&r::WEBWX_SYNC, post(session::sync)),
        (&r::WEBWX_SENDMSG, post(session::send_msg)),
        (&r::WEBWX_LOGOUT, get(session::logout).post(session::logout)),
        (&r::WEBWX_GETICON, get(image::icon)),
        (&r::WEBWX_GETHEADIMG, get(image::icon)),
    ]
}
