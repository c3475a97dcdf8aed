//! An in-memory [`SchemaLog`] for tests of the crates above this one.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::log::{BoxFuture, LogEntry, LogError, Offset, SchemaLog};
use crate::record::RawRecord;

/// A log kept in a `Vec`: every append is "durable" at once. Nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryLog {
    records: Mutex<Vec<RawRecord>>,
}

impl MemoryLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// A log that already holds `records`, e.g. records written by another registry.
    pub fn with_records(records: Vec<RawRecord>) -> Self {
        Self {
            records: Mutex::new(records),
        }
    }

    /// A copy of every record, in order.
    pub fn records(&self) -> Vec<RawRecord> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<RawRecord>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SchemaLog for MemoryLog {
    fn end_offset(&self) -> BoxFuture<'_, Result<Offset, LogError>> {
        let end = self.lock().len() as Offset;
        Box::pin(std::future::ready(Ok(end)))
    }

    fn read_from(
        &self,
        from: Offset,
        max: usize,
    ) -> BoxFuture<'_, Result<Vec<LogEntry>, LogError>> {
        let records = self.lock();
        let entries = records
            .iter()
            .enumerate()
            .skip(usize::try_from(from).unwrap_or(usize::MAX))
            .take(max)
            .map(|(offset, record)| LogEntry {
                offset: offset as Offset,
                record: record.clone(),
            })
            .collect();
        Box::pin(std::future::ready(Ok(entries)))
    }

    fn append(&self, record: RawRecord) -> BoxFuture<'static, Result<Offset, LogError>> {
        let mut records = self.lock();
        records.push(record);
        let offset = (records.len() - 1) as Offset;
        Box::pin(std::future::ready(Ok(offset)))
    }

    fn flush(&self) -> BoxFuture<'static, Result<(), LogError>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn append_and_read() {
        let log = MemoryLog::new();
        let rec = |i: u8| RawRecord {
            key: vec![i],
            value: i.is_multiple_of(2).then(|| vec![i; 3]),
        };
        // Queued at call time: the offsets follow the calls, not the awaits.
        let a = log.append(rec(0));
        let b = log.append(rec(1));
        assert_eq!((b.await.unwrap(), a.await.unwrap()), (1, 0));
        log.append(rec(2)).await.unwrap();
        log.flush().await.unwrap();
        assert_eq!(log.end_offset().await.unwrap(), 3);
        let entries = log.read_from(1, 10).await.unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].offset, &entries[0].record), (1, &rec(1)));
        assert_eq!(log.read_from(0, 1).await.unwrap().len(), 1);
        assert!(log.read_from(3, 1).await.unwrap().is_empty());
        assert_eq!(log.records().len(), 3);
    }
}
