//! Every integration test of the desktop app, in one test binary (ripgrep's
//! layout; Cargo.toml has `autotests = false` and one `[[test]]`). A new
//! test file: `tests/NAME.rs` and a `mod NAME;` line below.

mod commands;
mod intercept_trust;

/// This test binary run again for one `#[ignore]`d test, `test` in the
/// module `module` (pass `module_path!()`), for a test that needs a
/// process of its own: one to kill, or its own environment.
fn rerun_alone(module: &str, test: &str) -> std::process::Command {
    // Test names in this binary are module paths without the crate's name.
    let (_, module) = module.split_once("::").expect("a module of this crate");
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", &format!("{module}::{test}")])
        .args(["--ignored", "--nocapture"]);
    command
}
