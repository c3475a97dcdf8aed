//! The write path: records built from the state, made durable on the
//! log (one writer) or read back from it (a shared log), with the heavy
//! work a write's rules ask for done first, outside every lock.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use scute_storage::log::{Offset, SchemaLog};
use scute_storage::record::{self, KeyStamp, RawRecord, Record};
use tokio::sync::{mpsc, oneshot, watch};

use super::work::Work;
use super::{Registry, Shared};
use crate::error::Error;
use crate::guid::{self, Guid};
use crate::state::{Journal, State};

/// How many times a write is rebuilt after losing a race to another node.
const WRITE_ATTEMPTS: u32 = 50;
/// The most writes one batch carries: each builds on the records of the
/// ones before it, applied again in its turn, so the cost grows with the
/// square of the batch.
const MAX_BATCH: usize = 128;
/// How long after a sign of another node writing (a race lost, records
/// not ours between two batches) a node lets the other go first after each
/// batch, and how long it waits for it at most (plus a jitter).
const CONTENDED_FOR: Duration = Duration::from_secs(1);
const YIELD: Duration = Duration::from_millis(15);
/// How often the writes' counters are logged (at debug level) while writes
/// flow, and how long after they pause.
const REPORT_EVERY: Duration = Duration::from_secs(1);

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

    /// Runs `f` on the state while it holds exactly what the embedded log
    /// holds durably: the writer's lock is held, so no write is between its
    /// append and its apply, and everything queued has been flushed. For a
    /// snapshot of the state; a shared log has no such moment.
    pub async fn settled<T>(&self, f: impl FnOnce(&State) -> T) -> Result<T, Error> {
        const OPERATION: &str = "Snapshot";
        if self.shared.is_some() {
            return Err(Error::Internal("a shared log is never settled".into()));
        }
        let _guard = self.writer.lock().await;
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::store(OPERATION, "an earlier write failed"));
        }
        self.log
            .flush()
            .await
            .map_err(|e| Error::store(OPERATION, e))?;
        Ok(f(&self.read()))
    }

    /// Builds records from the current state with `op`, then queues, applies
    /// and makes them durable. `op` returning no records still waits for
    /// durability, so an answer read from state is never ahead of the disk.
    /// `op` runs under the state's lock (on a shared log, the write lock):
    /// it must read only the state it is given.
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

    /// The write path on a shared log: the write joins this node's next
    /// batch ([`Batcher`]), is built on the state with the batch's earlier
    /// writes applied, and is answered once its records are read back where
    /// they were meant to land; otherwise it is built again in a later batch.
    pub(super) async fn write_shared<T>(
        &self,
        shared: &Shared,
        operation: &str,
        mut op: impl FnMut(&State) -> Result<(Vec<Record>, T), Error>,
    ) -> Result<T, Error> {
        for attempt in 0..WRITE_ATTEMPTS {
            let Turn {
                earlier,
                base,
                built,
            } = shared
                .batcher
                .join(self, shared)
                .await
                .map_err(|f| f.error(operation))?;
            let drafted = self.draft(shared.node, &earlier, base, &mut op);
            // The batch's records are the leader's again: it appends this
            // write's to them without copying.
            drop(earlier);
            let Some((draft, result)) = drafted else {
                let _ = built.send(Built::Stale);
                continue;
            };
            let (outcome, answer) = oneshot::channel();
            if built.send(Built::Ready(draft, outcome)).is_err() {
                return Err(Failure::stopped().error(operation));
            }
            match answer.await {
                Ok(Outcome::Answered) => {
                    if attempt >= 3 {
                        tracing::info!(
                            operation,
                            attempts = attempt + 1,
                            "write landed after losing races to other nodes"
                        );
                    }
                    return result;
                }
                Ok(Outcome::Retry) => {
                    tracing::debug!(
                        operation,
                        attempt,
                        "another node wrote first; building the write again"
                    );
                }
                Ok(Outcome::Failed(failure)) => return Err(failure.error(operation)),
                Err(_) => return Err(Failure::stopped().error(operation)),
            }
        }
        shared.batcher.stats.gave_up.fetch_add(1, Ordering::Relaxed);
        Err(Error::store(
            operation,
            format!(
                "other registry nodes kept writing first; gave up after {WRITE_ATTEMPTS} attempts"
            ),
        ))
    }

    /// Runs `op` on the state with the batch's `earlier` records applied,
    /// stamps what it writes, and takes the earlier records off again before
    /// the lock is released: no reader ever sees them. `None`: the state
    /// moved past `base` (another node's records were read meanwhile).
    fn draft<T>(
        &self,
        node: i32,
        earlier: &[Speculative],
        base: Option<Offset>,
        op: &mut impl FnMut(&State) -> Result<(Vec<Record>, T), Error>,
    ) -> Option<(Draft, Result<T, Error>)> {
        let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        let position = guard.position();
        if base.is_some_and(|base| base != position) {
            return None;
        }
        let mut ahead = Ahead {
            state: &mut guard,
            journal: Journal::default(),
        };
        for s in earlier {
            ahead.state.apply_journaled(
                &mut ahead.journal,
                s.offset,
                s.record.clone(),
                s.stamp,
                s.guid,
            );
        }
        let state: &State = ahead.state;
        let mut draft = Draft {
            position,
            raws: Vec::new(),
            records: Vec::new(),
        };
        let result = op(state).map(|(records, out)| {
            (draft.raws, draft.records) = stamp(node, state, &records);
            out
        });
        Some((draft, result))
    }
}

/// The records a write produces, stamped with the offsets they must land
/// at (the state's position on), and each as the replayer will read it.
fn stamp(node: i32, state: &State, records: &[Record]) -> (Vec<RawRecord>, Vec<Speculative>) {
    // A delete (of a version, an association, a config or a mode) also
    // tombstones the stamped keys it was written under: compaction keeps
    // each key's newest record.
    let stamped_keys = records.iter().filter_map(|r| {
        let stamps = match r {
            Record::Schema {
                subject,
                version,
                value: None,
            } => state.versions(subject)?.get(version)?.stamps.as_slice(),
            Record::Association { key, value: None } => state.association_stamps(key),
            Record::Config {
                subject,
                value: None,
            } => state.config_stamps(subject.as_deref()),
            Record::Context {
                context,
                live: false,
                ..
            } => state.context_stamps(context),
            Record::Mode {
                subject,
                value: None,
            } => state.mode_stamps(subject.as_deref()),
            _ => return None,
        };
        Some(stamps.iter().map(|stamp| r.encode_stamped(*stamp)))
    });
    let base = state.position();
    let mut raws: Vec<RawRecord> = records
        .iter()
        .zip(base..)
        .map(|(record, seq)| {
            // Tombstones keep the plain key: compaction must match it.
            if record.has_value() {
                record.encode_stamped(KeyStamp {
                    seq: i64::try_from(seq).unwrap_or(i64::MAX),
                    node,
                })
            } else {
                record.encode()
            }
        })
        .collect();
    raws.extend(stamped_keys.flatten());
    let speculative = raws
        .iter()
        .zip(base..)
        .map(|(raw, offset)| {
            let (record, stamp) = record::decode_stamped(&raw.key, raw.value.as_deref())
                .unwrap_or((Record::Noop, None));
            let guid = guid::of_record(&record);
            Speculative {
                offset,
                record,
                stamp,
                guid,
            }
        })
        .collect();
    (raws, speculative)
}

/// The state with a batch's earlier records applied; dropping it (even
/// while a panic unwinds) takes them off again.
struct Ahead<'a> {
    state: &'a mut State,
    journal: Journal,
}

impl Drop for Ahead<'_> {
    fn drop(&mut self) {
        self.state.undo(std::mem::take(&mut self.journal));
    }
}

/// A record a batch will produce, as every reader will apply it.
#[derive(Debug, Clone)]
struct Speculative {
    offset: Offset,
    record: Record,
    stamp: Option<KeyStamp>,
    /// A SCHEMA record's content hash, computed once for every turn.
    guid: Option<Guid>,
}

/// One write's records, built in its turn.
#[derive(Debug)]
struct Draft {
    /// The state's position the write was built on (before the batch).
    position: Offset,
    /// What to produce, in order.
    raws: Vec<RawRecord>,
    /// The same, decoded, for the batch's later writes to build on.
    records: Vec<Speculative>,
}

/// A write waiting for its turn in a batch.
#[derive(Debug)]
struct Ticket {
    turn: oneshot::Sender<Result<Turn, Failure>>,
    /// When the write was asked for.
    queued: Instant,
}

/// A write's turn to build: on the state with `earlier` applied, from
/// `base` (`None`: the first write of the batch).
#[derive(Debug)]
struct Turn {
    earlier: Arc<Vec<Speculative>>,
    base: Option<Offset>,
    built: oneshot::Sender<Built>,
}

#[derive(Debug)]
enum Built {
    Ready(Draft, oneshot::Sender<Outcome>),
    /// The state moved since the batch began: the batch is built again.
    Stale,
}

#[derive(Debug, Clone)]
enum Outcome {
    /// The write's records landed where they were meant to, and the state
    /// it was built on was the whole topic then.
    Answered,
    /// Another node wrote first: build again.
    Retry,
    Failed(Failure),
}

/// Why a batch failed, for each of its writes to word as its own error.
#[derive(Debug, Clone)]
enum Failure {
    Store(String),
    Timeout(String),
}

impl Failure {
    fn stopped() -> Self {
        Self::Store("the node's writer stopped".into())
    }

    fn error(&self, operation: &str) -> Error {
        match self {
            Self::Store(cause) => Error::store(operation, cause),
            Self::Timeout(cause) => Error::timeout(operation, cause),
        }
    }
}

/// What the writes on a shared log have done since start, for metrics.
#[derive(Debug, Default)]
pub struct WriteStats {
    /// Batches produced: one produce of their writes' records, one read-back.
    pub batches: AtomicU64,
    /// Writes those batches carried (over `batches`: the mean batch size).
    pub batched_writes: AtomicU64,
    /// The most writes one batch carried.
    pub largest_batch: AtomicU64,
    /// Batches some of whose records landed after another node's.
    pub races_lost: AtomicU64,
    /// Writes built again in a later batch (a race lost, or the state
    /// moved while the batch was built).
    pub retried: AtomicU64,
    /// NOOP markers written to catch up before a batch.
    pub catch_ups: AtomicU64,
    /// Writes that gave up after losing [`WRITE_ATTEMPTS`] times.
    pub gave_up: AtomicU64,
}

/// Gathers the writes waiting on a node into batches: one catch-up when
/// needed, one produce of all their records, one read-back.
///
/// Each write builds its records in its own task, in turn (its closure
/// borrows from its request), on the state with the records of the
/// batch's earlier writes applied, and takes those off again before it
/// releases the lock. A leader task hands out the turns, produces the
/// batch and tells each write whether its records landed where expected.
#[derive(Debug, Default)]
pub(super) struct Batcher {
    queue: OnceLock<mpsc::UnboundedSender<Ticket>>,
    pub(super) stats: Arc<WriteStats>,
}

impl Batcher {
    /// Queues a write and waits for its turn to build.
    async fn join(&self, registry: &Registry, shared: &Shared) -> Result<Turn, Failure> {
        let queue = self.queue.get_or_init(|| {
            let (queue, waiting) = mpsc::unbounded_channel();
            let leader = Leader {
                log: registry.log.clone(),
                applied: shared.applied.subscribe(),
                timeout: shared.timeout,
                stats: self.stats.clone(),
            };
            tokio::spawn(leader.run(waiting));
            queue
        });
        let (turn, granted) = oneshot::channel();
        queue
            .send(Ticket {
                turn,
                queued: Instant::now(),
            })
            .map_err(|_| Failure::stopped())?;
        granted.await.map_err(|_| Failure::stopped())?
    }
}

/// A write in a batch being produced.
struct Member {
    outcome: oneshot::Sender<Outcome>,
    /// Where its records end among the batch's.
    end: usize,
    /// Whether the state it was built on held every record written before
    /// the write was asked for.
    covered: bool,
}

struct Leader {
    log: Arc<dyn SchemaLog>,
    applied: watch::Receiver<Offset>,
    timeout: Duration,
    stats: Arc<WriteStats>,
}

impl Leader {
    async fn run(self, mut queue: mpsc::UnboundedReceiver<Ticket>) {
        let mut waiting: VecDeque<Ticket> = VecDeque::new();
        // The state holds every record that landed before this instant:
        // the last catch-up's, or the last batch's (its read-back reached
        // its last record, so whatever another node wrote before it too).
        // While it is known, a batch needs no catch-up; a state that is
        // stale anyway only costs a retry: its records land elsewhere and
        // count nowhere.
        let mut caught_up: Option<Instant> = None;
        let mut losses = 0u32;
        // Where the next batch starts if no other node writes meanwhile, and
        // until when another node is taken to be writing too.
        let mut next: Option<Offset> = None;
        let mut contended_until: Option<Instant> = None;
        // When the counters were last logged, and how many batches then.
        let mut last_report = Instant::now();
        let mut reported = 0;
        loop {
            if waiting.is_empty() {
                // Idle: the counters so far are logged once writes pause.
                let next = match tokio::time::timeout(REPORT_EVERY, queue.recv()).await {
                    Ok(next) => next,
                    Err(_) => {
                        if reported < self.stats.batches.load(Ordering::Relaxed) {
                            reported = self.report();
                        }
                        queue.recv().await
                    }
                };
                match next {
                    Some(ticket) => waiting.push_back(ticket),
                    None => return,
                }
            }
            while let Ok(ticket) = queue.try_recv() {
                waiting.push_back(ticket);
            }
            let caught_up_at = match caught_up {
                Some(at) => at,
                None => {
                    self.stats.catch_ups.fetch_add(1, Ordering::Relaxed);
                    let at = Instant::now();
                    match self.catch_up().await {
                        Ok(marker) => next = Some(marker + 1),
                        Err(failure) => {
                            for ticket in waiting.drain(..) {
                                let _ = ticket.turn.send(Err(failure.clone()));
                            }
                            continue;
                        }
                    }
                    caught_up = Some(at);
                    at
                }
            };
            // Writes queued meanwhile join too.
            while let Ok(ticket) = queue.try_recv() {
                waiting.push_back(ticket);
            }
            let take = waiting.len().min(MAX_BATCH);
            let mut batch: VecDeque<Ticket> = waiting.drain(..take).collect();

            let mut earlier: Arc<Vec<Speculative>> = Arc::default();
            let mut base = None;
            let mut raws = Vec::new();
            let mut members = Vec::new();
            let mut stale = false;
            while let Some(ticket) = batch.pop_front() {
                let covered = ticket.queued <= caught_up_at;
                let (built, drafted) = oneshot::channel();
                let turn = Turn {
                    earlier: earlier.clone(),
                    base,
                    built,
                };
                if ticket.turn.send(Ok(turn)).is_err() {
                    continue; // The request was dropped.
                }
                match drafted.await {
                    Err(_) => {}
                    Ok(Built::Stale) => {
                        stale = true;
                        break;
                    }
                    Ok(Built::Ready(draft, outcome)) => {
                        base.get_or_insert(draft.position);
                        raws.extend(draft.raws);
                        Arc::make_mut(&mut earlier).extend(draft.records);
                        members.push(Member {
                            outcome,
                            end: raws.len(),
                            covered,
                        });
                    }
                }
            }
            if stale {
                // Another node's records arrived: build the batch again on them.
                self.retry(members);
                for ticket in batch.into_iter().rev() {
                    waiting.push_front(ticket);
                }
                continue;
            }
            if raws.is_empty() {
                // Nothing to write: an answer read from the state stands if
                // the state was caught up after the write was asked for;
                // the others wait for a catch-up.
                let (answered, retried): (Vec<Member>, Vec<Member>) =
                    members.into_iter().partition(|m| m.covered);
                if !retried.is_empty() {
                    caught_up = None;
                }
                answer(answered, Outcome::Answered);
                self.retry(retried);
                continue;
            }

            let size = members.len() as u64;
            self.stats.batches.fetch_add(1, Ordering::Relaxed);
            self.stats.batched_writes.fetch_add(size, Ordering::Relaxed);
            self.stats.largest_batch.fetch_max(size, Ordering::Relaxed);
            // Another node is writing too if records not ours came in since
            // the last batch, or this node lost a race lately.
            let base = base.unwrap_or_default();
            if next.is_some_and(|next| base > next) {
                contended_until = Some(Instant::now() + CONTENDED_FOR);
            }
            let sent = Instant::now();
            let landed = match self.produce(raws).await {
                Ok(landed) => {
                    next = landed.last().map(|last| last + 1);
                    caught_up = Some(sent);
                    landed
                }
                Err(failure) => {
                    caught_up = None;
                    next = None;
                    for m in members {
                        let _ = m.outcome.send(Outcome::Failed(failure.clone()));
                    }
                    continue;
                }
            };
            // Offsets only grow: the records that landed where expected are
            // the first ones, up to the first another node's record pushed on.
            let on_target = landed
                .iter()
                .zip(base..)
                .take_while(|(landed, expected)| **landed == *expected)
                .count();
            let lost = on_target < landed.len();
            if lost {
                contended_until = Some(Instant::now() + CONTENDED_FOR);
            }
            // A write with records counts if they landed; one without (an
            // answer read from the state, or a refusal) if the state it was
            // built on was the whole topic when a record after it landed.
            let (answered, retried): (Vec<Member>, Vec<Member>) = members
                .into_iter()
                .partition(|m| m.end <= on_target && (on_target > 0 || m.covered));
            answer(answered, Outcome::Answered);
            if !retried.is_empty() {
                self.stats.races_lost.fetch_add(1, Ordering::Relaxed);
            }
            self.retry(retried);
            if last_report.elapsed() >= REPORT_EVERY {
                last_report = Instant::now();
                reported = self.report();
            }
            losses = if lost { losses.saturating_add(1) } else { 0 };
            if contended_until.is_some_and(|until| Instant::now() < until)
                && let Some(next) = next
            {
                // Nodes writing at once read each other's records at the same
                // moment and would build on the same state, so one of them
                // would always lose. Instead each lets the other go next: it
                // waits (a while at most, jittered) for a record after its
                // own, and builds on it.
                let mut applied = self.applied.clone();
                let wait = YIELD + backoff(losses);
                let _ = tokio::time::timeout(wait, applied.wait_for(|p| *p > next)).await;
            }
        }
    }

    fn retry(&self, members: Vec<Member>) {
        self.stats
            .retried
            .fetch_add(members.len() as u64, Ordering::Relaxed);
        answer(members, Outcome::Retry);
    }

    /// Produces a NOOP and waits until it is read back: every record written
    /// before it is then in the state.
    async fn catch_up(&self) -> Result<Offset, Failure> {
        let marker = self.noop().await?;
        self.read_back(marker).await?;
        Ok(marker)
    }

    /// Produces a NOOP; answers where it landed.
    async fn noop(&self) -> Result<Offset, Failure> {
        let append = self.log.append(Record::Noop.encode());
        match tokio::time::timeout(self.timeout, append).await {
            Ok(Ok(offset)) => Ok(offset),
            Ok(Err(e)) => Err(Failure::Store(e.to_string())),
            Err(_) => Err(Failure::Timeout(
                "the Kafka broker did not acknowledge the record in time".into(),
            )),
        }
    }

    /// Produces a batch's records in order and waits until they are read
    /// back; answers the offsets they landed at.
    async fn produce(&self, raws: Vec<RawRecord>) -> Result<Vec<Offset>, Failure> {
        // Queued one by one, at once: the producer lingers a moment on the
        // first (see `kafka.rs`), so they go out in one request and land
        // together, not interleaved with another node's.
        let appends: Vec<_> = raws.into_iter().map(|raw| self.log.append(raw)).collect();
        let mut landed = Vec::with_capacity(appends.len());
        for append in appends {
            landed.push(append.await.map_err(|e| Failure::Store(e.to_string()))?);
        }
        if let Some(&last) = landed.last() {
            self.read_back(last).await?;
        }
        Ok(landed)
    }

    /// Waits until the record at `offset` is read back and applied.
    async fn read_back(&self, offset: Offset) -> Result<(), Failure> {
        let mut applied = self.applied.clone();
        match tokio::time::timeout(self.timeout, applied.wait_for(|p| *p > offset)).await {
            Ok(_) => Ok(()),
            Err(_) => Err(Failure::Timeout(format!(
                "the record written at offset {offset} was not read back from the schemas topic in time"
            ))),
        }
    }

    /// Logs the counters; answers the batches counted.
    fn report(&self) -> u64 {
        let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let s = &*self.stats;
        tracing::debug!(
            batches = count(&s.batches),
            writes = count(&s.batched_writes),
            largest = count(&s.largest_batch),
            races_lost = count(&s.races_lost),
            retried = count(&s.retried),
            catch_ups = count(&s.catch_ups),
            "writes on the schemas topic so far"
        );
        count(&s.batches)
    }
}

fn answer(members: Vec<Member>, outcome: Outcome) {
    for m in members {
        let _ = m.outcome.send(outcome.clone());
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
