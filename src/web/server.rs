//! The listener: loopback TCP, TLS, HTTP/1.1 and HTTP/2 on one port, and a
//! clean shutdown.
//!
//! [`Server::bind`] does everything that can fail at start (config, certs,
//! port) so the caller can report it in one sentence; [`Server::run`] then
//! serves until the shutdown future completes, withdraws pending approvals
//! and releases held QR long polls so held-open calls answer at once, and
//! gives connections a moment to finish.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::web::front::faults::{DropConnection, DroppedByFault};
use crate::web::front::{Front, Listener};
use crate::web::intercept::{InterceptError, InterceptOptions, Interception};
use crate::web::transport::connections::{
    AcceptErrors, Admitted, CloseReason, ConnLimits, Connections,
};
use crate::web::transport::parking;
use wxemu_core::ApprovalMode;
use wxemu_core::Journal;
use wxemu_core::Limits;
use wxemu_core::Scenario;
use wxemu_core::{Config, ConfigError};
use wxemu_core::{Emulator, KNOWN_PORTS};

/// How long shutdown waits for open connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How often expired state is dropped from memory.
const PURGE_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// 0 picks a free port (tests).
    pub port: u16,
    pub data_dir: PathBuf,
    pub config_path: PathBuf,
    pub approval: ApprovalMode,
    /// Overrides the config's decision timeout for this run.
    pub decision_timeout: Option<Duration>,
    pub limits: Limits,
    /// `--scenario`: accounts, apps, policy, queued decisions and faults.
    pub scenario: Option<Scenario>,
    /// Also serve the token API (`/sns/...`, nothing else) over plain HTTP on this
    /// loopback port, for backends that cannot be given the CA. `Some(0)` picks a port.
    pub http_api_port: Option<u16>,
    /// Interception: the proxy and/or hosts mode (off unless asked for).
    pub intercept: InterceptOptions,
    /// The address every listener binds (`--bind`): 127.0.0.1 unless given
    /// explicitly, e.g. 0.0.0.0 in a docker-compose CI (the banner warns).
    pub bind: IpAddr,
    /// The login page probes only this server's port for fast login, not the
    /// ports the real page tries (`--only-own-port`): a test's page never
    /// reaches a desktop app or another test's wxemu on 14013.
    pub own_port_only: bool,
    /// Where to write the ready file too (`--ready-file`), besides serve.json.
    pub ready_file: Option<PathBuf>,
}

impl ServeOptions {
    /// Defaults for everything but where the data lives.
    pub fn new(data_dir: PathBuf) -> ServeOptions {
        ServeOptions {
            port: wxemu_core::DEFAULT_PORT,
            config_path: wxemu_core::default_path(&data_dir),
            data_dir,
            approval: ApprovalMode::Ask,
            decision_timeout: None,
            limits: Limits::default(),
            scenario: None,
            http_api_port: None,
            intercept: InterceptOptions::default(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            own_port_only: false,
            ready_file: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Certs(#[from] wxemu_certs::Error),
    #[error("the scenario does not fit the config: {0}")]
    Scenario(String),
    #[error("cannot create the control token {path}: {source}")]
    ControlToken {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the journal file {path}: {source}")]
    JournalFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("port {port} on 127.0.0.1 is already in use (a real WeChat, or another wxemu?); start wxemu on another port: --port {suggestion}")]
    PortInUse { port: u16, suggestion: u16 },
    #[error("--http-api-port {port}: port {port} on 127.0.0.1 is already in use; pick another")]
    HttpApiPortInUse { port: u16 },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Intercept(#[from] InterceptError),
}

pub struct Server {
    emulator: Arc<Emulator>,
    listener: TcpListener,
    /// The plain-HTTP token API listener (`--http-api-port`), if asked for.
    http_api: Option<TcpListener>,
    tls: TlsAcceptor,
    certs: wxemu_certs::Material,
    data_dir: PathBuf,
    /// `--proxy-port` / `--intercept-port`, if asked for.
    intercept: Option<Interception>,
    ready_file: Option<PathBuf>,
}

impl Server {
    /// What this server has bound: its ready file (`crate::web::transport::ready`).
    pub fn ready(&self) -> crate::web::transport::ready::Ready {
        let server = self;
        let addr = server.local_addr();
        let intercept = server.interception();
        let proxy = intercept.and_then(|i| i.proxy_addr());
        let data_dir = server.data_dir().to_owned();
        crate::web::transport::ready::Ready {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            port: addr.port(),
            url: format!("https://{}:{}", wxemu_core::CANONICAL_HOST, addr.port()),
            ports: crate::web::transport::ready::Ports {
                https: addr.port(),
                http_api: server.http_api_addr().map(|a| a.port()),
                proxy: proxy.map(|a| a.port()),
                intercept: intercept.and_then(|i| i.direct_addr()).map(|a| a.port()),
            },
            proxy: proxy.map(|a| format!("http://{a}")),
            pac_url: proxy.map(|a| format!("http://{a}{}", crate::web::intercept::proxy::PAC_PATH)),
            ca: server.certs().ca_cert_path.clone(),
            intercept_ca: intercept.map(|i| i.ca().cert_path().to_owned()),
            token_file: crate::web::surfaces::control::token_path(&data_dir),
            data_dir,
        }
    }

    /// Loads the config, loads or creates the certificates, binds the port.
    pub async fn bind(options: ServeOptions) -> Result<Server, ServeError> {
        let mut config = Config::load(&options.config_path)?;
        if let Some(scenario) = &options.scenario {
            scenario
                .merge_into(&mut config)
                .map_err(ServeError::Scenario)?;
        }
        let token =
            crate::web::surfaces::control::ensure_token(&options.data_dir).map_err(|source| {
                ServeError::ControlToken {
                    path: crate::web::surfaces::control::token_path(&options.data_dir),
                    source,
                }
            })?;
        let mut journal_config = config.journal.clone();
        // A relative journal file lives in the data directory.
        journal_config.file = journal_config.file.map(|f| options.data_dir.join(f));
        let journal =
            Journal::from_config(&journal_config).map_err(|source| ServeError::JournalFile {
                path: journal_config.file.clone().unwrap_or_default(),
                source,
            })?;
        // A few small file reads (or one key generation on first start).
        let certs = wxemu_certs::ensure(&options.data_dir)?;
        let tls = TlsAcceptor::from(crate::web::transport::tls::server_config(&certs)?);
        let addr = SocketAddr::from((options.bind, options.port));
        let listener = TcpListener::bind(addr).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                ServeError::PortInUse {
                    port: options.port,
                    suggestion: suggest_port(options.port),
                }
            } else {
                ServeError::Bind { addr, source }
            }
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?
            .port();
        let http_api = match options.http_api_port {
            Some(api_port) => Some(bind_api(options.bind, api_port).await?),
            None => None,
        };
        let intercept = if options.intercept.enabled() {
            Some(
                Interception::bind(
                    &options.data_dir,
                    &config.intercept,
                    &options.intercept,
                    options.limits,
                    options.bind,
                )
                .await?,
            )
        } else {
            None
        };
        let mut emulator = Emulator::new(config, options.config_path, port, options.approval)
            .with_decision_timeout(options.decision_timeout)
            .with_limits(options.limits)
            .with_journal(journal)
            .with_control_token(token)
            .with_listening(wxemu_core::Listening {
                bind: options.bind,
                intercept: intercept.as_ref().map(Interception::status),
                own_port_only: options.own_port_only,
            });
        if let Some(scenario) = options.scenario {
            emulator = emulator.with_scenario(scenario);
        }
        Ok(Server {
            emulator: Arc::new(emulator),
            listener,
            http_api,
            tls,
            certs,
            data_dir: options.data_dir,
            intercept,
            ready_file: options.ready_file,
        })
    }

    /// Interception, if `serve` runs it.
    pub fn interception(&self) -> Option<&Interception> {
        self.intercept.as_ref()
    }

    pub fn emulator(&self) -> Arc<Emulator> {
        self.emulator.clone()
    }

    /// Where the HTTPS listener is bound (127.0.0.1 unless `--bind`).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::LOCALHOST, self.emulator.port())))
    }

    /// Where the plain-HTTP token API listens, if `http_api_port` was set.
    pub fn http_api_addr(&self) -> Option<SocketAddr> {
        self.http_api.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn certs(&self) -> &wxemu_certs::Material {
        &self.certs
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Serves until `shutdown` completes. While it does, `serve.json` in
    /// the data directory tells `wxemu ctl` and test runners the ports
    /// (`crate::web::transport::ready`).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let ready = self.ready();
        let serve_info = crate::web::surfaces::control::serve_info_path(&self.data_dir);
        if let Err(e) = ready.write(&serve_info) {
            tracing::warn!("cannot write serve.json (wxemu ctl will need --port): {e}");
        }
        // After serve.json: whoever waits for the ready file may run `wxemu ctl`.
        if let Some(path) = &self.ready_file {
            if let Err(e) = ready.write(path) {
                tracing::error!("cannot write the ready file {}: {e}", path.display());
            }
        }
        let Server {
            emulator,
            listener,
            http_api,
            tls,
            intercept,
            ready_file,
            ..
        } = self;
        let limits = *emulator.limits();
        let service = dropping_service(Front::new(emulator.clone(), Listener::Tls));
        let api_service = dropping_service(Front::new(emulator.clone(), Listener::PlainApi));
        let builders = Arc::new(Builders::new(&limits));
        let builder = builders.sniffing.clone();
        let connections = Connections::new(ConnLimits {
            max_connections: crate::web::transport::connections::fd_bounded(limits.max_connections),
            first_request_timeout: limits.first_request_timeout,
            idle_timeout: limits.idle_timeout,
            send_stall_timeout: limits.send_stall_timeout,
        });
        tracing::debug!(
            max_connections = connections.limits().max_connections,
            "connection cap"
        );

        let (stop_tasks, tasks_stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(wxemu_core::auto_answer(
            emulator.clone(),
            tasks_stopped.clone(),
        ));
        if let Some(intercept) = intercept {
            // Intercepted connections get their own front: the registry's real
            // WeChat host families only, and of those the configured hosts only.
            let builder = builder.clone();
            let service = crate::web::intercept::AsIntercepted {
                inner: TowerToHyperService::new(dropping_service(Front::new(
                    emulator.clone(),
                    Listener::Intercepted,
                ))),
                hosts: Arc::new(intercept.hosts().clone()),
            };
            let serve = move |io, peer: SocketAddr| {
                let builder = builder.clone();
                let service = service.clone();
                async move {
                    let io = crate::web::intercept::hyper_io(io);
                    if let Err(e) = builder.serve_connection(io, service).await {
                        tracing::debug!(%peer, "intercepted connection ended: {e}");
                    }
                }
            };
            tokio::spawn(intercept.run(serve, tasks_stopped.clone()));
        }
        tokio::spawn(purge_periodically(emulator.clone(), tasks_stopped.clone()));
        tokio::spawn(connections.clone().sweep(tasks_stopped));

        let mut accept_errors = AcceptErrors::default();
        tokio::pin!(shutdown);
        loop {
            let (accepted, plain) = tokio::select! {
                accepted = listener.accept() => (accepted, false),
                accepted = accept_if_some(http_api.as_ref()) => (accepted, true),
                () = &mut shutdown => break,
            };
            let (tcp, peer) = match accepted {
                Ok(pair) => {
                    accept_errors.succeeded();
                    pair
                }
                Err(e) => {
                    // Out of file descriptors and the like: free one by
                    // closing the oldest idle connection, and back off
                    // instead of spinning (said once per episode).
                    let backoff = accept_errors.failed(&e);
                    connections.shed_one();
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            };
            // At the cap the oldest idle connection makes room; when every
            // connection is busy the newcomer is closed at once.
            let Some(admitted) = connections.admit() else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            if plain {
                tokio::spawn(serve_connection(
                    builders.clone(),
                    Protocol::Sniffing,
                    tcp,
                    api_service.clone(),
                    admitted,
                    peer,
                ));
                continue;
            }
            let tls = tls.clone();
            let service = service.clone();
            let builders = builders.clone();
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(limits.tls_handshake_timeout, tls.accept(tcp));
                let stream = tokio::select! {
                    handshake = handshake => match handshake {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, "TLS handshake failed: {e}");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    },
                    reason = admitted.closing() => {
                        tracing::debug!(%peer, ?reason, "closed during the TLS handshake");
                        return;
                    }
                };
                // The first-request deadline counts from here.
                admitted.touch();
                let protocol = Protocol::for_alpn(stream.get_ref().1.alpn_protocol());
                // A task of its own, holding only what serving needs: this
                // one, sized for the handshake too, would stay with every
                // connection, idle ones included. The stream is boxed: an
                // async fn's future can keep two copies of a moved argument.
                tokio::spawn(serve_connection(
                    builders,
                    protocol,
                    Box::new(stream),
                    service,
                    admitted,
                    peer,
                ));
            });
        }

        tracing::info!("shutting down");
        drop(listener);
        ready.remove_if_ours(&serve_info);
        if let Some(path) = &ready_file {
            ready.remove_if_ours(path);
        }
        drop(http_api);
        emulator.release_waiters();
        let _ = stop_tasks.send(true);
        connections.close_all();
        if tokio::time::timeout(SHUTDOWN_GRACE, connections.wait_empty())
            .await
            .is_err()
        {
            tracing::warn!(
                "some connections were still open after {SHUTDOWN_GRACE:?}; closing them"
            );
        }
    }
}

/// hyper's HTTP/1.1 and HTTP/2 settings: what one connection may cost.
fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // The read buffer (headers and read-ahead), so also the largest head.
        .max_buf_size(H1_MAX_BUF);
    builder
        .http2()
        .timer(TokioTimer::new())
        // Notices a peer that vanished while a long poll is held.
        .keep_alive_interval(H2_PING_EVERY)
        .keep_alive_timeout(H2_PING_TIMEOUT)
        .max_concurrent_streams(limits.max_streams_per_connection)
        .max_header_list_size(H2_MAX_HEADER_LIST)
        // What a client may send before we read it, and what we queue for a
        // reader whose window is closed.
        .initial_stream_window_size(H2_STREAM_WINDOW)
        .initial_connection_window_size(H2_CONNECTION_WINDOW)
        .max_send_buf_size(H2_MAX_SEND_BUF);
    builder
}

/// The same HTTP/1.1 settings for hyper's own HTTP/1.1 builder, which can
/// hand a connection back without closing it (see [`parking`]).
fn http1_builder(limits: &Limits) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(H1_MAX_BUF);
    builder
}

/// How a connection is served. A TLS connection that negotiated http/1.1
/// by ALPN, or no protocol at all (Node's `https`, so wechat4u; HTTP/2 over
/// TLS requires ALPN, RFC 9113 section 3.3), is served as HTTP/1.1 at once,
/// and parks while idle. Otherwise hyper-util sniffs for HTTP/2's preface,
/// which an HTTP/1.1 connection would pay for: the sniffed 24 bytes reach
/// hyper as a first, partial head, and the read buffer, full of it, doubles
/// to 16 KiB for the rest of the connection. (h2 connections keep the
/// sniffing builder: closing an idle one that is still being sniffed is
/// immediate, where an HTTP/2 connection's graceful close waits for the
/// peer.)
#[derive(Debug, Clone, Copy)]
enum Protocol {
    Http1,
    Sniffing,
}

impl Protocol {
    /// How to serve a connection that negotiated `alpn`.
    fn for_alpn(alpn: Option<&[u8]>) -> Protocol {
        match alpn {
            Some(b"http/1.1") | None => Protocol::Http1,
            _ => Protocol::Sniffing,
        }
    }
}

/// Both ways to serve, built once and shared by every connection.
struct Builders {
    sniffing: auto::Builder<TokioExecutor>,
    http1: http1::Builder,
}

impl Builders {
    fn new(limits: &Limits) -> Builders {
        Builders {
            sniffing: connection_builder(limits),
            http1: http1_builder(limits),
        }
    }
}

/// hyper's per-connection buffers (see [`connection_builder`]).
const H1_MAX_BUF: usize = 64 * 1024;
const H2_MAX_HEADER_LIST: u32 = 32 * 1024;
const H2_STREAM_WINDOW: u32 = 64 * 1024;
const H2_CONNECTION_WINDOW: u32 = 256 * 1024;
const H2_MAX_SEND_BUF: usize = 64 * 1024;
const H2_PING_EVERY: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection asked to close (idle, evicted) may take to finish
/// its graceful close (HTTP/2 GOAWAY) before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

fn close_grace(reason: CloseReason) -> Duration {
    if reason == CloseReason::Shutdown {
        SHUTDOWN_GRACE
    } else {
        CLOSE_GRACE
    }
}

/// Serves one connection until it ends or the registry asks it to close:
/// then gracefully (in-flight requests finish, HTTP/2 says GOAWAY), within
/// [`close_grace`]. This future is the connection's task for its whole life,
/// so it keeps one copy of the stream and pointers, nothing larger.
async fn serve_connection<I, S>(
    builders: Arc<Builders>,
    protocol: Protocol,
    mut io: I,
    service: S,
    admitted: Admitted,
    peer: SocketAddr,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = DroppedByFault,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let service = Boxed(crate::web::transport::connections::track(
        service,
        admitted.conn.clone(),
    ));
    let ended = match protocol {
        Protocol::Http1 => {
            parking::serve(&builders.http1, &mut io, &service, &admitted, close_grace).await
        }
        Protocol::Sniffing => {
            // Boxed: inline, it would size the task of every connection.
            let mut connection = Box::pin(
                builders
                    .sniffing
                    .serve_connection(TokioIo::new(io), service),
            );
            tokio::select! {
                result = connection.as_mut() => result,
                reason = admitted.closing() => {
                    tracing::debug!(?reason, "closing a connection");
                    connection.as_mut().graceful_shutdown();
                    tokio::time::timeout(close_grace(reason), connection)
                        .await
                        .unwrap_or(Ok(())) // on time out it is dropped: the socket closes
                }
            }
        }
    };
    if let Err(e) = ended {
        tracing::debug!(%peer, "connection ended: {e}");
    }
}

/// A service whose future is boxed per request. hyper's HTTP/1.1
/// dispatcher keeps one box the size of the service's future for the
/// whole life of a connection, in flight or not: with the front's future
/// inline (some KB) every idle keep-alive connection paid that; boxed,
/// an idle connection keeps a pointer and a request costs one allocation.
#[derive(Clone)]
struct Boxed<S>(S);

impl<S> hyper::service::Service<axum::http::Request<hyper::body::Incoming>> for Boxed<S>
where
    S: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = axum::response::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<axum::response::Response, S::Error>> + Send>>;

    fn call(&self, req: axum::http::Request<hyper::body::Incoming>) -> Self::Future {
        use tower::ServiceExt;
        Box::pin(self.0.clone().oneshot(req))
    }
}

/// The front as a service that fails for responses marked
/// [`DropConnection`]: hyper then closes the connection (HTTP/1.1) or resets
/// the stream (HTTP/2) without sending anything, as a crashed client would.
/// No future is boxed on the way: hyper polls the front's future directly.
fn dropping_service(
    front: Front,
) -> impl tower::Service<
    axum::http::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = DroppedByFault,
    Future = impl Future<Output = Result<axum::response::Response, DroppedByFault>> + Send,
> + Clone {
    tower::service_fn(move |req: axum::http::Request<hyper::body::Incoming>| {
        let front = front.clone();
        async move {
            let response = front.serve(req).await;
            if response.extensions().get::<DropConnection>().is_some() {
                Err(DroppedByFault)
            } else {
                Ok(response)
            }
        }
    })
}

/// Binds `ip`:`port` for the plain-HTTP token API.
async fn bind_api(ip: IpAddr, port: u16) -> Result<TcpListener, ServeError> {
    let addr = SocketAddr::from((ip, port));
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            ServeError::HttpApiPortInUse { port }
        } else {
            ServeError::Bind { addr, source }
        }
    })
}

/// Accepts on `listener`, or waits forever when there is none.
async fn accept_if_some(
    listener: Option<&TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Drops expired state every [`PURGE_EVERY`] until told to stop. Lookups
/// check expiry themselves; this only keeps memory bounded.
async fn purge_periodically(emulator: Arc<Emulator>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(PURGE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let dropped = emulator.purge();
                if dropped > 0 {
                    tracing::debug!(dropped, "purged expired entries");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// The port to suggest when `port` is taken: the next one the real page
/// tries, so the suggestion still works with unmodified login pages.
fn suggest_port(port: u16) -> u16 {
    KNOWN_PORTS
        .iter()
        .skip_while(|&&p| p != port)
        .nth(1)
        .copied()
        .unwrap_or(if port == 0 {
            KNOWN_PORTS[0]
        } else {
            port.wrapping_add(1).max(1024)
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_the_next_known_port() {
        assert_eq!(super::suggest_port(14013), 14014);
        assert_eq!(super::suggest_port(14015), 13013);
        assert_eq!(super::suggest_port(13015), 13016);
        assert_eq!(super::suggest_port(8443), 8444);
    }
}
