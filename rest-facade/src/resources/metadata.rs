//! `/v1/metadata`: Confluent's `ServerMetadataResource`.

use axum::response::Response;
use scute_proto::v1::{GetClusterIdRequest, GetDeploymentRequest, GetServerVersionRequest};
use serde_json::{Map, Value, json};

use crate::{Call, error::RestError, render};

/// `GET /v1/metadata/id`: Confluent's `ServerClusterId`, whose empty `id`
/// is left out and whose scope names the Kafka cluster (left out too on
/// the embedded log, which has none) and the registry's group.
pub(crate) async fn get_id(state: Call) -> Result<Response, RestError> {
    let reply = state
        .api
        .get_cluster_id(state.request(GetClusterIdRequest {}))
        .await?
        .into_inner();
    let mut clusters = Map::new();
    if !reply.kafka_cluster_id.is_empty() {
        clusters.insert("kafka-cluster".into(), reply.kafka_cluster_id.into());
    }
    clusters.insert(
        "schema-registry-cluster".into(),
        reply.schema_registry_cluster_id.into(),
    );
    Ok(render::ok(
        json!({"scope": {"path": [], "clusters": Value::Object(clusters)}}),
    ))
}

/// `GET /v1/metadata/version`: `{"version", "commitId"}`, empty ones left out.
pub(crate) async fn get_version(state: Call) -> Result<Response, RestError> {
    let reply = state
        .api
        .get_server_version(state.request(GetServerVersionRequest {}))
        .await?
        .into_inner();
    let mut body = Map::new();
    for (key, value) in [("version", reply.version), ("commitId", reply.commit_id)] {
        if !value.is_empty() {
            body.insert(key.into(), value.into());
        }
    }
    Ok(render::ok(Value::Object(body)))
}

/// `GET /v1/metadata/deployment`: `{"attributes": [...]}`.
pub(crate) async fn get_deployment(state: Call) -> Result<Response, RestError> {
    let reply = state
        .api
        .get_deployment(state.request(GetDeploymentRequest {}))
        .await?
        .into_inner();
    Ok(render::ok(json!({"attributes": reply.attributes})))
}
