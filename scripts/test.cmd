@echo off
rem Windows twin of scripts/test: formatting, lints and the Rust suites (headless
rem crates, desktop unit and IPC tests). The Xvfb and Debian-chromium end-to-end
rem suites, the .deb and the container image run on Linux (CI).
setlocal
cd /d "%~dp0.."
where cargo >nul 2>nul || (
  echo error: Rust is needed: install it with "winget install Rustlang.Rustup" or from https://rustup.rs, then run this again.
  exit /b 1
)
echo ==^> Formatting and lints (cargo fmt --check; cargo clippy -D warnings on every crate, the desktop app included)
cargo fmt --all -- --check || exit /b 1
cargo clippy --workspace --all-targets --locked -- -D warnings || exit /b 1
echo ==^> Rust tests (cargo test: the headless crates): real TLS against a real listener
cargo test --all-targets --locked || exit /b 1
echo ==^> Desktop app (src-tauri): unit tests and IPC command tests
cargo test -p wxemu-desktop --all-targets --locked || exit /b 1
echo ==^> All test suites that run on Windows passed
