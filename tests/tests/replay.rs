//! Replay of a log written by other registries: records in the exact shapes
//! Confluent's and Karapace's nodes put on `_schemas`, appended raw to the
//! embedded log, then served by a registry started on it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::Method;
use scute_storage::{FileLog, log::SchemaLog, record::RawRecord};
use scute_tests::TestRegistry;
use serde_json::json;

fn raw(key: &str, value: Option<&str>) -> RawRecord {
    RawRecord {
        key: key.as_bytes().to_vec(),
        value: value.map(|v| v.as_bytes().to_vec()),
    }
}

const STRING: &str = r#"\"string\""#;

fn foreign_log() -> Vec<RawRecord> {
    let schema = |subject: &str, version: i32, id: i32, extra: &str| {
        format!(
            r#"{{"subject":"{subject}","version":{version},"id":{id},{extra}"schema":"{STRING}","deleted":false}}"#
        )
    };
    vec![
        // Confluent 7.x: no schemaType for AVRO; global config with a null subject.
        raw(r#"{"keytype":"NOOP","magic":0}"#, None),
        raw(
            r#"{"keytype":"CONFIG","subject":null,"magic":0}"#,
            Some(r#"{"compatibilityLevel":"FULL"}"#),
        ),
        raw(
            r#"{"keytype":"SCHEMA","subject":"c7","version":1,"magic":1}"#,
            Some(&schema("c7", 1, 1, "")),
        ),
        // Confluent 8.x: schemaType always, and fields Scute does not use.
        raw(
            r#"{"keytype":"SCHEMA","subject":"c8","version":1,"magic":1}"#,
            Some(&schema(
                "c8",
                1,
                1,
                r#""schemaType":"AVRO","ts":1700000000000,"#,
            )),
        ),
        // Karapace: magic 0 and its own key field order.
        raw(
            r#"{"subject":"karapace","version":1,"magic":0,"keytype":"SCHEMA"}"#,
            Some(r#"{"subject":"karapace","version":1,"id":2,"schema":"\"int\"","deleted":false}"#),
        ),
        raw(
            r#"{"keytype":"SCHEMA","subject":"karapace","version":2,"magic":1}"#,
            Some(
                r#"{"subject":"karapace","version":2,"id":3,"schema":"\"long\"","deleted":false}"#,
            ),
        ),
        // A subject config, a mode, a soft delete of a subject, a keytype
        // Scute does not use, a record that is not JSON, a tombstone.
        raw(
            r#"{"keytype":"CONFIG","subject":"c7","magic":0}"#,
            Some(r#"{"compatibilityLevel":"NONE","alias":"kept"}"#),
        ),
        raw(
            r#"{"keytype":"MODE","subject":"c8","magic":0}"#,
            Some(r#"{"subject":"c8","mode":"READONLY"}"#),
        ),
        raw(
            r#"{"keytype":"DELETE_SUBJECT","subject":"karapace","magic":0}"#,
            Some(r#"{"subject":"karapace","version":1}"#),
        ),
        raw(
            r#"{"keytype":"CONTEXT","tenant":"default","context":".x","magic":0}"#,
            Some(r#"{"tenant":"default","context":".x"}"#),
        ),
        raw(r#"{"keytype":"SCHEMA""#, Some("not json")),
        raw(
            r#"{"keytype":"SCHEMA","subject":"gone","version":1,"magic":1}"#,
            Some(&schema("gone", 1, 9, "")),
        ),
        raw(
            r#"{"keytype":"SCHEMA","subject":"gone","version":1,"magic":1}"#,
            None,
        ),
    ]
}

#[tokio::test]
async fn a_foreign_log_replays_to_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        for record in foreign_log() {
            log.append(record).await.unwrap();
        }
        log.close().await;
    }
    let r = TestRegistry::start_in(dir).await.unwrap();
    let get = |path: &'static str| {
        let r = &r;
        async move { r.call(Method::GET, path, None).await.1 }
    };
    assert_eq!(get("/subjects").await, json!(["c7", "c8", "karapace"]));
    assert_eq!(get("/schemas/ids/1/subjects").await, json!(["c7", "c8"]));
    assert_eq!(
        get("/schemas/ids/1").await,
        json!({"guid": "095d71cf-1255-6b9d-5e33-0ad575b3df5d", "schemaType": "AVRO", "schema": "\"string\""})
    );
    assert_eq!(get("/subjects/karapace/versions").await, json!([2]));
    assert_eq!(
        get("/subjects/karapace/versions?deleted=true").await,
        json!([1, 2])
    );
    assert_eq!(get("/config").await, json!({"compatibilityLevel": "FULL"}));
    assert_eq!(get("/config/c7").await["compatibilityLevel"], json!("NONE"));
    assert_eq!(get("/config/c7").await["alias"], json!("kept"));
    assert_eq!(get("/mode/c8").await, json!({"mode": "READONLY"}));
    // The hard-deleted id 9 no longer resolves, and is never handed out again.
    assert_eq!(get("/schemas/ids/9").await["error_code"], json!(40403));
    let (_, registered) = r
        .call(
            Method::POST,
            "/subjects/new/versions",
            Some(json!({"schema": "\"bytes\""})),
        )
        .await;
    assert_eq!(registered["id"], json!(10));
}
