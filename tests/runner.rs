//! What test runners need of the real `wxemu` binary: every listener on port
//! 0 with the bound ports in `--ready-file` / serve.json, `wxemu exec`, a
//! login page that probes only its own port, `trust env` per mode, and
//! `hosts add --data-dir`.

use crate::common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_wxemu");

/// A `wxemu serve` child; killed when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (10 s at most) for `path` to hold JSON: what a runner does.
fn wait_for_json(path: &Path, child: &mut Child) -> Value {
    for _ in 0..1000 {
        if let Ok(bytes) = std::fs::read(path) {
            return serde_json::from_slice(&bytes).expect("the ready file is whole JSON");
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "serve exited with {status} before writing {}",
                path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no {} after 10 s", path.display());
}

fn serve(data_dir: &Path, ready_file: &Path, extra: &[&str]) -> (Serve, Value) {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--approve", "auto", "--data-dir"])
        .arg(data_dir)
        .arg("--ready-file")
        .arg(ready_file)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = wait_for_json(ready_file, &mut child);
    (Serve(child), ready)
}

fn port(value: &Value) -> u16 {
    let port = value
        .as_u64()
        .unwrap_or_else(|| panic!("not a port: {value}"));
    assert_ne!(port, 0, "the bound port, not the asked one");
    u16::try_from(port).unwrap()
}

#[tokio::test]
async fn every_listener_takes_port_0_and_the_ready_file_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let ready_file = dir.path().join("ready.json");
    let (mut serve, ready) = serve(
        &data_dir,
        &ready_file,
        &[
            "--http-api-port",
            "0",
            "--proxy-port",
            "0",
            "--intercept-port",
            "0",
        ],
    );
    let https = port(&ready["ports"]["https"]);
    assert_eq!(port(&ready["port"]), https);
    assert_eq!(
        ready["url"],
        format!("https://localhost.weixin.qq.com:{https}")
    );
    let proxy = port(&ready["ports"]["proxy"]);
    assert_eq!(ready["proxy"], format!("http://127.0.0.1:{proxy}"));
    assert_eq!(
        ready["pac_url"],
        format!("http://127.0.0.1:{proxy}/proxy.pac")
    );
    assert_eq!(ready["pid"], serve.0.id());
    assert_eq!(ready["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(ready["data_dir"], data_dir.to_str().unwrap());
    for (key, file) in [
        ("ca", "ca.pem"),
        ("intercept_ca", "intercept-ca.pem"),
        ("token_file", "control-token"),
    ] {
        assert_eq!(ready[key], data_dir.join(file).to_str().unwrap(), "{key}");
        assert!(data_dir.join(file).is_file(), "{file}");
    }
    // Every port is a listener of this server: each answers its own protocol.
    let client = common::Client::for_data_dir(SocketAddr::from(([127, 0, 0, 1], https)), &data_dir);
    assert_eq!(client.get("/__wxemu/health").await.status, 200);
    let api = port(&ready["ports"]["http_api"]);
    let answer = http_get(api, "/sns/auth?access_token=x&openid=y");
    assert!(answer.contains("errcode"), "{answer}");
    let pac = http_get(proxy, "/proxy.pac");
    assert!(pac.contains("FindProxyForURL"), "{pac}");
    let intercept = port(&ready["ports"]["intercept"]);
    assert!(std::net::TcpStream::connect(("127.0.0.1", intercept)).is_ok());

    // serve.json is the same file, and `wxemu ctl` finds the server by it.
    let serve_json: Value =
        serde_json::from_slice(&std::fs::read(data_dir.join("serve.json")).unwrap()).unwrap();
    assert_eq!(serve_json, ready);
    let health = Command::new(BIN)
        .args(["ctl", "health", "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    assert!(health.status.success(), "{health:?}");

    // A clean shutdown removes both.
    assert!(Command::new("kill")
        .arg(serve.0.id().to_string())
        .status()
        .unwrap()
        .success());
    assert!(serve.0.wait().unwrap().success());
    assert!(!ready_file.exists());
    assert!(!data_dir.join("serve.json").exists());
}

/// A plain HTTP/1.0 GET on loopback, the whole answer as text.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(tcp, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
    let mut text = String::new();
    tcp.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn a_ready_file_in_a_missing_directory_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .arg("--ready-file")
        .arg(dir.path().join("no/such/dir/ready.json"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--ready-file") && stderr.contains("does not exist"),
        "{stderr}"
    );
}

/// The ports the login page's script will probe for the desktop client.
async fn probed_ports(data_dir: &Path, https: u16) -> Vec<u64> {
    let client = common::Client::for_data_dir(SocketAddr::from(([127, 0, 0, 1], https)), data_dir);
    let page = client
        .get("/connect/qrconnect?appid=wx0de7000000c0ffee&redirect_uri=https%3A%2F%2Flocalhost.weixin.qq.com%2Fdemo%2Fcallback&response_type=code&scope=snsapi_login&state=s")
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let text = page.text();
    let list = text
        .split("\"fast_login_ports\":")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("no fast_login_ports in the page"));
    serde_json::from_str::<Vec<u64>>(&format!("{list}]")).unwrap()
}

#[tokio::test]
async fn only_own_port_makes_the_login_page_probe_this_server_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let (_own, ready) = serve(
        &data_dir,
        &dir.path().join("own.json"),
        &["--only-own-port"],
    );
    let https = port(&ready["port"]);
    assert_eq!(probed_ports(&data_dir, https).await, [u64::from(https)]);

    // Without it, the real page's ports too (14013 first among them).
    let (_all, ready) = serve(&data_dir, &dir.path().join("all.json"), &[]);
    let https = port(&ready["port"]);
    let ports = probed_ports(&data_dir, https).await;
    assert!(
        ports.contains(&14013) && ports.contains(&u64::from(https)),
        "{ports:?}"
    );
}

fn exec(args: &[&str], script: &str) -> Output {
    Command::new(BIN)
        .arg("exec")
        .args(args)
        .args(["--", "sh", "-c", script])
        .env("WXEMU_BIN", BIN)
        .env_remove("WXEMU_DATA_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn exec_runs_the_command_against_a_ready_server_and_passes_its_status_on() {
    // The command sees every variable, reaches the server through `wxemu ctl`
    // at once (serve.json is there), and its status comes back.
    let out = exec(
        &[],
        r#"set -e
for v in WXEMU_URL WXEMU_PORT WXEMU_CA WXEMU_INTERCEPT_CA WXEMU_PROXY WXEMU_PAC_URL WXEMU_TOKEN WXEMU_DATA_DIR; do
  eval "test -n \"\${$v}\"" || { echo "missing $v"; exit 90; }
done
test "$WXEMU_URL" = "https://localhost.weixin.qq.com:$WXEMU_PORT"
test -f "$WXEMU_CA" && test -f "$WXEMU_INTERCEPT_CA"
test "$WXEMU_TOKEN" = "$(cat "$WXEMU_DATA_DIR/control-token")"
"$WXEMU_BIN" ctl health >/dev/null
echo "data $WXEMU_DATA_DIR"
exit 7"#,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    // Its own temporary data directory, gone afterwards.
    let data_dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("data "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(data_dir.contains("wxemu-exec-"), "{data_dir}");
    assert!(!Path::new(data_dir).exists());

    assert_eq!(exec(&[], "exit 0").status.code(), Some(0));
    // A command killed by a signal: 128 + the signal, as a shell says.
    assert_eq!(exec(&[], "kill -TERM $$").status.code(), Some(128 + 15));
}

#[test]
fn exec_without_interception_sets_no_proxy_variables() {
    let out = exec(
        &["--no-intercept"],
        r#"test -z "$WXEMU_PROXY$WXEMU_PAC_URL$WXEMU_INTERCEPT_CA" && test -n "$WXEMU_URL""#,
    );
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn exec_says_when_the_command_cannot_run() {
    let out = Command::new(BIN)
        .args(["exec", "--", "/no/such/command"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot run /no/such/command"), "{stderr}");
}

fn trust_env(data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["trust", "env", "--shell", "sh", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn trust_env_prints_only_what_the_interception_mode_needs() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = trust_env(dir.path(), &["--intercept", "--proxy-port", "4567"]);
    assert!(
        proxy.contains("export HTTPS_PROXY='http://127.0.0.1:4567'"),
        "{proxy}"
    );
    let hosts = trust_env(dir.path(), &["--intercept", "--mode", "hosts"]);
    assert!(!hosts.to_lowercase().contains("_proxy"), "{hosts}");
    assert!(hosts.contains("export SSL_CERT_FILE="), "{hosts}");
    assert!(hosts.contains("export NODE_EXTRA_CA_CERTS="), "{hosts}");
    // Evaluated by a shell, hosts mode leaves the proxy variables alone.
    let out = Command::new("sh")
        .args(["-c", &format!("{hosts}\necho \"[$HTTPS_PROXY]\"")])
        .env_remove("HTTPS_PROXY")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}

#[test]
fn hosts_add_reads_the_intercepted_names_from_the_data_dirs_config() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();
    std::fs::write(
        data_dir.join("config.toml"),
        "[intercept]\nhosts = [\"api.weixin.qq.com\"]\n",
    )
    .unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 localhost\n").unwrap();
    let out = Command::new(BIN)
        .args(["hosts", "add", "--intercept", "--data-dir"])
        .arg(&data_dir)
        .arg("--hosts-file")
        .arg(&hosts)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&hosts).unwrap();
    assert!(text.contains("api.weixin.qq.com"), "{text}");
    assert!(!text.contains("open.weixin.qq.com"), "{text}");
}
