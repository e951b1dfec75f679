//! [`Limits`]: what one client may cost the server, in time and size.

use std::time::Duration;

/// What a client may cost the server: bounds on time and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted (the real page's are under 2 KiB).
    pub max_body_bytes: usize,
    /// Time to send a body once the headers are in.
    pub body_read_timeout: Duration,
    /// Time to send a request's headers (slowloris).
    pub header_read_timeout: Duration,
    /// Time to finish the TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// How long the QR long poll holds before answering 408 (the real one
    /// holds ~25 s).
    pub long_poll_hold: Duration,
    /// Time from the TLS handshake to the first request.
    pub first_request_timeout: Duration,
    /// Time a keep-alive connection may sit with no request in flight.
    pub idle_timeout: Duration,
    /// Time a response body may make no progress (a reader that stopped
    /// reading, an HTTP/2 window of zero) before its connection is closed.
    pub send_stall_timeout: Duration,
    /// Open connections at most (further lowered to fit the process's
    /// file-descriptor limit); at the cap the oldest idle one is closed.
    pub max_connections: usize,
    /// Concurrent HTTP/2 streams per connection (RFC 9113 recommends no
    /// fewer than 100).
    pub max_streams_per_connection: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024,
            body_read_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            long_poll_hold: Duration::from_secs(25),
            first_request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            send_stall_timeout: Duration::from_secs(20),
            // 500 Web WeChat bots hold two connections each (the session's
            // and a synccheck held for 25 s); ~40 KB each keeps a full house
            // within issue 10's 64 MB.
            max_connections: 1024,
            max_streams_per_connection: 100,
        }
    }
}

/// Longest `state` WeChat documents (for `connect/oauth2/authorize`, where
/// it is enforced): accepted everywhere, and the bound of strict mode.
pub const MAX_STATE_BYTES: usize = 128;
/// Longest `state` permissive mode accepts on the website login (qrconnect
/// and fast login). Real sites' libraries send more than 128 bytes there
/// (Auth.js: about 435, an encrypted cookie value) and the evidence that
/// WeChat refuses them on that flow is mixed, so such a state is accepted
/// but flagged ([`long_state_warning`]); 2 KiB bounds what is kept.
pub const MAX_LONG_STATE_BYTES: usize = 2048;
/// Longest `redirect_uri` accepted: 2 KiB, a URL every browser and proxy
/// handles; a callback URL is far shorter.
pub const MAX_REDIRECT_URI_BYTES: usize = 2048;
/// Longest `appid` accepted (real ones are 18 characters).
pub const MAX_APPID_BYTES: usize = 64;
/// Longest `scope` accepted (`snsapi_login`, or a short comma list).
pub const MAX_SCOPE_BYTES: usize = 128;
/// Longest Origin header compared or stored: a scheme, a 253-byte host
/// name and a port fit with room to spare.
pub const MAX_ORIGIN_BYTES: usize = 300;
/// Longest query string on any URL (longer is answered 414, as a front-end
/// proxy would). Every bounded parameter above fits, percent-encoded.
pub const MAX_QUERY_BYTES: usize = 4096;

/// A login-target field over its bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is {len} bytes; at most {max} are accepted")]
pub struct TooLong {
    pub field: &'static str,
    pub len: usize,
    pub max: usize,
}

/// Checks the lengths of a login target's fields (everything a check-login
/// or a QR login keeps until it is used or forgotten); `max_state` is the
/// flow's bound for `state` (`MAX_STATE_BYTES` or `MAX_LONG_STATE_BYTES`).
pub fn check_login_target(
    appid: &str,
    scope: &str,
    redirect_uri: &str,
    state: &str,
    max_state: usize,
) -> Result<(), TooLong> {
    for (field, value, max) in [
        ("appid", appid, MAX_APPID_BYTES),
        ("scope", scope, MAX_SCOPE_BYTES),
        ("redirect_uri", redirect_uri, MAX_REDIRECT_URI_BYTES),
        ("state", state, max_state),
    ] {
        if value.len() > max {
            return Err(TooLong {
                field,
                len: value.len(),
                max,
            });
        }
    }
    Ok(())
}

/// The warning a `state` longer than WeChat documents earns where
/// permissive mode accepts it: a QA tool must never accept silently what
/// real WeChat may refuse.
pub fn long_state_warning(state: &str) -> Option<String> {
    (state.len() > MAX_STATE_BYTES).then(|| {
        format!(
            "state is {} bytes: WeChat documents at most {MAX_STATE_BYTES} and may refuse a longer one \
             (accepted in permissive mode; [platform] mode = \"strict\" refuses it)",
            state.len()
        )
    })
}
