//! What operators and orchestrators ask of a node, beside the API:
//! `/metrics` (Prometheus), `/health/live` and `/health/ready`. Served on
//! the REST listener, ahead of the REST API's routes, and alone on the
//! metrics listener when one is asked for.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::Limits;
use crate::health::Health;
use crate::metrics::{CONTENT_TYPE, Metrics, Observed};
use crate::registry::{Census, Registry};
use tokio::sync::Mutex;
use tower::Service;

/// What the routes read.
#[derive(Debug, Clone)]
pub(crate) struct Ops {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) health: Arc<Health>,
    pub(crate) registry: Arc<Registry>,
    pub(crate) limits: Limits,
    pub(crate) storage: &'static str,
    /// The last count of the state, reused for [`CENSUS_EVERY`]: scrapes
    /// that come faster, or many at once, cost one count.
    pub(crate) census: Arc<Mutex<Option<(Instant, Census)>>>,
}

/// How long a count of the state is reused.
const CENSUS_EVERY: Duration = Duration::from_secs(1);

impl Ops {
    async fn census(&self) -> Census {
        let mut last = self.census.lock().await;
        if let Some((at, census)) = last.as_ref()
            && at.elapsed() < CENSUS_EVERY
        {
            return census.clone();
        }
        // One pass over the state: off the async workers, since at a
        // million versions it takes milliseconds.
        let registry = self.registry.clone();
        let census = tokio::task::spawn_blocking(move || registry.census())
            .await
            .unwrap_or_default();
        *last = Some((Instant::now(), census.clone()));
        census
    }
}

/// The operator's paths, answered before the API's.
const PATHS: [&str; 3] = ["/metrics", "/health/live", "/health/ready"];

/// The routes, answering before `api` (which gets every other request).
pub(crate) fn router(ops: Ops, api: Option<scute_rest::RestService>) -> Listener {
    let ops = Router::new()
        .route(PATHS[0], get(metrics))
        .route(PATHS[1], get(live))
        .route(PATHS[2], get(ready))
        .route_layer(scute_rest::FacadeLayer::mark_route())
        .with_state(ops);
    Listener { ops, api }
}

/// What a REST listener serves: the operator's three paths, and the API
/// for the rest. Told apart by a string comparison rather than a second
/// router, which a lookup would pay for (about 0.3 µs).
#[derive(Clone)]
pub(crate) struct Listener {
    ops: Router,
    api: Option<scute_rest::RestService>,
}

impl<B> Service<http::Request<B>> for Listener
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Both are always ready (axum's router and the facade over it).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Answer {
        let request = request.map(axum::body::Body::new);
        match &mut self.api {
            Some(api) if !PATHS.contains(&request.uri().path()) => Answer::Api(api.call(request)),
            _ => Answer::Ops(Service::call(&mut self.ops, request)),
        }
    }
}

/// The answer of [`Listener`]: the operator's route's or the API's.
pub(crate) enum Answer {
    Ops(<Router as Service<axum::extract::Request>>::Future),
    Api(<scute_rest::RestService as Service<axum::extract::Request>>::Future),
}

impl Future for Answer {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Both futures are `Unpin`, so this one is too.
        match self.get_mut() {
            Self::Ops(future) => Pin::new(future).poll(cx),
            Self::Api(future) => Pin::new(future).poll(cx),
        }
    }
}

async fn metrics(State(ops): State<Ops>) -> Response {
    let lag = ops.health.replay_lag().await;
    let ready = ops.health.ready().await.is_ok();
    let census = ops.census().await;
    let page = ops.metrics.render(&Observed {
        census,
        log: ops.registry.log_stats(),
        storage: ops.storage,
        replay_lag: lag,
        writes: ops.registry.write_stats(),
        ready,
        in_flight: ops.limits.in_flight() as u64,
        connections: ops.limits.open_connections(),
    });
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        page,
    )
        .into_response()
}

async fn live() -> Response {
    axum::Json(json!({"status": "UP"})).into_response()
}

async fn ready(State(ops): State<Ops>) -> Response {
    match ops.health.ready().await {
        Ok(()) => axum::Json(json!({"status": "UP"})).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "DOWN", "reason": reason})),
        )
            .into_response(),
    }
}
