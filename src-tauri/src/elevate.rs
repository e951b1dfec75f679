//! Writing the system-wide trust store from a GUI app: through the OS's own
//! administrator prompt, never a terminal.
//!
//! The app runs itself again as an administrator with a hidden first
//! argument ([`HELPER_FLAG`]); that short-lived helper changes only the
//! stores it is given (through [`wxemu_certs::install_trust`], as `wxemu trust`
//! does), writes its report lines as JSON to a file the app named, and
//! exits before any window code runs. How it is started, per OS
//! ([`Elevation`]): Linux `pkexec` (polkit shows its password dialog),
//! macOS `osascript … with administrator privileges`, Windows PowerShell
//! `Start-Process -Verb RunAs` (the UAC prompt). A process that is already
//! root needs no prompt.
//!
//! Test-only: `WXEMU_TEST_ELEVATE=direct` starts the helper directly, with
//! the app's own rights, instead of through the prompt (the desktop e2e test
//! runs as root and says so); nothing else changes.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use wxemu_certs::{
    find_program, install_trust, is_root, uninstall_trust, CaCert, Outcome, StoreKind,
};

use crate::trust::{lines, targets, TrustLine};

/// The helper's first argument: `--elevated-trust ACTION DATA_DIR REPORT KINDS`.
pub const HELPER_FLAG: &str = "--elevated-trust";
/// Test-only switch, see the module docs.
pub const TEST_ENV: &str = "WXEMU_TEST_ELEVATE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Install,
    Uninstall,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Uninstall => "uninstall",
        }
    }

    fn parse(s: &str) -> Option<Action> {
        [Action::Install, Action::Uninstall]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// How the helper gets administrator rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elevation {
    /// Already root, or the test switch: start it as is.
    Direct,
    Pkexec,
    Osascript,
    Runas,
}

impl Elevation {
    pub fn for_this_process() -> Elevation {
        if std::env::var(TEST_ENV).is_ok_and(|v| v == "direct") {
            tracing::warn!(
                "{TEST_ENV}=direct: the trust helper runs without an elevation prompt (tests only)"
            );
            return Elevation::Direct;
        }
        if is_root() {
            Elevation::Direct
        } else if cfg!(target_os = "macos") {
            Elevation::Osascript
        } else if cfg!(windows) {
            Elevation::Runas
        } else {
            Elevation::Pkexec
        }
    }

    /// The command line that runs `exe args` with administrator rights.
    pub fn command_line(self, exe: &Path, args: &[OsString]) -> (PathBuf, Vec<OsString>) {
        match self {
            Elevation::Direct => (exe.to_owned(), args.to_vec()),
            Elevation::Pkexec => {
                // pkexec wants an absolute program path; it clears the
                // environment, which the helper does not need.
                let mut all = vec![exe.as_os_str().to_owned()];
                all.extend(args.iter().cloned());
                (PathBuf::from("pkexec"), all)
            }
            Elevation::Osascript => {
                let shell = std::iter::once(exe.as_os_str())
                    .chain(args.iter().map(OsString::as_os_str))
                    .map(|a| sh_quote(&a.to_string_lossy()))
                    .collect::<Vec<_>>()
                    .join(" ");
                let script = format!(
                    "do shell script \"{}\" with administrator privileges",
                    shell.replace('\\', "\\\\").replace('"', "\\\"")
                );
                (
                    PathBuf::from("/usr/bin/osascript"),
                    vec!["-e".into(), script.into()],
                )
            }
            Elevation::Runas => {
                // Start-Process joins -ArgumentList with spaces: each
                // argument is double-quoted for the child's command line,
                // then single-quoted for PowerShell.
                let ps = |s: &str| format!("'{}'", s.replace('\'', "''"));
                let list = args
                    .iter()
                    .map(|a| ps(&format!("\"{}\"", a.to_string_lossy())))
                    .collect::<Vec<_>>()
                    .join(",");
                let command = format!(
                    "$p = Start-Process -FilePath {} -ArgumentList @({list}) -Verb RunAs -Wait -PassThru -WindowStyle Hidden; exit $p.ExitCode",
                    ps(&exe.to_string_lossy())
                );
                (
                    PathBuf::from("powershell.exe"),
                    vec![
                        "-NoProfile".into(),
                        "-NonInteractive".into(),
                        "-Command".into(),
                        command.into(),
                    ],
                )
            }
        }
    }

    /// What a failed prompt means, from the wrapper's exit code.
    fn failure(self, code: Option<i32>, stderr: &str) -> String {
        let said = stderr.lines().map(str::trim).find(|l| !l.is_empty());
        match (self, code) {
            (Elevation::Pkexec, Some(126)) => "the administrator prompt was dismissed".to_owned(),
            (Elevation::Pkexec, Some(127)) => format!(
                "not authorized, or no polkit authentication agent is running{}",
                said.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
            (Elevation::Osascript, _) if stderr.contains("-128") => {
                "the administrator prompt was cancelled".to_owned()
            }
            (Elevation::Runas, _) if stderr.contains("canceled by the user") => {
                "the UAC prompt was cancelled".to_owned()
            }
            _ => format!(
                "the elevated helper failed (exit {}){}",
                code.map_or("by a signal".to_owned(), |c| c.to_string()),
                said.map(|s| format!(": {s}")).unwrap_or_default()
            ),
        }
    }
}

/// `'it''s'` for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn store_name(kind: StoreKind) -> &'static str {
    match kind {
        StoreKind::System => "system store",
        StoreKind::Nss => "NSS",
        StoreKind::MacOs => "macOS System keychain",
        StoreKind::Windows => "Windows ROOT store",
    }
}

/// The helper's arguments.
pub fn helper_args(
    action: Action,
    data_dir: &Path,
    report: &Path,
    kinds: &[StoreKind],
) -> Vec<OsString> {
    vec![
        HELPER_FLAG.into(),
        action.as_str().into(),
        data_dir.as_os_str().to_owned(),
        report.as_os_str().to_owned(),
        kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(",")
            .into(),
    ]
}

/// Runs the helper with administrator rights for `kinds`; one line per
/// store, or per kind with why when the prompt or the helper failed.
pub fn run(action: Action, data_dir: &Path, kinds: &[StoreKind]) -> Vec<TrustLine> {
    if kinds.is_empty() {
        return Vec::new();
    }
    let fail = |why: String| -> Vec<TrustLine> {
        kinds
            .iter()
            .map(|k| TrustLine::new(store_name(*k), Outcome::Failed, why.clone()))
            .collect()
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return fail(format!("cannot find the app's own program: {e}")),
    };
    let report = match tempfile::Builder::new()
        .prefix("wxemu-trust-")
        .suffix(".json")
        .tempfile()
    {
        Ok(file) => file,
        Err(e) => return fail(format!("cannot create a report file: {e}")),
    };
    let elevation = Elevation::for_this_process();
    let (program, args) =
        elevation.command_line(&exe, &helper_args(action, data_dir, report.path(), kinds));
    if elevation == Elevation::Pkexec && find_program(&program).is_none() {
        return kinds
            .iter()
            .map(|k| {
                TrustLine::new(
                    store_name(*k),
                    Outcome::Skipped,
                    "pkexec is not installed (Debian: apt install pkexec), so the app cannot ask for the administrator password; run `sudo wxemu trust install` in a terminal",
                )
            })
            .collect();
    }
    tracing::info!(
        ?elevation,
        action = action.as_str(),
        "running the trust helper with administrator rights"
    );
    let output = match Command::new(&program).args(&args).output() {
        Ok(output) => output,
        Err(e) => return fail(format!("cannot run {}: {e}", program.display())),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let written = std::fs::read(report.path()).unwrap_or_default();
    match serde_json::from_slice::<Vec<TrustLine>>(&written) {
        Ok(lines) if !lines.is_empty() => lines,
        _ if output.status.success() => fail(format!(
            "the elevated helper wrote no report{}",
            stderr_note(&stderr)
        )),
        _ => fail(elevation.failure(output.status.code(), &stderr)),
    }
}

fn stderr_note(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| format!(": {l}"))
        .unwrap_or_default()
}

/// The helper itself (running with administrator rights): `args` are what
/// follows [`HELPER_FLAG`].
pub fn helper_main(args: &[OsString]) -> ExitCode {
    match helper(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wxemu-desktop {HELPER_FLAG}: {e}");
            ExitCode::from(2)
        }
    }
}

fn helper(args: &[OsString]) -> Result<(), String> {
    let [action, data_dir, report, kinds] = args else {
        return Err("usage: install|uninstall DATA_DIR REPORT KINDS".to_owned());
    };
    let action = Action::parse(&action.to_string_lossy())
        .ok_or_else(|| format!("unknown action {action:?}"))?;
    let kinds: Vec<StoreKind> = kinds
        .to_string_lossy()
        .split(',')
        .filter_map(|name| StoreKind::ALL.into_iter().find(|k| k.as_str() == name))
        .collect();
    let lines = match CaCert::load(Path::new(data_dir)) {
        Ok(ca) => {
            let stores = targets().only(&kinds);
            lines(&match action {
                Action::Install => install_trust(&ca, &stores),
                Action::Uninstall => uninstall_trust(&ca, &stores),
            })
        }
        Err(e) => vec![TrustLine::new("CA", Outcome::Failed, e.to_string())],
    };
    let json = serde_json::to_vec(&lines).map_err(|e| e.to_string())?;
    std::fs::write(report, json)
        .map_err(|e| format!("cannot write {}: {e}", Path::new(report).display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> Vec<OsString> {
        helper_args(
            Action::Install,
            Path::new("/home/a b/data"),
            Path::new("/tmp/r.json"),
            &[StoreKind::System],
        )
    }

    #[test]
    fn pkexec_runs_the_app_itself_by_absolute_path() {
        let (program, argv) =
            Elevation::Pkexec.command_line(Path::new("/usr/bin/wxemu-desktop"), &args());
        assert_eq!(program, PathBuf::from("pkexec"));
        assert_eq!(argv[0], "/usr/bin/wxemu-desktop");
        assert_eq!(argv[1], HELPER_FLAG);
        assert_eq!(argv[3], "/home/a b/data");
        assert_eq!(argv[5], "system");
    }

    #[test]
    fn osascript_quotes_for_sh_inside_applescript() {
        let (program, argv) = Elevation::Osascript.command_line(
            Path::new("/Applications/wxemu.app/Contents/MacOS/wxemu-desktop"),
            &args(),
        );
        assert_eq!(program, PathBuf::from("/usr/bin/osascript"));
        let script = argv[1].to_string_lossy();
        assert!(
            script.starts_with("do shell script \"'/Applications/wxemu.app/"),
            "{script}"
        );
        assert!(script.contains("'/home/a b/data'"), "{script}");
        assert!(
            script.ends_with("with administrator privileges"),
            "{script}"
        );
    }

    #[test]
    fn runas_quotes_each_argument() {
        let (program, argv) = Elevation::Runas.command_line(
            Path::new(r"C:\Program Files\wxemu\wxemu-desktop.exe"),
            &args(),
        );
        assert_eq!(program, PathBuf::from("powershell.exe"));
        let command = argv[3].to_string_lossy();
        assert!(
            command.contains(r"-FilePath 'C:\Program Files\wxemu\wxemu-desktop.exe'"),
            "{command}"
        );
        assert!(command.contains(r#"'"/home/a b/data"'"#), "{command}");
        assert!(command.contains("-Verb RunAs -Wait"), "{command}");
    }

    #[test]
    fn failed_prompts_say_why() {
        assert_eq!(
            Elevation::Pkexec.failure(Some(126), ""),
            "the administrator prompt was dismissed"
        );
        assert!(Elevation::Pkexec
            .failure(
                Some(127),
                "Error executing command as another user: No authentication agent found."
            )
            .contains("No authentication agent"));
        assert!(Elevation::Osascript
            .failure(Some(1), "execution error: User canceled. (-128)")
            .contains("cancelled"));
        assert!(Elevation::Direct
            .failure(Some(3), "boom")
            .contains("exit 3): boom"));
    }

    #[test]
    fn the_helper_reports_every_store_it_was_given() {
        let dir = tempfile::tempdir().unwrap();
        CaCert::ensure(dir.path()).unwrap();
        let report = dir.path().join("report.json");
        helper(&helper_args(Action::Uninstall, dir.path(), &report, &[StoreKind::Nss])[1..])
            .unwrap();
        let lines: Vec<TrustLine> =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        assert!(!lines.is_empty());
        assert!(helper(&[]).is_err());
        let bad = helper_args(Action::Install, dir.path(), &report, &[]);
        assert!(helper(&[
            bad[2].clone(),
            bad[2].clone(),
            bad[3].clone(),
            bad[4].clone()
        ])
        .is_err());
    }
}
