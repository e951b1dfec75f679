//! The floors import only downward (ARCHITECTURE.md): the core knows no
//! HTTP, command-line or GUI library, and the web floor knows no shell.

use std::path::Path;
use std::process::Command;

/// Crates the core floor must never depend on, directly or not.
const NOT_IN_CORE: &[&str] = &["axum", "hyper", "hyper-util", "tower", "clap", "tauri"];

#[test]
fn the_core_depends_on_no_http_cli_or_gui_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "wxemu-core",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("wxemu-core"), "unexpected output: {tree}");
    let offenders: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| NOT_IN_CORE.contains(name))
        .collect();
    assert!(
        offenders.is_empty(),
        "wxemu-core depends on {offenders:?}:\n{tree}"
    );
}

#[test]
fn the_web_floor_does_not_import_the_shells() {
    let mut offenders = Vec::new();
    visit(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"),
        &mut |path, text| {
            if text.contains("crate::cli") {
                offenders.push(path.display().to_string());
            }
        },
    );
    assert!(offenders.is_empty(), "web imports cli in {offenders:?}");
}

fn visit(dir: &Path, check: &mut dyn FnMut(&Path, &str)) {
    for entry in std::fs::read_dir(dir).expect("src/web exists") {
        let path = entry.expect("readable").path();
        if path.is_dir() {
            visit(&path, check);
        } else if path.extension().is_some_and(|e| e == "rs") {
            check(
                &path,
                &std::fs::read_to_string(&path).expect("utf-8 source"),
            );
        }
    }
}
