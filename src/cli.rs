//! The `wxemu` command line: argument parsing and the commands' output.
//! The binary's `main` only calls [`main`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::approval::ApprovalMode;
use crate::emulator::{CANONICAL_HOST, DEFAULT_PORT, KNOWN_PORTS};
use crate::server::{ServeOptions, Server};

#[derive(Debug, Parser)]
#[command(
    name = "wxemu",
    version,
    about = "A fake WeChat desktop client for testing \"Log in with WeChat\" offline"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the fast-login HTTPS server the WeChat login page talks to.
    Serve(ServeArgs),
    /// The local certificate authority that signs wxemu's certificate.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Drive a running wxemu from scripts: decisions, QR scans, faults,
    /// clock, journal (the control API, see docs/control-api.md).
    Ctl(crate::ctl::CtlArgs),
}

#[derive(Debug, Subcommand)]
enum CaCommand {
    /// Print the CA certificate's path (creating the CA if needed).
    Path(DataDirArg),
}

#[derive(Debug, Args)]
struct DataDirArg {
    /// Where the CA, keys and config live [default: the OS's per-user data directory].
    #[arg(long, env = "WXEMU_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl DataDirArg {
    fn resolve(&self) -> Result<PathBuf, String> {
        match &self.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => default_data_dir().ok_or_else(|| {
                "cannot find a home directory for the data directory; pass --data-dir or set WXEMU_DATA_DIR".to_owned()
            }),
        }
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Port on 127.0.0.1. The real login page tries 14013, 14014, 14015, 13013, 13014, 13015.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    #[command(flatten)]
    data_dir: DataDirArg,
    /// Config file [default: <data dir>/config.toml].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How login requests are answered [default: ask on a terminal, auto otherwise].
    #[arg(long, value_enum)]
    approve: Option<ApprovalMode>,
    /// How long a login request waits for an answer before it fails with 10046
    /// (e.g. 60s, 2m) [default: the config's decision_timeout, 60s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    decision_timeout: Option<Duration>,
    /// A scenario file (TOML): accounts, apps, policy, queued decisions and
    /// faults for a reproducible run (see docs/control-api.md).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
}

/// The per-OS data directory: `~/.local/share/wxemu` on Linux,
/// `~/Library/Application Support/wxemu` on macOS, `%APPDATA%\wxemu\data` on Windows.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "wxemu").map(|dirs| dirs.data_dir().to_owned())
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wxemu: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("wxemu: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("wxemu=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Ctl(args) => {
            let data_dir = DataDirArg {
                data_dir: args.data_dir.clone(),
            }
            .resolve()?;
            if crate::ctl::run(args, data_dir).await? {
                Ok(())
            } else {
                Err("journal wait timed out".into())
            }
        }
        Command::Ca {
            command: CaCommand::Path(dir),
        } => {
            let path = wxemu_certs::ensure_ca(&dir.resolve()?).map_err(|e| e.to_string())?;
            println!("{}", path.display());
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let data_dir = args.data_dir.resolve()?;
    let config_path = args
        .config
        .clone()
        .unwrap_or_else(|| crate::config::default_path(&data_dir));
    let scenario = args
        .scenario
        .as_deref()
        .map(crate::scenario::Scenario::load)
        .transpose()
        .map_err(|e| e.to_string())?;
    let interactive = std::io::stdin().is_terminal();
    // An explicit --approve wins over the scenario's policy.
    let approval = args
        .approve
        .or(scenario.as_ref().and_then(|s| s.policy))
        .unwrap_or(if interactive {
            ApprovalMode::Ask
        } else {
            ApprovalMode::Auto
        });
    let scenario = scenario.map(|mut s| {
        s.policy = Some(approval);
        s
    });
    let server = Server::bind(ServeOptions {
        port: args.port,
        config_path: config_path.clone(),
        approval,
        decision_timeout: args.decision_timeout,
        scenario,
        ..ServeOptions::new(data_dir.clone())
    })
    .await
    .map_err(|e| match (e, &args.scenario) {
        (crate::server::ServeError::Scenario(message), Some(path)) => {
            format!(
                "the scenario file {} is not valid: {message}",
                path.display()
            )
        }
        (e, _) => e.to_string(),
    })?;

    let addr = server.local_addr();
    let certs = server.certs();
    println!(
        "wxemu {}: fake WeChat desktop client",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "  listening  https://{CANONICAL_HOST}:{}  ({addr})",
        addr.port()
    );
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
            ApprovalMode::Auto => ": every login request is allowed",
            ApprovalMode::Deny => ": every login request is denied",
            ApprovalMode::Never => ": login requests run into the decision deadline",
        }
    );
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
        crate::control::token_path(&data_dir).display()
    );
    println!("Press Ctrl-C to stop.");

    if approval == ApprovalMode::Ask {
        tokio::spawn(crate::prompt::run(server.emulator().approvals.clone()));
    }
    server.run(shutdown_signal()).await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on unix (what CI runners and `kill` send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
