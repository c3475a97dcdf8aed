//! The Confluent REST contract over Scute's gRPC API.
