//! What a log counts as it works, for the server's metrics: plain atomics a
//! backend bumps on its own thread, read by whoever scrapes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A histogram with fixed upper bounds, counted with atomics: recording is
/// a few relaxed additions, never a lock.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One count per bound, then the overflow (`+Inf`).
    counts: Box<[AtomicU64]>,
    /// The sum of the observations, in millionths of the unit.
    sum_micros: AtomicU64,
}

/// Upper bounds for durations in seconds, from 100 µs (a lookup) to 10 s
/// (a write waiting on a broker).
pub const SECONDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Upper bounds for counts of things in a batch.
pub const BATCH: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// A histogram's counts at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `(upper bound, observations at or below it)`, cumulative, ending
    /// with `f64::INFINITY`.
    pub buckets: Vec<(f64, u64)>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        let slot = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        if let Some(count) = self.counts.get(slot) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        // Saturating float-to-int: a negative or NaN value adds nothing.
        let micros = (value * 1e6).round() as u64;
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn observe_duration(&self, elapsed: Duration) {
        self.observe(elapsed.as_secs_f64());
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.counts.len());
        for (slot, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let bound = self.bounds.get(slot).copied().unwrap_or(f64::INFINITY);
            buckets.push((bound, cumulative));
        }
        Snapshot {
            buckets,
            sum: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
            count: cumulative,
        }
    }
}

/// What a backend counts: records and bytes it made durable, how long each
/// sync took, how many records each sync carried, and (Kafka) the broker's
/// errors.
#[derive(Debug)]
pub struct LogStats {
    pub records: AtomicU64,
    pub bytes: AtomicU64,
    /// Seconds per fsync (file), or from queueing a record to the broker's
    /// acknowledgement (Kafka).
    pub sync_seconds: Histogram,
    /// Records per fsync (file: the group commit); Kafka's batches are the
    /// registry's to count.
    pub batch_records: Histogram,
    /// Errors the Kafka client reported (a broker down, a request failed).
    pub broker_errors: AtomicU64,
}

impl Default for LogStats {
    fn default() -> Self {
        Self {
            records: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            sync_seconds: Histogram::new(SECONDS),
            batch_records: Histogram::new(BATCH),
            broker_errors: AtomicU64::new(0),
        }
    }
}

impl LogStats {
    /// One record of `bytes` acknowledged by the broker `took` after it was
    /// queued (Kafka: records go out one by one, batched by the client).
    pub fn produced(&self, bytes: usize, took: Duration) {
        self.records.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.sync_seconds.observe_duration(took);
    }

    /// A batch of `records` totalling `bytes`, made durable in `took`.
    pub fn synced(&self, records: usize, bytes: usize, took: Duration) {
        self.records.fetch_add(records as u64, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.sync_seconds.observe_duration(took);
        self.batch_records.observe(records as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_at_infinity() {
        let h = Histogram::new(&[1.0, 10.0]);
        for v in [0.5, 1.0, 5.0, 50.0] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(
            s.buckets,
            vec![(1.0, 2), (10.0, 3), (f64::INFINITY, 4)],
            "a value equal to a bound falls in that bound's bucket"
        );
        assert_eq!(s.count, 4);
        assert!((s.sum - 56.5).abs() < 1e-9);
    }

    #[test]
    fn a_nonsense_value_is_counted_without_poisoning_the_sum() {
        let h = Histogram::new(SECONDS);
        h.observe(f64::NAN);
        h.observe(-1.0);
        let s = h.snapshot();
        assert_eq!(s.count, 2);
        assert_eq!(s.sum, 0.0);
    }
}
