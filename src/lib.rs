//! wxemu: a fake WeChat desktop client for testing "Log in with WeChat".
//!
//! Since WeChat 3.9.11 (Windows) / 4.0 (macOS) a website's WeChat login page
//! first asks the desktop client, over HTTPS on `localhost.weixin.qq.com`
//! (public DNS: 127.0.0.1) port 14013, whether someone is logged in, and lets
//! them confirm the login in a native window instead of scanning a QR code.
//! This crate is that client, minus WeChat, usable headless (`wxemu serve`)
//! or embedded in the desktop app (`src-tauri/`).
//!
//! # Layout
//! One module per concern; see `ARCHITECTURE.md` for the picture.
//! - [`cli`]: the `wxemu` command line (the binary only calls it).
//! - [`server`]: loopback listener, TLS, HTTP/1.1 + HTTP/2, clean shutdown.
//! - [`tls`]: the rustls config built from the [`wxemu_certs`] material.
//! - [`http`]: the router; [`http::guard`] checks Host, Origin and CORS.
//! - [`fastlogin`]: `POST /api/check-login` and `POST /api/authorize`.
//! - [`openplatform`]: the Open Platform's login page, QR codes, long poll
//!   and token API.
//! - [`approval`]: where an authorize waits for a decision, and the sources
//!   that make one; [`prompt`] is the terminal's.
//! - [`emulator`]: the shared state of one running wxemu.
//! - [`state`]: expiring maps of issued uuids and codes.
//! - [`clock`]: the injectable "now" behind every expiry.
//! - [`config`]: the TOML config (accounts, apps, origins, timeouts).
//! - [`avatar`]: the avatars wxemu draws itself, for offline demos.
//! - [`fsutil`]: atomic file writes.
//! - QA layer: [`control`] (the `/__wxemu/` control API), [`journal`]
//!   (every request, secrets masked), [`faults`] (injected misbehaviour),
//!   [`endpoint`] (path -> endpoint, their shared key), [`scenario`]
//!   (`serve --scenario`), [`ctl`] (the `wxemu ctl` client).
//! - [`hosts`]: the hosts-file line for offline use.
//! - [`doctor`]: `wxemu doctor`'s checks.
//! - [`setup`]: the `trust`, `hosts` and `doctor` commands.

pub mod approval;
pub mod avatar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod control;
pub mod ctl;
pub mod doctor;
pub mod emulator;
pub mod endpoint;
pub mod fastlogin;
pub mod faults;
pub mod fsutil;
pub mod hosts;
pub mod http;
pub mod journal;
pub mod openplatform;
pub mod prompt;
pub mod scenario;
pub mod server;
pub mod setup;
pub mod state;
pub mod tls;

pub use emulator::Emulator;
pub use server::{ServeOptions, Server};
