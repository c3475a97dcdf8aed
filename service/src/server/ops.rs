//! What operators and orchestrators ask of a node, beside the API:
//! `/metrics` (Prometheus), `/health/live` and `/health/ready`. Served on
//! the REST listener, ahead of the REST API's routes, and alone on the
//! metrics listener when one is asked for.

use std::sync::Arc;
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

/// The routes, answering before `api` (which gets every other request).
pub(crate) fn router(ops: Ops, api: Option<scute_rest::RestService>) -> Router {
    let router = Router::new()
        .route("/metrics", get(metrics))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route_layer(scute_rest::FacadeLayer::mark_route())
        .with_state(ops);
    match api {
        Some(api) => router.fallback_service(api),
        None => router,
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
