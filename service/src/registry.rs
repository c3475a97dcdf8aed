//! The registry's rules: validation, ids, versions, modes, compatibility.
//!
//! Operations take and return the API's own messages (`scute_proto::v1`):
//! they are the registry's vocabulary, and `grpc.rs` only adapts tonic's
//! request and status types around them.
//!
//! Reads take a snapshot of [`State`] under a short read lock. Writes
//! follow one of two paths, chosen by the log ([`SchemaLog::applies_on_read`]):
//!
//! * one writer (the file log): under the mutex the writer builds its records
//!   from the current state, queues them on the log (which fixes their order)
//!   and applies them; it then waits, outside the mutex, until the log says
//!   they are durable, so one fsync acknowledges every write queued meanwhile.
//! * a shared log (Kafka): only the replayer applies records, in the order the
//!   broker gave them. The writes waiting on this node go out as one batch:
//!   a catch-up (a NOOP, read back) only when the node cannot know what the
//!   topic holds (at start, after a failure), then each write built in turn
//!   on the state with the batch's earlier records applied (and taken off
//!   again before any reader sees them), its records stamped with the
//!   offsets they must land at, one produce of them all, one read-back. A
//!   write whose records landed elsewhere lost a race to another node: every
//!   reader ignored them, and it is built again in a later batch (bounded).
//!
//! Either way a write returns only once this node's state holds it.
//!
//! One file per job: `write` (the write path above), `schemas`, `subjects`,
//! `settings` (config and mode), `compatibility`, `associations`,
//! `contexts`, `tags`, `work`
//! (parses and comparisons on the compute pool) and `reply` (the API's
//! messages built from the state).

mod associations;
mod census;
mod compatibility;
mod contexts;
mod reply;
mod schemas;
mod settings;
mod subjects;
mod tags;
mod work;
mod write;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use scute_storage::log::{LogEntry, Offset, SchemaLog};
use scute_storage::record::{self, Record};
use tokio::sync::watch;

use crate::compute::Compute;
use crate::error::Error;
use crate::state::{SchemaContent, State};
use reply::{page, schema_reply};
use schemas::same_schema;
use settings::{check_writable, effective_level, effective_mode};
use subjects::{find_version, remove_subject};
use work::{Parsed, Work};

pub use census::{Census, SCHEMA_TYPES, TypeCount};
pub use write::WriteStats;

/// Confluent's default and maximum page size for schema searches.
const SEARCH_LIMIT: usize = 1000;

#[derive(Debug)]
pub struct Registry {
    state: RwLock<State>,
    log: Arc<dyn SchemaLog>,
    /// Serializes writers on the file log: a writer reads state, queues
    /// records and applies them as one step, so ids and versions are never
    /// handed out twice.
    writer: tokio::sync::Mutex<()>,
    /// Set when the log failed to make applied records durable: state then
    /// holds records the log may not, so no further write is accepted.
    poisoned: AtomicBool,
    /// Set on a shared log: how this node's records get applied.
    shared: Option<Shared>,
    /// Where schemas are parsed and compared, and within what bounds.
    compute: Compute,
    limits: Limits,
    /// What the server says about itself (`/v1/metadata`).
    info: ServerInfo,
}

/// Confluent's server metadata: where the registry keeps its schemas,
/// which group it serves in, what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// The Kafka cluster holding the schemas topic; empty on the embedded log.
    pub kafka_cluster_id: String,
    /// Confluent's `schema.registry.group.id`.
    pub group_id: String,
    /// Confluent's deployment attributes.
    pub deployment: Vec<String>,
    /// The level in force where no config sets one (Confluent's
    /// `schema.compatibility.level`).
    pub compatibility_level: crate::model::CompatibilityLevel,
}

impl Default for ServerInfo {
    fn default() -> Self {
        Self {
            kafka_cluster_id: String::new(),
            group_id: "schema-registry".into(),
            deployment: vec!["opensource".into()],
            compatibility_level: crate::model::CompatibilityLevel::DEFAULT,
        }
    }
}

/// What the registry takes of a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bounds every parse works within.
    pub parse: scute_formats::Limits,
    /// The largest schema text a request may carry (stored schemas, read
    /// from a log other registries may have written, are not held to it).
    pub max_schema_bytes: usize,
}

impl Limits {
    /// 8 MiB: above the largest real schemas (Google's compute.proto, the
    /// largest of its APIs, is about 2 MiB; Confluent's registry keeps a
    /// schema within one Kafka record, 1 MiB by default).
    pub const DEFAULT_MAX_SCHEMA_BYTES: usize = 8 << 20;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            parse: scute_formats::Limits::default(),
            max_schema_bytes: Self::DEFAULT_MAX_SCHEMA_BYTES,
        }
    }
}

/// A log other nodes write too: records are applied by the replayer only.
#[derive(Debug)]
struct Shared {
    /// This node's id, stamped on every record it writes.
    node: i32,
    /// The state's position (offset after the last record applied), for
    /// writers waiting to read their records back.
    applied: watch::Sender<Offset>,
    /// Serving once the replay reached the end the log had at start.
    ready: watch::Sender<bool>,
    /// The offset start-up replays up to, for the "not ready" message.
    replay_target: AtomicU64,
    /// How long a write waits for the log before giving up.
    timeout: Duration,
    /// Gathers this node's writes into batches.
    batcher: write::Batcher,
}

/// A schema from a request, parsed, with its stored form decided.
struct Candidate {
    parsed: Arc<Parsed>,
    content: SchemaContent,
}

impl Registry {
    /// A registry over a log whose records up to now are `state`, parsing
    /// and comparing schemas on `compute` within `limits`.
    pub fn new(state: State, log: Arc<dyn SchemaLog>, compute: Compute, limits: Limits) -> Self {
        Self {
            state: RwLock::new(state),
            log,
            writer: tokio::sync::Mutex::new(()),
            poisoned: AtomicBool::new(false),
            shared: None,
            compute,
            limits,
            info: ServerInfo::default(),
        }
    }

    /// The registry with what it says about itself.
    pub fn with_info(mut self, info: ServerInfo) -> Self {
        self.info = info;
        self
    }

    /// A registry over a log that other nodes share (see
    /// [`SchemaLog::applies_on_read`]): it starts empty and not serving; the
    /// caller feeds it every record read with [`Registry::apply_read`] and
    /// marks it ready with [`Registry::set_ready`] once caught up.
    pub fn shared(
        log: Arc<dyn SchemaLog>,
        node: i32,
        timeout: Duration,
        compute: Compute,
        limits: Limits,
    ) -> Self {
        let mut registry = Self::new(State::default(), log, compute, limits);
        registry.shared = Some(Shared {
            node,
            applied: watch::Sender::new(0),
            ready: watch::Sender::new(false),
            replay_target: AtomicU64::new(0),
            timeout,
            batcher: write::Batcher::default(),
        });
        registry
    }

    /// Applies a record read back from a shared log.
    pub fn apply_read(&self, entry: LogEntry) {
        let position = {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            match record::decode_stamped(&entry.record.key, entry.record.value.as_deref()) {
                Ok((record, stamp)) => {
                    state.apply_at(entry.offset, record, stamp);
                }
                Err(e) => {
                    // Still moves the position: the record is read, and skipped.
                    state.apply_at(entry.offset, Record::Noop, None);
                    tracing::warn!(offset = entry.offset, error = %e, "skipping a record that does not parse");
                }
            }
            state.position()
        };
        if let Some(shared) = &self.shared {
            shared.applied.send_replace(position);
        }
    }

    /// What the writes on a shared log have done; `None` on the file log.
    pub fn write_stats(&self) -> Option<&WriteStats> {
        self.shared.as_ref().map(|s| &*s.batcher.stats)
    }

    /// The offset after the last record applied.
    pub fn position(&self) -> Offset {
        self.read().position()
    }

    /// Sets the offset start-up must read up to before serving.
    pub fn set_replay_target(&self, target: Offset) {
        if let Some(shared) = &self.shared {
            shared.replay_target.store(target, Ordering::Release);
        }
    }

    /// Starts serving: the replay has caught up with the log.
    pub fn set_ready(&self) {
        if let Some(shared) = &self.shared {
            shared.ready.send_replace(true);
        }
    }

    /// Resolves once the registry serves.
    pub async fn wait_serving(&self) {
        if let Some(shared) = &self.shared {
            let _ = shared.ready.subscribe().wait_for(|ready| *ready).await;
        }
    }

    /// Waits until the state holds every record before `offset`.
    pub async fn wait_applied(&self, offset: Offset) {
        if let Some(shared) = &self.shared {
            let mut applied = shared.applied.subscribe();
            let _ = applied.wait_for(|p| *p >= offset).await;
        }
    }

    /// An error unless the node serves: a node still replaying a shared log
    /// could give stale answers, so it gives none.
    pub fn serving(&self) -> Result<(), Error> {
        match &self.shared {
            Some(shared) if !*shared.ready.borrow() => Err(Error::NotReady(format!(
                "Scute is still reading the schemas topic (at offset {} of {}) and answers once it has caught up; retry shortly",
                self.position(),
                shared.replay_target.load(Ordering::Acquire)
            ))),
            _ => Ok(()),
        }
    }

    pub(super) fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave State half-applied in
        // a way readers could not use; keep serving.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The compute pool's size and deadline.
    pub fn compute_config(&self) -> crate::compute::ComputeConfig {
        self.compute.config()
    }

    /// A request's heavy work, with its deadline starting now.
    pub(super) fn work(&self) -> Work {
        Work::new(&self.compute, self.limits.parse)
    }

    /// How many records the state holds (for start-up logs).
    pub fn applied(&self) -> u64 {
        self.read().applied()
    }
}
