//! Every integration test of the desktop app, in one test binary (ripgrep's
//! layout; Cargo.toml has `autotests = false` and one `[[test]]`). A new
//! test file: `tests/NAME.rs` and a `mod NAME;` line below.

mod commands;
mod intercept_trust;
