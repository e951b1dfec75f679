//! `wxemu ctl`: the control API for shell scripts and CI.
//!
//! Each subcommand is one call to `/__wxemu/...` on the running server. The
//! port comes from `<data dir>/serve.json` (written by `wxemu serve`), the
//! token from `<data dir>/control-token`; the connection is real TLS to
//! 127.0.0.1, validated against the data directory's CA for
//! `localhost.weixin.qq.com`, like any other client. The answer is printed
//! as JSON on stdout; a refused call prints the error on stderr and exits
//! non-zero (so does a journal wait that timed out).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::{Args, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Map, Value};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::named;
use crate::web::control::{self, ServeInfo, PREFIX};
use wxemu_core::approval::ApprovalMode;
use wxemu_core::config::ClientState;
use wxemu_core::emulator::{CANONICAL_HOST, DEFAULT_PORT};
use wxemu_core::endpoint::Endpoint;
use wxemu_core::Named;

/// How long an ordinary call may take (a journal wait adds its timeout).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Args)]
pub struct CtlArgs {
    /// The running server's data directory [default: the OS's per-user data directory].
    #[arg(long, env = "WXEMU_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// The server's port [default: from <data dir>/serve.json, else 14013].
    #[arg(long, env = "WXEMU_PORT", global = true)]
    pub port: Option<u16>,
    #[command(subcommand)]
    pub command: CtlCommand,
}

#[derive(Debug, Subcommand)]
pub enum CtlCommand {
    /// Print the control API's bearer token.
    Token,
    /// Is the server up? (version and port)
    Health,
    /// Wait until a server runs on this data directory and answers (for CI
    /// scripts that start `wxemu serve &`).
    Ready {
        /// Give up after this long (e.g. 30s).
        #[arg(long, default_value = "30s")]
        timeout: String,
    },
    /// Show the client state and account; with flags, change them.
    Client {
        #[arg(long, value_parser = named::<ClientState>())]
        state: Option<ClientState>,
        /// Log the client in as this account id.
        #[arg(long)]
        account: Option<String>,
    },
    /// List, add, change or remove accounts (saved to the config file).
    Accounts {
        #[command(subcommand)]
        action: Option<RecordAction>,
    },
    /// List, add, change or remove website apps (saved to the config file).
    Apps {
        #[command(subcommand)]
        action: Option<RecordAction>,
    },
    /// Queue the answer for the next authorize request(s), or answer a
    /// pending one with --id.
    Decide {
        #[arg(value_enum)]
        answer: Answer,
        /// Queue this many copies.
        #[arg(long)]
        count: Option<u32>,
        /// Answer after this long (e.g. 2s).
        #[arg(long)]
        delay: Option<String>,
        /// Allow as this account instead of the one shown.
        #[arg(long)]
        account: Option<String>,
        /// Answer the pending authorization with this id now.
        #[arg(long)]
        id: Option<u64>,
    },
    /// Show the queued decisions and the policy; --clear empties the queue.
    Decisions {
        #[arg(long)]
        clear: bool,
    },
    /// Show or set the standing policy used when nothing is queued.
    Policy {
        #[arg(value_parser = named::<ApprovalMode>())]
        mode: Option<ApprovalMode>,
    },
    /// List the authorize requests waiting for a decision.
    Pending,
    /// List QR logins (--pending: only those still in play).
    Qr {
        #[arg(long)]
        pending: bool,
    },
    /// Scan a QR code with the phone of an account.
    Scan {
        /// The QR login's uuid [default: the newest still in play].
        #[arg(default_value = "latest")]
        uuid: String,
        /// Whose phone scans [default: the client's current account].
        #[arg(long)]
        account: Option<String>,
    },
    /// Confirm a scanned QR login on the phone (issues the code).
    Confirm {
        #[arg(default_value = "latest")]
        uuid: String,
    },
    /// Cancel a scanned QR login on the phone.
    Cancel {
        #[arg(default_value = "latest")]
        uuid: String,
    },
    /// Expire a QR code now.
    Expire {
        #[arg(default_value = "latest")]
        uuid: String,
    },
    /// Inject a fault into an endpoint.
    Fault {
        #[arg(value_parser = named::<Endpoint>())]
        endpoint: Endpoint,
        /// Hold each request this long first (e.g. 2s).
        #[arg(long)]
        latency: Option<String>,
        /// Answer with this errcode in the endpoint's wire format.
        #[arg(long, allow_negative_numbers = true)]
        errcode: Option<i64>,
        /// Answer with this HTTP status.
        #[arg(long)]
        status: Option<u16>,
        /// Close the connection without answering.
        #[arg(long)]
        drop: bool,
        /// Only for the next request.
        #[arg(long, conflicts_with = "times")]
        once: bool,
        /// Only for the next N requests [default: until cleared].
        #[arg(long)]
        times: Option<u32>,
    },
    /// List faults; --clear removes all, --remove ID one.
    Faults {
        #[arg(long)]
        clear: bool,
        #[arg(long, value_name = "ID")]
        remove: Option<u64>,
    },
    /// Show the emulated clock, or advance/freeze/unfreeze it.
    Clock {
        #[command(subcommand)]
        action: Option<ClockAction>,
    },
    /// List journal entries, wait for one (--wait), or clear (--clear).
    Journal {
        /// Wait until a request to this endpoint (check-login, authorize,
        /// token, long-poll, qrcode, login-page), path (/sns/userinfo), or
        /// `any` arrives; prints it.
        #[arg(long, value_name = "ENDPOINT|PATH|any")]
        wait: Option<String>,
        /// How long --wait waits (e.g. 30s).
        #[arg(long, default_value = "30s")]
        timeout: String,
        #[arg(long)]
        path: Option<String>,
        #[arg(long, value_parser = named::<Endpoint>())]
        endpoint: Option<Endpoint>,
        #[arg(long)]
        app: Option<String>,
        #[arg(long, allow_negative_numbers = true)]
        errcode: Option<i64>,
        /// Only entries after this id.
        #[arg(long)]
        since: Option<u64>,
        /// At most this many (the newest).
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        clear: bool,
    },
    /// Back to the state after start (keeps accounts and apps).
    Reset,
    /// Any control call: `wxemu ctl call POST /decisions '{"decision":"deny"}'`.
    Call {
        method: String,
        /// Path below /__wxemu (or the full path).
        path: String,
        /// A JSON body.
        body: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Answer {
    Allow,
    Deny,
    Timeout,
}

#[derive(Debug, Subcommand)]
pub enum RecordAction {
    /// List them (the default).
    List,
    /// Show one.
    Get { id: String },
    /// Add one: `accounts add alice nickname=Alice sex=2`.
    Add {
        id: String,
        /// field=value pairs (values parsed as JSON when they are JSON).
        fields: Vec<String>,
    },
    /// Change fields: `apps set wx123 scan_only=true`.
    Set { id: String, fields: Vec<String> },
    /// Remove one.
    Remove { id: String },
}

#[derive(Debug, Subcommand)]
pub enum ClockAction {
    /// Move the emulated time forward, e.g. `11m`, `2h`, `31days`.
    Advance {
        by: String,
    },
    Freeze,
    Unfreeze,
}

#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error("{0}")]
    Setup(String),
    #[error("cannot reach wxemu on port {port}: {message} (is `wxemu serve` running with this data directory?)")]
    Connect { port: u16, message: String },
    #[error("{status}: {message}")]
    Refused { status: StatusCode, message: String },
}

/// A control API client for one running server.
pub struct Client {
    port: u16,
    token: String,
    tls: Arc<rustls::ClientConfig>,
}

impl Client {
    /// Finds port, token and CA in `data_dir`.
    pub fn from_data_dir(data_dir: &Path, port: Option<u16>) -> Result<Client, CtlError> {
        let port = match port {
            Some(p) => p,
            None => read_serve_info(data_dir).map_or(DEFAULT_PORT, |i| i.port),
        };
        let token_path = control::token_path(data_dir);
        let token = std::fs::read_to_string(&token_path)
            .map_err(|e| {
                CtlError::Setup(format!(
                    "cannot read the control token {}: {e} (start `wxemu serve` once with this data directory)",
                    token_path.display()
                ))
            })?
            .trim()
            .to_owned();
        let ca_path = wxemu_certs::ca_cert_path(data_dir);
        let ca = CertificateDer::from_pem_file(&ca_path).map_err(|e| {
            CtlError::Setup(format!("cannot read the CA {}: {e}", ca_path.display()))
        })?;
        Client::new(port, token, ca)
    }

    pub fn new(port: u16, token: String, ca: CertificateDer<'static>) -> Result<Client, CtlError> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(ca)
            .map_err(|e| CtlError::Setup(format!("the CA certificate is unusable: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| CtlError::Setup(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Client {
            port,
            token,
            tls: Arc::new(tls),
        })
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// One call; `path` is below `/__wxemu` (a leading `/__wxemu` is kept).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        timeout: Duration,
    ) -> Result<Value, CtlError> {
        let full = if path.starts_with(PREFIX) {
            path.to_owned()
        } else {
            format!("{PREFIX}{path}")
        };
        match tokio::time::timeout(timeout, self.call_inner(method, &full, body)).await {
            Ok(result) => result,
            Err(_) => Err(CtlError::Connect {
                port: self.port,
                message: format!("no answer within {}", humantime::format_duration(timeout)),
            }),
        }
    }

    async fn call_inner(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, CtlError> {
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = format!("Bearer {}", self.token);
        let (status, body) = self
            .send(
                method,
                path,
                &[("authorization", auth.as_str())],
                Bytes::from(bytes),
            )
            .await?;
        let value: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
        };
        if status.is_success() {
            Ok(value)
        } else {
            let message = value
                .get("error")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string());
            Err(CtlError::Refused { status, message })
        }
    }

    /// Any request to the server (any path), over a fresh TLS connection
    /// validated against the CA; `headers` are added as given (the token
    /// only if they include it). Returns status and body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), CtlError> {
        let connect_err = |message: String| CtlError::Connect {
            port: self.port,
            message,
        };
        let tcp = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .map_err(|e| connect_err(e.to_string()))?;
        let name = ServerName::try_from(CANONICAL_HOST).map_err(|e| connect_err(e.to_string()))?;
        let stream = TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| connect_err(format!("TLS: {e}")))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| connect_err(e.to_string()))?;
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", format!("{CANONICAL_HOST}:{}", self.port))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| CtlError::Setup(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| connect_err(e.to_string()))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| connect_err(e.to_string()))?
            .to_bytes();
        Ok((status, body))
    }
}

fn read_serve_info(data_dir: &Path) -> Option<ServeInfo> {
    let bytes = std::fs::read(control::serve_info_path(data_dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Runs one `wxemu ctl` command; Ok(false) means "done, but exit 1"
/// (a journal wait that timed out).
pub async fn run(args: CtlArgs, data_dir: PathBuf) -> Result<bool, String> {
    if let CtlCommand::Token = args.command {
        let path = control::token_path(&data_dir);
        let token = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {}: {e} (start `wxemu serve` once with this data directory)",
                path.display()
            )
        })?;
        println!("{}", token.trim());
        return Ok(true);
    }
    if let CtlCommand::Ready { timeout } = &args.command {
        let timeout = humantime::parse_duration(timeout)
            .map_err(|e| format!("--timeout {timeout:?}: {e}"))?;
        let health = wait_ready(&data_dir, args.port, timeout).await?;
        println!(
            "{}",
            serde_json::to_string_pretty(&health).unwrap_or_default()
        );
        return Ok(true);
    }
    let client = Client::from_data_dir(&data_dir, args.port).map_err(|e| e.to_string())?;
    let (method, path, body, timeout) = request_for(args.command)?;
    let value = client
        .call(method, &path, body, timeout)
        .await
        .map_err(|e| e.to_string())?;
    if !value.is_null() {
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    }
    if value.get("timed_out") == Some(&Value::Bool(true)) {
        eprintln!("wxemu ctl: no matching request arrived in time");
        return Ok(false);
    }
    Ok(true)
}

/// Polls `health` (re-reading serve.json and the token each time, as the
/// server may still be starting) until it answers or `timeout` passes.
async fn wait_ready(
    data_dir: &Path,
    port: Option<u16>,
    timeout: Duration,
) -> Result<Value, String> {
    // A huge --timeout means "wait as long as it takes", not an overflow.
    let now = tokio::time::Instant::now();
    let deadline = now
        .checked_add(timeout)
        .unwrap_or(now + Duration::from_secs(100 * 365 * 24 * 3600));
    loop {
        let last_error = match Client::from_data_dir(data_dir, port) {
            Ok(client) => match client
                .call(Method::GET, "/health", None, Duration::from_secs(5))
                .await
            {
                Ok(health) => return Ok(health),
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "wxemu was not ready within {}: {last_error}",
                humantime::format_duration(timeout)
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

type Call = (Method, String, Option<Value>, Duration);

fn call(method: Method, path: impl Into<String>, body: Option<Value>) -> Call {
    (method, path.into(), body, CALL_TIMEOUT)
}

/// The control call a command stands for.
fn request_for(command: CtlCommand) -> Result<Call, String> {
    Ok(match command {
        CtlCommand::Token | CtlCommand::Ready { .. } => {
            return Err("token and ready are not single calls".into())
        }
        CtlCommand::Health => call(Method::GET, "/health", None),
        CtlCommand::Client { state, account } => {
            if state.is_none() && account.is_none() {
                call(Method::GET, "/client", None)
            } else {
                let mut body = Map::new();
                if let Some(state) = state {
                    body.insert("state".into(), json!(state));
                }
                if let Some(account) = account {
                    body.insert("account".into(), json!(account));
                }
                call(Method::PATCH, "/client", Some(Value::Object(body)))
            }
        }
        CtlCommand::Accounts { action } => record_call("/accounts", "id", action)?,
        CtlCommand::Apps { action } => record_call("/apps", "appid", action)?,
        CtlCommand::Decide {
            answer,
            count,
            delay,
            account,
            id: Some(id),
        } => {
            if count.is_some() || delay.is_some() {
                return Err("--count and --delay queue answers; --id answers now".into());
            }
            let decision =
                match answer {
                    Answer::Allow => "allow",
                    Answer::Deny => "deny",
                    Answer::Timeout => return Err(
                        "a pending authorization times out by itself; use allow or deny with --id"
                            .into(),
                    ),
                };
            call(
                Method::POST,
                format!("/authorizations/{id}"),
                Some(json!({ "decision": decision, "account": account })),
            )
        }
        CtlCommand::Decide {
            answer,
            count,
            delay,
            account,
            id: None,
        } => {
            let decision = match answer {
                Answer::Allow => "allow",
                Answer::Deny => "deny",
                Answer::Timeout => "timeout",
            };
            let mut body = json!({ "decision": decision });
            if let Some(count) = count {
                body["count"] = json!(count);
            }
            if let Some(delay) = delay {
                body["delay"] = json!(delay);
            }
            if let Some(account) = account {
                body["account"] = json!(account);
            }
            call(Method::POST, "/decisions", Some(body))
        }
        CtlCommand::Decisions { clear } => call(
            if clear { Method::DELETE } else { Method::GET },
            "/decisions",
            None,
        ),
        CtlCommand::Policy { mode: None } => call(Method::GET, "/policy", None),
        CtlCommand::Policy { mode: Some(mode) } => {
            call(Method::PUT, "/policy", Some(json!({ "policy": mode })))
        }
        CtlCommand::Pending => call(Method::GET, "/authorizations", None),
        CtlCommand::Qr { pending } => call(
            Method::GET,
            if pending { "/qr?pending=true" } else { "/qr" },
            None,
        ),
        CtlCommand::Scan { uuid, account } => call(
            Method::POST,
            format!("/qr/{}/scan", segment(&uuid)),
            Some(match account {
                Some(account) => json!({ "account": account }),
                None => json!({}),
            }),
        ),
        CtlCommand::Confirm { uuid } => call(
            Method::POST,
            format!("/qr/{}/confirm", segment(&uuid)),
            None,
        ),
        CtlCommand::Cancel { uuid } => {
            call(Method::POST, format!("/qr/{}/cancel", segment(&uuid)), None)
        }
        CtlCommand::Expire { uuid } => {
            call(Method::POST, format!("/qr/{}/expire", segment(&uuid)), None)
        }
        CtlCommand::Fault {
            endpoint,
            latency,
            errcode,
            status,
            drop,
            once,
            times,
        } => {
            let mut body = json!({ "endpoint": endpoint });
            if let Some(latency) = latency {
                body["latency"] = json!(latency);
            }
            if let Some(errcode) = errcode {
                body["errcode"] = json!(errcode);
            }
            if let Some(status) = status {
                body["status"] = json!(status);
            }
            if drop {
                body["drop"] = json!(true);
            }
            if once {
                body["once"] = json!(true);
            }
            if let Some(times) = times {
                body["times"] = json!(times);
            }
            call(Method::POST, "/faults", Some(body))
        }
        CtlCommand::Faults {
            clear: true,
            remove: Some(_),
        } => return Err("give --clear or --remove, not both".into()),
        CtlCommand::Faults { clear: true, .. } => call(Method::DELETE, "/faults", None),
        CtlCommand::Faults {
            remove: Some(id), ..
        } => call(Method::DELETE, format!("/faults/{id}"), None),
        CtlCommand::Faults { .. } => call(Method::GET, "/faults", None),
        CtlCommand::Clock { action: None } => call(Method::GET, "/clock", None),
        CtlCommand::Clock {
            action: Some(ClockAction::Advance { by }),
        } => call(Method::POST, "/clock/advance", Some(json!({ "by": by }))),
        CtlCommand::Clock {
            action: Some(ClockAction::Freeze),
        } => call(Method::POST, "/clock/freeze", None),
        CtlCommand::Clock {
            action: Some(ClockAction::Unfreeze),
        } => call(Method::POST, "/clock/unfreeze", None),
        CtlCommand::Journal {
            wait,
            timeout,
            path,
            endpoint,
            app,
            errcode,
            since,
            limit,
            clear,
        } => {
            if clear {
                return Ok(call(Method::DELETE, "/journal", None));
            }
            let mut query = form_urlencoded_pairs();
            let mut path = path;
            let mut endpoint = endpoint.map(|e| e.as_str().to_owned());
            if let Some(target) = &wait {
                if target.starts_with('/') {
                    path = Some(target.clone());
                } else if target != "any" {
                    let known = Endpoint::from_name(target)
                        .ok_or_else(|| format!("--wait {target:?}: not an endpoint (check-login, authorize, token, long-poll, qrcode, login-page), a /path, or any"))?;
                    endpoint = Some(known.as_str().to_owned());
                }
            }
            let pairs = [
                ("path", path),
                ("endpoint", endpoint),
                ("app", app),
                ("errcode", errcode.map(|c| c.to_string())),
                ("since", since.map(|s| s.to_string())),
                ("limit", limit.map(|l| l.to_string())),
            ];
            for (key, value) in pairs {
                if let Some(value) = value {
                    query.append_pair(key, &value);
                }
            }
            if wait.is_some() {
                if limit.is_some() {
                    return Err("--limit lists; it does not go with --wait".into());
                }
                let wait_for = humantime::parse_duration(&timeout)
                    .map_err(|e| format!("--timeout {timeout:?}: {e}"))?;
                query.append_pair("timeout", &timeout);
                (
                    Method::GET,
                    format!("/journal/wait?{}", query.finish()),
                    None,
                    wait_for.saturating_add(CALL_TIMEOUT),
                )
            } else {
                let q = query.finish();
                call(
                    Method::GET,
                    if q.is_empty() {
                        "/journal".to_owned()
                    } else {
                        format!("/journal?{q}")
                    },
                    None,
                )
            }
        }
        CtlCommand::Reset => call(Method::POST, "/reset", None),
        CtlCommand::Call { method, path, body } => {
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|_| format!("{method:?} is not an HTTP method"))?;
            let body = body
                .map(|b| serde_json::from_str(&b).map_err(|e| format!("the body is not JSON: {e}")))
                .transpose()?;
            let path = if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            };
            call(method, path, body)
        }
    })
}

fn form_urlencoded_pairs() -> url::form_urlencoded::Serializer<'static, String> {
    url::form_urlencoded::Serializer::new(String::new())
}

/// Calls on `/accounts` or `/apps`.
fn record_call(base: &str, key: &str, action: Option<RecordAction>) -> Result<Call, String> {
    Ok(match action.unwrap_or(RecordAction::List) {
        RecordAction::List => call(Method::GET, base, None),
        RecordAction::Get { id } => call(Method::GET, format!("{base}/{}", segment(&id)), None),
        RecordAction::Add { id, fields } => {
            let mut body = fields_to_json(&fields)?;
            body.insert(key.into(), json!(id));
            call(Method::POST, base, Some(Value::Object(body)))
        }
        RecordAction::Set { id, fields } => call(
            Method::PATCH,
            format!("{base}/{}", segment(&id)),
            Some(Value::Object(fields_to_json(&fields)?)),
        ),
        RecordAction::Remove { id } => {
            call(Method::DELETE, format!("{base}/{}", segment(&id)), None)
        }
    })
}

fn segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `["nickname=Alice", "sex=2", "callback_domains=[\"a.com\"]"]` → JSON
/// object; a value that is not JSON is a string.
fn fields_to_json(fields: &[String]) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for field in fields {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| format!("{field:?}: write fields as key=value"))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| json!(value));
        map.insert(key.to_owned(), value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_as_json_or_strings() {
        let map = fields_to_json(&[
            "nickname=Alice".into(),
            "sex=2".into(),
            "scan_only=true".into(),
            "callback_domains=[\"a.com\"]".into(),
        ])
        .unwrap();
        assert_eq!(
            Value::Object(map),
            json!({"nickname": "Alice", "sex": 2, "scan_only": true, "callback_domains": ["a.com"]})
        );
        assert!(fields_to_json(&["oops".into()]).is_err());
    }

    #[test]
    fn journal_wait_builds_the_query() {
        let (method, path, _, timeout) = request_for(CtlCommand::Journal {
            wait: Some("check-login".into()),
            timeout: "5s".into(),
            path: None,
            endpoint: None,
            app: Some("wx1".into()),
            errcode: None,
            since: Some(3),
            limit: None,
            clear: false,
        })
        .unwrap();
        assert_eq!(method, Method::GET);
        assert_eq!(
            path,
            "/journal/wait?endpoint=check-login&app=wx1&since=3&timeout=5s"
        );
        assert_eq!(timeout, Duration::from_secs(35));
    }
}
