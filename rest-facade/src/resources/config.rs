//! `/config` and `/config/{s}`: Confluent's `ConfigResource`.
//!
//! The JSON keys are asymmetric, as in Confluent: `GET` and `DELETE` answer
//! `{"compatibilityLevel": ..}` (the `Config` entity), `PUT` takes
//! `{"compatibility": ..}` and echoes the request back.

use axum::{extract::State, response::Response};
use scute_proto::v1::{Config, DeleteConfigRequest, GetConfigRequest, SetConfigRequest};
use serde_json::{Map, Value};
use tonic::Request;

use crate::{
    AppState,
    error::RestError,
    extract::{Fields, JsonBody, PathArgs, Query},
    render,
};

/// `ConfigUpdateRequest` (`C:ent/requests/ConfigUpdateRequest.java`) fields
/// in Jackson's order, with their kinds. `compatibility` and `normalize`
/// have proto fields; the rest travel in `Config.extra_json`.
const UPDATE_FIELDS: [(&str, Kind); 13] = [
    ("alias", Kind::String),
    ("aliasForDeks", Kind::String),
    ("normalize", Kind::Bool),
    ("validateFields", Kind::Bool),
    ("validateNewSchemas", Kind::Bool),
    ("validateRules", Kind::Bool),
    ("compatibility", Kind::String),
    ("compatibilityPolicy", Kind::String),
    ("compatibilityGroup", Kind::String),
    ("defaultMetadata", Kind::Metadata),
    ("overrideMetadata", Kind::Metadata),
    ("defaultRuleSet", Kind::RuleSet),
    ("overrideRuleSet", Kind::RuleSet),
];

#[derive(Clone, Copy)]
enum Kind {
    String,
    Bool,
    Metadata,
    RuleSet,
}

/// The known fields of a `PUT /config` body, typed, in Jackson's order.
fn update_fields(body: &JsonBody) -> Result<Map<String, Value>, RestError> {
    let fields = Fields::of(&body.0, "ConfigUpdateRequest")?;
    let mut out = Map::new();
    for (name, kind) in UPDATE_FIELDS {
        let value = match kind {
            Kind::String => fields.string(name)?.map(Value::String),
            Kind::Bool => fields.bool(name)?.map(Value::Bool),
            Kind::Metadata => fields.metadata(name)?,
            Kind::RuleSet => fields.rule_set(name)?,
        };
        if let Some(value) = value {
            out.insert(name.to_owned(), value);
        }
    }
    Ok(out)
}

/// Splits the update into the proto's fields and `extra_json`.
fn to_proto(update: &Map<String, Value>) -> Config {
    let mut extra = update.clone();
    let compatibility_level = match extra.remove("compatibility") {
        Some(Value::String(level)) => Some(level),
        _ => None,
    };
    let normalize = extra.remove("normalize").and_then(|v| v.as_bool());
    Config {
        compatibility_level,
        normalize,
        extra_json: (!extra.is_empty()).then(|| Value::Object(extra).to_string()),
    }
}

async fn get(
    state: AppState,
    subject: Option<String>,
    query: Query,
) -> Result<Response, RestError> {
    let request = GetConfigRequest {
        subject,
        default_to_global: query.flag("defaultToGlobal"),
    };
    let reply = state.api.get_config(Request::new(request)).await?;
    Ok(render::ok(render::config_entity(&reply.into_inner())?))
}

async fn put(
    state: AppState,
    subject: Option<String>,
    body: JsonBody,
) -> Result<Response, RestError> {
    let update = update_fields(&body)?;
    let request = SetConfigRequest {
        subject,
        config: Some(to_proto(&update)),
    };
    state.api.set_config(Request::new(request)).await?;
    Ok(render::ok(Value::Object(update)))
}

async fn delete(state: AppState, subject: Option<String>) -> Result<Response, RestError> {
    let request = DeleteConfigRequest { subject };
    let reply = state.api.delete_config(Request::new(request)).await?;
    Ok(render::ok(render::config_entity(&reply.into_inner())?))
}

/// `GET /config`: the global config.
pub(crate) async fn get_config(
    State(state): State<AppState>,
    query: Query,
) -> Result<Response, RestError> {
    get(state, None, query).await
}

/// `PUT /config`.
pub(crate) async fn put_config(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<Response, RestError> {
    put(state, None, body).await
}

/// `DELETE /config`: reverts to the default; answers the old config.
pub(crate) async fn delete_config(State(state): State<AppState>) -> Result<Response, RestError> {
    delete(state, None).await
}

/// `GET /config/{s}`.
pub(crate) async fn get_config_subject(
    State(state): State<AppState>,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    get(state, Some(path.subject()?), query).await
}

/// `PUT /config/{s}`.
pub(crate) async fn put_config_subject(
    State(state): State<AppState>,
    path: PathArgs,
    body: JsonBody,
) -> Result<Response, RestError> {
    put(state, Some(path.subject()?), body).await
}

/// `DELETE /config/{s}`.
pub(crate) async fn delete_config_subject(
    State(state): State<AppState>,
    path: PathArgs,
) -> Result<Response, RestError> {
    delete(state, Some(path.subject()?)).await
}
