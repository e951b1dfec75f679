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
//! - [`wxemu_core`] (its own crate, re-exported as [`core`]): the domain, no
//!   HTTP. [`Emulator`] is one running wxemu; every caller speaks to it
//!   through methods.
//! - `web/` (private): the listener, TLS, the router built from one
//!   endpoint registry, guards, one module per wire surface, the journal
//!   and fault layers. It only translates between the wire and the core.
//!   Its folders: `transport/` (TLS, connections, bodies, the ready file),
//!   `front/` (the one pass every request takes, and `wire.rs`: each
//!   route's error format), `surfaces/` (fast login, the Open Platform, Web
//!   WeChat, H5, the control API, the demo), `intercept/` (the proxy and
//!   WeChat's real host names); `registry.rs` lists every endpoint once.
//! - the shells: the `wxemu` binary (`src/bin/wxemu/`: clap, each command's
//!   output; behind the default feature `cli`) and the desktop app
//!   (`src-tauri/`, which links this library without that feature). Neither
//!   holds protocol logic: what they run lives here.
//!
//! # The surface
//! Every module but four is private; the `pub use` list below is what
//! shells, tests and embedders use. Start with [`Server::bind`].
//! - the server: [`Server`], [`ServeOptions`], [`ServeError`], [`Ready`];
//!   in process, without a socket: [`Front`];
//! - [`registry`]: every endpoint (host family, path, methods), for callers
//!   that must name a route;
//! - [`control`]: the control API's request types and token, and
//!   [`Control`](control::Control), its typed client for a running server;
//! - [`intercept`]: the interception proxy and its options;
//! - [`h5`]: what a WeChat webview injects into a page (the desktop's
//!   WeChat window uses it);
//! - the data directory and trust: [`default_data_dir`],
//!   [`intercept_ca_trust`];
//! - the core's most used names ([`Emulator`], decisions, events, the
//!   config model), and the whole core as [`core`].
//!
//! Four tools keep their own module, each documented there: [`client`]
//! (the one local HTTPS client: ctl, doctor, tests, benchmarks, the example
//! site), [`doctor`] (why the login page falls back to the QR code),
//! [`hosts`] (the hosts-file line) and [`site`] (a website's side of "Log
//! in with WeChat", shared by the demo and `examples/site.rs`).

pub mod client;
mod control_client;
pub mod doctor;
pub mod hosts;
mod paths;
pub mod site;
mod trust_report;
mod web;

pub use paths::default_data_dir;
pub use trust_report::intercept_ca_trust;
pub use web::front::{Front, Listener};
pub use web::registry;
pub use web::server::{ServeError, ServeOptions, Server};
pub use web::transport::connections::PARK_AFTER;
pub use web::transport::ready::Ready;
pub use web::transport::tls::server_config;

/// The control API (`/__wxemu/...`): its request types, the bearer token's
/// file, the running server's `serve.json`, and a typed client.
pub mod control {
    pub use crate::control_client::{Control, ControlError, CALL_TIMEOUT};
    pub use crate::web::surfaces::control::{
        ensure_token, serve_info_path, token_path, Advance, ClientChange, JournalQuery, ListQuery,
        PolicyChange, Resolution, Scan, ServeInfo, PREFIX,
    };
}

/// Interception: answering as WeChat's real hosts (a proxy, or hosts mode).
pub mod intercept {
    pub use crate::web::intercept::proxy::{
        InterceptHandler, Intercepted, InterceptedHosts, Proxy, ProxyOptions, DEFAULT_PROXY_PORT,
        PAC_CONTENT_TYPE, PAC_PATH,
    };
    pub use crate::web::intercept::InterceptOptions;
}

/// Pages inside WeChat: the bridge a WeChat webview injects, and its user
/// agent.
pub mod h5 {
    pub use crate::web::surfaces::h5::bridge::{script_text, IOS_UA};
    pub use crate::web::surfaces::openplatform::page::script_safe_json;
}

/// The demo site's app (`/demo/`).
pub use web::surfaces::demo::APPID as DEMO_APPID;

pub use client::Client;
pub use wxemu_core::{self as core, Emulator};
pub use wxemu_core::{Account, ClientState, Config, PlatformMode, WebsiteApp};
pub use wxemu_core::{ApprovalEvent, ApprovalMode, AuthorizeRequest, Decision, Outcome, Position};
pub use wxemu_core::{Event, Subscription};
pub use wxemu_core::{QrStatus, QrSummary, QrTarget};
pub use wxemu_core::{CANONICAL_HOST, DEFAULT_PORT, KNOWN_PORTS};
