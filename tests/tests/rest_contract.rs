//! The Confluent REST contract, end to end in process: the REST router over
//! the real registry on a temporary log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{Method, StatusCode};
use scute_tests::{TestRegistry, record_schema};
use serde_json::{Value, json};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

fn user_v1() -> String {
    record_schema("User", &[("name", json!("string"))])
}

/// Adds a field with a default: BACKWARD compatible with v1.
fn user_v2() -> String {
    serde_json::json!({"type": "record", "name": "User", "fields": [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "int", "default": 0}
    ]})
    .to_string()
}

/// Adds a field without a default: not BACKWARD compatible with v1.
fn user_bad() -> String {
    record_schema(
        "User",
        &[("name", json!("string")), ("email", json!("string"))],
    )
}

async fn register(r: &TestRegistry, subject: &str, schema: &str) -> (StatusCode, Value) {
    r.call(
        POST,
        &format!("/subjects/{subject}/versions"),
        Some(json!({"schema": schema})),
    )
    .await
}

fn assert_error(got: (StatusCode, Value), status: u16, code: i64) {
    assert_eq!(got.0.as_u16(), status, "body: {}", got.1);
    assert_eq!(got.1["error_code"], json!(code), "body: {}", got.1);
    assert!(
        got.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "body: {}",
        got.1
    );
}

#[tokio::test]
async fn root_and_types() {
    let r = TestRegistry::start().await.unwrap();
    assert_eq!(r.call(GET, "/", None).await, (StatusCode::OK, json!({})));
    let (status, types) = r.call(GET, "/schemas/types", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(types.as_array().unwrap().contains(&json!("AVRO")));
}

#[tokio::test]
async fn register_and_read_back() {
    let r = TestRegistry::start().await.unwrap();
    let (status, body) = register(&r, "users-value", &user_v1()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], json!(1));

    // Idempotent, and the same schema gets the same id in another subject.
    assert_eq!(
        register(&r, "users-value", &user_v1()).await.1["id"],
        json!(1)
    );
    assert_eq!(
        register(&r, "other-value", &user_v1()).await.1["id"],
        json!(1)
    );
    let (_, v2) = register(&r, "users-value", &user_v2()).await;
    assert_eq!(v2["id"], json!(2));

    assert_eq!(
        r.call(GET, "/subjects", None).await.1,
        json!(["other-value", "users-value"])
    );
    assert_eq!(
        r.call(GET, "/subjects/users-value/versions", None).await.1,
        json!([1, 2])
    );

    let (status, latest) = r
        .call(GET, "/subjects/users-value/versions/latest", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(latest["subject"], json!("users-value"));
    assert_eq!(latest["version"], json!(2));
    assert_eq!(latest["id"], json!(2));
    assert_eq!(latest["schemaType"], json!("AVRO"));
    let stored: Value = serde_json::from_str(latest["schema"].as_str().unwrap()).unwrap();
    assert_eq!(stored["fields"][1]["name"], json!("age"));
    assert_eq!(
        r.call(GET, "/subjects/users-value/versions/-1", None)
            .await
            .1["version"],
        json!(2)
    );

    let (status, _, raw) = r
        .raw(GET, "/subjects/users-value/versions/1/schema", &[], None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let raw: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(raw["name"], json!("User"));

    let (status, by_id) = r.call(GET, "/schemas/ids/1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        by_id.get("subject").is_none(),
        "subject only when asked for: {by_id}"
    );
    assert_eq!(
        by_id["schema"],
        json!(serde_json::to_string(&serde_json::from_str::<Value>(&user_v1()).unwrap()).unwrap())
    );
    let (_, with_max) = r.call(GET, "/schemas/ids/1?fetchMaxId=true", None).await;
    assert_eq!(with_max["maxId"], json!(2));

    assert_eq!(
        r.call(GET, "/schemas/ids/1/subjects", None).await.1,
        json!(["other-value", "users-value"])
    );
    assert_eq!(
        r.call(GET, "/schemas/ids/1/versions", None).await.1,
        json!([{"subject": "other-value", "version": 1}, {"subject": "users-value", "version": 1}])
    );
    let (_, all) = r.call(GET, "/schemas?subjectPrefix=users", None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (_, latest_only) = r.call(GET, "/schemas?latestOnly=true", None).await;
    assert_eq!(latest_only.as_array().unwrap().len(), 2);

    // Lookup.
    let (status, found) = r
        .call(
            POST,
            "/subjects/users-value",
            Some(json!({"schema": user_v1()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (found["id"].clone(), found["version"].clone()),
        (json!(1), json!(1))
    );
    assert_error(
        r.call(
            POST,
            "/subjects/users-value",
            Some(json!({"schema": user_bad()})),
        )
        .await,
        404,
        40403,
    );
    assert_error(
        r.call(POST, "/subjects/nobody", Some(json!({"schema": user_v1()})))
            .await,
        404,
        40401,
    );
}

#[tokio::test]
async fn not_found_and_invalid_input() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "s", &user_v1()).await;
    let (status, body) = r.call(GET, "/subjects/nope/versions", None).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"error_code": 40401, "message": "Subject 'nope' not found."})
        )
    );
    assert_eq!(
        r.call(GET, "/subjects/s/versions/9", None).await.1,
        json!({"error_code": 40402, "message": "Version 9 not found."})
    );
    assert_eq!(
        r.call(GET, "/schemas/ids/99", None).await.1,
        json!({"error_code": 40403, "message": "Schema 99 not found"})
    );
    for bad in ["0", "abc", "-2", "2147483648"] {
        assert_error(
            r.call(GET, &format!("/subjects/s/versions/{bad}"), None)
                .await,
            422,
            42202,
        );
    }
    let invalid = register(&r, "s", "{\"type\":\"record\",\"name\":\"X\"}").await;
    assert_error(invalid, 422, 42201);
    let not_json = register(&r, "s", "not json at all").await;
    assert_error(not_json, 422, 42201);
    let unknown_type = r
        .call(
            POST,
            "/subjects/s/versions",
            Some(json!({"schema": user_v1(), "schemaType": "XML"})),
        )
        .await;
    assert_error(unknown_type, 422, 42201);
}

#[tokio::test]
async fn compatibility_rules_and_checks() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "s", &user_v1()).await;
    let refused = register(&r, "s", &user_bad()).await;
    assert_error(refused.clone(), 409, 40901);
    let message = refused.1["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Schema being registered is incompatible with an earlier schema for subject \"s\""
        ),
        "{message}"
    );
    assert!(
        message.contains("READER_FIELD_MISSING_DEFAULT_VALUE"),
        "{message}"
    );

    let check = |v: &'static str, verbose: bool, schema: String| {
        let r = &r;
        async move {
            let path = format!(
                "/compatibility/subjects/s/versions{v}{}",
                if verbose { "?verbose=true" } else { "" }
            );
            r.call(POST, &path, Some(json!({"schema": schema}))).await
        }
    };
    assert_eq!(
        check("/latest", false, user_v2()).await,
        (StatusCode::OK, json!({"is_compatible": true}))
    );
    assert_eq!(
        check("/latest", false, user_bad()).await.1,
        json!({"is_compatible": false})
    );
    let (_, verbose) = check("/1", true, user_bad()).await;
    assert_eq!(verbose["is_compatible"], json!(false));
    let messages = verbose["messages"].as_array().unwrap();
    assert!(
        messages.iter().any(|m| m
            .as_str()
            .unwrap()
            .contains("READER_FIELD_MISSING_DEFAULT_VALUE")),
        "{verbose}"
    );
    assert_eq!(
        check("", false, user_bad()).await.1,
        json!({"is_compatible": false})
    );
    assert_error(check("/7", false, user_v2()).await, 404, 40402);
    // A subject with no versions is compatible with anything.
    let (_, fresh) = r
        .call(
            POST,
            "/compatibility/subjects/fresh/versions/latest",
            Some(json!({"schema": user_v1()})),
        )
        .await;
    assert_eq!(fresh, json!({"is_compatible": true}));
    // An invalid schema: 42201, or its reason in the messages when verbose.
    assert_error(check("/latest", false, "{".into()).await, 422, 42201);
    let (status, invalid) = check("/latest", true, "{".into()).await;
    assert_eq!(
        (status, invalid["is_compatible"].clone()),
        (StatusCode::OK, json!(false))
    );

    // NONE lets anything in; FORWARD checks the other direction.
    assert_eq!(
        r.call(PUT, "/config/s", Some(json!({"compatibility": "none"})))
            .await
            .1,
        json!({"compatibility": "NONE"})
    );
    assert_eq!(register(&r, "s", &user_bad()).await.0, StatusCode::OK);
    r.call(PUT, "/config/s", Some(json!({"compatibility": "FORWARD"})))
        .await;
    // Dropping `name`, which has no default: readers of the latest version
    // can't read data without it.
    let only_email = record_schema("User", &[("email", json!("string"))]);
    assert_error(register(&r, "s", &only_email).await, 409, 40901);
}

#[tokio::test]
async fn transitive_levels_check_every_version() {
    let r = TestRegistry::start().await.unwrap();
    r.call(PUT, "/config/t", Some(json!({"compatibility": "NONE"})))
        .await;
    let int_field = record_schema("R", &[("f", json!("int"))]);
    let string_field = record_schema("R", &[("f", json!("string"))]);
    let long_field = record_schema("R", &[("f", json!("long"))]);
    register(&r, "t", &string_field).await;
    register(&r, "t", &int_field).await;
    // long reads int (promotion) but not string.
    r.call(PUT, "/config/t", Some(json!({"compatibility": "BACKWARD"})))
        .await;
    assert_eq!(register(&r, "t", &long_field).await.0, StatusCode::OK);
    r.call(
        PUT,
        "/config/t",
        Some(json!({"compatibility": "BACKWARD_TRANSITIVE"})),
    )
    .await;
    let double_field = record_schema("R", &[("f", json!("double"))]);
    assert_error(register(&r, "t", &double_field).await, 409, 40901);
}

#[tokio::test]
async fn config_contract() {
    let r = TestRegistry::start().await.unwrap();
    assert_eq!(
        r.call(GET, "/config", None).await,
        (StatusCode::OK, json!({"compatibilityLevel": "BACKWARD"}))
    );
    assert_eq!(
        r.call(GET, "/config/s", None).await.1,
        json!({"error_code": 40408, "message": "Subject 's' does not have subject-level compatibility configured"})
    );
    assert_eq!(
        r.call(GET, "/config/s?defaultToGlobal=true", None).await.1,
        json!({"compatibilityLevel": "BACKWARD"})
    );
    assert_eq!(
        r.call(PUT, "/config/s", Some(json!({"compatibility": "full"})))
            .await,
        (StatusCode::OK, json!({"compatibility": "FULL"}))
    );
    // A partial update answers the config as merged.
    assert_eq!(
        r.call(PUT, "/config/s", Some(json!({"normalize": true})))
            .await,
        (
            StatusCode::OK,
            json!({"compatibility": "FULL", "normalize": true})
        )
    );
    assert_eq!(
        r.call(GET, "/config/s", None).await.1,
        json!({"compatibilityLevel": "FULL", "normalize": true})
    );
    assert_error(
        r.call(PUT, "/config/s", Some(json!({"compatibility": "SIDEWAYS"})))
            .await,
        422,
        42203,
    );
    assert_eq!(
        r.call(PUT, "/config", Some(json!({"compatibility": "NONE"})))
            .await
            .1,
        json!({"compatibility": "NONE"})
    );
    assert_eq!(
        r.call(GET, "/config/other?defaultToGlobal=true", None)
            .await
            .1,
        json!({"compatibilityLevel": "NONE"})
    );
    assert_eq!(
        r.call(DELETE, "/config/s", None).await,
        (
            StatusCode::OK,
            json!({"compatibilityLevel": "FULL", "normalize": true})
        )
    );
    assert_error(r.call(DELETE, "/config/s", None).await, 404, 40401);
    assert_eq!(
        r.call(DELETE, "/config", None).await.1,
        json!({"compatibilityLevel": "NONE"})
    );
    assert_eq!(
        r.call(GET, "/config", None).await.1,
        json!({"compatibilityLevel": "BACKWARD"})
    );
}

#[tokio::test]
async fn modes() {
    let r = TestRegistry::start().await.unwrap();
    assert_eq!(
        r.call(GET, "/mode", None).await,
        (StatusCode::OK, json!({"mode": "READWRITE"}))
    );
    assert_error(r.call(GET, "/mode/s", None).await, 404, 40409);
    assert_eq!(
        r.call(GET, "/mode/s?defaultToGlobal=true", None).await.1,
        json!({"mode": "READWRITE"})
    );
    assert_error(
        r.call(PUT, "/mode/s", Some(json!({"mode": "SIDEWAYS"})))
            .await,
        422,
        42204,
    );

    register(&r, "s", &user_v1()).await;
    assert_eq!(
        r.call(PUT, "/mode/s", Some(json!({"mode": "READONLY"})))
            .await
            .1,
        json!({"mode": "READONLY"})
    );
    assert_error(register(&r, "s", &user_v2()).await, 422, 42205);
    // Re-registering what is there is still answered.
    assert_eq!(register(&r, "s", &user_v1()).await.1["id"], json!(1));
    assert_error(
        r.call(DELETE, "/subjects/s/versions/1", None).await,
        422,
        42205,
    );
    assert_eq!(
        r.call(DELETE, "/mode/s", None).await.1,
        json!({"mode": "READONLY"})
    );
    assert_eq!(register(&r, "s", &user_v2()).await.0, StatusCode::OK);

    // IMPORT needs an empty registry, or force.
    assert_error(
        r.call(PUT, "/mode", Some(json!({"mode": "IMPORT"}))).await,
        422,
        42205,
    );
    assert_eq!(
        r.call(PUT, "/mode?force=true", Some(json!({"mode": "IMPORT"})))
            .await
            .1,
        json!({"mode": "IMPORT"})
    );
    let imported = r
        .call(
            POST,
            "/subjects/imported/versions",
            Some(json!({"schema": user_bad(), "id": 100, "version": 7})),
        )
        .await;
    assert_eq!(imported.0, StatusCode::OK, "{}", imported.1);
    assert_eq!(imported.1["id"], json!(100));
    assert_eq!(
        r.call(GET, "/subjects/imported/versions", None).await.1,
        json!([7])
    );
    // An id already bound to other content is refused.
    let clash = r
        .call(
            POST,
            "/subjects/imported2/versions",
            Some(json!({"schema": user_v1(), "id": 100})),
        )
        .await;
    assert_error(clash, 422, 42205);
    // Outside IMPORT an id is refused, and new ids continue above the import.
    r.call(PUT, "/mode", Some(json!({"mode": "READWRITE"})))
        .await;
    let with_id = r
        .call(
            POST,
            "/subjects/x/versions",
            Some(json!({"schema": user_v1(), "id": 5})),
        )
        .await;
    assert_error(with_id, 422, 42205);
    let other = record_schema("Other", &[("a", json!("int"))]);
    assert_eq!(register(&r, "x", &other).await.1["id"], json!(101));
}

#[tokio::test]
async fn deletes_soft_then_hard() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "s", &user_v1()).await;
    register(&r, "s", &user_v2()).await;
    assert_error(
        r.call(DELETE, "/subjects/s/versions/1?permanent=true", None)
            .await,
        404,
        40407,
    );
    assert_eq!(
        r.call(DELETE, "/subjects/s/versions/1", None).await,
        (StatusCode::OK, json!(1))
    );
    assert_error(
        r.call(DELETE, "/subjects/s/versions/1", None).await,
        404,
        40406,
    );
    assert_error(
        r.call(GET, "/subjects/s/versions/1", None).await,
        404,
        40402,
    );
    assert_eq!(
        r.call(GET, "/subjects/s/versions/1?deleted=true", None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        r.call(GET, "/subjects/s/versions", None).await.1,
        json!([2])
    );
    assert_eq!(
        r.call(GET, "/subjects/s/versions?deleted=true", None)
            .await
            .1,
        json!([1, 2])
    );
    assert_eq!(
        r.call(GET, "/subjects/s/versions?deletedOnly=true", None)
            .await
            .1,
        json!([1])
    );
    // The id still resolves after a soft delete.
    assert_eq!(r.call(GET, "/schemas/ids/1", None).await.0, StatusCode::OK);

    assert_error(
        r.call(DELETE, "/subjects/s?permanent=true", None).await,
        404,
        40405,
    );
    assert_eq!(r.call(DELETE, "/subjects/s", None).await.1, json!([2]));
    assert_error(r.call(DELETE, "/subjects/s", None).await, 404, 40404);
    assert_error(r.call(GET, "/subjects/s/versions", None).await, 404, 40401);
    assert_error(
        r.call(GET, "/subjects/s/versions/latest", None).await,
        404,
        40401,
    );
    assert_eq!(r.call(GET, "/subjects", None).await.1, json!([]));
    assert_eq!(
        r.call(GET, "/subjects?deleted=true", None).await.1,
        json!(["s"])
    );
    assert_eq!(
        r.call(GET, "/subjects?deletedOnly=true", None).await.1,
        json!(["s"])
    );

    // Versions are not reused while any trace remains.
    assert_eq!(register(&r, "s", &user_v1()).await.1["version"], json!(3));
    assert_eq!(r.call(DELETE, "/subjects/s", None).await.1, json!([3]));
    assert_eq!(
        r.call(DELETE, "/subjects/s?permanent=true", None).await.1,
        json!([2, 3])
    );
    assert_error(r.call(GET, "/schemas/ids/2", None).await, 404, 40403);
    assert_error(r.call(DELETE, "/subjects/s", None).await, 404, 40401);
    // Ids are never reused, even for the same text after a hard delete.
    let (_, again) = register(&r, "s", &user_v2()).await;
    assert_eq!(
        (again["id"].clone(), again["version"].clone()),
        (json!(3), json!(1))
    );
}

#[tokio::test]
async fn references_between_subjects() {
    let r = TestRegistry::start().await.unwrap();
    let address = json!({"type": "record", "name": "Address", "namespace": "acme", "fields": [{"name": "street", "type": "string"}]});
    register(&r, "address", &address.to_string()).await;
    let person = json!({"type": "record", "name": "Person", "namespace": "acme", "fields": [{"name": "home", "type": "acme.Address"}]});
    let body = json!({"schema": person.to_string(), "references": [{"name": "acme.Address", "subject": "address", "version": 1}]});
    let (status, registered) = r
        .call(POST, "/subjects/person/versions", Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{registered}");
    let person_id = registered["id"].clone();
    assert_eq!(
        r.call(GET, "/subjects/address/versions/1/referencedby", None)
            .await
            .1,
        json!([person_id])
    );
    let (_, fetched) = r
        .call(GET, &format!("/schemas/ids/{person_id}"), None)
        .await;
    assert_eq!(
        fetched["references"],
        json!([{"name": "acme.Address", "subject": "address", "version": 1}])
    );

    // `format=resolved` writes the referenced type in full.
    let (_, resolved) = r
        .call(
            GET,
            &format!("/schemas/ids/{person_id}?format=resolved"),
            None,
        )
        .await;
    let resolved: Value = serde_json::from_str(resolved["schema"].as_str().unwrap()).unwrap();
    assert_eq!(
        resolved["fields"][0]["type"]["fields"][0]["name"],
        json!("street")
    );
    let (_, version) = r
        .call(GET, "/subjects/person/versions/1?format=resolved", None)
        .await;
    assert!(version["schema"].as_str().unwrap().contains("street"));
    let (_, plain) = r.call(GET, "/subjects/person/versions/1", None).await;
    assert!(!plain["schema"].as_str().unwrap().contains("street"));

    // Without the reference, the type is unknown.
    let unresolved = r
        .call(
            POST,
            "/subjects/person2/versions",
            Some(json!({"schema": person.to_string()})),
        )
        .await;
    assert_error(unresolved, 422, 42201);
    // A referenced version can't be deleted.
    assert_error(
        r.call(DELETE, "/subjects/address/versions/1", None).await,
        422,
        42206,
    );
    assert_error(r.call(DELETE, "/subjects/address", None).await, 422, 42206);
    let missing = json!({"schema": person.to_string(), "references": [{"name": "acme.Address", "subject": "nowhere", "version": 1}]});
    assert_error(
        r.call(POST, "/subjects/person3/versions", Some(missing))
            .await,
        422,
        42201,
    );
}

#[tokio::test]
async fn state_survives_restart() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "a", &user_v1()).await;
    register(&r, "a", &user_v2()).await;
    r.call(PUT, "/config/a", Some(json!({"compatibility": "full"})))
        .await;
    r.call(PUT, "/mode/b", Some(json!({"mode": "READONLY"})))
        .await;
    r.call(DELETE, "/subjects/a/versions/1", None).await;
    let dir = r.stop().await.unwrap();

    let r = TestRegistry::start_in(dir).await.unwrap();
    assert_eq!(
        r.call(GET, "/subjects/a/versions", None).await.1,
        json!([2])
    );
    assert_eq!(
        r.call(GET, "/subjects/a/versions?deleted=true", None)
            .await
            .1,
        json!([1, 2])
    );
    assert_eq!(
        r.call(GET, "/config/a", None).await.1,
        json!({"compatibilityLevel": "FULL"})
    );
    assert_eq!(
        r.call(GET, "/mode/b", None).await.1,
        json!({"mode": "READONLY"})
    );
    let other = record_schema("Other", &[("a", json!("int"))]);
    assert_eq!(register(&r, "c", &other).await.1["id"], json!(3));
}

#[tokio::test]
async fn subjects_in_paths_are_percent_decoded() {
    let r = TestRegistry::start().await.unwrap();
    let (status, _) = register(&r, "team%2Forders%20v%C3%BC", &user_v1()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        r.call(GET, "/subjects", None).await.1,
        json!(["team/orders vü"])
    );
    assert_eq!(
        r.call(GET, "/subjects/team%2Forders%20v%C3%BC/versions", None)
            .await
            .1,
        json!([1])
    );
}

#[tokio::test]
async fn negotiation_and_bad_bodies() {
    let r = TestRegistry::start().await.unwrap();
    let body = Some(json!({"schema": user_v1()}).to_string());
    let (status, content_type, _) = r.raw(GET, "/subjects", &[], None).await;
    assert_eq!(
        (status, content_type.as_deref()),
        (
            StatusCode::OK,
            Some("application/vnd.schemaregistry.v1+json")
        )
    );
    let (status, _, bytes) = r
        .raw(
            POST,
            "/subjects/s/versions",
            &[("content-type", "text/plain")],
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        serde_json::from_slice::<Value>(&bytes).unwrap()["error_code"],
        json!(415)
    );
    let (status, ..) = r
        .raw(GET, "/subjects", &[("accept", "text/html")], None)
        .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    let (status, content_type, _) = r
        .raw(GET, "/subjects", &[("accept", "application/json")], None)
        .await;
    assert_eq!(
        (status, content_type.as_deref()),
        (StatusCode::OK, Some("application/json"))
    );
    for accepted in [
        "application/octet-stream",
        "application/json",
        "application/vnd.schemaregistry+json",
    ] {
        let (status, ..) = r
            .raw(
                POST,
                "/subjects/s/versions",
                &[("content-type", accepted)],
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
    }
    let (status, _, bytes) = r
        .raw(
            POST,
            "/subjects/s/versions",
            &[],
            Some("{\"schema\":".into()),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let (status, ..) = r
        .raw(
            POST,
            "/subjects/s/versions",
            &[],
            Some("{\"schema\": 12}".into()),
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    let huge = format!("{{\"schema\":\"{}\"}}", "x".repeat(40 << 20));
    let (status, ..) = r.raw(POST, "/subjects/s/versions", &[], Some(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, ..) = r.raw(GET, "/no/such/route", &[], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_remaining_routes_and_parameters() {
    let r = TestRegistry::start().await.unwrap();
    assert_eq!(
        r.call(POST, "/", Some(json!({}))).await,
        (StatusCode::OK, json!({}))
    );

    // metadata and ruleSet are kept and returned as given.
    let metadata = json!({"properties": {"owner": "team-a"}});
    let rule_set = json!({"domainRules": [{"name": "r", "kind": "CONDITION", "type": "CEL", "mode": "WRITE"}]});
    let body = json!({"schema": user_v1(), "metadata": metadata, "ruleSet": rule_set});
    let (status, registered) = r.call(POST, "/subjects/m/versions", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{registered}");
    assert_eq!(
        (
            registered["metadata"].clone(),
            registered["ruleSet"].clone()
        ),
        (metadata.clone(), rule_set.clone())
    );
    let (_, version) = r.call(GET, "/subjects/m/versions/1", None).await;
    assert_eq!(
        (version["metadata"].clone(), version["ruleSet"].clone()),
        (metadata, rule_set)
    );
    // Other metadata makes another schema, with its own id.
    let other = json!({"schema": user_v1(), "metadata": {"properties": {"owner": "team-b"}}});
    assert_eq!(
        r.call(POST, "/subjects/m/versions", Some(other)).await.1["id"],
        json!(2)
    );

    // The raw schema text by id, and the subject's version when asked.
    let (status, _, raw) = r.raw(GET, "/schemas/ids/1/schema", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(String::from_utf8(raw).unwrap(), user_v1());
    let (_, with_subject) = r.call(GET, "/schemas/ids/1?subject=m", None).await;
    assert_eq!(
        (
            with_subject["subject"].clone(),
            with_subject["version"].clone()
        ),
        (json!("m"), json!(1))
    );
    assert_error(
        r.call(GET, "/schemas/ids/77/schema", None).await,
        404,
        40403,
    );
    assert_error(
        r.call(GET, "/schemas/ids/77/subjects", None).await,
        404,
        40403,
    );
    assert_error(
        r.call(GET, "/schemas/ids/77/versions", None).await,
        404,
        40403,
    );

    // Soft-deleted uses of an id show only with deleted=true.
    register(&r, "n", &user_v2()).await;
    register(&r, "o", &user_v2()).await;
    r.call(DELETE, "/subjects/n/versions/1", None).await;
    assert_eq!(
        r.call(GET, "/schemas/ids/3/subjects", None).await.1,
        json!(["o"])
    );
    assert_eq!(
        r.call(GET, "/schemas/ids/3/subjects?deleted=true", None)
            .await
            .1,
        json!(["n", "o"])
    );
    assert_eq!(
        r.call(GET, "/schemas/ids/3/versions", None).await.1,
        json!([{"subject": "o", "version": 1}])
    );
    assert_eq!(
        r.call(GET, "/schemas?deleted=true&subjectPrefix=n", None)
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        r.call(GET, "/schemas?subjectPrefix=n", None).await.1,
        json!([])
    );

    // Lookup of a soft-deleted version: 40401 (every version is gone) unless
    // deleted=true.
    assert_error(
        r.call(POST, "/subjects/n", Some(json!({"schema": user_v2()})))
            .await,
        404,
        40401,
    );
    let (status, found) = r
        .call(
            POST,
            "/subjects/n?deleted=true",
            Some(json!({"schema": user_v2()})),
        )
        .await;
    assert_eq!(
        (status, found["version"].clone()),
        (StatusCode::OK, json!(1))
    );

    // Paging.
    let plain_id = register(&r, "p1", &user_v1()).await.1["id"].clone();
    for s in ["p2", "p3"] {
        register(&r, s, &user_v1()).await;
    }
    assert_eq!(
        r.call(GET, "/subjects?subjectPrefix=p&offset=1&limit=1", None)
            .await
            .1,
        json!(["p2"])
    );
    assert_eq!(
        r.call(GET, "/subjects?subjectPrefix=p&limit=0", None)
            .await
            .1,
        json!(["p1", "p2", "p3"])
    );
    assert_eq!(
        r.call(GET, "/schemas?subjectPrefix=p&offset=2", None)
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // normalize=true stores the normalized text, so reordered JSON maps to
    // the same schema.
    let spaced = "{ \"type\" : \"record\", \"name\" : \"User\", \"fields\" : [ { \"type\" : \"string\", \"name\" : \"name\" } ] }";
    let (_, normalized) = r
        .call(
            POST,
            "/subjects/q/versions?normalize=true",
            Some(json!({"schema": spaced})),
        )
        .await;
    assert_eq!(normalized["id"], plain_id, "{normalized}");
    // The subject's config can ask for it too.
    r.call(PUT, "/config/q2", Some(json!({"normalize": true})))
        .await;
    assert_eq!(
        r.call(GET, "/config/q2", None).await.1["normalize"],
        json!(true)
    );
    let (_, by_config) = r
        .call(
            POST,
            "/subjects/q2/versions",
            Some(json!({"schema": spaced})),
        )
        .await;
    assert_eq!(by_config["id"], plain_id, "{by_config}");

    // referencedby of something missing.
    assert_error(
        r.call(GET, "/subjects/nobody/versions/1/referencedby", None)
            .await,
        404,
        40401,
    );
    assert_error(
        r.call(GET, "/subjects/o/versions/5/referencedby", None)
            .await,
        404,
        40402,
    );
    assert_eq!(
        r.call(GET, "/subjects/o/versions/1/referencedby", None)
            .await
            .1,
        json!([])
    );
}

#[tokio::test]
async fn latest_with_metadata_finds_the_newest_version_holding_every_property() {
    let r = TestRegistry::start().await.unwrap();
    r.call(PUT, "/config/s", Some(json!({"compatibility": "NONE"})))
        .await;
    for (schema, owner, tier) in [
        ("\"string\"", "a", "gold"),
        ("\"int\"", "b", "gold"),
        ("\"long\"", "a", "silver"),
    ] {
        let body =
            json!({"schema": schema, "metadata": {"properties": {"owner": owner, "tier": tier}}});
        let (status, _) = r.call(POST, "/subjects/s/versions", Some(body)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let version_of = |body: Value| body["version"].as_i64();
    let (_, found) = r
        .call(GET, "/subjects/s/metadata?key=owner&value=a", None)
        .await;
    assert_eq!(version_of(found), Some(3));
    let (_, found) = r
        .call(
            GET,
            "/subjects/s/metadata?key=owner&value=a&key=tier&value=gold",
            None,
        )
        .await;
    assert_eq!(version_of(found.clone()), Some(1));
    assert_eq!(found["metadata"]["properties"]["tier"], json!("gold"));
    let (_, found) = r
        .call(GET, "/subjects/s/metadata?key=tier&value=gold", None)
        .await;
    assert_eq!(version_of(found), Some(2));

    // A soft-deleted match counts only with deleted=true.
    r.call(DELETE, "/subjects/s/versions/3", None).await;
    let (_, found) = r
        .call(GET, "/subjects/s/metadata?key=owner&value=a", None)
        .await;
    assert_eq!(version_of(found), Some(1));
    let (_, found) = r
        .call(
            GET,
            "/subjects/s/metadata?key=owner&value=a&deleted=true",
            None,
        )
        .await;
    assert_eq!(version_of(found), Some(3));

    let none = r
        .call(GET, "/subjects/s/metadata?key=owner&value=z", None)
        .await;
    assert_error(none.clone(), 404, 40403);
    assert_eq!(none.1["message"], json!("Schema not found"));
    assert_error(
        r.call(GET, "/subjects/nobody/metadata?key=owner&value=a", None)
            .await,
        404,
        40401,
    );
}

#[tokio::test]
async fn schemas_are_found_by_guid() {
    let r = TestRegistry::start().await.unwrap();
    let (_, a) = register(&r, "a", "\"string\"").await;
    // MD5 of the stored text, as Confluent computes it.
    assert_eq!(a["guid"], json!("095d71cf-1255-6b9d-5e33-0ad575b3df5d"));
    let (_, b) = register(&r, "b", &user_v1()).await;
    let guid = b["guid"].as_str().unwrap().to_owned();
    assert_ne!(guid, a["guid"].as_str().unwrap());

    let (status, by_guid) = r.call(GET, &format!("/schemas/guids/{guid}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_guid["schema"], b["schema"]);
    assert_eq!(by_guid["guid"], json!(guid));
    let (_, by_id) = r
        .call(GET, &format!("/schemas/ids/{}", b["id"]), None)
        .await;
    assert_eq!(by_id["guid"], json!(guid));
    let (_, version) = r.call(GET, "/subjects/b/versions/1", None).await;
    assert_eq!(version["guid"], json!(guid));
    let (_, ids) = r
        .call(GET, &format!("/schemas/guids/{guid}/ids"), None)
        .await;
    assert_eq!(ids, json!([{"context": ".", "id": b["id"]}]));
    // The same content under another subject keeps its id and guid.
    let (_, again) = register(&r, "c", &user_v1()).await;
    assert_eq!(
        (again["id"].clone(), again["guid"].clone()),
        (b["id"].clone(), json!(guid))
    );

    let unknown = "00000000-0000-0000-0000-000000000000";
    let missing = r
        .call(GET, &format!("/schemas/guids/{unknown}"), None)
        .await;
    assert_error(missing.clone(), 404, 40403);
    assert_eq!(
        missing.1["message"],
        json!(format!("Schema {unknown} not found"))
    );
    assert_error(
        r.call(GET, "/schemas/guids/not-a-guid/ids", None).await,
        404,
        40403,
    );
}

#[tokio::test]
async fn data_contract_fields_are_typed_as_confluents_entities_type_them() {
    let r = TestRegistry::start().await.unwrap();
    // Jackson's coercions: scalars become text, "true" a boolean; unknown
    // fields are dropped and the answer echoes the update as taken.
    let update = json!({"mystery": 1, "defaultMetadata": {"properties": {"n": 1}},
                        "compatibility": "NONE", "validateRules": "true", "alias": 7});
    let (status, echoed) = r.call(PUT, "/config/s", Some(update)).await;
    assert_eq!(status, StatusCode::OK, "{echoed}");
    assert_eq!(
        echoed.to_string(),
        r#"{"alias":"7","validateRules":true,"compatibility":"NONE","defaultMetadata":{"properties":{"n":"1"}}}"#
    );
    let (_, config) = r.call(GET, "/config/s", None).await;
    assert_eq!(
        config.to_string(),
        r#"{"alias":"7","validateRules":true,"compatibilityLevel":"NONE","defaultMetadata":{"properties":{"n":"1"}}}"#
    );

    let bad = json!({"overrideRuleSet": {"domainRules": {"r": 1}}});
    assert_eq!(
        r.call(PUT, "/config/s", Some(bad)).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error_code": 400, "message": "Cannot deserialize value of type `java.util.List` from Object value (through reference chain: ConfigUpdateRequest[\"overrideRuleSet\"]->RuleSet[\"domainRules\"])"})
        )
    );
    let bad = json!({"schema": user_v1(), "metadata": {"properties": {"a": [1]}}});
    assert_eq!(
        r.call(POST, "/subjects/s/versions", Some(bad)).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error_code": 400, "message": "Cannot deserialize value of type `java.lang.String` from Array value (through reference chain: RegisterSchemaRequest[\"metadata\"]->Metadata[\"properties\"]->java.util.LinkedHashMap[\"a\"])"})
        )
    );
    // Mistyped metadata is refused before the schema is looked at.
    let bad = json!({"schema": "not a schema", "ruleSet": {"domainRules": [{"kind": "LOUD"}]}});
    let (status, body) = r.call(POST, "/subjects/s/versions", Some(bad)).await;
    assert_eq!(
        (status, body["error_code"].clone()),
        (StatusCode::BAD_REQUEST, json!(400))
    );
}

/// Behaviours checked branch by branch against Confluent's registry.
#[tokio::test]
async fn fidelity_with_confluents_branches() {
    let r = TestRegistry::start().await.unwrap();

    // A numbered version on a subject with no versions: 40402, not 40401.
    let check = r
        .call(
            POST,
            "/compatibility/subjects/empty/versions/3",
            Some(json!({"schema": user_v1()})),
        )
        .await;
    assert_eq!(
        check,
        (
            StatusCode::NOT_FOUND,
            json!({"error_code": 40402, "message": "Version 3 not found."})
        )
    );

    // AVRO defaults are checked for new schemas, on both endpoints.
    let bad_default = json!({"type": "record", "name": "D", "fields": [
        {"name": "s", "type": "string", "default": null}
    ]})
    .to_string();
    let (status, refused) = register(&r, "defaults", &bad_default).await;
    assert_eq!(status.as_u16(), 422, "{refused}");
    assert_eq!(refused["error_code"], json!(42201));
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains(r#"Invalid default for field s: null not a "string""#),
        "{message}"
    );
    assert_error(
        r.call(
            POST,
            "/compatibility/subjects/defaults/versions/latest",
            Some(json!({"schema": bad_default})),
        )
        .await,
        422,
        42201,
    );
    // An import takes it as it is, and a lookup finds it.
    r.call(PUT, "/mode/imported", Some(json!({"mode": "IMPORT"})))
        .await;
    let (status, imported) = r
        .call(
            POST,
            "/subjects/imported/versions",
            Some(json!({"schema": bad_default, "id": 500, "version": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    let (status, found) = r
        .call(
            POST,
            "/subjects/imported",
            Some(json!({"schema": bad_default})),
        )
        .await;
    assert_eq!((status, found["id"].clone()), (StatusCode::OK, json!(500)));

    // No schema: "Empty schema" with nothing live, else the latest again.
    let empty = r
        .call(
            POST,
            "/subjects/fresh/versions",
            Some(json!({"schema": ""})),
        )
        .await;
    assert_eq!(
        empty,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error_code": 42201, "message": "Empty schema"})
        )
    );
    let (_, v1) = register(&r, "fresh", &user_v1()).await;
    let (status, again) = r
        .call(POST, "/subjects/fresh/versions", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], v1["id"]);
    assert_eq!(again["version"], json!(1));

    // The id's subjects and versions name no id in their 40403.
    for path in ["/schemas/ids/999/subjects", "/schemas/ids/999/versions"] {
        assert_eq!(
            r.call(GET, path, None).await,
            (
                StatusCode::NOT_FOUND,
                json!({"error_code": 40403, "message": "Schema not found"})
            ),
            "{path}"
        );
    }
    assert_eq!(
        r.call(GET, "/schemas/ids/999", None).await.1["message"],
        json!("Schema 999 not found")
    );

    // `Accept: *` and `*/anything` are `*/*` to Jersey.
    for accept in ["*", "*/anything"] {
        let (status, content_type, _) = r.raw(GET, "/subjects", &[("accept", accept)], None).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert_eq!(
            content_type.as_deref(),
            Some("application/vnd.schemaregistry.v1+json")
        );
    }
}

/// Soft-deleted referrers stop only a permanent delete.
#[tokio::test]
async fn only_live_referrers_stop_a_soft_delete() {
    let r = TestRegistry::start().await.unwrap();
    let address = json!({"type": "record", "name": "Address", "fields": [{"name": "street", "type": "string"}]});
    register(&r, "address", &address.to_string()).await;
    let person = json!({"type": "record", "name": "Person", "fields": [{"name": "home", "type": "Address"}]});
    let body = json!({"schema": person.to_string(), "references": [{"name": "Address", "subject": "address", "version": 1}]});
    let (status, _) = r.call(POST, "/subjects/person/versions", Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    // A live referrer stops even the soft delete.
    assert_error(
        r.call(DELETE, "/subjects/address/versions/1", None).await,
        422,
        42206,
    );
    assert_error(r.call(DELETE, "/subjects/address", None).await, 422, 42206);
    // Soft-deleted, it no longer does.
    assert_eq!(
        r.call(DELETE, "/subjects/person", None).await,
        (StatusCode::OK, json!([1]))
    );
    assert_eq!(
        r.call(DELETE, "/subjects/address/versions/1", None).await,
        (StatusCode::OK, json!(1))
    );
    // But it still stops the permanent one.
    assert_error(
        r.call(DELETE, "/subjects/address/versions/1?permanent=true", None)
            .await,
        422,
        42206,
    );
    assert_error(
        r.call(DELETE, "/subjects/address?permanent=true", None)
            .await,
        422,
        42206,
    );
    // Once the referrer is gone for good, so is the block.
    r.call(DELETE, "/subjects/person?permanent=true", None)
        .await;
    assert_eq!(
        r.call(DELETE, "/subjects/address?permanent=true", None)
            .await,
        (StatusCode::OK, json!([1]))
    );
}

/// Confluent's compatibility messages: the first failing version only, the
/// old version and text after the backward problems, one closing line.
#[tokio::test]
async fn compatibility_messages_are_confluents() {
    let r = TestRegistry::start().await.unwrap();
    let a = |fields: &[(&str, Value)]| record_schema("R", fields);
    register(&r, "t", &a(&[("a", json!("string"))])).await;
    let v2 = json!({"type": "record", "name": "R", "fields": [
        {"name": "a", "type": "string"},
        {"name": "b", "type": "string", "default": ""}
    ]});
    assert_eq!(register(&r, "t", &v2.to_string()).await.0, StatusCode::OK);
    r.call(
        PUT,
        "/config/t",
        Some(json!({"compatibility": "BACKWARD_TRANSITIVE"})),
    )
    .await;
    // Fails against both versions: only the newest is reported.
    let (_, verdict) = r
        .call(
            POST,
            "/compatibility/subjects/t/versions?verbose=true",
            Some(json!({"schema": a(&[("c", json!("string"))])})),
        )
        .await;
    let messages: Vec<&str> = verdict["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.starts_with("{oldSchemaVersion"))
            .count(),
        1,
        "{messages:?}"
    );
    assert!(messages.contains(&"{oldSchemaVersion: 2}"), "{messages:?}");
    assert_eq!(
        messages.last(),
        Some(&"{validateFields: 'false', compatibility: 'BACKWARD_TRANSITIVE'}")
    );

    // FULL: a forward problem alone carries no old version or text.
    r.call(PUT, "/config/t", Some(json!({"compatibility": "FULL"})))
        .await;
    let (_, verdict) = r
        .call(
            POST,
            "/compatibility/subjects/t/versions/latest?verbose=true",
            Some(
                json!({"schema": json!({"type": "record", "name": "R", "fields": [
                {"name": "b", "type": "string", "default": ""}
            ]}).to_string()}),
            ),
        )
        .await;
    let messages = verdict["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(
        messages[1],
        json!("{validateFields: 'false', compatibility: 'FULL'}")
    );
    // Another schema type: one message.
    let (_, verdict) = r
        .call(
            POST,
            "/compatibility/subjects/t/versions/latest?verbose=true",
            Some(json!({"schemaType": "JSON", "schema": "{\"type\":\"object\"}"})),
        )
        .await;
    assert_eq!(
        verdict["messages"],
        json!([
            "Incompatible because of different schema type",
            "{validateFields: 'false', compatibility: 'FULL'}"
        ])
    );
}

/// Modes and `latest` as Confluent's registry resolves them.
#[tokio::test]
async fn modes_and_latest_as_confluent_resolves_them() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "s", &user_v1()).await;
    register(&r, "s", &user_v2()).await;

    // A global READONLY_OVERRIDE wins over a subject's own mode.
    r.call(PUT, "/mode/s", Some(json!({"mode": "READWRITE"})))
        .await;
    r.call(PUT, "/mode", Some(json!({"mode": "READONLY_OVERRIDE"})))
        .await;
    assert_eq!(
        r.call(GET, "/mode/s", None).await.1,
        json!({"mode": "READONLY_OVERRIDE"})
    );
    let refused = register(&r, "s", &user_bad()).await;
    assert_eq!(
        refused,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error_code": 42205, "message": "Subject s in context  is in read-only mode"})
        )
    );
    // Config changes are refused in read-only mode too.
    assert_error(
        r.call(PUT, "/config/s", Some(json!({"compatibility": "NONE"})))
            .await,
        422,
        42205,
    );
    assert_error(
        r.call(PUT, "/config", Some(json!({"compatibility": "NONE"})))
            .await,
        422,
        42205,
    );
    r.call(PUT, "/mode", Some(json!({"mode": "READWRITE"})))
        .await;

    // `latest` is the newest live version, even with deleted=true.
    r.call(DELETE, "/subjects/s/versions/2", None).await;
    assert_eq!(
        r.call(GET, "/subjects/s/versions/latest?deleted=true", None)
            .await
            .1["version"],
        json!(1)
    );
    // A permanent delete of `latest` aims at the live version: 40407.
    assert_error(
        r.call(DELETE, "/subjects/s/versions/latest?permanent=true", None)
            .await,
        404,
        40407,
    );
    r.call(DELETE, "/subjects/s/versions/1", None).await;
    assert_eq!(
        r.call(GET, "/subjects/s/versions/latest?deleted=true", None)
            .await,
        (
            StatusCode::NOT_FOUND,
            json!({"error_code": 40402, "message": "Version -1 not found."})
        )
    );
    assert_error(
        r.call(GET, "/subjects/s/versions/latest", None).await,
        404,
        40401,
    );
    // The last version gone for good takes the subject's mode with it.
    r.call(DELETE, "/subjects/s/versions/2?permanent=true", None)
        .await;
    r.call(DELETE, "/subjects/s/versions/1?permanent=true", None)
        .await;
    assert_error(r.call(GET, "/mode/s", None).await, 404, 40409);

    // IMPORT: version 0 means the next one; already importing, no check.
    r.call(PUT, "/mode", Some(json!({"mode": "IMPORT"}))).await;
    let (status, imported) = r
        .call(
            POST,
            "/subjects/i/versions",
            Some(json!({"schema": user_v1(), "id": 300, "version": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(
        r.call(GET, "/subjects/i/versions", None).await.1,
        json!([1])
    );
    assert_eq!(
        r.call(PUT, "/mode/i", Some(json!({"mode": "IMPORT"})))
            .await,
        (StatusCode::OK, json!({"mode": "IMPORT"}))
    );
    r.call(PUT, "/mode", Some(json!({"mode": "READWRITE"})))
        .await;

    // An id's uses are all listed, whatever subject is named.
    assert_eq!(
        r.call(GET, "/schemas/ids/300/versions?subject=other", None)
            .await
            .1,
        json!([{"subject": "i", "version": 1}])
    );
    let (_, by_id) = r.call(GET, "/schemas/ids/300?subject=other", None).await;
    assert_eq!(
        (&by_id["subject"], &by_id["version"]),
        (&json!("i"), &json!(1))
    );

    // A lookup reads the schema before the subject; no schema finds nothing.
    assert_error(
        r.call(POST, "/subjects/nowhere", Some(json!({"schema": "{"})))
            .await,
        422,
        42201,
    );
    assert_error(
        r.call(POST, "/subjects/i", Some(json!({"schema": ""})))
            .await,
        404,
        40403,
    );
}

/// Switching to IMPORT clears what is only soft-deleted, as Confluent does.
#[tokio::test]
async fn import_mode_starts_on_a_clean_slate() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "gone", &user_v1()).await;
    r.call(DELETE, "/subjects/gone", None).await;
    assert_eq!(
        r.call(PUT, "/mode", Some(json!({"mode": "IMPORT"}))).await,
        (StatusCode::OK, json!({"mode": "IMPORT"}))
    );
    assert_eq!(
        r.call(GET, "/subjects?deleted=true", None).await.1,
        json!([])
    );
    let (status, imported) = r
        .call(
            POST,
            "/subjects/gone/versions",
            Some(json!({"schema": user_v2(), "id": 1, "version": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
}

/// FORWARD: Confluent 8's global mode where registrations carry their ids.
#[tokio::test]
async fn forward_mode_takes_ids_and_is_global_only() {
    let r = TestRegistry::start().await.unwrap();
    assert_eq!(
        r.call(PUT, "/mode/s", Some(json!({"mode": "FORWARD"})))
            .await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error_code": 42204, "message": "Forward mode only supported on global level"})
        )
    );
    assert_eq!(
        r.call(PUT, "/mode", Some(json!({"mode": "FORWARD"}))).await,
        (StatusCode::OK, json!({"mode": "FORWARD"}))
    );
    let (status, forwarded) = r
        .call(
            POST,
            "/subjects/s/versions",
            Some(json!({"schema": user_v1(), "id": 77, "version": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{forwarded}");
    assert_eq!(
        (&forwarded["id"], &forwarded["version"]),
        (&json!(77), &json!(3))
    );
    assert_error(register(&r, "s", &user_v2()).await, 422, 42205);
}
