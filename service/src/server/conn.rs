//! Connections: a bounded number of slots per listener, and a stream
//! wrapper that closes a connection which sits idle or sends a request's
//! head too slowly.
//!
//! A connection holds a slot for as long as it is open. Past the slots, a
//! small overflow of connections is still taken, for long enough to answer
//! each request on it with a 503 (gRPC: RESOURCE_EXHAUSTED) that names the
//! limit; past the overflow, a connection is closed at once.
//!
//! What counts as idle is decided by requests, not bytes: a connection is
//! idle while no request on it is being handled ([`Activity`], which the
//! admission layer updates). Bytes alone do not keep a connection: a client
//! that trickles a request's head (HTTP/1) gets the header timeout, and a
//! gRPC connection that only answers pings is closed once idle too.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

/// The slots of one listener.
#[derive(Debug, Clone)]
pub(crate) struct Slots {
    open: Arc<Semaphore>,
    overflow: Arc<Semaphore>,
    max: usize,
}

/// Room for connections past the limit, kept just long enough to be
/// answered that the server is full.
fn overflow_size(max: usize) -> usize {
    max / 16 + 16
}

/// What a connection got on arrival.
pub(crate) enum Slot {
    /// A slot: served normally.
    Open(OwnedSemaphorePermit),
    /// Over the limit, in the overflow: each request is refused.
    Overflow(OwnedSemaphorePermit),
}

impl Slots {
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            open: Arc::new(Semaphore::new(max)),
            overflow: Arc::new(Semaphore::new(overflow_size(max))),
            max,
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Connections holding a slot or a place in the overflow.
    pub(crate) fn in_use(&self) -> usize {
        self.max.saturating_sub(self.open.available_permits())
            + overflow_size(self.max).saturating_sub(self.overflow.available_permits())
    }

    /// A slot, or room in the overflow, or `None`: close it now.
    pub(crate) fn take(&self) -> Option<Slot> {
        if let Ok(permit) = self.open.clone().try_acquire_owned() {
            return Some(Slot::Open(permit));
        }
        self.overflow
            .clone()
            .try_acquire_owned()
            .ok()
            .map(Slot::Overflow)
    }
}

/// Milliseconds on a clock shared by every connection.
fn now_ms(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The requests of one connection: how many are being handled, and since
/// when none has been.
#[derive(Debug)]
pub(crate) struct Activity {
    epoch: Instant,
    in_flight: AtomicUsize,
    started: AtomicU64,
    idle_since_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            in_flight: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(0),
        }
    }

    /// Marks a request as being handled until the guard drops.
    pub(crate) fn busy(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.started.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }
}

/// A request being handled; see [`Activity::busy`].
#[derive(Debug)]
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let activity = &self.0;
        activity
            .idle_since_ms
            .store(now_ms(activity.epoch), Ordering::Release);
        activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What requests on a connection learn of it (gRPC: through tonic's
/// connect info; REST: inserted by the accept loop).
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub(crate) remote: Option<SocketAddr>,
    pub(crate) activity: Arc<Activity>,
    /// Over the connection limit: every request is refused.
    pub(crate) over_limit: Option<usize>,
    /// The principal a verified client certificate names (TLS only).
    pub(crate) certificate: Option<Arc<str>>,
}

/// How long a connection may sit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// No request in flight, nothing received since the last one.
    pub(crate) idle: Duration,
    /// From the first byte of a request's head until the request is
    /// handled (HTTP/1 only; HTTP/2 streams are bounded by `idle`).
    pub(crate) head: Option<Duration>,
}

/// Connections over the limit get this long, whatever they send.
const OVERFLOW_TIMEOUT: Duration = Duration::from_secs(2);

/// A TCP stream that holds its slot and ends when it sits too long.
pub(crate) struct Conn {
    stream: TcpStream,
    info: ConnInfo,
    timeouts: Timeouts,
    _slot: OwnedSemaphorePermit,
    /// The requests started when this connection last looked.
    seen_started: u64,
    /// When the head of the next request began to arrive, if it has.
    head_began: Option<Instant>,
    timer: Pin<Box<Sleep>>,
}

impl Conn {
    /// A connection on a listener of at most `max` connections.
    pub(crate) fn new(stream: TcpStream, slot: Slot, timeouts: Timeouts, max: usize) -> Self {
        let (slot, over_limit, timeouts) = match slot {
            Slot::Open(permit) => (permit, None, timeouts),
            Slot::Overflow(permit) => (
                permit,
                Some(max),
                Timeouts {
                    idle: OVERFLOW_TIMEOUT.min(timeouts.idle),
                    head: timeouts.head.map(|h| h.min(OVERFLOW_TIMEOUT)),
                },
            ),
        };
        let remote = stream.peer_addr().ok();
        Self {
            stream,
            info: ConnInfo {
                remote,
                activity: Arc::new(Activity::new()),
                over_limit,
                certificate: None,
            },
            timeouts,
            _slot: slot,
            seen_started: 0,
            head_began: None,
            timer: Box::pin(tokio::time::sleep(timeouts.idle)),
        }
    }

    pub(crate) fn info(&self) -> &ConnInfo {
        &self.info
    }

    /// When the connection must end if nothing changes, or `None` while a
    /// request is being handled.
    fn deadline(&mut self) -> Option<Instant> {
        let activity = &self.info.activity;
        let started = activity.started.load(Ordering::Acquire);
        if started != self.seen_started {
            self.seen_started = started;
            self.head_began = None;
        }
        if activity.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        if let (Some(began), Some(head)) = (self.head_began, self.timeouts.head) {
            return Some(began + head);
        }
        let idle_since =
            activity.epoch + Duration::from_millis(activity.idle_since_ms.load(Ordering::Acquire));
        Some(idle_since + self.timeouts.idle)
    }
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        self.info.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                // Bytes while no request is handled: a head arriving.
                let idle = this.deadline().is_some();
                if idle && this.head_began.is_none() && buf.filled().len() > before {
                    this.head_began = Some(Instant::now());
                }
                Poll::Ready(result)
            }
            Poll::Pending => loop {
                let now = Instant::now();
                // Busy: look again after a while, in case it ends.
                let deadline = this.deadline();
                let wake = deadline.unwrap_or(now + this.timeouts.idle);
                if deadline.is_some_and(|d| now >= d) {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the connection sat idle or sent its request too slowly",
                    )));
                }
                // The timer only ever moves earlier here: one that fires
                // before the deadline just leads to another look, so a
                // connection serving request after request does not re-arm
                // it each time.
                let armed = this.timer.deadline().into_std();
                if wake < armed || armed <= now {
                    this.timer.as_mut().reset(wake.into());
                }
                if this.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            },
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// The connection limit when none is set: 10,000, or fewer when the process
/// may not open that many files (leaving room for the log, the other
/// listener and outgoing connections). The soft open-files limit is raised
/// to the hard one first, as servers that hold many sockets do: a soft
/// limit of 1,024 is a default, not a decision.
pub(crate) fn default_max_connections() -> usize {
    const DEFAULT: usize = 10_000;
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        // An unlimited hard limit still stops at the kernel's nr_open.
        let target = limit.maximum.map_or(1 << 20, |hard| hard.min(1 << 20));
        if limit.current.is_some_and(|soft| soft < target) {
            let raised = rustix::process::Rlimit {
                current: Some(target),
                maximum: limit.maximum,
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => limit.current = Some(target),
                Err(e) => tracing::debug!(error = %e, "cannot raise the open-files limit"),
            }
        }
        if let Some(files) = limit.current.and_then(|n| usize::try_from(n).ok()) {
            // Two listeners share the descriptors; keep a reserve.
            return DEFAULT.min(files.saturating_sub(256) / 2).max(16);
        }
    }
    DEFAULT
}
