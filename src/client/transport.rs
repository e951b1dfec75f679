//! The transport under every request: TCP to the one address, TLS for
//! the one server name, and connections of one's own.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::header::{HeaderValue, HOST};
use hyper::{Request, Uri};
use hyper_util::client::legacy::connect::{Connected, Connection as ConnectionInfo};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::{within, Body, Error, Origin, Response, H2};

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

pub(super) fn parse_server_name(name: &str) -> Result<ServerName<'static>, Error> {
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

/// Dials the client's address and does the TLS handshake: the transport
/// under the pool, [`Client::connect`] and [`Client::connect_tls`].
#[derive(Clone, Debug)]
pub(super) struct Dialer {
    pub(super) addr: SocketAddr,
    pub(super) server_name: ServerName<'static>,
    pub(super) tls: Arc<ClientConfig>,
}

impl Dialer {
    pub(super) async fn dial(self) -> Result<TlsStream<TcpStream>, Error> {
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
pub(super) struct Tls(TlsStream<TcpStream>);

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

enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Body>),
    Http2(hyper::client::conn::http2::SendRequest<Body>),
}

/// One connection of its own (see [`Client::connect`](super::Client::connect));
/// one request at a time.
pub struct Connection {
    sender: Sender,
    origin: Origin,
    timeout: Duration,
}

impl Connection {
    /// Dials and does the HTTP handshake (HTTP/2 when ALPN picked it).
    pub(super) async fn open(
        dialer: &Dialer,
        origin: &Origin,
        timeout: Duration,
    ) -> Result<Connection, Error> {
        let stream = dialer.clone().dial().await?;
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
            origin: origin.clone(),
            timeout,
        })
    }

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
