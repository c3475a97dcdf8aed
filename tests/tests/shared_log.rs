//! The write path on a shared log, without a broker: an in-memory log that
//! says records count only once read back, a replayer task, and a rival
//! node's record slipped in just before ours.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use scute_proto::v1 as api;
use scute_service::error::Error;
use scute_service::registry::Registry;
use scute_storage::MemoryLog;
use scute_storage::log::{BoxFuture, LogEntry, LogError, Offset, SchemaLog};
use scute_storage::record::{KeyStamp, RawRecord, Record, SchemaValue};

/// A memory log shared with a rival node that, once, writes a record of its
/// own just before our first stamped one, stamped for the same offset.
#[derive(Debug, Default)]
struct RacedLog {
    inner: MemoryLog,
    raced: AtomicBool,
}

fn rival_record(seq: Offset) -> RawRecord {
    Record::Schema {
        subject: "rival".into(),
        version: 1,
        value: Some(SchemaValue {
            subject: "rival".into(),
            version: 1,
            id: 1,
            schema_type: None,
            references: vec![],
            metadata: None,
            rule_set: None,
            schema: "\"int\"".into(),
            deleted: false,
            extra: Default::default(),
        }),
    }
    .encode_stamped(KeyStamp {
        seq: seq as i64,
        node: 99,
    })
}

impl SchemaLog for RacedLog {
    fn end_offset(&self) -> BoxFuture<'_, Result<Offset, LogError>> {
        self.inner.end_offset()
    }

    fn read_from(
        &self,
        from: Offset,
        max: usize,
    ) -> BoxFuture<'_, Result<Vec<LogEntry>, LogError>> {
        self.inner.read_from(from, max)
    }

    fn append(&self, record: RawRecord) -> BoxFuture<'static, Result<Offset, LogError>> {
        let stamped = String::from_utf8_lossy(&record.key).contains("\"seq\"");
        if stamped && !self.raced.swap(true, Ordering::SeqCst) {
            let at = self.inner.records().len() as Offset;
            drop(self.inner.append(rival_record(at)));
        }
        self.inner.append(record)
    }

    fn flush(&self) -> BoxFuture<'static, Result<(), LogError>> {
        self.inner.flush()
    }

    fn applies_on_read(&self) -> bool {
        true
    }
}

fn replay(registry: Arc<Registry>, log: Arc<RacedLog>) {
    tokio::spawn(async move {
        let mut next = 0;
        loop {
            for entry in log.read_from(next, 100).await.unwrap() {
                next = entry.offset + 1;
                registry.apply_read(entry);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
}

#[tokio::test]
async fn a_write_that_lost_a_race_is_rebuilt_on_the_winners_state() {
    let log = Arc::new(RacedLog::default());
    let registry = Arc::new(Registry::shared(
        log.clone(),
        1,
        Duration::from_secs(30),
        scute_tests::compute(),
        scute_service::registry::Limits::default(),
    ));
    assert_eq!(registry.serving().unwrap_err().error_code(), 50003);
    registry.set_ready();
    replay(registry.clone(), log.clone());

    let schema = registry
        .register_schema(api::RegisterSchemaRequest {
            subject: "ours".into(),
            schema: "\"string\"".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // The rival took id 1 at the offset we expected; ours was ignored by
    // every reader and written again with the next id.
    assert_eq!((schema.id, schema.version), (2, 1));
    let records = log.inner.records();
    let keys: Vec<String> = records
        .iter()
        .map(|r| String::from_utf8_lossy(&r.key).into_owned())
        .collect();
    let ours: Vec<&String> = keys.iter().filter(|k| k.contains("\"ours\"")).collect();
    assert_eq!(
        ours.len(),
        2,
        "one lost attempt and one that counted: {keys:?}"
    );
    let rival = registry
        .get_schema_by_id(api::GetSchemaByIdRequest {
            id: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rival.schema, "\"int\"");
}

/// A node on a shared log no rival writes to, serving and replaying.
fn unraced_node() -> (Arc<Registry>, Arc<RacedLog>) {
    let log = Arc::new(RacedLog {
        raced: AtomicBool::new(true),
        ..RacedLog::default()
    });
    let registry = Arc::new(Registry::shared(
        log.clone(),
        1,
        Duration::from_secs(30),
        scute_tests::compute(),
        scute_service::registry::Limits::default(),
    ));
    registry.set_ready();
    replay(registry.clone(), log.clone());
    (registry, log)
}

/// The keys of one key type in the log, in order, each with whether its
/// record has a value (false: a tombstone).
fn keys_of(log: &RacedLog, keytype: &str) -> Vec<(String, bool)> {
    let keytype = format!("\"{keytype}\"");
    log.inner
        .records()
        .iter()
        .map(|r| {
            (
                String::from_utf8_lossy(&r.key).into_owned(),
                r.value.is_some(),
            )
        })
        .filter(|(k, _)| k.contains(&keytype))
        .collect()
}

#[tokio::test]
async fn a_deleted_association_tombstones_every_key_it_was_written_under() {
    let (registry, log) = unraced_node();
    registry
        .register_schema(api::RegisterSchemaRequest {
            subject: "orders-custom".into(),
            schema: "\"string\"".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    registry
        .create_or_update_association(
            api::AssociationRequest {
                resource_name: "orders".into(),
                resource_namespace: "lkc-1".into(),
                resource_id: "rid-1".into(),
                associations: vec![api::AssociationChange {
                    subject: Some("orders-custom".into()),
                    ..Default::default()
                }],
                ..Default::default()
            },
            true,
        )
        .await
        .unwrap();
    let deleted = registry
        .delete_associations(api::DeleteAssociationsRequest {
            resource_id: "rid-1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(deleted.associations.len(), 1);

    let assoc = keys_of(&log, "ASSOC");
    let written: Vec<&String> = assoc.iter().filter(|(_, v)| *v).map(|(k, _)| k).collect();
    let tombstoned: Vec<&String> = assoc.iter().filter(|(_, v)| !*v).map(|(k, _)| k).collect();
    assert_eq!(written.len(), 1, "{assoc:?}");
    assert!(written[0].contains("\"seq\""), "{assoc:?}");
    // The plain key, as Confluent compacts it, and the stamped one.
    assert_eq!(tombstoned.len(), 2, "{assoc:?}");
    assert!(tombstoned.iter().any(|k| !k.contains("\"seq\"")));
    assert!(tombstoned.contains(&written[0]));
}

#[tokio::test]
async fn a_deleted_config_or_mode_tombstones_every_key_it_was_written_under() {
    let (registry, log) = unraced_node();
    for level in ["FULL", "NONE"] {
        registry
            .set_config(api::SetConfigRequest {
                subject: Some("orders-value".into()),
                config: Some(api::Config {
                    compatibility_level: Some(level.into()),
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
    }
    registry
        .set_mode(api::SetModeRequest {
            subject: Some("orders-value".into()),
            // Not a read-only one: that would refuse the config's delete.
            mode: "IMPORT".into(),
            force: false,
        })
        .await
        .unwrap();
    registry
        .delete_config(api::DeleteConfigRequest {
            subject: Some("orders-value".into()),
        })
        .await
        .unwrap();
    registry
        .delete_mode(api::DeleteModeRequest {
            subject: Some("orders-value".into()),
        })
        .await
        .unwrap();

    for keytype in ["CONFIG", "MODE"] {
        let keyed = keys_of(&log, keytype);
        let written: Vec<&String> = keyed.iter().filter(|(_, v)| *v).map(|(k, _)| k).collect();
        assert!(!written.is_empty(), "{keyed:?}");
        for key in written {
            let last = keyed.iter().rev().find(|(k, _)| k == key).unwrap();
            assert!(!last.1, "no tombstone after the last record under {key}");
        }
        assert!(
            keyed.iter().any(|(k, v)| !v && !k.contains("\"seq\"")),
            "the plain key too: {keyed:?}"
        );
    }
}

#[tokio::test]
async fn a_deleted_context_tombstones_every_key_it_was_written_under() {
    let (registry, log) = unraced_node();
    registry
        .register_schema(api::RegisterSchemaRequest {
            subject: ":.ctx:orders-value".into(),
            schema: "\"string\"".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    for permanent in [false, true] {
        registry
            .delete_subject(api::DeleteSubjectRequest {
                subject: ":.ctx:orders-value".into(),
                permanent,
            })
            .await
            .unwrap();
    }
    registry
        .delete_context(api::DeleteContextRequest {
            context: ".ctx".into(),
        })
        .await
        .unwrap();
    let keyed = keys_of(&log, "CONTEXT");
    let written: Vec<&String> = keyed.iter().filter(|(_, v)| *v).map(|(k, _)| k).collect();
    assert!(!written.is_empty(), "{keyed:?}");
    for key in written {
        let last = keyed.iter().rev().find(|(k, _)| k == key).unwrap();
        assert!(!last.1, "no tombstone after the last record under {key}");
    }
    assert_eq!(
        registry
            .list_contexts(api::ListContextsRequest::default())
            .await
            .unwrap()
            .contexts,
        ["."]
    );
}

/// Two nodes on one shared log, each replaying it.
fn two_nodes() -> (Arc<Registry>, Arc<Registry>, Arc<RacedLog>) {
    let log = Arc::new(RacedLog {
        raced: AtomicBool::new(true),
        ..RacedLog::default()
    });
    let node = |id| {
        let registry = Arc::new(Registry::shared(
            log.clone(),
            id,
            Duration::from_secs(30),
            scute_tests::compute(),
            scute_service::registry::Limits::default(),
        ));
        registry.set_ready();
        replay(registry.clone(), log.clone());
        registry
    };
    (node(1), node(2), log)
}

fn avro(i: usize) -> String {
    format!(r#"{{"type":"record","name":"R{i}","fields":[{{"name":"f","type":"string"}}]}}"#)
}

/// Registers `(node, subject, schema)` all at once; answers (id, version)
/// in the same order.
async fn register_all(jobs: Vec<(Arc<Registry>, String, String)>) -> Vec<(i32, i32)> {
    let tasks: Vec<_> = jobs
        .into_iter()
        .map(|(registry, subject, schema)| {
            tokio::spawn(async move {
                loop {
                    let registered = registry
                        .register_schema(api::RegisterSchemaRequest {
                            subject: subject.clone(),
                            schema: schema.clone(),
                            ..Default::default()
                        })
                        .await;
                    match registered {
                        Ok(r) => return (r.id, r.version),
                        // The compute pool is shared by the tests running
                        // at once: a client retries a busy registry.
                        Err(Error::Overloaded(_)) => {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

/// Waits until both nodes have read the whole log.
async fn settle(a: &Registry, b: &Registry, log: &RacedLog) {
    for _ in 0..2000 {
        let end = log.inner.records().len() as Offset;
        if a.position() == end && b.position() == end {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the nodes did not read the whole log");
}

async fn id_on(registry: &Registry, subject: &str, version: i32) -> i32 {
    registry
        .get_version(api::GetVersionRequest {
            subject: subject.into(),
            version: version.to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_new_schemas_on_two_nodes_get_distinct_ids_both_nodes_agree_on() {
    let (a, b, log) = two_nodes();
    let jobs: Vec<_> = (0..120)
        .map(|i| {
            let node = if i % 2 == 0 { a.clone() } else { b.clone() };
            (node, format!("s{i}-value"), avro(i))
        })
        .collect();
    let answers = register_all(jobs).await;
    settle(&a, &b, &log).await;
    let mut ids: Vec<i32> = answers.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 120, "one id per schema: {answers:?}");
    for (i, (id, version)) in answers.iter().enumerate() {
        assert_eq!(*version, 1);
        let subject = format!("s{i}-value");
        assert_eq!(id_on(&a, &subject, 1).await, *id, "{subject} on node 1");
        assert_eq!(id_on(&b, &subject, 1).await, *id, "{subject} on node 2");
    }
    // Writes went out in batches.
    for node in [&a, &b] {
        let stats = node.write_stats().unwrap();
        let batches = stats.batches.load(Ordering::Relaxed);
        let writes = stats.batched_writes.load(Ordering::Relaxed);
        assert!(batches > 0 && writes >= 60, "{stats:?}");
        assert!(stats.largest_batch.load(Ordering::Relaxed) > 1, "{stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_schema_registered_at_once_on_two_nodes_gets_one_id_and_version() {
    let (a, b, log) = two_nodes();
    let schema = avro(0);
    let mut jobs = Vec::new();
    for i in 0..40 {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        // The same subject from both nodes, and a subject of each job's own.
        jobs.push((node.clone(), "same-value".to_owned(), schema.clone()));
        jobs.push((node, format!("other{i}-value"), schema.clone()));
    }
    let answers = register_all(jobs).await;
    settle(&a, &b, &log).await;
    let id = answers[0].0;
    assert!(answers.iter().all(|(i, _)| *i == id), "{answers:?}");
    assert!(answers.iter().all(|(_, v)| *v == 1), "{answers:?}");
    for node in [&a, &b] {
        let versions = node
            .list_versions(api::ListVersionsRequest {
                subject: "same-value".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .versions;
        assert_eq!(versions, [1]);
        assert_eq!(id_on(node, "other39-value", 1).await, id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_batch_builds_each_write_on_the_ones_before_it() {
    let (registry, log) = unraced_node();
    registry
        .set_config(api::SetConfigRequest {
            subject: Some("shared-value".into()),
            config: Some(api::Config {
                compatibility_level: Some("NONE".into()),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    // New schemas, some twice, some under one subject: each write of a
    // batch sees the records of the writes before it.
    let mut jobs = Vec::new();
    for i in 0..30 {
        jobs.push((registry.clone(), format!("t{i}-value"), avro(i)));
        jobs.push((registry.clone(), format!("t{i}-value"), avro(i)));
        jobs.push((registry.clone(), "shared-value".to_owned(), avro(100 + i)));
    }
    let answers = register_all(jobs).await;
    for pair in answers[..90].chunks(3) {
        assert_eq!(
            pair[0], pair[1],
            "the same schema twice: one id, one version"
        );
    }
    let mut shared: Vec<(i32, i32)> = answers.iter().skip(2).step_by(3).copied().collect();
    shared.sort_unstable_by_key(|(_, v)| *v);
    let versions: Vec<i32> = shared.iter().map(|(_, v)| *v).collect();
    assert_eq!(versions, (1..=30).collect::<Vec<_>>());
    let mut ids: Vec<i32> = answers.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 60);
    // Nothing written twice: each subject version is one record.
    let schema_records = keys_of(&log, "SCHEMA").len();
    assert_eq!(schema_records, 60, "{schema_records}");
    let stats = registry.write_stats().unwrap();
    assert_eq!(stats.races_lost.load(Ordering::Relaxed), 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_write_in_a_batch_leaves_the_others_written() {
    let (registry, _log) = unraced_node();
    registry
        .set_mode(api::SetModeRequest {
            subject: Some("frozen-value".into()),
            mode: "READONLY".into(),
            force: false,
        })
        .await
        .unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let registry = registry.clone();
            let subject = if i % 2 == 0 {
                format!("open{i}-value")
            } else {
                "frozen-value".to_owned()
            };
            tokio::spawn(async move {
                loop {
                    let registered = registry
                        .register_schema(api::RegisterSchemaRequest {
                            subject: subject.clone(),
                            schema: avro(i),
                            ..Default::default()
                        })
                        .await;
                    match registered {
                        Err(Error::Overloaded(_)) => {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        other => return (i, other),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let (i, registered) = task.await.unwrap();
        if i % 2 == 0 {
            assert_eq!(registered.unwrap().version, 1);
        } else {
            assert!(
                matches!(registered, Err(Error::ReadOnlyMode(_))),
                "{registered:?}"
            );
        }
    }
}
