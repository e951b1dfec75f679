//! Where a running wxemu listens, as the server bound it: for the control API's
//! `GET /__wxemu/intercept` and the dashboard. Plain data; the web floor fills it
//! in once at start ([`crate::emulator::Emulator::with_listening`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// The listeners of one `serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    /// The address every listener is bound to (`--bind`; 127.0.0.1 by default).
    pub bind: IpAddr,
    /// Interception, when `--proxy-port` or `--intercept-port` turned it on.
    pub intercept: Option<Interception>,
    /// The login page probes only this server's own port for fast login
    /// (`serve --only-own-port`), not every port the real page tries.
    pub own_port_only: bool,
}

impl Default for Listening {
    fn default() -> Self {
        Listening {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            intercept: None,
            own_port_only: false,
        }
    }
}

/// Interception as it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interception {
    /// The hosts answered as the real ones (normalized).
    pub hosts: Vec<String>,
    /// The proxy (`--proxy-port`), if it runs.
    pub proxy: Option<SocketAddr>,
    /// Whether the proxy refuses hosts off this machine (`--proxy-offline`).
    pub proxy_offline: bool,
    /// Hosts mode (`--intercept-port`), if it runs.
    pub hosts_mode: Option<SocketAddr>,
    /// The interception CA's certificate (PEM).
    pub ca_path: PathBuf,
    /// Its SHA-256 fingerprint, lowercase hex.
    pub ca_sha256: String,
}
