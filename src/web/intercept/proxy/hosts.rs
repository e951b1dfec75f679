//! Which hosts the proxy intercepts, and what it does with every other target.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use wxemu_certs::CaKind;

pub use wxemu_core::DEFAULT_INTERCEPTED_HOSTS;

/// The port intercepted hosts are served on; a CONNECT to one of them on any other port
/// is refused rather than tunnelled to the real WeChat.
pub const HTTPS_PORT: u16 = 443;

/// A validated, normalized (lowercase, no trailing dot), deduplicated set of host names,
/// each one the interception CA may sign.
#[derive(Clone, PartialEq, Eq)]
pub struct InterceptedHosts(Vec<String>);

impl fmt::Debug for InterceptedHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

impl Default for InterceptedHosts {
    fn default() -> Self {
        InterceptedHosts::new(DEFAULT_INTERCEPTED_HOSTS.iter().copied())
            .expect("the default hosts are all within the interception CA's constraints")
    }
}

impl InterceptedHosts {
    /// At most this many hosts (a config key, so bounded like everything else).
    pub const MAX: usize = 64;

    /// Checks every name: a DNS name the interception CA may sign (so never
    /// `localhost.weixin.qq.com`, an IP address or a non-WeChat name).
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Result<Self, String> {
        let mut hosts: Vec<String> = Vec::new();
        for name in names {
            let host = wxemu_certs::normalize_host(name.as_ref().trim());
            if !CaKind::Intercept.may_sign(&host) || !is_dns_name(&host) {
                return Err(format!(
                    "cannot intercept {:?}: only WeChat names under {} can be intercepted \
                     (and never localhost.weixin.qq.com, which is wxemu's own)",
                    name.as_ref(),
                    wxemu_certs::INTERCEPT_PERMITTED.join(", ")
                ));
            }
            if !hosts.contains(&host) {
                hosts.push(host);
            }
            if hosts.len() > Self::MAX {
                return Err(format!("at most {} intercepted hosts", Self::MAX));
            }
        }
        Ok(InterceptedHosts(hosts))
    }

    /// Whether `host` (any case, optional trailing dot) is intercepted.
    pub fn contains(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        self.0.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// The hosts, normalized, in the order given.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Letters, digits, hyphens and dots only: safe to embed in the PAC script and logs.
fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .split('.')
            .all(|label| !label.is_empty() && label.len() <= 63)
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// A request target, `host` normalized (lowercase, no brackets, no trailing dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

impl Target {
    /// Parses `host:port` (`[v6]:port` for IPv6); `default_port` when there is no port.
    pub fn parse(authority: &str, default_port: Option<u16>) -> Result<Target, String> {
        let bad = || format!("bad target {authority:?}: expected host:port");
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let (v6, after) = rest.split_once(']').ok_or_else(bad)?;
            v6.parse::<std::net::Ipv6Addr>().map_err(|_| bad())?;
            match after.strip_prefix(':') {
                Some(port) => (v6, Some(port)),
                None if after.is_empty() => (v6, None),
                None => return Err(bad()),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(bad)?,
            None => default_port.ok_or_else(bad)?,
        };
        let host = wxemu_certs::normalize_host(host);
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b))
        {
            return Err(bad());
        }
        Ok(Target { host, port })
    }

    /// The address to connect to without asking DNS, for targets on this machine:
    /// loopback IPs, `localhost`, and `localhost.weixin.qq.com` (wxemu's own name, which
    /// public DNS maps to 127.0.0.1 anyway).
    pub fn loopback_ip(&self) -> Option<IpAddr> {
        match self.host.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback().then_some(ip),
            Err(_) if self.host == "localhost" || self.host == wxemu_certs::SERVER_NAME => {
                Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
            Err(_) => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_validated_and_normalized() {
        let hosts = InterceptedHosts::new(["API.weixin.qq.com.", "api.weixin.qq.com"]).unwrap();
        assert_eq!(hosts.as_slice(), ["api.weixin.qq.com"]);
        assert!(hosts.contains("Api.Weixin.QQ.com."));
        assert!(!hosts.contains("open.weixin.qq.com"));
        for bad in [
            "localhost.weixin.qq.com",
            "example.com",
            "open.weixin.qq.com.evil.example",
            "127.0.0.1",
            "a\"b.weixin.qq.com",
            "",
        ] {
            assert!(InterceptedHosts::new([bad]).is_err(), "{bad}");
        }
        assert_eq!(
            InterceptedHosts::default().as_slice(),
            DEFAULT_INTERCEPTED_HOSTS
        );
        let many: Vec<String> = (0..100).map(|i| format!("h{i}.weixin.qq.com")).collect();
        assert!(InterceptedHosts::new(&many).is_err());
    }

    #[test]
    fn targets_parse() {
        let t = Target::parse("Open.Weixin.qq.com:443", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("open.weixin.qq.com", 443));
        let t = Target::parse("[::1]:8080", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 8080));
        assert_eq!(t.to_string(), "[::1]:8080");
        assert_eq!(t.loopback_ip(), Some("::1".parse().unwrap()));
        assert_eq!(Target::parse("example.com", Some(80)).unwrap().port, 80);
        for bad in [
            "example.com",
            "example.com:0",
            "example.com:99999",
            ":443",
            "[::1",
            "[zz]:1",
            "a b:1",
        ] {
            assert!(Target::parse(bad, None).is_err(), "{bad}");
        }
        let lh = Target::parse("localhost.weixin.qq.com:14013", None).unwrap();
        assert_eq!(lh.loopback_ip(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(
            Target::parse("10.0.0.1:1", None).unwrap().loopback_ip(),
            None
        );
        assert_eq!(
            Target::parse("example.com:1", None).unwrap().loopback_ip(),
            None
        );
    }
}
