//! The JS-SDK's server side (protocol.md section 4): an Official Account's
//! base access_token (`cgi-bin/token`, `cgi-bin/stable_token`), its
//! `jsapi` / `wx_card` tickets, the signature check `wx.config` asks the
//! client for (the bridge asks wxemu), and the outcomes queued for the
//! JS APIs a page calls (`chooseWXPay`, `scanQRCode`, ...).
//!
//! Rules, as WeChat has them: a base token lives 7200 s and a new
//! `cgi-bin/token` retires the app's previous one (clients retry on 40001);
//! the stable token is the same while valid, renewed in its last 5
//! minutes (old and new both valid then), separate from `cgi-bin/token`;
//! a ticket lives its whole 7200 s whatever happens to the token that
//! fetched it, so a backend that caches it keeps verifying.

//!
//! - `model.rs`: the types, errors and the signature;
//! - `state.rs`: what is kept, bounded;
//! - `ops/jssdk.rs`: the operations, as `Emulator` methods.

mod model;
pub(crate) mod state;

pub use model::*;
