//! Contexts, end to end in process: qualified subjects, an id space per
//! context, the `/contexts/{context}` prefix, settings per context,
//! references within a context, and the records they leave in the log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{Method, StatusCode};
use scute_storage::{FileLog, log::SchemaLog};
use scute_tests::{TestRegistry, record_schema};
use serde_json::{Value, json};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

async fn register(r: &TestRegistry, path_subject: &str, schema: &str) -> (StatusCode, Value) {
    r.call(
        POST,
        &format!("/subjects/{path_subject}/versions"),
        Some(json!({"schema": schema})),
    )
    .await
}

fn one(name: &str) -> String {
    record_schema(name, &[("a", json!("string"))])
}

#[tokio::test]
async fn each_context_numbers_its_own_ids() {
    let r = TestRegistry::start().await.unwrap();
    let (_, plain) = register(&r, "s", &one("Plain")).await;
    let (status, in_ctx) = register(&r, ":.ctx1:s", &one("InContext")).await;
    assert_eq!(status, StatusCode::OK, "{in_ctx}");
    assert_eq!((&plain["id"], &in_ctx["id"]), (&json!(1), &json!(1)));

    // The id alone is the default context's; a subject picks the context.
    let (_, by_id) = r.call(GET, "/schemas/ids/1", None).await;
    assert!(by_id["schema"].as_str().unwrap().contains("Plain"));
    let (_, by_id) = r.call(GET, "/schemas/ids/1?subject=:.ctx1:s", None).await;
    assert!(by_id["schema"].as_str().unwrap().contains("InContext"));
    assert_eq!(by_id["subject"], json!(":.ctx1:s"));
    let (_, by_id) = r.call(GET, "/contexts/.ctx1/schemas/ids/1", None).await;
    assert!(by_id["schema"].as_str().unwrap().contains("InContext"));
    assert_eq!(
        r.call(GET, "/schemas/ids/1/subjects?subject=:.ctx1:", None)
            .await
            .1,
        json!([":.ctx1:s"])
    );

    // `:.:s` is `s`.
    let (_, same) = register(&r, ":.:s", &one("Plain")).await;
    assert_eq!((&same["id"], &same["version"]), (&json!(1), &json!(1)));

    // Listings: every context by default, qualified names first.
    assert_eq!(
        r.call(GET, "/subjects", None).await.1,
        json!([":.ctx1:s", "s"])
    );
    assert_eq!(
        r.call(GET, "/subjects?subjectPrefix=", None).await.1,
        json!(["s"])
    );
    assert_eq!(
        r.call(GET, "/subjects?subjectPrefix=:.ctx1:", None).await.1,
        json!([":.ctx1:s"])
    );
    assert_eq!(
        r.call(GET, "/contexts/.ctx1/subjects", None).await.1,
        json!([":.ctx1:s"])
    );
    assert_eq!(
        r.call(GET, "/contexts", None).await,
        (StatusCode::OK, json!([".", ".ctx1"]))
    );
    // A plain subject the default context lacks is found in another.
    register(&r, ":.ctx1:only-there", &one("There")).await;
    let (status, found) = r.call(GET, "/subjects/only-there/versions/1", None).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["subject"], json!(":.ctx1:only-there"));

    // The same registrations through the prefix.
    let (status, through) = r
        .call(
            POST,
            "/contexts/.ctx2/subjects/t/versions",
            Some(json!({"schema": one("Two")})),
        )
        .await;
    assert_eq!((status, &through["id"]), (StatusCode::OK, &json!(1)));
    assert_eq!(
        r.call(GET, "/subjects/:.ctx2:t/versions", None).await.1,
        json!([1])
    );
    assert_eq!(
        r.call(GET, "/contexts/a:b/subjects", None).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error_code": 400, "message": "Context name cannot contain a colon"})
        )
    );
}

#[tokio::test]
async fn settings_fall_back_from_subject_to_context_to_global() {
    let r = TestRegistry::start().await.unwrap();
    let v1 = one("R");
    let bad = record_schema("R", &[("a", json!("string")), ("b", json!("int"))]);
    register(&r, "s", &v1).await;
    register(&r, ":.ctx:s", &v1).await;
    // The context's level, through the prefix.
    assert_eq!(
        r.call(
            PUT,
            "/contexts/.ctx/config",
            Some(json!({"compatibility": "NONE"}))
        )
        .await,
        (StatusCode::OK, json!({"compatibility": "NONE"}))
    );
    assert_eq!(
        r.call(GET, "/config/:.ctx:", None).await.1,
        json!({"compatibilityLevel": "NONE"})
    );
    assert_eq!(
        r.call(GET, "/config/:.ctx:s?defaultToGlobal=true", None)
            .await
            .1,
        json!({"compatibilityLevel": "NONE"})
    );
    assert_eq!(register(&r, ":.ctx:s", &bad).await.0, StatusCode::OK);
    assert_eq!(register(&r, "s", &bad).await.0, StatusCode::CONFLICT);

    // IMPORT for one context while another holds subjects.
    assert_eq!(
        r.call(PUT, "/mode/:.imp:", Some(json!({"mode": "IMPORT"})))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        r.call(GET, "/mode/:.imp:x?defaultToGlobal=true", None)
            .await
            .1,
        json!({"mode": "IMPORT"})
    );
    let (status, imported) = r
        .call(
            POST,
            "/subjects/:.imp:x/versions",
            Some(json!({"schema": v1, "id": 42, "version": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(
        r.call(GET, "/schemas/ids/42?subject=:.imp:x", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        r.call(GET, "/schemas/ids/42", None).await.0,
        StatusCode::NOT_FOUND
    );
    // The default context's subjects are still READWRITE.
    assert_eq!(
        r.call(
            POST,
            "/subjects/s/versions",
            Some(json!({"schema": one("Other"), "id": 43}))
        )
        .await
        .1["message"],
        json!("Subject s in context  is not in import mode")
    );
}

#[tokio::test]
async fn references_resolve_in_their_context() {
    let r = TestRegistry::start().await.unwrap();
    let address = json!({"type": "record", "name": "Address", "fields": [{"name": "street", "type": "string"}]});
    register(&r, ":.shop:address", &address.to_string()).await;
    let person = json!({"type": "record", "name": "Person", "fields": [{"name": "home", "type": "Address"}]});
    let body = json!({"schema": person.to_string(), "references": [
        {"name": "Address", "subject": "address", "version": 1}
    ]});
    let (status, registered) = r
        .call(POST, "/subjects/:.shop:person/versions", Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{registered}");
    // The same reference from the default context names nothing.
    assert_eq!(
        r.call(POST, "/subjects/person/versions", Some(body))
            .await
            .1["error_code"],
        json!(42201)
    );
    assert_eq!(
        r.call(
            GET,
            "/subjects/:.shop:address/versions/1/referencedby",
            None
        )
        .await
        .1,
        json!([registered["id"]])
    );
    assert_eq!(
        r.call(DELETE, "/subjects/:.shop:address", None).await.1["error_code"],
        json!(42206)
    );
    let (_, resolved) = r
        .call(
            GET,
            "/subjects/:.shop:person/versions/1?format=resolved",
            None,
        )
        .await;
    assert!(resolved["schema"].as_str().unwrap().contains("street"));

    // A context with subjects cannot go; an empty one can.
    assert_eq!(
        r.call(DELETE, "/contexts/.shop", None).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error_code": 42211, "message": "The specified context '.shop' is not empty."})
        )
    );
    for subject in [":.shop:person", ":.shop:address"] {
        r.call(DELETE, &format!("/subjects/{subject}"), None).await;
        r.call(DELETE, &format!("/subjects/{subject}?permanent=true"), None)
            .await;
    }
    // Emptied, not deleted: still a context, listed as Confluent lists it.
    assert_eq!(
        r.call(GET, "/contexts", None).await.1,
        json!([".", ".shop"])
    );
    assert_eq!(
        r.call(DELETE, "/contexts/shop", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(r.call(GET, "/contexts", None).await.1, json!(["."]));
    assert_eq!(
        r.call(DELETE, "/contexts/shop", None).await.1["error_code"],
        json!(40401)
    );
}

/// The records a context leaves are Confluent's, and replay to the same
/// state.
#[tokio::test]
async fn contexts_survive_a_restart_in_confluents_records() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, ":.ctx:s", &one("A")).await;
    register(&r, ":.ctx:s", &one("A")).await;
    register(&r, "s", &one("B")).await;
    let dir = r.stop().await.unwrap();
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        let records = log.read_from(0, 100).await.unwrap();
        let keys: Vec<String> = records
            .iter()
            .map(|e| String::from_utf8(e.record.key.clone()).unwrap())
            .collect();
        assert_eq!(
            keys[..2],
            [
                r#"{"keytype":"CONTEXT","tenant":"default","context":".ctx","magic":0}"#,
                r#"{"keytype":"SCHEMA","subject":":.ctx:s","version":1,"magic":1}"#,
            ]
        );
        log.close().await;
    }
    let r = TestRegistry::start_in(dir).await.unwrap();
    assert_eq!(r.call(GET, "/contexts", None).await.1, json!([".", ".ctx"]));
    assert_eq!(
        r.call(GET, "/schemas/ids/1?subject=:.ctx:s", None).await.1["subject"],
        json!(":.ctx:s")
    );
    let (_, next) = register(&r, ":.ctx:t", &one("C")).await;
    assert_eq!(next["id"], json!(2));
}

#[tokio::test]
async fn server_metadata_is_confluents() {
    let r = TestRegistry::start().await.unwrap();
    assert_eq!(
        r.call(GET, "/v1/metadata/id", None).await,
        (
            StatusCode::OK,
            json!({"scope": {"path": [], "clusters": {"schema-registry-cluster": "schema-registry"}}})
        )
    );
    let (status, version) = r.call(GET, "/v1/metadata/version", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(version["version"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(
        r.call(GET, "/v1/metadata/deployment", None).await.1,
        json!({"attributes": ["opensource"]})
    );
}
