//! Interception, as `wxemu serve` runs it: the interception CA, the proxy
//! (`--proxy-port`, [`crate::web::intercept::proxy`]) and hosts mode (`--intercept-port`: the
//! intercepted names served directly, for machines where a proxy cannot be set and
//! the names are mapped to 127.0.0.1 instead). Both hand every intercepted TLS
//! connection to the same router as the main listener; the router answers by Host.

pub mod proxy;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use wxemu_certs::InterceptCa;
use wxemu_core::InterceptConfig;
use wxemu_core::Limits;

use crate::web::intercept::proxy::{
    InterceptHandler, InterceptedHosts, Proxy, ProxyError, ProxyOptions,
};

/// What `serve` was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterceptOptions {
    /// `--proxy-port`: run the proxy on 127.0.0.1:PORT (0 picks one).
    pub proxy_port: Option<u16>,
    /// `--proxy-offline` (or `[intercept] offline`).
    pub proxy_offline: bool,
    /// `--intercept-port`: serve the intercepted names on 127.0.0.1:PORT (0 picks one).
    pub intercept_port: Option<u16>,
}

impl InterceptOptions {
    pub fn enabled(&self) -> bool {
        self.proxy_port.is_some() || self.intercept_port.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InterceptError {
    #[error("[intercept] hosts: {0}")]
    Hosts(String),
    #[error("the interception CA: {0}")]
    Certs(#[from] wxemu_certs::Error),
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("--intercept-port {port}: port {port} on 127.0.0.1 is already in use (or needs privileges: see docs/interception.md); pick another")]
    PortInUse { port: u16 },
    #[error("--intercept-port {port}: cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot set up TLS for interception: {0}")]
    Tls(#[from] rustls::Error),
}

/// Interception, bound and ready to run.
pub struct Interception {
    ca: Arc<InterceptCa>,
    hosts: InterceptedHosts,
    proxy: Option<Proxy>,
    direct: Option<(TcpListener, TlsAcceptor)>,
    limits: Limits,
}

impl Interception {
    /// Loads or creates the interception CA in `data_dir` (only now: never for a
    /// `serve` without interception) and binds what `options` asks for, on
    /// `ip` (127.0.0.1 unless `serve --bind`).
    pub async fn bind(
        data_dir: &Path,
        config: &InterceptConfig,
        options: &InterceptOptions,
        limits: Limits,
        ip: IpAddr,
    ) -> Result<Interception, InterceptError> {
        let hosts = InterceptedHosts::new(&config.hosts).map_err(InterceptError::Hosts)?;
        let ca = Arc::new(InterceptCa::ensure(data_dir)?);
        let proxy = match options.proxy_port {
            Some(port) => {
                let mut proxy_options = ProxyOptions::new(port, hosts.clone());
                proxy_options.bind = ip;
                proxy_options.offline = options.proxy_offline || config.offline;
                proxy_options.header_read_timeout = limits.header_read_timeout;
                proxy_options.tls_handshake_timeout = limits.tls_handshake_timeout;
                Some(Proxy::bind(proxy_options, ca.clone()).await?)
            }
            None => None,
        };
        let direct = match options.intercept_port {
            Some(port) => {
                let addr = SocketAddr::from((ip, port));
                let listener = TcpListener::bind(addr).await.map_err(|source| {
                    if source.kind() == std::io::ErrorKind::AddrInUse {
                        InterceptError::PortInUse { port }
                    } else {
                        InterceptError::Bind { port, source }
                    }
                })?;
                let resolver = Arc::new(OnlyHosts {
                    ca: ca.clone(),
                    hosts: hosts.clone(),
                });
                let tls = crate::web::intercept::proxy::tls_config(resolver)?;
                Some((listener, TlsAcceptor::from(tls)))
            }
            None => None,
        };
        Ok(Interception {
            ca,
            hosts,
            proxy,
            direct,
            limits,
        })
    }

    /// What the control API and the dashboard show of it.
    pub fn status(&self) -> wxemu_core::Interception {
        wxemu_core::Interception {
            hosts: self.hosts.as_slice().to_vec(),
            proxy: self.proxy_addr(),
            proxy_offline: self.proxy_offline(),
            hosts_mode: self.direct_addr(),
            ca_path: self.ca.cert_path().to_owned(),
            ca_sha256: self.ca.fingerprint_sha256().to_owned(),
        }
    }

    pub fn ca(&self) -> &InterceptCa {
        &self.ca
    }

    pub fn hosts(&self) -> &InterceptedHosts {
        &self.hosts
    }

    /// Where the proxy listens, if it runs.
    pub fn proxy_addr(&self) -> Option<SocketAddr> {
        self.proxy.as_ref().map(Proxy::local_addr)
    }

    /// Whether the proxy refuses hosts off this machine.
    pub fn proxy_offline(&self) -> bool {
        self.proxy.as_ref().is_some_and(|p| p.options().offline)
    }

    /// Where hosts mode listens, if it runs.
    pub fn direct_addr(&self) -> Option<SocketAddr> {
        self.direct
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Serves until `stop` says so. Every intercepted TLS connection, from the proxy
    /// or hosts mode, goes to `serve`.
    pub async fn run<F, Fut>(self, serve: F, mut stop: tokio::sync::watch::Receiver<bool>)
    where
        F: Fn(Box<dyn Io>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Interception {
            proxy,
            direct,
            limits,
            ..
        } = self;
        if let Some(proxy) = proxy {
            let serve = serve.clone();
            let handler: Arc<dyn InterceptHandler> =
                Arc::new(move |c: crate::web::intercept::proxy::Intercepted| {
                    serve(Box::new(c.stream) as Box<dyn Io>, c.peer)
                });
            let mut stop = stop.clone();
            tokio::spawn(proxy.run(handler, async move {
                let _ = stop.changed().await;
            }));
        }
        let Some((listener, tls)) = direct else {
            return;
        };
        loop {
            let (tcp, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!("intercept accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = stop.changed() => return,
            };
            let _ = tcp.set_nodelay(true);
            let tls = tls.clone();
            let serve = serve.clone();
            let mut stop = stop.clone();
            tokio::spawn(async move {
                let stream =
                    match tokio::time::timeout(limits.tls_handshake_timeout, tls.accept(tcp)).await
                    {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            return tracing::debug!(%peer, "intercept TLS handshake failed: {e}")
                        }
                        Err(_) => {
                            return tracing::debug!(%peer, "intercept TLS handshake timed out")
                        }
                    };
                tokio::select! {
                    () = serve(Box::new(stream), peer) => {}
                    _ = stop.changed() => {}
                }
            });
        }
    }
}

/// A connection's byte stream, whichever way it came in.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// Wraps a boxed stream for hyper.
pub fn hyper_io(io: Box<dyn Io>) -> TokioIo<Box<dyn Io>> {
    TokioIo::new(io)
}

/// Hosts mode's resolver: leaves for the configured hosts only, so a name the
/// user did not choose to intercept is never answered as the real one.
#[derive(Debug)]
struct OnlyHosts {
    ca: Arc<InterceptCa>,
    hosts: InterceptedHosts,
}

impl ResolvesServerCert for OnlyHosts {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let host = client_hello.server_name()?;
        if !self.hosts.contains(host) {
            tracing::debug!(host, "hosts mode: not an intercepted host");
            return None;
        }
        self.ca.leaf(host).ok()
    }
}

// ---------------------------------------------------------------------------------------
// Serving as the intercepted host

/// Admits a request that arrived on an intercepted connection: its Host must be one
/// of the configured intercepted hosts (the front then routes it by the registry's
/// host families). Otherwise the answer.
pub fn admit<B>(
    hosts: &InterceptedHosts,
    req: axum::http::Request<B>,
) -> Result<axum::http::Request<B>, Box<axum::response::Response>> {
    use axum::http::{header, StatusCode};
    let plain = |status: StatusCode, text: String| {
        Box::new(axum::response::IntoResponse::into_response((
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text,
        )))
    };
    let authority = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => authority.as_str(),
    };
    let host = wxemu_certs::normalize_host(host);
    if !hosts.contains(&host) {
        return Err(plain(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this connection serves the intercepted WeChat hosts only, not {authority:?}\n"
            ),
        ));
    }
    tracing::debug!(
        host,
        path = req.uri().path(),
        "served as the intercepted host"
    );
    Ok(req)
}

/// `inner` behind [`admit`]: what intercepted connections are served with.
#[derive(Clone)]
pub struct AsIntercepted<S> {
    pub inner: S,
    pub hosts: Arc<InterceptedHosts>,
}

impl<S, B> hyper::service::Service<axum::http::Request<B>> for AsIntercepted<S>
where
    S: hyper::service::Service<axum::http::Request<B>, Response = axum::response::Response>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = axum::response::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<axum::response::Response, S::Error>> + Send>>;

    fn call(&self, req: axum::http::Request<B>) -> Self::Future {
        match admit(&self.hosts, req) {
            Ok(req) => Box::pin(self.inner.call(req)),
            Err(answer) => Box::pin(std::future::ready(Ok(*answer))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, Request, StatusCode};

    #[test]
    fn only_the_configured_hosts_are_admitted() {
        let hosts = InterceptedHosts::new(["api.weixin.qq.com"]).unwrap();
        let req = Request::get("https://API.weixin.qq.com/sns/auth?x=1")
            .body(())
            .unwrap();
        let admitted = admit(&hosts, req).expect("admitted");
        assert_eq!(admitted.uri(), "https://API.weixin.qq.com/sns/auth?x=1");
        let other = Request::get("/sns/auth")
            .header(header::HOST, "open.weixin.qq.com")
            .body(())
            .unwrap();
        assert_eq!(
            admit(&hosts, other).unwrap_err().status(),
            StatusCode::MISDIRECTED_REQUEST
        );
        let own = Request::get("/__wxemu/health")
            .header(header::HOST, "localhost.weixin.qq.com")
            .body(())
            .unwrap();
        assert!(admit(&hosts, own).is_err());
    }
}
