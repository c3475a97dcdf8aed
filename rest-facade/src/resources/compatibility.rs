//! `/compatibility/subjects/{s}/versions[/{v}]`: Confluent's
//! `CompatibilityResource`. Answers `{"is_compatible": bool}`, plus
//! `messages` when `verbose=true` (an empty list when compatible).

use axum::response::Response;
use scute_proto::v1::CheckCompatibilityRequest;
use serde_json::json;

use crate::{
    Call,
    error::RestError,
    extract::{JsonBody, PathArgs, Query},
    render,
    resources::SchemaBody,
};

async fn check(
    state: Call,
    subject: String,
    version: Option<String>,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    let SchemaBody {
        schema,
        schema_type,
        references,
    } = SchemaBody::parse(&body)?;
    let verbose = query.flag("verbose");
    let request = CheckCompatibilityRequest {
        subject,
        version,
        schema,
        schema_type,
        references,
        normalize: query.flag("normalize"),
        verbose,
    };
    let reply = state
        .api
        .check_compatibility(state.request(request))
        .await?
        .into_inner();
    let body = if verbose {
        json!({"is_compatible": reply.is_compatible, "messages": reply.messages})
    } else {
        json!({"is_compatible": reply.is_compatible})
    };
    Ok(render::ok(body))
}

/// `POST /compatibility/subjects/{s}/versions/{v}`: against one version.
pub(crate) async fn post_compatibility_subject_version(
    state: Call,
    path: PathArgs,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    check(state, path.subject()?, Some(path.version()?), query, body).await
}

/// `POST /compatibility/subjects/{s}/versions`: against every version the
/// subject's level says to.
pub(crate) async fn post_compatibility_subject_versions(
    state: Call,
    path: PathArgs,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    check(state, path.subject()?, None, query, body).await
}
