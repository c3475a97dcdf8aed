//! The client's one error type.

use tonic::Code;

/// A failed call: the registry's answer, or a failure to reach it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The registry refused the call; `error_code` is Confluent's code
    /// (e.g. 40401 for an unknown subject), the same a REST client sees.
    #[error("{message} (error code {error_code})")]
    Registry { error_code: i32, message: String },
    /// A gRPC failure that carries no Confluent code (e.g. the connection
    /// dropped, or a deadline passed), after any retries.
    #[error("gRPC call failed: {0}")]
    Status(tonic::Status),
    /// The endpoint or TLS settings are unusable, or the first connection
    /// failed.
    #[error("cannot connect: {0}")]
    Connect(#[from] tonic::transport::Error),
    #[error("invalid client setting: {0}")]
    Config(String),
}

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        match scute_proto::error_code(&status) {
            Some(error_code) => Self::Registry {
                error_code,
                message: status.message().to_owned(),
            },
            None => Self::Status(status),
        }
    }
}

impl Error {
    /// Confluent's error code, when the registry answered with one.
    pub fn error_code(&self) -> Option<i32> {
        match self {
            Self::Registry { error_code, .. } => Some(*error_code),
            _ => None,
        }
    }

    /// The HTTP status a REST client would have seen: the error code's
    /// (see [`scute_proto::http_status`]), 503 when the registry could not
    /// be reached.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Registry { error_code, .. } => scute_proto::http_status(*error_code),
            Self::Status(status) if status.code() == Code::DeadlineExceeded => 504,
            Self::Status(status) if status.code() == Code::Unavailable => 503,
            Self::Connect(_) => 503,
            Self::Status(_) | Self::Config(_) => 500,
        }
    }

    /// Whether the call may succeed if tried again unchanged: the registry was
    /// unreachable, not ready, or its store failed.
    pub(crate) fn retryable(status: &tonic::Status) -> bool {
        status.code() == Code::Unavailable
    }
}
