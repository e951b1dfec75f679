//! The wire surfaces: one module per protocol wxemu speaks, each
//! translating between its wire format and the core's typed calls, and
//! binding its handlers to their registry routes (`routes()`).
//!
//! - [`fastlogin`]: the desktop client's local fast-login API;
//! - [`openplatform`]: the Open Platform (login page, QR long poll, token
//!   API, web authorization);
//! - [`h5`]: the JS-SDK's server side and the bridge pages inside
//!   WeChat's browser;
//! - [`webwx`]: Web WeChat;
//! - [`avatar`], [`demo`]: wxemu's own avatars and demo site;
//! - [`control`]: the control API for QA.
//!
//! A surface imports only the registry, the marks and the transport's
//! body reading below it, never the front.

pub mod avatar;
pub mod control;
pub mod demo;
pub mod fastlogin;
pub mod h5;
pub mod openplatform;
pub mod webwx;
