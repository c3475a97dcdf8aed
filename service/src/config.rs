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
    /// Log lines as text or as JSON objects.
    #[arg(long, env = "SCUTE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
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
        }
    }
}
