//! The facade against a recording fake registry: each route's parameters
//! reach the proto request, each reply renders Confluent's JSON, errors and
//! negotiation behave as Confluent's do.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    any::Any,
    sync::{Arc, Mutex},
};

use axum::{Router, body::Body};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use scute_proto::v1::{schema_registry_server::SchemaRegistry, *};
use scute_rest::{RestConfig, router, router_with_config};
use tower::ServiceExt;

type Reply = Result<Box<dyn Any + Send>, tonic::Status>;

/// Records every request and answers the canned reply (or the default of
/// the reply type when none is set).
#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<Box<dyn Any + Send>>>,
    reply: Mutex<Option<Reply>>,
}

impl Fake {
    fn new() -> Arc<Self> {
        Arc::default()
    }

    fn replying<T: Any + Send>(reply: T) -> Arc<Self> {
        let fake = Self::new();
        *fake.reply.lock().unwrap() = Some(Ok(Box::new(reply)));
        fake
    }

    fn failing(status: tonic::Status) -> Arc<Self> {
        let fake = Self::new();
        *fake.reply.lock().unwrap() = Some(Err(status));
        fake
    }

    /// The one request the fake received, as its proto type.
    fn request<T: Any + Clone>(&self) -> T {
        let calls = self.calls.lock().unwrap();
        assert_eq!(calls.len(), 1, "expected exactly one call");
        calls[0]
            .downcast_ref::<T>()
            .expect("request of another type")
            .clone()
    }

    fn call_count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    fn answer<R: Any + Default>(&self, request: Box<dyn Any + Send>) -> Result<R, tonic::Status> {
        self.calls.lock().unwrap().push(request);
        match self.reply.lock().unwrap().take() {
            None => Ok(R::default()),
            Some(Err(status)) => Err(status),
            Some(Ok(reply)) => Ok(*reply.downcast::<R>().expect("canned reply of another type")),
        }
    }
}

macro_rules! fake_registry {
    ($($method:ident($request:ty) -> $reply:ty;)*) => {
        #[tonic::async_trait]
        impl SchemaRegistry for Fake {
            $(
                async fn $method(
                    &self,
                    request: tonic::Request<$request>,
                ) -> Result<tonic::Response<$reply>, tonic::Status> {
                    self.answer::<$reply>(Box::new(request.into_inner()))
                        .map(tonic::Response::new)
                }
            )*
        }
    };
}

fake_registry! {
    register_schema(RegisterSchemaRequest) -> Schema;
    lookup_schema(LookupSchemaRequest) -> Schema;
    get_schema_by_id(GetSchemaByIdRequest) -> Schema;
    list_schema_id_versions(ListSchemaIdVersionsRequest) -> SubjectVersions;
    list_schema_id_subjects(ListSchemaIdSubjectsRequest) -> Subjects;
    list_schemas(ListSchemasRequest) -> Schemas;
    get_schema_types(GetSchemaTypesRequest) -> SchemaTypes;
    list_subjects(ListSubjectsRequest) -> Subjects;
    list_versions(ListVersionsRequest) -> Versions;
    get_version(GetVersionRequest) -> Schema;
    get_latest_with_metadata(GetLatestWithMetadataRequest) -> Schema;
    get_schema_by_guid(GetSchemaByGuidRequest) -> Schema;
    list_guid_ids(ListGuidIdsRequest) -> ContextIds;
    get_referenced_by(GetReferencedByRequest) -> SchemaIds;
    delete_subject(DeleteSubjectRequest) -> Versions;
    delete_version(DeleteVersionRequest) -> DeletedVersion;
    get_config(GetConfigRequest) -> Config;
    set_config(SetConfigRequest) -> Config;
    delete_config(DeleteConfigRequest) -> Config;
    get_mode(GetModeRequest) -> Mode;
    set_mode(SetModeRequest) -> Mode;
    delete_mode(DeleteModeRequest) -> Mode;
    check_compatibility(CheckCompatibilityRequest) -> CompatibilityResult;
    create_association(AssociationRequest) -> AssociationResponse;
    create_or_update_association(AssociationRequest) -> AssociationResponse;
    list_associations(ListAssociationsRequest) -> Associations;
    delete_associations(DeleteAssociationsRequest) -> Associations;
    batch_get_associations(BatchGetAssociationsRequest) -> AssociationBatchResponse;
    batch_mutate_associations(BatchMutateAssociationsRequest) -> AssociationBatchResponse;
    list_contexts(ListContextsRequest) -> Contexts;
    tag_schema(TagSchemaRequest) -> Schema;
    delete_context(DeleteContextRequest) -> DeleteContextResponse;
    get_cluster_id(GetClusterIdRequest) -> ClusterId;
    get_server_version(GetServerVersionRequest) -> ServerVersion;
    get_deployment(GetDeploymentRequest) -> Deployment;
}

const V1: &str = "application/vnd.schemaregistry.v1+json";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn content_type(&self) -> &str {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

async fn send_to(
    app: Router,
    method: Method,
    uri: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut builder = Request::builder().method(method).uri(uri);
    if body.is_some()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        builder = builder.header("content-type", V1);
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn send(fake: &Arc<Fake>, method: Method, uri: &str, body: Option<&str>) -> Answer {
    send_to(router(fake.clone()), method, uri, body, &[]).await
}

fn stored_schema() -> Schema {
    Schema {
        id: 7,
        subject: "orders-value".into(),
        version: 2,
        schema_type: "AVRO".into(),
        schema: r#"{"type":"string"}"#.into(),
        references: vec![SchemaReference {
            name: "a.avsc".into(),
            subject: "a".into(),
            version: 1,
        }],
        metadata_json: Some(r#"{"properties":{"owner":"me"}}"#.into()),
        rule_set_json: Some(r#"{"domainRules":[]}"#.into()),
        deleted: false,
        max_id: None,
        guid: "1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb".into(),
        schema_tags: Vec::new(),
    }
}

// ---------------------------------------------------------------- register

#[tokio::test]
async fn register_translates_body_and_renders_register_response() {
    let fake = Fake::replying(stored_schema());
    let body = r#"{"schema":"{\"type\":\"string\"}","schemaType":"AVRO",
        "references":[{"name":"a.avsc","subject":"a","version":1}],
        "metadata":{"properties":{"owner":"me"}},"ruleSet":{"domainRules":[]},
        "id":7,"version":2,"schemaTagsToAdd":[],"somethingNew":true}"#;
    let reply = send(
        &fake,
        Method::POST,
        "/subjects/orders-value/versions?normalize=true",
        Some(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.content_type(), V1);
    assert_eq!(
        reply.body,
        r#"{"id":7,"version":2,"guid":"1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb","schemaType":"AVRO","references":[{"name":"a.avsc","subject":"a","version":1}],"metadata":{"properties":{"owner":"me"}},"ruleSet":{"domainRules":[]},"schema":"{\"type\":\"string\"}"}"#
    );
    let request: RegisterSchemaRequest = fake.request();
    assert_eq!(request.subject, "orders-value");
    assert_eq!(request.schema, r#"{"type":"string"}"#);
    assert_eq!(request.schema_type, "AVRO");
    assert!(request.normalize);
    assert_eq!(request.id, Some(7));
    assert_eq!(request.version, Some(2));
    assert_eq!(request.references.len(), 1);
    assert_eq!(request.references[0].subject, "a");
    assert_eq!(
        request.metadata_json.as_deref(),
        Some(r#"{"properties":{"owner":"me"}}"#)
    );
    assert_eq!(
        request.rule_set_json.as_deref(),
        Some(r#"{"domainRules":[]}"#)
    );
}

#[tokio::test]
async fn register_minimal_body_leaves_optional_fields_unset() {
    let fake = Fake::replying(Schema {
        id: 1,
        version: 1,
        schema_type: "AVRO".into(),
        schema: "\"string\"".into(),
        ..Default::default()
    });
    let reply = send(
        &fake,
        Method::POST,
        "/subjects/s/versions",
        Some(r#"{"schema":"\"string\""}"#),
    )
    .await;
    assert_eq!(
        reply.body,
        r#"{"id":1,"version":1,"schemaType":"AVRO","schema":"\"string\""}"#
    );
    let request: RegisterSchemaRequest = fake.request();
    assert_eq!(request.schema_type, "");
    assert!(!request.normalize);
    assert_eq!(request.id, None);
    assert_eq!(request.version, None);
    assert_eq!(request.metadata_json, None);
    assert!(request.references.is_empty());
}

// ------------------------------------------------------------- versions

#[tokio::test]
async fn get_version_renders_schema_entity_in_jackson_order() {
    let fake = Fake::replying(stored_schema());
    let reply = send(
        &fake,
        Method::GET,
        "/subjects/orders-value/versions/latest?deleted=TRUE&format=resolved",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        r#"{"subject":"orders-value","version":2,"id":7,"guid":"1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb","schemaType":"AVRO","references":[{"name":"a.avsc","subject":"a","version":1}],"metadata":{"properties":{"owner":"me"}},"schema":"{\"type\":\"string\"}","deleted":false,"ruleSet":{"domainRules":[]}}"#
    );
    let request: GetVersionRequest = fake.request();
    assert_eq!(request.subject, "orders-value");
    assert_eq!(request.version, "latest");
    assert!(request.deleted);
    assert_eq!(request.format, "resolved");
}

#[tokio::test]
async fn version_strings_pass_through_untouched() {
    for version in ["-1", "0", "abc", "2147483648"] {
        let fake = Fake::failing(scute_proto::error_status(
            tonic::Code::InvalidArgument,
            42202,
            "The specified version is not a valid version id.",
        ));
        let reply = send(
            &fake,
            Method::GET,
            &format!("/subjects/s/versions/{version}"),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.json()["error_code"], 42202);
        assert_eq!(fake.request::<GetVersionRequest>().version, version);
    }
}

#[tokio::test]
async fn get_version_schema_is_the_raw_text() {
    let fake = Fake::replying(Schema {
        schema: "syntax = \"proto3\";\nmessage A {}".into(),
        ..stored_schema()
    });
    let reply = send(
        &fake,
        Method::GET,
        "/subjects/s/versions/1/schema?deleted=true",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "syntax = \"proto3\";\nmessage A {}");
    assert_eq!(reply.content_type(), V1);
    let request: GetVersionRequest = fake.request();
    assert_eq!(request.version, "1");
    assert!(request.deleted);
}

#[tokio::test]
async fn list_versions_with_params() {
    let fake = Fake::replying(Versions {
        versions: vec![1, 2, 3],
    });
    let reply = send(
        &fake,
        Method::GET,
        "/subjects/s/versions?deleted=true&deletedOnly=True&offset=1&limit=2",
        None,
    )
    .await;
    assert_eq!(reply.body, "[1,2,3]");
    let request: ListVersionsRequest = fake.request();
    assert!(request.deleted && request.deleted_only);
    assert_eq!((request.offset, request.limit), (1, 2));
}

#[tokio::test]
async fn referencedby_with_params() {
    let fake = Fake::replying(SchemaIds { ids: vec![3, 4] });
    let reply = send(
        &fake,
        Method::GET,
        "/subjects/s/versions/2/referencedby?deleted=true&offset=5&limit=10",
        None,
    )
    .await;
    assert_eq!(reply.body, "[3,4]");
    let request: GetReferencedByRequest = fake.request();
    assert_eq!(request.version, "2");
    assert!(request.deleted);
    assert_eq!((request.offset, request.limit), (5, 10));
}

#[tokio::test]
async fn delete_version_returns_the_bare_number() {
    let fake = Fake::replying(DeletedVersion { version: 3 });
    let reply = send(
        &fake,
        Method::DELETE,
        "/subjects/s/versions/latest?permanent=true",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "3");
    let request: DeleteVersionRequest = fake.request();
    assert_eq!(request.version, "latest");
    assert!(request.permanent);
}

// ------------------------------------------------------------- subjects

#[tokio::test]
async fn list_subjects_with_params() {
    let fake = Fake::replying(Subjects {
        subjects: vec!["a".into(), "b".into()],
    });
    let reply = send(
        &fake,
        Method::GET,
        "/subjects?subjectPrefix=or+d%2Fx&deleted=true&deletedOnly=yes&offset=2&limit=3",
        None,
    )
    .await;
    assert_eq!(reply.body, r#"["a","b"]"#);
    let request: ListSubjectsRequest = fake.request();
    assert_eq!(request.subject_prefix, "or d/x");
    assert!(request.deleted);
    assert!(!request.deleted_only, "only \"true\" is true");
    assert_eq!((request.offset, request.limit), (2, 3));
}

#[tokio::test]
async fn list_subjects_defaults() {
    let fake = Fake::new();
    let reply = send(&fake, Method::GET, "/subjects", None).await;
    assert_eq!(reply.body, "[]");
    let request: ListSubjectsRequest = fake.request();
    // Confluent's default: every context.
    assert_eq!(request.subject_prefix, ":*:");
    assert!(!request.deleted && !request.deleted_only);
    assert_eq!(request.offset, 0);
    assert!(request.limit <= 0);
}

#[tokio::test]
async fn bad_pagination_integer_is_404_like_jersey() {
    let fake = Fake::new();
    let reply = send(&fake, Method::GET, "/subjects?limit=ten", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.body,
        r#"{"error_code":404,"message":"HTTP 404 Not Found"}"#
    );
    assert_eq!(fake.call_count(), 0);
}

#[tokio::test]
async fn lookup_translates_and_renders_schema_entity() {
    let fake = Fake::replying(Schema {
        references: vec![],
        metadata_json: None,
        rule_set_json: None,
        ..stored_schema()
    });
    let reply = send(
        &fake,
        Method::POST,
        "/subjects/orders-value?normalize=true&deleted=true",
        Some(r#"{"schema":"{\"type\":\"string\"}","schemaType":"AVRO"}"#),
    )
    .await;
    assert_eq!(
        reply.body,
        r#"{"subject":"orders-value","version":2,"id":7,"guid":"1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb","schemaType":"AVRO","schema":"{\"type\":\"string\"}","deleted":false}"#
    );
    let request: LookupSchemaRequest = fake.request();
    assert_eq!(request.subject, "orders-value");
    assert!(request.normalize && request.deleted);
    assert_eq!(request.schema_type, "AVRO");
}

#[tokio::test]
async fn delete_subject_returns_versions() {
    let fake = Fake::replying(Versions {
        versions: vec![1, 2],
    });
    let reply = send(&fake, Method::DELETE, "/subjects/s?permanent=true", None).await;
    assert_eq!(reply.body, "[1,2]");
    let request: DeleteSubjectRequest = fake.request();
    assert_eq!(request.subject, "s");
    assert!(request.permanent);
}

#[tokio::test]
async fn subjects_in_paths_are_percent_decoded() {
    for (raw, decoded) in [
        ("a%2Fb", "a/b"),
        ("with%20space", "with space"),
        ("plus+stays", "plus+stays"),
        ("%E2%82%ACuro", "€uro"),
        (":.ctx:orders", ":.ctx:orders"),
    ] {
        let fake = Fake::new();
        let reply = send(
            &fake,
            Method::GET,
            &format!("/subjects/{raw}/versions"),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{raw}");
        assert_eq!(fake.request::<ListVersionsRequest>().subject, decoded);
    }
    let fake = Fake::new();
    send(&fake, Method::GET, "/subjects/x%2Fy/versions/1%2E0", None).await;
    let request: GetVersionRequest = fake.request();
    assert_eq!(
        (request.subject.as_str(), request.version.as_str()),
        ("x/y", "1.0")
    );
}

// -------------------------------------------------------------- schemas

#[tokio::test]
async fn schema_by_id_omits_subject_unless_asked() {
    let fake = Fake::replying(Schema {
        subject: String::new(),
        version: 0,
        references: vec![],
        ..stored_schema()
    });
    let reply = send(&fake, Method::GET, "/schemas/ids/7", None).await;
    assert_eq!(
        reply.body,
        r#"{"guid":"1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb","schemaType":"AVRO","schema":"{\"type\":\"string\"}","metadata":{"properties":{"owner":"me"}},"ruleSet":{"domainRules":[]}}"#
    );
    let request: GetSchemaByIdRequest = fake.request();
    assert_eq!(request.id, 7);
    assert_eq!(request.subject, None);
    assert!(!request.fetch_max_id);

    let fake = Fake::replying(Schema {
        max_id: Some(9),
        metadata_json: None,
        rule_set_json: None,
        ..stored_schema()
    });
    let reply = send(
        &fake,
        Method::GET,
        "/schemas/ids/7?subject=orders-value&format=serialized&fetchMaxId=true",
        None,
    )
    .await;
    assert_eq!(
        reply.body,
        r#"{"subject":"orders-value","version":2,"guid":"1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb","schemaType":"AVRO","schema":"{\"type\":\"string\"}","references":[{"name":"a.avsc","subject":"a","version":1}],"maxId":9}"#
    );
    let request: GetSchemaByIdRequest = fake.request();
    assert_eq!(request.subject.as_deref(), Some("orders-value"));
    assert_eq!(request.format, "serialized");
    assert!(request.fetch_max_id);
}

#[tokio::test]
async fn non_integer_id_is_404() {
    for id in ["abc", "1.5", "2147483648", ""] {
        let fake = Fake::new();
        let reply = send(&fake, Method::GET, &format!("/schemas/ids/{id}"), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(reply.json()["error_code"], 404);
        assert_eq!(fake.call_count(), 0);
    }
}

#[tokio::test]
async fn schema_by_id_schema_is_raw_text() {
    let fake = Fake::replying(stored_schema());
    let reply = send(
        &fake,
        Method::GET,
        "/schemas/ids/7/schema?subject=s&format=resolved",
        None,
    )
    .await;
    assert_eq!(reply.body, r#"{"type":"string"}"#);
    let request: GetSchemaByIdRequest = fake.request();
    assert_eq!(request.subject.as_deref(), Some("s"));
    assert_eq!(request.format, "resolved");
}

#[tokio::test]
async fn schema_id_subjects_and_versions() {
    let fake = Fake::replying(Subjects {
        subjects: vec!["x".into()],
    });
    let reply = send(
        &fake,
        Method::GET,
        "/schemas/ids/3/subjects?deleted=true&subject=x",
        None,
    )
    .await;
    assert_eq!(reply.body, r#"["x"]"#);
    let request: ListSchemaIdSubjectsRequest = fake.request();
    assert_eq!((request.id, request.deleted), (3, true));
    assert_eq!(request.subject.as_deref(), Some("x"));

    let fake = Fake::replying(SubjectVersions {
        subject_versions: vec![SubjectVersion {
            subject: "x".into(),
            version: 4,
        }],
    });
    let reply = send(
        &fake,
        Method::GET,
        "/schemas/ids/3/versions?deleted=true",
        None,
    )
    .await;
    assert_eq!(reply.body, r#"[{"subject":"x","version":4}]"#);
    let request: ListSchemaIdVersionsRequest = fake.request();
    assert_eq!((request.id, request.deleted), (3, true));
    assert_eq!(request.subject, None);
}

#[tokio::test]
async fn list_schemas_and_types() {
    let fake = Fake::replying(Schemas {
        schemas: vec![Schema {
            references: vec![],
            metadata_json: None,
            rule_set_json: None,
            ..stored_schema()
        }],
    });
    let reply = send(
        &fake,
        Method::GET,
        "/schemas?subjectPrefix=ord&deleted=true&latestOnly=true&offset=1&limit=50",
        None,
    )
    .await;
    assert_eq!(
        reply.body,
        r#"[{"subject":"orders-value","version":2,"id":7,"guid":"1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb","schemaType":"AVRO","schema":"{\"type\":\"string\"}","deleted":false}]"#
    );
    let request: ListSchemasRequest = fake.request();
    assert_eq!(request.subject_prefix, "ord");
    assert!(request.deleted && request.latest_only);
    assert_eq!((request.offset, request.limit), (1, 50));

    let fake = Fake::replying(SchemaTypes {
        schema_types: vec!["JSON".into(), "PROTOBUF".into(), "AVRO".into()],
    });
    let reply = send(&fake, Method::GET, "/schemas/types", None).await;
    assert_eq!(reply.body, r#"["JSON","PROTOBUF","AVRO"]"#);
}

// --------------------------------------------------------------- config

#[tokio::test]
async fn config_get_renders_compatibility_level_with_extra_fields() {
    let fake = Fake::replying(Config {
        compatibility_level: Some("FULL".into()),
        normalize: Some(true),
        extra_json: Some(r#"{"compatibilityGroup":"g","alias":"x","vendorThing":1}"#.into()),
    });
    let reply = send(&fake, Method::GET, "/config/s?defaultToGlobal=true", None).await;
    assert_eq!(
        reply.body,
        r#"{"alias":"x","normalize":true,"compatibilityLevel":"FULL","compatibilityGroup":"g","vendorThing":1}"#
    );
    let request: GetConfigRequest = fake.request();
    assert_eq!(request.subject.as_deref(), Some("s"));
    assert!(request.default_to_global);

    let fake = Fake::replying(Config {
        compatibility_level: Some("BACKWARD".into()),
        ..Default::default()
    });
    let reply = send(&fake, Method::GET, "/config", None).await;
    assert_eq!(reply.body, r#"{"compatibilityLevel":"BACKWARD"}"#);
    let request: GetConfigRequest = fake.request();
    assert_eq!(request.subject, None);
    assert!(!request.default_to_global);
}

#[tokio::test]
async fn config_put_translates_and_echoes_the_request() {
    // The registry types the fields beyond the level and normalize, and
    // echoes the update as it took it: the facade renders that.
    let fake = Fake::replying(Config {
        compatibility_level: Some("full".into()),
        normalize: Some(true),
        extra_json: Some(r#"{"alias":"7","compatibilityGroup":"app"}"#.into()),
    });
    let reply = send(
        &fake,
        Method::PUT,
        "/config/s",
        Some(
            r#"{"compatibility":"full","normalize":true,"compatibilityGroup":"app","unknown":1,"alias":7}"#,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        r#"{"alias":"7","normalize":true,"compatibility":"full","compatibilityGroup":"app"}"#
    );
    let request: SetConfigRequest = fake.request();
    assert_eq!(request.subject.as_deref(), Some("s"));
    let config = request.config.unwrap();
    assert_eq!(config.compatibility_level.as_deref(), Some("full"));
    assert_eq!(config.normalize, Some(true));
    let extra: serde_json::Value = serde_json::from_str(&config.extra_json.unwrap()).unwrap();
    assert_eq!(
        extra,
        serde_json::json!({"compatibilityGroup": "app", "unknown": 1, "alias": 7})
    );

    let fake = Fake::replying(Config {
        compatibility_level: Some("NONE".into()),
        ..Default::default()
    });
    let reply = send(
        &fake,
        Method::PUT,
        "/config",
        Some(r#"{"compatibility":"NONE"}"#),
    )
    .await;
    assert_eq!(reply.body, r#"{"compatibility":"NONE"}"#);
    let request: SetConfigRequest = fake.request();
    assert_eq!(request.subject, None);
    assert_eq!(request.config.unwrap().extra_json, None);
}

#[tokio::test]
async fn config_delete_returns_old_config() {
    let fake = Fake::replying(Config {
        compatibility_level: Some("FULL".into()),
        ..Default::default()
    });
    let reply = send(&fake, Method::DELETE, "/config/s", None).await;
    assert_eq!(reply.body, r#"{"compatibilityLevel":"FULL"}"#);
    assert_eq!(
        fake.request::<DeleteConfigRequest>().subject.as_deref(),
        Some("s")
    );

    let fake = Fake::new();
    send(&fake, Method::DELETE, "/config", None).await;
    assert_eq!(fake.request::<DeleteConfigRequest>().subject, None);
}

// ----------------------------------------------------------------- mode

#[tokio::test]
async fn mode_routes() {
    let fake = Fake::replying(Mode {
        mode: "READWRITE".into(),
    });
    let reply = send(&fake, Method::GET, "/mode/s?defaultToGlobal=true", None).await;
    assert_eq!(reply.body, r#"{"mode":"READWRITE"}"#);
    let request: GetModeRequest = fake.request();
    assert_eq!(request.subject.as_deref(), Some("s"));
    assert!(request.default_to_global);

    let fake = Fake::replying(Mode {
        mode: "IMPORT".into(),
    });
    let reply = send(
        &fake,
        Method::PUT,
        "/mode?force=true",
        Some(r#"{"mode":"import"}"#),
    )
    .await;
    assert_eq!(reply.body, r#"{"mode":"import"}"#);
    let request: SetModeRequest = fake.request();
    assert_eq!(request.subject, None);
    assert_eq!(request.mode, "import");
    assert!(request.force);

    let fake = Fake::replying(Mode {
        mode: "READONLY".into(),
    });
    let reply = send(&fake, Method::DELETE, "/mode/s", None).await;
    assert_eq!(reply.body, r#"{"mode":"READONLY"}"#);
    assert_eq!(
        fake.request::<DeleteModeRequest>().subject.as_deref(),
        Some("s")
    );

    let fake = Fake::new();
    send(&fake, Method::GET, "/mode", None).await;
    assert_eq!(fake.request::<GetModeRequest>().subject, None);
}

// -------------------------------------------------------- compatibility

#[tokio::test]
async fn compatibility_against_one_version() {
    let fake = Fake::replying(CompatibilityResult {
        is_compatible: false,
        messages: vec!["reader field x has no default".into()],
    });
    let reply = send(
        &fake,
        Method::POST,
        "/compatibility/subjects/s/versions/latest?verbose=true&normalize=true",
        Some(r#"{"schema":"\"int\"","schemaType":"AVRO"}"#),
    )
    .await;
    assert_eq!(
        reply.body,
        r#"{"is_compatible":false,"messages":["reader field x has no default"]}"#
    );
    let request: CheckCompatibilityRequest = fake.request();
    assert_eq!(request.subject, "s");
    assert_eq!(request.version.as_deref(), Some("latest"));
    assert!(request.verbose && request.normalize);
    assert_eq!(request.schema, "\"int\"");
}

#[tokio::test]
async fn compatibility_against_all_versions_without_verbose() {
    let fake = Fake::replying(CompatibilityResult {
        is_compatible: true,
        messages: vec![],
    });
    let reply = send(
        &fake,
        Method::POST,
        "/compatibility/subjects/s/versions",
        Some(r#"{"schema":"\"int\""}"#),
    )
    .await;
    assert_eq!(reply.body, r#"{"is_compatible":true}"#);
    let request: CheckCompatibilityRequest = fake.request();
    assert_eq!(request.version, None);
    assert!(!request.verbose);
}

// --------------------------------------------------------------- errors

#[tokio::test]
async fn registry_errors_render_code_status_and_message() {
    for (code, grpc, status) in [
        (40401, tonic::Code::NotFound, StatusCode::NOT_FOUND),
        (40403, tonic::Code::NotFound, StatusCode::NOT_FOUND),
        (409, tonic::Code::FailedPrecondition, StatusCode::CONFLICT),
        (40901, tonic::Code::FailedPrecondition, StatusCode::CONFLICT),
        (
            42201,
            tonic::Code::InvalidArgument,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            50001,
            tonic::Code::Unavailable,
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    ] {
        let message = format!("Subject 'x' failed with {code}.");
        let fake = Fake::failing(scute_proto::error_status(grpc, code, message.clone()));
        let reply = send(&fake, Method::GET, "/subjects/x/versions", None).await;
        assert_eq!(reply.status, status, "{code}");
        assert_eq!(reply.content_type(), V1);
        assert_eq!(
            reply.body,
            format!(r#"{{"error_code":{code},"message":"{message}"}}"#)
        );
    }
}

#[tokio::test]
async fn status_without_code_is_generic_500() {
    let fake = Fake::failing(tonic::Status::internal("secret detail"));
    let reply = send(&fake, Method::GET, "/subjects", None).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.json()["error_code"], 500);
    assert!(!reply.body.contains("secret"));
}

#[tokio::test]
async fn unknown_route_and_wrong_method() {
    let fake = Fake::new();
    let reply = send(&fake, Method::GET, "/nothing/here", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.body,
        r#"{"error_code":404,"message":"HTTP 404 Not Found"}"#
    );
    assert_eq!(reply.content_type(), V1);

    let reply = send(&fake, Method::PATCH, "/subjects", None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        reply.body,
        r#"{"error_code":405,"message":"HTTP 405 Method Not Allowed"}"#
    );
    let reply = send(&fake, Method::DELETE, "/schemas/types", None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(fake.call_count(), 0);
}

#[tokio::test]
async fn malformed_json_is_400() {
    let fake = Fake::new();
    for body in [
        "{\"schema\":",
        "not json",
        "",
        "[1,2]",
        "{\"schema\":{\"a\":1}}",
        "{\"references\":5}",
    ] {
        let reply = send(&fake, Method::POST, "/subjects/s/versions", Some(body)).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body:?}: {}",
            reply.body
        );
        assert_eq!(reply.json()["error_code"], 400);
        assert!(!reply.json()["message"].as_str().unwrap().is_empty());
    }
    let reply = send(
        &fake,
        Method::PUT,
        "/config",
        Some(r#"{"normalize":"maybe"}"#),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(fake.call_count(), 0);
}

#[tokio::test]
async fn huge_body_is_413() {
    let fake = Fake::new();
    let config = RestConfig {
        max_body_bytes: 1024,
        ..RestConfig::default()
    };
    let big = format!(r#"{{"schema":"{}"}}"#, "x".repeat(4096));
    // streamed, no Content-Length
    let reply = send_to(
        router_with_config(fake.clone(), config.clone()),
        Method::POST,
        "/subjects/s/versions",
        Some(&big),
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["error_code"], 413);
    // declared up front
    let length = big.len().to_string();
    let reply = send_to(
        router_with_config(fake.clone(), config),
        Method::POST,
        "/subjects/s/versions",
        Some(&big),
        &[("content-length", &length)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(fake.call_count(), 0);
}

// ---------------------------------------------------------- negotiation

#[tokio::test]
async fn unsupported_content_type_is_415() {
    let fake = Fake::new();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let reply = send_to(
            router(fake.clone()),
            Method::POST,
            "/subjects/s/versions",
            Some(r#"{"schema":"\"int\""}"#),
            &[("content-type", content_type)],
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            reply.body,
            r#"{"error_code":415,"message":"HTTP 415 Unsupported Media Type"}"#
        );
    }
    assert_eq!(fake.call_count(), 0);
}

#[tokio::test]
async fn accepted_content_types() {
    for content_type in [
        "application/vnd.schemaregistry.v1+json",
        "application/vnd.schemaregistry+json",
        "application/json; charset=utf-8",
        "application/octet-stream",
    ] {
        let fake = Fake::new();
        let reply = send_to(
            router(fake.clone()),
            Method::POST,
            "/subjects/s/versions",
            Some(r#"{"schema":"\"int\""}"#),
            &[("content-type", content_type)],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{content_type}");
        assert_eq!(fake.request::<RegisterSchemaRequest>().schema, "\"int\"");
    }
}

#[tokio::test]
async fn accept_negotiation() {
    for (accept, expected) in [
        (None, Some(V1)),
        (Some("*/*"), Some(V1)),
        (Some("application/*"), Some(V1)),
        (Some("application/json"), Some("application/json")),
        (
            Some("application/vnd.schemaregistry+json"),
            Some("application/vnd.schemaregistry+json"),
        ),
        (
            Some("application/json;q=0.9, application/vnd.schemaregistry.v1+json;q=0.3"),
            Some("application/json"),
        ),
        (
            Some("application/json, application/vnd.schemaregistry.v1+json;q=0.6"),
            Some(V1),
        ),
        (Some("text/html"), None),
        (Some("application/json;q=0"), None),
    ] {
        let fake = Fake::new();
        let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("accept", *a)).collect();
        let reply = send_to(
            router(fake.clone()),
            Method::GET,
            "/subjects",
            None,
            &headers,
        )
        .await;
        match expected {
            Some(media_type) => {
                assert_eq!(reply.status, StatusCode::OK, "{accept:?}");
                assert_eq!(reply.content_type(), media_type, "{accept:?}");
            }
            None => {
                assert_eq!(reply.status, StatusCode::NOT_ACCEPTABLE, "{accept:?}");
                assert_eq!(
                    reply.body,
                    r#"{"error_code":406,"message":"HTTP 406 Not Acceptable"}"#
                );
                assert_eq!(fake.call_count(), 0);
            }
        }
    }
}

#[tokio::test]
async fn errors_carry_the_negotiated_type() {
    let fake = Fake::failing(scute_proto::error_status(
        tonic::Code::NotFound,
        40401,
        "Subject 'x' not found.",
    ));
    let reply = send_to(
        router(fake),
        Method::GET,
        "/subjects/x/versions",
        None,
        &[("accept", "application/json")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.content_type(), "application/json");
}

// ----------------------------------------------------------------- root

#[tokio::test]
async fn root_is_an_empty_object() {
    let fake = Fake::new();
    let reply = send(&fake, Method::GET, "/", None).await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "{}"));
    let reply = send(&fake, Method::POST, "/", Some(r#"{"a":"b"}"#)).await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "{}"));
    assert_eq!(fake.call_count(), 0);
}

#[tokio::test]
async fn latest_with_metadata_pairs_keys_with_values() {
    let fake = Fake::replying(stored_schema());
    let reply = send(
        &fake,
        Method::GET,
        "/subjects/orders-value/metadata?key=owner&value=me&key=team&value=a%20b&key=extra&deleted=true&format=resolved",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply
            .body
            .starts_with(r#"{"subject":"orders-value","version":2,"id":7,"guid":"#),
        "{}",
        reply.body
    );
    let request: GetLatestWithMetadataRequest = fake.request();
    assert_eq!(request.subject, "orders-value");
    let mut pairs: Vec<_> = request.metadata.into_iter().collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("owner".to_owned(), "me".to_owned()),
            ("team".to_owned(), "a b".to_owned())
        ]
    );
    assert!(request.deleted);
    assert_eq!(request.format, "resolved");
}

#[tokio::test]
async fn schemas_by_guid() {
    let fake = Fake::replying(Schema {
        subject: String::new(),
        version: 0,
        references: vec![],
        metadata_json: None,
        rule_set_json: None,
        ..stored_schema()
    });
    let reply = send(
        &fake,
        Method::GET,
        "/schemas/guids/1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb?format=serialized",
        None,
    )
    .await;
    assert_eq!(
        reply.body,
        r#"{"guid":"1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb","schemaType":"AVRO","schema":"{\"type\":\"string\"}"}"#
    );
    let request: GetSchemaByGuidRequest = fake.request();
    assert_eq!(request.guid, "1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb");
    assert_eq!(request.format, "serialized");

    let fake = Fake::replying(ContextIds {
        ids: vec![
            ContextId {
                context: ".".into(),
                id: 3,
            },
            ContextId {
                context: ".ctx".into(),
                id: 8,
            },
        ],
    });
    let reply = send(&fake, Method::GET, "/schemas/guids/abc/ids", None).await;
    assert_eq!(
        reply.body,
        r#"[{"context":".","id":3},{"context":".ctx","id":8}]"#
    );
    let request: ListGuidIdsRequest = fake.request();
    assert_eq!(request.guid, "abc");
}

#[tokio::test]
async fn metadata_and_rule_sets_travel_as_sent_for_the_registry_to_type() {
    let fake = Fake::new();
    let body = r#"{"schema":"\"string\"","metadata":{"properties":{"n":5},"x":1},"ruleSet":{"domainRules":[{"disabled":"true"}]}}"#;
    let reply = send(&fake, Method::POST, "/subjects/s/versions", Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let request: RegisterSchemaRequest = fake.request();
    assert_eq!(
        request.metadata_json.as_deref(),
        Some(r#"{"properties":{"n":5},"x":1}"#)
    );
    assert_eq!(
        request.rule_set_json.as_deref(),
        Some(r#"{"domainRules":[{"disabled":"true"}]}"#)
    );
    // A registry's 400 for a mistyped field reaches the client as Confluent's.
    let fake = Fake::failing(scute_proto::error_status(
        tonic::Code::InvalidArgument,
        400,
        "Cannot deserialize",
    ));
    let reply = send(&fake, Method::POST, "/subjects/s/versions", Some(body)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        serde_json::json!({"error_code": 400, "message": "Cannot deserialize"})
    );
}

#[tokio::test]
async fn openapi_description_is_served_as_is() {
    let fake = Fake::new();
    let reply = send(&fake, Method::GET, "/openapi.yaml", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), "application/yaml");
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("rest-facade/openapi.yaml");
    assert_eq!(reply.body, file);
    // Whatever the Accept header: it is not one of the negotiated types.
    let reply = send_to(
        router(fake.clone()),
        Method::GET,
        "/openapi.yaml",
        None,
        &[("accept", "application/json")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send(&fake, Method::POST, "/openapi.yaml", Some("{}")).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(fake.call_count(), 0);
}

const NO_SUCH_ROUTE: &str = r#"{"error_code":404,"message":"HTTP 404 Not Found"}"#;

/// `/subjects/{subject}/versions/{version}` with a sample value for each
/// path parameter.
fn sample_path(template: &str) -> String {
    template
        .replace("{subject}", "orders-value")
        .replace("{version}", "1")
        .replace("{id}", "1")
        .replace("{guid}", "1a5ad7e0-5d1c-4b52-9d0f-8c8c1f6e2f4b")
        .replace("{resourceId}", "rid-1")
        .replace("{resourceNamespace}", "lkc-1")
        .replace("{resourceName}", "orders")
        .replace("{context}", ".ctx")
}

#[tokio::test]
async fn openapi_description_matches_the_router() {
    let doc: serde_json::Value =
        serde_norway::from_str(scute_rest::OPENAPI_YAML).expect("openapi.yaml parses");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0."));
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 20, "too few paths: {}", paths.len());

    let methods = [Method::GET, Method::POST, Method::PUT, Method::DELETE];
    for (template, item) in paths {
        let uri = sample_path(template);
        assert!(!uri.contains('{'), "unknown path parameter in {template}");
        for method in &methods {
            let documented = item.get(method.as_str().to_lowercase()).is_some();
            let body = (*method == Method::POST || *method == Method::PUT).then_some("{}");
            let reply = send(&Fake::new(), method.clone(), &uri, body).await;
            let no_route = reply.status == StatusCode::NOT_FOUND && reply.body == NO_SUCH_ROUTE;
            if documented {
                assert!(
                    !no_route && reply.status != StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {template} is documented but not served: {} {}",
                    reply.status,
                    reply.body
                );
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {template} is served but not documented: {}",
                    reply.body
                );
            }
        }
    }

    // The other way round: every route the router declares is documented.
    let source = include_str!("../src/lib.rs");
    let mut declared = 0;
    for piece in source.split(".route(").skip(1) {
        let route = piece
            .trim_start()
            .strip_prefix('"')
            .and_then(|rest| rest.split('"').next())
            .expect("a route path literal");
        declared += 1;
        assert!(
            paths.contains_key(route),
            "route {route} is not in openapi.yaml"
        );
    }
    assert!(declared > 15, "found only {declared} routes in lib.rs");
}

/// A body that never sends its bytes.
struct Stalled;

impl http_body::Body for Stalled {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test]
async fn a_body_that_never_arrives_is_408() {
    let fake = Fake::new();
    let config = RestConfig {
        body_timeout: std::time::Duration::from_millis(50),
        ..RestConfig::default()
    };
    let request = Request::builder()
        .method(Method::POST)
        .uri("/subjects/s/versions")
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .body(Body::new(Stalled))
        .unwrap();
    let response = router_with_config(fake.clone(), config)
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error_code"], 408);
    assert_eq!(
        json["message"],
        "HTTP 408 Request Timeout: the request body did not arrive within 50 ms"
    );
    assert_eq!(fake.call_count(), 0);
}

#[tokio::test]
async fn contexts_and_server_metadata_translate_onto_their_calls() {
    let fake = Fake::replying(Contexts {
        contexts: vec![".".into(), ".ctx".into()],
    });
    let reply = send(
        &fake,
        Method::GET,
        "/contexts?contextPrefix=.c&offset=1&limit=2",
        None,
    )
    .await;
    assert_eq!(reply.body, r#"[".",".ctx"]"#);
    let request: ListContextsRequest = fake.request();
    assert_eq!(
        (
            request.context_prefix.as_str(),
            request.offset,
            request.limit
        ),
        (".c", 1, 2)
    );

    let fake = Fake::new();
    let reply = send(&fake, Method::DELETE, "/contexts/.ctx", None).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::NO_CONTENT, "")
    );
    let request: DeleteContextRequest = fake.request();
    assert_eq!(request.context, ".ctx");

    // A context prefix reaches the registry as a qualified subject.
    let fake = Fake::new();
    send(
        &fake,
        Method::GET,
        "/contexts/.ctx/subjects/s/versions",
        None,
    )
    .await;
    let request: ListVersionsRequest = fake.request();
    assert_eq!(request.subject, ":.ctx:s");

    let fake = Fake::replying(ClusterId {
        kafka_cluster_id: "k1".into(),
        schema_registry_cluster_id: "schema-registry".into(),
    });
    let reply = send(&fake, Method::GET, "/v1/metadata/id", None).await;
    assert_eq!(
        reply.body,
        r#"{"scope":{"path":[],"clusters":{"kafka-cluster":"k1","schema-registry-cluster":"schema-registry"}}}"#
    );
    let fake = Fake::replying(ServerVersion {
        version: "1.2.3".into(),
        commit_id: String::new(),
    });
    let reply = send(&fake, Method::GET, "/v1/metadata/version", None).await;
    assert_eq!(reply.body, r#"{"version":"1.2.3"}"#);
    let fake = Fake::replying(Deployment {
        attributes: vec!["opensource".into()],
    });
    let reply = send(&fake, Method::GET, "/v1/metadata/deployment", None).await;
    assert_eq!(reply.body, r#"{"attributes":["opensource"]}"#);
}

#[tokio::test]
async fn tags_translate_onto_their_calls() {
    let fake = Fake::replying(stored_schema());
    let body = r#"{"newVersion":3,"tagsToAdd":[{"schemaEntity":{"entityPath":"r.f","entityType":"sr_field"},"tags":["PII"]}],"rulesToRemove":["old"]}"#;
    let reply = send(
        &fake,
        Method::POST,
        "/subjects/orders-value/versions/latest/tags",
        Some(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let request: TagSchemaRequest = fake.request();
    assert_eq!(
        (
            request.subject.as_str(),
            request.version.as_str(),
            request.new_version
        ),
        ("orders-value", "latest", Some(3))
    );
    assert_eq!(request.tags_to_add[0].tags, ["PII"]);
    assert_eq!(
        request.tags_to_add[0].schema_entity,
        Some(SchemaEntity {
            entity_path: "r.f".into(),
            entity_type: "sr_field".into()
        })
    );
    assert_eq!(request.rules_to_remove, ["old"]);

    // Tags found are rendered in Confluent's shape.
    let mut tagged = stored_schema();
    tagged.schema_tags = vec![SchemaTags {
        schema_entity: Some(SchemaEntity {
            entity_path: "r".into(),
            entity_type: "sr_record".into(),
        }),
        tags: vec!["PII".into()],
    }];
    let fake = Fake::replying(tagged);
    let reply = send(
        &fake,
        Method::GET,
        "/subjects/orders-value/versions/2?findTags=PII&findTags=X",
        None,
    )
    .await;
    assert!(
        reply.body.contains(r#""schemaTags":[{"schemaEntity":{"entityPath":"r","entityType":"sr_record"},"tags":["PII"]}]"#),
        "{}",
        reply.body
    );
    let request: GetVersionRequest = fake.request();
    assert_eq!(request.find_tags, ["PII", "X"]);
}

/// The path is matched first, then the method, then the media types, as
/// in JAX-RS: an unknown path is a 404 and a known one with another method
/// a 405 naming the methods it has, whatever the Accept.
#[tokio::test]
async fn path_then_method_then_media_type() {
    let fake = Fake::new();
    // Every request here asks for a type the API does not produce.
    let ask = |method: Method, uri: &'static str| {
        send_to(
            router(fake.clone()),
            method,
            uri,
            None,
            &[("accept", "text/html")],
        )
    };
    let unknown = ask(Method::GET, "/nope").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["message"], "HTTP 404 Not Found");

    for (method, uri, allow) in [
        (Method::PUT, "/schemas/ids/1", "GET,HEAD"),
        (Method::PATCH, "/config", "GET,HEAD,PUT,DELETE"),
        (Method::GET, "/subjects/s/versions/1/tags", "POST"),
        (Method::POST, "/openapi.yaml", "GET,HEAD"),
    ] {
        let reply = ask(method.clone(), uri).await;
        let what = format!("{method} {uri}");
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{what}");
        assert_eq!(reply.json()["error_code"], 405, "{what}");
        assert_eq!(reply.headers["allow"], allow, "{what}");
    }

    let refused = ask(Method::GET, "/schemas/ids/1").await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
    // The OpenAPI description is YAML, outside the negotiation.
    let yaml = ask(Method::GET, "/openapi.yaml").await;
    assert_eq!(yaml.status, StatusCode::OK);
    assert_eq!(yaml.content_type(), "application/yaml");
    assert_eq!(fake.call_count(), 0);
}

/// `HEAD` is answered as `GET` is, without the body but with its length.
#[tokio::test]
async fn head_answers_like_get_without_the_body() {
    let fake = Fake::replying(SchemaTypes {
        schema_types: vec!["AVRO".into(), "JSON".into()],
    });
    let reply = send(&fake, Method::HEAD, "/schemas/types", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "");
    assert_eq!(
        reply.headers["content-length"],
        r#"["AVRO","JSON"]"#.len().to_string()
    );
    assert_eq!(reply.content_type(), V1);
}

/// A path parameter that is not UTF-8 once decoded names nothing.
#[tokio::test]
async fn undecodable_path_parameter_is_404() {
    let fake = Fake::new();
    let reply = send(&fake, Method::GET, "/subjects/%FF/versions", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error_code"], 404);
    assert_eq!(fake.call_count(), 0);
}
