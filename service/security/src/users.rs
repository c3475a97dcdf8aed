//! Karapace's user file (being written).
