//! `wxemu doctor`'s interception checks, each with a one-line fix: the interception CA
//! is trusted (`intercept-trust`), the proxy answers (`proxy`, with `--proxy-port`), the
//! intercepted names resolve to loopback (`intercept-names`, hosts mode, with
//! `--intercept-port`). They run only when interception is in use: its CA exists or
//! one of those flags is given. Nothing is created and nothing leaves 127.0.0.1
//! (besides the system resolver).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wxemu_certs::CaKind;
use wxemu_certs::{trust_status, CaCert};

use super::report::{Check, DoctorOptions, Level};
use crate::web::intercept::proxy::PAC_PATH;

/// The interception checks for `options` (empty when interception is not in use).
pub async fn checks(options: &DoctorOptions) -> Vec<Check> {
    let ca_file = wxemu_certs::intercept_ca_cert_path(&options.data_dir);
    let in_use =
        ca_file.exists() || options.proxy_port.is_some() || options.intercept_port.is_some();
    if !in_use {
        return Vec::new();
    }
    let mut checks = vec![check_trust(options).await];
    if let Some(port) = options.proxy_port {
        checks.push(check_proxy(port, options.timeout).await);
    }
    if options.intercept_port.is_some() {
        checks.push(check_names(options).await);
    }
    checks
}

async fn check_trust(options: &DoctorOptions) -> Check {
    let ca = match CaCert::load_of(&options.data_dir, CaKind::Intercept) {
        Ok(ca) => ca,
        Err(e) => {
            return Check::new(
                "intercept-trust",
                Level::Fail,
                format!("no usable interception CA: {e}"),
            )
            .fix("wxemu ca path --intercept (creates it), then wxemu trust install --intercept")
        }
    };
    let targets = options.trust.clone();
    let ca2 = ca.clone();
    let Ok(report) = tokio::task::spawn_blocking(move || trust_status(&ca2, &targets)).await else {
        return Check::new("intercept-trust", Level::Fail, "checking the stores failed");
    };
    let details: Vec<String> = report.stores.iter().map(ToString::to_string).collect();
    let trusted = report.trusted_count();
    let missing = report.missing_count();
    let fix = "wxemu trust install --intercept (backends: eval \"$(wxemu trust env --intercept)\")";
    let check = match (trusted, missing) {
        (0, _) => Check::new(
            "intercept-trust",
            Level::Fail,
            format!("no trust store trusts the interception CA {}", ca.tag()),
        )
        .fix(fix),
        (_, 0) => Check::new(
            "intercept-trust",
            Level::Ok,
            format!("interception CA trusted in {trusted} store(s)"),
        ),
        _ => Check::new(
            "intercept-trust",
            Level::Warn,
            format!("{trusted} store(s) trust the interception CA, {missing} do not"),
        )
        .fix(fix),
    };
    check.details(details)
}

/// The proxy's own PAC page, fetched as a browser would.
async fn check_proxy(port: u16, timeout: Duration) -> Check {
    let fetch = async {
        let mut tcp =
            tokio::net::TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        tcp.write_all(
            format!(
                "GET {PAC_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await?;
        let mut reply = Vec::new();
        tcp.take(64 * 1024).read_to_end(&mut reply).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&reply).into_owned())
    };
    let fix = format!("start it: wxemu serve --proxy-port {port}");
    match tokio::time::timeout(timeout, fetch).await {
        Ok(Ok(reply)) if reply.starts_with("HTTP/1.1 200") && reply.contains("FindProxyForURL") => Check::new(
            "proxy",
            Level::Ok,
            format!("wxemu's proxy answers on 127.0.0.1:{port} (PAC http://127.0.0.1:{port}{PAC_PATH})"),
        ),
        Ok(Ok(reply)) => Check::new(
            "proxy",
            Level::Fail,
            format!(
                "something on 127.0.0.1:{port} answers, but not as wxemu's proxy: {:?}",
                reply.lines().next().unwrap_or("")
            ),
        )
        .fix(fix),
        Ok(Err(e)) => Check::new("proxy", Level::Fail, format!("no proxy on 127.0.0.1:{port}: {e}")).fix(fix),
        Err(_) => Check::new("proxy", Level::Fail, format!("127.0.0.1:{port} did not answer within {timeout:?}"))
            .fix(fix),
    }
}

/// Hosts mode: every intercepted name must resolve to loopback.
async fn check_names(options: &DoctorOptions) -> Check {
    let names = wxemu_core::Config::load(&options.config_path)
        .map(|c| c.intercept.hosts)
        .unwrap_or_else(|_| wxemu_core::InterceptConfig::default().hosts);
    let resolver = options.resolver.clone();
    let port = options.intercept_port.unwrap_or(443);
    let lookups = tokio::task::spawn_blocking(move || {
        names
            .into_iter()
            .map(|name| {
                let verdict = match resolver(&name, port) {
                    Ok(addrs)
                        if !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()) =>
                    {
                        Ok(())
                    }
                    Ok(addrs) => Err(format!(
                        "{name} -> {}",
                        addrs
                            .iter()
                            .map(|a| a.ip().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    Err(e) => Err(format!("{name}: {e}")),
                };
                (name, verdict)
            })
            .collect::<Vec<_>>()
    });
    let Ok(Ok(results)) = tokio::time::timeout(options.timeout * 4, lookups).await else {
        return Check::new(
            "intercept-names",
            Level::Fail,
            "resolving the intercepted names timed out",
        )
        .fix("sudo wxemu hosts add --intercept");
    };
    let wrong: Vec<String> = results
        .iter()
        .filter_map(|(_, v)| v.clone().err())
        .collect();
    if wrong.is_empty() {
        Check::new(
            "intercept-names",
            Level::Ok,
            format!(
                "all {} intercepted names resolve to loopback",
                results.len()
            ),
        )
    } else {
        Check::new(
            "intercept-names",
            Level::Fail,
            format!(
                "{} of {} intercepted names do not resolve to loopback",
                wrong.len(),
                results.len()
            ),
        )
        .details(wrong)
        .fix("sudo wxemu hosts add --intercept (or docker-compose extra_hosts)")
    }
}
