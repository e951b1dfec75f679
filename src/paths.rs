//! Where wxemu keeps its files by default.

use std::path::PathBuf;

/// The per-OS data directory: `~/.local/share/wxemu` on Linux,
/// `~/Library/Application Support/wxemu` on macOS, `%APPDATA%\wxemu\data` on
/// Windows. `serve`, `ctl` and the desktop app all start from it.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "wxemu").map(|dirs| dirs.data_dir().to_owned())
}
