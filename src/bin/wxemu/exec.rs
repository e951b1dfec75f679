//! `wxemu exec [serve options] -- CMD ARGS...`: a private wxemu for one
//! command (a test runner: Cypress, Jest, pytest, a shell script). The
//! server runs in this process on free ports with its own temporary data
//! directory; CMD gets the `WXEMU_*` variables, and its exit status
//! becomes ours. Like Firebase's `emulators:exec`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use wxemu_core::ApprovalMode;

use crate::serve::{ServeArgs, Started};
use wxemu::control::{self, ServeInfo};
use wxemu::Ready;

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// No interception proxy (by default `exec` runs one on a free port, as
    /// if given --proxy-port 0).
    #[arg(long, conflicts_with_all = ["proxy_port", "intercept_port"])]
    no_intercept: bool,
    /// The command to run and its arguments (after `--`).
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<OsString>,
}

/// What CMD's shell would exit with when no status comes back (it could not
/// be started).
const CANNOT_RUN: u8 = 127;

pub async fn run(mut args: ExecArgs) -> Result<ExitCode, String> {
    // Kept until the end: dropping it deletes the directory.
    let mut temp_dir = None;
    if args.serve.data_dir.data_dir.is_none() {
        let dir = tempfile::Builder::new()
            .prefix("wxemu-exec-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary data directory: {e}"))?;
        args.serve.data_dir.data_dir = Some(dir.path().to_owned());
        temp_dir = Some(dir);
    }
    if !args.no_intercept && args.serve.intercept_port.is_none() {
        args.serve.proxy_port.get_or_insert(0);
    }
    // A test's pages never find a desktop app or another wxemu on 14013.
    args.serve.only_own_port = true;

    let signal = crate::serve::shutdown_signal()?;
    // The terminal (if any) belongs to CMD, so no "Allow?" prompt: logins are
    // allowed unless --approve or the control API says otherwise.
    let Started { server, .. } = crate::serve::start(&args.serve, 0, ApprovalMode::Auto).await?;
    let ready = server.ready();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    wait_for_serve_info(&ready.data_dir).await;
    let env = environment(&ready)?;

    let status = run_command(&args.command, &env, signal).await;

    let _ = stop.send(());
    let _ = serving.await;
    drop(temp_dir);
    status
}

/// The variables CMD gets.
fn environment(ready: &Ready) -> Result<Vec<(&'static str, OsString)>, String> {
    let token = std::fs::read_to_string(&ready.token_file)
        .map_err(|e| format!("cannot read {}: {e}", ready.token_file.display()))?;
    let mut env: Vec<(&'static str, OsString)> = vec![
        ("WXEMU_URL", ready.url.clone().into()),
        ("WXEMU_PORT", ready.port.to_string().into()),
        ("WXEMU_CA", ready.ca.clone().into()),
        ("WXEMU_TOKEN", token.trim().into()),
        ("WXEMU_DATA_DIR", ready.data_dir.clone().into()),
    ];
    if let Some(ca) = &ready.intercept_ca {
        env.push(("WXEMU_INTERCEPT_CA", ca.clone().into()));
    }
    if let Some(proxy) = &ready.proxy {
        env.push(("WXEMU_PROXY", proxy.into()));
    }
    if let Some(pac) = &ready.pac_url {
        env.push(("WXEMU_PAC_URL", pac.into()));
    }
    Ok(env)
}

/// `Server::run` writes serve.json as it starts; CMD may run `wxemu ctl`
/// at once, which reads it.
async fn wait_for_serve_info(data_dir: &Path) {
    let path = control::serve_info_path(data_dir);
    for _ in 0..5000 {
        let ours = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<ServeInfo>(&b).ok())
            .is_some_and(|i| i.pid == std::process::id());
        if ours {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Runs CMD to its end. A SIGINT/SIGTERM to wxemu is passed on as SIGTERM,
/// and CMD still gets to finish.
async fn run_command(
    command: &[OsString],
    env: &[(&'static str, OsString)],
    signal: impl std::future::Future<Output = ()>,
) -> Result<ExitCode, String> {
    let (program, rest) = command.split_first().expect("clap requires CMD");
    let mut child = match std::process::Command::new(program)
        .args(rest)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!(
                "wxemu exec: cannot run {}: {e}",
                PathBuf::from(program).display()
            );
            return Ok(ExitCode::from(CANNOT_RUN));
        }
    };
    let pid = child.id();
    let mut waiting = tokio::task::spawn_blocking(move || child.wait());
    tokio::pin!(signal);
    let mut forwarded = false;
    let status = loop {
        tokio::select! {
            status = &mut waiting => break status,
            () = &mut signal, if !forwarded => {
                forwarded = true;
                terminate(pid);
            }
        }
    };
    let status = status
        .map_err(|e| format!("waiting for the command failed: {e}"))?
        .map_err(|e| format!("waiting for the command failed: {e}"))?;
    Ok(ExitCode::from(exit_code(status)))
}

/// The shell's convention: the code, or 128 + the signal that ended it.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return code as u8;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128u8.wrapping_add(signal as u8);
        }
    }
    1
}

#[cfg(unix)]
fn terminate(pid: u32) {
    // SAFETY: kill(2) with a pid we spawned and have not reaped yet (the
    // waiting thread reaps it only after it exits).
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
}

#[cfg(windows)]
fn terminate(_pid: u32) {
    // Ctrl-C reaches every process on the console; CMD gets it itself.
}
