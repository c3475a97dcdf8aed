//! The facade's one error type and how Confluent renders errors.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header::CONTENT_TYPE};

use crate::negotiate::V1_JSON;

/// An error as a Confluent client sees it: an HTTP status and the body
/// `{"error_code": N, "message": "..."}`.
///
/// Registry errors arrive as `tonic::Status` carrying Confluent's code; the
/// facade adds only its own transport errors (routing, negotiation, bodies).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (error_code {error_code})")]
pub struct RestError {
    status: StatusCode,
    error_code: i32,
    message: String,
}

impl RestError {
    /// An error with a Confluent code; the HTTP status is derived from it as
    /// Confluent does: the first three digits of a five-digit code, or the
    /// code itself when it is already an HTTP status.
    pub fn new(error_code: i32, message: impl Into<String>) -> Self {
        Self {
            status: http_status(error_code),
            error_code,
            message: message.into(),
        }
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Confluent's `error_code`.
    pub fn error_code(&self) -> i32 {
        self.error_code
    }

    /// Confluent's `message`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Unknown route, or a path parameter that does not convert (JAX-RS
    /// answers a non-integer `{id}` with this too).
    pub(crate) fn not_found() -> Self {
        Self::new(404, "HTTP 404 Not Found")
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(405, "HTTP 405 Method Not Allowed")
    }

    pub(crate) fn not_acceptable() -> Self {
        Self::new(406, "HTTP 406 Not Acceptable")
    }

    pub(crate) fn unsupported_media_type() -> Self {
        Self::new(415, "HTTP 415 Unsupported Media Type")
    }

    pub(crate) fn payload_too_large(limit: usize) -> Self {
        Self::new(
            413,
            format!("HTTP 413 Payload Too Large: the request body exceeds {limit} bytes"),
        )
    }

    /// The client took longer than `timeout` to send its body.
    pub(crate) fn request_timeout(timeout: std::time::Duration) -> Self {
        Self::new(
            408,
            format!(
                "HTTP 408 Request Timeout: the request body did not arrive within {} ms",
                timeout.as_millis()
            ),
        )
    }

    /// A malformed or mistyped request body (rest-utils maps Jackson's parse
    /// and mapping errors to 400 with the parser's message).
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// Something went wrong that the client cannot fix; the detail is logged,
    /// never sent.
    pub(crate) fn internal() -> Self {
        Self::new(500, "Internal Server Error")
    }
}

fn http_status(error_code: i32) -> StatusCode {
    StatusCode::from_u16(scute_proto::http_status(error_code))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl From<tonic::Status> for RestError {
    fn from(status: tonic::Status) -> Self {
        match scute_proto::error_code(&status) {
            Some(code) => Self::new(code, status.message()),
            None => {
                tracing::error!(
                    code = ?status.code(),
                    message = status.message(),
                    "registry call failed without a Confluent error code"
                );
                Self::internal()
            }
        }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error_code": self.error_code,
            "message": self.message,
        });
        let mut response = (self.status, body.to_string()).into_response();
        // The routes replace this with the negotiated type on matched
        // routes (`dispatch.rs`); unmatched ones keep Confluent's default.
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(V1_JSON));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_code() {
        assert_eq!(http_status(40401), StatusCode::NOT_FOUND);
        assert_eq!(http_status(50003), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn status_without_code_is_a_generic_500() {
        let err = RestError::from(tonic::Status::internal("disk on fire"));
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.error_code(), 500);
        assert!(!err.message().contains("disk"));
    }
}
