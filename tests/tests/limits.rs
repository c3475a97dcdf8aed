//! Limits through the REST facade in process: what a client sees when a
//! schema or a request goes past one.

use http::Method;
use http::StatusCode;
use scute_tests::TestRegistry;
use serde_json::{Value, json};

async fn register(r: &TestRegistry, subject: &str, body: Value) -> (StatusCode, Value) {
    r.call(
        Method::POST,
        &format!("/subjects/{subject}/versions"),
        Some(body),
    )
    .await
}

fn nested_proto(depth: usize) -> String {
    format!(
        "syntax = \"proto3\";\n{}int32 a = 1;{}",
        "message M { ".repeat(depth),
        " }".repeat(depth)
    )
}

#[tokio::test]
async fn every_format_refuses_nesting_past_the_limit_with_where() {
    let r = TestRegistry::start_with(|l| l.max_schema_depth = 10)
        .await
        .unwrap();
    let (status, body) = register(
        &r,
        "p",
        json!({"schemaType": "PROTOBUF", "schema": nested_proto(11)}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error_code"], 42201);
    assert_eq!(
        body["message"],
        "Invalid schema of type PROTOBUF, details: schema.proto: the schema nests deeper than 10 levels at line 2, column 131 (the limit is --max-schema-depth)"
    );
    let deep_json = format!("{}1{}", "[".repeat(11), "]".repeat(11));
    for schema_type in ["AVRO", "JSON"] {
        let (status, body) = register(
            &r,
            "j",
            json!({"schemaType": schema_type, "schema": deep_json}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("the schema nests deeper than 10 levels at line 1, column 11"),
            "{message}"
        );
    }
    // At the limit, it is a schema like any other.
    let (status, body) = register(
        &r,
        "p",
        json!({"schemaType": "PROTOBUF", "schema": nested_proto(10)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_dependency_nested_past_the_limit_is_refused_too() {
    let r = TestRegistry::start_with(|l| l.max_schema_depth = 20)
        .await
        .unwrap();
    let (status, _) = register(
        &r,
        "dep",
        json!({"schemaType": "PROTOBUF", "schema": nested_proto(15)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let dir = r.stop().await.unwrap();
    // The same data, read with a lower limit: the stored dependency is too
    // deep for it, and a schema importing it is refused, not parsed.
    let mut config = scute_service::Config::ephemeral(dir.path());
    config.limits.max_schema_depth = 10;
    let r = TestRegistry::start_on(dir, &config).await.unwrap();
    let (status, body) = register(
        &r,
        "user",
        json!({"schemaType": "PROTOBUF",
               "schema": "syntax = \"proto3\";\nimport \"dep.proto\";\nmessage U { M m = 1; }",
               "references": [{"name": "dep.proto", "subject": "dep", "version": 1}]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("dep.proto: the schema nests deeper than 10 levels"),
        "{body}"
    );
}

#[tokio::test]
async fn work_past_the_deadline_answers_50002() {
    let r = TestRegistry::start_with(|l| l.compute_deadline_ms = 1)
        .await
        .unwrap();
    let properties: serde_json::Map<String, Value> = (0..3000)
        .map(|i| {
            (
                format!("p{i}"),
                json!({"type": "object", "properties": {"a": {"type": "string"}}}),
            )
        })
        .collect();
    let schema = json!({"type": "object", "properties": properties}).to_string();
    let (status, body) = register(&r, "big", json!({"schemaType": "JSON", "schema": schema})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(
        body,
        json!({"error_code": 50002,
               "message": "Parsing a JSON schema took longer than the 1 ms allowed (--compute-deadline-ms)"})
    );
}

#[tokio::test]
async fn imports_at_the_top_of_the_range_leave_clean_errors_not_overflows() {
    let r = TestRegistry::start().await.unwrap();
    assert_eq!(
        r.call(
            Method::PUT,
            "/mode?force=true",
            Some(json!({"mode": "IMPORT"}))
        )
        .await
        .0,
        StatusCode::OK
    );
    let (status, body) = register(
        &r,
        "top",
        json!({"schema": "\"string\"", "id": i32::MAX, "version": i32::MAX}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    r.call(Method::PUT, "/mode", Some(json!({"mode": "READWRITE"})))
        .await;
    // No version after 2^31-1 in that subject.
    let (status, body) = register(&r, "top", json!({"schema": "\"int\""})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error_code"], 42202);
    // No id after 2^31-1 anywhere.
    let (status, body) = register(&r, "other", json!({"schema": "\"long\""})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error_code"], 50001);
    assert_eq!(
        body["message"],
        "Register operation failed while writing to the store: every schema id up to 2147483647 is taken"
    );
    // What exists is still served.
    let (status, _) = r.call(Method::GET, "/schemas/ids/2147483647", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_schema_larger_than_the_limit_is_42209_as_confluent_words_it() {
    let r = TestRegistry::start_with(|l| l.max_schema_bytes = 100)
        .await
        .unwrap();
    let big = json!({"type": "record", "name": "R", "doc": "x".repeat(100), "fields": []});
    let (status, body) = register(&r, "s", json!({"schema": big.to_string()})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body,
        json!({"error_code": 42209, "message": "Register operation failed because schema is too large"})
    );
    let (status, _) = register(&r, "s", json!({"schema": "\"string\""})).await;
    assert_eq!(status, StatusCode::OK);
}
