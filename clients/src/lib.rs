//! A typed client for Scute's gRPC API.
//!
//! [`Client`] has a method for each call serializers and tools make
//! ([`Client::raw`] reaches the rest of the API). Answers that never
//! change (a schema by id or guid, the id a schema was registered under, a
//! numbered version) are cached up to a capacity, and "latest" answers for a
//! time-to-live, which is what a serializer needs to touch the registry once
//! per schema rather than once per record. Calls are retried with backoff
//! while the registry is unreachable or not ready; `https://` endpoints use
//! TLS. Failures are an [`Error`] carrying Confluent's `error_code`, so
//! callers match on the same codes a REST client sees.
//!
//! With the `serdes` feature, [`serdes::GrpcClient`] implements the `Client`
//! trait of the `schema-registry-client` crate, so its AVRO, PROTOBUF and
//! JSON serializers and deserializers run over gRPC.

mod cache;
mod client;
mod error;
#[cfg(feature = "serdes")]
pub mod serdes;

pub use client::{
    Client, ClientBuilder, Credentials, NewSchema, Reference, RetryPolicy, Stub, TlsOptions,
    endpoint_url,
};
pub use error::Error;
pub use scute_proto::v1;
