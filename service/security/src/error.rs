//! The one error enum of the security crate, its messages in one place.

use std::path::PathBuf;

/// Why a security setting could not be loaded, or a caller was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SecurityError {
    /// The user file is unreadable or malformed; the message says where.
    #[error("the user file {path}: {reason}")]
    UsersFile { path: PathBuf, reason: String },
    /// A permission's resource is not a regular expression Scute reads.
    #[error(
        "permission {index} ({username}): the resource {resource:?} is not a valid regular expression: {reason}"
    )]
    BadResource {
        index: usize,
        username: String,
        resource: String,
        reason: String,
    },
    /// A certificate, key or CA file is unreadable or malformed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The JWKS could not be read or fetched, or holds no usable key.
    #[error("JWKS: {0}")]
    Jwks(String),
    /// A token, a password or a certificate that does not prove who the
    /// caller is. The reason is for the log; callers see "Unauthorized".
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many credentials are being checked at once; retry shortly.
    #[error("{0}")]
    Busy(String),
}
