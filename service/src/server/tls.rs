//! TLS on a listener: the handshake of each accepted connection, off the
//! accept loop (a slow client holds up only itself, and its connection
//! slot bounds how many can), with the settings in force when it arrived,
//! so a renewed certificate reaches new connections while open ones go on.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use scute_security::rustls::ServerConfig;
use scute_security::tokio_rustls::{TlsAcceptor, server::TlsStream};
use scute_security::watch::Watched;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_stream::{Stream, StreamExt};

use super::conn::{Conn, ConnInfo};

/// How long a client may take to finish the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the server to take them.
const READY_QUEUE: usize = 64;

/// A connection as the servers see it: in clear, or inside TLS.
pub(crate) enum Io {
    Plain(Conn),
    Tls(Box<TlsStream<Conn>>, ConnInfo),
}

impl Io {
    pub(crate) fn info(&self) -> &ConnInfo {
        match self {
            Self::Plain(conn) => conn.info(),
            Self::Tls(_, info) => info,
        }
    }
}

/// The connections of `incoming`, inside TLS when `tls` is set.
pub(crate) fn secure(
    incoming: impl Stream<Item = io::Result<Conn>> + Send + Unpin + 'static,
    tls: Option<Arc<Watched<ServerConfig>>>,
) -> Pin<Box<dyn Stream<Item = io::Result<Io>> + Send>> {
    let Some(tls) = tls else {
        return Box::pin(incoming.map(|conn| conn.map(Io::Plain)));
    };
    let (ready, taken) = tokio::sync::mpsc::channel(READY_QUEUE);
    tokio::spawn(async move {
        let mut incoming = incoming;
        loop {
            // The server stopped taking connections: stop accepting them.
            let conn = tokio::select! {
                conn = incoming.next() => conn,
                () = ready.closed() => break,
            };
            let Some(Ok(conn)) = conn else { continue };
            let acceptor = TlsAcceptor::from(tls.get());
            let ready = ready.clone();
            tokio::spawn(async move {
                let mut info = conn.info().clone();
                let peer = info.remote;
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(conn)).await {
                    Ok(Ok(stream)) => {
                        let (_, session) = stream.get_ref();
                        info.certificate =
                            scute_security::tls::peer_principal(session).map(Arc::from);
                        let _ = ready.send(Ok(Io::Tls(Box::new(stream), info))).await;
                    }
                    Ok(Err(e)) => tracing::debug!(?peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(?peer, "TLS handshake timed out"),
                }
            });
        }
    });
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(taken))
}

impl tonic::transport::server::Connected for Io {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        self.info().clone()
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(conn) => Pin::new(conn).poll_read(cx, buf),
            Self::Tls(stream, _) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(conn) => Pin::new(conn).poll_write(cx, buf),
            Self::Tls(stream, _) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(conn) => Pin::new(conn).poll_flush(cx),
            Self::Tls(stream, _) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(conn) => Pin::new(conn).poll_shutdown(cx),
            Self::Tls(stream, _) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(conn) => Pin::new(conn).poll_write_vectored(cx, bufs),
            Self::Tls(stream, _) => Pin::new(stream.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(conn) => conn.is_write_vectored(),
            Self::Tls(stream, _) => stream.is_write_vectored(),
        }
    }
}
