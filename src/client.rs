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
//!   ([`RequestBuilder`]: headers, JSON or raw body, query, bearer token) and
//!   [`Client::send`] sends any `hyper` request. Connections are pooled and
//!   reused (hyper-util's client), and each exchange, body included, is
//!   bounded by the client's timeout.
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
//! The module knows nothing of the server but its default name and port, so
//! anything in the crate, or outside it, can use it.
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

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AsHeaderName, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::http::uri::{Authority, PathAndQuery, Scheme};
use hyper::{HeaderMap, Method, Request, StatusCode, Uri, Version};
use hyper_util::client::legacy::connect::{Connected, Connection as ConnectionInfo};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use wxemu_core::emulator::CANONICAL_HOST;

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

/// A rustls client config that trusts `roots` only, offers `alpn`, and
/// allows `versions` of TLS (ring provider, as the server uses).
pub fn tls_config(
    roots: RootCertStore,
    alpn: &[&[u8]],
    versions: &[&'static SupportedProtocolVersion],
) -> Result<Arc<ClientConfig>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| Error::Setup(format!("TLS versions: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// TCP to `addr`, then a TLS handshake validated for `server_name`.
pub async fn connect_tls(
    addr: SocketAddr,
    tls: Arc<ClientConfig>,
    server_name: &str,
) -> Result<TlsStream<TcpStream>, Error> {
    handshake(addr, tls, parse_server_name(server_name)?).await
}

fn parse_server_name(name: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(name.to_owned())
        .map_err(|e| Error::Setup(format!("{name:?} is not a server name: {e}")))
}

async fn handshake(
    addr: SocketAddr,
    tls: Arc<ClientConfig>,
    server_name: ServerName<'static>,
) -> Result<TlsStream<TcpStream>, Error> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| Error::Connect {
        addr,
        source: Arc::new(e),
    })?;
    // Requests are small and answered at once: do not let Nagle hold them.
    let _ = tcp.set_nodelay(true);
    let name = server_name.to_str().into_owned();
    TlsConnector::from(tls)
        .connect(server_name, tcp)
        .await
        .map_err(|e| Error::Tls {
            addr,
            server_name: name,
            source: Arc::new(e),
        })
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

/// Dials the client's address and does the TLS handshake: the transport
/// under the pool, [`Client::connect`] and [`Client::connect_tls`].
#[derive(Clone, Debug)]
struct Dialer {
    addr: SocketAddr,
    server_name: ServerName<'static>,
    tls: Arc<ClientConfig>,
}

impl Dialer {
    async fn dial(self) -> Result<TlsStream<TcpStream>, Error> {
        handshake(self.addr, self.tls, self.server_name).await
    }
}

impl tower::Service<Uri> for Dialer {
    type Response = TokioIo<Tls>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<TokioIo<Tls>, Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    /// Whatever host the URI names, the connection goes to our address.
    fn call(&mut self, _destination: Uri) -> Self::Future {
        let dialer = self.clone();
        Box::pin(async move { Ok(TokioIo::new(Tls(dialer.dial().await?))) })
    }
}

/// A TLS stream that tells the pool whether ALPN picked HTTP/2.
struct Tls(TlsStream<TcpStream>);

fn is_h2(stream: &TlsStream<TcpStream>) -> bool {
    stream.get_ref().1.alpn_protocol() == Some(H2)
}

impl ConnectionInfo for Tls {
    fn connected(&self) -> Connected {
        let connected = Connected::new();
        if is_h2(&self.0) {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl AsyncRead for Tls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
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

    pub fn addr(&self) -> SocketAddr {
        self.dialer.addr
    }

    /// `https://<server name>:<port>`, what relative URIs resolve against.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.origin.authority)
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A request to `uri` (a path, or an absolute URI).
    pub fn request(&self, method: Method, uri: &str) -> RequestBuilder<'_> {
        RequestBuilder::new(self, method, uri)
    }

    pub fn get(&self, uri: &str) -> RequestBuilder<'_> {
        self.request(Method::GET, uri)
    }

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

    /// One new connection of its own, HTTP/2 or HTTP/1.1 as ALPN decided.
    pub async fn connect(&self) -> Result<Connection, Error> {
        within(self.timeout, async {
            let stream = self.dialer.clone().dial().await?;
            let http2 = is_h2(&stream);
            let io = TokioIo::new(stream);
            let sender = if http2 {
                let (sender, connection) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                        .await
                        .map_err(|e| Error::from_exchange(&e))?;
                tokio::spawn(connection);
                Sender::Http2(sender)
            } else {
                let (sender, connection) = hyper::client::conn::http1::handshake(io)
                    .await
                    .map_err(|e| Error::from_exchange(&e))?;
                tokio::spawn(connection);
                Sender::Http1(sender)
            };
            Ok(Connection {
                sender,
                origin: self.origin.clone(),
                timeout: self.timeout,
            })
        })
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

enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Body>),
    Http2(hyper::client::conn::http2::SendRequest<Body>),
}

/// One connection of its own (see [`Client::connect`]); one request at a
/// time.
pub struct Connection {
    sender: Sender,
    origin: Origin,
    timeout: Duration,
}

impl Connection {
    pub fn is_http2(&self) -> bool {
        matches!(self.sender, Sender::Http2(_))
    }

    /// Sends `request` on this connection once it is ready for one, and
    /// reads the whole answer, within the client's timeout. As hyper-util's
    /// client does: HTTP/1.1 gets `Host` (if missing) and the path alone;
    /// HTTP/2 gets the absolute URI, so `:authority` is set.
    pub async fn send(&mut self, mut request: Request<Body>) -> Result<Response, Error> {
        let timeout = self.timeout;
        within(timeout, async {
            let response = match &mut self.sender {
                Sender::Http1(sender) => {
                    let host = match request.uri().authority() {
                        Some(authority) => HeaderValue::from_str(authority.as_str())
                            .map_err(|e| Error::Setup(e.to_string()))?,
                        None => self.origin.host.clone(),
                    };
                    request.headers_mut().entry(HOST).or_insert(host);
                    if request.uri().scheme().is_some() {
                        let path = request.uri().path_and_query().cloned();
                        *request.uri_mut() = path.map_or_else(|| Uri::from_static("/"), Uri::from);
                    }
                    sender.ready().await.map_err(|e| Error::from_exchange(&e))?;
                    sender.send_request(request).await
                }
                Sender::Http2(sender) => {
                    *request.uri_mut() = self.origin.absolute(request.uri())?;
                    sender.ready().await.map_err(|e| Error::from_exchange(&e))?;
                    sender.send_request(request).await
                }
            };
            Response::read(response.map_err(|e| Error::from_exchange(&e))?).await
        })
        .await
    }
}

/// A request being put together; [`RequestBuilder::send`] sends it on the
/// client's pool, [`RequestBuilder::build`] hands it over (e.g. for a
/// [`Connection`]). A bad header is reported when sending or building.
#[must_use]
pub struct RequestBuilder<'a> {
    client: &'a Client,
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
    timeout: Duration,
    error: Option<Error>,
}

impl<'a> RequestBuilder<'a> {
    fn new(client: &'a Client, method: Method, uri: &str) -> Self {
        RequestBuilder {
            client,
            method,
            uri: uri.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            timeout: client.timeout,
            error: None,
        }
    }

    /// Adds a header (a second one of the same name is added, not replaced).
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let (name, value) = (name.as_ref(), value.as_ref());
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            _ => {
                self.error
                    .get_or_insert(Error::Setup(format!("bad header {name}: {value:?}")));
            }
        }
        self
    }

    /// The `Origin` header, as a page on that origin would send it.
    pub fn origin(self, origin: &str) -> Self {
        self.header("origin", origin)
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header(AUTHORIZATION, format!("Bearer {token}"))
    }

    /// Appends `query` (anything serde_urlencoded takes: a struct, pairs)
    /// to the URI's query string.
    pub fn query(mut self, query: &impl Serialize) -> Self {
        match serde_urlencoded::to_string(query) {
            Ok(q) if q.is_empty() => {}
            Ok(q) => {
                let separator = if self.uri.contains('?') { '&' } else { '?' };
                self.uri = format!("{}{separator}{q}", self.uri);
            }
            Err(e) => {
                self.error
                    .get_or_insert(Error::Setup(format!("query: {e}")));
            }
        }
        self
    }

    /// The body as given (set `content-type` yourself).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// `value` as a JSON body, with `content-type: application/json`.
    pub fn json(mut self, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => {
                self.body = Bytes::from(body);
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Err(e) => {
                self.error
                    .get_or_insert(Error::Setup(format!("JSON body: {e}")));
            }
        }
        self
    }

    /// A bound for this exchange instead of the client's (e.g. a long poll).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The request, ready for any connection: its URI as given, and a
    /// relative URI gets the client's `Host` unless one was set.
    pub fn build(self) -> Result<Request<Body>, Error> {
        self.into_parts().map(|(request, _, _)| request)
    }

    fn into_parts(self) -> Result<(Request<Body>, &'a Client, Duration), Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let uri: Uri = self
            .uri
            .parse()
            .map_err(|e| Error::Setup(format!("{:?} is not a URI: {e}", self.uri)))?;
        let mut headers = self.headers;
        if uri.authority().is_none() {
            headers
                .entry(HOST)
                .or_insert_with(|| self.client.origin.host.clone());
        }
        let mut request = Request::new(Full::new(self.body));
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok((request, self.client, self.timeout))
    }

    /// Sends it on the client's pool; the whole answer.
    pub async fn send(self) -> Result<Response, Error> {
        let (request, client, timeout) = self.into_parts()?;
        client.send_within(request, timeout).await
    }
}

/// A whole answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// Reads the whole body of a hyper response.
    pub async fn read(response: hyper::Response<Incoming>) -> Result<Response, Error> {
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| Error::from_exchange(&e))?
            .to_bytes();
        Ok(Response {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body,
        })
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}
