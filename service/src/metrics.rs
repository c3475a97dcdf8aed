//! Prometheus metrics at `/metrics`: requests of both APIs, what the
//! registry holds, its log, the process, and Confluent's registry metrics
//! under the names Confluent's dashboards read (`kafka_schema_registry_*`,
//! as its JMX exporter rules name them).
//!
//! Requests are counted as they are answered (`server/admission.rs`); the
//! rest is read at each scrape, from the state and the log's own counters.

mod exposition;
mod process;
mod requests;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub use exposition::CONTENT_TYPE;
pub use requests::{Api, Outcome, UNMATCHED, method_label};

use crate::registry::{Census, SCHEMA_TYPES, WriteStats};
use exposition::{Kind, Page};
use process::Process;
use requests::{Requests, SeriesView};
use scute_storage::stats::LogStats;

/// The server's counters, shared by both listeners.
#[derive(Debug)]
pub struct Metrics {
    requests: Requests,
    started: Instant,
    start_time: f64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Requests::default(),
            started: Instant::now(),
            start_time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        }
    }
}

/// What a scrape reads besides the request counters.
#[derive(Debug, Default)]
pub struct Observed<'a> {
    pub census: Census,
    pub log: Option<&'a LogStats>,
    /// `"file"` or `"kafka"`.
    pub storage: &'static str,
    /// Records the node has still to read of the shared topic (Kafka), if
    /// the broker said where the topic ends.
    pub replay_lag: Option<u64>,
    /// What the writes on a shared topic did (Kafka).
    pub writes: Option<&'a WriteStats>,
    pub ready: bool,
    /// Requests being answered now.
    pub in_flight: u64,
    /// Open connections on the REST and the gRPC listener.
    pub connections: (u64, u64),
}

impl Metrics {
    pub fn record(
        &self,
        api: Api,
        route: &str,
        method: &'static str,
        outcome: Outcome,
        took: std::time::Duration,
    ) {
        self.requests.record(api, route, method, outcome, took);
    }

    /// The page a scrape gets.
    pub fn render(&self, observed: &Observed<'_>) -> String {
        let mut page = Page::default();
        let series = self.requests.series();
        write_requests(&mut page, &series, observed);
        write_registry(&mut page, &observed.census);
        write_log(&mut page, observed);
        self.write_confluent(&mut page, &series, observed);
        Process::read().write(&mut page, self.start_time);
        page.single(
            "scute_uptime_seconds",
            Kind::Gauge,
            "Seconds since Scute started.",
            self.started.elapsed().as_secs_f64(),
        );
        page.finish()
    }
}

fn write_requests(page: &mut Page, series: &[SeriesView], observed: &Observed<'_>) {
    page.family(
        "scute_requests_total",
        Kind::Counter,
        "Requests answered, by API, route (REST) or RPC (gRPC), method and status.",
    );
    for s in series {
        page.sample(
            "scute_requests_total",
            &[
                ("api", s.api.as_str()),
                ("route", &s.route),
                ("method", s.method),
                ("status", &s.status),
            ],
            s.seconds.count as f64,
        );
    }
    page.family(
            "scute_request_duration_seconds",
            Kind::Histogram,
            "Time from a request's arrival to its answer's headers, by API, route or RPC, method and status.",
        );
    for s in series {
        page.histogram(
            "scute_request_duration_seconds",
            &[
                ("api", s.api.as_str()),
                ("route", &s.route),
                ("method", s.method),
                ("status", &s.status),
            ],
            &s.seconds,
        );
    }
    page.single(
        "scute_requests_in_flight",
        Kind::Gauge,
        "Requests being answered now, REST and gRPC together.",
        observed.in_flight as f64,
    );
    page.family(
        "scute_connections",
        Kind::Gauge,
        "Open client connections, by listener.",
    );
    page.sample(
        "scute_connections",
        &[("listener", "rest")],
        observed.connections.0 as f64,
    );
    page.sample(
        "scute_connections",
        &[("listener", "grpc")],
        observed.connections.1 as f64,
    );
    page.single(
        "scute_ready",
        Kind::Gauge,
        "1 when the node is ready (replayed, and its log takes writes), else 0.",
        if observed.ready { 1.0 } else { 0.0 },
    );
}

impl Metrics {
    fn write_confluent(&self, page: &mut Page, series: &[SeriesView], observed: &Observed<'_>) {
        let census = &observed.census;
        page.single(
            "kafka_schema_registry_registered_count",
            Kind::Gauge,
            "Subject versions registered and not deleted (Confluent's registered-count).",
            census.live_versions() as f64,
        );
        page.single(
            "kafka_schema_registry_deleted_count",
            Kind::Gauge,
            "Subject versions soft-deleted (Confluent's deleted-count).",
            census.deleted_versions() as f64,
        );
        page.family(
            "kafka_schema_registry_schemas_created",
            Kind::Gauge,
            "Subject versions of each schema type in the log, deleted or not (Confluent's <type>-schemas-created).",
        );
        for (name, count) in SCHEMA_TYPES.iter().zip(&census.types) {
            page.sample(
                "kafka_schema_registry_schemas_created",
                &[("schema_type", confluent_type(name))],
                (count.live_versions + count.deleted_versions) as f64,
            );
        }
        page.family(
            "kafka_schema_registry_schemas_deleted",
            Kind::Gauge,
            "Subject versions of each schema type soft-deleted (Confluent's <type>-schemas-deleted).",
        );
        for (name, count) in SCHEMA_TYPES.iter().zip(&census.types) {
            page.sample(
                "kafka_schema_registry_schemas_deleted",
                &[("schema_type", confluent_type(name))],
                count.deleted_versions as f64,
            );
        }
        page.single(
            "kafka_schema_registry_api_success_count",
            // A gauge, as the JMX exporter shows it: a counter's name
            // would have to end in `_total`.
            Kind::Gauge,
            "Requests answered without an error, REST and gRPC (Confluent's api-success-count).",
            series
                .iter()
                .filter(|s| s.succeeded)
                .map(|s| s.seconds.count)
                .sum::<u64>() as f64,
        );
        page.single(
            "kafka_schema_registry_api_failure_count",
            Kind::Gauge,
            "Requests answered with an error, REST and gRPC (Confluent's api-failure-count).",
            series
                .iter()
                .filter(|s| !s.succeeded)
                .map(|s| s.seconds.count)
                .sum::<u64>() as f64,
        );
        // Every Scute node takes writes itself: none waits on a leader, so
        // each reports itself the leader of a cluster of one.
        page.single(
            "kafka_schema_registry_master_slave_role",
            Kind::Gauge,
            "1: this node takes writes (every Scute node does; there is no leader).",
            1.0,
        );
        page.single(
            "kafka_schema_registry_node_count",
            Kind::Gauge,
            "Nodes this node knows of: Scute nodes share a topic without knowing each other, so 1.",
            1.0,
        );
        let recent = self.requests.recent(series, Instant::now());
        for (name, help, value) in [
            (
                "request_rate",
                "Requests per second since a scrape at least 15 seconds before (or since start).",
                recent.rate,
            ),
            (
                "request_error_rate",
                "Requests answered with an error per second since a scrape at least 15 seconds before (or since start).",
                recent.error_rate,
            ),
            (
                "request_latency_avg",
                "Mean request latency since a scrape at least 15 seconds before (or since start), in milliseconds.",
                recent.latency_avg,
            ),
            (
                "request_latency_95",
                "95th percentile request latency since a scrape at least 15 seconds before (or since start), in milliseconds (a bucket's upper bound).",
                recent.latency_95,
            ),
            (
                "request_latency_99",
                "99th percentile request latency since a scrape at least 15 seconds before (or since start), in milliseconds (a bucket's upper bound).",
                recent.latency_99,
            ),
        ] {
            page.single(
                &format!("kafka_schema_registry_jersey_metrics_{name}"),
                Kind::Gauge,
                help,
                value,
            );
        }
        page.single(
            "kafka_schema_registry_jetty_metrics_connections_active",
            Kind::Gauge,
            "Open connections on the REST listener.",
            observed.connections.0 as f64,
        );
    }
}

/// How Confluent's metric names spell a type (`avro-schemas-created`).
fn confluent_type(schema_type: &str) -> &'static str {
    match schema_type {
        "PROTOBUF" => "protobuf",
        "JSON" => "json",
        _ => "avro",
    }
}

fn write_registry(page: &mut Page, census: &Census) {
    page.family(
        "scute_subjects",
        Kind::Gauge,
        "Subjects, by whether they have a version that is not soft-deleted.",
    );
    page.sample(
        "scute_subjects",
        &[("deleted", "false")],
        census.live_subjects as f64,
    );
    page.sample(
        "scute_subjects",
        &[("deleted", "true")],
        census.deleted_subjects as f64,
    );
    page.family(
        "scute_versions",
        Kind::Gauge,
        "Subject versions, by schema type and whether soft-deleted.",
    );
    for (name, count) in SCHEMA_TYPES.iter().zip(&census.types) {
        page.sample(
            "scute_versions",
            &[("schema_type", name), ("deleted", "false")],
            count.live_versions as f64,
        );
        page.sample(
            "scute_versions",
            &[("schema_type", name), ("deleted", "true")],
            count.deleted_versions as f64,
        );
    }
    page.family(
        "scute_schemas",
        Kind::Gauge,
        "Schema ids, by schema type, over every context.",
    );
    for (name, count) in SCHEMA_TYPES.iter().zip(&census.types) {
        page.sample(
            "scute_schemas",
            &[("schema_type", name)],
            count.schemas as f64,
        );
    }
    page.single(
        "scute_contexts",
        Kind::Gauge,
        "Contexts, the default one included.",
        census.contexts as f64,
    );
}

fn write_log(page: &mut Page, observed: &Observed<'_>) {
    let storage = [("storage", observed.storage)];
    if let Some(log) = observed.log {
        use std::sync::atomic::Ordering::Relaxed;
        page.family(
            "scute_log_records_total",
            Kind::Counter,
            "Records this node made durable on its log since start.",
        );
        page.sample(
            "scute_log_records_total",
            &storage,
            log.records.load(Relaxed) as f64,
        );
        page.family(
            "scute_log_bytes_total",
            Kind::Counter,
            "Bytes of records this node made durable on its log since start.",
        );
        page.sample(
            "scute_log_bytes_total",
            &storage,
            log.bytes.load(Relaxed) as f64,
        );
        page.family(
            "scute_log_sync_duration_seconds",
            Kind::Histogram,
            "Time each sync took: an fsync of the file log, or a batch produced to Kafka until acknowledged.",
        );
        page.histogram(
            "scute_log_sync_duration_seconds",
            &storage,
            &log.sync_seconds.snapshot(),
        );
        if observed.storage == "file" {
            page.family(
                "scute_log_batch_records",
                Kind::Histogram,
                "Records made durable by one fsync (the group commit's batch).",
            );
            page.histogram(
                "scute_log_batch_records",
                &storage,
                &log.batch_records.snapshot(),
            );
        }
        if observed.storage == "kafka" {
            page.single(
                "scute_kafka_broker_errors_total",
                Kind::Counter,
                "Errors the Kafka client reported (brokers down, requests failed).",
                log.broker_errors.load(Relaxed) as f64,
            );
        }
    }
    if let Some(lag) = observed.replay_lag {
        page.single(
            "scute_kafka_replay_lag_records",
            Kind::Gauge,
            "Offsets of the schemas topic this node has still to read.",
            lag as f64,
        );
    }
    if let Some(writes) = observed.writes {
        use std::sync::atomic::Ordering::Relaxed;
        for (name, help, value) in [
            (
                "scute_kafka_write_batches_total",
                "Batches of writes produced: one produce of their records, one read-back.",
                &writes.batches,
            ),
            (
                "scute_kafka_batched_writes_total",
                "Writes those batches carried (over the batches: the mean batch size).",
                &writes.batched_writes,
            ),
            (
                "scute_kafka_write_races_lost_total",
                "Batches some of whose records landed after another node's.",
                &writes.races_lost,
            ),
            (
                "scute_kafka_writes_retried_total",
                "Writes built again in a later batch, after a race lost.",
                &writes.retried,
            ),
            (
                "scute_kafka_catch_ups_total",
                "NOOP records written to read up to the end of the topic before a batch.",
                &writes.catch_ups,
            ),
            (
                "scute_kafka_writes_given_up_total",
                "Writes that failed after losing every attempt to other nodes.",
                &writes.gave_up,
            ),
        ] {
            page.single(name, Kind::Counter, help, value.load(Relaxed) as f64);
        }
        page.single(
            "scute_kafka_largest_write_batch",
            Kind::Gauge,
            "The most writes one batch carried since start.",
            writes.largest_batch.load(Relaxed) as f64,
        );
    }
}
