//! Scute's gRPC API, generated from `scute/registry/v1/registry.proto`.
//!
//! The [`v1::schema_registry_server::SchemaRegistry`] trait is the registry's
//! one interface: the tonic server implements it, and the REST facade calls
//! the same implementation in process.

#[allow(unreachable_pub, missing_docs, clippy::all)]
pub mod v1 {
    tonic::include_proto!("scute.registry.v1");
}

/// The encoded `FileDescriptorSet` of the API, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/scute_descriptor.bin"));

/// The descriptor of `google.rpc.ErrorInfo`, the detail a failed call
/// carries, for server reflection to describe it (`proto/google/rpc`).
pub const ERROR_DETAILS_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/rpc_descriptor.bin"));

/// Metadata key of the `google.rpc.ErrorInfo` detail that carries the
/// Confluent error code of a failed call.
pub const ERROR_CODE_KEY: &str = "error_code";

/// The `ErrorInfo` domain of Scute's errors.
pub const ERROR_DOMAIN: &str = "scute.registry.v1";

use std::collections::HashMap;
use tonic_types::{ErrorDetails, StatusExt};

/// Builds the status of a failed call: the gRPC code, Confluent's message
/// text, and the Confluent error code in an `ErrorInfo` detail.
pub fn error_status(
    code: tonic::Code,
    error_code: i32,
    message: impl Into<String>,
) -> tonic::Status {
    let metadata = HashMap::from([(ERROR_CODE_KEY.to_owned(), error_code.to_string())]);
    let details = ErrorDetails::with_error_info(reason(error_code), ERROR_DOMAIN, metadata);
    tonic::Status::with_error_details(code, message, details)
}

/// The Confluent error code a status carries, if it carries one.
pub fn error_code(status: &tonic::Status) -> Option<i32> {
    status
        .get_details_error_info()?
        .metadata
        .get(ERROR_CODE_KEY)?
        .parse()
        .ok()
}

/// The HTTP status of an error code, Confluent's rule: the first three
/// digits (40401 -> 404), a bare status for itself (409). Scute's 50003,
/// "not caught up with the log yet", is 503, so load balancers and clients
/// retry elsewhere or later. Anything that names no 4xx/5xx status is 500.
pub fn http_status(error_code: i32) -> u16 {
    let status = if error_code == 50003 {
        503
    } else if (10_000..100_000).contains(&error_code) {
        error_code / 100
    } else {
        error_code
    };
    u16::try_from(status)
        .ok()
        .filter(|s| (400..600).contains(s))
        .unwrap_or(500)
}

/// `ErrorInfo.reason`: an upper-snake name for the code, stable across releases.
fn reason(error_code: i32) -> &'static str {
    match error_code {
        40101 => "UNAUTHENTICATED",
        40301 => "FORBIDDEN",
        40401 => "SUBJECT_NOT_FOUND",
        40402 => "VERSION_NOT_FOUND",
        40403 => "SCHEMA_NOT_FOUND",
        40404 => "SUBJECT_SOFT_DELETED",
        40405 => "SUBJECT_NOT_SOFT_DELETED",
        40406 => "VERSION_SOFT_DELETED",
        40407 => "VERSION_NOT_SOFT_DELETED",
        40408 => "SUBJECT_COMPATIBILITY_NOT_CONFIGURED",
        40409 => "SUBJECT_MODE_NOT_CONFIGURED",
        40410 => "ASSOCIATION_NOT_FOUND",
        409 | 40901 => "INCOMPATIBLE_SCHEMA",
        40903 => "ASSOCIATION_EXISTS",
        40904 => "ASSOCIATION_FOR_SUBJECT_EXISTS",
        40905 => "STRONG_ASSOCIATION_EXISTS",
        40907 => "NO_ACTIVE_SUBJECT_VERSION",
        40908 => "ASSOCIATION_FROZEN",
        42201 => "INVALID_SCHEMA",
        42202 => "INVALID_VERSION",
        42203 => "INVALID_COMPATIBILITY_LEVEL",
        42204 => "INVALID_MODE",
        42205 => "OPERATION_NOT_PERMITTED",
        42206 => "REFERENCE_EXISTS",
        42207 => "ID_DOES_NOT_MATCH",
        42208 => "INVALID_SUBJECT",
        42209 => "SCHEMA_TOO_LARGE",
        42212 => "INVALID_ASSOCIATION",
        50001 => "STORE_ERROR",
        50002 => "OPERATION_TIMEOUT",
        50003 => "REQUEST_FORWARDING_FAILED",
        500 => "INTERNAL",
        503 => "OVERLOADED",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_status_follows_the_code() {
        assert_eq!(http_status(40401), 404);
        assert_eq!(http_status(42201), 422);
        assert_eq!(http_status(409), 409);
        assert_eq!(http_status(40901), 409);
        assert_eq!(http_status(50001), 500);
        assert_eq!(http_status(50003), 503);
        assert_eq!(http_status(500), 500);
        for unnamed in [200, -1, 99, 0] {
            assert_eq!(http_status(unnamed), 500);
        }
    }

    #[test]
    fn error_code_survives_the_status() {
        let status = error_status(tonic::Code::NotFound, 40401, "Subject 'x' not found.");
        assert_eq!(error_code(&status), Some(40401));
        assert_eq!(status.message(), "Subject 'x' not found.");
        assert_eq!(error_code(&tonic::Status::internal("boom")), None);
    }
}
