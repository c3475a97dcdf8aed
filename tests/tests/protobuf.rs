//! PROTOBUF through the REST contract (and the gRPC descriptor path), in
//! process: what a Confluent client sees.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use http::{Method, StatusCode};
use prost::Message;
use scute_client::{Client, v1 as api};
use scute_tests::TestRegistry;
use serde_json::{Value, json};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

const ORDER: &str = "syntax = \"proto3\";\npackage shop;\n\nmessage Order {\n  string id = 1;\n  int64 cents = 2;\n}\n";

async fn register(r: &TestRegistry, subject: &str, body: Value) -> (StatusCode, Value) {
    r.call(POST, &format!("/subjects/{subject}/versions"), Some(body))
        .await
}

async fn register_proto(r: &TestRegistry, subject: &str, schema: &str) -> (StatusCode, Value) {
    register(
        r,
        subject,
        json!({"schemaType": "PROTOBUF", "schema": schema}),
    )
    .await
}

#[tokio::test]
async fn types_list_protobuf() {
    let r = TestRegistry::start().await.unwrap();
    let (status, types) = r.call(GET, "/schemas/types", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(types.as_array().unwrap().contains(&json!("PROTOBUF")));
}

#[tokio::test]
async fn register_returns_confluents_text_and_reformatting_keeps_the_id() {
    let r = TestRegistry::start().await.unwrap();
    let (status, body) = register_proto(
        &r,
        "orders-value",
        "syntax=\"proto3\"; package shop; message Order { string id = 1; int64 cents = 2; }",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["schemaType"], json!("PROTOBUF"));
    assert_eq!(body["schema"], json!(ORDER));
    let id = body["id"].clone();

    // Comments and layout do not make another schema.
    let commented = "// orders\nsyntax = \"proto3\";\npackage shop;\n\nmessage Order {\n    string id = 1;   // key\n    int64 cents = 2;\n}\n";
    let (_, again) = register_proto(&r, "orders-value", commented).await;
    assert_eq!(
        (again["id"].clone(), again["version"].clone()),
        (id.clone(), json!(1))
    );
    let (_, other) = register_proto(&r, "other-value", ORDER).await;
    assert_eq!(other["id"], id);

    let (_, by_id) = r.call(GET, &format!("/schemas/ids/{id}"), None).await;
    assert_eq!(by_id["schema"], json!(ORDER));
    assert_eq!(by_id["schemaType"], json!("PROTOBUF"));

    // Lookup finds it in any formatting.
    let (status, found) = r
        .call(
            POST,
            "/subjects/orders-value",
            Some(json!({"schemaType": "PROTOBUF", "schema": commented})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["id"], id);
}

#[tokio::test]
async fn normalize_makes_differently_written_schemas_one() {
    let r = TestRegistry::start().await.unwrap();
    let a = "syntax = \"proto3\";\npackage p;\nmessage A {\n  B b = 2;\n  int32 n = 1;\n  message B { string s = 1; }\n}\n";
    let b = "syntax = \"proto3\";\npackage p;\nmessage A {\n  int32 n = 1;\n  .p.A.B b = 2;\n  message B { string s = 1; }\n}\n";
    let (_, plain_a) = register_proto(&r, "plain-a", a).await;
    let (_, plain_b) = register_proto(&r, "plain-b", b).await;
    assert_ne!(plain_a["id"], plain_b["id"]);

    let (_, na) = r
        .call(
            POST,
            "/subjects/norm/versions?normalize=true",
            Some(json!({"schemaType": "PROTOBUF", "schema": a})),
        )
        .await;
    assert_eq!(
        na["schema"],
        json!(
            "syntax = \"proto3\";\npackage p;\n\nmessage A {\n  int32 n = 1;\n  .p.A.B b = 2;\n\n  message B {\n    string s = 1;\n  }\n}\n"
        )
    );
    let (_, nb) = r
        .call(
            POST,
            "/subjects/norm/versions?normalize=true",
            Some(json!({"schemaType": "PROTOBUF", "schema": b})),
        )
        .await;
    assert_eq!(
        (nb["id"].clone(), nb["version"].clone()),
        (na["id"].clone(), json!(1))
    );
}

#[tokio::test]
async fn a_normalized_form_that_would_not_read_back_is_refused() {
    // Sorting the values by number puts -1 first, where proto3 wants 0.
    let r = TestRegistry::start().await.unwrap();
    let schema = "syntax = \"proto3\";\nenum E {\n  ZERO = 0;\n  MINUS = -1;\n}\n";
    let (status, body) = r
        .call(
            POST,
            "/subjects/e/versions?normalize=true",
            Some(json!({"schemaType": "PROTOBUF", "schema": schema})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error_code"], 42201);
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("its normalized form is not a valid schema")
            && message.contains("the first value for proto3 enums must be 0"),
        "{message}"
    );
    // As written, it is a schema like any other.
    let (status, _) = register_proto(&r, "e", schema).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn serialized_format_out_and_in() {
    let r = TestRegistry::start().await.unwrap();
    let (_, body) = register_proto(&r, "orders-value", ORDER).await;
    let id = body["id"].as_i64().unwrap();

    let (_, ser) = r
        .call(GET, &format!("/schemas/ids/{id}?format=serialized"), None)
        .await;
    let encoded = ser["schema"].as_str().unwrap().to_owned();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&encoded)
        .unwrap();
    let file = prost_types::FileDescriptorProto::decode(bytes.as_slice()).unwrap();
    assert_eq!(file.package(), "shop");
    assert_eq!(file.message_type[0].name(), "Order");
    assert_eq!(file.message_type[0].field[1].name(), "cents");
    let (_, by_version) = r
        .call(
            GET,
            "/subjects/orders-value/versions/1?format=serialized",
            None,
        )
        .await;
    assert_eq!(by_version["schema"], json!(encoded));

    // A descriptor in, Confluent's text back (type names fully qualified).
    let (status, back) = register_proto(&r, "from-descriptor", &encoded).await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["schema"], json!(ORDER));
    assert_eq!(back["id"], json!(id));
}

#[tokio::test]
async fn references_referencedby_and_delete_protection() {
    let r = TestRegistry::start().await.unwrap();
    let money = "syntax = \"proto3\";\npackage common;\n\nmessage Amount {\n  int64 cents = 1;\n  string currency = 2;\n}\n";
    let (_, dep) = register_proto(&r, "amount", money).await;
    let dep_id = dep["id"].clone();
    let order = "syntax = \"proto3\";\npackage shop;\n\nimport \"common/amount.proto\";\n\nmessage Order {\n  string id = 1;\n  common.Amount total = 2;\n}\n";

    // Without the reference its type resolves nowhere (an import that
    // matches nothing is skipped, as Confluent skips it).
    let (status, refused) = register_proto(&r, "orders-value", order).await;
    assert_eq!(status.as_u16(), 422, "{refused}");
    assert_eq!(refused["error_code"], json!(42201));
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("name 'common.Amount' is not defined"),
        "{refused}"
    );

    let refs = json!([{"name": "common/amount.proto", "subject": "amount", "version": 1}]);
    let (status, body) = register(
        &r,
        "orders-value",
        json!({"schemaType": "PROTOBUF", "schema": order, "references": refs}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["references"], refs);
    let order_id = body["id"].clone();

    let (_, users) = r
        .call(GET, "/subjects/amount/versions/1/referencedby", None)
        .await;
    assert_eq!(users, json!([order_id]));

    // A third file importing the second: references resolve transitively.
    let invoice = "syntax = \"proto3\";\n\nimport \"shop/order.proto\";\n\nmessage Invoice {\n  shop.Order order = 1;\n}\n";
    let (status, body) = register(
        &r,
        "invoices-value",
        json!({"schemaType": "PROTOBUF", "schema": invoice,
               "references": [{"name": "shop/order.proto", "subject": "orders-value", "version": 1}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, blocked) = r.call(DELETE, "/subjects/amount/versions/1", None).await;
    assert_eq!(status.as_u16(), 422, "{blocked}");
    assert_eq!(blocked["error_code"], json!(42206));
    let (_, blocked) = r.call(DELETE, "/subjects/amount", None).await;
    assert_eq!(blocked["error_code"], json!(42206));
    let (status, _) = r.call(GET, &format!("/schemas/ids/{dep_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bundled_imports_need_no_reference() {
    let r = TestRegistry::start().await.unwrap();
    let schema = "syntax = \"proto3\";\n\nimport \"google/protobuf/timestamp.proto\";\nimport \"google/type/money.proto\";\nimport \"confluent/type/decimal.proto\";\n\nmessage Payment {\n  google.protobuf.Timestamp at = 1;\n  google.type.Money amount = 2;\n  confluent.type.Decimal rate = 3;\n}\n";
    let (status, body) = register_proto(&r, "payments-value", schema).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["schema"], json!(schema));
}

#[tokio::test]
async fn invalid_schemas_say_where() {
    let r = TestRegistry::start().await.unwrap();
    let (status, body) = register_proto(
        &r,
        "bad",
        "syntax = \"proto3\";\nmessage A {\n  int32 x = 1\n}\n",
    )
    .await;
    assert_eq!(status.as_u16(), 422);
    assert_eq!(body["error_code"], json!(42201));
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("schema.proto:4:1:"), "{message}");
    assert!(message.contains("expected ';'"), "{message}");

    // With verbose, the compatibility endpoint answers with the reason.
    let (_, body) = r
        .call(
            POST,
            "/compatibility/subjects/bad/versions/latest?verbose=true",
            Some(json!({"schemaType": "PROTOBUF", "schema": "message {"})),
        )
        .await;
    assert_eq!(body["is_compatible"], json!(false), "{body}");
    assert!(
        body["messages"][0]
            .as_str()
            .unwrap()
            .contains("schema.proto:1:9: expected an identifier"),
        "{body}"
    );
}

#[tokio::test]
async fn compatibility_follows_confluents_rules() {
    let r = TestRegistry::start().await.unwrap();
    register_proto(&r, "orders-value", ORDER).await;

    // A new field is BACKWARD compatible.
    let added = "syntax = \"proto3\";\npackage shop;\nmessage Order { string id = 1; int64 cents = 2; string note = 3; }";
    let (_, ok) = r
        .call(
            POST,
            "/compatibility/subjects/orders-value/versions/latest?verbose=true",
            Some(json!({"schemaType": "PROTOBUF", "schema": added})),
        )
        .await;
    assert_eq!(ok, json!({"is_compatible": true, "messages": []}));

    // A scalar kind change is not, with Confluent's message.
    let changed =
        "syntax = \"proto3\";\npackage shop;\nmessage Order { string id = 1; string cents = 2; }";
    let (_, bad) = r
        .call(
            POST,
            "/compatibility/subjects/orders-value/versions/latest?verbose=true",
            Some(json!({"schemaType": "PROTOBUF", "schema": changed})),
        )
        .await;
    assert_eq!(bad["is_compatible"], json!(false));
    assert_eq!(
        bad["messages"][0],
        json!(
            "{errorType:\"FIELD_SCALAR_KIND_CHANGED\", description:\"The kind of a SCALAR field at path '#/Order/2' in the new schema does not match its kind in the old schema\"}"
        )
    );
    let (status, refused) = register_proto(&r, "orders-value", changed).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(refused["error_code"], json!(40901));

    // FORWARD names the roles the other way round.
    r.call(
        PUT,
        "/config/orders-value",
        Some(json!({"compatibility": "FORWARD"})),
    )
    .await;
    let (_, fwd) = r
        .call(
            POST,
            "/compatibility/subjects/orders-value/versions/latest?verbose=true",
            Some(json!({"schemaType": "PROTOBUF", "schema": changed})),
        )
        .await;
    assert!(
        fwd["messages"][0]
            .as_str()
            .unwrap()
            .contains("in the old schema does not match its kind in the new schema"),
        "{fwd}"
    );

    // Against an AVRO version: a different schema type.
    r.call(
        PUT,
        "/config/mixed",
        Some(json!({"compatibility": "BACKWARD"})),
    )
    .await;
    register(&r, "mixed", json!({"schema": "\"string\""})).await;
    let (_, mixed) = r
        .call(
            POST,
            "/compatibility/subjects/mixed/versions/latest?verbose=true",
            Some(json!({"schemaType": "PROTOBUF", "schema": ORDER})),
        )
        .await;
    assert_eq!(mixed["is_compatible"], json!(false));
}

/// The descriptors a client's generated code holds: compiled from .proto
/// files, imports first.
fn descriptor_set(files: &[(&str, &str)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let last = files.last().unwrap().0;
    protox::compile([last], [dir.path()])
        .unwrap()
        .encode_to_vec()
}

#[tokio::test]
async fn grpc_registers_from_a_file_descriptor_set() {
    let r = TestRegistry::start().await.unwrap();
    let mut c = Client::connect(format!("http://{}", r.running.grpc_addr))
        .await
        .unwrap();
    let set = descriptor_set(&[("shop/order.proto", ORDER)]);
    let registered = c
        .raw()
        .register_schema(api::RegisterSchemaRequest {
            subject: "orders-value".into(),
            file_descriptor_set: set.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(registered.schema_type, "PROTOBUF");
    assert_eq!(registered.schema, ORDER);

    // The text form gets the same id.
    let (_, text) = register_proto(&r, "orders-text", ORDER).await;
    assert_eq!(text["id"], json!(registered.id));

    // With an import: named by a reference, like text.
    let amount =
        "syntax = \"proto3\";\npackage common;\n\nmessage Amount {\n  int64 cents = 1;\n}\n";
    register_proto(&r, "amount", amount).await;
    let order = "syntax = \"proto3\";\npackage shop;\n\nimport \"common/amount.proto\";\n\nmessage Priced {\n  common.Amount total = 1;\n}\n";
    let set = descriptor_set(&[
        ("common/amount.proto", amount),
        ("shop/priced.proto", order),
    ]);
    let reference = api::SchemaReference {
        name: "common/amount.proto".into(),
        subject: "amount".into(),
        version: 1,
    };
    let registered = c
        .raw()
        .register_schema(api::RegisterSchemaRequest {
            subject: "priced-value".into(),
            file_descriptor_set: set.clone(),
            references: vec![reference.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        registered.schema.contains(".common.Amount total = 1;"),
        "{}",
        registered.schema
    );
    let without = c
        .raw()
        .register_schema(api::RegisterSchemaRequest {
            subject: "priced-value".into(),
            file_descriptor_set: set,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(without.code(), tonic::Code::InvalidArgument);

    // Relative names and a map: with normalize, the same id as the text.
    let text = "syntax = \"proto3\";\npackage shop;\n\nmessage Basket {\n  map<string, Line> lines = 1;\n  message Line { int32 qty = 1; }\n}\n";
    let from_set = c
        .raw()
        .register_schema(api::RegisterSchemaRequest {
            subject: "basket-set".into(),
            file_descriptor_set: descriptor_set(&[("shop/basket.proto", text)]),
            normalize: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (_, from_text) = r
        .call(
            POST,
            "/subjects/basket-text/versions?normalize=true",
            Some(json!({"schemaType": "PROTOBUF", "schema": text})),
        )
        .await;
    assert_eq!(from_text["id"], json!(from_set.id), "{from_text}");
    assert!(
        from_set
            .schema
            .contains("map<string, .shop.Basket.Line> lines = 1;"),
        "{}",
        from_set.schema
    );

    // Not a descriptor set at all.
    let garbage = c
        .raw()
        .register_schema(api::RegisterSchemaRequest {
            subject: "x".into(),
            file_descriptor_set: vec![0xff, 0xff, 0xff],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(garbage.code(), tonic::Code::InvalidArgument);
}
