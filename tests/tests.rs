//! Every integration test of the `wxemu` crate, in one test binary (ripgrep's
//! layout; Cargo.toml has `autotests = false` and one `[[test]]`). Each file
//! next to this one is a module here: the whole stack is linked once, not
//! once per file, which is most of what a test build costs in time and disk.
//!
//! A new test file: `tests/NAME.rs` and a `mod NAME;` line below. One file's
//! tests: `cargo test --test integration NAME::`.

// Shared by the modules: a real server and TLS client (`common`), outside
// programs and loopback TLS ends (`tools`).
mod common;
mod tools;

mod cli;
mod control;
mod control_openapi;
mod ctl;
mod demo;
mod doctor;
mod events;
mod fastlogin;
mod fault_wire;
mod hostile;
mod hosts;
mod http_api;
mod intercept;
mod intercept_hosts;
mod intercept_sdk;
mod jssdk;
mod layers;
mod malformed;
mod oauth2;
mod openplatform;
mod properties;
mod protection;
mod proxy;
mod runner;
mod token;
mod trust;
mod trust_os;
mod webwx;
