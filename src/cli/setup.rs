//! The machine-setup commands: `wxemu trust`, `wxemu hosts`, `wxemu doctor`. Argument
//! definitions and output only; the work is in [`wxemu_certs::trust`], [`crate::cli::hosts`]
//! and [`crate::cli::doctor`].

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use wxemu_certs::trust::{self, env::Shell, CaCert, StoreKind, TrustTargets};

use crate::cli::DataDirArg;

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Install the CA into the system store and every browser store (idempotent).
    Install(TrustArgs),
    /// Remove exactly this CA (by fingerprint) from every store.
    Uninstall {
        #[command(flatten)]
        args: TrustArgs,
        /// Also delete the CA and leaf files (only when every store is clean).
        #[arg(long)]
        purge: bool,
    },
    /// Show, per store, whether the CA is trusted.
    Status(TrustArgs),
    /// Print the environment lines a backend needs to trust wxemu.
    Env {
        #[command(flatten)]
        data_dir: DataDirArg,
        /// Shell syntax [default: from $SHELL].
        #[arg(long, value_parser = parse_shell)]
        shell: Option<Shell>,
    },
}

fn parse_shell(s: &str) -> Result<Shell, String> {
    Shell::parse(s).ok_or_else(|| "expected sh, bash, zsh, fish, powershell or cmd".to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreArg {
    System,
    Nss,
    Macos,
    Windows,
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    #[command(flatten)]
    data_dir: DataDirArg,
    /// Only these stores (repeatable) [default: this OS's stores].
    #[arg(long = "store", value_enum, value_name = "STORE")]
    stores: Vec<StoreArg>,
    /// Use these NSS databases instead of the browsers' own (repeatable).
    #[arg(long = "nss-db", value_name = "DIR")]
    nss_dbs: Vec<PathBuf>,
}

impl TrustArgs {
    fn targets(&self) -> TrustTargets {
        let mut targets = TrustTargets::for_this_os();
        if !self.stores.is_empty() {
            let kinds: Vec<StoreKind> = self
                .stores
                .iter()
                .map(|s| match s {
                    StoreArg::System => StoreKind::System,
                    StoreArg::Nss => StoreKind::Nss,
                    StoreArg::Macos => StoreKind::MacOs,
                    StoreArg::Windows => StoreKind::Windows,
                })
                .collect();
            targets = targets.only(&kinds);
        }
        if !self.nss_dbs.is_empty() {
            targets.nss_dbs = Some(self.nss_dbs.clone());
        }
        targets
    }
}

pub fn trust(command: TrustCommand) -> Result<(), String> {
    if let Some(user) = std::env::var_os("SUDO_USER").filter(|_| trust::is_root()) {
        eprintln!(
            "note: running under sudo, so the data directory and browser databases are root's, not {}'s; \
             run `wxemu trust` without sudo: it uses sudo itself for the system store only",
            user.to_string_lossy()
        );
    }
    match command {
        TrustCommand::Install(args) => {
            let ca = CaCert::ensure(&args.data_dir.resolve()?).map_err(|e| e.to_string())?;
            println!("CA {} ({})", ca.path.display(), ca.tag());
            finish(trust::install(&ca, &args.targets()))
        }
        TrustCommand::Status(args) => {
            let ca = load_existing(&args.data_dir)?;
            println!("CA {} ({})", ca.path.display(), ca.tag());
            let report = trust::status(&ca, &args.targets());
            let untrusted = report
                .stores
                .iter()
                .filter(|s| s.outcome == trust::Outcome::NotTrusted)
                .count();
            finish(report)?;
            if untrusted > 0 {
                return Err(format!(
                    "{untrusted} store(s) do not trust the CA: wxemu trust install"
                ));
            }
            Ok(())
        }
        TrustCommand::Uninstall { args, purge } => {
            let dir = args.data_dir.resolve()?;
            let ca = load_existing(&args.data_dir)?;
            println!("CA {} ({})", ca.path.display(), ca.tag());
            let report = trust::uninstall(&ca, &args.targets());
            print!("{report}");
            if report.any_failed() {
                return Err(
                    "some stores could not be cleaned (see above); the CA files are kept so a later uninstall can find it"
                        .to_owned(),
                );
            }
            if purge {
                for name in [
                    wxemu_certs::CA_CERT_FILE,
                    wxemu_certs::CA_KEY_FILE,
                    wxemu_certs::LEAF_CERT_FILE,
                    wxemu_certs::LEAF_KEY_FILE,
                    trust::env::BUNDLE_FILE,
                ] {
                    let path = dir.join(name);
                    match std::fs::remove_file(&path) {
                        Ok(()) => println!("deleted  {}", path.display()),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(format!("cannot delete {}: {e}", path.display())),
                    }
                }
            } else {
                println!(
                    "The CA files stay in {} (`--purge` deletes them).",
                    dir.display()
                );
            }
            Ok(())
        }
        TrustCommand::Env { data_dir, shell } => {
            let ca = CaCert::ensure(&data_dir.resolve()?).map_err(|e| e.to_string())?;
            let system: Vec<PathBuf> = trust::env::SYSTEM_BUNDLES
                .iter()
                .map(PathBuf::from)
                .collect();
            let bundle = trust::env::write_bundle(&ca, &system).map_err(|e| e.to_string())?;
            for line in trust::env::lines(shell.unwrap_or_else(Shell::detect), &ca, &bundle) {
                println!("{line}");
            }
            Ok(())
        }
    }
}

fn load_existing(dir: &DataDirArg) -> Result<CaCert, String> {
    let dir = dir.resolve()?;
    CaCert::load(&dir).map_err(|e| {
        format!(
            "{e}\n(no CA in {}: nothing of wxemu's can be identified in the stores)",
            dir.display()
        )
    })
}

fn finish(report: trust::Report) -> Result<(), String> {
    print!("{report}");
    if report.any_failed() {
        Err("some stores failed (see above)".to_owned())
    } else {
        Ok(())
    }
}

#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// Map localhost.weixin.qq.com to 127.0.0.1 in the hosts file (needs root/Administrator).
    Add(HostsArgs),
    /// Remove wxemu's line from the hosts file (needs root/Administrator).
    Remove(HostsArgs),
    /// Show what the hosts file says about localhost.weixin.qq.com.
    Status(HostsArgs),
}

#[derive(Debug, Args)]
pub struct HostsArgs {
    /// The hosts file [default: /etc/hosts; %SystemRoot%\System32\drivers\etc\hosts].
    #[arg(long, value_name = "FILE")]
    hosts_file: Option<PathBuf>,
}

pub fn hosts(command: HostsCommand) -> Result<(), String> {
    use crate::cli::hosts::{self, Change};
    let (args, verb) = match &command {
        HostsCommand::Add(a) => (a, "added"),
        HostsCommand::Remove(a) => (a, "removed"),
        HostsCommand::Status(a) => (a, ""),
    };
    let path = args.hosts_file.clone().unwrap_or_else(hosts::default_path);
    let change = match command {
        HostsCommand::Add(_) => hosts::add(&path),
        HostsCommand::Remove(_) => hosts::remove(&path),
        HostsCommand::Status(_) => {
            let status = hosts::status(&path).map_err(|e| e.to_string())?;
            let verdict = match status.resolves_to_loopback() {
                Some(true) => "maps it to loopback: works offline",
                Some(false) => "maps it away from loopback: wxemu will not be reached",
                None => "does not mention it: public DNS decides (fails offline)",
            };
            println!("{}: {verdict}", path.display());
            for line in &status.ours {
                println!("  line {line}: wxemu's");
            }
            for (line, ip) in &status.others {
                println!("  line {line}: {ip} (not wxemu's)");
            }
            return Ok(());
        }
    };
    match change.map_err(|e| e.to_string())? {
        Change::Done => println!("done     {verb}: {} in {}", hosts::entry(), path.display()),
        Change::Already(why) => println!("already  {}: {why}", path.display()),
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The port wxemu serves on.
    #[arg(long, default_value_t = wxemu_core::emulator::DEFAULT_PORT)]
    port: u16,
    #[command(flatten)]
    trust: TrustArgs,
    /// Config file [default: <data dir>/config.toml].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print JSON for scripts.
    #[arg(long)]
    json: bool,
    /// The name to resolve (for testing).
    #[arg(long, hide = true, default_value = wxemu_core::emulator::CANONICAL_HOST)]
    name: String,
    /// The hosts file to report on.
    #[arg(long, value_name = "FILE")]
    hosts_file: Option<PathBuf>,
    /// Ask check-login about this appid (your site's) [default: the first [[apps]]].
    #[arg(long)]
    appid: Option<String>,
    /// With this redirect_uri [default: https://<the app's first callback domain>/].
    #[arg(long, value_name = "URL")]
    redirect_uri: Option<String>,
}

pub async fn doctor(args: DoctorArgs) -> Result<(), String> {
    let data_dir = args.trust.data_dir.resolve()?;
    let mut options = crate::cli::doctor::DoctorOptions::new(data_dir.clone());
    options.port = args.port;
    options.name = args.name.clone();
    options.trust = args.trust.targets();
    options.appid = args.appid.clone();
    options.redirect_uri = args.redirect_uri.clone();
    if let Some(config) = &args.config {
        options.config_path = config.clone();
    }
    if let Some(hosts) = &args.hosts_file {
        options.hosts_file = hosts.clone();
    }
    let report = crate::cli::doctor::run(&options).await;
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{json}");
    } else {
        print!("{report}");
    }
    if report.ok {
        Ok(())
    } else {
        Err("doctor found problems".to_owned())
    }
}
