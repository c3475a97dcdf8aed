//! `scute backup` and `scute restore`: the log as a text file, one record a
//! line, so a registry can move between the embedded store and a Kafka topic
//! (Confluent's, Karapace's or Scute's) in either direction.
//!
//! A line is the key, a tab, and the value (`null` for a tombstone), the
//! shape `kafka-console-consumer --property print.key=true` prints and
//! `kafka-console-producer --property parse.key=true` reads. Records that
//! lost a race on a shared topic are left out and the winners' `seq`/`node`
//! stamps removed, since a stamp names an offset of the source topic: the
//! backup is a plain Confluent log that replays the same anywhere.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use scute_storage::file::FileLog;
use scute_storage::kafka::KafkaLog;
use scute_storage::log::{LogEntry, SchemaLog};
use scute_storage::record::{self, RawRecord};

use crate::{Config, ServerError, kafka_settings};

/// Records read from the source per request.
const BATCH: usize = 10_000;

fn failed(what: impl std::fmt::Display) -> ServerError {
    ServerError::Backup(what.to_string())
}

/// The configured store: the Kafka topic if a bootstrap is given, else the data directory.
async fn open(config: &Config) -> Result<(Arc<dyn SchemaLog>, Option<Arc<FileLog>>), ServerError> {
    if let Some(settings) = kafka_settings(config) {
        return Ok((Arc::new(KafkaLog::open(settings).await?), None));
    }
    let dir = config.data_dir.clone();
    let (log, _) = tokio::task::spawn_blocking(move || FileLog::open(&dir))
        .await
        .map_err(failed)??;
    let log = Arc::new(log);
    Ok((log.clone(), Some(log)))
}

async fn close(file: Option<Arc<FileLog>>) {
    if let Some(log) = file.and_then(|log| Arc::try_unwrap(log).ok()) {
        log.close().await;
    }
}

/// Writes every record of the configured store to `to`; returns how many.
/// Refuses to overwrite an existing file.
pub async fn backup(config: &Config, to: &Path) -> Result<u64, ServerError> {
    let (log, file) = open(config).await?;
    let out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| failed(format!("cannot create {}: {e}", to.display())))?;
    let mut out = std::io::BufWriter::new(out);
    let mut next = 0;
    let mut written = 0;
    loop {
        let entries = log.read_from(next, BATCH).await?;
        let Some(last) = entries.last() else { break };
        next = last.offset + 1;
        for entry in entries {
            if let Some(record) = unstamped(entry) {
                write_line(&mut out, &record)
                    .map_err(|e| failed(format!("{}: {e}", to.display())))?;
                written += 1;
            }
        }
    }
    out.flush()
        .and_then(|()| out.get_ref().sync_all())
        .map_err(|e| failed(format!("{}: {e}", to.display())))?;
    close(file).await;
    Ok(written)
}

/// Appends every record of `from` to the configured store, which must be
/// empty: a restore never mixes two histories. Returns how many.
pub async fn restore(config: &Config, from: &Path) -> Result<u64, ServerError> {
    let records = read_lines(from)?;
    let (log, file) = open(config).await?;
    if !log.read_from(0, 1).await?.is_empty() {
        close(file).await;
        return Err(failed(
            "the target store is not empty; restore only into an empty data directory or topic",
        ));
    }
    let count = records.len() as u64;
    let pending: Vec<_> = records.into_iter().map(|r| log.append(r)).collect();
    for append in pending {
        append.await?;
    }
    log.flush().await?;
    close(file).await;
    Ok(count)
}

/// The record as a plain Confluent record, or `None` if it lost a race.
fn unstamped(entry: LogEntry) -> Option<RawRecord> {
    let record = entry.record;
    let Ok((_, Some(stamp))) = record::decode_stamped(&record.key, record.value.as_deref()) else {
        return Some(record);
    };
    if record.value.is_some() && u64::try_from(stamp.seq).ok() != Some(entry.offset) {
        return None;
    }
    let mut key: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&record.key).ok()?;
    key.remove("seq");
    key.remove("node");
    Some(RawRecord {
        key: serde_json::to_vec(&key).ok()?,
        value: record.value,
    })
}

fn write_line(out: &mut impl Write, record: &RawRecord) -> std::io::Result<()> {
    let bad = |b: &u8| *b == b'\n' || *b == b'\t';
    if record.key.iter().any(bad) || record.value.iter().flatten().any(|b| *b == b'\n') {
        return Err(std::io::Error::other(
            "a record holds a raw newline or tab and cannot be written as one line",
        ));
    }
    out.write_all(&record.key)?;
    out.write_all(b"\t")?;
    out.write_all(record.value.as_deref().unwrap_or(b"null"))?;
    out.write_all(b"\n")
}

fn read_lines(from: &Path) -> Result<Vec<RawRecord>, ServerError> {
    let input = std::fs::File::open(from)
        .map_err(|e| failed(format!("cannot open {}: {e}", from.display())))?;
    let mut records = Vec::new();
    for (n, line) in std::io::BufReader::new(input).split(b'\n').enumerate() {
        let line = line.map_err(|e| failed(format!("{}: {e}", from.display())))?;
        if line.is_empty() {
            continue;
        }
        let Some(tab) = line.iter().position(|b| *b == b'\t') else {
            return Err(failed(format!(
                "{} line {}: expected KEY<tab>VALUE",
                from.display(),
                n + 1
            )));
        };
        let value = &line[tab + 1..];
        records.push(RawRecord {
            key: line[..tab].to_vec(),
            value: (value != b"null").then(|| value.to_vec()),
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn stamps_are_removed_and_lost_races_dropped() {
        let entry = |offset, key: &str| LogEntry {
            offset,
            record: RawRecord {
                key: key.as_bytes().to_vec(),
                value: Some(br#"{"compatibilityLevel":"FULL"}"#.to_vec()),
            },
        };
        let won = unstamped(entry(
            3,
            r#"{"keytype":"CONFIG","magic":0,"seq":3,"node":1}"#,
        ));
        assert_eq!(won.unwrap().key, br#"{"keytype":"CONFIG","magic":0}"#);
        assert!(
            unstamped(entry(
                4,
                r#"{"keytype":"CONFIG","magic":0,"seq":3,"node":2}"#
            ))
            .is_none()
        );
        let plain = unstamped(entry(5, r#"{"keytype":"CONFIG","magic":0}"#));
        assert_eq!(plain.unwrap().key, br#"{"keytype":"CONFIG","magic":0}"#);
    }

    #[test]
    fn lines_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.txt");
        let records = vec![
            RawRecord {
                key: br#"{"keytype":"NOOP","magic":0}"#.to_vec(),
                value: None,
            },
            RawRecord {
                key: br#"{"keytype":"CONFIG","magic":0}"#.to_vec(),
                value: Some(br#"{"compatibilityLevel":"FULL"}"#.to_vec()),
            },
        ];
        let mut out = Vec::new();
        for r in &records {
            write_line(&mut out, r).unwrap();
        }
        std::fs::write(&path, out).unwrap();
        assert_eq!(read_lines(&path).unwrap(), records);
    }
}
