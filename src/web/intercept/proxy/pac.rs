//! The proxy auto-config script served at `/proxy.pac`.
//!
//! It sends exactly the intercepted hosts through wxemu's proxy and everything else
//! DIRECT, so a browser configured with it keeps reaching the site under test, wxemu's
//! own `localhost.weixin.qq.com` and the rest of the web on its own. Matching is on the
//! exact host name: look-alikes such as `open.weixin.qq.com.evil.example` go DIRECT. It
//! calls no `dnsResolve`/`isInNet`/`isResolvable`: deciding costs no DNS lookup (and
//! leaks no name to a resolver).

use std::net::SocketAddr;

use super::InterceptedHosts;

/// The MIME type browsers expect for a PAC file.
pub const CONTENT_TYPE: &str = "application/x-ns-proxy-autoconfig";

/// The PAC script for `hosts` and a proxy listening on `proxy`.
pub fn script(hosts: &InterceptedHosts, proxy: SocketAddr) -> String {
    // Host names were validated as [a-z0-9.-], so they are safe inside JS strings.
    let list = hosts
        .as_slice()
        .iter()
        .map(|h| format!("\"{h}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "// wxemu: send the WeChat hosts wxemu plays through its proxy, everything else DIRECT.\n\
         // Exact host names only; no DNS lookups.\n\
         var WXEMU_HOSTS = [{list}];\n\
         function FindProxyForURL(url, host) {{\n\
         \x20 host = String(host).toLowerCase();\n\
         \x20 if (host.charAt(host.length - 1) === \".\") host = host.substring(0, host.length - 1);\n\
         \x20 for (var i = 0; i < WXEMU_HOSTS.length; i++) {{\n\
         \x20   if (WXEMU_HOSTS[i] === host) return \"PROXY {proxy}\";\n\
         \x20 }}\n\
         \x20 return \"DIRECT\";\n\
         }}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_exactly_the_hosts_and_never_resolves() {
        let hosts = InterceptedHosts::new(["api.weixin.qq.com", "res.wx.qq.com"]).unwrap();
        let pac = script(&hosts, "127.0.0.1:14080".parse().unwrap());
        assert!(pac.contains(r#"var WXEMU_HOSTS = ["api.weixin.qq.com", "res.wx.qq.com"];"#));
        assert!(pac.contains(r#"return "PROXY 127.0.0.1:14080";"#));
        for dns in ["dnsResolve", "isInNet", "isResolvable", "myIpAddress"] {
            assert!(!pac.contains(dns), "{dns}");
        }
    }
}
