//! What the registry holds, counted for the metrics, and whether its log
//! still takes writes, for readiness.

use std::sync::atomic::Ordering;

use scute_storage::log::Offset;
use scute_storage::stats::LogStats;

use super::Registry;

/// The schema types, in the order the metrics list them.
pub const SCHEMA_TYPES: [&str; 3] = ["AVRO", "PROTOBUF", "JSON"];

/// Counts of one schema type.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TypeCount {
    /// Subject versions of this type that are not soft-deleted.
    pub live_versions: u64,
    /// Soft-deleted subject versions of this type.
    pub deleted_versions: u64,
    /// Schema ids holding this type, over every context.
    pub schemas: u64,
}

/// The registry's contents at one moment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Census {
    /// Subjects with a version that is not soft-deleted.
    pub live_subjects: u64,
    /// Subjects whose every version is soft-deleted.
    pub deleted_subjects: u64,
    /// By type, in [`SCHEMA_TYPES`] order.
    pub types: [TypeCount; 3],
    /// Contexts, the default one included.
    pub contexts: u64,
}

impl Census {
    pub fn live_versions(&self) -> u64 {
        self.types.iter().map(|t| t.live_versions).sum()
    }

    pub fn deleted_versions(&self) -> u64 {
        self.types.iter().map(|t| t.deleted_versions).sum()
    }
}

fn type_slot(schema_type: &str) -> usize {
    SCHEMA_TYPES
        .iter()
        .position(|t| *t == schema_type)
        .unwrap_or(0)
}

impl Registry {
    /// Counts what the state holds: one pass over subjects and ids under
    /// the read lock (about a millisecond per hundred thousand versions).
    pub fn census(&self) -> Census {
        let state = self.read();
        let mut census = Census::default();
        for (_, versions) in state.subjects() {
            let mut live = false;
            for entry in versions.values() {
                let slot = &mut census.types[type_slot(&entry.content.schema_type)];
                if entry.deleted {
                    slot.deleted_versions += 1;
                } else {
                    slot.live_versions += 1;
                    live = true;
                }
            }
            if live {
                census.live_subjects += 1;
            } else if !versions.is_empty() {
                census.deleted_subjects += 1;
            }
        }
        for content in state.all_schemas() {
            census.types[type_slot(&content.schema_type)].schemas += 1;
        }
        let mut contexts: std::collections::BTreeSet<&str> = state.contexts().collect();
        contexts.extend(state.id_contexts());
        contexts.insert(crate::context::DEFAULT);
        census.contexts = contexts.len() as u64;
        census
    }

    /// Why writes cannot succeed now, if they cannot: the log failed
    /// (file), or the node has not read the shared topic up to its start.
    pub fn not_writable(&self) -> Option<String> {
        if self.poisoned.load(Ordering::Acquire) {
            return Some(
                "an earlier write failed to reach the disk; no further writes are accepted".into(),
            );
        }
        self.serving().err().map(|e| e.to_string())
    }

    /// What the log counted.
    pub fn log_stats(&self) -> Option<&LogStats> {
        self.log.stats()
    }

    /// The offset the log would give its next record, asked of the log
    /// (on Kafka, of the broker).
    pub async fn log_end(&self) -> Result<Offset, scute_storage::LogError> {
        self.log.end_offset().await
    }
}
