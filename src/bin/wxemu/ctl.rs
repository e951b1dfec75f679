//! `wxemu ctl`: the control API for shell scripts and CI.
//!
//! Each subcommand is one call to `/__wxemu/...` on the running server. The
//! port comes from `<data dir>/serve.json` (written by `wxemu serve`), the
//! token from `<data dir>/control-token`; the connection is real TLS to
//! 127.0.0.1 ([`wxemu::client`]), validated against the data directory's CA
//! for `localhost.weixin.qq.com`, like any other client. Bodies and queries
//! are the control API's own request types, serialised. The answer is printed
//! as JSON on stdout; a refused call prints the error on stderr and exits
//! non-zero (so does a journal wait that timed out).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use hyper::Method;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::args::named;
use wxemu::control::{
    Advance, ClientChange, JournalQuery, ListQuery, PolicyChange, Resolution, Scan, PREFIX,
};
use wxemu::control::{Control, CALL_TIMEOUT};
use wxemu::registry::{self as r, Route};
use wxemu_core::ClientState;
use wxemu_core::DecisionBatch;
use wxemu_core::Endpoint;
use wxemu_core::FaultSpec;
use wxemu_core::Named;
use wxemu_core::{ApprovalMode, Decision, QueuedAnswer};

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
    /// Interception: on or off, the proxy and hosts-mode ports, the CA's trust.
    Intercept,
    /// Wait until a server runs on this data directory and answers (for CI
    /// scripts that start `wxemu serve &`).
    Ready {
        /// Give up after this long (e.g. 30s).
        #[arg(long, default_value = "30s")]
        timeout: String,
    },
    /// Follow the emulator's events (`GET /events`): one JSON object per
    /// line, until the server stops or the command is interrupted.
    Events,
    /// Show the client state and account; with flags, change them.
    Client {
        #[arg(long, value_parser = named::<ClientState>())]
        state: Option<ClientState>,
        /// Log the client in as this account id.
        #[arg(long)]
        account: Option<String>,
        /// Web authorization: the person sees only the page's snapshot
        /// (tokens say is_snapshotuser 1; userinfo answers 48001).
        #[arg(long)]
        snapshot_user: Option<bool>,
        /// Web authorization's userinfo tells gender and region (real
        /// WeChat has answered 0 and "" since 2021-10-20).
        #[arg(long)]
        full_profile: Option<bool>,
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
    /// Pages inside WeChat's browser: the next JS API answers (outcomes)
    /// and the pages that passed wx.config.
    H5 {
        #[command(subcommand)]
        action: H5Action,
    },
    /// Web WeChat: sessions, conversations, messages to the bot, logout.
    Webwx {
        #[command(subcommand)]
        action: WebwxAction,
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
        /// Only requests addressed to this host (e.g. api.weixin.qq.com when
        /// intercepted, localhost.weixin.qq.com when direct).
        #[arg(long)]
        host: Option<String>,
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
pub enum H5Action {
    /// The queued outcomes, next first.
    Outcomes,
    /// What the next call(s) of a JS API answer:
    /// `h5 outcome chooseWXPay cancel --times 2`,
    /// `h5 outcome scanQRCode ok --data '{"resultStr":"https://..."}'`.
    Outcome {
        /// The JS API as pages call it (chooseWXPay, scanQRCode, ...).
        api: String,
        #[arg(value_parser = ["ok", "cancel", "fail"])]
        result: String,
        /// Extra fields of the answer, a JSON object.
        #[arg(long)]
        data: Option<String>,
        /// How many calls get it [default: 1].
        #[arg(long)]
        times: Option<u32>,
    },
    /// Drop every queued outcome.
    Clear,
    /// The pages that passed wx.config.
    Pages,
}

#[derive(Debug, Subcommand)]
pub enum WebwxAction {
    /// List Web WeChat sessions (live and recently ended).
    Sessions,
    /// One session with its contacts.
    Session { id: u64 },
    /// A session's conversation: what the bot sent and received.
    Messages {
        /// [default: the newest session]
        #[arg(long)]
        session: Option<u64>,
    },
    /// Send the bot a text as a friend, a group (member), an official
    /// account, or the phone itself (`--from self --to NAME`).
    Send {
        /// `friend`, `filehelper`, `self`, or a UserName, contact id, remark or nickname.
        #[arg(long, default_value = "friend")]
        from: String,
        /// With --from self: the recipient [default: filehelper].
        #[arg(long)]
        to: Option<String>,
        /// Group messages: who in the group speaks.
        #[arg(long)]
        member: Option<String>,
        /// [default: the newest live session]
        #[arg(long)]
        session: Option<u64>,
        /// The text (put `--` before it if it starts with '-').
        text: String,
    },
    /// The phone logs a session out (the bot gets 1101).
    Logout { id: u64 },
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

/// Runs one `wxemu ctl` command; Ok(false) means "done, but exit 1"
/// (a journal wait that timed out).
pub async fn run(args: CtlArgs, data_dir: PathBuf) -> Result<bool, String> {
    if let CtlCommand::Token = args.command {
        let path = wxemu::control::token_path(&data_dir);
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
        let timeout = duration("--timeout", timeout)?;
        let health = wait_ready(&data_dir, args.port, timeout).await?;
        println!(
            "{}",
            serde_json::to_string_pretty(&health).unwrap_or_default()
        );
        return Ok(true);
    }
    let control = Control::from_data_dir(&data_dir, args.port).map_err(|e| e.to_string())?;
    if let CtlCommand::Events = args.command {
        control
            .follow_events(|event| println!("{event}"))
            .await
            .map_err(|e| e.to_string())?;
        return Ok(true);
    }
    let (method, path, body, timeout) = request_for(args.command)?;
    let value = control
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
        let last_error = match Control::from_data_dir(data_dir, port) {
            Ok(control) => match control
                .call(Method::GET, r::HEALTH.path, None, Duration::from_secs(5))
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
    (method, below_prefix(path.into()), body, CALL_TIMEOUT)
}

/// A registry path as the control API documents it: below [`PREFIX`]
/// (the client puts the prefix back).
fn below_prefix(path: String) -> String {
    match path.strip_prefix(PREFIX) {
        Some(rest) => rest.to_owned(),
        None => path,
    }
}

/// A call whose body is one of the control API's own request types.
fn call_with(
    method: Method,
    path: impl Into<String>,
    body: &impl Serialize,
) -> Result<Call, String> {
    let body = serde_json::to_value(body).map_err(|e| e.to_string())?;
    Ok(call(method, path, Some(body)))
}

/// `path?query` with `query` serialised as the control API parses it.
fn with_query(path: &str, query: &impl Serialize) -> Result<String, String> {
    let query = serde_urlencoded::to_string(query).map_err(|e| e.to_string())?;
    Ok(if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    })
}

/// A duration flag such as `--delay 2s`.
fn duration(flag: &str, text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{flag} {text:?}: {e}"))
}

fn optional_duration(flag: &str, text: Option<String>) -> Result<Option<Duration>, String> {
    text.map(|t| duration(flag, &t)).transpose()
}

/// The control call a command stands for.
fn request_for(command: CtlCommand) -> Result<Call, String> {
    Ok(match command {
        CtlCommand::Token | CtlCommand::Ready { .. } | CtlCommand::Events => {
            return Err("token, ready and events are not single calls".into())
        }
        CtlCommand::Health => call(Method::GET, r::HEALTH.path, None),
        CtlCommand::Intercept => call(Method::GET, r::INTERCEPT.path, None),
        CtlCommand::Client {
            state,
            account,
            snapshot_user,
            full_profile,
        } => {
            let change = ClientChange {
                state,
                account,
                snapshot_user,
                full_profile,
            };
            if serde_json::to_value(&change).is_ok_and(|v| v == serde_json::json!({})) {
                call(Method::GET, r::CLIENT.path, None)
            } else {
                call_with(Method::PATCH, r::CLIENT.path, &change)?
            }
        }
        CtlCommand::Accounts { action } => record_call(&r::ACCOUNTS, &r::ACCOUNT, "id", action)?,
        CtlCommand::Apps { action } => record_call(&r::APPS, &r::APP, "appid", action)?,
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
                    Answer::Allow => Decision::Allow,
                    Answer::Deny => Decision::Deny,
                    Answer::Timeout => return Err(
                        "a pending authorization times out by itself; use allow or deny with --id"
                            .into(),
                    ),
                };
            call_with(
                Method::POST,
                r::AUTHORIZATION.fill(&[&id.to_string()]),
                &Resolution { decision, account },
            )?
        }
        CtlCommand::Decide {
            answer,
            count,
            delay,
            account,
            id: None,
        } => {
            let decision = match answer {
                Answer::Allow => QueuedAnswer::Allow,
                Answer::Deny => QueuedAnswer::Deny,
                Answer::Timeout => QueuedAnswer::Timeout,
            };
            let batch = DecisionBatch {
                decision,
                delay: optional_duration("--delay", delay)?,
                account,
                count,
            };
            call_with(Method::POST, r::DECISIONS.path, &batch)?
        }
        CtlCommand::Decisions { clear } => call(
            if clear { Method::DELETE } else { Method::GET },
            r::DECISIONS.path,
            None,
        ),
        CtlCommand::Policy { mode: None } => call(Method::GET, r::POLICY.path, None),
        CtlCommand::Policy { mode: Some(policy) } => {
            call_with(Method::PUT, r::POLICY.path, &PolicyChange { policy })?
        }
        CtlCommand::Pending => call(Method::GET, r::AUTHORIZATIONS.path, None),
        CtlCommand::Qr { pending } => {
            let query = ListQuery {
                pending: pending.then_some(true),
            };
            call(Method::GET, with_query(r::QR_LIST.path, &query)?, None)
        }
        CtlCommand::Scan { uuid, account } => {
            call_with(Method::POST, r::QR_SCAN.fill(&[&uuid]), &Scan { account })?
        }
        CtlCommand::Confirm { uuid } => call(Method::POST, r::QR_CONFIRM.fill(&[&uuid]), None),
        CtlCommand::Cancel { uuid } => call(Method::POST, r::QR_CANCEL.fill(&[&uuid]), None),
        CtlCommand::Expire { uuid } => call(Method::POST, r::QR_EXPIRE.fill(&[&uuid]), None),
        CtlCommand::Fault {
            endpoint,
            latency,
            errcode,
            status,
            drop,
            once,
            times,
        } => {
            let spec = FaultSpec {
                endpoint,
                latency: optional_duration("--latency", latency)?,
                errcode,
                status,
                drop,
                times,
                once,
            };
            call_with(Method::POST, r::FAULTS.path, &spec)?
        }
        CtlCommand::Faults {
            clear: true,
            remove: Some(_),
        } => return Err("give --clear or --remove, not both".into()),
        CtlCommand::Faults { clear: true, .. } => call(Method::DELETE, r::FAULTS.path, None),
        CtlCommand::Faults {
            remove: Some(id), ..
        } => call(Method::DELETE, r::FAULT.fill(&[&id.to_string()]), None),
        CtlCommand::Faults { .. } => call(Method::GET, r::FAULTS.path, None),
        CtlCommand::H5 { action } => match action {
            H5Action::Outcomes => call(Method::GET, r::H5_OUTCOMES.path, None),
            H5Action::Outcome {
                api,
                result,
                data,
                times,
            } => {
                let mut body = serde_json::json!({ "api": api, "result": result });
                if let Some(data) = data {
                    body["data"] = serde_json::from_str(&data)
                        .map_err(|e| format!("--data must be a JSON object: {e}"))?;
                }
                if let Some(times) = times {
                    body["times"] = serde_json::json!(times);
                }
                call(Method::POST, r::H5_OUTCOMES.path, Some(body))
            }
            H5Action::Clear => call(Method::DELETE, r::H5_OUTCOMES.path, None),
            H5Action::Pages => call(Method::GET, r::H5_PAGES.path, None),
        },
        CtlCommand::Webwx { action } => match action {
            WebwxAction::Sessions => call(Method::GET, r::WEBWX_SESSIONS.path, None),
            WebwxAction::Session { id } => {
                call(Method::GET, r::WEBWX_SESSION.fill(&[&id.to_string()]), None)
            }
            WebwxAction::Messages { session } => call(
                Method::GET,
                match session {
                    Some(id) => format!("{}?session={id}", r::WEBWX_MESSAGES.path),
                    None => r::WEBWX_MESSAGES.path.to_owned(),
                },
                None,
            ),
            WebwxAction::Send {
                from,
                to,
                member,
                session,
                text,
            } => {
                let mut body = serde_json::json!({ "text": text, "from": from });
                if let Some(to) = to {
                    body["to"] = serde_json::json!(to);
                }
                if let Some(member) = member {
                    body["member"] = serde_json::json!(member);
                }
                if let Some(session) = session {
                    body["session"] = serde_json::json!(session);
                }
                call(Method::POST, r::WEBWX_MESSAGES.path, Some(body))
            }
            WebwxAction::Logout { id } => call(
                Method::DELETE,
                r::WEBWX_SESSION.fill(&[&id.to_string()]),
                None,
            ),
        },
        CtlCommand::Clock { action: None } => call(Method::GET, r::CLOCK.path, None),
        CtlCommand::Clock {
            action: Some(ClockAction::Advance { by }),
        } => call_with(
            Method::POST,
            r::CLOCK_ADVANCE.path,
            &Advance {
                by: duration("advance", &by)?,
            },
        )?,
        CtlCommand::Clock {
            action: Some(ClockAction::Freeze),
        } => call(Method::POST, r::CLOCK_FREEZE.path, None),
        CtlCommand::Clock {
            action: Some(ClockAction::Unfreeze),
        } => call(Method::POST, r::CLOCK_UNFREEZE.path, None),
        CtlCommand::Journal {
            wait,
            timeout,
            path,
            endpoint,
            app,
            errcode,
            host,
            since,
            limit,
            clear,
        } => {
            if clear {
                return Ok(call(Method::DELETE, r::JOURNAL.path, None));
            }
            let mut query = JournalQuery {
                path,
                endpoint,
                app,
                errcode,
                host,
                since,
                limit,
                ..JournalQuery::default()
            };
            if let Some(target) = &wait {
                if target.starts_with('/') {
                    query.path = Some(target.clone());
                } else if target != "any" {
                    let known = Endpoint::from_name(target)
                        .ok_or_else(|| format!("--wait {target:?}: not an endpoint (check-login, authorize, token, long-poll, qrcode, login-page), a /path, or any"))?;
                    query.endpoint = Some(known);
                }
            }
            if wait.is_some() {
                if limit.is_some() {
                    return Err("--limit lists; it does not go with --wait".into());
                }
                let wait_for = duration("--timeout", &timeout)?;
                query.timeout = Some(timeout);
                (
                    Method::GET,
                    below_prefix(with_query(r::JOURNAL_WAIT.path, &query)?),
                    None,
                    wait_for.saturating_add(CALL_TIMEOUT),
                )
            } else {
                call(Method::GET, with_query(r::JOURNAL.path, &query)?, None)
            }
        }
        CtlCommand::Reset => call(Method::POST, r::RESET.path, None),
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

/// Calls on `/accounts` or `/apps`. Their bodies are records (or parts of
/// one, for `set`) given as fields, sent as the JSON object they spell.
fn record_call(
    list: &Route,
    one: &Route,
    key: &str,
    action: Option<RecordAction>,
) -> Result<Call, String> {
    Ok(match action.unwrap_or(RecordAction::List) {
        RecordAction::List => call(Method::GET, list.path, None),
        RecordAction::Get { id } => call(Method::GET, one.fill(&[&id]), None),
        RecordAction::Add { id, fields } => {
            let mut body = fields_to_json(&fields)?;
            body.insert(key.into(), Value::String(id));
            call(Method::POST, list.path, Some(Value::Object(body)))
        }
        RecordAction::Set { id, fields } => call(
            Method::PATCH,
            one.fill(&[&id]),
            Some(Value::Object(fields_to_json(&fields)?)),
        ),
        RecordAction::Remove { id } => call(Method::DELETE, one.fill(&[&id]), None),
    })
}

/// `["nickname=Alice", "sex=2", "callback_domains=[\"a.com\"]"]` → JSON
/// object; a value that is not JSON is a string.
fn fields_to_json(fields: &[String]) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for field in fields {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| format!("{field:?}: write fields as key=value"))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        map.insert(key.to_owned(), value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            host: Some("api.weixin.qq.com".into()),
            since: Some(3),
            limit: None,
            clear: false,
        })
        .unwrap();
        assert_eq!(method, Method::GET);
        assert_eq!(
            path,
            "/journal/wait?endpoint=check-login&app=wx1&host=api.weixin.qq.com&since=3&timeout=5s"
        );
        assert_eq!(timeout, Duration::from_secs(35));
    }
}
