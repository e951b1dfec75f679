//! `wxemu serve`: bind the listeners, print the banner, answer until a
//! signal. `wxemu exec` starts its private server through [`start`] too.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use wxemu::intercept::PAC_PATH;
use wxemu::registry;
use wxemu::{ServeOptions, Server};
use wxemu_core::ApprovalMode;
use wxemu_core::{CANONICAL_HOST, DEFAULT_PORT, KNOWN_PORTS};

use crate::args::{named, DataDirArg};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one). The real login page tries 14013,
    /// 14014, 14015, 13013, 13014, 13015 [default: 14013; `exec`: 0].
    #[arg(long)]
    pub(crate) port: Option<u16>,
    #[command(flatten)]
    pub(crate) data_dir: DataDirArg,
    /// Config file [default: <data dir>/config.toml].
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// How login requests are answered [default: ask on a terminal, auto otherwise].
    #[arg(long, value_parser = named::<ApprovalMode>())]
    pub(crate) approve: Option<ApprovalMode>,
    /// How long a login request waits for an answer before it fails with 10046
    /// (e.g. 60s, 2m) [default: the config's decision_timeout, 60s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub(crate) decision_timeout: Option<Duration>,
    /// A scenario file (TOML): accounts, apps, policy, queued decisions and
    /// faults for a reproducible run (see docs/control-api.md).
    #[arg(long, value_name = "FILE")]
    pub(crate) scenario: Option<PathBuf>,
    /// Also serve the token API (/sns/...) over plain HTTP on 127.0.0.1:PORT, for
    /// backends that cannot trust the CA (off by default; see docs/trust.md).
    #[arg(long, value_name = "PORT")]
    pub(crate) http_api_port: Option<u16>,
    /// Interception: also run an HTTP proxy on 127.0.0.1:PORT that answers as the
    /// real WeChat hosts ([intercept] hosts) and tunnels everything else (see
    /// docs/interception.md; PAC at http://127.0.0.1:PORT/proxy.pac).
    #[arg(long, value_name = "PORT")]
    pub(crate) proxy_port: Option<u16>,
    /// With --proxy-port: refuse every non-intercepted host off this machine
    /// (loopback is still tunnelled) instead of tunnelling it.
    #[arg(long, requires = "proxy_port")]
    pub(crate) proxy_offline: bool,
    /// Interception, hosts mode: serve the intercepted names directly on
    /// 127.0.0.1:PORT (443 in practice), for machines where they are mapped to
    /// 127.0.0.1 (`wxemu hosts add --intercept`, docker extra_hosts).
    #[arg(long, value_name = "PORT")]
    pub(crate) intercept_port: Option<u16>,
    /// The address every listener binds [default: 127.0.0.1]. Anything else
    /// only when given here, e.g. 0.0.0.0 in a docker-compose CI where other
    /// containers reach wxemu through extra_hosts (docs/interception.md); the
    /// banner then warns.
    #[arg(long, value_name = "ADDR")]
    pub(crate) bind: Option<std::net::IpAddr>,
    /// Once every listener is bound, write this JSON file (atomically): every
    /// port, both CA paths, the control token's file, pid and version (the same
    /// as <data dir>/serve.json). Removed on a clean shutdown.
    #[arg(long, value_name = "PATH")]
    pub(crate) ready_file: Option<PathBuf>,
    /// The login page probes only this server's port for fast login (not 14013
    /// and the other ports the real page tries), so another wxemu or a desktop
    /// app there never answers this server's pages.
    #[arg(long)]
    pub(crate) only_own_port: bool,
}

/// A bound server and what the banner says about how it was started.
pub(crate) struct Started {
    pub server: Server,
    pub approval: ApprovalMode,
    pub config_path: PathBuf,
}

/// Binds the server `args` describe; `default_port` and `default_approval`
/// are the command's own defaults (`serve` and `exec` differ).
pub(crate) async fn start(
    args: &ServeArgs,
    default_port: u16,
    default_approval: ApprovalMode,
) -> Result<Started, String> {
    let data_dir = args.data_dir.resolve()?;
    check_writable(&data_dir)?;
    if let Some(path) = &args.ready_file {
        // Said now: the server only writes it once it serves.
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) {
            return Err(format!(
                "--ready-file {}: its directory does not exist",
                path.display()
            ));
        }
    }
    let config_path = args
        .config
        .clone()
        .unwrap_or_else(|| wxemu_core::default_path(&data_dir));
    let scenario = args
        .scenario
        .as_deref()
        .map(wxemu_core::Scenario::load)
        .transpose()
        .map_err(|e| e.to_string())?;
    // An explicit --approve wins over the scenario's policy.
    let approval = args
        .approve
        .or(scenario.as_ref().and_then(|s| s.policy))
        .unwrap_or(default_approval);
    let scenario = scenario.map(|mut s| {
        s.policy = Some(approval);
        s
    });
    let server = Server::bind(ServeOptions {
        port: args.port.unwrap_or(default_port),
        config_path: config_path.clone(),
        approval,
        decision_timeout: args.decision_timeout,
        scenario,
        http_api_port: args.http_api_port,
        intercept: wxemu::intercept::InterceptOptions {
            proxy_port: args.proxy_port,
            proxy_offline: args.proxy_offline,
            intercept_port: args.intercept_port,
        },
        bind: args
            .bind
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        own_port_only: args.only_own_port,
        ready_file: args.ready_file.clone(),
        ..ServeOptions::new(data_dir)
    })
    .await
    .map_err(|e| match (e, &args.scenario) {
        (wxemu::ServeError::Scenario(message), Some(path)) => {
            format!(
                "the scenario file {} is not valid: {message}",
                path.display()
            )
        }
        (e, _) => e.to_string(),
    })?;
    Ok(Started {
        server,
        approval,
        config_path,
    })
}

pub(crate) async fn serve(args: ServeArgs) -> Result<(), String> {
    let interactive = std::io::stdin().is_terminal();
    let default_approval = if interactive {
        ApprovalMode::Ask
    } else {
        ApprovalMode::Auto
    };
    let shutdown = shutdown_signal()?;
    let Started {
        server,
        approval,
        config_path,
    } = start(&args, DEFAULT_PORT, default_approval).await?;
    let data_dir = server.data_dir().to_owned();
    let addr = server.local_addr();
    let certs = server.certs();
    let http_api = server.http_api_addr();
    println!(
        "wxemu {}: fake WeChat desktop client",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "  listening  https://{CANONICAL_HOST}:{}  ({addr})",
        addr.port()
    );
    if let Some(warning) = bind_warning(addr.ip()) {
        println!("  warning    {warning}");
    }
    println!(
        "  CA         {}{}",
        certs.ca_cert_path.display(),
        if certs.created_ca {
            "  (new: trust it once, see the README)"
        } else {
            ""
        }
    );
    println!(
        "  approve    {}{}",
        approval.as_str(),
        match approval {
            ApprovalMode::Ask => ": answer each login request in this terminal",
            ApprovalMode::Auto => ": every login is allowed, QR codes are scanned and confirmed",
            ApprovalMode::Deny => ": every login is denied, QR codes are scanned and cancelled",
            ApprovalMode::Never => ": login requests run into the decision deadline",
        }
    );
    let platform = match server.emulator().config().platform.mode {
        wxemu_core::PlatformMode::Permissive => {
            "permissive: unknown appids are registered on first use"
        }
        wxemu_core::PlatformMode::Strict => "strict: only the config's [[apps]]",
    };
    println!(
        "  login page https://{CANONICAL_HOST}:{}{}?appid=APPID&redirect_uri=URI&response_type=code&scope=snsapi_login",
        addr.port(),
        registry::LOGIN_PAGE.path
    );
    println!(
        "  token API  https://{CANONICAL_HOST}:{}{} ...",
        addr.port(),
        registry::ACCESS_TOKEN.path
    );
    println!("  platform   {platform}");
    println!(
        "  config     {}{}",
        config_path.display(),
        if config_path.exists() {
            ""
        } else {
            "  (absent: built-in defaults)"
        }
    );
    if !KNOWN_PORTS.contains(&addr.port()) {
        println!(
            "  note       the real login page only tries ports {}; only clients you point at port {} will find this server",
            KNOWN_PORTS.map(|p| p.to_string()).join(", "),
            addr.port()
        );
    }
    if let Some(path) = &args.scenario {
        println!("  scenario   {}", path.display());
    }
    println!(
        "  control    https://{CANONICAL_HOST}:{}/__wxemu/  (token: wxemu ctl token, file {})",
        addr.port(),
        wxemu::control::token_path(&data_dir).display()
    );
    if let Some(api) = http_api {
        println!("  http api   http://{api}/sns/...  (plain HTTP, token API only)");
    }
    if let Some(intercept) = server.interception() {
        let hosts = intercept.hosts().as_slice();
        println!(
            "  intercept  on: {}{}",
            hosts.iter().take(4).cloned().collect::<Vec<_>>().join(", "),
            match hosts.len() {
                0..=4 => String::new(),
                n => format!(" and {} more (GET /__wxemu/intercept)", n - 4),
            }
        );
        use wxemu_certs::Verdict;
        let ca_path = intercept.ca().cert_path().to_owned();
        // Asking every store takes tens of milliseconds; a test runner waiting
        // for --ready-file trusts the CA its own way and should not wait.
        let trust = if args.ready_file.is_some() {
            None
        } else {
            Some(
                tokio::task::spawn_blocking(move || wxemu::intercept_ca_trust(ca_path).0)
                    .await
                    .unwrap_or(Verdict::Unknown),
            )
        };
        println!(
            "  intercept  CA {}: {}",
            intercept.ca().cert_path().display(),
            match trust {
                None => "trust not checked (--ready-file)",
                Some(Verdict::Trusted) => "trusted",
                Some(Verdict::Partly) =>
                    "trusted in some stores only: wxemu trust install --intercept",
                Some(Verdict::NotTrusted) =>
                    "NOT trusted: wxemu trust install --intercept (backends: wxemu trust env --intercept)",
                Some(Verdict::Unknown) =>
                    "trust unknown (no trust store could be asked): wxemu doctor",
            }
        );
        if let Some(proxy) = intercept.proxy_addr() {
            println!(
                "  proxy      http://{proxy}  (PAC http://{proxy}{PAC_PATH}; other hosts {})",
                if intercept.proxy_offline() {
                    "refused: offline, loopback tunnelled"
                } else {
                    "tunnelled"
                }
            );
        }
        if let Some(direct) = intercept.direct_addr() {
            println!(
                "  hosts mode https://{}:{}  ({direct}; map the names to 127.0.0.1: wxemu hosts add --intercept)",
                intercept.hosts().as_slice().first().map_or("", String::as_str),
                direct.port()
            );
        }
    }
    if server.interception().is_none() {
        println!(
            "  intercept  off (--proxy-port or --intercept-port answer as the real WeChat hosts)"
        );
    }
    println!("Press Ctrl-C to stop.");

    if approval == ApprovalMode::Ask {
        tokio::spawn(crate::prompt::run(server.emulator()));
    }
    server.run(shutdown).await;
    Ok(())
}

/// Refuses, naming the directory, a data directory that exists but cannot be
/// written (a container volume owned by another user, a read-only mount):
/// the CA, keys, config and control token live there, and failing on the
/// first of them would name a file instead. A missing one is left to the
/// server, which creates it 0700.
fn check_writable(dir: &std::path::Path) -> Result<(), String> {
    if !dir.is_dir() {
        return Ok(());
    }
    tempfile::tempfile_in(dir).map(drop).map_err(|e| {
        format!(
            "the data directory {} is not writable: {e} (serve keeps its CA, keys, config and \
             control token there: make it writable for this user, or pass another --data-dir \
             or WXEMU_DATA_DIR)",
            dir.display()
        )
    })
}

/// The banner's warning for a listener off 127.0.0.1 (only ever there by an
/// explicit `--bind`): None for the default.
fn bind_warning(ip: std::net::IpAddr) -> Option<String> {
    if ip == std::net::Ipv4Addr::LOCALHOST || ip == std::net::Ipv6Addr::LOCALHOST {
        return None;
    }
    Some(if ip.is_loopback() {
        format!(
            "bound to {ip} (--bind), not 127.0.0.1: the real login page, `wxemu ctl` and \
             `wxemu doctor` look for wxemu on 127.0.0.1, so map the names to {ip} yourself"
        )
    } else {
        format!(
            "bound to {ip} (--bind), NOT loopback only: anything that can reach this address \
             can log in as your test accounts, call the token API and use the proxy's tunnels; \
             only on a private CI network"
        )
    })
}

/// Ctrl-C, or SIGTERM on unix (what CI runners and `kill` send). The
/// handlers are installed when this is called, before the server says it is
/// listening, so a signal sent right after that line is never missed.
pub(crate) fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    let cannot = |e: std::io::Error| format!("cannot install the signal handler: {e}");
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt()).map_err(cannot)?;
        let mut terminate = signal(SignalKind::terminate()).map_err(cannot)?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(windows)]
    {
        let mut ctrl_c = tokio::signal::windows::ctrl_c().map_err(cannot)?;
        Ok(async move {
            ctrl_c.recv().await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::bind_warning;

    #[test]
    fn only_an_explicit_address_off_127_0_0_1_warns() {
        assert_eq!(bind_warning("127.0.0.1".parse().unwrap()), None);
        assert_eq!(bind_warning("::1".parse().unwrap()), None);
        let loopback = bind_warning("127.0.0.2".parse().unwrap()).expect("warns");
        assert!(loopback.contains("not 127.0.0.1"), "{loopback}");
        for open in ["0.0.0.0", "::", "192.168.1.5"] {
            let warning = bind_warning(open.parse().unwrap()).expect("warns");
            assert!(warning.contains("NOT loopback only"), "{warning}");
        }
    }
}
