//! The machine-setup commands: `wxemu trust`, `wxemu hosts`, `wxemu doctor`. Argument
//! definitions and output only; the work is in [`wxemu_certs`] (`install_trust` and friends),
//! [`wxemu::hosts`] and [`wxemu::doctor`].

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use wxemu_certs::CaKind;
use wxemu_certs::{
    env_lines, install_trust, intercept_env_lines, is_root, trust_status, uninstall_trust,
    write_bundle, write_intercept_files, CaCert, Outcome, Report, Shell, StoreKind, TrustTargets,
    BUNDLE_FILE, INTERCEPT_BUNDLE_FILE, INTERCEPT_EXTRA_FILE, SYSTEM_BUNDLES,
};

use crate::args::DataDirArg;

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
        /// For interception: the proxy variables plus a CA bundle with both wxemu CAs
        /// added to the system roots.
        #[arg(long)]
        intercept: bool,
        /// With --intercept: the port `wxemu serve --proxy-port` listens on.
        #[arg(long, value_name = "PORT", default_value_t = wxemu::intercept::DEFAULT_PROXY_PORT, requires = "intercept")]
        proxy_port: u16,
        /// With --intercept: how the backend reaches the intercepted names.
        /// `proxy` (`serve --proxy-port`): the proxy variables and the CAs;
        /// `hosts` (`serve --intercept-port 443`, the names mapped to
        /// 127.0.0.1): the CAs only, no proxy variables.
        #[arg(long, value_enum, default_value_t = EnvMode::Proxy, requires = "intercept")]
        mode: EnvMode,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvMode {
    Proxy,
    Hosts,
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
    /// The interception CA (for the real WeChat host names) instead of the
    /// fast-login CA.
    #[arg(long)]
    intercept: bool,
}

/// The CA a `--intercept` flag selects.
fn ca_kind(intercept: bool) -> CaKind {
    if intercept {
        CaKind::Intercept
    } else {
        CaKind::FastLogin
    }
}

impl TrustArgs {
    fn kind(&self) -> CaKind {
        ca_kind(self.intercept)
    }

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
    if let Some(user) = std::env::var_os("SUDO_USER").filter(|_| is_root()) {
        eprintln!(
            "note: running under sudo, so the data directory and browser databases are root's, not {}'s; \
             run `wxemu trust` without sudo: it uses sudo itself for the system store only",
            user.to_string_lossy()
        );
    }
    match command {
        TrustCommand::Install(args) => {
            let ca = CaCert::ensure_of(&args.data_dir.resolve()?, args.kind())
                .map_err(|e| e.to_string())?;
            println!("CA {} ({})", ca.path.display(), ca.tag());
            finish(install_trust(&ca, &args.targets()))
        }
        TrustCommand::Status(args) => {
            let ca = load_existing(&args.data_dir, args.kind())?;
            println!("CA {} ({})", ca.path.display(), ca.tag());
            let report = trust_status(&ca, &args.targets());
            let untrusted = report
                .stores
                .iter()
                .filter(|s| s.outcome == Outcome::NotTrusted)
                .count();
            finish(report)?;
            if untrusted > 0 {
                return Err(format!(
                    "{untrusted} store(s) do not trust the CA: {}",
                    ca.kind.install_command()
                ));
            }
            Ok(())
        }
        TrustCommand::Uninstall { args, purge } => {
            let dir = args.data_dir.resolve()?;
            let ca = load_existing(&args.data_dir, args.kind())?;
            println!("CA {} ({})", ca.path.display(), ca.tag());
            let report = uninstall_trust(&ca, &args.targets());
            print!("{report}");
            if report.any_failed() {
                return Err(
                    "some stores could not be cleaned (see above); the CA files are kept so a later uninstall can find it"
                        .to_owned(),
                );
            }
            if purge {
                let files: &[&str] = match ca.kind {
                    CaKind::FastLogin => &[
                        wxemu_certs::CA_CERT_FILE,
                        wxemu_certs::CA_KEY_FILE,
                        wxemu_certs::LEAF_CERT_FILE,
                        wxemu_certs::LEAF_KEY_FILE,
                        BUNDLE_FILE,
                    ],
                    // Its leaves live in memory only.
                    CaKind::Intercept => &[
                        wxemu_certs::INTERCEPT_CA_CERT_FILE,
                        wxemu_certs::INTERCEPT_CA_KEY_FILE,
                        INTERCEPT_BUNDLE_FILE,
                        INTERCEPT_EXTRA_FILE,
                    ],
                };
                for name in files.iter().copied() {
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
        TrustCommand::Env {
            data_dir,
            shell,
            intercept: true,
            proxy_port,
            mode,
        } => {
            let dir = data_dir.resolve()?;
            let ca = CaCert::ensure_of(&dir, CaKind::Intercept).map_err(|e| e.to_string())?;
            // The fast-login CA joins the files when it exists (`serve` creates it), so
            // evaluating both `trust env` outputs in either order trusts both.
            let fast_login = CaCert::load(&dir).ok();
            let system: Vec<PathBuf> = SYSTEM_BUNDLES.iter().map(PathBuf::from).collect();
            let (extra, bundle) = write_intercept_files(&ca, fast_login.as_ref(), &system)
                .map_err(|e| e.to_string())?;
            let proxy = format!("http://127.0.0.1:{proxy_port}");
            let proxy = (mode == EnvMode::Proxy).then_some(proxy.as_str());
            for line in
                intercept_env_lines(shell.unwrap_or_else(Shell::detect), proxy, &extra, &bundle)
            {
                println!("{line}");
            }
            Ok(())
        }
        TrustCommand::Env {
            data_dir, shell, ..
        } => {
            let ca = CaCert::ensure(&data_dir.resolve()?).map_err(|e| e.to_string())?;
            let system: Vec<PathBuf> = SYSTEM_BUNDLES.iter().map(PathBuf::from).collect();
            let bundle = write_bundle(&ca, &system).map_err(|e| e.to_string())?;
            for line in env_lines(shell.unwrap_or_else(Shell::detect), &ca, &bundle) {
                println!("{line}");
            }
            Ok(())
        }
    }
}

fn load_existing(dir: &DataDirArg, kind: CaKind) -> Result<CaCert, String> {
    let dir = dir.resolve()?;
    CaCert::load_of(&dir, kind).map_err(|e| {
        format!(
            "{e}\n(no CA in {}: nothing of wxemu's can be identified in the stores)",
            dir.display()
        )
    })
}

fn finish(report: Report) -> Result<(), String> {
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
    /// Hosts mode (`serve --intercept-port 443`): map the intercepted WeChat names
    /// (a separately marked line) instead of localhost.weixin.qq.com.
    #[arg(long)]
    intercept: bool,
    /// With --intercept: take the names from this config's `[intercept] hosts`
    /// [default: <data dir>/config.toml if it exists, else the built-in list].
    #[arg(long, value_name = "FILE", requires = "intercept")]
    config: Option<PathBuf>,
    #[command(flatten)]
    data_dir: DataDirArg,
}

impl HostsArgs {
    fn mapping(&self) -> Result<wxemu::hosts::Mapping, String> {
        use wxemu::hosts::Mapping;
        if !self.intercept {
            return Ok(Mapping::fast_login());
        }
        // The data directory's config, as `serve` reads it, when no --config.
        let config = self.config.clone().or_else(|| {
            let path = wxemu_core::default_path(&self.data_dir.resolve().ok()?);
            path.is_file().then_some(path)
        });
        let names = match &config {
            Some(path) => {
                wxemu_core::Config::load(path)
                    .map_err(|e| e.to_string())?
                    .intercept
                    .hosts
            }
            None => wxemu_core::InterceptConfig::default().hosts,
        };
        let hosts = wxemu::intercept::InterceptedHosts::new(&names)?;
        Ok(Mapping::intercept(hosts.as_slice()))
    }
}

pub fn hosts(command: HostsCommand) -> Result<(), String> {
    use wxemu::hosts::{self, Change};
    let (args, verb) = match &command {
        HostsCommand::Add(a) => (a, "added"),
        HostsCommand::Remove(a) => (a, "removed"),
        HostsCommand::Status(a) => (a, ""),
    };
    let path = args.hosts_file.clone().unwrap_or_else(hosts::default_path);
    let mapping = args.mapping()?;
    let change = match command {
        HostsCommand::Add(_) => hosts::add_for(&mapping, &path),
        HostsCommand::Remove(_) => hosts::remove_for(&mapping, &path),
        HostsCommand::Status(_) => {
            let status = hosts::status_for(&mapping, &path).map_err(|e| e.to_string())?;
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
        Change::Done => println!("done     {verb}: {} in {}", mapping.entry(), path.display()),
        Change::Already(why) => println!("already  {}: {why}", path.display()),
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The port wxemu serves on.
    #[arg(long, default_value_t = wxemu_core::DEFAULT_PORT)]
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
    #[arg(long, hide = true, default_value = wxemu_core::CANONICAL_HOST)]
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
    /// Interception: also check the proxy `wxemu serve --proxy-port PORT` runs.
    #[arg(long, value_name = "PORT")]
    proxy_port: Option<u16>,
    /// Interception, hosts mode: also check the intercepted names resolve to loopback.
    #[arg(long, value_name = "PORT")]
    intercept_port: Option<u16>,
}

pub async fn doctor(args: DoctorArgs) -> Result<(), String> {
    let data_dir = args.trust.data_dir.resolve()?;
    let mut options = wxemu::doctor::DoctorOptions::new(data_dir.clone());
    options.port = args.port;
    options.name = args.name.clone();
    options.trust = args.trust.targets();
    options.appid = args.appid.clone();
    options.redirect_uri = args.redirect_uri.clone();
    options.proxy_port = args.proxy_port;
    options.intercept_port = args.intercept_port;
    if let Some(config) = &args.config {
        options.config_path = config.clone();
    }
    if let Some(hosts) = &args.hosts_file {
        options.hosts_file = hosts.clone();
    }
    let report = wxemu::doctor::run(&options).await;
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
