//! Scute.
