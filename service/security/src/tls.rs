//! TLS settings (being written).
