//! Command-line flags, each also an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "scute",
    version,
    about = "A schema registry for Apache Kafka, compatible with Confluent's"
)]
pub struct Config {
    /// Directory of the embedded log (created if missing).
    #[arg(long, env = "SCUTE_DATA_DIR", default_value = "./scute-data")]
    pub data_dir: PathBuf,
    /// Address of the Confluent-compatible REST API.
    #[arg(long, env = "SCUTE_REST_LISTEN", default_value = "0.0.0.0:8081")]
    pub rest_listen: SocketAddr,
    /// Address of the gRPC API.
    #[arg(long, env = "SCUTE_GRPC_LISTEN", default_value = "0.0.0.0:50051")]
    pub grpc_listen: SocketAddr,
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
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log lines as text or as JSON objects.
    #[arg(long, env = "SCUTE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
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
            rest_listen: loopback,
            grpc_listen: loopback,
            log_format: LogFormat::Text,
            kafka_bootstrap: None,
            kafka_topic: "_schemas".into(),
            kafka_replication_factor: None,
            kafka_client_id: "scute".into(),
            kafka_properties: Vec::new(),
            kafka_timeout_ms: 10_000,
            node_id: None,
            command: None,
        }
    }
}

fn parse_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected key=value, got {text:?}")),
    }
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
}
