//! Scute's log: the `_schemas` record formats and the backends that store them.
//!
//! The log is the truth; everything else is replay. Every write the registry accepts
//! becomes one record appended here, and all registry state is rebuilt by applying
//! records in log order, so durability, recovery and multi-node consistency are solved
//! once, in this crate, and nowhere else. The records are byte-exact with what
//! Confluent Schema Registry writes to its `_schemas` topic ([`record`]), so a log can
//! move between Scute, Confluent, Karapace and Redpanda. The backends sit behind one
//! object-safe trait ([`SchemaLog`]): [`FileLog`], an fsync'd append-only file for a
//! single node, [`KafkaLog`], a compacted topic shared by many nodes, and
//! [`MemoryLog`] for tests.

pub mod file;
pub mod kafka;
pub mod log;
pub mod memory;
pub mod record;
pub mod stats;

pub use file::{FileLog, Recovery};
pub use kafka::{KafkaLog, KafkaReader, KafkaSettings};
pub use log::{BoxFuture, LogEntry, LogError, Offset, SchemaLog};
pub use memory::MemoryLog;
pub use record::{
    ConfigValue, DeleteSubjectValue, KeyStamp, ModeValue, RawRecord, Record, RecordError,
    SchemaReference, SchemaValue, decode, decode_stamped,
};
