//! `/`: Confluent's `RootResource`, a liveness no-op; `/openapi.yaml`, the
//! description of the API; and the answers for unknown routes and methods.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header::CONTENT_TYPE};
use serde_json::json;

use crate::render;

/// `GET /` returns `{}`.
pub(crate) async fn get_root() -> Response {
    render::ok(json!({}))
}

/// `POST /` is a test hook in Confluent; it ignores its body and returns `{}`.
pub(crate) async fn post_root() -> Response {
    render::ok(json!({}))
}

/// `GET /openapi.yaml`: Scute's own route, not Confluent's.
pub(crate) async fn get_openapi() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/yaml"))],
        crate::OPENAPI_YAML,
    )
        .into_response()
}
