//! The interception proxy: an HTTP proxy on 127.0.0.1 that answers *as* the WeChat
//! hosts wxemu plays and passes everything else through.
//!
//! * `CONNECT host:443` for an intercepted host: the proxy says `200`, then terminates TLS
//!   itself with a leaf for that host from the interception CA ([`InterceptCa`], SNI
//!   checked against the CONNECT target, ALPN `h2` and `http/1.1`), and hands the TLS
//!   stream to the server's [`InterceptHandler`], which serves it as that host. The same
//!   host on another port is refused: nothing meant for wxemu may reach the real WeChat.
//! * `CONNECT` to any other target, loopback included (a backend without `NO_PROXY`
//!   reaches the site under test through the proxy): a byte-for-byte tunnel.
//! * Plain-HTTP absolute-form requests (`GET http://host/...`) are forwarded the same
//!   way; for an intercepted host they are redirected (308) to `https://`, as the real
//!   hosts do.
//! * `offline`: nothing leaves the machine. Non-intercepted targets get a 502 that says
//!   why, except loopback ones (IP literals, `localhost`, `localhost.weixin.qq.com`),
//!   which are still tunnelled without asking DNS.
//! * Requests addressed to the proxy itself (origin-form) serve its own pages,
//!   `/proxy.pac` ([`pac_script`]) and a short status page at `/`, only for a loopback
//!   Host, so a DNS-rebinding page learns nothing.
//!
//! Self-contained on purpose: it takes the CA, the host list and a handler as
//! parameters and knows nothing of the emulator behind the handler.

mod hosts;
mod pac;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::upgrade::Upgraded;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio_rustls::LazyConfigAcceptor;
use wxemu_certs::{normalize_host, InterceptCa};

pub use hosts::{InterceptedHosts, Target, HTTPS_PORT};
pub use pac::{script as pac_script, CONTENT_TYPE as PAC_CONTENT_TYPE};

/// The proxy port `trust env --intercept` assumes when none is given.
pub const DEFAULT_PROXY_PORT: u16 = 14080;

/// Where the proxy serves its PAC file.
pub const PAC_PATH: &str = "/proxy.pac";

/// The TLS stream of one intercepted connection, as handed to the [`InterceptHandler`].
pub type InterceptedStream = tokio_rustls::server::TlsStream<TokioIo<Upgraded>>;

/// One intercepted connection: TLS is done, HTTP (1.1 or 2, see [`Intercepted::alpn`])
/// is the handler's to serve.
pub struct Intercepted {
    /// The host the client asked for (CONNECT target = SNI), normalized.
    pub host: String,
    /// The client's address (always loopback).
    pub peer: SocketAddr,
    pub stream: InterceptedStream,
}

impl Intercepted {
    /// The ALPN protocol agreed on (`h2` or `http/1.1`), if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.stream.get_ref().1.alpn_protocol()
    }
}

/// Serves intercepted connections as the host they were addressed to. The future runs
/// until the connection is done; the proxy drops it at shutdown.
pub trait InterceptHandler: Send + Sync + 'static {
    fn serve(&self, connection: Intercepted) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

impl<F, Fut> InterceptHandler for F
where
    F: Fn(Intercepted) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn serve(&self, connection: Intercepted) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(self(connection))
    }
}

#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// Port on [`ProxyOptions::bind`]; 0 picks a free one (tests).
    pub port: u16,
    /// The address: 127.0.0.1 unless `serve --bind` says otherwise.
    pub bind: IpAddr,
    pub hosts: InterceptedHosts,
    /// Refuse every target off this machine that is not intercepted.
    pub offline: bool,
    /// Time to connect to a tunnel or forward target.
    pub connect_timeout: Duration,
    /// Time for a client to send a request's headers (slowloris).
    pub header_read_timeout: Duration,
    /// Time to finish the TLS handshake of an intercepted connection.
    pub tls_handshake_timeout: Duration,
    /// Connections served at once; further clients wait in the kernel's backlog.
    pub max_connections: usize,
    /// Largest request head accepted (hyper's minimum is 8 KiB).
    pub max_header_bytes: usize,
}

impl ProxyOptions {
    pub fn new(port: u16, hosts: InterceptedHosts) -> ProxyOptions {
        ProxyOptions {
            port,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            hosts,
            offline: false,
            connect_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            max_connections: 512,
            max_header_bytes: 64 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("--proxy-port {port}: port {port} on 127.0.0.1 is already in use; pick another")]
    PortInUse { port: u16 },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot set up TLS for interception: {0}")]
    Tls(#[from] rustls::Error),
}

type Body = BoxBody<Bytes, hyper::Error>;

/// A bound proxy, ready to [`Proxy::run`].
pub struct Proxy {
    listener: TcpListener,
    bound: Bound,
}

/// What every connection of one bound proxy shares.
struct Bound {
    options: ProxyOptions,
    addr: SocketAddr,
    ca: Arc<InterceptCa>,
    /// Leaves by SNI from the CA; for connections that send the expected SNI.
    tls: Arc<rustls::ServerConfig>,
}

/// [`Bound`] plus the handler, once running.
struct Shared {
    bound: Bound,
    handler: Arc<dyn InterceptHandler>,
}

impl std::ops::Deref for Shared {
    type Target = Bound;
    fn deref(&self) -> &Bound {
        &self.bound
    }
}

impl Proxy {
    /// Binds `options.bind`:`options.port` (127.0.0.1 by default).
    pub async fn bind(options: ProxyOptions, ca: Arc<InterceptCa>) -> Result<Proxy, ProxyError> {
        let tls = tls_config(ca.clone())?;
        let addr = SocketAddr::from((options.bind, options.port));
        let listener = TcpListener::bind(addr).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                ProxyError::PortInUse { port: options.port }
            } else {
                ProxyError::Bind { addr, source }
            }
        })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ProxyError::Bind { addr, source })?;
        Ok(Proxy {
            listener,
            bound: Bound {
                options,
                addr,
                ca,
                tls,
            },
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.bound.addr
    }

    pub fn options(&self) -> &ProxyOptions {
        &self.bound.options
    }

    /// `http://127.0.0.1:PORT`, for `HTTPS_PROXY` and `--proxy-server`.
    pub fn url(&self) -> String {
        format!("http://{}", self.bound.addr)
    }

    /// Where the PAC file is served.
    pub fn pac_url(&self) -> String {
        format!("http://{}{PAC_PATH}", self.bound.addr)
    }

    /// Serves until `shutdown` completes, then drops every connection and tunnel.
    /// Intercepted connections go to `handler`.
    pub async fn run(self, handler: Arc<dyn InterceptHandler>, shutdown: impl Future<Output = ()>) {
        let Proxy { listener, bound } = self;
        let shared = Arc::new(Shared { bound, handler });
        let (stop, stopped) = watch::channel(false);
        let permits = Arc::new(Semaphore::new(shared.options.max_connections.max(1)));
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                () = &mut shutdown => break,
            };
            let (tcp, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!("proxy accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = tcp.set_nodelay(true);
            let shared = shared.clone();
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = serve_client(shared, tcp, peer, stopped.clone()) => {}
                    _ = stopped.changed() => {}
                }
                drop(permit);
            });
        }
        let _ = stop.send(true);
    }
}

/// TLS 1.2 and 1.3, ALPN h2 and http/1.1, leaves from `resolver`.
pub fn tls_config(
    resolver: Arc<dyn ResolvesServerCert>,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// One client connection: HTTP/1.1 (what clients speak to proxies), with upgrades for
/// CONNECT.
async fn serve_client(
    shared: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    stopped: watch::Receiver<bool>,
) {
    let options = &shared.options;
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(options.max_header_bytes.max(8192));
    let service = {
        let shared = shared.clone();
        hyper::service::service_fn(move |req| {
            let shared = shared.clone();
            let stopped = stopped.clone();
            async move { Ok::<_, Infallible>(handle(shared, peer, req, stopped).await) }
        })
    };
    if let Err(e) = builder
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades()
        .await
    {
        tracing::debug!(%peer, "proxy connection ended: {e}");
    }
}

async fn handle(
    shared: Arc<Shared>,
    peer: SocketAddr,
    req: Request<Incoming>,
    stopped: watch::Receiver<bool>,
) -> Response<Body> {
    if req.method() == Method::CONNECT {
        return connect(shared, peer, req, stopped).await;
    }
    if req.uri().authority().is_none() {
        return own_page(&shared, &req);
    }
    forward(shared, req).await
}

// ---------------------------------------------------------------------------------------
// CONNECT

async fn connect(
    shared: Arc<Shared>,
    peer: SocketAddr,
    req: Request<Incoming>,
    mut stopped: watch::Receiver<bool>,
) -> Response<Body> {
    let Some(authority) = req.uri().authority().map(|a| a.as_str().to_owned()) else {
        return text(
            StatusCode::BAD_REQUEST,
            "CONNECT needs a host:port target\n",
        );
    };
    let target = match Target::parse(&authority, None) {
        Ok(target) => target,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };

    if shared.options.hosts.contains(&target.host) {
        if target.port != HTTPS_PORT {
            return text(
                StatusCode::BAD_GATEWAY,
                format!(
                    "wxemu intercepts {} on port {HTTPS_PORT} only; CONNECT {target} was refused so \
                     that nothing meant for wxemu reaches the real WeChat\n",
                    target.host
                ),
            );
        }
        tracing::debug!(%peer, host = %target.host, "intercepting");
        tokio::spawn(async move {
            match hyper::upgrade::on(req).await {
                Ok(upgraded) => intercept(shared, peer, target.host, upgraded, stopped).await,
                Err(e) => tracing::debug!(%peer, "CONNECT upgrade failed: {e}"),
            }
        });
        return empty(StatusCode::OK);
    }

    if is_self(&shared, &target) {
        return text(
            StatusCode::BAD_REQUEST,
            "wxemu's proxy does not tunnel to itself\n",
        );
    }
    let mut upstream = match open(&shared, &target).await {
        Ok(stream) => stream,
        Err(refusal) => return refusal,
    };
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(req).await {
            Ok(upgraded) => upgraded,
            Err(e) => return tracing::debug!(%peer, "CONNECT upgrade failed: {e}"),
        };
        let mut client = TokioIo::new(upgraded);
        tokio::select! {
            copied = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {
                if let Err(e) = copied {
                    tracing::debug!(%peer, %target, "tunnel ended: {e}");
                }
            }
            _ = stopped.changed() => {}
        }
    });
    empty(StatusCode::OK)
}

/// TLS as `host`, then the handler. The SNI must name the CONNECT target (a client
/// sending none gets the target's leaf anyway).
async fn intercept(
    shared: Arc<Shared>,
    peer: SocketAddr,
    host: String,
    upgraded: Upgraded,
    mut stopped: watch::Receiver<bool>,
) {
    let handshake = async {
        let start =
            LazyConfigAcceptor::new(rustls::server::Acceptor::default(), TokioIo::new(upgraded))
                .await?;
        let config = match start.client_hello().server_name().map(normalize_host) {
            Some(sni) if sni == host => shared.tls.clone(),
            Some(sni) => {
                return Err(std::io::Error::other(format!(
                    "TLS SNI {sni:?} does not match the CONNECT target {host:?}"
                )))
            }
            None => {
                let leaf = shared.ca.leaf(&host).map_err(std::io::Error::other)?;
                tls_config(Arc::new(FixedLeaf(leaf))).map_err(std::io::Error::other)?
            }
        };
        start.into_stream(config).await
    };
    let stream = match tokio::time::timeout(shared.options.tls_handshake_timeout, handshake).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return tracing::debug!(%peer, %host, "intercepted TLS handshake failed: {e}"),
        Err(_) => return tracing::debug!(%peer, %host, "intercepted TLS handshake timed out"),
    };
    let served = shared.handler.serve(Intercepted { host, peer, stream });
    tokio::select! {
        () = served => {}
        _ = stopped.changed() => {}
    }
}

/// Serves one given leaf whatever the client hello says (clients without SNI).
#[derive(Debug)]
struct FixedLeaf(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedLeaf {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Connects to a tunnel or forward target, or says in a response why not.
async fn open(shared: &Bound, target: &Target) -> Result<TcpStream, Response<Body>> {
    let options = &shared.options;
    let connecting = async {
        match target.loopback_ip() {
            // "localhost" may listen on either family.
            Some(_) if target.host == "localhost" => {
                match TcpStream::connect((Ipv4Addr::LOCALHOST, target.port)).await {
                    Ok(stream) => Ok(stream),
                    Err(_) => TcpStream::connect((Ipv6Addr::LOCALHOST, target.port)).await,
                }
            }
            Some(ip) => TcpStream::connect((ip, target.port)).await,
            None => TcpStream::connect((target.host.as_str(), target.port)).await,
        }
    };
    if options.offline && target.loopback_ip().is_none() {
        tracing::debug!(%target, "refused (offline)");
        return Err(text(
            StatusCode::BAD_GATEWAY,
            format!(
                "wxemu's proxy is offline (--proxy-offline): it serves only the intercepted \
                 hosts ({}) and loopback targets; {target} was refused and nothing was sent \
                 off this machine\n",
                options.hosts.as_slice().join(", ")
            ),
        ));
    }
    match tokio::time::timeout(options.connect_timeout, connecting).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(e)) => Err(text(
            StatusCode::BAD_GATEWAY,
            format!("wxemu's proxy cannot reach {target}: {e}\n"),
        )),
        Err(_) => Err(text(
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "wxemu's proxy could not connect to {target} within {:?}\n",
                options.connect_timeout
            ),
        )),
    }
}

/// Whether `target` is this proxy (a tunnel to it would only nest proxies).
fn is_self(shared: &Bound, target: &Target) -> bool {
    target.port == shared.addr.port() && target.loopback_ip().is_some()
}

// ---------------------------------------------------------------------------------------
// Plain HTTP, absolute-form

/// Headers that describe one hop, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
}

async fn forward(shared: Arc<Shared>, mut req: Request<Incoming>) -> Response<Body> {
    if req.uri().scheme_str() != Some("http") {
        return text(
            StatusCode::BAD_REQUEST,
            "wxemu's proxy forwards http:// URLs; use CONNECT for https\n",
        );
    }
    let authority = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let target = match Target::parse(&authority, Some(80)) {
        Ok(target) => target,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    if shared.options.hosts.contains(&target.host) {
        // The real hosts redirect http to https too; the client then CONNECTs.
        let location = format!("https://{}{path}", target.host);
        let mut response = text(
            StatusCode::PERMANENT_REDIRECT,
            format!("wxemu serves {} over https: {location}\n", target.host),
        );
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        return response;
    }
    if is_self(&shared, &target) {
        return own_page(&shared, &req);
    }
    let upstream = match open(&shared, &target).await {
        Ok(stream) => stream,
        Err(refusal) => return refusal,
    };
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake(TokioIo::new(upstream)).await {
            Ok(pair) => pair,
            Err(e) => {
                return text(
                    StatusCode::BAD_GATEWAY,
                    format!("wxemu's proxy cannot talk HTTP to {target}: {e}\n"),
                )
            }
        };
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("forwarded connection ended: {e}");
        }
    });

    strip_hop_by_hop(req.headers_mut());
    if !req.headers().contains_key(header::HOST) {
        if let Ok(host) = HeaderValue::from_str(&authority) {
            req.headers_mut().insert(header::HOST, host);
        }
    }
    match path.parse() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(_) => return text(StatusCode::BAD_REQUEST, "bad request path\n"),
    }
    match sender.send_request(req).await {
        Ok(response) => {
            let mut response = response.map(BodyExt::boxed);
            strip_hop_by_hop(response.headers_mut());
            response
        }
        Err(e) => text(
            StatusCode::BAD_GATEWAY,
            format!("wxemu's proxy got no answer from {target}: {e}\n"),
        ),
    }
}

// ---------------------------------------------------------------------------------------
// The proxy's own pages

/// `/proxy.pac` and `/`, for a loopback Host only.
fn own_page<B>(shared: &Bound, req: &Request<B>) -> Response<Body> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(host) if is_own_host(&host, shared.addr.port()) => {}
        Some(host) => {
            tracing::warn!(
                host,
                "proxy refused a request for a foreign Host (DNS rebinding?)"
            );
            return text(
                StatusCode::FORBIDDEN,
                format!(
                    "wxemu's proxy answers only for 127.0.0.1, localhost and [::1]; this \
                     request was for {host:?}\n"
                ),
            );
        }
        None => return text(StatusCode::BAD_REQUEST, "missing Host header\n"),
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match req.uri().path() {
        PAC_PATH => {
            let mut response = Response::new(full(pac_script(&shared.options.hosts, shared.addr)));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(PAC_CONTENT_TYPE),
            );
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        "/" => text(StatusCode::OK, status_text(shared)),
        _ => text(
            StatusCode::NOT_FOUND,
            format!("wxemu's proxy has / and {PAC_PATH} only\n"),
        ),
    }
}

fn status_text(shared: &Bound) -> String {
    let options = &shared.options;
    format!(
        "wxemu interception proxy on {addr}\n\
         intercepted (port {HTTPS_PORT}): {hosts}\n\
         other hosts: {others}\n\
         PAC: http://{addr}{PAC_PATH}\n\
         interception CA: sha256 {fingerprint}\n",
        addr = shared.addr,
        hosts = if options.hosts.is_empty() {
            "(none)".to_owned()
        } else {
            options.hosts.as_slice().join(", ")
        },
        others = if options.offline {
            "refused (offline), loopback tunnelled"
        } else {
            "tunnelled"
        },
        fingerprint = shared.ca.fingerprint_sha256(),
    )
}

/// A loopback name, with no port or this proxy's port.
fn is_own_host(host: &str, port: u16) -> bool {
    let (name, given_port) = match host.rsplit_once(':') {
        Some((name, p)) if !p.contains(']') && p.bytes().all(|b| b.is_ascii_digit()) => {
            (name, Some(p))
        }
        _ => (host, None),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback && given_port.is_none_or(|p| p.parse::<u16>() == Ok(port))
}

// ---------------------------------------------------------------------------------------
// Responses

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Empty::new().map_err(|never| match never {}).boxed());
    *response.status_mut() = status;
    response
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    let mut response = Response::new(full(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_hosts() {
        for ok in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "localhost:8080",
            "LOCALHOST.:8080",
            "[::1]:8080",
            "[::1]",
        ] {
            assert!(is_own_host(ok, 8080), "{ok}");
        }
        for bad in [
            "127.0.0.1:8081",
            "evil.example:8080",
            "localhost.weixin.qq.com:8080",
            "10.0.0.1:8080",
            "",
        ] {
            assert!(!is_own_host(bad, 8080), "{bad}");
        }
    }

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-drop"),
        );
        headers.insert("x-drop", HeaderValue::from_static("1"));
        headers.insert("proxy-authorization", HeaderValue::from_static("secret"));
        headers.insert("x-keep", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut headers);
        let names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["x-keep"]);
    }
}
