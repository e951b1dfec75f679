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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024,
            body_read_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            long_poll_hold: Duration::from_secs(25),
        }
    }
}
