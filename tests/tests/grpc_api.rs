//! The gRPC API over a loopback socket: the same registry the REST facade
//! serves, its errors carrying Confluent's codes, plus health and reflection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use scute_client::{Client, NewSchema, v1 as api};
use scute_tests::{TestRegistry, record_schema};
use serde_json::json;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

async fn channel(r: &TestRegistry) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{}", r.running.grpc_addr))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn client(r: &TestRegistry) -> Client {
    Client::connect(format!("http://{}", r.running.grpc_addr))
        .await
        .unwrap()
}

#[tokio::test]
async fn register_and_read_over_grpc_and_rest_alike() {
    let r = TestRegistry::start().await.unwrap();
    let c = client(&r).await;
    let schema = record_schema("Order", &[("id", json!("long"))]);
    let registered = c
        .register("orders-value", &NewSchema::new("AVRO", &schema), false)
        .await
        .unwrap();
    assert_eq!((registered.id, registered.version), (1, 1));
    assert_eq!(registered.schema_type, "AVRO");
    // The same schema in another subject: the same id.
    assert_eq!(
        c.register("orders-key", &NewSchema::new("", &schema), false)
            .await
            .unwrap()
            .id,
        1
    );

    let by_id = c.schema_by_id(1).await.unwrap();
    assert_eq!(by_id.schema, registered.schema);
    let latest = c.version("orders-value", "latest").await.unwrap();
    assert_eq!(
        (latest.subject.as_str(), latest.version, latest.id),
        ("orders-value", 1, 1)
    );
    assert_eq!(c.subjects().await.unwrap(), ["orders-key", "orders-value"]);

    // What gRPC wrote, REST reads.
    let (status, body) = r.call(http::Method::GET, "/schemas/ids/1", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["schema"], json!(registered.schema));
}

#[tokio::test]
async fn errors_carry_confluent_codes() {
    let r = TestRegistry::start().await.unwrap();
    let mut c = client(&r).await;
    let missing = c.version("nobody", "latest").await.unwrap_err();
    assert_eq!(missing.error_code(), Some(40401));
    assert_eq!(
        missing.to_string(),
        "Subject 'nobody' not found. (error code 40401)"
    );
    assert_eq!(
        c.schema_by_id(42).await.unwrap_err().error_code(),
        Some(40403)
    );
    assert_eq!(
        c.version("nobody", "zero").await.unwrap_err().error_code(),
        Some(42202)
    );
    let invalid = c
        .register("s", &NewSchema::new("AVRO", "{\"type\":\"nope\"}"), false)
        .await
        .unwrap_err();
    assert_eq!(invalid.error_code(), Some(42201));

    let first = record_schema("R", &[("a", json!("int"))]);
    c.register("s", &NewSchema::new("AVRO", &first), false)
        .await
        .unwrap();
    let status = c
        .raw()
        .register_schema(api::RegisterSchemaRequest {
            subject: "s".into(),
            schema: record_schema("R", &[("a", json!("int")), ("b", json!("int"))]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert_eq!(scute_proto::error_code(&status), Some(40901));
}

#[tokio::test]
async fn data_contract_json_is_typed_by_the_registry() {
    let r = TestRegistry::start().await.unwrap();
    let mut c = client(&r).await;
    // gRPC callers send metadata as JSON text: typed as REST bodies are.
    let status = c
        .raw()
        .register_schema(api::RegisterSchemaRequest {
            subject: "s".into(),
            schema: "\"string\"".into(),
            metadata_json: Some(r#"{"properties": {"a": [1]}}"#.into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(scute_proto::error_code(&status), Some(400));
    assert!(
        status
            .message()
            .contains("RegisterSchemaRequest[\"metadata\"]->Metadata[\"properties\"]")
    );
    let registered = c
        .raw()
        .register_schema(api::RegisterSchemaRequest {
            subject: "s".into(),
            schema: "\"string\"".into(),
            metadata_json: Some(r#"{"properties": {"n": 5}}"#.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        registered.metadata_json.as_deref(),
        Some(r#"{"properties":{"n":"5"}}"#)
    );

    let set = |extra: &str| api::SetConfigRequest {
        subject: Some("s".into()),
        config: Some(api::Config {
            extra_json: Some(extra.into()),
            ..Default::default()
        }),
    };
    let reply = c
        .raw()
        .set_config(set(r#"{"alias": 5, "unknown": true}"#))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.extra_json.as_deref(), Some(r#"{"alias":"5"}"#));
    let status = c
        .raw()
        .set_config(set(r#"{"validateRules": {}}"#))
        .await
        .unwrap_err();
    assert_eq!(scute_proto::error_code(&status), Some(400));
    let status = c.raw().set_config(set("[1]")).await.unwrap_err();
    assert_eq!(scute_proto::error_code(&status), Some(400));
    let (_, config) = r.call(http::Method::GET, "/config/s", None).await;
    assert_eq!(config["alias"], json!("5"));
}

#[tokio::test]
async fn health_says_serving() {
    let r = TestRegistry::start().await.unwrap();
    let mut health = HealthClient::new(channel(&r).await);
    for service in ["", "scute.registry.v1.SchemaRegistry"] {
        let reply = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.status(), ServingStatus::Serving, "{service:?}");
    }
}

#[tokio::test]
async fn reflection_lists_and_describes_the_api() {
    let r = TestRegistry::start().await.unwrap();
    let mut reflection = ServerReflectionClient::new(channel(&r).await);
    let ask = |request: MessageRequest| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let requests = tokio_stream::iter([
        ask(MessageRequest::ListServices(String::new())),
        ask(MessageRequest::FileContainingSymbol(
            "scute.registry.v1.SchemaRegistry".into(),
        )),
    ]);
    let mut replies = reflection
        .server_reflection_info(requests)
        .await
        .unwrap()
        .into_inner();

    let listed = replies
        .message()
        .await
        .unwrap()
        .unwrap()
        .message_response
        .unwrap();
    let MessageResponse::ListServicesResponse(list) = listed else {
        panic!("{listed:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for wanted in [
        "scute.registry.v1.SchemaRegistry",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{wanted} missing from {names:?}"
        );
    }

    let described = replies
        .message()
        .await
        .unwrap()
        .unwrap()
        .message_response
        .unwrap();
    let MessageResponse::FileDescriptorResponse(files) = described else {
        panic!("{described:?}")
    };
    let file = files.file_descriptor_proto.first().unwrap();
    let text = String::from_utf8_lossy(file);
    assert!(
        text.contains("RegisterSchema") && text.contains("CheckCompatibility"),
        "{text}"
    );
}

#[tokio::test]
async fn associations_over_grpc() {
    let r = TestRegistry::start().await.unwrap();
    let c = client(&r).await;
    let schema = record_schema("Order", &[("id", json!("long"))]);
    let request = api::AssociationRequest {
        resource_name: "orders".into(),
        resource_namespace: "lkc-1".into(),
        resource_id: "rid-1".into(),
        associations: vec![api::AssociationChange {
            schema: Some(NewSchema::new("AVRO", &schema).request("", false)),
            ..Default::default()
        }],
        ..Default::default()
    };
    let created = c.create_association(request.clone(), false).await.unwrap();
    assert_eq!(created.resource_type, "topic");
    let info = &created.associations[0];
    assert_eq!(
        (info.subject.as_str(), info.lifecycle.as_str(), info.frozen),
        (":.lkc-1:orders-value", "STRONG", true)
    );
    assert_eq!(info.schema.as_ref().map(|s| s.id), Some(1));

    let by_name = c
        .associations(api::ListAssociationsRequest {
            by: Some(api::list_associations_request::By::Resource(
                api::ResourceName {
                    namespace: "-".into(),
                    name: "orders".into(),
                },
            )),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0].resource_id, "rid-1");
    assert!(by_name[0].create_ts.is_some());

    // Another resource of the same name and namespace would take the same
    // STRONG subject, which already has an association.
    let mut again = request;
    again.resource_id = "rid-2".into();
    let status = c.create_association(again, false).await.unwrap_err();
    assert_eq!(status.error_code(), Some(40904));
    assert_eq!(status.http_status(), 409);

    let frozen = c
        .delete_associations(api::DeleteAssociationsRequest {
            resource_id: "rid-1".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(frozen.error_code(), Some(40908));
    let deleted = c
        .delete_associations(api::DeleteAssociationsRequest {
            resource_id: "rid-1".into(),
            cascade_lifecycle: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        c.version(":.lkc-1:orders-value", "latest")
            .await
            .unwrap_err()
            .error_code(),
        Some(40401)
    );
}

#[tokio::test]
async fn contexts_and_server_metadata_over_grpc() {
    let r = TestRegistry::start().await.unwrap();
    let mut raw = api::schema_registry_client::SchemaRegistryClient::new(channel(&r).await);
    let schema = record_schema("Order", &[("id", json!("long"))]);
    let c = client(&r).await;
    let in_ctx = c
        .register(":.shop:orders", &NewSchema::new("AVRO", &schema), false)
        .await
        .unwrap();
    assert_eq!((in_ctx.id, in_ctx.subject.as_str()), (1, ":.shop:orders"));
    let contexts = raw
        .list_contexts(api::ListContextsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(contexts.contexts, [".", ".shop"]);
    let refused = raw
        .delete_context(api::DeleteContextRequest {
            context: "shop".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert_eq!(scute_proto::error_code(&refused), Some(42211));
    let ids = raw
        .list_guid_ids(api::ListGuidIdsRequest {
            guid: in_ctx.guid.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ids.ids,
        [api::ContextId {
            context: ".shop".into(),
            id: 1
        }]
    );
    let cluster = raw
        .get_cluster_id(api::GetClusterIdRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cluster.schema_registry_cluster_id, "schema-registry");
    assert!(cluster.kafka_cluster_id.is_empty());
}
