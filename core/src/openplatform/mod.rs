//! The Open Platform (open.weixin.qq.com, api.weixin.qq.com) as wxemu
//! plays it: what a website's "Log in with WeChat" talks to. Here is its
//! state and vocabulary; the Emulator's operations on it are in
//! `crate::ops` (`apps`, `qr`, `oauth2`, `tokens`), so nothing here
//! imports the Emulator that holds it.
//!
//! - [`qr`]: QR-code logins (the login page's code and its long poll; Web
//!   WeChat's login borrows the same sessions);
//! - [`oauth2`]: web authorization inside WeChat's browser (网页授权),
//!   which issues the same codes;
//! - [`tokens`]: the token API's errors, grants and profiles;
//! - [`identity`]: openid and unionid, derived, not stored.
//!
//! The codes, tokens and registered apps live in `crate::store`, shared
//! with fast login (`crate::fastlogin`: the desktop client's API, which
//! issues Open Platform codes but is the client's, not the platform's).
//! The JS-SDK (`crate::jssdk`) is the Official Accounts platform's, not
//! this one's: it has its own tokens and tickets.

pub mod identity;
pub mod oauth2;
pub mod qr;
pub mod tokens;
