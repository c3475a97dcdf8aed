//! Bearer tokens (being written).
