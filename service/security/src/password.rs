//! Karapace's password hashes (being written).
