//! A typed client for Scute's gRPC API.
