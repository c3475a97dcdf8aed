//! Shared helpers for Scute's cross-crate tests.
