//! JSON Schema through the REST contract, in process over the real
//! registry: registration, texts, references, validation errors, drafts
//! and compatibility.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{Method, StatusCode};
use scute_tests::TestRegistry;
use serde_json::{Value, json};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

async fn register(r: &TestRegistry, subject: &str, body: Value) -> (StatusCode, Value) {
    r.call(POST, &format!("/subjects/{subject}/versions"), Some(body))
        .await
}

fn json_body(schema: &str) -> Value {
    json!({"schemaType": "JSON", "schema": schema})
}

fn person() -> Value {
    json!({"type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name"]})
}

#[tokio::test]
async fn types_list_json() {
    let r = TestRegistry::start().await.unwrap();
    let (status, types) = r.call(GET, "/schemas/types", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        types.as_array().unwrap().contains(&json!("JSON")),
        "{types}"
    );
}

#[tokio::test]
async fn register_returns_the_compact_text_and_reformatted_input_keeps_its_id() {
    let r = TestRegistry::start().await.unwrap();
    let pretty = serde_json::to_string_pretty(&person()).unwrap();
    let (status, body) = register(&r, "people-value", json_body(&pretty)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["schemaType"], "JSON");
    let id = body["id"].clone();
    let compact = person().to_string();
    assert_eq!(body["schema"], json!(compact));

    // The same schema written differently is the same schema.
    let (_, again) = register(&r, "people-value", json_body(&compact)).await;
    assert_eq!(again["id"], id);
    assert_eq!(again["version"], 1);
    let (_, elsewhere) = register(&r, "other-value", json_body(&pretty)).await;
    assert_eq!(elsewhere["id"], id);

    let (status, by_id) = r.call(GET, &format!("/schemas/ids/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id["schemaType"], "JSON");
    assert_eq!(by_id["schema"], json!(compact));

    // Lookup finds it by its text.
    let (status, found) = r
        .call(POST, "/subjects/people-value", Some(json_body(&pretty)))
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["id"], id);
}

#[tokio::test]
async fn numbers_keep_their_digits_as_confluent_prints_them() {
    let r = TestRegistry::start().await.unwrap();
    let text = r#"{"type": "number", "maximum": 1.50, "minimum": 1e2}"#;
    let (_, body) = register(&r, "n", json_body(text)).await;
    assert_eq!(
        body["schema"],
        json!(r#"{"type":"number","maximum":1.50,"minimum":1E+2}"#)
    );
}

#[tokio::test]
async fn normalize_sorts_keys_so_reordered_schemas_share_an_id() {
    let r = TestRegistry::start().await.unwrap();
    let a = r#"{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}}}"#;
    let b = r#"{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}"#;
    let (_, plain_a) = register(&r, "p", json_body(a)).await;
    let (_, plain_b) = register(&r, "p2", json_body(b)).await;
    assert_ne!(plain_a["id"], plain_b["id"]);

    let (status, norm) = r
        .call(
            POST,
            "/subjects/q/versions?normalize=true",
            Some(json_body(a)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{norm}");
    assert_eq!(norm["schema"], json!(b));
    assert_eq!(norm["id"], plain_b["id"]);
}

#[tokio::test]
async fn references_resolve_by_name_and_protect_what_they_use() {
    let r = TestRegistry::start().await.unwrap();
    let address = json!({"type": "object",
        "properties": {"street": {"type": "string"}, "zip": {"$ref": "#/definitions/zip"}},
        "definitions": {"zip": {"type": "string", "maxLength": 10}}});
    let (status, addr) = register(&r, "address", json_body(&address.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{addr}");

    let customer = json!({"type": "object", "properties": {
        "home": {"$ref": "address.json"},
        "zip": {"$ref": "address.json#/definitions/zip"}}});
    let refs = json!([{"name": "address.json", "subject": "address", "version": 1}]);
    let (status, cust) = register(
        &r,
        "customer",
        json!({"schemaType": "JSON", "schema": customer.to_string(), "references": refs}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cust}");
    assert_eq!(cust["references"], refs);

    // A schema referencing the customer: references are transitive.
    let order = json!({"type": "object", "properties": {"buyer": {"$ref": "customer.json"}}});
    let (status, ord) = register(
        &r,
        "order",
        json!({"schemaType": "JSON", "schema": order.to_string(),
            "references": [{"name": "customer.json", "subject": "customer", "version": 1}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ord}");

    let (_, users) = r
        .call(GET, "/subjects/address/versions/1/referencedby", None)
        .await;
    assert_eq!(users, json!([cust["id"]]));

    let (status, err) = r.call(DELETE, "/subjects/address/versions/1", None).await;
    assert_eq!(status.as_u16(), 422, "{err}");
    assert_eq!(err["error_code"], 42206);

    // A $ref to something not among the references is invalid.
    let (status, err) = register(
        &r,
        "broken",
        json_body(&json!({"properties": {"a": {"$ref": "missing.json"}}}).to_string()),
    )
    .await;
    assert_eq!(status.as_u16(), 422);
    assert_eq!(err["error_code"], 42201);
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("missing.json") && message.contains("'#/properties/a'"),
        "{message}"
    );
}

#[tokio::test]
async fn recursive_schemas_register() {
    let r = TestRegistry::start().await.unwrap();
    let tree = json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {"node": {"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}},
        "$ref": "#/$defs/node"});
    let (status, body) = register(&r, "tree", json_body(&tree.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn invalid_schemas_are_42201_with_a_pointer() {
    let r = TestRegistry::start().await.unwrap();
    let (status, err) = register(
        &r,
        "bad",
        json_body(r#"{"type":"object","properties":{"a":{"type":"strin"}}}"#),
    )
    .await;
    assert_eq!(status.as_u16(), 422, "{err}");
    assert_eq!(err["error_code"], 42201);
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("'#/properties/a/type'"), "{message}");
    assert!(message.contains("strin"), "{message}");

    let (_, err) = register(&r, "bad", json_body("{not json")).await;
    assert_eq!(err["error_code"], 42201);
    let (_, subjects) = r.call(GET, "/subjects", None).await;
    assert_eq!(subjects, json!([]));
}

#[tokio::test]
async fn drafts_are_chosen_by_dollar_schema() {
    let r = TestRegistry::start().await.unwrap();
    // exclusiveMinimum is a boolean in draft 4 and a number afterwards.
    let draft4 = json!({"$schema": "http://json-schema.org/draft-04/schema#",
        "type": "number", "minimum": 0, "exclusiveMinimum": true});
    let (status, body) = register(&r, "d4", json_body(&draft4.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut draft7 = draft4.clone();
    draft7["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    let (status, err) = register(&r, "d7", json_body(&draft7.to_string())).await;
    assert_eq!(status.as_u16(), 422, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("'#/exclusiveMinimum'")
    );
    // No $schema is draft 7, as in Confluent.
    draft7.as_object_mut().unwrap().remove("$schema");
    let (_, err) = register(&r, "none", json_body(&draft7.to_string())).await;
    assert_eq!(err["error_code"], 42201);
    for s in [
        "http://json-schema.org/draft-06/schema#",
        "https://json-schema.org/draft/2019-09/schema",
        "https://json-schema.org/draft/2020-12/schema",
    ] {
        let schema = json!({"$schema": s, "type": "object",
            "properties": {"a": {"type": "number", "exclusiveMinimum": 0}}});
        let (status, body) = register(&r, "modern", json_body(&schema.to_string())).await;
        assert_eq!(status, StatusCode::OK, "{s}: {body}");
    }
}

#[tokio::test]
async fn compatibility_follows_confluents_json_rules() {
    let r = TestRegistry::start().await.unwrap();
    let v1 = json!({"type": "object", "properties": {"a": {"type": "string"}},
        "additionalProperties": false});
    register(&r, "c", json_body(&v1.to_string())).await;
    r.call(PUT, "/config/c", Some(json!({"compatibility": "BACKWARD"})))
        .await;

    // An optional property added to a closed object: compatible.
    let v2 = json!({"type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "additionalProperties": false});
    let (status, verdict) = r
        .call(
            POST,
            "/compatibility/subjects/c/versions/latest?verbose=true",
            Some(json_body(&v2.to_string())),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verdict}");
    assert_eq!(verdict["is_compatible"], true, "{verdict}");

    // A changed property type: incompatible, with Confluent's message.
    let bad = json!({"type": "object", "properties": {"a": {"type": "number"}},
        "additionalProperties": false});
    let (_, verdict) = r
        .call(
            POST,
            "/compatibility/subjects/c/versions/latest?verbose=true",
            Some(json_body(&bad.to_string())),
        )
        .await;
    assert_eq!(verdict["is_compatible"], false);
    assert_eq!(
        verdict["messages"][0],
        "{errorType:\"TYPE_CHANGED\", description:\"A type at path '#/properties/a' is different between the new schema and the old schema\"}"
    );
    let (status, err) = register(&r, "c", json_body(&bad.to_string())).await;
    assert_eq!(status.as_u16(), 409, "{err}");
    assert_eq!(err["error_code"], 40901);

    // FORWARD swaps the roles: removing a property from a closed object
    // is what the old reader cannot take.
    r.call(PUT, "/config/c", Some(json!({"compatibility": "FORWARD"})))
        .await;
    let (_, verdict) = r
        .call(
            POST,
            "/compatibility/subjects/c/versions/latest?verbose=true",
            Some(json_body(&v2.to_string())),
        )
        .await;
    assert_eq!(verdict["is_compatible"], false, "{verdict}");
    assert!(
        verdict["messages"][0]
            .as_str()
            .unwrap()
            .contains("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
        "{verdict}"
    );

    // FULL_TRANSITIVE checks both ways against every version.
    r.call(PUT, "/config/c", Some(json!({"compatibility": "NONE"})))
        .await;
    let (status, _) = register(&r, "c", json_body(&v2.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    r.call(
        PUT,
        "/config/c",
        Some(json!({"compatibility": "FULL_TRANSITIVE"})),
    )
    .await;
    let same = json!({"type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "additionalProperties": false, "title": "renamed"});
    let (_, verdict) = r
        .call(
            POST,
            "/compatibility/subjects/c/versions?verbose=true",
            Some(json_body(&same.to_string())),
        )
        .await;
    assert_eq!(verdict["is_compatible"], false, "{verdict}");
}

#[tokio::test]
async fn json_and_avro_versions_are_different_types() {
    let r = TestRegistry::start().await.unwrap();
    let avro = json!({"type": "record", "name": "R", "fields": []}).to_string();
    register(&r, "mix", json!({"schema": avro})).await;
    r.call(
        PUT,
        "/config/mix",
        Some(json!({"compatibility": "BACKWARD"})),
    )
    .await;
    let (_, verdict) = r
        .call(
            POST,
            "/compatibility/subjects/mix/versions/latest?verbose=true",
            Some(json_body(&person().to_string())),
        )
        .await;
    assert_eq!(verdict["is_compatible"], false);
    assert_eq!(
        verdict["messages"][0],
        "Incompatible because of different schema type"
    );
}
