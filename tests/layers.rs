//! The floors import only downward (ARCHITECTURE.md): the core knows no
//! HTTP, command-line or GUI library, and the library under the shells
//! knows no command-line or GUI library. (The library cannot import the
//! `wxemu` binary's modules at all: they are another crate.)

use std::process::Command;

/// Crates the core floor must never depend on, directly or not.
const NOT_IN_CORE: &[&str] = &["axum", "hyper", "hyper-util", "tower", "clap", "tauri"];

#[test]
fn the_core_depends_on_no_http_cli_or_gui_crate() {
    let offenders = dependencies_among(&["-p", "wxemu-core"], NOT_IN_CORE);
    assert!(offenders.is_empty(), "wxemu-core depends on {offenders:?}");
}

/// The command line lives in the `wxemu` binary (src/bin/wxemu/) behind the
/// default feature `cli`: the library the desktop app links, built as the
/// desktop builds it, pulls in neither clap nor any GUI crate.
#[test]
fn the_library_the_desktop_links_has_no_cli_or_gui_crate() {
    let offenders = dependencies_among(
        &["-p", "wxemu", "--no-default-features"],
        &["clap", "tauri"],
    );
    assert!(
        offenders.is_empty(),
        "the wxemu library depends on {offenders:?}"
    );
}

/// Which of `forbidden` the package selected by `select` depends on,
/// directly or not (normal dependencies: what its library links).
fn dependencies_among(select: &[&str], forbidden: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .arg("tree")
        .args(select)
        .args(["-e", "normal", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.lines().count() > 10, "unexpected output: {tree}");
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| forbidden.contains(name))
        .map(str::to_owned)
        .collect()
}
