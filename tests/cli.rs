//! The real `wxemu` binary: what it prints, the terminal prompt, signals,
//! and its one-sentence errors.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_wxemu");

/// A `wxemu serve` child process; killed when dropped.
struct Serve {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    port: u16,
    data_dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines<R: std::io::Read + Send + 'static>(from: R) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads lines until one contains `needle` (10 s at most).
fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(_) => panic!("no line with {needle:?}; saw {seen:#?}"),
        }
    }
}

fn serve(args: &[&str]) -> Serve {
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .args(args)
        .env("WXEMU_DATA_DIR", data_dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = lines::<ChildStdout>(child.stdout.take().unwrap());
    let stderr = lines::<ChildStderr>(child.stderr.take().unwrap());
    let listening = wait_for(&stdout, "listening");
    let port = listening
        .split("localhost.weixin.qq.com:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {listening:?}"));
    Serve {
        child,
        stdout,
        stderr,
        port,
        data_dir,
    }
}

impl Serve {
    fn client(&self) -> Client {
        Client::for_data_dir(([127, 0, 0, 1], self.port).into(), self.data_dir.path())
    }
}

#[test]
fn ca_path_prints_only_the_path_and_creates_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["ca", "path", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, format!("{}\n", dir.path().join("ca.pem").display()));
    assert!(std::fs::read_to_string(dir.path().join("ca.pem"))
        .unwrap()
        .contains("BEGIN CERTIFICATE"));

    // WXEMU_DATA_DIR works too, and the CA is reused, not replaced.
    let before = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let out = Command::new(BIN)
        .args(["ca", "path"])
        .env("WXEMU_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), stdout);
    assert_eq!(std::fs::read(dir.path().join("ca.pem")).unwrap(), before);
}

#[tokio::test]
async fn serve_prints_where_it_listens_and_serves() {
    let serve = serve(&["--approve", "auto"]);
    let ca = wait_for(&serve.stdout, "CA ");
    assert!(
        ca.contains(&serve.data_dir.path().join("ca.pem").display().to_string()),
        "{ca}"
    );
    wait_for(&serve.stdout, "approve    auto");
    // An ephemeral port is not one the real page tries: say so.
    wait_for(
        &serve.stdout,
        "only tries ports 14013, 14014, 14015, 13013, 13014, 13015",
    );
    let client = serve.client();
    assert_eq!(client.login(REDIRECT, "s").await.errcode(), 0);
}

/// Every banner line up to "Press Ctrl-C" (10 s at most).
fn banner(lines: &mpsc::Receiver<String>) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !seen
        .last()
        .is_some_and(|l: &String| l.contains("Press Ctrl-C"))
    {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no end of the banner; saw {seen:#?}"),
        }
    }
    seen
}

/// `--bind` moves every listener (HTTPS, the proxy, hosts mode) to the address given,
/// and only an explicit one off 127.0.0.1 gets a warning line; the default stays
/// 127.0.0.1 without one.
#[test]
fn bind_is_explicit_and_warned_about() {
    let default = serve(&["--approve", "auto"]);
    assert!(std::net::TcpStream::connect(("127.0.0.1", default.port)).is_ok());
    let lines = banner(&default.stdout);
    assert!(!lines.iter().any(|l| l.contains("warning")), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with("intercept  off")),
        "{lines:#?}"
    );
    drop(default);

    let bound = serve(&[
        "--approve",
        "auto",
        "--bind",
        "127.0.0.2",
        "--proxy-port",
        "0",
        "--proxy-offline",
        "--intercept-port",
        "0",
    ]);
    let lines = banner(&bound.stdout);
    let line = |start: &str| {
        lines
            .iter()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no {start:?} line in {lines:#?}"))
            .clone()
    };
    let warning = line("warning");
    assert!(warning.contains("bound to 127.0.0.2 (--bind)"), "{warning}");
    assert!(line("proxy").contains("http://127.0.0.2:"), "{lines:#?}");
    assert!(line("hosts mode").contains("(127.0.0.2:"), "{lines:#?}");
    // Interception on, its hosts, and its CA's trust: a fresh CA is trusted nowhere.
    assert!(
        line("intercept  on: open.weixin.qq.com").contains("more"),
        "{lines:#?}"
    );
    let trust = line("intercept  CA");
    assert!(
        trust.contains("NOT trusted: wxemu trust install --intercept")
            || trust.contains("trust unknown"),
        "{trust}"
    );
    // Really there, and not on 127.0.0.1.
    assert!(std::net::TcpStream::connect(("127.0.0.2", bound.port)).is_ok());
    assert!(std::net::TcpStream::connect(("127.0.0.1", bound.port)).is_err());

    // Not an address: clap's one sentence, no server.
    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--bind", "localhost"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bind"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ask_mode_prompts_on_the_terminal() {
    let mut serve = serve(&["--approve", "ask"]);
    let client = serve.client();
    let mut stdin = serve.child.stdin.take().unwrap();
    for (answer, errcode) in [("y", 0), ("n", 10050), ("", 10050)] {
        let pending = {
            let client = client.clone();
            tokio::spawn(async move { client.login(REDIRECT, "s").await.errcode() })
        };
        // The "Allow? [y/N]" question ends without a newline; the line
        // before it says what is asked.
        let prompt = tokio::task::block_in_place(|| wait_for(&serve.stderr, "wants to log in as"));
        assert!(prompt.contains("site.example"), "{prompt}");
        assert!(prompt.contains(APPID), "{prompt}");
        assert!(prompt.contains("微信测试用户"), "{prompt}");
        writeln!(stdin, "{answer}").unwrap();
        assert_eq!(pending.await.unwrap(), errcode, "answer {answer:?}");
    }
}

#[cfg(unix)]
#[test]
fn sigterm_shuts_down_cleanly() {
    let mut serve = serve(&["--approve", "auto"]);
    let pid = serve.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    wait_for(&serve.stderr, "shutting down");
}

#[test]
fn a_taken_port_is_one_sentence_not_a_backtrace() {
    let first = serve(&["--approve", "auto"]);
    let out = Command::new(BIN)
        .args([
            "serve",
            "--approve",
            "auto",
            "--port",
            &first.port.to_string(),
        ])
        .env("WXEMU_DATA_DIR", first.data_dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains("--port"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_broken_config_is_reported_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[client]\nstate = \"asleep\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("config.toml"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "[client]\nstate = \"asleep\"\n"
    );
}

#[test]
fn help_lists_every_serve_flag() {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--port",
        "--data-dir",
        "--config",
        "--approve",
        "--decision-timeout",
        "WXEMU_DATA_DIR",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    let _ = std::io::stdout().flush();
}
