//! What a running server tells the tools that start it (`<data dir>/serve.json`,
//! and `serve --ready-file PATH`): every bound port, both CA paths, the control
//! token's file, pid and version. Written atomically once every listener is
//! bound, so a reader that sees the file can connect at once; test runners
//! (the npm and Python packages, `wxemu exec`) start wxemu on port 0 and read
//! the ports from here.
//!
//! `wxemu ctl` reads the same file as [`crate::web::surfaces::control::ServeInfo`]
//! (`port`, `pid`, `version`): the extra fields are ignored there.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The ready file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    pub version: String,
    pub pid: u32,
    /// The HTTPS port (fast login, login page, token API, control API).
    pub port: u16,
    /// `https://localhost.weixin.qq.com:<port>`.
    pub url: String,
    /// Every listener's port: `https`, and `http_api`, `proxy`, `intercept`
    /// when they run (null otherwise).
    pub ports: Ports,
    /// The interception proxy (`http://127.0.0.1:<p>`), if it runs.
    pub proxy: Option<String>,
    /// Its PAC file, if the proxy runs.
    pub pac_url: Option<String>,
    pub data_dir: PathBuf,
    /// The fast-login CA's certificate (PEM).
    pub ca: PathBuf,
    /// The interception CA's certificate, when interception runs.
    pub intercept_ca: Option<PathBuf>,
    /// The file holding the control API's bearer token.
    pub token_file: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    pub https: u16,
    pub http_api: Option<u16>,
    pub proxy: Option<u16>,
    pub intercept: Option<u16>,
}

impl Ready {
    /// Writes it to `path` atomically (temp file, fsync, rename): a reader
    /// never sees half a file.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        text.push(b'\n');
        wxemu_core::write_atomic(path, &text, 0o644)
    }

    /// Removes `path` if it still describes this process (another server may
    /// have written it since).
    pub fn remove_if_ours(&self, path: &Path) {
        let ours = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Ready>(&b).ok())
            .is_some_and(|r| r.pid == self.pid && r.port == self.port);
        if ours {
            let _ = std::fs::remove_file(path);
        }
    }
}
