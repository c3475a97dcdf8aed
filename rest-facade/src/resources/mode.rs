//! `/mode` and `/mode/{s}`: Confluent's `ModeResource`. Every answer is
//! `{"mode": ..}`; `PUT` echoes the request as Confluent does.

use axum::response::Response;
use scute_proto::v1::{DeleteModeRequest, GetModeRequest, SetModeRequest};
use serde_json::json;

use crate::{
    Call,
    error::RestError,
    extract::{Fields, JsonBody, PathArgs, Query},
    render,
};

async fn get(state: Call, subject: Option<String>, query: Query) -> Result<Response, RestError> {
    let request = GetModeRequest {
        subject,
        default_to_global: query.flag("defaultToGlobal"),
    };
    let reply = state.api.get_mode(state.request(request)).await?;
    Ok(render::ok(json!({"mode": reply.into_inner().mode})))
}

async fn put(
    state: Call,
    subject: Option<String>,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    // `ModeUpdateRequest`: a missing mode goes to the registry as "" and
    // comes back as its invalid-mode error.
    let mode = Fields::of(&body.0, "ModeUpdateRequest")?
        .string("mode")?
        .unwrap_or_default();
    let request = SetModeRequest {
        subject,
        mode: mode.clone(),
        force: query.flag("force"),
    };
    state.api.set_mode(state.request(request)).await?;
    Ok(render::ok(json!({"mode": mode})))
}

async fn delete(state: Call, subject: Option<String>) -> Result<Response, RestError> {
    let reply = state
        .api
        .delete_mode(state.request(DeleteModeRequest { subject }))
        .await?;
    Ok(render::ok(json!({"mode": reply.into_inner().mode})))
}

/// `GET /mode`.
pub(crate) async fn get_mode(state: Call, query: Query) -> Result<Response, RestError> {
    get(state, None, query).await
}

/// `PUT /mode`.
pub(crate) async fn put_mode(
    state: Call,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    put(state, None, query, body).await
}

/// `DELETE /mode`.
pub(crate) async fn delete_mode(state: Call) -> Result<Response, RestError> {
    delete(state, None).await
}

/// `GET /mode/{s}`.
pub(crate) async fn get_mode_subject(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    get(state, Some(path.subject()?), query).await
}

/// `PUT /mode/{s}`.
pub(crate) async fn put_mode_subject(
    state: Call,
    path: PathArgs,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    put(state, Some(path.subject()?), query, body).await
}

/// `DELETE /mode/{s}`.
pub(crate) async fn delete_mode_subject(
    state: Call,
    path: PathArgs,
) -> Result<Response, RestError> {
    delete(state, Some(path.subject()?)).await
}
