//! Every integration test of `wxemu-certs`, in one test binary (ripgrep's
//! layout; Cargo.toml has `autotests = false` and one `[[test]]`). A new
//! test file: `tests/NAME.rs` and a `mod NAME;` line below.

// A fresh data directory, webpki verification and certificate readers.
mod common;

mod certs;
mod intercept;
