//! The write path: records built from the state, made durable on the
//! log (one writer) or read back from it (a shared log), with the heavy
//! work a write's rules ask for done first, outside every lock.

use std::sync::atomic::Ordering;
use std::time::Duration;

use scute_storage::log::Offset;
use scute_storage::record::{self, KeyStamp, Record};

use super::work::Work;
use super::{Registry, Shared};
use crate::error::Error;
use crate::state::State;

/// How many times a write is rebuilt after losing a race to another node.
const WRITE_ATTEMPTS: u32 = 50;
/// How long a retry waits for the broker's end offset and to read up to it.
const CATCH_UP_HINT: Duration = Duration::from_millis(200);

/// How many rounds of heavy work one request's rules may ask for: a parse,
/// then the comparisons it allows; more only while other writes keep
/// changing what the rules look at.
const WORK_ROUNDS: usize = 8;

impl Registry {
    /// Runs `rules` on the current state until they have every parse and
    /// comparison they ask `work` for: each round that leaves some wanted
    /// does it on the compute pool, with no lock held, and runs them again.
    pub(super) async fn with_work<T>(
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
    pub(super) async fn write_with_work<T>(
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
    pub(super) async fn write<T>(
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
    pub(super) async fn write_shared<T>(
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
                        Record::Context {
                            context,
                            live: false,
                            ..
                        } => Some(
                            state
                                .context_stamps(context)
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

    pub(super) async fn produce(
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
    pub(super) async fn read_back(
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
}

/// A random wait that grows with the attempt: nodes that lost a race to each
/// other retry at different times.
fn backoff(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, RandomState};
    let ceiling_ms = 2u64 << attempt.min(4);
    let random = RandomState::new().hash_one(std::time::Instant::now());
    Duration::from_millis(random % ceiling_ms + 1)
}
