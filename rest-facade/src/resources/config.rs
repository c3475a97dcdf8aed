//! `/config` and `/config/{s}`: Confluent's `ConfigResource`.
//!
//! The JSON keys are asymmetric, as in Confluent: `GET` and `DELETE` answer
//! `{"compatibilityLevel": ..}` (the `Config` entity), `PUT` takes
//! `{"compatibility": ..}` and echoes the request back.

use axum::response::Response;
use scute_proto::v1::{Config, DeleteConfigRequest, GetConfigRequest, SetConfigRequest};
use serde_json::Value;

use crate::{
    Call,
    error::RestError,
    extract::{Fields, JsonBody, PathArgs, Query},
    render,
};

/// A `PUT` body (`ConfigUpdateRequest`, `C:ent/requests/ConfigUpdateRequest.java`):
/// `compatibility` and `normalize` have proto fields; the rest travel as
/// sent in `Config.extra_json`, for the registry to type.
fn update_request(subject: Option<String>, body: &JsonBody) -> Result<SetConfigRequest, RestError> {
    let fields = Fields::of(&body.0, "ConfigUpdateRequest")?;
    let compatibility_level = fields.string("compatibility")?;
    let normalize = fields.bool("normalize")?;
    let mut extra = body.0.as_object().cloned().unwrap_or_default();
    extra.remove("compatibility");
    extra.remove("normalize");
    Ok(SetConfigRequest {
        subject,
        config: Some(Config {
            compatibility_level,
            normalize,
            extra_json: (!extra.is_empty()).then(|| Value::Object(extra).to_string()),
        }),
    })
}

async fn get(state: Call, subject: Option<String>, query: Query) -> Result<Response, RestError> {
    let request = GetConfigRequest {
        subject,
        default_to_global: query.flag("defaultToGlobal"),
    };
    let reply = state.api.get_config(state.request(request)).await?;
    Ok(render::ok(render::config_entity(&reply.into_inner())?))
}

async fn put(state: Call, subject: Option<String>, body: JsonBody) -> Result<Response, RestError> {
    let request = update_request(subject, &body)?;
    let taken = state.api.set_config(state.request(request)).await?;
    Ok(render::ok(render::config_update(&taken.into_inner())?))
}

async fn delete(state: Call, subject: Option<String>) -> Result<Response, RestError> {
    let request = DeleteConfigRequest { subject };
    let reply = state.api.delete_config(state.request(request)).await?;
    Ok(render::ok(render::config_entity(&reply.into_inner())?))
}

/// `GET /config`: the global config.
pub(crate) async fn get_config(state: Call, query: Query) -> Result<Response, RestError> {
    get(state, None, query).await
}

/// `PUT /config`.
pub(crate) async fn put_config(state: Call, body: JsonBody) -> Result<Response, RestError> {
    put(state, None, body).await
}

/// `DELETE /config`: reverts to the default; answers the old config.
pub(crate) async fn delete_config(state: Call) -> Result<Response, RestError> {
    delete(state, None).await
}

/// `GET /config/{s}`.
pub(crate) async fn get_config_subject(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    get(state, Some(path.subject()?), query).await
}

/// `PUT /config/{s}`.
pub(crate) async fn put_config_subject(
    state: Call,
    path: PathArgs,
    body: JsonBody,
) -> Result<Response, RestError> {
    put(state, Some(path.subject()?), body).await
}

/// `DELETE /config/{s}`.
pub(crate) async fn delete_config_subject(
    state: Call,
    path: PathArgs,
) -> Result<Response, RestError> {
    delete(state, Some(path.subject()?)).await
}
