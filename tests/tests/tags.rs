//! Schema tags, end to end in process: a version tagged into a new one,
//! tags given with a registration or carried over from the latest version,
//! and `findTags` reporting them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{Method, StatusCode};
use scute_tests::TestRegistry;
use serde_json::{Value, json};

fn record() -> String {
    json!({"type": "record", "name": "myrecord", "fields": [{"name": "f1", "type": "string"}]})
        .to_string()
}

fn entity(path: &str, kind: &str, tags: &[&str]) -> Value {
    json!({"schemaEntity": {"entityPath": path, "entityType": kind}, "tags": tags})
}

#[tokio::test]
async fn a_version_is_tagged_into_the_next_one() {
    let r = TestRegistry::start().await.unwrap();
    r.call(
        Method::POST,
        "/subjects/test/versions",
        Some(json!({"schema": record()})),
    )
    .await;
    let (status, tagged) = r
        .call(
            Method::POST,
            "/subjects/test/versions/latest/tags",
            Some(json!({
                "newVersion": 2,
                "tagsToAdd": [entity("myrecord", "sr_record", &["TAG1"]), entity("myrecord.f1", "sr_field", &["TAG2"])]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tagged}");
    assert_eq!((&tagged["id"], &tagged["version"]), (&json!(2), &json!(2)));
    assert_eq!(
        tagged["schema"],
        json!(
            r#"{"type":"record","name":"myrecord","fields":[{"name":"f1","type":"string","confluent:tags":["TAG2"]}],"confluent:tags":["TAG1"]}"#
        )
    );
    assert_eq!(
        tagged["metadata"],
        json!({"properties": {"confluent:version": "2"}})
    );

    // findTags reports the tagged parts, each with all its tags.
    let (_, found) = r
        .call(Method::GET, "/subjects/test/versions/2?findTags=TAG2", None)
        .await;
    assert_eq!(
        found["schemaTags"],
        json!([entity("myrecord.f1", "sr_field", &["TAG2"])])
    );
    let (_, found) = r.call(Method::GET, "/schemas/ids/2?findTags=*", None).await;
    assert_eq!(found["schemaTags"].as_array().unwrap().len(), 2);
    let (_, untagged) = r.call(Method::GET, "/subjects/test/versions/2", None).await;
    assert!(untagged.get("schemaTags").is_none());

    // Removing the last tag of an entity drops its key.
    let (_, removed) = r
        .call(
            Method::POST,
            "/subjects/test/versions/2/tags",
            Some(json!({"tagsToRemove": [entity("myrecord", "sr_record", &["TAG1"])]})),
        )
        .await;
    assert_eq!(removed["version"], json!(3));
    assert!(!removed["schema"].as_str().unwrap().contains("TAG1"));

    // Confluent's errors.
    let cases = [
        (
            "/subjects/nope/versions/1/tags",
            json!({"tagsToAdd": []}),
            40401,
        ),
        ("/subjects/test/versions/9/tags", json!({}), 40402),
        (
            "/subjects/test/versions/1/tags",
            json!({"tagsToAdd": [entity("does.not.exist", "sr_record", &["T"])]}),
            42201,
        ),
        (
            "/subjects/test/versions/1/tags",
            json!({"newVersion": 1, "tagsToAdd": [entity("myrecord", "sr_record", &["T"])]}),
            42201,
        ),
    ];
    for (path, body, code) in cases {
        let (_, error) = r.call(Method::POST, path, Some(body)).await;
        assert_eq!(error["error_code"], json!(code), "{path}: {error}");
    }
    let (_, error) = r
        .call(
            Method::POST,
            "/subjects/test/versions/1/tags",
            Some(json!({"tagsToAdd": [entity("does.not.exist", "sr_record", &["T"])]})),
        )
        .await;
    assert_eq!(
        error["message"],
        json!(
            "java.lang.IllegalArgumentException: No matching path 'does.not.exist' found in the schema"
        )
    );
}

#[tokio::test]
async fn registrations_carry_tags() {
    let r = TestRegistry::start().await.unwrap();
    let (status, first) = r
        .call(
            Method::POST,
            "/subjects/t/versions",
            Some(json!({
                "schema": record(),
                "schemaTagsToAdd": [entity("myrecord", "sr_record", &["PII"])]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(
        first["schema"]
            .as_str()
            .unwrap()
            .ends_with(r#","confluent:tags":["PII"]}"#)
    );
    // The next version, untagged as sent, keeps the latest's tags.
    let next = json!({"type": "record", "name": "myrecord", "fields": [
        {"name": "f1", "type": "string"},
        {"name": "f2", "type": "string", "default": "hi"}
    ]});
    let (status, second) = r
        .call(
            Method::POST,
            "/subjects/t/versions",
            Some(json!({"schema": next.to_string(), "propagateSchemaTags": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert!(
        second["schema"]
            .as_str()
            .unwrap()
            .ends_with(r#","confluent:tags":["PII"]}"#),
        "{second}"
    );
}

#[tokio::test]
async fn protobuf_fields_take_confluents_field_meta() {
    let r = TestRegistry::start().await.unwrap();
    let proto = "syntax = \"proto3\";\npackage com.example;\n\nmessage Message1 {\n  string f1 = 1;\n  string f2 = 2;\n}\n";
    let (status, _) = r
        .call(
            Method::POST,
            "/subjects/p/versions",
            Some(json!({"schemaType": "PROTOBUF", "schema": proto})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, tagged) = r
        .call(
            Method::POST,
            "/subjects/p/versions/1/tags",
            Some(json!({"tagsToAdd": [
                entity("Message1.f1", "sr_field", &["TAG1"]),
                entity(".Message1.f1", "sr_field", &["TAG2"])
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tagged}");
    assert_eq!(
        tagged["schema"],
        json!(
            "syntax = \"proto3\";\npackage com.example;\n\nmessage Message1 {\n  string f1 = 1 [(confluent.field_meta) = {\n    tags: [\n      \"TAG1\",\n      \"TAG2\"\n    ]\n  }];\n  string f2 = 2;\n}\n"
        )
    );
    let (_, found) = r
        .call(Method::GET, "/subjects/p/versions/2?findTags=TAG1", None)
        .await;
    assert_eq!(
        found["schemaTags"],
        json!([entity("Message1.f1", "sr_field", &["TAG1", "TAG2"])])
    );
    // One read may ask for both an output format and the tags.
    let (_, both) = r
        .call(
            Method::GET,
            "/subjects/p/versions/2?format=serialized&findTags=TAG2",
            None,
        )
        .await;
    assert_eq!(both["schemaTags"], found["schemaTags"]);
    assert!(
        !both["schema"].as_str().unwrap().contains("message"),
        "{both}"
    );
}
