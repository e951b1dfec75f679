//! HTTP/1.1 connections that give their memory back while idle.
//!
//! hyper keeps an 8 KiB read buffer, an 8 KiB write buffer and its
//! connection state for the whole life of an HTTP/1.1 connection, and has no
//! setting to start them smaller. Most connections clients keep open sit
//! idle: a bot's second connection between two messages, a browser's pool.
//! So when the sweeper ([`crate::web::transport::connections`]) finds one idle for
//! [`PARK_AFTER`](crate::web::transport::connections::PARK_AFTER), hyper finishes with
//! it without closing the socket, its state is dropped, and only the TLS
//! stream is kept, waiting for the next bytes. Those bytes start a new hyper
//! connection for the same service, with the bytes put back in front.
//! Clients see nothing of it: same socket, same TLS session.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::web::transport::connections::{Admitted, CloseReason};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves `io` as HTTP/1.1 until the client closes it or the registry asks
/// it to close (then gracefully, within `grace(reason)`), parking it
/// whenever the registry asks.
///
/// The stream and the service stay where the caller keeps them (hyper
/// borrows them), so what a parked connection costs is the caller's
/// stream, rustls's buffers and this future's few hundred bytes.
pub async fn serve<I, S>(
    builder: &http1::Builder,
    io: &mut I,
    service: &S,
    admitted: &Admitted,
    grace: impl Fn(CloseReason) -> Duration,
) -> Result<(), BoxError>
where
    I: AsyncRead + AsyncWrite + Unpin,
    S: hyper::service::Service<
        axum::http::Request<hyper::body::Incoming>,
        Response = axum::response::Response,
    >,
    S::Future: Unpin,
    S::Error: Into<BoxError>,
{
    let mut io = Rewind::new(io, Bytes::new());
    loop {
        // Boxed, so that hyper's state is freed while parked.
        let mut conn = Box::new(builder.serve_connection(TokioIo::new(&mut io), service));
        let served = tokio::select! {
            ended = poll_fn(|cx| conn.poll_without_shutdown(cx)) => {
                // The client closed, or asked to (`Connection: close`).
                ended?;
                drop(conn);
                close(&mut io).await;
                return Ok(());
            }
            reason = admitted.closing() => {
                Pin::new(&mut *conn).graceful_shutdown();
                return match tokio::time::timeout(grace(reason), conn).await {
                    Ok(result) => result.map_err(Into::into),
                    Err(_) => Ok(()), // dropped: the socket closes
                };
            }
            () = admitted.parking() => {
                let served = admitted.served();
                Pin::new(&mut *conn).graceful_shutdown();
                served
            }
        };
        // Idle, hyper ends at once; a request that began meanwhile is
        // answered first, with `Connection: close`, and then it must close.
        let finished = tokio::select! {
            ended = poll_fn(|cx| conn.poll_without_shutdown(cx)) => ended,
            _ = admitted.closing() => return Ok(()),
        };
        finished?;
        // Bytes hyper read but did not use come first again (a head cut in
        // two). Such a connection is not parked again before its next
        // request, so hyper's header timeout still bounds a slow head.
        let unread = conn.into_parts().read_buf;
        if admitted.served() != served {
            close(&mut io).await;
            return Ok(());
        }
        // (An empty `unread` still holds hyper's whole read buffer: drop it.)
        if !unread.is_empty() {
            io.prefix = if io.prefix.is_empty() {
                unread
            } else {
                [unread, std::mem::take(&mut io.prefix)].concat().into()
            };
        }
        if io.prefix.is_empty() {
            tracing::debug!("parked an idle connection");
            // One byte: the rest of its TLS record waits in rustls.
            let mut first = [0u8; 1];
            let read = tokio::select! {
                read = io.inner.read(&mut first) => read,
                _ = admitted.closing() => Ok(0),
            };
            match read {
                Ok(0) | Err(_) => {
                    close(&mut io).await;
                    return Ok(());
                }
                Ok(_) => io.prefix = Bytes::copy_from_slice(&first),
            }
        }
        tracing::debug!(unread = io.prefix.len(), "a parked connection resumes");
    }
}

/// Says goodbye on `io` (TLS close_notify, then FIN), within a second.
async fn close<I: AsyncWrite + Unpin>(io: &mut I) {
    let _ = tokio::time::timeout(Duration::from_secs(1), io.shutdown()).await;
}

/// `inner` with `prefix` read before it.
struct Rewind<I> {
    prefix: Bytes,
    inner: I,
}

impl<I> Rewind<I> {
    fn new(inner: I, prefix: Bytes) -> Self {
        Rewind { prefix, inner }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Rewind<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix.split_to(n));
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Rewind<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rewind_reads_the_prefix_first() {
        let (mut client, server) = tokio::io::duplex(64);
        client.write_all(b" world").await.unwrap();
        drop(client);
        let mut io = Rewind::new(server, Bytes::from_static(b"hello"));
        let mut all = String::new();
        io.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "hello world");
    }
}
