//! The `wxemu` command line: the parser and the dispatch to each command's
//! module (serve.rs, exec.rs, ctl.rs, setup.rs).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::args::DataDirArg;

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
    Serve(crate::serve::ServeArgs),
    /// Run a command against a private wxemu: serve on free ports (own temp
    /// data dir, interception proxy on), run CMD with WXEMU_URL, WXEMU_PORT,
    /// WXEMU_CA, WXEMU_INTERCEPT_CA, WXEMU_PROXY, WXEMU_PAC_URL, WXEMU_TOKEN and
    /// WXEMU_DATA_DIR set, stop, and exit with CMD's status.
    Exec(crate::exec::ExecArgs),
    /// The local certificate authority that signs wxemu's certificate.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Drive a running wxemu from scripts: decisions, QR scans, faults,
    /// clock, journal (the control API, see docs/control-api.md).
    Ctl(crate::ctl::CtlArgs),
    /// Trust the CA in the system and browser stores (see docs/trust.md).
    Trust {
        #[command(subcommand)]
        command: crate::setup::TrustCommand,
    },
    /// Map localhost.weixin.qq.com to 127.0.0.1 in the hosts file, for offline use.
    Hosts {
        #[command(subcommand)]
        command: crate::setup::HostsCommand,
    },
    /// Explain why the login page would fall back to the QR code.
    Doctor(crate::setup::DoctorArgs),
}

#[derive(Debug, Subcommand)]
enum CaCommand {
    /// Print the CA certificate's path (creating the CA if needed).
    Path {
        #[command(flatten)]
        data_dir: DataDirArg,
        /// The interception CA (for the real WeChat host names) instead of the
        /// fast-login CA.
        #[arg(long)]
        intercept: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // `exec` shares the terminal with CMD: only wxemu's warnings there.
    init_tracing(if matches!(cli.command, Command::Exec(_)) {
        "wxemu=warn"
    } else {
        "wxemu=info"
    });
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
        Ok(code) => code,
        Err(message) => {
            eprintln!("wxemu: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// The command's exit code: CMD's for `exec`, success for the rest.
async fn run(cli: Cli) -> Result<ExitCode, String> {
    let done: Result<(), String> = match cli.command {
        Command::Exec(args) => return crate::exec::run(args).await,
        Command::Serve(args) => crate::serve::serve(args).await,
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
            command:
                CaCommand::Path {
                    data_dir,
                    intercept,
                },
        } => {
            let kind = if intercept {
                wxemu_certs::CaKind::Intercept
            } else {
                wxemu_certs::CaKind::FastLogin
            };
            let path =
                wxemu_certs::ensure_ca_of(&data_dir.resolve()?, kind).map_err(|e| e.to_string())?;
            println!("{}", path.display());
            Ok(())
        }
        Command::Trust { command } => crate::setup::trust(command),
        Command::Hosts { command } => crate::setup::hosts(command),
        Command::Doctor(args) => crate::setup::doctor(args).await,
    };
    done.map(|()| ExitCode::SUCCESS)
}
