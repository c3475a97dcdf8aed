//! The `kafka` backend: the `_schemas` topic of a Kafka cluster, shared by every
//! registry node (Scute, Confluent, Karapace) that points at it.
//!
//! The topic must have one partition (one total order of records) and be compacted
//! (the newest value per key is all a replay needs). A missing topic is created that
//! way; an existing topic that is not is refused, as Confluent refuses it, because a
//! second partition would split the order and deletion would lose schemas.
//!
//! Unlike the file log, appending here does not make a record part of the state: other
//! nodes append too, and only the order the broker gives counts. So the registry
//! applies records only as its [`KafkaReader`] reads them back
//! ([`SchemaLog::applies_on_read`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Offset as KafkaOffset, TopicPartitionList};

use crate::log::{BoxFuture, LogEntry, LogError, Offset, SchemaLog};
use crate::record::RawRecord;
use crate::stats::LogStats;

/// Where the topic is and how to talk to it.
#[derive(Clone, Debug)]
pub struct KafkaSettings {
    /// `host:port[,host:port...]`.
    pub bootstrap: String,
    pub topic: String,
    /// Replication factor used when Scute creates the topic; `None`: 3, or the
    /// number of brokers if fewer (Confluent's default, made to fit small clusters).
    pub replication_factor: Option<i32>,
    pub client_id: String,
    /// librdkafka properties (`sasl.mechanism`, `security.protocol`, ...), applied last,
    /// so they override Scute's own settings.
    pub properties: Vec<(String, String)>,
    /// How long a produce, a metadata request or an admin request may take.
    pub timeout: Duration,
}

impl KafkaSettings {
    /// Settings with Confluent's defaults for everything but the bootstrap servers.
    pub fn new(bootstrap: impl Into<String>) -> Self {
        Self {
            bootstrap: bootstrap.into(),
            topic: "_schemas".into(),
            replication_factor: None,
            client_id: "scute".into(),
            properties: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }

    fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.bootstrap)
            .set("client.id", &self.client_id)
            .set("socket.timeout.ms", millis(self.timeout))
            // Brokers close idle connections; librdkafka reconnects when
            // needed. Not worth a line in the log each time.
            .set("log.connection.close", "false");
        config
    }

    fn with_properties(&self, mut config: ClientConfig) -> ClientConfig {
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }
}

/// What librdkafka reports goes to Scute's log at the level it deserves:
/// an ERROR line means an operator must act, and reading up to the end of
/// the topic, which a reader does all the time, is no error at all.
/// It also counts the errors, for the metrics.
#[derive(Debug, Clone, Default)]
pub struct Reports {
    stats: Arc<LogStats>,
}

impl ClientContext for Reports {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility, "{message}")
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, "{message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility, "{message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, "{message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if !matches!(
            error,
            KafkaError::PartitionEOF(_) | KafkaError::Global(RDKafkaErrorCode::PartitionEOF)
        ) {
            self.stats.broker_errors.fetch_add(1, Ordering::Relaxed);
        }
        match error {
            KafkaError::PartitionEOF(_) | KafkaError::Global(RDKafkaErrorCode::PartitionEOF) => {
                tracing::debug!(target: "librdkafka", "read to the end of the topic")
            }
            KafkaError::Global(RDKafkaErrorCode::AllBrokersDown) => {
                tracing::error!(target: "librdkafka", "{error}: {reason}")
            }
            // librdkafka retries these itself; they matter if they last,
            // which the writes that fail then show as errors of their own.
            _ => tracing::warn!(target: "librdkafka", "{error}: {reason}"),
        }
    }
}

impl ConsumerContext for Reports {}

/// The number of brokers, and the partition count of `topic` if it exists.
/// Returns the client, since the metadata call blocks a thread of its own.
async fn metadata(
    admin: AdminClient<Reports>,
    topic: &str,
    timeout: Duration,
) -> Result<(AdminClient<Reports>, usize, Option<usize>), LogError> {
    let (admin, metadata) = tokio::task::spawn_blocking(move || {
        let metadata = admin.inner().fetch_metadata(None, timeout);
        (admin, metadata)
    })
    .await
    .map_err(|e| kafka("metadata request", e))?;
    let metadata = metadata.map_err(|e| kafka("cannot read the cluster's metadata", e))?;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map(|t| t.partitions().len());
    let brokers = metadata.brokers().len();
    Ok((admin, brokers, partitions))
}

fn new_producer(
    settings: &KafkaSettings,
    reports: &Reports,
) -> Result<FutureProducer<Reports>, LogError> {
    let mut config = settings.client_config();
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // The registry's writer queues a batch's records one by one, within
        // microseconds: a short wait keeps the first from going out alone,
        // so the batch goes out in one request and lands in one piece, not
        // interleaved with another node's.
        .set("linger.ms", "2")
        .set("message.timeout.ms", millis(settings.timeout));
    settings
        .with_properties(config)
        .create_with_context(reports.clone())
        .map_err(|e| kafka("cannot create the Kafka producer", e))
}

fn millis(d: Duration) -> String {
    d.as_millis().max(1).to_string()
}

fn kafka(what: &str, error: impl std::fmt::Display) -> LogError {
    LogError::Kafka(format!("{what}: {error}"))
}

/// The `_schemas` topic, ready to append to and to read.
pub struct KafkaLog {
    settings: KafkaSettings,
    /// Replaced when librdkafka declares the idempotent producer fatally
    /// failed (e.g. after a long broker outage): a registry must outlive that.
    producer: RwLock<FutureProducer<Reports>>,
    /// Set when a delivery failed: librdkafka's idempotent producer may then be
    /// fenced for good (tansu answers ProducerFenced after an outage), so the
    /// next append starts a new producer. Records are never lost by this: an
    /// append that failed was reported as failed.
    renew: Arc<AtomicBool>,
    /// The cluster's id, as the broker reported it at start.
    cluster_id: Option<String>,
    /// Every client's context: their errors, and the records produced, are
    /// counted in its stats.
    reports: Reports,
}

impl std::fmt::Debug for KafkaLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaLog")
            .field("bootstrap", &self.settings.bootstrap)
            .field("topic", &self.settings.topic)
            .finish()
    }
}

impl KafkaLog {
    /// Connects, creates the topic if it is missing, and refuses a topic with more
    /// than one partition or without compaction.
    pub async fn open(settings: KafkaSettings) -> Result<Self, LogError> {
        // The producer first: its thread serves librdkafka's log, so a
        // refused login or handshake is logged with librdkafka's reason
        // ("SASL authentication error: ...") while the admin client below
        // only learns that the broker could not be reached.
        let reports = Reports::default();
        let producer = new_producer(&settings, &reports)?;
        let admin: AdminClient<Reports> = settings
            .with_properties(settings.client_config())
            .create_with_context(reports.clone())
            .map_err(|e| kafka("cannot create the Kafka admin client", e))?;
        let options = AdminOptions::new().request_timeout(Some(settings.timeout));
        let topic = settings.topic.as_str();
        let (admin, brokers, partitions) = metadata(admin, topic, settings.timeout).await?;
        let (admin, partitions) = match partitions {
            Some(partitions) => (admin, partitions),
            None => {
                let replication = settings
                    .replication_factor
                    .unwrap_or_else(|| i32::try_from(brokers.clamp(1, 3)).unwrap_or(1));
                let new_topic = NewTopic::new(topic, 1, TopicReplication::Fixed(replication))
                    .set("cleanup.policy", "compact");
                let created = admin
                    .create_topics(&[new_topic], &options)
                    .await
                    .map_err(|e| kafka(&format!("cannot create topic {topic}"), e))?;
                for result in created {
                    match result {
                        Ok(_) => tracing::info!(
                            topic,
                            replication,
                            "created the schemas topic (1 partition, compacted)"
                        ),
                        // Another node created it meanwhile.
                        Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                        Err((_, code)) => {
                            return Err(kafka(&format!("cannot create topic {topic}"), code));
                        }
                    }
                }
                let (admin, _, partitions) = metadata(admin, topic, settings.timeout).await?;
                (admin, partitions.unwrap_or(1))
            }
        };
        if partitions != 1 {
            return Err(LogError::BadTopic(format!(
                "the schemas topic {topic} has {partitions} partitions; it must have exactly 1 \
                 so that every node sees one order of records"
            )));
        }
        let configs = admin
            .describe_configs(&[ResourceSpecifier::Topic(topic)], &options)
            .await
            .map_err(|e| kafka(&format!("cannot describe topic {topic}"), e))?;
        let policy = configs
            .into_iter()
            .flatten()
            .find_map(|c| c.get("cleanup.policy").and_then(|e| e.value.clone()));
        match policy {
            Some(p) if p.split(',').any(|p| p.trim() == "compact") && !p.contains("delete") => {}
            Some(p) => {
                return Err(LogError::BadTopic(format!(
                    "the schemas topic {topic} has cleanup.policy={p}; it must be \"compact\", \
                     or the broker will delete schemas"
                )));
            }
            None => tracing::warn!(
                topic,
                "the broker did not report the topic's cleanup.policy"
            ),
        }
        let timeout = settings.timeout;
        let cluster_id =
            tokio::task::spawn_blocking(move || admin.inner().fetch_cluster_id(timeout))
                .await
                .map_err(|e| kafka("cluster id request", e))?;
        Ok(Self {
            settings,
            producer: RwLock::new(producer),
            renew: Arc::new(AtomicBool::new(false)),
            cluster_id,
            reports,
        })
    }

    fn producer(&self) -> RwLockReadGuard<'_, FutureProducer<Reports>> {
        self.producer.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the producer after a failed delivery, or if librdkafka says it
    /// can no longer be used.
    fn renew_if_failed(&self) {
        let fatal = self.producer().client().fatal_error();
        if !self.renew.swap(false, Ordering::AcqRel) && fatal.is_none() {
            return;
        }
        tracing::info!(
            ?fatal,
            "starting a new Kafka producer after a failed delivery"
        );
        match new_producer(&self.settings, &self.reports) {
            Ok(fresh) => {
                let old = std::mem::replace(
                    &mut *self.producer.write().unwrap_or_else(|e| e.into_inner()),
                    fresh,
                );
                // Dropping a producer waits for its queue: not on this thread.
                std::thread::spawn(move || drop(old));
            }
            Err(e) => {
                self.renew.store(true, Ordering::Release);
                tracing::error!(error = %e, "cannot start a new Kafka producer");
            }
        }
    }

    /// The Kafka cluster's id, if the broker reported one.
    pub fn cluster_id(&self) -> Option<&str> {
        self.cluster_id.as_deref()
    }

    pub fn settings(&self) -> &KafkaSettings {
        &self.settings
    }

    /// A reader of the topic from `from` onwards.
    pub fn reader(&self, from: Offset) -> Result<KafkaReader, LogError> {
        let mut config = self.settings.client_config();
        config
            .set("group.id", format!("{}-reader", self.settings.client_id))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            // Short long-polls: a write waits for its record to be read back.
            .set("fetch.wait.max.ms", "10");
        let consumer: StreamConsumer<Reports> = self
            .settings
            .with_properties(config)
            .create_with_context(self.reports.clone())
            .map_err(|e| kafka("cannot create the Kafka consumer", e))?;
        let mut partitions = TopicPartitionList::new();
        let from = i64::try_from(from).map_err(|e| kafka("offset", e))?;
        partitions
            .add_partition_offset(&self.settings.topic, 0, KafkaOffset::Offset(from))
            .map_err(|e| kafka("cannot assign the partition", e))?;
        consumer
            .assign(&partitions)
            .map_err(|e| kafka("cannot assign the partition", e))?;
        Ok(KafkaReader {
            consumer,
            topic: self.settings.topic.clone(),
            gaps: Gaps::starting_at(from),
        })
    }
}

/// Reads the topic in order.
pub struct KafkaReader {
    consumer: StreamConsumer<Reports>,
    topic: String,
    gaps: Gaps,
}

/// What a read gave.
#[derive(Debug)]
pub enum Read {
    Entry(LogEntry),
    /// Everything the broker had was read; more may come.
    End,
}

/// How many times a gap is read again before it is believed, and how long
/// the reader waits before the first look: long enough for a write in
/// flight on the broker to land; each further look waits 5 times longer
/// (5, 25, 125 ms), for a broker slowed down by load.
const REREADS: u32 = 3;
const REREAD_PAUSE: Duration = Duration::from_millis(5);

/// A record written within this long before it is read may sit just above a
/// write still in flight, so a gap before it is read again even while the
/// reader replays old records. Older gaps are compaction's.
const RECENT: Duration = Duration::from_secs(30);

/// Tells a gap in offsets that is for good (compaction removed records, or
/// they were transaction markers) from one a broker showed too early.
///
/// A broker may hand out a record before the records below it are readable:
/// tansu assigns offsets first and stores the batches after, so a fetch in
/// between skips a batch that lands a moment later. A reader that believes
/// such a gap never applies the skipped record, and its node's state parts
/// from every other node's. So a gap on the live tail is read again once
/// before it is believed.
#[derive(Debug)]
struct Gaps {
    /// The offset the next record should have.
    next: i64,
    /// Whether the reader has reached the end of the topic once: from then
    /// on every gap is on the live tail.
    caught_up: bool,
    /// The gap (expected, seen) being read again, and how many times it
    /// was.
    rereading: Option<((i64, i64), u32)>,
}

/// What to do with a record read at some offset.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Hand it on. `healed`: a gap read again turned out to be no gap.
    Take { healed: bool },
    /// Read again from this offset, after this pause, before believing
    /// the gap.
    Reread(i64, Duration),
    /// Already handed on (read again after a seek): drop it.
    Stale,
}

impl Gaps {
    fn starting_at(next: i64) -> Self {
        Self {
            next,
            caught_up: false,
            rereading: None,
        }
    }

    fn step(&mut self, offset: i64, recent: bool) -> Step {
        if offset < self.next {
            return Step::Stale;
        }
        let gap = (self.next, offset);
        if offset > self.next && (self.caught_up || recent) {
            let looks = match self.rereading {
                Some((seen, looks)) if seen == gap => looks,
                _ => 0,
            };
            if looks < REREADS {
                self.rereading = Some((gap, looks + 1));
                return Step::Reread(self.next, REREAD_PAUSE * 5u32.pow(looks));
            }
        }
        let healed = self
            .rereading
            .is_some_and(|((expected, _), _)| expected == offset);
        self.rereading = None;
        self.next = offset + 1;
        Step::Take { healed }
    }
}

impl KafkaReader {
    /// The next record, or [`Read::End`] when the reader reached the end of the topic.
    /// Transient errors are logged and retried by librdkafka; this returns only the
    /// ones it reports.
    pub async fn next(&mut self) -> Result<Read, LogError> {
        loop {
            let message = match self.consumer.recv().await {
                Ok(message) => message,
                Err(KafkaError::PartitionEOF(_)) => {
                    self.gaps.caught_up = true;
                    return Ok(Read::End);
                }
                Err(e) => return Err(kafka("reading the schemas topic", e)),
            };
            let offset = message.offset();
            let recent = message.timestamp().to_millis().is_some_and(|written| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis());
                now.saturating_sub(u128::try_from(written).unwrap_or(0)) < RECENT.as_millis()
            });
            match self.gaps.step(offset, recent) {
                Step::Stale => continue,
                Step::Reread(from, pause) => {
                    tracing::debug!(
                        expected = from,
                        read = offset,
                        "reading a gap in the schemas topic again"
                    );
                    drop(message);
                    tokio::time::sleep(pause).await;
                    // Asynchronous: records fetched before the seek are
                    // dropped by librdkafka, which versions its fetches.
                    self.consumer
                        .seek(&self.topic, 0, KafkaOffset::Offset(from), Duration::ZERO)
                        .map_err(|e| kafka("cannot read the schemas topic again", e))?;
                    continue;
                }
                Step::Take { healed } => {
                    if healed {
                        // Worth an operator's eye: a reader that trusted the
                        // gap would have skipped this record for good.
                        tracing::warn!(
                            offset,
                            "the broker showed later records before this one; read it on a second look"
                        );
                    }
                    let offset = u64::try_from(offset).map_err(|e| kafka("offset", e))?;
                    return Ok(Read::Entry(LogEntry {
                        offset,
                        record: RawRecord {
                            key: message.key().unwrap_or_default().to_vec(),
                            value: message.payload().map(<[u8]>::to_vec),
                        },
                    }));
                }
            }
        }
    }
}

impl SchemaLog for KafkaLog {
    fn end_offset(&self) -> BoxFuture<'_, Result<Offset, LogError>> {
        Box::pin(async move {
            // The broker's high watermark (not trusted for "caught up"; see the design).
            let producer = self.producer().clone();
            let topic = self.settings.topic.clone();
            let timeout = self.settings.timeout;
            let (_, high) = tokio::task::spawn_blocking(move || {
                producer.client().fetch_watermarks(&topic, 0, timeout)
            })
            .await
            .map_err(|e| kafka("watermarks", e))?
            .map_err(|e| kafka("cannot read the topic's end offset", e))?;
            u64::try_from(high).map_err(|e| kafka("offset", e))
        })
    }

    /// Reads up to `max` records from `from`, stopping at the end of the topic.
    fn read_from(
        &self,
        from: Offset,
        max: usize,
    ) -> BoxFuture<'_, Result<Vec<LogEntry>, LogError>> {
        Box::pin(async move {
            let mut reader = self.reader(from)?;
            let mut entries = Vec::new();
            while entries.len() < max {
                match tokio::time::timeout(self.settings.timeout, reader.next()).await {
                    Err(_) => return Err(LogError::Kafka("timed out reading the topic".into())),
                    Ok(read) => match read? {
                        Read::Entry(entry) => entries.push(entry),
                        Read::End => break,
                    },
                }
            }
            Ok(entries)
        })
    }

    fn append(&self, record: RawRecord) -> BoxFuture<'static, Result<Offset, LogError>> {
        self.renew_if_failed();
        let mut message = FutureRecord::<[u8], [u8]>::to(&self.settings.topic)
            .key(&record.key)
            .partition(0);
        if let Some(value) = &record.value {
            message = message.payload(value);
        }
        // Queued here, before returning: the caller's order is the produce order.
        let bytes = record.key.len() + record.value.as_ref().map_or(0, Vec::len);
        let queued_at = std::time::Instant::now();
        let queued = self.producer().send_result(message);
        match queued {
            Err((e, _)) => {
                self.renew_if_failed();
                let e = kafka("cannot queue a record for the schemas topic", e);
                Box::pin(std::future::ready(Err(e)))
            }
            Ok(delivery) => {
                let renew = self.renew.clone();
                let stats = self.reports.stats.clone();
                Box::pin(async move {
                    match delivery.await {
                        Ok(Ok(delivered)) => {
                            stats.produced(bytes, queued_at.elapsed());
                            u64::try_from(delivered.offset).map_err(|e| kafka("offset", e))
                        }
                        Ok(Err((e, _))) => {
                            renew.store(true, Ordering::Release);
                            Err(kafka("the broker did not take the record", e))
                        }
                        Err(_) => Err(LogError::Closed),
                    }
                })
            }
        }
    }

    fn flush(&self) -> BoxFuture<'static, Result<(), LogError>> {
        self.renew_if_failed();
        let producer = self.producer().clone();
        let timeout = self.settings.timeout;
        Box::pin(async move {
            tokio::task::spawn_blocking(move || producer.flush(timeout))
                .await
                .map_err(|e| kafka("flush", e))?
                .map_err(|e| kafka("cannot flush the producer", e))
        })
    }

    fn applies_on_read(&self) -> bool {
        true
    }

    fn stats(&self) -> Option<&LogStats> {
        Some(&self.reports.stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log lines `report` writes, through a subscriber of this thread.
    fn logged(report: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Lines(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, report);
        String::from_utf8(lines.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn reaching_the_end_of_the_topic_is_no_alarm_and_no_broker_is() {
        let quiet = logged(|| {
            Reports::default().error(KafkaError::PartitionEOF(0), "end");
            Reports::default().error(KafkaError::Global(RDKafkaErrorCode::PartitionEOF), "end");
        });
        assert!(
            quiet.contains("DEBUG") && !quiet.contains("WARN") && !quiet.contains("ERROR"),
            "{quiet}"
        );
        let down = logged(|| {
            Reports::default().error(KafkaError::Global(RDKafkaErrorCode::AllBrokersDown), "gone");
        });
        assert!(down.contains("ERROR"), "{down}");
    }

    #[test]
    fn records_in_order_are_taken() {
        let mut gaps = Gaps::starting_at(0);
        for offset in 0..3 {
            assert_eq!(gaps.step(offset, true), Step::Take { healed: false });
        }
    }

    const FIRST: Duration = REREAD_PAUSE;

    #[test]
    fn a_recent_gap_is_read_again_and_filled() {
        let mut gaps = Gaps::starting_at(5);
        assert_eq!(gaps.step(7, true), Step::Reread(5, FIRST));
        // The second look finds the record that was in flight.
        assert_eq!(gaps.step(5, true), Step::Take { healed: true });
        assert_eq!(gaps.step(6, true), Step::Take { healed: false });
        assert_eq!(gaps.step(7, true), Step::Take { healed: false });
    }

    #[test]
    fn a_gap_seen_on_every_look_is_believed() {
        let mut gaps = Gaps::starting_at(5);
        assert_eq!(gaps.step(7, true), Step::Reread(5, FIRST));
        assert_eq!(gaps.step(7, true), Step::Reread(5, FIRST * 5));
        assert_eq!(gaps.step(7, true), Step::Reread(5, FIRST * 25));
        assert_eq!(gaps.step(7, true), Step::Take { healed: false });
        assert_eq!(gaps.step(8, true), Step::Take { healed: false });
    }

    #[test]
    fn a_gap_that_narrows_is_read_again() {
        let mut gaps = Gaps::starting_at(5);
        assert_eq!(gaps.step(8, true), Step::Reread(5, FIRST));
        // Another gap: its own looks, from the first.
        assert_eq!(gaps.step(7, true), Step::Reread(5, FIRST));
        assert_eq!(gaps.step(5, true), Step::Take { healed: true });
    }

    #[test]
    fn old_gaps_during_replay_are_compaction() {
        let mut gaps = Gaps::starting_at(0);
        assert_eq!(gaps.step(3, false), Step::Take { healed: false });
        assert_eq!(gaps.step(9, false), Step::Take { healed: false });
        // On the live tail every gap gets a second look.
        gaps.caught_up = true;
        assert_eq!(gaps.step(12, false), Step::Reread(10, FIRST));
    }

    #[test]
    fn records_read_again_after_a_seek_are_dropped() {
        let mut gaps = Gaps::starting_at(0);
        assert_eq!(gaps.step(0, true), Step::Take { healed: false });
        assert_eq!(gaps.step(1, true), Step::Take { healed: false });
        assert_eq!(gaps.step(0, true), Step::Stale);
        assert_eq!(gaps.step(2, true), Step::Take { healed: false });
    }
}
