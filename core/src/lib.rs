//! wxemu's domain: everything a fake WeChat knows, with no HTTP in it.
//!
//! The web floor (`wxemu::web`) translates requests into calls on
//! [`Emulator`] and its typed results back into each surface's wire format;
//! the shells (the `wxemu` CLI, the desktop app) call the same methods. This
//! crate depends on no HTTP, CLI or GUI library (tests/layers.rs checks).
//!
//! # Layout
//! - [`emulator`]: [`Emulator`], one running wxemu: the methods every caller uses.
//! - [`clock`]: the injectable "now" behind every expiry.
//! - [`store`]: expiring maps: fast-login uuids, codes, access and refresh tokens.
//! - [`config`]: the TOML config model (accounts, apps, origins, timeouts).
//! - [`openplatform`]: the Open Platform's state: QR logins, web
//!   authorization, the token API's vocabulary, openid and unionid.
//! - [`ops`]: the Emulator's operations on the state kept in the folders
//!   (the Open Platform's apps, tokens, QR logins and web authorization;
//!   Web WeChat; the JS-SDK; H5 calls).
//! - [`approval`]: where a login waits for a person's (or a policy's) decision.
//! - [`faults`], [`journal`], [`endpoint`], [`scenario`]: the QA layer's
//!   stores (the middleware lives in the web floor).
//! - [`avatar`], [`origin`], [`limits`], [`fsutil`], [`random`]: small shared pieces.

pub mod approval;
pub mod avatar;
pub mod clock;
pub mod config;
pub mod emulator;
pub mod endpoint;
pub mod events;
pub mod fastlogin;
pub mod faults;
pub mod fsutil;
pub mod h5_calls;
pub mod journal;
pub mod json;
pub mod jssdk;
pub mod limits;
pub mod listening;
pub mod named;
pub mod openplatform;
pub mod ops;
pub mod origin;
mod qa;
pub mod random;
pub mod scenario;
pub mod settings;
pub mod store;
pub mod sync;
pub mod webwx;

pub use emulator::Emulator;
pub use limits::Limits;
pub use named::Named;
