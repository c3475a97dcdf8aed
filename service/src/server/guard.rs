//! Authentication at the door of both listeners: a request without a
//! principal the [`Authenticator`] accepts is answered 401 (gRPC
//! UNAUTHENTICATED) before it reaches an API; one with a principal carries
//! it, in its extensions, to the API, which decides what it may do.

use std::sync::Arc;

use scute_security::authenticate::Authenticator;
use scute_security::{Principal, SecurityError};

use super::conn::ConnInfo;
use crate::audit::{Audit, Event, Outcome};
use crate::error::Error;

/// What of a request the door looks at (owned: the body stays behind).
#[derive(Debug)]
pub(crate) struct Door {
    pub(crate) method: http::Method,
    pub(crate) uri: http::Uri,
    pub(crate) authorization: Option<http::HeaderValue>,
}

impl Door {
    pub(crate) fn of<B>(request: &http::Request<B>) -> Self {
        Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
            authorization: request.headers().get(http::header::AUTHORIZATION).cloned(),
        }
    }
}

/// The authentication every request passes, when it is on.
#[derive(Debug)]
pub(crate) struct Guard {
    pub(crate) authenticator: Authenticator,
    /// Paths served without credentials (the root, health, metrics).
    pub(crate) open_paths: Vec<String>,
    pub(crate) audit: Arc<Audit>,
}

impl Guard {
    /// The request's principal; `None` on an open path; the refusal
    /// otherwise (logged and audited).
    pub(crate) async fn admit(
        &self,
        door: Door,
        conn: Option<&ConnInfo>,
    ) -> Result<Option<Principal>, Error> {
        let path = door.uri.path();
        if self.open_paths.iter().any(|open| open == path) {
            return Ok(None);
        }
        let header = door.authorization.as_ref().map(http::HeaderValue::as_bytes);
        let certificate = conn.and_then(|c| c.certificate.as_deref());
        match self.authenticator.authenticate(header, certificate).await {
            Ok(principal) => Ok(Some(principal)),
            Err(SecurityError::Busy(message)) => Err(Error::Overloaded(message)),
            Err(e) => {
                let peer = conn.and_then(|c| c.remote);
                tracing::debug!(method = %door.method, path, ?peer, reason = %e, "unauthenticated request refused");
                let operation = format!("{} {path}", door.method);
                let refusal = Error::Unauthenticated;
                let message = e.to_string();
                self.audit.record(Event {
                    principal: "",
                    auth: None,
                    operation: &operation,
                    subject: None,
                    outcome: Outcome::Denied,
                    error_code: Some(refusal.error_code()),
                    message: Some(&message),
                    peer,
                });
                Err(refusal)
            }
        }
    }

    /// The `WWW-Authenticate` challenge of a 401.
    pub(crate) fn challenge(&self) -> &'static str {
        self.authenticator.methods().challenge()
    }
}
