//! Real, unmodified WeChat SDKs against wxemu through the interception proxy: no base
//! URL changed, no request hook. Python's wechatpy (`WeChatOAuth`, requests) through
//! `HTTPS_PROXY`, and node's `wechat-oauth` (no base-URL option at all) through a
//! process-wide proxy agent (global-agent). The proxy runs `--proxy-offline`, so
//! api.weixin.qq.com can only be wxemu, and nothing leaves the machine.
//! Code -> token -> userinfo -> refresh -> auth, and the used code refused (40163).
//!
//! scripts/test installs both (tests/sdk/.venv, tests/sdk/node_modules).

use crate::common;
use crate::tools;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{code_of, TestServer, APPID, REDIRECT};
use serde_json::Value;
use tools::precondition;
use wxemu::core::WebsiteApp;
use wxemu::intercept::InterceptOptions;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk")
}

/// A wxemu with an offline proxy, the app registered with a secret, and a fresh code.
async fn server_and_code() -> (TestServer, String) {
    let server = TestServer::builder()
        .app(WebsiteApp {
            appid: APPID.into(),
            secret: SECRET.into(),
            name: "SDK site".into(),
            ..WebsiteApp::default()
        })
        .options(|o| {
            o.intercept = InterceptOptions {
                proxy_port: Some(0),
                proxy_offline: true,
                intercept_port: None,
            }
        })
        .start()
        .await;
    let code = code_of(&server.client.login(REDIRECT, "sdk").await);
    (server, code)
}

/// `wxemu trust env --intercept` for this server, as (name, value) pairs: exactly
/// what a user would `eval`.
fn intercept_env(server: &TestServer) -> Vec<(String, String)> {
    let port = server.proxy_addr.expect("proxy running").port().to_string();
    let out = tools::run_bounded(
        {
            let mut c = Command::new(env!("CARGO_BIN_EXE_wxemu"));
            c.args(["trust", "env", "--intercept", "--shell", "sh"])
                .args(["--proxy-port", &port, "--data-dir"])
                .arg(server.data_dir.path());
            c
        },
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "trust env --intercept failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect()
}

fn run_sdk(mut cmd: Command, env: &[(String, String)]) -> Value {
    // The machine's own CA variables would otherwise win over (or mix with) ours.
    for var in [
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "CURL_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(sdk_dir());
    let out = tools::run_bounded(cmd, Duration::from_secs(60));
    let (ok, output) = tools::success_and_output(&out);
    assert!(ok, "{output}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {output}"))
}

fn check_flow(result: &Value) {
    let token = &result["token"];
    assert_eq!(token["expires_in"], 7200, "{result}");
    assert_eq!(token["scope"], "snsapi_login");
    let openid = token["openid"].as_str().expect("openid");
    assert!(!openid.is_empty());
    assert!(token["unionid"].as_str().is_some_and(|u| !u.is_empty()));
    assert_eq!(result["user"]["openid"], openid);
    assert!(result["user"]["nickname"]
        .as_str()
        .is_some_and(|n| !n.is_empty()));
    assert_eq!(result["refreshed"]["openid"], openid);
    assert_eq!(result["refreshed"]["expires_in"], 7200);
    assert!(result["refreshed"]["access_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(result["reused_code_errcode"], 40163, "{result}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wechatpy_logs_in_through_the_proxy_unmodified() {
    let python = sdk_dir().join(".venv/bin/python");
    if !precondition(
        python.is_file(),
        "wechatpy is not installed (scripts/test makes tests/sdk/.venv)",
    ) {
        return;
    }
    let (server, code) = server_and_code().await;
    let env = intercept_env(&server);
    let mut cmd = Command::new(&python);
    cmd.arg("wechatpy_login.py").args([APPID, SECRET, &code]);
    let result = tokio::task::spawn_blocking(move || run_sdk(cmd, &env))
        .await
        .expect("wechatpy");
    check_flow(&result);
    assert_eq!(result["valid"], true, "{result}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_wechat_oauth_logs_in_through_a_global_proxy_agent() {
    if !precondition(
        sdk_dir().join("node_modules/wechat-oauth").is_dir() && tools::on_path("node"),
        "node wechat-oauth is not installed (scripts/test runs npm ci in tests/sdk)",
    ) {
        return;
    }
    let (server, code) = server_and_code().await;
    let mut env = intercept_env(&server);
    let proxy = format!("http://{}", server.proxy_addr.expect("proxy"));
    // Node 20 ignores HTTPS_PROXY; a backend installs a process-wide agent instead.
    env.push(("GLOBAL_AGENT_HTTP_PROXY".into(), proxy));
    let mut cmd = Command::new("node");
    cmd.arg("wechat_oauth_login.js")
        .args([APPID, SECRET, &code]);
    let result = tokio::task::spawn_blocking(move || run_sdk(cmd, &env))
        .await
        .expect("wechat-oauth");
    check_flow(&result);
    assert_eq!(result["valid"]["errcode"], 0, "{result}");
    server.stop().await;
}
