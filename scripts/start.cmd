@echo off
rem Windows twin of scripts/start: builds and starts the desktop app (WebView2).
rem Usage: scripts\start [options of wxemu-desktop]   or   scripts\start --headless [options of wxemu serve]
setlocal
cd /d "%~dp0.."
where cargo >nul 2>nul || (
  echo error: Rust is needed: install it with "winget install Rustlang.Rustup" or from https://rustup.rs, then run this again.
  exit /b 1
)
if "%~1"=="--headless" (
  shift
  echo ==^> Building wxemu, the headless server ^(release^)
  cargo build --release --locked --bin wxemu || exit /b 1
  echo ==^> Starting wxemu serve
  target\release\wxemu.exe serve %1 %2 %3 %4 %5 %6 %7 %8 %9
  exit /b
)
echo ==^> Building the desktop app wxemu-desktop (release; the first build takes several minutes)
cargo build --release --locked -p wxemu-desktop || exit /b 1
echo ==^> Starting wxemu-desktop (it lives in the tray; a second launch opens the dashboard)
target\release\wxemu-desktop.exe %*
