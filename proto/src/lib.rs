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

/// Metadata key of the `google.rpc.ErrorInfo` detail that carries the
/// Confluent error code of a failed call.
pub const ERROR_CODE_KEY: &str = "error_code";

/// The `ErrorInfo` domain of Scute's errors.
pub const ERROR_DOMAIN: &str = "scute.registry.v1";
