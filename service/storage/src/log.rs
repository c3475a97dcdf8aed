//! The log trait that every backend implements.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use crate::record::RawRecord;

/// A boxed future, so the trait stays object-safe (`Arc<dyn SchemaLog>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The position of a record in the log: 0 for the first record, dense.
pub type Offset = u64;

/// A record and the offset it sits at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub offset: Offset,
    pub record: RawRecord,
}

/// Why the log could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "data directory {} is locked: another scute process holds it (lock file {})",
        dir.display(),
        lock_file.display()
    )]
    Locked { dir: PathBuf, lock_file: PathBuf },
    #[error("corrupt log {} at byte {position}: {reason}", path.display())]
    Corrupt {
        path: PathBuf,
        position: u64,
        reason: String,
    },
    #[error("record too large for the log: {bytes} bytes")]
    RecordTooLarge { bytes: usize },
    #[error("Kafka: {0}")]
    Kafka(String),
    #[error("{0}")]
    BadTopic(String),
    #[error("the log is closed")]
    Closed,
    #[error("the log is poisoned by an earlier write failure and accepts no more writes: {reason}")]
    Poisoned { reason: String },
}

/// The log of `_schemas` records: the single source of truth of the registry.
pub trait SchemaLog: Send + Sync + std::fmt::Debug + 'static {
    /// Offset the next appended record would get.
    fn end_offset(&self) -> BoxFuture<'_, Result<Offset, LogError>>;

    /// Records from `from` (inclusive) up to at most `max` records, up to the end as of
    /// the call.
    fn read_from(&self, from: Offset, max: usize)
    -> BoxFuture<'_, Result<Vec<LogEntry>, LogError>>;

    /// Queues a record behind every record queued before it, and returns a future that
    /// resolves to its offset once the record is durable. The queueing happens before this
    /// function returns (not on first poll), so a caller that queues under a lock fixes the
    /// log order.
    fn append(&self, record: RawRecord) -> BoxFuture<'static, Result<Offset, LogError>>;

    /// Resolves once every record queued before the call is durable.
    fn flush(&self) -> BoxFuture<'static, Result<(), LogError>>;

    /// Whether a record counts only once read back from the log, because other
    /// writers share it and the log, not the writer, decides the order (Kafka).
    /// When false (the file log, one writer), the writer applies its records itself.
    fn applies_on_read(&self) -> bool {
        false
    }

    /// What the backend counted, for the metrics; `None` if it counts nothing.
    fn stats(&self) -> Option<&crate::stats::LogStats> {
        None
    }
}
