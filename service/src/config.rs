//! Command-line flags, each also an environment variable, and Confluent's
//! properties file beneath them (`properties`).

pub mod properties;

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "scute",
    version,
    about = "A schema registry for Apache Kafka, compatible with Confluent's",
    long_about = "A schema registry for Apache Kafka, compatible with Confluent's.\n\n\
                  Without a subcommand, `scute` runs the registry (REST on --rest-listen, \
                  gRPC on --grpc-listen); the subcommands are a client of a running one, \
                  back it up and restore it, or write its user file."
)]
pub struct Config {
    /// Confluent's `schema-registry.properties`: the keys that map onto
    /// Scute's settings are read (flags and environment variables win),
    /// the others named at start.
    #[arg(long = "config", env = "SCUTE_CONFIG")]
    pub config_file: Option<PathBuf>,
    /// Directory of the embedded log (created if missing).
    #[arg(long, env = "SCUTE_DATA_DIR", default_value = "./scute-data")]
    pub data_dir: PathBuf,
    /// Address of the Confluent-compatible REST API.
    #[arg(long, env = "SCUTE_REST_LISTEN", default_value = "0.0.0.0:8081")]
    pub rest_listen: SocketAddr,
    /// Address of the gRPC API.
    #[arg(long, env = "SCUTE_GRPC_LISTEN", default_value = "0.0.0.0:50051")]
    pub grpc_listen: SocketAddr,
    /// Also serve `/metrics` and `/health/*` on this address, without
    /// authentication or TLS (they are on the REST listener too).
    #[arg(long, env = "SCUTE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Kafka bootstrap servers (`host:port[,host:port...]`): store schemas in
    /// a Kafka topic shared with other registry nodes instead of the data
    /// directory.
    #[arg(long, env = "SCUTE_KAFKA_BOOTSTRAP")]
    pub kafka_bootstrap: Option<String>,
    /// The schemas topic: one partition, compacted (created so if missing).
    #[arg(long, env = "SCUTE_KAFKA_TOPIC", default_value = "_schemas")]
    pub kafka_topic: String,
    /// Replication factor of the topic when Scute creates it (default: 3,
    /// or the number of brokers if fewer).
    #[arg(long, env = "SCUTE_KAFKA_REPLICATION_FACTOR")]
    pub kafka_replication_factor: Option<i32>,
    /// Kafka client id.
    #[arg(long, env = "SCUTE_KAFKA_CLIENT_ID", default_value = "scute")]
    pub kafka_client_id: String,
    /// A librdkafka property, `key=value` (SASL, TLS, ...); repeatable. In the
    /// environment, separate several with `;`.
    #[arg(long = "kafka-property", env = "SCUTE_KAFKA_PROPERTIES", value_delimiter = ';', value_parser = parse_property)]
    pub kafka_properties: Vec<(String, String)>,
    /// How long a write waits for the broker before failing, in milliseconds.
    #[arg(long, env = "SCUTE_KAFKA_TIMEOUT_MS", default_value_t = 10_000)]
    pub kafka_timeout_ms: u64,
    /// This node's id, stamped on the records it writes to a shared topic
    /// (default: random).
    #[arg(long, env = "SCUTE_NODE_ID")]
    pub node_id: Option<i32>,
    /// The compatibility level of subjects that set none and of the
    /// global config until one is set (Confluent's
    /// `schema.compatibility.level`).
    #[arg(long, env = "SCUTE_COMPATIBILITY_LEVEL", default_value = "BACKWARD", value_parser = parse_level)]
    pub compatibility_level: crate::model::CompatibilityLevel,
    /// The registry's group, as Confluent's `schema.registry.group.id`
    /// (`/v1/metadata/id` reports it).
    #[arg(long, env = "SCUTE_GROUP_ID", default_value = "schema-registry")]
    pub group_id: String,
    /// A deployment attribute `/v1/metadata/deployment` reports; repeatable.
    /// In the environment, separate several with `,`.
    #[arg(
        long = "deployment-attribute",
        env = "SCUTE_DEPLOYMENT_ATTRIBUTES",
        value_delimiter = ',',
        default_value = "opensource"
    )]
    pub deployment_attributes: Vec<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log lines as text or as JSON objects.
    #[arg(long, env = "SCUTE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub limits: LimitsConfig,
    #[command(flatten)]
    pub security: crate::security::SecurityConfig,
}

/// What the server takes at once, and how long it waits: every door a
/// stranger can knock on has a bound.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitsConfig {
    /// The deepest nesting a schema may have (JSON arrays and objects,
    /// Protobuf braces and nested messages), up to 1000.
    #[arg(long, env = "SCUTE_MAX_SCHEMA_DEPTH", default_value_t = scute_formats::Limits::DEFAULT_MAX_DEPTH,
          value_parser = parse_depth)]
    pub max_schema_depth: usize,
    /// Threads that parse and check schemas (default: one per core).
    #[arg(long, env = "SCUTE_COMPUTE_THREADS", value_parser = parse_threads)]
    pub compute_threads: Option<usize>,
    /// Parses and checks that may wait for a thread; beyond, a request is
    /// answered 503 (default: 64 per thread).
    #[arg(long, env = "SCUTE_COMPUTE_QUEUE")]
    pub compute_queue: Option<usize>,
    /// How long parsing and checking one request's schemas may take,
    /// waiting included, in milliseconds; beyond, 500 with error code 50002.
    #[arg(long, env = "SCUTE_COMPUTE_DEADLINE_MS", default_value_t = 10_000)]
    pub compute_deadline_ms: u64,
    /// Requests in flight at once, REST and gRPC together; beyond, 503
    /// (gRPC RESOURCE_EXHAUSTED).
    #[arg(long, env = "SCUTE_MAX_REQUESTS_IN_FLIGHT", default_value_t = 512)]
    pub max_requests_in_flight: usize,
    /// Open connections on each listener; beyond, a new connection is
    /// answered 503 and closed (default: 10000, or fewer if the process may
    /// not open that many files).
    #[arg(long, env = "SCUTE_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// The largest schema text a request may carry; beyond, 422 with error
    /// code 42209, as Confluent answers a schema too large to store.
    #[arg(long, env = "SCUTE_MAX_SCHEMA_BYTES", default_value_t = crate::registry::Limits::DEFAULT_MAX_SCHEMA_BYTES)]
    pub max_schema_bytes: usize,
    /// The largest request: a REST body (413 beyond) or a gRPC message.
    #[arg(long, env = "SCUTE_MAX_REQUEST_BYTES", default_value_t = 16 << 20)]
    pub max_request_bytes: usize,
    /// Request bodies held in memory at once, in bytes, REST and gRPC
    /// together; beyond, 503.
    #[arg(long, env = "SCUTE_MAX_REQUEST_BYTES_IN_FLIGHT", default_value_t = 256 << 20)]
    pub max_request_bytes_in_flight: usize,
    /// How long a client may take to send a request's headers, in
    /// milliseconds (REST).
    #[arg(long, env = "SCUTE_HTTP_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub http_header_timeout_ms: u64,
    /// How long a client may take to send a request's body, in
    /// milliseconds; beyond, 408 (REST).
    #[arg(long, env = "SCUTE_HTTP_BODY_TIMEOUT_MS", default_value_t = 60_000)]
    pub http_body_timeout_ms: u64,
    /// How long a keep-alive connection may sit without a request before
    /// it is closed, in milliseconds (REST).
    #[arg(long, env = "SCUTE_HTTP_IDLE_TIMEOUT_MS", default_value_t = 30_000)]
    pub http_idle_timeout_ms: u64,
    /// How long a gRPC connection may sit without a call before it is
    /// closed, in milliseconds.
    #[arg(long, env = "SCUTE_GRPC_IDLE_TIMEOUT_MS", default_value_t = 300_000)]
    pub grpc_idle_timeout_ms: u64,
    /// Concurrent calls on one gRPC connection (HTTP/2 streams).
    #[arg(long, env = "SCUTE_GRPC_MAX_CONCURRENT_STREAMS", default_value_t = 200)]
    pub grpc_max_concurrent_streams: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_schema_depth: scute_formats::Limits::DEFAULT_MAX_DEPTH,
            compute_threads: None,
            compute_queue: None,
            compute_deadline_ms: 10_000,
            max_requests_in_flight: 512,
            max_connections: None,
            max_schema_bytes: crate::registry::Limits::DEFAULT_MAX_SCHEMA_BYTES,
            max_request_bytes: 16 << 20,
            max_request_bytes_in_flight: 256 << 20,
            http_header_timeout_ms: 10_000,
            http_body_timeout_ms: 60_000,
            http_idle_timeout_ms: 30_000,
            grpc_idle_timeout_ms: 300_000,
            grpc_max_concurrent_streams: 200,
        }
    }
}

impl LimitsConfig {
    /// The bounds on schemas.
    pub fn schema_limits(&self) -> crate::registry::Limits {
        crate::registry::Limits {
            parse: scute_formats::Limits {
                max_depth: self.max_schema_depth,
            },
            max_schema_bytes: self.max_schema_bytes,
        }
    }

    /// The compute pool's size and deadline.
    pub fn compute(&self) -> crate::compute::ComputeConfig {
        let machine = crate::compute::ComputeConfig::for_this_machine();
        let threads = self.compute_threads.unwrap_or(machine.threads);
        crate::compute::ComputeConfig {
            threads,
            queue: self.compute_queue.unwrap_or(64 * threads),
            deadline: std::time::Duration::from_millis(self.compute_deadline_ms.max(1)),
        }
    }
}

/// What to do instead of serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Register, get, check, delete and diff schemas of a running registry.
    Schema(crate::cli::SchemaArgs),
    /// List the subjects of a running registry.
    Subject(crate::cli::SubjectArgs),
    /// Get or set the compatibility level of a running registry.
    Config(crate::cli::ConfigArgs),
    /// Add a user to a user file (--auth-file), or print a user entry, as
    /// Karapace's karapace_mkpasswd does.
    User(crate::cli::UserArgs),
    /// Copy every record of the store (the data directory, or the Kafka topic
    /// with --kafka-bootstrap) to a new text file, one `KEY<tab>VALUE` line each.
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Append the records of a backup file to the store, which must be empty.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// A config for tests: loopback, ephemeral ports, the given directory.
    pub fn ephemeral(data_dir: impl Into<PathBuf>) -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            data_dir: data_dir.into(),
            config_file: None,
            compatibility_level: crate::model::CompatibilityLevel::DEFAULT,
            rest_listen: loopback,
            grpc_listen: loopback,
            metrics_listen: None,
            log_format: LogFormat::Text,
            kafka_bootstrap: None,
            kafka_topic: "_schemas".into(),
            kafka_replication_factor: None,
            kafka_client_id: "scute".into(),
            kafka_properties: Vec::new(),
            kafka_timeout_ms: 10_000,
            node_id: None,
            group_id: "schema-registry".into(),
            deployment_attributes: vec!["opensource".into()],
            command: None,
            limits: LimitsConfig::default(),
            security: crate::security::SecurityConfig::default(),
        }
    }
}

fn parse_in(text: &str, low: usize, high: usize) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (low..=high).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a number from {low} to {high}, got {text:?}"
        )),
    }
}

fn parse_depth(text: &str) -> Result<usize, String> {
    parse_in(text, 1, scute_formats::Limits::MAX_MAX_DEPTH)
}

fn parse_threads(text: &str) -> Result<usize, String> {
    parse_in(text, 1, 1024)
}

fn parse_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected key=value, got {text:?}")),
    }
}

fn parse_level(text: &str) -> Result<crate::model::CompatibilityLevel, String> {
    text.to_ascii_uppercase().parse().map_err(|_| {
        format!(
            "{text} is not a compatibility level (BACKWARD, BACKWARD_TRANSITIVE, FORWARD, \
             FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE or NONE)"
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::Parser;

    #[test]
    fn kafka_flags_parse() {
        let config = Config::try_parse_from([
            "scute",
            "--kafka-bootstrap",
            "a:9092,b:9092",
            "--kafka-property",
            "security.protocol=SASL_SSL",
            "--kafka-property",
            "sasl.password=x=y",
        ])
        .unwrap();
        assert_eq!(config.kafka_bootstrap.as_deref(), Some("a:9092,b:9092"));
        assert_eq!(config.kafka_topic, "_schemas");
        assert_eq!(
            config.kafka_properties,
            [
                ("security.protocol".to_owned(), "SASL_SSL".to_owned()),
                ("sasl.password".to_owned(), "x=y".to_owned()),
            ]
        );
        assert!(Config::try_parse_from(["scute", "--kafka-property", "novalue"]).is_err());
    }

    #[test]
    fn limits_default_as_documented_and_are_bounded() {
        let config = Config::try_parse_from(["scute"]).unwrap();
        assert_eq!(config.limits, LimitsConfig::default());
        let config = Config::try_parse_from(["scute", "--max-schema-depth", "1000"]).unwrap();
        assert_eq!(config.limits.schema_limits().parse.max_depth, 1000);
        for bad in ["0", "1001", "deep"] {
            assert!(Config::try_parse_from(["scute", "--max-schema-depth", bad]).is_err());
        }
        let config = Config::try_parse_from(["scute", "--compute-threads", "3"]).unwrap();
        assert_eq!(config.limits.compute().queue, 192);
    }
}
