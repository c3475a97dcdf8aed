//! What every request passes on its way to an API, REST and gRPC alike:
//!
//! * a cap on requests in flight: past it, a 503 (gRPC RESOURCE_EXHAUSTED)
//!   at once, never a queue that grows;
//! * a budget of request-body bytes held at once: a body that would take
//!   more is refused the same way, so many large uploads cannot exhaust the
//!   memory between them;
//! * a panic while handling a request answers it with a 500 carrying an
//!   `error_code`, is logged, and the server goes on;
//! * the request is counted as activity of its connection (see `conn`), and
//!   a connection over the connection limit has each request refused;
//! * when authentication is on, the request's credentials are checked
//!   (`guard`) and its principal goes with it to the API;
//! * the answer, refusals included, is counted in the metrics by route,
//!   method and status, with the time it took.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::conn::{Busy, ConnInfo};
use super::guard::{Door, Guard};
use crate::compute::panic_message;
use crate::error::Error;
use crate::metrics::{self, Api, Metrics, Outcome};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The limits every request is admitted under, shared by both listeners.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    body_bytes: Arc<Semaphore>,
    max_body_bytes: usize,
    guard: Option<Arc<Guard>>,
    metrics: Option<Arc<Metrics>>,
}

impl Gate {
    /// Counts every request answered in `metrics`.
    pub(crate) fn with_metrics(mut self, metrics: Option<Arc<Metrics>>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Requests being answered now.
    pub(crate) fn in_flight(&self) -> usize {
        self.max_in_flight
            .saturating_sub(self.in_flight.available_permits())
    }

    /// Authentication for every request admitted.
    pub(crate) fn with_guard(mut self, guard: Option<Arc<Guard>>) -> Self {
        self.guard = guard;
        self
    }

    pub(crate) fn new(max_in_flight: usize, max_body_bytes: usize) -> Self {
        let max_in_flight = max_in_flight.max(1);
        // Tokio's semaphore counts up to usize::MAX >> 3 permits.
        let max_body_bytes = max_body_bytes.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            body_bytes: Arc::new(Semaphore::new(max_body_bytes)),
            max_body_bytes,
            guard: None,
            metrics: None,
        }
    }
}

/// How a protocol words a refusal.
pub(crate) trait Protocol: Send + Sync + 'static {
    type ResBody: Send + 'static;
    const API: Api;
    /// How the answer ended, and the route (or RPC) it counts under.
    fn outcome<'a>(
        path: &'a str,
        response: &'a http::Response<Self::ResBody>,
    ) -> (&'a str, Outcome);
    /// The whole answer to a refused request.
    fn refuse(error: Error) -> http::Response<Self::ResBody>;
    /// The error a request body fails with when refused, for the API's
    /// body reader to answer.
    fn body_error(error: Error) -> BoxError;
}

/// The REST API: Confluent's `{"error_code", "message"}` bodies.
pub(crate) struct Rest;

impl Protocol for Rest {
    type ResBody = axum::body::Body;
    const API: Api = Api::Rest;

    fn outcome<'a>(_: &'a str, response: &'a http::Response<Self::ResBody>) -> (&'a str, Outcome) {
        let route = response
            .extensions()
            .get::<scute_rest::Route>()
            .map_or(metrics::UNMATCHED, scute_rest::Route::as_str);
        (route, Outcome::Http(response.status().as_u16()))
    }

    fn refuse(error: Error) -> http::Response<axum::body::Body> {
        use axum::response::IntoResponse;
        let status = tonic::Status::from(error);
        scute_rest::RestError::from(status).into_response()
    }

    fn body_error(error: Error) -> BoxError {
        Box::new(scute_rest::RestError::from(tonic::Status::from(error)))
    }
}

/// The gRPC API: a status with the error code in its details.
pub(crate) struct Grpc;

impl Protocol for Grpc {
    type ResBody = tonic::body::Body;
    const API: Api = Api::Grpc;

    /// A failed unary call answers with its status in the headers; one
    /// that succeeds sends it in the trailers, after the message: a call
    /// without `grpc-status` in its headers counts as OK.
    fn outcome<'a>(
        path: &'a str,
        response: &'a http::Response<Self::ResBody>,
    ) -> (&'a str, Outcome) {
        let code = response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok())
            .unwrap_or(0);
        // An unknown method: one label for all, whatever the path.
        let route = if code == tonic::Code::Unimplemented as i32 {
            metrics::UNMATCHED
        } else {
            path
        };
        (route, Outcome::Grpc(code))
    }

    fn refuse(error: Error) -> http::Response<tonic::body::Body> {
        tonic::Status::from(error).into_http()
    }

    fn body_error(error: Error) -> BoxError {
        Box::new(tonic::Status::from(error))
    }
}

/// The admission layer (tonic's `Server::layer`).
#[derive(Debug)]
pub(crate) struct AdmitLayer<P> {
    gate: Gate,
    protocol: PhantomData<fn() -> P>,
}

impl<P> Clone for AdmitLayer<P> {
    fn clone(&self) -> Self {
        Self::new(self.gate.clone())
    }
}

impl<P> AdmitLayer<P> {
    pub(crate) fn new(gate: Gate) -> Self {
        Self {
            gate,
            protocol: PhantomData,
        }
    }
}

impl<S, P> tower::Layer<S> for AdmitLayer<P> {
    type Service = Admit<S, P>;

    fn layer(&self, inner: S) -> Admit<S, P> {
        Admit {
            inner,
            gate: self.gate.clone(),
            conn: None,
            protocol: PhantomData,
        }
    }
}

/// The admission service in front of an API.
#[derive(Debug)]
pub(crate) struct Admit<S, P> {
    inner: S,
    gate: Gate,
    /// The connection, when known at construction (REST); otherwise read
    /// from the request (gRPC, through tonic's connect info).
    conn: Option<ConnInfo>,
    protocol: PhantomData<fn() -> P>,
}

impl<S: Clone, P> Clone for Admit<S, P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            gate: self.gate.clone(),
            conn: self.conn.clone(),
            protocol: PhantomData,
        }
    }
}

impl<S, P> Admit<S, P> {
    /// Admission for the requests of one connection.
    pub(crate) fn for_connection(inner: S, gate: Gate, conn: ConnInfo) -> Self {
        Self {
            inner,
            gate,
            conn: Some(conn),
            protocol: PhantomData,
        }
    }
}

type Answer<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

/// The API behind the admission layer, whose answers are `P`'s.
pub(crate) trait Served<B, P: Protocol>:
    tower::Service<
        http::Request<Budgeted<B>>,
        Response = http::Response<P::ResBody>,
        Future: Send + 'static,
        Error: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<T, B, P: Protocol> Served<B, P> for T where
    T: tower::Service<
            http::Request<Budgeted<B>>,
            Response = http::Response<P::ResBody>,
            Future: Send + 'static,
            Error: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

impl<S, P, B> tower::Service<http::Request<B>> for Admit<S, P>
where
    P: Protocol,
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
    S: Served<B, P>,
{
    type Response = http::Response<P::ResBody>;
    type Error = S::Error;
    type Future = Answer<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    /// One boxed future per request: the admission, the API's answer (a
    /// panic in it caught), and its count in the metrics.
    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let counted = self.gate.metrics.clone().map(|metrics| Counted {
            metrics,
            started: Instant::now(),
            method: metrics::method_label(request.method()),
        });
        // Cheap clones (shared bytes), kept to say where a panic happened
        // and which path was counted.
        let method = request.method().clone();
        let uri = request.uri().clone();
        let admitted = self.admit(request);
        Box::pin(async move {
            let response = match admitted {
                Err(refusal) => refusal,
                Ok(Admitted {
                    handled,
                    held: (permit, busy, held),
                    peer,
                }) => {
                    let outcome = catch_panic(handled).await;
                    drop((permit, busy, held));
                    match outcome {
                        Ok(result) => result?,
                        Err(panic) => {
                            let message = panic_message(panic.as_ref());
                            tracing::error!(%method, path = uri.path(), ?peer, panic = %message, "a request panicked; answering it with a 500");
                            P::refuse(Error::Internal(format!("Internal error: {message}")))
                        }
                    }
                }
            };
            if let Some(counted) = counted {
                let (route, outcome) = P::outcome(uri.path(), &response);
                counted.metrics.record(
                    P::API,
                    route,
                    counted.method,
                    outcome,
                    counted.started.elapsed(),
                );
            }
            Ok(response)
        })
    }
}

/// A request's place in the metrics, taken as it arrives.
struct Counted {
    metrics: Arc<Metrics>,
    started: Instant,
    method: &'static str,
}

/// A request let in: its handling, yet to run, and what it holds until
/// answered (a place in flight, its connection's activity, its body's
/// bytes).
struct Admitted<F> {
    handled: F,
    held: (OwnedSemaphorePermit, Option<Busy>, Option<HeldBody>),
    peer: Option<std::net::SocketAddr>,
}

type HeldBody = Arc<Mutex<Option<OwnedSemaphorePermit>>>;

impl<S, P> Admit<S, P> {
    /// Lets the request in, or refuses it at once with the whole answer.
    #[allow(clippy::type_complexity)]
    fn admit<B>(
        &mut self,
        request: http::Request<B>,
    ) -> Result<
        Admitted<
            impl Future<Output = Result<http::Response<P::ResBody>, S::Error>> + Send + use<S, P, B>,
        >,
        http::Response<P::ResBody>,
    >
    where
        P: Protocol,
        B: Body<Data = Bytes> + Unpin + Send + 'static,
        B::Error: Into<BoxError>,
        S: Served<B, P>,
    {
        let conn = self
            .conn
            .clone()
            .or_else(|| request.extensions().get::<ConnInfo>().cloned());
        // A request, answered or refused, is activity of its connection.
        let busy = conn.as_ref().map(|c| c.activity.busy());
        if let Some(max) = conn.as_ref().and_then(|c| c.over_limit) {
            return Err(P::refuse(Error::Overloaded(format!(
                "Scute has {max} connections open on this port, its limit (--max-connections); retry shortly"
            ))));
        }
        let Ok(permit) = self.gate.in_flight.clone().try_acquire_owned() else {
            return Err(P::refuse(Error::Overloaded(format!(
                "Scute is handling {} requests, its limit (--max-requests-in-flight); retry shortly",
                self.gate.max_in_flight
            ))));
        };
        let peer = conn.as_ref().and_then(|c| c.remote);
        // Most lookups have no body: nothing to hold, nothing to allocate.
        let held = (!request.body().is_end_stream()).then(|| Arc::new(Mutex::new(None)));
        let mut request = request.map(|body| Budgeted {
            inner: body,
            budget: self.gate.body_bytes.clone(),
            max: self.gate.max_body_bytes,
            held: held.clone(),
            refusal: P::body_error,
        });
        // The clone that was polled ready serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if let Some(peer) = peer {
            request.extensions_mut().insert(crate::audit::Peer(peer));
        }
        let guard = self.gate.guard.clone();
        let door = guard.as_ref().map(|_| Door::of(&request));
        let handled = async move {
            if let (Some(guard), Some(door)) = (guard, door) {
                // Boxed: only with authentication on does the request pay
                // for the room its check takes.
                match Box::pin(guard.admit(door, conn.as_ref())).await {
                    Ok(Some(principal)) => {
                        request.extensions_mut().insert(principal);
                    }
                    Ok(None) => {}
                    Err(refusal) => return Ok(unauthenticated::<P>(refusal, guard.challenge())),
                }
            }
            inner.call(request).await
        };
        Ok(Admitted {
            handled,
            held: (permit, busy, held),
            peer,
        })
    }
}

/// A refusal at the door; a 401 names the scheme to answer with.
fn unauthenticated<P: Protocol>(
    refusal: Error,
    challenge: &'static str,
) -> http::Response<P::ResBody> {
    let is_401 = matches!(refusal, Error::Unauthenticated);
    let mut response = P::refuse(refusal);
    if is_401 {
        response.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static(challenge),
        );
    }
    response
}

/// Runs `future`, its panics coming out as errors.
async fn catch_panic<F: Future>(future: F) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        },
    )
    .await
}

/// A request body that takes its bytes from the shared budget as they
/// arrive, and holds them until the request is answered.
pub(crate) struct Budgeted<B> {
    inner: B,
    budget: Arc<Semaphore>,
    max: usize,
    /// Where the permits go, shared with the request's answer; `None` for
    /// a body that is known to be empty.
    held: Option<Arc<Mutex<Option<OwnedSemaphorePermit>>>>,
    refusal: fn(Error) -> BoxError,
}

impl<B> Body for Budgeted<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(Some(Ok(frame))) => frame,
        };
        let size = frame.data_ref().map_or(0, Bytes::len);
        if size > 0 {
            let permit = u32::try_from(size)
                .ok()
                .and_then(|n| self.budget.clone().try_acquire_many_owned(n).ok());
            let Some(permit) = permit else {
                return Poll::Ready(Some(Err((self.refusal)(Error::Overloaded(format!(
                    "Scute holds {} bytes of request bodies, its limit (--max-request-bytes-in-flight); retry shortly",
                    self.max
                ))))));
            };
            if let Some(held) = &self.held {
                let mut held = held.lock().unwrap_or_else(PoisonError::into_inner);
                match held.as_mut() {
                    Some(all) => all.merge(permit),
                    None => *held = Some(permit),
                }
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tower::{Layer, Service, ServiceExt};

    type TestBody = Budgeted<http_body_util::Full<Bytes>>;
    type TestAnswer<R> =
        Pin<Box<dyn Future<Output = Result<http::Response<R>, std::convert::Infallible>> + Send>>;

    /// An API that panics on `/panic`, waits on `/wait` until told, and
    /// answers 200 otherwise.
    fn api<R: Default + Send + 'static>(
        go: Arc<tokio::sync::Notify>,
    ) -> impl tower::Service<
        http::Request<TestBody>,
        Response = http::Response<R>,
        Error = std::convert::Infallible,
        Future = TestAnswer<R>,
    > + Clone {
        tower::service_fn(move |request: http::Request<TestBody>| {
            let go = go.clone();
            Box::pin(async move {
                match request.uri().path() {
                    "/panic" => panic!("the handler broke"),
                    "/wait" => go.notified().await,
                    _ => {}
                }
                Ok(http::Response::new(R::default()))
            }) as TestAnswer<R>
        })
    }

    fn get(path: &str) -> http::Request<http_body_util::Full<Bytes>> {
        http::Request::get(path)
            .body(http_body_util::Full::new(Bytes::new()))
            .unwrap()
    }

    #[tokio::test]
    async fn a_panic_answers_500_with_an_error_code_and_serving_goes_on() {
        let go = Arc::new(tokio::sync::Notify::new());
        let mut rest = AdmitLayer::<Rest>::new(Gate::new(8, 1 << 20))
            .layer(api::<axum::body::Body>(go.clone()));
        let response = rest
            .ready()
            .await
            .unwrap()
            .call(get("/panic"))
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error_code"], 500);
        assert_eq!(body["message"], "Internal error: the handler broke");
        let response = rest.ready().await.unwrap().call(get("/")).await.unwrap();
        assert_eq!(response.status(), 200);

        let mut grpc =
            AdmitLayer::<Grpc>::new(Gate::new(8, 1 << 20)).layer(api::<tonic::body::Body>(go));
        let response = grpc
            .ready()
            .await
            .unwrap()
            .call(get("/panic"))
            .await
            .unwrap();
        let status = tonic::Status::from_header_map(response.headers()).unwrap();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(scute_proto::error_code(&status), Some(500));
    }

    #[tokio::test]
    async fn past_the_cap_a_request_is_refused_at_once() {
        let go = Arc::new(tokio::sync::Notify::new());
        let rest = AdmitLayer::<Rest>::new(Gate::new(1, 1 << 20))
            .layer(api::<axum::body::Body>(go.clone()));
        let waiting = tokio::spawn(rest.clone().oneshot(get("/wait")));
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let response = rest.clone().oneshot(get("/")).await.unwrap();
        assert_eq!(response.status(), 503);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error_code"], 503);
        assert_eq!(
            body["message"],
            "Scute is handling 1 requests, its limit (--max-requests-in-flight); retry shortly"
        );
        go.notify_one();
        assert_eq!(waiting.await.unwrap().unwrap().status(), 200);
        assert_eq!(rest.oneshot(get("/")).await.unwrap().status(), 200);
    }

    #[tokio::test]
    async fn a_body_past_the_byte_budget_fails_with_the_refusal() {
        let gate = Gate::new(8, 10);
        let held = Arc::new(Mutex::new(None));
        let body_of = |bytes: &'static [u8]| Budgeted {
            inner: http_body_util::Full::new(Bytes::from_static(bytes)),
            budget: gate.body_bytes.clone(),
            max: gate.max_body_bytes,
            held: Some(held.clone()),
            refusal: Rest::body_error,
        };
        let mut body = body_of(b"twelve bytes");
        let err = std::pin::pin!(&mut body)
            .frame()
            .await
            .unwrap()
            .unwrap_err();
        let refused = err.downcast_ref::<scute_rest::RestError>().unwrap();
        assert_eq!(refused.error_code(), 503);
        assert!(
            refused
                .message()
                .contains("(--max-request-bytes-in-flight)")
        );
        let mut fits = body_of(b"ten bytes!");
        assert!(std::pin::pin!(&mut fits).frame().await.unwrap().is_ok());
        // Held until the request is answered.
        assert_eq!(gate.body_bytes.available_permits(), 0);
        drop((body, fits));
        drop(held);
        assert_eq!(gate.body_bytes.available_permits(), 10);
    }
}
