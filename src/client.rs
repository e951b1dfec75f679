//! One HTTPS client for a running wxemu, shared by `wxemu ctl`, `wxemu doctor`,
//! the integration tests, the benchmark and the example site.
//!
//! It trusts only the roots it is given (wxemu's CA, normally; never the
//! system store, never "accept anything"), dials one fixed address (wxemu
//! listens on loopback, and `localhost.weixin.qq.com` need not resolve) and
//! sends SNI `localhost.weixin.qq.com` unless told another name. ALPN offers
//! HTTP/2 and HTTP/1.1; each connection speaks what the server picked.
//!
//! Three ways to talk, from convenient to raw:
//! - [`Client::get`], [`Client::post`], [`Client::request`] build a request
//!   ([`RequestBuilder`]: headers, JSON or raw body, bearer token, timeout) and
//!   [`Client::send`] sends any `hyper` request. Connections are pooled and
//!   reused (hyper-util's client), and each exchange, body included, is
//!   bounded by the client's timeout.
//! - [`RequestBuilder::events`] opens a Server-Sent Events stream
//!   ([`EventStream`]: `GET /__wxemu/events`), bounded only until its head.
//! - [`Client::connect`] opens one dedicated [`Connection`], for callers that
//!   must know which connection a request rides on: a benchmark's keep-alive
//!   workers, a request held open while the caller does something else.
//! - [`Client::connect_tls`] (and [`connect_tls`]) hand over the bare TLS
//!   stream, for raw bytes and handshake details.
//!
//! Relative request URIs (`/api/check-login`) are resolved against
//! `https://<server name>:<port>`; an absolute URI keeps its own authority
//! (and so its own `Host`), though the connection still goes to the client's
//! address: tests send foreign hosts on purpose.
//!
//! The module knows nothing of the server but its default name (a core
//! constant), so anything in the crate, or outside it, can use it.
//!
//! ```no_run
//! # async fn example(data_dir: &std::path::Path) -> Result<(), wxemu::client::Error> {
//! use wxemu::client::Client;
//! let client = Client::local(14013).trust_data_dir(data_dir).build()?;
//! let health = client.get("/__wxemu/health").bearer("TOKEN").send().await?;
//! println!("{} {}", health.status, health.text());
//! # Ok(())
//! # }
//! ```

mod events;
mod request;
mod transport;

pub use events::{EventStream, Opened, MAX_EVENT};
pub use request::{RequestBuilder, Response};
pub use transport::{connect_tls, tls_config, Connection};

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::HeaderValue;
use hyper::http::uri::{Authority, PathAndQuery, Scheme};
use hyper::{Method, Request, Uri};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use wxemu_core::CANONICAL_HOST;

use transport::{parse_server_name, Dialer};

/// How long one exchange (connect, request, whole answer) may take unless
/// [`Builder::timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an unused pooled connection is kept. Below the server's
/// default header-read timeout (10 s), so the client lets go of an idle
/// connection before the server closes it under a request being sent.
const POOL_IDLE: Duration = Duration::from_secs(5);

const H2: &[u8] = b"h2";
const HTTP1: &[u8] = b"http/1.1";

/// A request body: always whole, never streamed (every caller has it in
/// memory, and the server caps bodies at 64 KiB anyway).
pub type Body = Full<Bytes>;

/// What went wrong. Connection problems keep their cause, so a caller can
/// tell "nothing listens" from "someone else's certificate".
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client or the request could not be built (unreadable CA file,
    /// invalid server name or header).
    #[error("{0}")]
    Setup(String),
    /// The TCP connection failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: Arc<io::Error>,
    },
    /// The TLS handshake failed: not a TLS server, or a certificate the
    /// trusted roots do not vouch for under this name.
    #[error("TLS with {server_name} at {addr} failed: {source}")]
    Tls {
        addr: SocketAddr,
        server_name: String,
        source: Arc<io::Error>,
    },
    /// No whole answer within the timeout.
    #[error("no answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The HTTP exchange failed (connection closed, protocol error); the
    /// message carries hyper's chain of causes.
    #[error("{0}")]
    Http(String),
}

impl Error {
    /// Lifts a connect failure out of hyper-util's wrapper; anything else
    /// becomes [`Error::Http`] with its causes spelled out.
    fn from_exchange(error: &(dyn std::error::Error + 'static)) -> Error {
        let mut cause = Some(error);
        while let Some(e) = cause {
            if let Some(ours) = e.downcast_ref::<Error>() {
                return ours.clone();
            }
            cause = e.source();
        }
        Error::Http(causes(error))
    }
}

/// "outer: inner: innermost", skipping repeats.
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let next = e.to_string();
        if !text.ends_with(&next) {
            text = format!("{text}: {next}");
        }
        cause = e.source();
    }
    text
}

/// Where trust comes from, resolved when the client is built.
#[derive(Clone, Debug)]
enum Trust {
    Der(CertificateDer<'static>),
    PemFile(PathBuf),
    Roots(RootCertStore),
}

/// Configures a [`Client`]; start with [`Client::builder`] or [`Client::local`].
#[derive(Clone, Debug)]
#[must_use]
pub struct Builder {
    addr: SocketAddr,
    server_name: String,
    trust: Vec<Trust>,
    alpn: Vec<&'static [u8]>,
    tls_versions: Vec<&'static SupportedProtocolVersion>,
    timeout: Duration,
}

impl Builder {
    /// The name sent as SNI, checked against the certificate, and used as
    /// the authority of relative URIs [default: `localhost.weixin.qq.com`].
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = name.into();
        self
    }

    /// Trusts this CA certificate (DER).
    pub fn trust_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.trust
            .push(Trust::Der(CertificateDer::from(der.into())));
        self
    }

    /// Trusts every certificate in this PEM file (read at [`Builder::build`]).
    pub fn trust_pem_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.trust.push(Trust::PemFile(path.into()));
        self
    }

    /// Trusts the CA of a wxemu data directory (`<dir>/ca.pem`).
    pub fn trust_data_dir(self, data_dir: &Path) -> Self {
        self.trust_pem_file(wxemu_certs::ca_cert_path(data_dir))
    }

    /// Trusts this root set as well.
    pub fn trust_roots(mut self, roots: RootCertStore) -> Self {
        self.trust.push(Trust::Roots(roots));
        self
    }

    /// The protocols offered by ALPN, most wanted first [default: h2, then
    /// http/1.1]. A connection speaks HTTP/2 when the server picks `h2`,
    /// else HTTP/1.1.
    pub fn alpn(mut self, protocols: &[&'static [u8]]) -> Self {
        self.alpn = protocols.to_vec();
        self
    }

    /// Offers only HTTP/1.1.
    pub fn http1_only(self) -> Self {
        self.alpn(&[HTTP1])
    }

    /// Offers only HTTP/2.
    pub fn http2_only(self) -> Self {
        self.alpn(&[H2])
    }

    /// The TLS versions allowed [default: rustls's defaults, 1.3 and 1.2].
    pub fn tls_versions(mut self, versions: &[&'static SupportedProtocolVersion]) -> Self {
        self.tls_versions = versions.to_vec();
        self
    }

    /// The bound on each exchange: connecting, sending, and reading the
    /// whole answer [default: [`DEFAULT_TIMEOUT`]].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn roots(&self) -> Result<RootCertStore, Error> {
        let mut roots = RootCertStore::empty();
        for trust in &self.trust {
            match trust {
                Trust::Der(der) => roots
                    .add(der.clone())
                    .map_err(|e| Error::Setup(format!("the CA certificate is unusable: {e}")))?,
                Trust::PemFile(path) => {
                    let certs = CertificateDer::pem_file_iter(path)
                        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                        .map_err(|e| {
                            Error::Setup(format!("cannot read the CA {}: {e}", path.display()))
                        })?;
                    if certs.is_empty() {
                        return Err(Error::Setup(format!(
                            "no certificate in {}",
                            path.display()
                        )));
                    }
                    for cert in certs {
                        roots.add(cert).map_err(|e| {
                            Error::Setup(format!("bad CA certificate in {}: {e}", path.display()))
                        })?;
                    }
                }
                Trust::Roots(more) => roots.roots.extend(more.roots.iter().cloned()),
            }
        }
        if roots.is_empty() {
            return Err(Error::Setup(
                "no CA to trust: give the client wxemu's CA".into(),
            ));
        }
        Ok(roots)
    }

    /// The rustls config this builder stands for (for callers that drive
    /// TLS themselves, e.g. with [`connect_tls`]).
    pub fn tls_config(&self) -> Result<Arc<ClientConfig>, Error> {
        tls_config(self.roots()?, &self.alpn, &self.tls_versions)
    }

    /// The client; fails on a CA that cannot be read or used, or a server
    /// name that is not one.
    pub fn build(self) -> Result<Client, Error> {
        let dialer = Dialer {
            addr: self.addr,
            server_name: parse_server_name(&self.server_name)?,
            tls: self.tls_config()?,
        };
        let origin = Origin::new(&self.server_name, self.addr.port())?;
        let pool = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(dialer.clone());
        Ok(Client {
            pool,
            dialer,
            origin,
            timeout: self.timeout,
        })
    }
}

/// The authority relative URIs resolve to, and the `Host` header it makes.
#[derive(Clone, Debug)]
struct Origin {
    authority: Authority,
    host: HeaderValue,
}

impl Origin {
    fn new(server_name: &str, port: u16) -> Result<Origin, Error> {
        let host = match server_name.parse::<IpAddr>() {
            Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
            _ => format!("{server_name}:{port}"),
        };
        let authority: Authority = host
            .parse()
            .map_err(|e| Error::Setup(format!("{host:?} is not a host: {e}")))?;
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|e| Error::Setup(format!("{host:?} is not a host: {e}")))?;
        Ok(Origin { authority, host })
    }

    /// `/path?query` becomes `https://<authority>/path?query`.
    fn absolute(&self, uri: &Uri) -> Result<Uri, Error> {
        if uri.scheme().is_some() {
            return Ok(uri.clone());
        }
        Uri::builder()
            .scheme(Scheme::HTTPS)
            .authority(self.authority.clone())
            .path_and_query(
                uri.path_and_query()
                    .cloned()
                    .unwrap_or_else(|| PathAndQuery::from_static("/")),
            )
            .build()
            .map_err(|e| Error::Setup(format!("{uri}: {e}")))
    }
}

/// An HTTPS client for one wxemu (one address, one server name, one set of
/// trusted roots). Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    pool: hyper_util::client::legacy::Client<Dialer, Body>,
    dialer: Dialer,
    origin: Origin,
    timeout: Duration,
}

impl Client {
    /// A client for the server at `addr`.
    pub fn builder(addr: SocketAddr) -> Builder {
        Builder {
            addr,
            server_name: CANONICAL_HOST.to_owned(),
            trust: Vec::new(),
            alpn: vec![H2, HTTP1],
            tls_versions: rustls::DEFAULT_VERSIONS.to_vec(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// A client for wxemu on 127.0.0.1:`port`.
    pub fn local(port: u16) -> Builder {
        Client::builder(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }

    /// Where every connection goes.
    pub fn addr(&self) -> SocketAddr {
        self.dialer.addr
    }

    /// A request to `uri` (a path, or an absolute URI).
    pub fn request(&self, method: Method, uri: &str) -> RequestBuilder<'_> {
        RequestBuilder::new(self, method, uri)
    }

    /// A GET request to `uri`.
    pub fn get(&self, uri: &str) -> RequestBuilder<'_> {
        self.request(Method::GET, uri)
    }

    /// A POST request to `uri`.
    pub fn post(&self, uri: &str) -> RequestBuilder<'_> {
        self.request(Method::POST, uri)
    }

    /// Sends `request` on a pooled connection and reads the whole answer,
    /// within the client's timeout.
    pub async fn send(&self, request: Request<Body>) -> Result<Response, Error> {
        self.send_within(request, self.timeout).await
    }

    async fn send_within(
        &self,
        mut request: Request<Body>,
        timeout: Duration,
    ) -> Result<Response, Error> {
        *request.uri_mut() = self.origin.absolute(request.uri())?;
        within(timeout, async {
            let response = self
                .pool
                .request(request)
                .await
                .map_err(|e| Error::from_exchange(&e))?;
            Response::read(response).await
        })
        .await
    }

    /// Sends `request` and hands back the answer once its head arrived
    /// (within `timeout`); the body is the caller's to read, as long as it
    /// lasts (an event stream).
    async fn open_within(
        &self,
        mut request: Request<Body>,
        timeout: Duration,
    ) -> Result<hyper::Response<hyper::body::Incoming>, Error> {
        *request.uri_mut() = self.origin.absolute(request.uri())?;
        within(timeout, async {
            self.pool
                .request(request)
                .await
                .map_err(|e| Error::from_exchange(&e))
        })
        .await
    }

    /// One new connection of its own, HTTP/2 or HTTP/1.1 as ALPN decided.
    pub async fn connect(&self) -> Result<Connection, Error> {
        within(
            self.timeout,
            Connection::open(&self.dialer, &self.origin, self.timeout),
        )
        .await
    }

    /// The bare TLS stream of a new connection (ALPN as configured).
    pub async fn connect_tls(&self) -> Result<TlsStream<TcpStream>, Error> {
        within(self.timeout, self.dialer.clone().dial()).await
    }
}

async fn within<T>(
    timeout: Duration,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| Err(Error::Timeout(timeout)))
}
