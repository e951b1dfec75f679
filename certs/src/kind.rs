//! wxemu's two certificate authorities and what tells them apart.
//!
//! * [`CaKind::FastLogin`] signs the one leaf of the desktop client's local service
//!   (`localhost.weixin.qq.com`, `localhost`, loopback IPs). Created on first start.
//! * [`CaKind::Intercept`] signs leaves for the WeChat hosts wxemu *plays* when it
//!   intercepts (`open.weixin.qq.com`, `api.weixin.qq.com`, `res.wx.qq.com`, the Web
//!   WeChat hosts…). Created only when interception is first used, so that someone who
//!   never intercepts never has a CA for real WeChat names on their disk.
//!
//! The two are kept apart on purpose: a user who trusts only the fast-login CA has not
//! allowed anything on the machine to impersonate the real WeChat servers, and each
//! can be trusted, distrusted and deleted on its own. Their name constraints do not
//! overlap: the interception CA explicitly excludes `localhost.weixin.qq.com`.

use std::net::Ipv6Addr;

use rcgen::{CidrSubnet, GeneralSubtree, NameConstraints};

/// The DNS subtrees the interception CA may sign (each name and all its subdomains).
///
/// * `weixin.qq.com`: the Open Platform (`open.`, `lp.open.`, `long.open.`), the API
///   (`api.`), Web WeChat's login host (`login.`).
/// * `wx.qq.com`: `res.wx.qq.com` (wxLogin.js) and Web WeChat's home host with its
///   `login.`, `webpush.` and `file.` companions.
/// * `wx2.qq.com`, `wx8.qq.com`: the other Web WeChat home hosts (with `webpush.`/`file.`).
/// * `web.wechat.com`: Web WeChat's home host for accounts outside China (protocol §3),
///   with `webpush.`/`file.`/`login.` below it. Nothing else of `wechat.com`.
pub const INTERCEPT_PERMITTED: &[&str] = &[
    "weixin.qq.com",
    "wx.qq.com",
    "wx2.qq.com",
    "wx8.qq.com",
    "web.wechat.com",
];

/// Names the interception CA must never sign even though they fall under
/// [`INTERCEPT_PERMITTED`]: the fast-login name belongs to the other CA.
pub const INTERCEPT_EXCLUDED: &[&str] = &[crate::SERVER_NAME];

/// Which of wxemu's CAs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaKind {
    /// The desktop client's local fast-login service (`localhost.weixin.qq.com`).
    FastLogin,
    /// Interception: the real WeChat host names, played by wxemu.
    Intercept,
}

impl CaKind {
    /// The CA certificate's file name in the data directory.
    pub fn cert_file(self) -> &'static str {
        match self {
            CaKind::FastLogin => crate::CA_CERT_FILE,
            CaKind::Intercept => crate::INTERCEPT_CA_CERT_FILE,
        }
    }

    /// The CA private key's file name in the data directory.
    pub fn key_file(self) -> &'static str {
        match self {
            CaKind::FastLogin => crate::CA_KEY_FILE,
            CaKind::Intercept => crate::INTERCEPT_CA_KEY_FILE,
        }
    }

    /// The CA's organization name; its common name is this plus a random suffix. Trust
    /// store UIs show it, and the stores' tools find our entries by the word "wxemu".
    pub fn organization(self) -> &'static str {
        match self {
            CaKind::FastLogin => crate::CA_ORGANIZATION,
            CaKind::Intercept => crate::INTERCEPT_CA_ORGANIZATION,
        }
    }

    /// File name prefix for copies of the CA in trust stores (`wxemu-<tag>.crt`).
    pub fn store_file_prefix(self) -> &'static str {
        match self {
            CaKind::FastLogin => "wxemu",
            CaKind::Intercept => "wxemu-intercept",
        }
    }

    /// The command that installs this CA, for "run …" hints in reports.
    pub fn install_command(self) -> &'static str {
        match self {
            CaKind::FastLogin => "wxemu trust install",
            CaKind::Intercept => "wxemu trust install --intercept",
        }
    }

    /// The critical Name Constraints this CA carries.
    pub(crate) fn name_constraints(self) -> NameConstraints {
        let dns = |names: &[&str]| {
            names
                .iter()
                .map(|n| GeneralSubtree::DnsName((*n).to_owned()))
                .collect::<Vec<_>>()
        };
        match self {
            CaKind::FastLogin => NameConstraints {
                permitted_subtrees: vec![
                    GeneralSubtree::DnsName(crate::SERVER_NAME.to_owned()),
                    GeneralSubtree::DnsName("localhost".to_owned()),
                    GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([127, 0, 0, 0], 8)),
                    GeneralSubtree::IpAddress(CidrSubnet::from_v6_prefix(
                        Ipv6Addr::LOCALHOST.octets(),
                        128,
                    )),
                ],
                excluded_subtrees: Vec::new(),
            },
            // No IP subtrees at all: with only dNSName constraints present, RFC 5280
            // would leave IP addresses unconstrained, so the interception CA also
            // excludes every IPv4 and IPv6 address.
            CaKind::Intercept => NameConstraints {
                permitted_subtrees: dns(INTERCEPT_PERMITTED),
                excluded_subtrees: dns(INTERCEPT_EXCLUDED)
                    .into_iter()
                    .chain([
                        GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([0; 4], 0)),
                        GeneralSubtree::IpAddress(CidrSubnet::from_v6_prefix([0; 16], 0)),
                    ])
                    .collect(),
            },
        }
    }

    /// Whether a leaf of this CA for `host` (a DNS name, any case, no trailing dot)
    /// would pass the CA's name constraints. Mirrors `CaKind::name_constraints` for
    /// DNS names, so wxemu refuses early instead of minting a certificate every
    /// client would reject.
    pub fn may_sign(self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let within = |base: &&str| {
            host == *base
                || host
                    .strip_suffix(base)
                    .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
        };
        match self {
            CaKind::FastLogin => [crate::SERVER_NAME, "localhost"].iter().any(within),
            CaKind::Intercept => {
                INTERCEPT_PERMITTED.iter().any(within) && !INTERCEPT_EXCLUDED.iter().any(within)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intercept_may_sign_wechat_names_only() {
        for ok in [
            "open.weixin.qq.com",
            "lp.open.weixin.qq.com",
            "API.weixin.qq.com",
            "weixin.qq.com",
            "res.wx.qq.com",
            "webpush.wx2.qq.com",
            "file.wx8.qq.com",
            "web.wechat.com",
            "webpush.web.wechat.com",
        ] {
            assert!(CaKind::Intercept.may_sign(ok), "{ok}");
        }
        for bad in [
            "localhost.weixin.qq.com",
            "x.localhost.weixin.qq.com",
            "evilweixin.qq.com",
            "open.weixin.qq.com.evil.example",
            "qq.com",
            "wechat.com",
            "www.wechat.com",
            "wx3.qq.com",
            ".weixin.qq.com",
            "127.0.0.1",
            "",
        ] {
            assert!(!CaKind::Intercept.may_sign(bad), "{bad}");
        }
        assert!(CaKind::FastLogin.may_sign("localhost.weixin.qq.com"));
        assert!(!CaKind::FastLogin.may_sign("open.weixin.qq.com"));
    }
}
