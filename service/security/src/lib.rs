//! Scute's security: the TLS a listener speaks, who a caller is
//! (authentication) and what they may do (authorization).
//!
//! Everything here is transport-free: the servers hand in what a request
//! carried (its `authorization` header, the certificate its connection
//! presented) and get back a [`Principal`] or a refusal; the API seam asks
//! [`acl::Acl`] whether that principal may read or write a resource.
//!
//! * `principal`: who a caller is, however they proved it.
//! * `authenticate`: credentials to principals, with a cache.
//! * `password` and `users`: Karapace's user file and its password hashes.
//! * `acl`: Karapace's permissions, `Subject:<name>` and `Config:`.
//! * `token`: OAuth 2 / OIDC bearer tokens checked against a JWKS.
//! * `tls`: rustls server settings from files, reloaded when they change,
//!   and the principal a client certificate names.
//! * `watch`: files polled for change, reloaded without a restart.
//! * `error`: the one error enum.

pub mod acl;
pub mod authenticate;
pub mod error;
pub mod password;
pub mod principal;
pub mod tls;
pub mod token;
pub mod users;
pub mod watch;

pub use error::SecurityError;
pub use principal::{Principal, Source};
pub use {rustls, tokio_rustls};
