//! The registry's rules: validation, ids, versions, modes, compatibility.
//!
//! Operations take and return the API's own messages (`scute_proto::v1`):
//! they are the registry's vocabulary, and `grpc.rs` only adapts tonic's
//! request and status types around them.
//!
//! Reads take a snapshot of [`State`] under a short read lock. Writes are
//! serialized on this node by one async mutex, and follow one of two paths,
//! chosen by the log ([`SchemaLog::applies_on_read`]):
//!
//! * one writer (the file log): under the mutex the writer builds its records
//!   from the current state, queues them on the log (which fixes their order)
//!   and applies them; it then waits, outside the mutex, until the log says
//!   they are durable, so one fsync acknowledges every write queued meanwhile.
//! * a shared log (Kafka): only the replayer applies records, in the order the
//!   broker gave them. The writer catches up (a NOOP, read back), builds its
//!   records from that state, stamps each with the offset it must land at,
//!   produces them and waits until they are read back. If they landed
//!   elsewhere, another node wrote first: the records were ignored by every
//!   reader, and the writer builds again on the new state (bounded, jittered).
//!
//! Either way a write returns only once this node's state holds it.

mod associations;
mod work;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use scute_formats::SchemaType;
use scute_proto::v1 as api;
use scute_storage::log::{LogEntry, Offset, SchemaLog};
use scute_storage::record::{
    self, ConfigValue, DeleteSubjectValue, KeyStamp, ModeValue, Record, SchemaReference,
    SchemaValue,
};
use tokio::sync::watch;

use crate::compute::Compute;
use crate::data_contract;
use crate::error::Error;
use crate::guid;
use crate::model::{
    CompatibilityLevel, Mode, SchemaId, Version, VersionSelector, validate_subject,
};
use crate::state::{SchemaContent, State, VersionEntry};
use work::{Directions, Output, Parsed, Work};

/// Confluent's default and maximum page size for schema searches.
const SEARCH_LIMIT: usize = 1000;

#[derive(Debug)]
pub struct Registry {
    state: RwLock<State>,
    log: Arc<dyn SchemaLog>,
    /// Serializes writers: a writer reads state, queues records and applies
    /// them as one step, so ids and versions are never handed out twice.
    writer: tokio::sync::Mutex<()>,
    /// Set when the log failed to make applied records durable: state then
    /// holds records the log may not, so no further write is accepted.
    poisoned: AtomicBool,
    /// Set on a shared log: how this node's records get applied.
    shared: Option<Shared>,
    /// Where schemas are parsed and compared, and within what bounds.
    compute: Compute,
    limits: Limits,
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
}

/// How many times a write is rebuilt after losing a race to another node.
const WRITE_ATTEMPTS: u32 = 50;
/// How long a retry waits for the broker's end offset and to read up to it.
const CATCH_UP_HINT: Duration = Duration::from_millis(200);

/// How many rounds of heavy work one request's rules may ask for: a parse,
/// then the comparisons it allows; more only while other writes keep
/// changing what the rules look at.
const WORK_ROUNDS: usize = 8;

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
        }
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

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave State half-applied in
        // a way readers could not use; keep serving.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The compute pool's size and deadline.
    pub fn compute_config(&self) -> crate::compute::ComputeConfig {
        self.compute.config()
    }

    /// A request's heavy work, with its deadline starting now.
    fn work(&self) -> Work {
        Work::new(&self.compute, self.limits.parse)
    }

    /// Runs `rules` on the current state until they have every parse and
    /// comparison they ask `work` for: each round that leaves some wanted
    /// does it on the compute pool, with no lock held, and runs them again.
    async fn with_work<T>(
        &self,
        work: &mut Work,
        mut rules: impl FnMut(&State, &mut Work) -> Result<Option<T>, Error>,
    ) -> Result<T, Error> {
        for _ in 0..WORK_ROUNDS {
            let out = rules(&self.read(), work)?;
            match out {
                Some(out) => return Ok(out),
                None if work.pending() => work.run().await?,
                None => break,
            }
        }
        Err(Error::Internal(
            "a request's rules kept asking for more work".into(),
        ))
    }

    /// [`Registry::write`] for rules that need heavy work: the work is done
    /// first, on the state as it is now and outside the writer's lock; the
    /// write then finds it done, unless another write changed what the rules
    /// look at meanwhile, and then the missing work is done and the write
    /// built again.
    async fn write_with_work<T>(
        &self,
        operation: &str,
        work: &mut Work,
        mut op: impl FnMut(&State, &mut Work) -> Result<Option<(Vec<Record>, T)>, Error>,
    ) -> Result<T, Error> {
        for _ in 0..WORK_ROUNDS {
            self.with_work(work, |state, work| Ok(op(state, work)?.map(drop)))
                .await?;
            let written = self
                .write(operation, |state| {
                    Ok(match op(state, work)? {
                        Some((records, out)) => (records, Some(out)),
                        None => (Vec::new(), None),
                    })
                })
                .await?;
            if let Some(out) = written {
                return Ok(out);
            }
        }
        Err(Error::Internal(
            "a write kept finding work undone after other writes".into(),
        ))
    }

    /// Builds records from the current state with `op`, then queues, applies
    /// and makes them durable. `op` returning no records still waits for
    /// durability, so an answer read from state is never ahead of the disk.
    async fn write<T>(
        &self,
        operation: &str,
        mut op: impl FnMut(&State) -> Result<(Vec<Record>, T), Error>,
    ) -> Result<T, Error> {
        if let Some(shared) = &self.shared {
            return self.write_shared(shared, operation, op).await;
        }
        let guard = self.writer.lock().await;
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::store(
                operation,
                "an earlier write failed to reach the disk; restart scute",
            ));
        }
        let (records, out) = op(&self.read())?;
        let mut pending = Vec::with_capacity(records.len());
        for record in &records {
            pending.push(self.log.append(record.encode()));
        }
        {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            for record in records {
                state.apply(record);
            }
        }
        let flush = pending.is_empty().then(|| self.log.flush());
        drop(guard);
        for append in pending {
            if let Err(e) = append.await {
                self.poisoned.store(true, Ordering::Release);
                tracing::error!(error = %e, "the log failed; no further writes are accepted");
                return Err(Error::store(operation, e));
            }
        }
        if let Some(flush) = flush {
            flush.await.map_err(|e| Error::store(operation, e))?;
        }
        Ok(out)
    }

    /// The write path on a shared log; see the module comment.
    async fn write_shared<T>(
        &self,
        shared: &Shared,
        operation: &str,
        mut op: impl FnMut(&State) -> Result<(Vec<Record>, T), Error>,
    ) -> Result<T, Error> {
        let _guard = self.writer.lock().await;
        // Catch up: whatever other nodes wrote before now is in the state
        // before the records are built.
        let marker = self
            .produce(shared, operation, Record::Noop.encode())
            .await?;
        self.read_back(shared, operation, marker).await?;
        for attempt in 0..WRITE_ATTEMPTS {
            let (pending, expected, out) = {
                let state = self.read();
                let (records, out) = op(&state)?;
                // A delete (of a version, an association, a config or a
                // mode) also tombstones the stamped keys it was written
                // under: compaction keeps each key's newest record.
                let stamped_keys: Vec<record::RawRecord> = records
                    .iter()
                    .filter_map(|r| match r {
                        Record::Schema {
                            subject,
                            version,
                            value: None,
                        } => state.versions(subject)?.get(version).map(|e| {
                            e.stamps
                                .iter()
                                .map(|stamp| r.encode_stamped(*stamp))
                                .collect::<Vec<_>>()
                        }),
                        Record::Association { key, value: None } => Some(
                            state
                                .association_stamps(key)
                                .iter()
                                .map(|stamp| r.encode_stamped(*stamp))
                                .collect(),
                        ),
                        Record::Config {
                            subject,
                            value: None,
                        } => Some(
                            state
                                .config_stamps(subject.as_deref())
                                .iter()
                                .map(|stamp| r.encode_stamped(*stamp))
                                .collect(),
                        ),
                        Record::Mode {
                            subject,
                            value: None,
                        } => Some(
                            state
                                .mode_stamps(subject.as_deref())
                                .iter()
                                .map(|stamp| r.encode_stamped(*stamp))
                                .collect(),
                        ),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                let base = state.position();
                let mut expected = Vec::with_capacity(records.len());
                let mut pending = Vec::with_capacity(records.len());
                for (seq, record) in (base..).zip(&records) {
                    let stamp = KeyStamp {
                        seq: i64::try_from(seq).unwrap_or(i64::MAX),
                        node: shared.node,
                    };
                    // Tombstones keep the plain key: compaction must match it.
                    let raw = if record.has_value() {
                        record.encode_stamped(stamp)
                    } else {
                        record.encode()
                    };
                    expected.push(seq);
                    pending.push(self.log.append(raw));
                }
                let next = base + records.len() as Offset;
                for (seq, raw) in (next..).zip(stamped_keys) {
                    expected.push(seq);
                    pending.push(self.log.append(raw));
                }
                (pending, expected, out)
            };
            let mut landed = Vec::with_capacity(pending.len());
            for append in pending {
                landed.push(append.await.map_err(|e| Error::store(operation, e))?);
            }
            let Some(&last) = landed.last() else {
                return Ok(out);
            };
            self.read_back(shared, operation, last).await?;
            if landed == expected {
                if attempt >= 3 {
                    tracing::info!(
                        operation,
                        attempts = attempt + 1,
                        "write landed after losing races to other nodes"
                    );
                }
                return Ok(out);
            }
            tracing::debug!(
                operation,
                attempt,
                ?expected,
                ?landed,
                "another node wrote first; building the write again"
            );
            tokio::time::sleep(backoff(attempt)).await;
            // Records other nodes wrote meanwhile may not be read yet: wait
            // (briefly) for the broker's end offset, a hint only (some brokers
            // report it low; then the next attempt may lose again, no more).
            if let Ok(Ok(end)) = tokio::time::timeout(CATCH_UP_HINT, self.log.end_offset()).await {
                let _ = tokio::time::timeout(CATCH_UP_HINT, self.wait_applied(end)).await;
            }
        }
        Err(Error::store(
            operation,
            format!(
                "other registry nodes kept writing first; gave up after {WRITE_ATTEMPTS} attempts"
            ),
        ))
    }

    async fn produce(
        &self,
        shared: &Shared,
        operation: &str,
        raw: record::RawRecord,
    ) -> Result<Offset, Error> {
        match tokio::time::timeout(shared.timeout, self.log.append(raw)).await {
            Ok(result) => result.map_err(|e| Error::store(operation, e)),
            Err(_) => Err(Error::timeout(
                operation,
                "the Kafka broker did not acknowledge the record in time",
            )),
        }
    }

    /// Waits until the record at `offset` is read back and applied.
    async fn read_back(
        &self,
        shared: &Shared,
        operation: &str,
        offset: Offset,
    ) -> Result<(), Error> {
        tokio::time::timeout(shared.timeout, self.wait_applied(offset + 1))
            .await
            .map_err(|_| {
                Error::timeout(
                    operation,
                    format!("the record written at offset {offset} was not read back from the schemas topic in time"),
                )
            })
    }

    // ---- schemas ----

    pub async fn register_schema(
        &self,
        req: api::RegisterSchemaRequest,
    ) -> Result<api::Schema, Error> {
        validate_subject(&req.subject)?;
        let mut req = req;
        let mut work = self.work();
        if !req.file_descriptor_set.is_empty() {
            let set = std::mem::take(&mut req.file_descriptor_set);
            req.schema = self.descriptor_set_schema(&req.schema_type, set).await?;
            req.schema_type = SchemaType::Protobuf.to_string();
        }
        let subject = req.subject;
        let candidate = self
            .with_work(&mut work, |state, work| {
                let normalize = req.normalize || config_normalize(state, &subject);
                self.candidate(
                    state,
                    work,
                    &req.schema_type,
                    &req.schema,
                    &req.references,
                    normalize,
                    req.metadata_json.as_deref(),
                    req.rule_set_json.as_deref(),
                )
            })
            .await?;
        // Registering what the subject already holds answers at once, even in
        // READONLY mode, as Confluent does.
        let existing = live_match(&self.read(), &subject, &candidate.content)
            .map(|(version, entry)| schema_reply(&subject, version, entry));
        if let Some(out) = existing {
            self.log
                .flush()
                .await
                .map_err(|e| Error::store("Register", e))?;
            return Ok(out);
        }
        self.write_with_work("Register", &mut work, |state, work| {
            if let Some((version, entry)) = live_match(state, &subject, &candidate.content) {
                return Ok(Some((vec![], schema_reply(&subject, version, entry))));
            }
            // A STRONG association's subject belongs to its topic alone.
            if let Some(r) = candidate.content.references.iter().find(|r| {
                state
                    .associations_of_subject(&r.subject)
                    .any(|(_, a)| a.lifecycle == associations::STRONG)
            }) {
                return Err(Error::OperationNotPermitted(format!(
                    "Subject '{}' has a strong association and cannot be referenced",
                    r.subject
                )));
            }
            let mode = effective_mode(state, &subject);
            let import = mode == Mode::Import;
            match (req.id, mode) {
                (Some(_), Mode::Import) | (None, Mode::ReadWrite) => {}
                (_, m) if m.read_only() => {
                    return Err(Error::OperationNotPermitted(format!(
                        "Subject {subject} in context . is in read-only mode"
                    )));
                }
                (Some(_), _) => {
                    return Err(Error::OperationNotPermitted(format!(
                        "Subject {subject} in context . is not in import mode"
                    )));
                }
                (None, _) => {
                    return Err(Error::OperationNotPermitted(format!(
                        "Subject {subject} in context . is not in read-write mode"
                    )));
                }
            }
            let versions = state.versions(&subject);
            let last = versions
                .and_then(|vs| vs.keys().next_back())
                .copied()
                .unwrap_or(0);
            // A version imported as 2^31-1 leaves no next one.
            let next = last
                .checked_add(1)
                .ok_or_else(|| Error::InvalidVersion("2147483648".into()))?;
            let version = match req.version {
                Some(v) if import && v >= 1 => v,
                Some(v) if v == next || v <= 0 && !import => next,
                Some(_) => {
                    return Err(Error::InvalidSchema(
                        "Version is not one more than previous version".into(),
                    ));
                }
                None => next,
            };
            if !import {
                let level = effective_level(state, &subject);
                let Some(messages) =
                    self.check_against(state, work, &subject, &candidate.parsed, level, None)?
                else {
                    return Ok(None);
                };
                if !messages.is_empty() {
                    return Err(Error::IncompatibleSchema {
                        subject: subject.clone(),
                        messages,
                    });
                }
            }
            let id = match req.id {
                Some(id) => {
                    if state
                        .schema(id)
                        .is_some_and(|existing| **existing != candidate.content)
                    {
                        return Err(Error::OperationNotPermitted(format!(
                            "Overwrite new schema with id {id} in context . is not permitted."
                        )));
                    }
                    id
                }
                None => match state.id_of(&candidate.content) {
                    Some(id) => id,
                    // An id imported as 2^31-1 leaves no new one.
                    None => state.max_id().checked_add(1).ok_or_else(|| {
                        Error::store("Register", "every schema id up to 2147483647 is taken")
                    })?,
                },
            };
            let content = &candidate.content;
            let value = SchemaValue {
                subject: subject.clone(),
                version,
                id,
                schema_type: Some(content.schema_type.clone()),
                references: content.references.clone(),
                metadata: content.metadata.clone(),
                rule_set: content.rule_set.clone(),
                schema: content.schema.clone(),
                deleted: false,
                extra: Default::default(),
            };
            let mut records = Vec::new();
            // Re-registering a soft-deleted schema: the old soft-deleted
            // versions with that id go, unless something references them.
            if let Some(vs) = versions {
                for (v, e) in vs {
                    if e.deleted && e.id == id && state.referrers(&subject, *v).next().is_none() {
                        records.push(Record::Schema {
                            subject: subject.clone(),
                            version: *v,
                            value: None,
                        });
                    }
                }
            }
            let reply = api::Schema {
                subject: subject.clone(),
                version,
                ..content_reply(id, content)
            };
            records.push(Record::Schema {
                subject: subject.clone(),
                version,
                value: Some(value),
            });
            Ok(Some((records, reply)))
        })
        .await
    }

    pub async fn lookup_schema(&self, req: api::LookupSchemaRequest) -> Result<api::Schema, Error> {
        let mut work = self.work();
        self.with_work(&mut work, |state, work| {
            let versions = state
                .versions(&req.subject)
                .filter(|vs| req.deleted || vs.values().any(|e| !e.deleted))
                .ok_or_else(|| Error::SubjectNotFound(req.subject.clone()))?;
            let normalize = req.normalize || config_normalize(state, &req.subject);
            let Some(candidate) = self.candidate(
                state,
                work,
                &req.schema_type,
                &req.schema,
                &req.references,
                normalize,
                None,
                None,
            )?
            else {
                return Ok(None);
            };
            let found = versions.iter().rev().find(|(_, e)| {
                (req.deleted || !e.deleted) && same_schema(&e.content, &candidate.content)
            });
            let (version, entry) = found.ok_or(Error::SchemaNotFound)?;
            Ok(Some(schema_reply(&req.subject, *version, entry)))
        })
        .await
    }

    pub async fn get_schema_by_id(
        &self,
        req: api::GetSchemaByIdRequest,
    ) -> Result<api::Schema, Error> {
        let (mut reply, content) = {
            let state = self.read();
            let content = state
                .schema(req.id)
                .ok_or(Error::SchemaIdNotFound(req.id))?;
            let mut reply = content_reply(req.id, content);
            let wanted = req.subject.filter(|s| !s.is_empty());
            if let Some((subject, version)) = wanted.and_then(|subject| {
                let (_, version) = state.id_users(req.id).find(|(s, _)| **s == *subject)?;
                Some((subject, *version))
            }) {
                reply.subject = subject;
                reply.version = version;
            }
            if req.fetch_max_id {
                reply.max_id = Some(state.max_id());
            }
            (reply, content.clone())
        };
        self.apply_format(&content, &req.format, &mut reply).await;
        Ok(reply)
    }

    /// Rewrites the schema text for an output `format`: Confluent's
    /// `resolved` for AVRO (referenced types written in full) and
    /// `serialized` for PROTOBUF (a base64 FileDescriptorProto). Formats that
    /// do not apply are ignored, as Confluent ignores them.
    async fn apply_format(&self, content: &SchemaContent, format: &str, reply: &mut api::Schema) {
        let output = match format {
            "resolved" if content.schema_type == "AVRO" && !content.references.is_empty() => {
                Output::Resolved
            }
            "serialized" if content.schema_type == "PROTOBUF" => Output::Serialized,
            _ => return,
        };
        let Ok(schema_type) = content.schema_type.parse::<SchemaType>() else {
            return;
        };
        let mut work = self.work();
        let parsed = self
            .with_work(&mut work, |state, work| {
                work.parse(
                    state,
                    schema_type,
                    &content.schema,
                    &content.references,
                    output,
                )
            })
            .await;
        match parsed {
            Ok(parsed) => reply.schema = parsed.text.clone(),
            Err(e) => {
                tracing::warn!(error = %e, "a stored schema could not be formatted; returning it as stored")
            }
        }
    }

    pub async fn list_schema_id_versions(
        &self,
        req: api::ListSchemaIdVersionsRequest,
    ) -> Result<api::SubjectVersions, Error> {
        let state = self.read();
        state
            .schema(req.id)
            .ok_or(Error::SchemaIdNotFound(req.id))?;
        let subject_versions = id_uses(&state, req.id, req.deleted, req.subject.as_deref())
            .map(|(subject, version)| api::SubjectVersion {
                subject: subject.to_string(),
                version,
            })
            .collect();
        Ok(api::SubjectVersions { subject_versions })
    }

    pub async fn list_schema_id_subjects(
        &self,
        req: api::ListSchemaIdSubjectsRequest,
    ) -> Result<api::Subjects, Error> {
        let state = self.read();
        state
            .schema(req.id)
            .ok_or(Error::SchemaIdNotFound(req.id))?;
        let subjects: BTreeSet<&Arc<str>> =
            id_uses(&state, req.id, req.deleted, req.subject.as_deref())
                .map(|(s, _)| s)
                .collect();
        Ok(api::Subjects {
            subjects: subjects.into_iter().map(|s| s.to_string()).collect(),
        })
    }

    pub async fn list_schemas(&self, req: api::ListSchemasRequest) -> Result<api::Schemas, Error> {
        let state = self.read();
        let mut schemas = Vec::new();
        for (subject, versions) in state
            .subjects()
            .filter(|(s, _)| s.starts_with(&req.subject_prefix))
        {
            let mut visible = versions.iter().filter(|(_, e)| req.deleted || !e.deleted);
            if req.latest_only {
                schemas.extend(
                    visible
                        .next_back()
                        .map(|(v, e)| schema_reply(subject, *v, e)),
                );
            } else {
                schemas.extend(visible.map(|(v, e)| schema_reply(subject, *v, e)));
            }
        }
        Ok(api::Schemas {
            schemas: page(schemas, req.offset, req.limit, Some(SEARCH_LIMIT)),
        })
    }

    pub fn schema_types(&self) -> api::SchemaTypes {
        api::SchemaTypes {
            schema_types: [SchemaType::Avro, SchemaType::Protobuf, SchemaType::Json]
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    // ---- subjects and versions ----

    pub async fn list_subjects(
        &self,
        req: api::ListSubjectsRequest,
    ) -> Result<api::Subjects, Error> {
        let state = self.read();
        let subjects = state
            .subjects()
            .filter(|(s, _)| s.starts_with(&req.subject_prefix))
            .filter(|(_, vs)| {
                let live = vs.values().any(|e| !e.deleted);
                if req.deleted_only {
                    !live
                } else {
                    live || req.deleted
                }
            })
            .map(|(s, _)| s.to_string())
            .collect();
        Ok(api::Subjects {
            subjects: page(subjects, req.offset, req.limit, None),
        })
    }

    pub async fn list_versions(
        &self,
        req: api::ListVersionsRequest,
    ) -> Result<api::Versions, Error> {
        let state = self.read();
        let versions: Vec<Version> = state
            .versions(&req.subject)
            .into_iter()
            .flatten()
            .filter(|(_, e)| {
                if req.deleted_only {
                    e.deleted
                } else {
                    req.deleted || !e.deleted
                }
            })
            .map(|(v, _)| *v)
            .collect();
        if versions.is_empty() {
            return Err(Error::SubjectNotFound(req.subject));
        }
        Ok(api::Versions {
            versions: page(versions, req.offset, req.limit, None),
        })
    }

    pub async fn get_version(&self, req: api::GetVersionRequest) -> Result<api::Schema, Error> {
        let (mut reply, content) = {
            let state = self.read();
            let (version, entry) = find_version(&state, &req.subject, &req.version, req.deleted)?;
            (
                schema_reply(&req.subject, version, entry),
                entry.content.clone(),
            )
        };
        self.apply_format(&content, &req.format, &mut reply).await;
        Ok(reply)
    }

    /// Confluent's "latest with metadata": the newest version whose metadata
    /// properties hold every requested key with its value.
    pub async fn get_latest_with_metadata(
        &self,
        req: api::GetLatestWithMetadataRequest,
    ) -> Result<api::Schema, Error> {
        let (mut reply, content) = {
            let state = self.read();
            let versions = state
                .versions(&req.subject)
                .filter(|vs| req.deleted || vs.values().any(|e| !e.deleted))
                .ok_or_else(|| Error::SubjectNotFound(req.subject.clone()))?;
            let holds_all = |entry: &VersionEntry| {
                let properties = entry
                    .content
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get("properties"))
                    .and_then(serde_json::Value::as_object);
                properties.is_some_and(|props| {
                    req.metadata
                        .iter()
                        .all(|(k, v)| props.get(k).and_then(serde_json::Value::as_str) == Some(v))
                })
            };
            let (version, entry) = versions
                .iter()
                .rev()
                .find(|(_, e)| (req.deleted || !e.deleted) && holds_all(e))
                .ok_or(Error::SchemaNotFound)?;
            (
                schema_reply(&req.subject, *version, entry),
                entry.content.clone(),
            )
        };
        self.apply_format(&content, &req.format, &mut reply).await;
        Ok(reply)
    }

    pub async fn get_schema_by_guid(
        &self,
        req: api::GetSchemaByGuidRequest,
    ) -> Result<api::Schema, Error> {
        let (mut reply, content) = {
            let state = self.read();
            let not_found = || Error::SchemaGuidNotFound(req.guid.clone());
            let guid = guid::parse(&req.guid).ok_or_else(not_found)?;
            let id = state.ids_of_guid(&guid).next().ok_or_else(not_found)?;
            let content = state.schema(id).ok_or_else(not_found)?;
            (content_reply(id, content), content.clone())
        };
        self.apply_format(&content, &req.format, &mut reply).await;
        Ok(reply)
    }

    pub async fn list_guid_ids(
        &self,
        req: api::ListGuidIdsRequest,
    ) -> Result<api::SchemaIds, Error> {
        let state = self.read();
        let guid =
            guid::parse(&req.guid).ok_or_else(|| Error::SchemaGuidNotFound(req.guid.clone()))?;
        let ids: Vec<SchemaId> = state.ids_of_guid(&guid).collect();
        if ids.is_empty() {
            return Err(Error::SchemaGuidNotFound(req.guid));
        }
        Ok(api::SchemaIds { ids })
    }

    pub async fn get_referenced_by(
        &self,
        req: api::GetReferencedByRequest,
    ) -> Result<api::SchemaIds, Error> {
        let state = self.read();
        let (version, _) = find_version(&state, &req.subject, &req.version, req.deleted)?;
        let ids: BTreeSet<SchemaId> = state
            .referrers(&req.subject, version)
            .filter_map(|(s, v)| state.versions(s)?.get(v))
            .filter(|e| req.deleted || !e.deleted)
            .map(|e| e.id)
            .collect();
        Ok(api::SchemaIds {
            ids: page(
                ids.into_iter().collect(),
                req.offset,
                req.limit,
                Some(SEARCH_LIMIT),
            ),
        })
    }

    pub async fn delete_subject(
        &self,
        req: api::DeleteSubjectRequest,
    ) -> Result<api::Versions, Error> {
        let subject = req.subject;
        self.write("Delete subject", |state| {
            let versions = state
                .versions(&subject)
                .ok_or_else(|| Error::SubjectNotFound(subject.clone()))?;
            check_writable(state, &subject)?;
            let live: Vec<Version> = versions
                .iter()
                .filter(|(_, e)| !e.deleted)
                .map(|(v, _)| *v)
                .collect();
            check_unreferenced(state, &subject)?;
            if state.associations_of_subject(&subject).next().is_some() {
                return Err(Error::AssociationForSubjectExists(subject.clone()));
            }
            if req.permanent {
                if !live.is_empty() {
                    return Err(Error::SubjectNotSoftDeleted(subject.clone()));
                }
                let all: Vec<Version> = versions.keys().copied().collect();
                return Ok((purge(state, &subject), api::Versions { versions: all }));
            }
            let Some(&latest) = live.last() else {
                return Err(Error::SubjectSoftDeleted(subject.clone()));
            };
            let record = Record::DeleteSubject {
                subject: subject.clone(),
                value: Some(DeleteSubjectValue {
                    subject: subject.clone(),
                    version: latest,
                    extra: Default::default(),
                }),
            };
            Ok((vec![record], api::Versions { versions: live }))
        })
        .await
    }

    pub async fn delete_version(
        &self,
        req: api::DeleteVersionRequest,
    ) -> Result<api::DeletedVersion, Error> {
        let selector = VersionSelector::parse(&req.version)?;
        let subject = req.subject;
        self.write("Delete schema version", |state| {
            let versions = state
                .versions(&subject)
                .ok_or_else(|| Error::SubjectNotFound(subject.clone()))?;
            check_writable(state, &subject)?;
            let (version, entry) = match selector {
                // `latest` names the newest live version; a permanent delete
                // of `latest` may name a soft-deleted one.
                VersionSelector::Latest => versions
                    .iter()
                    .rev()
                    .find(|(_, e)| req.permanent || !e.deleted)
                    .ok_or_else(|| Error::SubjectNotFound(subject.clone()))?,
                VersionSelector::Number(n) => versions
                    .get_key_value(&n)
                    .ok_or_else(|| Error::VersionNotFound(n.to_string()))?,
            };
            let version = *version;
            if state.referrers(&subject, version).next().is_some() {
                return Err(Error::ReferenceExists(subject.clone(), version));
            }
            let associated = state.associations_of_subject(&subject).next().is_some();
            let value = if req.permanent {
                if !entry.deleted {
                    return Err(Error::VersionNotSoftDeleted(subject.clone(), version));
                }
                if associated {
                    return Err(Error::AssociationForSubjectExists(subject.clone()));
                }
                None
            } else {
                if entry.deleted {
                    return Err(Error::VersionSoftDeleted(subject.clone(), version));
                }
                // An associated subject keeps a live version.
                let last_live = !versions.iter().any(|(v, e)| *v != version && !e.deleted);
                if associated && last_live {
                    return Err(Error::NoActiveSubjectVersion(subject.clone()));
                }
                Some(schema_value(&subject, version, entry, true))
            };
            Ok((
                vec![Record::Schema {
                    subject: subject.clone(),
                    version,
                    value,
                }],
                api::DeletedVersion { version },
            ))
        })
        .await
    }

    // ---- config and mode ----

    pub async fn get_config(&self, req: api::GetConfigRequest) -> Result<api::Config, Error> {
        let state = self.read();
        let subject = req.subject.as_deref();
        if let Some(config) = state.config(subject) {
            return Ok(config_reply(Some(config)));
        }
        match subject {
            Some(s) if !req.default_to_global => {
                Err(Error::SubjectCompatibilityNotConfigured(s.to_owned()))
            }
            _ => Ok(config_reply(state.config(None))),
        }
    }

    pub async fn set_config(&self, req: api::SetConfigRequest) -> Result<api::Config, Error> {
        let config = req.config.unwrap_or_default();
        let level = config
            .compatibility_level
            .as_deref()
            .map(str::parse::<CompatibilityLevel>)
            .transpose()?;
        if let Some(s) = &req.subject {
            validate_subject(s)?;
        }
        let extra = config
            .extra_json
            .as_deref()
            .map(data_contract::config_extra)
            .transpose()?;
        // The answer echoes the update as the registry took it.
        let extra_json = extra
            .as_ref()
            .filter(|fields| !fields.is_empty())
            .map(|fields| serde_json::Value::Object(fields.clone()).to_string());
        let extra = extra.unwrap_or_default();
        let subject = req.subject;
        self.write("Update config", |state| {
            // PUT merges into the existing config, as Confluent's does.
            let mut value = state
                .config(subject.as_deref())
                .cloned()
                .unwrap_or(ConfigValue {
                    subject: subject.clone(),
                    compatibility_level: None,
                    normalize: None,
                    extra: Default::default(),
                });
            if let Some(level) = level {
                value.compatibility_level = Some(level.to_string());
            }
            if config.normalize.is_some() {
                value.normalize = config.normalize;
            }
            value.extra.extend(extra.clone());
            // Confluent echoes the level as sent ("full"), the rest as typed.
            let reply = api::Config {
                compatibility_level: config.compatibility_level.clone(),
                normalize: config.normalize,
                extra_json: extra_json.clone(),
            };
            Ok((
                vec![Record::Config {
                    subject: subject.clone(),
                    value: Some(value),
                }],
                reply,
            ))
        })
        .await
    }

    pub async fn delete_config(&self, req: api::DeleteConfigRequest) -> Result<api::Config, Error> {
        let subject = req.subject;
        self.write("Delete config", |state| {
            let old = state
                .config(subject.as_deref())
                .map(|c| config_reply(Some(c)));
            let tombstone = Record::Config {
                subject: subject.clone(),
                value: None,
            };
            delete_setting(&subject, old, config_reply(None), tombstone)
        })
        .await
    }

    pub async fn get_mode(&self, req: api::GetModeRequest) -> Result<api::Mode, Error> {
        let state = self.read();
        let subject = req.subject.as_deref();
        if let Some(mode) = state.mode(subject) {
            return Ok(api::Mode {
                mode: mode.mode.clone(),
            });
        }
        match subject {
            Some(s) if !req.default_to_global => Err(Error::SubjectModeNotConfigured(s.to_owned())),
            _ => Ok(api::Mode {
                mode: global_mode(&state).to_string(),
            }),
        }
    }

    pub async fn set_mode(&self, req: api::SetModeRequest) -> Result<api::Mode, Error> {
        let mode: Mode = req.mode.parse()?;
        if let Some(s) = &req.subject {
            validate_subject(s)?;
        }
        let subject = req.subject;
        self.write("Update mode", |state| {
            if mode == Mode::Import && !req.force {
                let occupied = match &subject {
                    Some(s) => state.is_live(s),
                    None => state.subjects().any(|(s, _)| state.is_live(s)),
                };
                if occupied {
                    return Err(Error::OperationNotPermitted(
                        "Cannot import since found existing subjects".into(),
                    ));
                }
            }
            let value = ModeValue {
                subject: subject.clone(),
                mode: mode.to_string(),
                extra: Default::default(),
            };
            Ok((
                vec![Record::Mode {
                    subject: subject.clone(),
                    value: Some(value),
                }],
                api::Mode {
                    mode: mode.to_string(),
                },
            ))
        })
        .await
    }

    pub async fn delete_mode(&self, req: api::DeleteModeRequest) -> Result<api::Mode, Error> {
        let subject = req.subject;
        self.write("Delete mode", |state| {
            let old = state.mode(subject.as_deref()).map(|m| api::Mode {
                mode: m.mode.clone(),
            });
            let tombstone = Record::Mode {
                subject: subject.clone(),
                value: None,
            };
            let default = api::Mode {
                mode: Mode::ReadWrite.to_string(),
            };
            delete_setting(&subject, old, default, tombstone)
        })
        .await
    }

    // ---- compatibility ----

    pub async fn check_compatibility(
        &self,
        req: api::CheckCompatibilityRequest,
    ) -> Result<api::CompatibilityResult, Error> {
        let selector = req
            .version
            .as_deref()
            .map(VersionSelector::parse)
            .transpose()?;
        let mut work = self.work();
        self.with_work(&mut work, |state, work| {
            let normalize = req.normalize || config_normalize(state, &req.subject);
            let candidate = match self.candidate(
                state,
                work,
                &req.schema_type,
                &req.schema,
                &req.references,
                normalize,
                None,
                None,
            ) {
                Ok(Some(c)) => c,
                Ok(None) => return Ok(None),
                // With verbose, Confluent answers an invalid schema with its
                // reason instead of an error.
                Err(Error::InvalidSchema(reason)) if req.verbose => {
                    return Ok(Some(api::CompatibilityResult {
                        is_compatible: false,
                        messages: vec![reason],
                    }));
                }
                Err(e) => return Err(e),
            };
            let against = match selector {
                None | Some(VersionSelector::Latest) if state.versions(&req.subject).is_none() => {
                    return Ok(Some(api::CompatibilityResult {
                        is_compatible: true,
                        messages: vec![],
                    }));
                }
                Some(VersionSelector::Number(n)) => {
                    let versions = state
                        .versions(&req.subject)
                        .ok_or_else(|| Error::SubjectNotFound(req.subject.clone()))?;
                    match versions.get(&n) {
                        Some(e) if !e.deleted => Some(n),
                        _ => return Err(Error::VersionNotFound(n.to_string())),
                    }
                }
                Some(VersionSelector::Latest) => {
                    let (v, _) = find_version(state, &req.subject, "latest", false)?;
                    Some(v)
                }
                None => None,
            };
            let level = effective_level(state, &req.subject);
            let Some(messages) =
                self.check_against(state, work, &req.subject, &candidate.parsed, level, against)?
            else {
                return Ok(None);
            };
            Ok(Some(api::CompatibilityResult {
                is_compatible: messages.is_empty(),
                messages: if req.verbose { messages } else { vec![] },
            }))
        })
        .await
    }

    /// Confluent's verbose messages for every problem of `new` against the
    /// versions `level` names (or just `only`), empty when compatible;
    /// `None` until `work` has compared them all.
    fn check_against(
        &self,
        state: &State,
        work: &mut Work,
        subject: &str,
        new: &Arc<Parsed>,
        level: CompatibilityLevel,
        only: Option<Version>,
    ) -> Result<Option<Vec<String>>, Error> {
        if level == CompatibilityLevel::None {
            return Ok(Some(vec![]));
        }
        let Some(versions) = state.versions(subject) else {
            return Ok(Some(vec![]));
        };
        let mut live: Vec<(&Version, &VersionEntry)> =
            versions.iter().filter(|(_, e)| !e.deleted).collect();
        match only {
            Some(v) => live.retain(|(n, _)| **n == v),
            None if !level.transitive() => live = live.split_off(live.len().saturating_sub(1)),
            None => {}
        }
        let directions = Directions {
            backward: level.backward(),
            forward: level.forward(),
        };
        let mut messages = Vec::new();
        let mut pending = false;
        // Newest first, as Confluent reports them.
        for (version, entry) in live.into_iter().rev() {
            let problems = match work.problems(state, new, &entry.content, directions)? {
                None => {
                    pending = true;
                    continue;
                }
                Some(Ok(problems)) => problems,
                Some(Err(e)) => {
                    tracing::warn!(%subject, version, error = %e, "a stored version no longer parses; skipping it in the compatibility check");
                    continue;
                }
            };
            let found: Vec<String> = problems
                .backward
                .iter()
                .map(|p| p.message("new", "old"))
                .chain(problems.forward.iter().map(|p| p.message("old", "new")))
                .collect();
            if !found.is_empty() {
                messages.extend(found);
                messages.push(format!("{{oldSchemaVersion: {version}}}"));
                messages.push(format!("{{oldSchema: '{}'}}", entry.content.schema));
                messages.push(format!(
                    "{{validateFields: 'false', compatibility: '{level}'}}"
                ));
            }
        }
        Ok((!pending).then_some(messages))
    }

    // ---- parsing ----

    /// Parses a schema from a request against the references it names;
    /// `None` until `work` has parsed it.
    #[allow(clippy::too_many_arguments)]
    fn candidate(
        &self,
        state: &State,
        work: &mut Work,
        schema_type: &str,
        schema: &str,
        references: &[api::SchemaReference],
        normalize: bool,
        metadata: Option<&str>,
        rule_set: Option<&str>,
    ) -> Result<Option<Candidate>, Error> {
        if schema.len() > self.limits.max_schema_bytes {
            return Err(Error::SchemaTooLarge);
        }
        // Typed first, as Jackson reads the request before anything else.
        let metadata = metadata.map(data_contract::metadata).transpose()?;
        let rule_set = rule_set.map(data_contract::rule_set).transpose()?;
        let schema_type: SchemaType = if schema_type.is_empty() {
            SchemaType::Avro
        } else {
            schema_type
                .parse()
                .map_err(|_| Error::InvalidSchema(format!("Invalid schema type {schema_type}")))?
        };
        let mut resolved = Vec::with_capacity(references.len());
        for r in references {
            let selector = VersionSelector::parse(&r.version.to_string()).map_err(|_| {
                Error::InvalidSchema(format!(
                    "Invalid reference version {} for {}",
                    r.version, r.name
                ))
            })?;
            let version = match selector {
                VersionSelector::Number(n) => n,
                VersionSelector::Latest => {
                    find_version(state, &r.subject, "latest", false)
                        .map_err(|_| {
                            Error::InvalidSchema(format!(
                                "Invalid schema reference {}: subject {} not found",
                                r.name, r.subject
                            ))
                        })?
                        .0
                }
            };
            resolved.push(SchemaReference {
                name: r.name.clone(),
                subject: r.subject.clone(),
                version,
            });
        }
        let output = if normalize {
            Output::Normalized
        } else {
            Output::Canonical
        };
        let Some(parsed) = work.parse(state, schema_type, schema, &resolved, output)? else {
            return Ok(None);
        };
        let content = SchemaContent::new(
            schema_type.to_string(),
            parsed.text.clone(),
            resolved,
            metadata,
            rule_set,
        );
        Ok(Some(Candidate { parsed, content }))
    }

    /// The schema text a `file_descriptor_set` stands for (its last file, as
    /// Confluent's clients send it: a base64 FileDescriptorProto), read on
    /// the compute pool.
    async fn descriptor_set_schema(
        &self,
        schema_type: &str,
        set: Vec<u8>,
    ) -> Result<String, Error> {
        if !schema_type.is_empty() && schema_type != SchemaType::Protobuf.as_str() {
            return Err(Error::InvalidSchema(format!(
                "A file_descriptor_set is a PROTOBUF schema, not {schema_type}"
            )));
        }
        if set.len() > self.limits.max_schema_bytes {
            return Err(Error::SchemaTooLarge);
        }
        let limits = self.limits.parse;
        let compute = &self.compute;
        compute
            .run(
                "reading a file_descriptor_set",
                compute.deadline(),
                move || scute_formats::protobuf::schema_from_descriptor_set(&set, &limits),
            )
            .await?
            .map_err(|e| Error::InvalidSchema(e.to_string()))
    }

    /// How many records the state holds (for start-up logs).
    pub fn applied(&self) -> u64 {
        self.read().applied()
    }
}

fn same_schema(a: &SchemaContent, b: &SchemaContent) -> bool {
    a.schema_type == b.schema_type && a.schema == b.schema && a.references == b.references
}

/// The newest live version of `subject` holding this exact content.
fn live_match<'s>(
    state: &'s State,
    subject: &str,
    content: &SchemaContent,
) -> Option<(Version, &'s VersionEntry)> {
    state
        .versions(subject)?
        .iter()
        .rev()
        .find(|(_, e)| !e.deleted && *e.content == *content)
        .map(|(v, e)| (*v, e))
}

fn find_version<'s>(
    state: &'s State,
    subject: &str,
    version: &str,
    deleted: bool,
) -> Result<(Version, &'s VersionEntry), Error> {
    let selector = VersionSelector::parse(version)?;
    let versions = state
        .versions(subject)
        .ok_or_else(|| Error::SubjectNotFound(subject.to_owned()))?;
    match selector {
        VersionSelector::Latest => versions
            .iter()
            .rev()
            .find(|(_, e)| deleted || !e.deleted)
            .map(|(v, e)| (*v, e))
            .ok_or_else(|| Error::SubjectNotFound(subject.to_owned())),
        VersionSelector::Number(n) => match versions.get(&n) {
            Some(e) if deleted || !e.deleted => Ok((n, e)),
            _ => Err(Error::VersionNotFound(n.to_string())),
        },
    }
}

fn id_uses<'s>(
    state: &'s State,
    id: SchemaId,
    deleted: bool,
    subject: Option<&'s str>,
) -> impl Iterator<Item = (&'s Arc<str>, Version)> {
    state
        .id_users(id)
        .filter(move |(s, _)| subject.is_none_or(|want| want.is_empty() || want == &**s))
        .filter(move |(s, v)| {
            deleted
                || state
                    .versions(s)
                    .and_then(|vs| vs.get(v))
                    .is_some_and(|e| !e.deleted)
        })
        .map(|(s, v)| (s, *v))
}

/// A subject other subjects reference cannot be deleted.
fn check_unreferenced(state: &State, subject: &str) -> Result<(), Error> {
    let versions = state.versions(subject).into_iter().flat_map(|vs| vs.keys());
    for version in versions {
        if state
            .referrers(subject, *version)
            .any(|(s, _)| s != subject)
        {
            return Err(Error::ReferenceExists(subject.to_owned(), *version));
        }
    }
    Ok(())
}

/// The records that remove a subject for good: every version, its config and
/// its mode.
fn purge(state: &State, subject: &str) -> Vec<Record> {
    let mut records: Vec<Record> = state
        .versions(subject)
        .into_iter()
        .flat_map(|vs| vs.keys())
        .map(|v| Record::Schema {
            subject: subject.to_owned(),
            version: *v,
            value: None,
        })
        .collect();
    if state.config(Some(subject)).is_some() {
        records.push(Record::Config {
            subject: Some(subject.to_owned()),
            value: None,
        });
    }
    if state.mode(Some(subject)).is_some() {
        records.push(Record::Mode {
            subject: Some(subject.to_owned()),
            value: None,
        });
    }
    records
}

/// A subject deleted softly, then permanently, in one write (a STRONG
/// association's subject, going with it).
fn remove_subject(state: &State, subject: &str) -> Result<Vec<Record>, Error> {
    let Some(versions) = state.versions(subject) else {
        return Ok(Vec::new());
    };
    check_writable(state, subject)?;
    check_unreferenced(state, subject)?;
    let mut records = Vec::new();
    if let Some(latest) = versions
        .iter()
        .rev()
        .find(|(_, e)| !e.deleted)
        .map(|(v, _)| *v)
    {
        records.push(Record::DeleteSubject {
            subject: subject.to_owned(),
            value: Some(DeleteSubjectValue {
                subject: subject.to_owned(),
                version: latest,
                extra: Default::default(),
            }),
        });
    }
    records.extend(purge(state, subject));
    Ok(records)
}

fn check_writable(state: &State, subject: &str) -> Result<(), Error> {
    if effective_mode(state, subject).read_only() {
        return Err(Error::OperationNotPermitted(format!(
            "Subject {subject} in context . is in read-only mode"
        )));
    }
    Ok(())
}

fn global_mode(state: &State) -> Mode {
    state
        .mode(None)
        .and_then(|m| m.mode.parse().ok())
        .unwrap_or(Mode::ReadWrite)
}

fn effective_mode(state: &State, subject: &str) -> Mode {
    state
        .mode(Some(subject))
        .and_then(|m| m.mode.parse().ok())
        .unwrap_or_else(|| global_mode(state))
}

fn effective_level(state: &State, subject: &str) -> CompatibilityLevel {
    [state.config(Some(subject)), state.config(None)]
        .into_iter()
        .flatten()
        .find_map(|c| c.compatibility_level.as_deref()?.parse().ok())
        .unwrap_or(CompatibilityLevel::DEFAULT)
}

fn config_normalize(state: &State, subject: &str) -> bool {
    [state.config(Some(subject)), state.config(None)]
        .into_iter()
        .flatten()
        .find_map(|c| c.normalize)
        .unwrap_or(false)
}

/// A DELETE of a config or mode: answers the old value and writes its
/// tombstone. With nothing set, a subject is 40401 (as Confluent answers) and
/// the global level answers its default.
fn delete_setting<T>(
    subject: &Option<String>,
    old: Option<T>,
    default: T,
    tombstone: Record,
) -> Result<(Vec<Record>, T), Error> {
    match (old, subject) {
        (Some(old), _) => Ok((vec![tombstone], old)),
        (None, Some(s)) => Err(Error::SubjectNotFound(s.clone())),
        (None, None) => Ok((vec![], default)),
    }
}

fn config_reply(config: Option<&ConfigValue>) -> api::Config {
    match config {
        Some(c) => api::Config {
            // A config without a level still reports the level in force.
            compatibility_level: Some(
                c.compatibility_level
                    .clone()
                    .unwrap_or_else(|| CompatibilityLevel::DEFAULT.to_string()),
            ),
            normalize: c.normalize,
            extra_json: (!c.extra.is_empty())
                .then(|| serde_json::Value::Object(c.extra.clone()).to_string()),
        },
        None => api::Config {
            compatibility_level: Some(CompatibilityLevel::DEFAULT.to_string()),
            normalize: None,
            extra_json: None,
        },
    }
}

fn reference_to_api(r: &SchemaReference) -> api::SchemaReference {
    api::SchemaReference {
        name: r.name.clone(),
        subject: r.subject.clone(),
        version: r.version,
    }
}

fn content_reply(id: SchemaId, content: &SchemaContent) -> api::Schema {
    api::Schema {
        id,
        subject: String::new(),
        version: 0,
        schema_type: content.schema_type.clone(),
        schema: content.schema.clone(),
        references: content.references.iter().map(reference_to_api).collect(),
        metadata_json: content.metadata.as_ref().map(|v| v.to_string()),
        rule_set_json: content.rule_set.as_ref().map(|v| v.to_string()),
        deleted: false,
        max_id: None,
        guid: guid::to_string(&content.guid),
    }
}

fn schema_reply(subject: &str, version: Version, entry: &VersionEntry) -> api::Schema {
    api::Schema {
        subject: subject.to_owned(),
        version,
        deleted: entry.deleted,
        ..content_reply(entry.id, &entry.content)
    }
}

fn schema_value(
    subject: &str,
    version: Version,
    entry: &VersionEntry,
    deleted: bool,
) -> SchemaValue {
    let c = &entry.content;
    SchemaValue {
        subject: subject.to_owned(),
        version,
        id: entry.id,
        schema_type: Some(c.schema_type.clone()),
        references: c.references.clone(),
        metadata: c.metadata.clone(),
        rule_set: c.rule_set.clone(),
        schema: c.schema.clone(),
        deleted,
        extra: entry.extra.as_deref().cloned().unwrap_or_default(),
    }
}

/// Confluent's paging: a limit of 0 or less, or above the maximum, means the
/// default (the maximum where there is one, else everything).
fn page<T>(items: Vec<T>, offset: i32, limit: i32, max: Option<usize>) -> Vec<T> {
    let offset = usize::try_from(offset).unwrap_or(0);
    let limit = match (usize::try_from(limit).ok().filter(|l| *l > 0), max) {
        (Some(l), Some(m)) if l <= m => l,
        (Some(_) | None, Some(m)) => m,
        (Some(l), None) => l,
        (None, None) => usize::MAX,
    };
    items.into_iter().skip(offset).take(limit).collect()
}

/// A random wait that grows with the attempt: nodes that lost a race to each
/// other retry at different times.
fn backoff(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, RandomState};
    let ceiling_ms = 2u64 << attempt.min(4);
    let random = RandomState::new().hash_one(std::time::Instant::now());
    Duration::from_millis(random % ceiling_ms + 1)
}
