//! `wxemu doctor`: why does the login page fall back to the QR code? One screen of checks,
//! each with a fix: name resolution, who holds the port, whether wxemu answers
//! check-login over TLS signed by this data directory's CA, trust stores, certificate
//! expiry, clock, and the Origin allowlist.
//!
//! Nothing here reaches the network beyond 127.0.0.1 (and the system resolver for the
//! name check), and nothing is written: the doctor never creates a CA or a config.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use wxemu_certs::{read_pem_cert, trust_status, validity, CaCert};

use crate::client::{self, Client};
use crate::web::front::guard::WECHAT_ORIGIN;
use wxemu_core::CANONICAL_HOST;

mod intercept;
mod report;
pub use report::{system_resolver, Check, DoctorOptions, Level, Report, Resolver};

/// Runs every check.
pub async fn run(options: &DoctorOptions) -> Report {
    let ca = CaCert::load(&options.data_dir);
    let mut checks = vec![check_name(options).await];
    let (port, listening) = check_port(options).await;
    checks.push(port);
    checks.push(match (&ca, listening) {
        (_, false) => Check::new("server", Level::Skip, "nothing to ask: the port is closed"),
        (Err(_), true) => Check::new(
            "server",
            Level::Skip,
            "no CA in the data directory to verify the server with",
        ),
        (Ok(ca), true) => check_server(options, ca).await,
    });
    if listening && ca.is_ok() {
        checks.push(check_wire_warnings(options).await);
    }
    checks.push(match &ca {
        Ok(ca) => check_trust(options, ca).await,
        Err(e) => Check::new("trust", Level::Fail, format!("no usable CA: {e}"))
            .fix("start `wxemu serve` once (it creates the CA), then `wxemu trust install`"),
    });
    let (certs, clock) = check_certificates(options, ca.as_ref().ok());
    checks.push(certs);
    checks.push(clock);
    checks.push(check_origins(options));
    checks.extend(intercept::checks(options).await);
    Report {
        ok: checks.iter().all(|c| c.level != Level::Fail),
        port: options.port,
        data_dir: options.data_dir.clone(),
        checks,
    }
}

async fn check_name(options: &DoctorOptions) -> Check {
    let resolver = options.resolver.clone();
    let name = options.name.clone();
    let port = options.port;
    let hosts_note = match crate::hosts::status(&options.hosts_file) {
        Ok(s) if !s.ours.is_empty() => {
            format!("{}: wxemu's line is present", options.hosts_file.display())
        }
        Ok(s) if !s.others.is_empty() => format!(
            "{}: mapped on line {} (not by wxemu)",
            options.hosts_file.display(),
            s.others[0].0
        ),
        Ok(_) => format!(
            "{}: no entry, so public DNS decides",
            options.hosts_file.display()
        ),
        Err(e) => e.to_string(),
    };
    let lookup = tokio::time::timeout(
        options.timeout,
        tokio::task::spawn_blocking(move || resolver(&name, port)),
    )
    .await;
    let fix = "add it to the hosts file (works offline): sudo wxemu hosts add";
    let addrs = match lookup {
        Err(_) => {
            return Check::new(
                "name",
                Level::Fail,
                format!(
                    "resolving {} timed out after {:?} (offline, and not in the hosts file?)",
                    options.name, options.timeout
                ),
            )
            .details(vec![hosts_note])
            .fix(fix)
        }
        Ok(Err(e)) => return Check::new("name", Level::Fail, format!("cannot resolve: {e}")),
        Ok(Ok(Err(e))) => {
            return Check::new(
                "name",
                Level::Fail,
                format!("{} does not resolve: {e}", options.name),
            )
            .details(vec![hosts_note])
            .fix(fix)
        }
        Ok(Ok(Ok(addrs))) => addrs,
    };
    let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
    let shown: Vec<String> = ips.iter().map(ToString::to_string).collect();
    let summary = format!(
        "{} -> {}",
        options.name,
        if shown.is_empty() {
            "nothing".to_owned()
        } else {
            shown.join(", ")
        }
    );
    if !ips.is_empty()
        && ips.iter().all(IpAddr::is_loopback)
        && ips.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST))
    {
        Check::new("name", Level::Ok, summary).details(vec![hosts_note])
    } else if ips.iter().all(IpAddr::is_loopback) && !ips.is_empty() {
        Check::new(
            "name",
            Level::Fail,
            format!("{summary}: wxemu listens on 127.0.0.1 only"),
        )
        .details(vec![hosts_note])
        .fix(fix)
    } else {
        Check::new(
            "name",
            Level::Fail,
            format!("{summary}: not loopback, so the page would talk to another machine"),
        )
        .details(vec![hosts_note])
        .fix(format!(
            "{fix} (and check DNS overrides, VPN or proxy settings)"
        ))
    }
}

async fn check_port(options: &DoctorOptions) -> (Check, bool) {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let connected =
        tokio::time::timeout(options.timeout, tokio::net::TcpStream::connect(addr)).await;
    let owner = owner_of_port(options.port);
    let who = owner
        .as_ref()
        .map(|o| format!("{} (pid {})", o.name, o.pid))
        .unwrap_or_else(|| "a process wxemu cannot identify".to_owned());
    match connected {
        Ok(Ok(_)) => (
            Check::new("port", Level::Ok, format!("{addr} is listening: {who}")),
            true,
        ),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => (
            Check::new(
                "port",
                Level::Fail,
                format!("nothing is listening on {addr}"),
            )
            .fix(format!("start wxemu: wxemu serve --port {}", options.port)),
            false,
        ),
        Ok(Err(e)) => (
            Check::new(
                "port",
                Level::Fail,
                format!("cannot connect to {addr}: {e}"),
            ),
            false,
        ),
        Err(_) => (
            Check::new(
                "port",
                Level::Fail,
                format!("connecting to {addr} timed out: {who} accepts nothing"),
            ),
            false,
        ),
    }
}

/// A process listening on a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortOwner {
    pub pid: u32,
    pub name: String,
}

/// Who listens on 127.0.0.1:`port` (or all addresses): /proc on Linux, `lsof` elsewhere.
pub fn owner_of_port(port: u16) -> Option<PortOwner> {
    if cfg!(target_os = "linux") {
        let inodes: Vec<u64> = ["/proc/net/tcp", "/proc/net/tcp6"]
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .flat_map(|text| listening_inodes(&text, port))
            .collect();
        if inodes.is_empty() {
            return None;
        }
        let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
        let procs = std::fs::read_dir("/proc").ok()?;
        for entry in procs.filter_map(Result::ok) {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
                continue;
            };
            let holds = fds.filter_map(Result::ok).any(|fd| {
                std::fs::read_link(fd.path())
                    .is_ok_and(|target| wanted.iter().any(|w| target.as_os_str() == w.as_str()))
            });
            if holds {
                let name = std::fs::read_to_string(entry.path().join("comm"))
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_else(|_| "?".to_owned());
                return Some(PortOwner { pid, name });
            }
        }
        None
    } else {
        let out = std::process::Command::new("lsof")
            .args(["-nP", &format!("-iTCP:{port}"), "-sTCP:LISTEN", "-Fpc"])
            .output()
            .ok()?;
        parse_lsof(&String::from_utf8_lossy(&out.stdout))
    }
}

/// Socket inodes in LISTEN state on `port` (127.0.0.1, 0.0.0.0, or the v6 equivalents)
/// from the text of /proc/net/tcp or /proc/net/tcp6.
pub fn listening_inodes(text: &str, port: u16) -> Vec<u64> {
    let port_hex = format!("{port:04X}");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (addr, local_port) = fields.get(1)?.rsplit_once(':')?;
            let state = fields.get(3)?;
            let inode = fields.get(9)?.parse::<u64>().ok()?;
            let loopback_or_any = matches!(
                addr,
                "0100007F"
                    | "00000000"
                    | "00000000000000000000000000000000"
                    | "00000000000000000000000001000000"
                    | "0000000000000000FFFF00000100007F"
            );
            (*state == "0A" && local_port.eq_ignore_ascii_case(&port_hex) && loopback_or_any)
                .then_some(inode)
        })
        .collect()
}

/// The first process in `lsof -F pc` output.
pub fn parse_lsof(text: &str) -> Option<PortOwner> {
    let mut pid = None;
    for line in text.lines() {
        if let Some(p) = line.strip_prefix('p') {
            pid = p.parse().ok();
        } else if let (Some(name), Some(pid)) = (line.strip_prefix('c'), pid) {
            return Some(PortOwner {
                pid,
                name: name.to_owned(),
            });
        }
    }
    None
}

/// Appid used when neither `--appid` nor `[[apps]]` names one. In permissive mode the
/// server registers it like any unknown appid.
pub const PROBE_APPID: &str = "wxemudoctor";

/// What check-login is asked about: `--appid`/`--redirect-uri`, else the config's first
/// app and its first callback domain, else a probe.
fn probe_target(options: &DoctorOptions) -> (String, String) {
    let first_app = wxemu_core::Config::load(&options.config_path)
        .ok()
        .and_then(|c| c.apps.first().cloned());
    let appid = options
        .appid
        .clone()
        .or_else(|| first_app.as_ref().map(|a| a.appid.clone()))
        .unwrap_or_else(|| PROBE_APPID.to_owned());
    let domain = first_app
        .filter(|a| a.appid == appid)
        .and_then(|a| a.callback_domains.first().cloned());
    let redirect = options
        .redirect_uri
        .clone()
        .unwrap_or_else(|| match domain {
            Some(d) => format!("https://{d}/"),
            None => "https://localhost/wxemu-doctor".to_owned(),
        });
    (appid, redirect)
}

/// Why a non-zero check-login errcode makes the page show the QR code, and the fix.
fn explain_errcode(code: i64, appid: &str) -> (String, String) {
    use crate::web::surfaces::fastlogin::errcode as e;
    let config = "the config ([client] state = \"logged_in\") or the control API";
    match i32::try_from(code).unwrap_or(i32::MAX) {
        e::LOGGED_OUT => ("the emulated client is logged out".into(), format!("log it in: {config}")),
        e::LOCKED => ("the emulated client is locked".into(), format!("unlock it: {config}")),
        e::SCAN_ONLY => (format!("app {appid} is scan_only"), format!("remove scan_only from the [[apps]] entry of {appid}")),
        e::UNKNOWN_APP => (
            format!("strict mode and {appid} is not in [[apps]]"),
            format!("add an [[apps]] entry with appid = \"{appid}\", or set [platform] mode = \"permissive\""),
        ),
        e::REDIRECT_NOT_ALLOWED => (
            "the redirect_uri's host is not a callback domain of the app".into(),
            format!("add the site's host to callback_domains of {appid} (check with --appid and --redirect-uri)"),
        ),
        _ => ("unexpected errcode".into(), "run `wxemu serve` with RUST_LOG=wxemu=debug and look at the request".into()),
    }
}

/// Who listens on `port`, for a message: "name (pid N)" when it can be found.
fn describe_port_owner(port: u16) -> String {
    owner_of_port(port)
        .map(|o| format!("{} (pid {})", o.name, o.pid))
        .unwrap_or_else(|| "the process on the port".to_owned())
}

async fn check_server(options: &DoctorOptions, ca: &CaCert) -> Check {
    let (appid, redirect) = probe_target(options);
    let timeout = options.timeout * 2;
    match check_login(options.port, ca, timeout, &appid, &redirect).await {
        Err(client::Error::Timeout(_)) => {
            let who = describe_port_owner(options.port);
            Check::new(
                "server",
                Level::Fail,
                format!(
                    "{who} accepted the connection but answered no TLS check-login within {timeout:?}"
                ),
            )
            .fix(format!(
                "if that is not wxemu (a real WeChat?), quit it or run wxemu on the next port the page tries: wxemu serve --port {}; if it is wxemu, restart it",
                next_port(options.port)
            ))
        }
        Err(client::Error::Tls { source: e, .. }) => {
            let who = describe_port_owner(options.port);
            Check::new(
                "server",
                Level::Fail,
                format!("{who} does not present a certificate from this data directory's CA ({e})"),
            )
            .fix(format!(
                "if it is a real WeChat or another wxemu, quit it, or run this wxemu on the next port the page tries: wxemu serve --port {}",
                next_port(options.port)
            ))
        }
        Err(e) => Check::new("server", Level::Fail, format!("check-login failed: {e}"))
            .fix("restart `wxemu serve`; if it persists, run it with RUST_LOG=wxemu=debug"),
        Ok(reply) => {
            let json: Option<serde_json::Value> = reply.json().ok();
            let errcode = json.as_ref().and_then(|j| j["errcode"].as_i64());
            match errcode {
                Some(0) => {
                    let nickname = json
                        .as_ref()
                        .and_then(|j| j["jsdata"]["nickname"].as_str())
                        .unwrap_or("?")
                        .to_owned();
                    Check::new(
                        "server",
                        Level::Ok,
                        format!(
                            "check-login for {appid} answers errcode 0 (logged in as {nickname:?})"
                        ),
                    )
                }
                Some(code) => {
                    let msg = json
                        .as_ref()
                        .and_then(|j| j["errmsg"].as_str())
                        .unwrap_or("")
                        .to_owned();
                    let (why, fix) = explain_errcode(code, &appid);
                    Check::new(
                        "server",
                        Level::Fail,
                        format!("check-login for {appid} answers errcode {code}: {why}, so the page shows the QR code"),
                    )
                    .details(vec![format!("errmsg: {msg}"), format!("redirect_uri: {redirect}")])
                    .fix(fix)
                }
                None => Check::new(
                    "server",
                    Level::Fail,
                    format!(
                        "HTTP {} with a body that is not check-login's JSON: {}",
                        reply.status.as_u16(),
                        reply.text().chars().take(120).collect::<String>()
                    ),
                )
                .fix("the process on the port is not wxemu: quit it or use another --port"),
            }
        }
    }
}

/// What the running wxemu accepted that real WeChat may refuse (a `state`
/// over 128 bytes, a web authorization outside WeChat's browser...), from
/// its journal's warnings: a QA run should not pass here and fail there.
async fn check_wire_warnings(options: &DoctorOptions) -> Check {
    const NAME: &str = "real-wechat";
    let journal = match crate::control_client::Control::from_data_dir(
        &options.data_dir,
        Some(options.port),
    ) {
        Ok(control) => {
            control
                .call(hyper::Method::GET, "/journal", None, options.timeout * 2)
                .await
        }
        Err(e) => Err(e),
    };
    let journal = match journal {
        Ok(journal) => journal,
        Err(e) => return Check::new(NAME, Level::Skip, format!("cannot read the journal: {e}")),
    };
    let warned: Vec<String> = journal["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let first = entry["warnings"].as_array()?.first()?.as_str()?;
            Some(format!(
                "{} {}: {first}",
                entry["method"].as_str().unwrap_or("?"),
                entry["path"].as_str().unwrap_or("?")
            ))
        })
        .collect();
    match warned.len() {
        0 => Check::new(
            NAME,
            Level::Ok,
            "no request in the journal relied on what real WeChat may refuse",
        ),
        n => Check::new(
            NAME,
            Level::Warn,
            format!("{n} request(s) in the journal relied on what real WeChat may refuse"),
        )
        .details(warned.into_iter().rev().take(5).collect())
        .fix("see each line; [platform] mode = \"strict\" refuses them as WeChat would"),
    }
}

fn next_port(port: u16) -> u16 {
    let known = wxemu_core::KNOWN_PORTS;
    known
        .iter()
        .skip_while(|&&p| p != port)
        .nth(1)
        .copied()
        .unwrap_or(known[1])
}

/// POSTs a check-login as the real page would (Origin open.weixin.qq.com, SNI
/// localhost.weixin.qq.com), trusting only `ca`.
async fn check_login(
    port: u16,
    ca: &CaCert,
    timeout: Duration,
    appid: &str,
    redirect_uri: &str,
) -> Result<client::Response, client::Error> {
    let client = Client::local(port)
        .trust_der(ca.der.clone())
        .timeout(timeout)
        .build()?;
    let body = serde_json::json!({
        "apiname": crate::web::surfaces::fastlogin::CHECK_LOGIN_API,
        "jsdata": {"appid": appid, "scope": "snsapi_login", "redirect_uri": redirect_uri, "state": ""}
    });
    client
        .post(crate::web::registry::CHECK_LOGIN.path)
        .origin(WECHAT_ORIGIN)
        .json(&body)
        .send()
        .await
}

async fn check_trust(options: &DoctorOptions, ca: &CaCert) -> Check {
    let targets = options.trust.clone();
    let ca2 = ca.clone();
    let report = match tokio::task::spawn_blocking(move || trust_status(&ca2, &targets)).await {
        Ok(r) => r,
        Err(e) => {
            return Check::new(
                "trust",
                Level::Fail,
                format!("checking the stores failed: {e}"),
            )
        }
    };
    let details: Vec<String> = report.stores.iter().map(ToString::to_string).collect();
    let trusted = report.trusted_count();
    let missing = report.missing_count();
    let fix = "wxemu trust install";
    if trusted == 0 {
        Check::new(
            "trust",
            Level::Fail,
            format!("no trust store trusts the CA {}", ca.tag()),
        )
        .details(details)
        .fix(fix)
    } else if missing > 0 {
        Check::new(
            "trust",
            Level::Warn,
            format!("{trusted} store(s) trust the CA, {missing} do not"),
        )
        .details(details)
        .fix(fix)
    } else {
        Check::new("trust", Level::Ok, format!("trusted in {trusted} store(s)")).details(details)
    }
}

const NO_LEAF_YET: &str = "no server certificate yet (`wxemu serve` creates it on start)";

const RENEW_WARNING: Duration = Duration::from_secs(30 * 86_400);

/// Certificate expiry, and the clock against the certificates' dates (no network time).
fn check_certificates(options: &DoctorOptions, ca: Option<&CaCert>) -> (Check, Check) {
    let now = SystemTime::now();
    let Some(ca) = ca else {
        return (
            Check::new("certificates", Level::Fail, "no CA in the data directory")
                .fix("start `wxemu serve` once"),
            Check::new(
                "clock",
                Level::Skip,
                "no certificates to compare the clock with",
            ),
        );
    };
    let leaf_path = wxemu_certs::leaf_cert_path(&options.data_dir);
    let leaf = if leaf_path.exists() {
        read_pem_cert(&leaf_path)
    } else {
        Err(NO_LEAF_YET.to_owned())
    };
    let ca_validity = validity(&ca.der);
    let leaf_validity = leaf.as_deref().map_err(Clone::clone).and_then(validity);
    judge_certificates(&ca_validity, &leaf_validity, now)
}

type Validity = Result<(SystemTime, SystemTime), String>;

/// The `certificates` and `clock` verdicts for these validity windows at `now`.
fn judge_certificates(
    ca_validity: &Validity,
    leaf_validity: &Validity,
    now: SystemTime,
) -> (Check, Check) {
    let mut problems = Vec::new();
    let mut level = Level::Ok;
    let mut lines = Vec::new();
    let mut not_before_max = None;
    for (what, validity) in [("CA", ca_validity), ("leaf", leaf_validity)] {
        match validity {
            Ok((nb, na)) => {
                not_before_max = not_before_max.max(Some(*nb));
                lines.push(format!(
                    "{what} valid until {}",
                    humantime::format_rfc3339_seconds(*na)
                ));
                match na.duration_since(now) {
                    Err(_) => {
                        level = Level::Fail;
                        problems.push(format!("the {what} has expired"));
                    }
                    Ok(left) if left < RENEW_WARNING => {
                        if level == Level::Ok {
                            level = Level::Warn;
                        }
                        problems.push(format!(
                            "the {what} expires in {} days",
                            left.as_secs() / 86_400
                        ));
                    }
                    Ok(_) => {}
                }
            }
            Err(e) if e == NO_LEAF_YET => {
                if level == Level::Ok {
                    level = Level::Warn;
                }
                problems.push(e.clone());
            }
            Err(e) => {
                level = Level::Fail;
                problems.push(format!("{what}: {e}"));
            }
        }
    }
    let certs = if problems.is_empty() {
        Check::new("certificates", Level::Ok, "CA and leaf are valid").details(lines)
    } else {
        Check::new("certificates", level, problems.join("; "))
            .details(lines)
            .fix("restart `wxemu serve` (it renews the leaf); an expired CA needs deleting ca.pem and ca-key.pem, then `wxemu trust install` again")
    };
    let clock = match not_before_max {
        Some(nb) if now < nb => Check::new(
            "clock",
            Level::Fail,
            format!(
                "the system clock ({}) is before the certificates' start ({}): it is wrong",
                humantime::format_rfc3339_seconds(now),
                humantime::format_rfc3339_seconds(nb)
            ),
        )
        .fix("set the system clock (enable NTP)"),
        Some(_) => Check::new(
            "clock",
            Level::Ok,
            format!(
                "{} is inside the certificates' validity (no network time source is consulted)",
                humantime::format_rfc3339_seconds(now)
            ),
        ),
        None => Check::new("clock", Level::Skip, "no readable certificate dates"),
    };
    (certs, clock)
}

fn check_origins(options: &DoctorOptions) -> Check {
    match wxemu_core::Config::load(&options.config_path) {
        Ok(config) => {
            let extras = &config.server.allowed_origins;
            let mut details = vec![
                format!("{WECHAT_ORIGIN} (the real login page; always allowed)"),
                format!("https://{CANONICAL_HOST}:{}, https://localhost:{}, https://127.0.0.1:{} (wxemu's own pages)", options.port, options.port, options.port),
            ];
            details.extend(
                extras
                    .iter()
                    .map(|o| format!("{o} (config [server] allowed_origins)")),
            );
            Check::new(
                "origins",
                Level::Ok,
                format!("{} origin(s) may call the fast-login API", 3 + extras.len()),
            )
            .details(details)
        }
        Err(e) => Check::new(
            "origins",
            Level::Fail,
            format!("the config cannot be read: {e}"),
        )
        .fix(format!("fix {}", options.config_path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROC_NET_TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:36BD 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 424242 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:36BD 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 515151 1\n   2: 0A000001:36BE 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 616161 1\n";

    #[test]
    fn finds_listening_sockets_in_proc_net_tcp() {
        assert_eq!(listening_inodes(PROC_NET_TCP, 14013), [424242]);
        // 14014 listens on 10.0.0.1 only: not reachable as 127.0.0.1.
        assert!(listening_inodes(PROC_NET_TCP, 14014).is_empty());
        assert!(listening_inodes("", 14013).is_empty());
    }

    #[test]
    fn parses_lsof() {
        assert_eq!(
            parse_lsof("p123\ncWeChat\nf5\n"),
            Some(PortOwner {
                pid: 123,
                name: "WeChat".into()
            })
        );
        assert_eq!(parse_lsof(""), None);
    }

    #[test]
    fn certificate_expiry_and_clock_verdicts() {
        let day = Duration::from_secs(86_400);
        let now = SystemTime::UNIX_EPOCH + 20_000 * day;
        let ca: Validity = Ok((now - 100 * day, now + 3000 * day));
        let judge = |leaf: Validity| judge_certificates(&ca, &leaf, now);

        let (certs, clock) = judge(Ok((now - day, now + 300 * day)));
        assert_eq!((certs.level, clock.level), (Level::Ok, Level::Ok));

        let (certs, _) = judge(Ok((now - 390 * day, now + 7 * day)));
        assert_eq!(certs.level, Level::Warn);
        assert!(
            certs.summary.contains("leaf expires in 7 days"),
            "{}",
            certs.summary
        );

        let (certs, _) = judge(Ok((now - 400 * day, now - day)));
        assert_eq!(certs.level, Level::Fail);
        assert!(certs.summary.contains("leaf has expired"));
        assert!(certs.fix.is_some());

        // A leaf that starts tomorrow: the clock is behind.
        let (_, clock) = judge(Ok((now + day, now + 300 * day)));
        assert_eq!(clock.level, Level::Fail);
        assert!(clock.fix.as_deref().unwrap().contains("clock"));

        let (certs, clock) = judge(Err(NO_LEAF_YET.to_owned()));
        assert_eq!((certs.level, clock.level), (Level::Warn, Level::Ok));
        let (certs, _) = judge(Err("leaf.pem: garbage".to_owned()));
        assert_eq!(certs.level, Level::Fail);
    }

    #[test]
    fn errcodes_are_explained() {
        use crate::web::surfaces::fastlogin::errcode as e;
        for code in [
            e::LOGGED_OUT,
            e::LOCKED,
            e::SCAN_ONLY,
            e::UNKNOWN_APP,
            e::REDIRECT_NOT_ALLOWED,
        ] {
            let (why, fix) = explain_errcode(i64::from(code), "wx1");
            assert!(!why.contains("unexpected") && !fix.is_empty(), "{code}");
        }
        assert!(explain_errcode(99_999, "wx1").0.contains("unexpected"));
    }

    #[test]
    fn next_port_follows_the_page() {
        assert_eq!(next_port(14013), 14014);
        assert_eq!(next_port(1234), 14014);
    }
}
