//! Start-up replay of the embedded log, on two threads.
//!
//! The thread that reads the file also decodes each record and hashes each
//! schema's guid (the JSON and the MD5 are most of a replay's work); a second
//! thread applies the decoded records to the state, in log order. SCHEMA
//! records of the usual shape are decoded by a typed fast path; anything else
//! goes through `record::decode`, whose result the fast path must equal.
//! The text of a record the fast path read is left in the file (see
//! `state::SchemaText`): once hashed, it is dropped on the reading thread.

use std::path::Path;
use std::sync::{Arc, mpsc};

use scute_storage::file::{FileLog, Frame, FrameReader, Recovery};
use scute_storage::log::LogError;
use scute_storage::record::{self, Record, SchemaValue};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::guid::{self, Guid};
use crate::state::{SchemaText, State};

/// Records handed to the applying thread at a time.
const BATCH: usize = 1024;
/// Batches decoded ahead of the applying thread: bounds what a replay holds.
const BATCHES_AHEAD: usize = 8;

/// Opens the file log in `dir` and replays it into a new state.
pub(crate) fn open_file_log(dir: &Path) -> Result<(FileLog, Recovery, State), LogError> {
    let (tx, rx) = mpsc::sync_channel::<Vec<Decoded>>(BATCHES_AHEAD);
    let applier = std::thread::Builder::new()
        .name("scute-replay".into())
        .spawn(move || {
            let mut state = State::default();
            for batch in rx {
                for Decoded { record, guid, text } in batch {
                    state.apply_replayed(record, guid, text);
                }
            }
            state
        })
        .map_err(|source| LogError::Io {
            path: dir.to_owned(),
            source,
        })?;
    let mut batch = Vec::with_capacity(BATCH);
    // Opened at the first frame, when the file surely exists; without it,
    // texts stay in memory.
    let mut reader: Option<Option<Arc<FrameReader>>> = None;
    let opened = FileLog::open_with_frames(dir, |frame| {
        let reader = reader.get_or_insert_with(|| match FrameReader::open(dir) {
            Ok(reader) => Some(Arc::new(reader)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read texts back from the log; keeping them in memory");
                None
            }
        });
        if let Some(decoded) = decode_frame(frame, reader.as_ref()) {
            batch.push(decoded);
        }
        if batch.len() == BATCH {
            // A send fails only if the applier is gone (it panicked); the
            // join below reports that.
            let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
        }
    });
    if !batch.is_empty() {
        let _ = tx.send(batch);
    }
    drop(tx);
    let state = applier.join().map_err(|_| LogError::Io {
        path: dir.to_owned(),
        source: std::io::Error::other("the replay thread panicked"),
    })?;
    let (log, recovery) = opened?;
    Ok((log, recovery, state))
}

/// A record ready to apply: its schema's guid, and where its text is if it
/// was left in the file.
struct Decoded {
    record: Record,
    guid: Option<Guid>,
    text: Option<SchemaText>,
}

/// Decodes one record and hashes its schema's guid; `None` (logged) if the
/// record does not parse, which a replay skips.
fn decode_frame(frame: Frame<'_>, log: Option<&Arc<FrameReader>>) -> Option<Decoded> {
    let (key, value) = (frame.key, frame.value);
    let (mut record, fast) = match fast_schema(key, value) {
        Some(record) => (record, true),
        None => match record::decode(key, value) {
            Ok(record) => (record, false),
            Err(e) => {
                tracing::warn!(offset = frame.offset, error = %e, "skipping a record that does not parse");
                return None;
            }
        },
    };
    let guid = guid::of_record(&record);
    let mut text = None;
    if let (true, Some(log), Record::Schema { value: Some(v), .. }) = (fast, log, &mut record) {
        v.schema = String::new();
        text = Some(SchemaText::Logged {
            log: log.clone(),
            at: frame.place.at,
            len: frame.place.len,
        });
    }
    Some(Decoded { record, guid, text })
}

/// A SCHEMA key with nothing else (no stamp): the key Scute and Confluent write.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaKey<'a> {
    #[serde(borrow)]
    keytype: &'a str,
    subject: String,
    version: i32,
    #[serde(default)]
    magic: Option<IgnoredAny>,
}

/// A SCHEMA value without references, metadata, rule set or other fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainSchemaValue {
    subject: Option<String>,
    version: Option<i32>,
    id: Option<i32>,
    schema: Option<String>,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    references: Option<Vec<IgnoredAny>>,
    metadata: Option<IgnoredAny>,
    #[serde(rename = "ruleSet")]
    rule_set: Option<IgnoredAny>,
    deleted: Option<bool>,
}

/// Decodes a SCHEMA record of the usual shape without building JSON values;
/// `None` for anything else (other fields, references, metadata, a
/// tombstone, a field of another type, a repeated field), which
/// `record::decode` then reads. Where it answers, it answers as that does.
fn fast_schema(key: &[u8], value: Option<&[u8]>) -> Option<Record> {
    let key: SchemaKey<'_> = serde_json::from_slice(key).ok()?;
    if key.keytype != "SCHEMA" {
        return None;
    }
    let _ = key.magic;
    let v: PlainSchemaValue = serde_json::from_slice(value?).ok()?;
    if v.references.is_some_and(|r| !r.is_empty()) || v.metadata.is_some() || v.rule_set.is_some() {
        return None;
    }
    let value = SchemaValue {
        subject: v.subject.unwrap_or_else(|| key.subject.clone()),
        version: v.version.unwrap_or(key.version),
        id: v.id?,
        schema_type: v.schema_type,
        references: Vec::new(),
        metadata: None,
        rule_set: None,
        schema: v.schema?,
        deleted: v.deleted.unwrap_or(false),
        extra: serde_json::Map::new(),
    };
    Some(Record::Schema {
        subject: key.subject,
        version: key.version,
        value: Some(value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = r#"{"keytype":"SCHEMA","subject":"s-value","version":3,"magic":1}"#;

    /// Where the fast path answers, it answers as `record::decode`.
    fn same(key: &str, value: Option<&str>) -> bool {
        let general = record::decode(key.as_bytes(), value.map(str::as_bytes)).ok();
        match fast_schema(key.as_bytes(), value.map(str::as_bytes)) {
            Some(fast) => {
                assert_eq!(Some(&fast), general.as_ref(), "{key} {value:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn the_fast_path_reads_plain_schema_records_as_decode_does() {
        let plain = [
            r#"{"subject":"s-value","version":3,"id":7,"schemaType":"AVRO","schema":"{\"type\":\"string\"}","deleted":false}"#,
            r#"{"subject":"s-value","version":3,"id":7,"schema":"\"int\""}"#,
            r#"{"id":7,"schema":"\"int\"","deleted":true}"#,
            r#"{"subject":null,"version":null,"id":7,"schema":"x","schemaType":null,"references":[],"metadata":null,"ruleSet":null}"#,
            r#"{"subject":"other","version":9,"id":2147483647,"schema":"é\u00e9\n","schemaType":"PROTOBUF"}"#,
        ];
        for value in plain {
            assert!(same(KEY, Some(value)), "{value}");
        }
        assert!(same(
            r#"{"version":1,"subject":"a","keytype":"SCHEMA"}"#,
            Some(r#"{"id":1,"schema":"s"}"#)
        ));
    }

    #[test]
    fn anything_unusual_goes_to_the_general_decoder() {
        let unusual = [
            // other fields, kept by the general decoder
            r#"{"id":7,"schema":"s","md5":"abc"}"#,
            r#"{"id":7,"schema":"s","references":[{"name":"n","subject":"t","version":1}]}"#,
            r#"{"id":7,"schema":"s","metadata":{"properties":{}}}"#,
            r#"{"id":7,"schema":"s","ruleSet":{}}"#,
            // a repeated field: the last wins there
            r#"{"id":7,"schema":"s","id":8}"#,
            // types the general decoder reads leniently, or refuses
            r#"{"id":7,"schema":"s","deleted":"yes"}"#,
            r#"{"id":7,"schema":"s","version":1.0}"#,
            r#"{"id":7,"schema":"s","subject":5}"#,
            r#"{"id":"7","schema":"s"}"#,
            r#"{"id":7}"#,
            r#"{"schema":"s"}"#,
            r#"{"id":7,"schema":"s"} x"#,
            "null",
            "",
            "  ",
            "[]",
        ];
        for value in unusual {
            assert!(!same(KEY, Some(value)), "{value}");
        }
        assert!(!same(KEY, None));
        for key in [
            r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1,"seq":4,"node":2}"#,
            r#"{"keytype":"SCH\u0045MA","subject":"s","version":1}"#,
            r#"{"keytype":"CONFIG","subject":"s","version":1}"#,
            r#"{"keytype":"SCHEMA","subject":"s","version":99999999999}"#,
            r#"{"keytype":"SCHEMA","subject":"s"}"#,
        ] {
            assert!(!same(key, Some(r#"{"id":7,"schema":"s"}"#)), "{key}");
        }
    }

    #[test]
    fn a_replay_on_two_threads_gives_the_state_one_thread_gives() {
        use scute_storage::log::SchemaLog;
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let records: Vec<Record> = (1..=3000)
            .map(|i| {
                let key = format!(
                    r#"{{"keytype":"SCHEMA","subject":"s{}","version":{},"magic":1}}"#,
                    i % 700,
                    i / 700 + 1
                );
                let value = if i % 5 == 0 {
                    format!(r#"{{"id":{i},"schema":"\"t{i}\"","md5":"x"}}"#)
                } else if i % 11 == 0 {
                    "null".to_owned()
                } else {
                    format!(r#"{{"id":{},"schema":"\"t{}\""}}"#, i % 900, i % 900)
                };
                record::decode(key.as_bytes(), Some(value.as_bytes())).unwrap()
            })
            .collect();
        {
            let (log, _) = FileLog::open(dir.path()).unwrap();
            runtime.block_on(async {
                for r in &records {
                    log.append(r.encode()).await.unwrap();
                }
                log.close().await;
            });
        }
        let (log, recovery, state) = open_file_log(dir.path()).unwrap();
        assert_eq!(recovery.records, 3000);
        let mut expected = State::default();
        for r in records {
            expected.apply(r);
        }
        assert_eq!(state.applied(), expected.applied());
        let subjects = |s: &State| {
            s.subjects()
                .map(|(name, vs)| {
                    let versions: Vec<_> = vs
                        .iter()
                        .map(|(v, e)| (*v, e.id, e.deleted, e.content.clone()))
                        .collect();
                    (name.to_string(), versions)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(subjects(&state), subjects(&expected));
        assert_eq!(state.max_id("."), expected.max_id("."));
        for id in 0..1000 {
            assert_eq!(state.schema(".", id), expected.schema(".", id), "{id}");
        }
        runtime.block_on(log.close());
    }

    #[test]
    fn a_replayed_text_is_read_back_from_the_log_and_a_changed_file_is_an_error() {
        use crate::error::Error;
        use scute_storage::log::SchemaLog;
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let plain = r#"{"id":1,"schema":"{\"type\":\"string\"}"}"#;
        // Another field sends the record through the general decoder.
        let unusual = r#"{"id":2,"schema":"\"int\"","md5":"x"}"#;
        {
            let (log, _) = FileLog::open(dir.path()).unwrap();
            runtime.block_on(async {
                for (subject, value) in [("a", plain), ("b", unusual)] {
                    let key = format!(r#"{{"keytype":"SCHEMA","subject":"{subject}","version":1}}"#);
                    let record = record::decode(key.as_bytes(), Some(value.as_bytes())).unwrap();
                    log.append(record.encode()).await.unwrap();
                }
                log.close().await;
            });
        }
        let (log, _, state) = open_file_log(dir.path()).unwrap();
        let first = state.schema(".", 1).unwrap();
        assert!(matches!(first.schema, SchemaText::Logged { .. }));
        assert_eq!(first.text().unwrap(), r#"{"type":"string"}"#);
        let second = state.schema(".", 2).unwrap();
        assert!(matches!(second.schema, SchemaText::Inline(_)));
        assert_eq!(second.text().unwrap(), r#""int""#);

        // Another byte where the first text was: the checksum says so.
        let path = dir.path().join(scute_storage::file::LOG_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.windows(6).position(|w| w == b"string").unwrap();
        bytes[at] = b'S';
        std::fs::write(&path, bytes).unwrap();
        let err = first.text().unwrap_err();
        assert!(matches!(err, Error::Store(_)), "{err:?}");
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        assert_eq!(second.text().unwrap(), r#""int""#);
        runtime.block_on(log.close());
    }
}
