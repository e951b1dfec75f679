@echo off
rem Windows twin of scripts/test: the Rust suites (headless crates, desktop unit
rem and IPC tests). The Xvfb and Debian-chromium end-to-end suites run on Linux (CI).
setlocal
cd /d "%~dp0.."
where cargo >nul 2>nul || (
  echo error: Rust is needed: install it with "winget install Rustlang.Rustup" or from https://rustup.rs, then run this again.
  exit /b 1
)
echo ==^> Rust tests (cargo test: the headless crates): real TLS against a real listener
cargo test --all-targets --locked || exit /b 1
echo ==^> Desktop app (src-tauri): unit tests and IPC command tests
cargo test -p wxemu-desktop --all-targets --locked || exit /b 1
echo ==^> All test suites that run on Windows passed
