//! `/contexts`: Confluent's `ContextsResource`.

use axum::{http::StatusCode, response::Response};
use scute_proto::v1::{DeleteContextRequest, ListContextsRequest};

use crate::{
    Call,
    error::RestError,
    extract::{PathArgs, Query},
    render,
};

/// `GET /contexts`: `[".", ".ctx", ...]`.
pub(crate) async fn get_contexts(state: Call, query: Query) -> Result<Response, RestError> {
    let request = ListContextsRequest {
        context_prefix: query.str("contextPrefix").unwrap_or_default().to_owned(),
        offset: query.int("offset", 0)?,
        limit: query.int("limit", -1)?,
    };
    let reply = state.api.list_contexts(state.request(request)).await?;
    Ok(render::ok(reply.into_inner().contexts))
}

/// `DELETE /contexts/{context}`: 204 once the context is gone.
pub(crate) async fn delete_context(state: Call, path: PathArgs) -> Result<Response, RestError> {
    let request = DeleteContextRequest {
        context: path.context()?,
    };
    state.api.delete_context(state.request(request)).await?;
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
