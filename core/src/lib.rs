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
//! - [`apps`], [`identity`]: the Open Platform's apps, openid and unionid.
//! - [`approval`]: where a login waits for a person's (or a policy's) decision.
//! - [`qr`]: QR-code logins as a state machine.
//! - [`faults`], [`journal`], [`endpoint`], [`scenario`]: the QA layer's
//!   stores (the middleware lives in the web floor).
//! - [`avatar`], [`origin`], [`limits`], [`fsutil`], [`random`]: small shared pieces.

pub mod approval;
pub mod apps;
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
pub mod identity;
pub mod journal;
pub mod json;
pub mod jssdk;
pub mod limits;
pub mod listening;
pub mod named;
pub mod oauth2;
pub mod ops;
pub mod origin;
mod qa;
pub mod qr;
pub mod random;
pub mod scenario;
pub mod settings;
pub mod store;
pub mod sync;
pub mod tokens;
pub mod webwx;

pub use emulator::Emulator;
pub use limits::Limits;
pub use named::Named;
