//! Schema formats.
