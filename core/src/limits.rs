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
    /// Time from the TLS handshake to the first complete request head.
    pub first_request_timeout: Duration,
    /// Time a keep-alive connection may sit with no request in flight.
    pub idle_timeout: Duration,
    /// Time a response body may make no progress (a reader that stopped
    /// reading) before its connection is closed.
    pub send_stall_timeout: Duration,
    /// Open connections at most (further lowered to fit the process's
    /// file-descriptor limit); at the cap the oldest idle one is closed.
    pub max_connections: usize,
    /// Concurrent HTTP/2 streams per connection (RFC 9113 recommends no
    /// fewer than 100; clients that open more before our SETTINGS arrive
    /// see REFUSED_STREAM).
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
            max_connections: 512,
            max_streams_per_connection: 100,
        }
    }
}
