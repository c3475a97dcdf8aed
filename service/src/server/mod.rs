//! The two listeners: REST (HTTP/1.1, hyper) and gRPC (HTTP/2, tonic),
//! each behind the same limits (see `conn` and `admission`).

mod admission;
mod conn;
pub(crate) mod guard;
pub(crate) mod ops;
mod tls;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Sleep;
use tokio_stream::{Stream, StreamExt};

use scute_security::rustls::ServerConfig;
use scute_security::watch::Watched;
use std::sync::Arc;

use crate::config::LimitsConfig;
use admission::{Admit, AdmitLayer, Gate, Grpc, Rest};
use conn::{Conn, Slots, Timeouts};

/// How long stopping waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long accepting waits after the system refused a connection (out of
/// file descriptors, typically) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// How often an idle gRPC connection is pinged, and how long the answer may
/// take, so that a peer that vanished is noticed.
const GRPC_KEEPALIVE: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(20));

/// The limits both listeners serve under.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    gate: Gate,
    rest_slots: Slots,
    grpc_slots: Slots,
    rest_timeouts: Timeouts,
    grpc_timeouts: Timeouts,
    /// The largest gRPC message.
    pub(crate) max_message_bytes: usize,
    grpc_streams: u32,
}

impl Limits {
    pub(crate) fn new(config: &LimitsConfig) -> Self {
        let max_connections = config
            .max_connections
            .unwrap_or_else(conn::default_max_connections);
        let ms = Duration::from_millis;
        Self {
            gate: Gate::new(
                config.max_requests_in_flight,
                config.max_request_bytes_in_flight,
            ),
            rest_slots: Slots::new(max_connections),
            grpc_slots: Slots::new(max_connections),
            rest_timeouts: Timeouts {
                idle: ms(config.http_idle_timeout_ms.max(1)),
                head: Some(ms(config.http_header_timeout_ms.max(1))),
            },
            grpc_timeouts: Timeouts {
                idle: ms(config.grpc_idle_timeout_ms.max(1)),
                head: None,
            },
            max_message_bytes: config.max_request_bytes,
            grpc_streams: config.grpc_max_concurrent_streams.max(1),
        }
    }

    pub(crate) fn max_connections(&self) -> usize {
        self.rest_slots.max()
    }

    /// Authentication for every request, when it is on.
    pub(crate) fn with_guard(mut self, guard: Option<Arc<guard::Guard>>) -> Self {
        self.gate = self.gate.with_guard(guard);
        self
    }

    /// Every request answered counted in `metrics`.
    pub(crate) fn with_metrics(mut self, metrics: Option<Arc<crate::metrics::Metrics>>) -> Self {
        self.gate = self.gate.with_metrics(metrics);
        self
    }

    /// Requests being answered now.
    pub(crate) fn in_flight(&self) -> usize {
        self.gate.in_flight()
    }

    /// Open connections on the REST and the gRPC listener.
    pub(crate) fn open_connections(&self) -> (u64, u64) {
        (
            self.rest_slots.in_use() as u64,
            self.grpc_slots.in_use() as u64,
        )
    }
}

/// Accepted connections that got a slot (or room in the overflow); the
/// others are closed as they arrive.
struct Incoming {
    listener: TcpListener,
    slots: Slots,
    timeouts: Timeouts,
    backoff: Option<Pin<Box<Sleep>>>,
}

impl Incoming {
    fn new(listener: TcpListener, slots: Slots, timeouts: Timeouts) -> Self {
        Self {
            listener,
            slots,
            timeouts,
            backoff: None,
        }
    }
}

impl Stream for Incoming {
    type Item = io::Result<Conn>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(backoff) = self.backoff.as_mut() {
                if backoff.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.backoff = None;
            }
            match self.listener.poll_accept(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok((stream, peer))) => {
                    // Nagle's algorithm would hold small replies back for the
                    // client's delayed ACK (tens of ms on a fresh connection).
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
                    }
                    match self.slots.take() {
                        Some(slot) => {
                            let conn = Conn::new(stream, slot, self.timeouts, self.slots.max());
                            return Poll::Ready(Some(Ok(conn)));
                        }
                        None => {
                            tracing::debug!(%peer, "closing a connection over the limit");
                        }
                    }
                }
                Poll::Ready(Err(e)) => {
                    tracing::warn!(error = %e, "accepting a connection failed; retrying shortly");
                    self.backoff = Some(Box::pin(tokio::time::sleep(ACCEPT_BACKOFF)));
                }
            }
        }
    }
}

/// Serves the REST API over HTTP/1.1 (as Confluent's registry is). On stop,
/// it stops accepting, lets requests in flight finish (closing idle
/// keep-alive connections at once) and gives up on stragglers after a while.
pub(crate) async fn serve_rest(
    listener: TcpListener,
    router: ops::Listener,
    limits: Limits,
    tls: Option<Arc<Watched<ServerConfig>>>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let incoming = Incoming::new(listener, limits.rest_slots.clone(), limits.rest_timeouts);
    let mut incoming = tls::secure(incoming, tls);
    let stopping = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::pin!(stopping);
    loop {
        let conn = tokio::select! {
            next = incoming.next() => match next {
                Some(Ok(conn)) => conn,
                Some(Err(_)) | None => continue,
            },
            () = &mut stopping => break,
        };
        let info = conn.info().clone();
        let mut http = hyper::server::conn::http1::Builder::new();
        // A connection over the limit gets its one answer, then closes.
        http.keep_alive(info.over_limit.is_none());
        let service = Admit::<_, Rest>::for_connection(router.clone(), limits.gate.clone(), info);
        let service = hyper_util::service::TowerToHyperService::new(service);
        let connection = graceful.watch(http.serve_connection(TokioIo::new(conn), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "REST connection ended with an error");
            }
        });
    }
    drop(incoming);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("REST connections still busy after {DRAIN_TIMEOUT:?}; closing them");
    }
}

/// The gRPC server's settings and the admission layer; the caller adds the
/// services.
pub(crate) fn grpc_server(
    limits: &Limits,
) -> tonic::transport::Server<
    tower::layer::util::Stack<AdmitLayer<Grpc>, tower::layer::util::Identity>,
> {
    tonic::transport::Server::builder()
        .max_concurrent_streams(limits.grpc_streams)
        .http2_keepalive_interval(Some(GRPC_KEEPALIVE.0))
        .http2_keepalive_timeout(Some(GRPC_KEEPALIVE.1))
        .layer(AdmitLayer::new(limits.gate.clone()))
}

/// The gRPC listener's connections, for `serve_with_incoming_shutdown`.
pub(crate) fn grpc_incoming(
    listener: TcpListener,
    limits: &Limits,
    tls: Option<Arc<Watched<ServerConfig>>>,
) -> impl Stream<Item = io::Result<tls::Io>> {
    let incoming = Incoming::new(listener, limits.grpc_slots.clone(), limits.grpc_timeouts);
    tls::secure(incoming, tls)
}
