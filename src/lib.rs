//! wxemu: a fake WeChat desktop client for testing "Log in with WeChat".
//!
//! Since WeChat 3.9.11 (Windows) / 4.0 (macOS) a website's WeChat login page
//! first asks the desktop client, over HTTPS on `localhost.weixin.qq.com`
//! (public DNS: 127.0.0.1) port 14013, whether someone is logged in, and lets
//! them confirm the login in a native window instead of scanning a QR code.
//! This crate is that client, minus WeChat, usable headless (`wxemu serve`)
//! or embedded in the desktop app (`src-tauri/`).
//!
//! # Layout: three floors, each importing only downward
//! - [`wxemu_core`] (its own crate): the domain, no HTTP. [`Emulator`] is
//!   one running wxemu; every caller speaks to it through methods.
//! - [`web`]: the listener, TLS, the router built from one endpoint
//!   registry, guards, one module per wire surface, the journal and fault
//!   layers. It only translates between the wire and the core.
//! - the shells: the `wxemu` binary (`src/bin/wxemu/`: clap, each command's
//!   output; behind the default feature `cli`) and the desktop app
//!   (`src-tauri/`, which links this library without that feature). Neither
//!   holds protocol logic: what they run lives here ([`Server`],
//!   [`control_client`], [`doctor`], [`hosts`], [`paths`], [`trust_report`]).
//!
//! The crate root re-exports what an embedder needs ([`Server`],
//! [`Emulator`] and its events, the config model, [`Client`]); start with
//! [`Server::bind`].
//!
//! [`client`] is the one local HTTPS client (ctl, doctor, tests, benchmarks
//! and the example site use it).

pub mod client;
pub mod control_client;
pub mod doctor;
pub mod hosts;
pub mod paths;
pub mod site;
pub mod trust_report;
pub mod web;

// The facade: what the desktop app, tests and embedders need, in one
// place. Everything else is reachable through its floor (`core`, `web`,
// `cli`) for the few that need more.
pub use client::Client;
pub use web::server::{ServeError, ServeOptions, Server};
pub use wxemu_core::{self as core, Emulator};
pub use wxemu_core::{Account, ClientState, Config, PlatformMode, WebsiteApp};
pub use wxemu_core::{ApprovalEvent, ApprovalMode, AuthorizeRequest, Decision, Outcome, Position};
pub use wxemu_core::{Event, Subscription};
pub use wxemu_core::{QrStatus, QrSummary, QrTarget};
pub use wxemu_core::{CANONICAL_HOST, DEFAULT_PORT, KNOWN_PORTS};
