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

use scute_storage::file::{FileLog, Frame, FrameReader, LogTail, Recovery};
use scute_storage::log::LogError;
use scute_storage::record::{self, Record, SchemaValue};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::guid::{self, Guid};
use crate::state::{LogTexts, SchemaText, State, snapshot};

/// Records handed to the applying thread at a time.
const BATCH: usize = 1024;
/// Batches decoded ahead of the applying thread: bounds what a replay holds.
const BATCHES_AHEAD: usize = 8;

/// Records a replay must decode, past a snapshot, for a new snapshot to be
/// written: below that, the next start decodes them again in no time.
pub(crate) const SNAPSHOT_AFTER: u64 = 10_000;

/// An opened embedded log and the state it holds.
pub(crate) struct Replayed {
    pub log: FileLog,
    pub recovery: Recovery,
    pub state: State,
    /// Records decoded (the rest came from a snapshot).
    pub decoded: u64,
}

/// Opens the file log in `dir` and replays it into a new state: from the
/// snapshot in `dir` and the log past it when the log still holds what the
/// snapshot covers, else from the whole log. The snapshot is decoded on
/// threads of its own while this one checks the log's frames, which are
/// then applied past it.
pub(crate) fn open_file_log(dir: &Path) -> Result<Replayed, LogError> {
    let started = std::time::Instant::now();
    if let Some((texts, tail, decoding)) = start_snapshot(dir) {
        let replayed = replay(dir, Some(texts.clone()), decoding, Some(tail))?;
        let (log, recovery, state, decoded) = replayed;
        let covered = recovery.records >= tail.records && texts.holds(&tail).unwrap_or(false);
        match state {
            Some(state) if covered && decoded == recovery.records - tail.records => {
                tracing::info!(
                    snapshot = tail.records,
                    snapshot_ms = started.elapsed().as_millis() as u64,
                    decoded,
                    "state from the snapshot and the log past it"
                );
                return Ok(Replayed {
                    log,
                    recovery,
                    state,
                    decoded,
                });
            }
            Some(_) => tracing::warn!(
                snapshot = tail.records,
                records = recovery.records,
                "the log no longer holds what the snapshot covers; replaying the whole log"
            ),
            // Said why where it was read.
            None => {}
        }
        log.close_blocking();
    }
    let (log, recovery, state, decoded) = replay(dir, None, || Some(State::default()), None)?;
    Ok(Replayed {
        log,
        recovery,
        // The default state, always there.
        state: state.unwrap_or_default(),
        decoded,
    })
}

/// The state a replay applies the log to, once it is there (`None`: it
/// could not be had, and the replay is for nothing).
type Base = Box<dyn FnOnce() -> Option<State> + Send>;

/// Starts decoding the snapshot in `dir`, if there is one: the texts it
/// reads from the log, the tail it covers, and the decoded state to wait
/// for. A bad snapshot is logged and left for the next one to replace.
fn start_snapshot(dir: &Path) -> Option<(Arc<LogTexts>, LogTail, Base)> {
    let path = dir.join(snapshot::SNAPSHOT_FILE);
    let bad = |e: &dyn std::fmt::Display| {
        tracing::warn!(path = %path.display(), error = %e, "the snapshot does not read; replaying the whole log");
    };
    let opened = std::fs::File::open(&path).and_then(|file| Ok((file.metadata()?.len(), file)));
    let (len, mut file) = match opened {
        Ok(opened) => opened,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            bad(&e);
            return None;
        }
    };
    let texts = match FrameReader::open(dir) {
        Ok(reader) => Arc::new(LogTexts::new(reader)),
        Err(e) => {
            tracing::warn!(error = %e, "a snapshot but no log to read; replaying the whole log");
            return None;
        }
    };
    let tail = match snapshot::peek_tail(&mut file).and_then(|tail| {
        std::io::Seek::rewind(&mut file).map_err(|e| e.to_string())?;
        Ok(tail)
    }) {
        Ok(tail) => tail,
        Err(e) => {
            bad(&e);
            return None;
        }
    };
    let decoding = {
        let texts = texts.clone();
        std::thread::Builder::new()
            .name("scute-snapshot".into())
            .spawn(move || {
                let source = std::io::BufReader::with_capacity(1 << 20, file);
                snapshot::decode_from(source, len, &texts)
            })
    };
    let decoding = match decoding {
        Ok(decoding) => decoding,
        Err(e) => {
            bad(&e);
            return None;
        }
    };
    let path = path.clone();
    let base = move || match decoding.join() {
        Ok(Ok((read, state))) if read == tail => Some(state),
        Ok(Ok(_)) => {
            tracing::warn!(path = %path.display(), "the snapshot's head and body disagree; replaying the whole log");
            None
        }
        Ok(Err(e)) => {
            tracing::warn!(path = %path.display(), error = %e, "the snapshot does not read; replaying the whole log");
            None
        }
        Err(_) => {
            tracing::warn!(path = %path.display(), "decoding the snapshot panicked; replaying the whole log");
            None
        }
    };
    Some((texts, tail, Box::new(base)))
}

/// Writes the snapshot of `dir` with `encode` (`snapshot::encode` over the
/// state): to a file of its own, synced, then renamed over the old one, so
/// a crash leaves the old snapshot or the new one. Whether one was written.
pub(crate) fn write_snapshot(
    dir: &Path,
    encode: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<bool>,
) -> std::io::Result<bool> {
    let path = dir.join(snapshot::SNAPSHOT_FILE);
    let partial = path.with_extension("snapshot.partial");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&partial)?);
    let written = encode(&mut out);
    let file = out
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error);
    let file = match (written, file) {
        (Ok(true), Ok(file)) => file,
        (written, file) => {
            drop(file);
            let _ = std::fs::remove_file(&partial);
            return written.and(Ok(false));
        }
    };
    file.sync_all()?;
    drop(file);
    std::fs::rename(&partial, &path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(true)
}

/// Replays `dir`'s log onto the state `base` gives: the frames past
/// `covered` (a snapshot's tail), each checked to be where the snapshot saw
/// it. The log is opened and checked while `base` is still being made.
/// The log, what its opening found, the state (`None` if `base` gave
/// none), and the records decoded.
fn replay(
    dir: &Path,
    reader: Option<Arc<LogTexts>>,
    base: impl FnOnce() -> Option<State> + Send + 'static,
    covered: Option<LogTail>,
) -> Result<(FileLog, Recovery, Option<State>, u64), LogError> {
    let (tx, rx) = mpsc::sync_channel::<Vec<Decoded>>(BATCHES_AHEAD);
    let applier = std::thread::Builder::new()
        .name("scute-replay".into())
        .spawn(move || {
            let mut state = base();
            // Drained even without a state, so the reading never blocks.
            for batch in rx {
                let Some(state) = state.as_mut() else {
                    continue;
                };
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
    let skip = covered.map_or(0, |tail| tail.records);
    let mut batch = Vec::with_capacity(BATCH);
    let mut decoded = 0;
    // Opened at the first frame, when the file surely exists; without it,
    // texts stay in memory.
    let mut reader: Option<Option<Arc<LogTexts>>> = reader.map(Some);
    let opened = FileLog::open_with_frames(dir, |frame| {
        if frame.offset < skip {
            return;
        }
        if frame.offset == skip
            && let Some(tail) = &covered
            && frame.place.at != tail.last.at + u64::from(tail.last.len)
        {
            // Not where the snapshot's last frame ended: not that log. The
            // count of decoded records tells the caller.
            return;
        }
        let reader = reader.get_or_insert_with(|| match FrameReader::open(dir) {
            Ok(reader) => Some(Arc::new(LogTexts::new(reader))),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read texts back from the log; keeping them in memory");
                None
            }
        });
        decoded += 1;
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
    Ok((log, recovery, state, decoded))
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
fn decode_frame(frame: Frame<'_>, log: Option<&Arc<LogTexts>>) -> Option<Decoded> {
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
        let Replayed {
            log,
            recovery,
            state,
            ..
        } = open_file_log(dir.path()).unwrap();
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
                    let key =
                        format!(r#"{{"keytype":"SCHEMA","subject":"{subject}","version":1}}"#);
                    let record = record::decode(key.as_bytes(), Some(value.as_bytes())).unwrap();
                    log.append(record.encode()).await.unwrap();
                }
                log.close().await;
            });
        }
        let Replayed { log, state, .. } = open_file_log(dir.path()).unwrap();
        let first = state.schema(".", 1).unwrap();
        assert!(matches!(first.schema, SchemaText::Logged { .. }));
        let second = state.schema(".", 2).unwrap();
        assert!(matches!(second.schema, SchemaText::Inline(_)));
        assert_eq!(second.text().unwrap(), r#""int""#);

        // Another byte where the first text is: the checksum says so.
        let path = dir.path().join(scute_storage::file::LOG_FILE);
        let good = std::fs::read(&path).unwrap();
        let mut bad = good.clone();
        let at = bad.windows(6).position(|w| w == b"string").unwrap();
        bad[at] = b'S';
        std::fs::write(&path, bad).unwrap();
        let err = first.text().unwrap_err();
        assert!(matches!(err, Error::Store(_)), "{err:?}");
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        // Put back, the text reads; read once, it is kept decoded.
        std::fs::write(&path, &good).unwrap();
        assert_eq!(first.text().unwrap(), r#"{"type":"string"}"#);
        std::fs::write(&path, b"").unwrap();
        assert_eq!(first.text().unwrap(), r#"{"type":"string"}"#);
        runtime.block_on(log.close());
    }

    /// Appends SCHEMA records `from..to` (plain ones, and every fifth with a
    /// field that takes the general decoder) to the log in `dir`.
    fn append_schemas(dir: &Path, from: usize, to: usize) {
        use scute_storage::log::SchemaLog;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (log, _) = FileLog::open(dir).unwrap();
        runtime.block_on(async {
            for i in from..to {
                let key = format!(
                    r#"{{"keytype":"SCHEMA","subject":"s{}","version":{}}}"#,
                    i % 50,
                    i / 50 + 1
                );
                let extra = if i % 5 == 0 { r#","md5":"x""# } else { "" };
                let value = format!(r#"{{"id":{i},"schema":"\"t{i}\""{extra}}}"#);
                let record = record::decode(key.as_bytes(), Some(value.as_bytes())).unwrap();
                log.append(record.encode()).await.unwrap();
            }
            log.close().await;
        });
    }

    /// Opens the log in `dir` and writes a snapshot of what it replays.
    fn snapshot_of(dir: &Path) {
        let replayed = open_file_log(dir).unwrap();
        let tail = replayed.log.tail().unwrap().unwrap();
        let written = write_snapshot(dir, |w| snapshot::encode(&replayed.state, &tail, w));
        assert!(written.unwrap());
        replayed.log.close_blocking();
    }

    /// The state a replay of the whole log gives, the snapshot set aside.
    fn whole_replay(dir: &Path) -> State {
        let path = dir.join(snapshot::SNAPSHOT_FILE);
        let aside = dir.join("aside");
        std::fs::rename(&path, &aside).unwrap();
        let replayed = open_file_log(dir).unwrap();
        assert_eq!(replayed.decoded, replayed.recovery.records);
        replayed.log.close_blocking();
        std::fs::rename(&aside, &path).unwrap();
        replayed.state
    }

    #[test]
    fn a_restart_reads_the_snapshot_and_decodes_only_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        append_schemas(dir.path(), 1, 400);
        snapshot_of(dir.path());
        append_schemas(dir.path(), 400, 460);
        let expected = whole_replay(dir.path());
        let replayed = open_file_log(dir.path()).unwrap();
        assert_eq!(replayed.recovery.records, 459);
        assert_eq!(replayed.decoded, 60);
        assert_eq!(replayed.state, expected);
        assert_eq!(
            replayed.state.schema(".", 7).unwrap().text().unwrap(),
            "\"t7\""
        );
        replayed.log.close_blocking();
    }

    #[test]
    fn a_log_cut_below_the_snapshot_or_a_damaged_snapshot_means_a_whole_replay() {
        let dir = tempfile::tempdir().unwrap();
        append_schemas(dir.path(), 1, 300);
        snapshot_of(dir.path());
        // A damaged snapshot: ignored.
        let path = dir.path().join(snapshot::SNAPSHOT_FILE);
        let good = std::fs::read(&path).unwrap();
        let mut damaged = good.clone();
        damaged[20] ^= 1;
        std::fs::write(&path, &damaged).unwrap();
        let replayed = open_file_log(dir.path()).unwrap();
        assert_eq!(replayed.decoded, 299);
        replayed.log.close_blocking();

        // The log cut inside its last frame: the snapshot covers a record
        // the log lost, so the whole log is replayed.
        std::fs::write(&path, &good).unwrap();
        let log_path = dir.path().join(scute_storage::file::LOG_FILE);
        let len = std::fs::metadata(&log_path).unwrap().len();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&log_path)
            .unwrap();
        file.set_len(len - 3).unwrap();
        drop(file);
        let replayed = open_file_log(dir.path()).unwrap();
        assert_eq!(replayed.recovery.records, 298);
        assert_eq!(replayed.decoded, 298);
        assert!(replayed.state.schema(".", 299).is_none());
        assert!(replayed.state.schema(".", 298).is_some());
        replayed.log.close_blocking();

        // Records appended in place of the lost one: the snapshot's last
        // frame is not there any more, so again the whole log.
        append_schemas(dir.path(), 1000, 1002);
        let replayed = open_file_log(dir.path()).unwrap();
        assert_eq!(replayed.decoded, 300);
        assert!(replayed.state.schema(".", 299).is_none());
        assert!(replayed.state.schema(".", 1001).is_some());
        replayed.log.close_blocking();
    }
}
