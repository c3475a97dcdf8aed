//! Requests counted by API, route, method and status, with their latency;
//! and the last half-minute's rate, error rate and latency, as Confluent's
//! registry reports its `jersey-metrics`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use scute_storage::stats::{Histogram, SECONDS};

/// Which API served a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    Rest,
    Grpc,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Rest => "rest",
            Api::Grpc => "grpc",
        }
    }
}

/// How a request ended: an HTTP status, or a gRPC status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Http(u16),
    Grpc(i32),
}

impl Outcome {
    fn label(self) -> String {
        match self {
            Outcome::Http(status) => status.to_string(),
            Outcome::Grpc(code) => grpc_code_name(code).to_owned(),
        }
    }

    /// As Confluent counts `api-success-count`: an answer that is no error.
    fn succeeded(self) -> bool {
        match self {
            Outcome::Http(status) => status < 400,
            Outcome::Grpc(code) => code == 0,
        }
    }
}

/// The route label for a request no route answered: one label for every
/// unknown path, so a stranger's paths cannot grow the series.
pub const UNMATCHED: &str = "unmatched";

/// The method label: the usual ones by name, any other as `other`.
pub fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        http::Method::PATCH => "PATCH",
        _ => "other",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    api: Api,
    route: Box<str>,
    method: &'static str,
    outcome: Outcome,
}

/// One series: its requests and their latency.
#[derive(Debug)]
struct Series {
    /// The route as the label shows it.
    label: String,
    seconds: Histogram,
}

/// All request series, and the recent window.
#[derive(Debug)]
pub(crate) struct Requests {
    series: RwLock<HashMap<Key, Arc<Series>>>,
    succeeded: AtomicU64,
    failed: AtomicU64,
    window: Window,
}

/// A series as the page shows it.
pub(crate) struct SeriesView {
    pub(crate) api: Api,
    pub(crate) route: String,
    pub(crate) method: &'static str,
    pub(crate) status: String,
    pub(crate) seconds: scute_storage::stats::Snapshot,
}

impl Default for Requests {
    fn default() -> Self {
        Self {
            series: RwLock::default(),
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            window: Window::new(Instant::now()),
        }
    }
}

impl Requests {
    pub(crate) fn record(
        &self,
        api: Api,
        route: &str,
        method: &'static str,
        outcome: Outcome,
        took: Duration,
    ) {
        let key = Key {
            api,
            route: route.into(),
            method,
            outcome,
        };
        let found = self
            .series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        let series = found.unwrap_or_else(|| {
            self.series
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(key)
                .or_insert_with(|| {
                    Arc::new(Series {
                        label: route_label(route),
                        seconds: Histogram::new(SECONDS),
                    })
                })
                .clone()
        });
        series.seconds.observe_duration(took);
        let ok = outcome.succeeded();
        if ok {
            self.succeeded.fetch_add(1, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.window.record(Instant::now(), ok, took);
    }

    pub(crate) fn series(&self) -> Vec<SeriesView> {
        let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
        let mut views: Vec<SeriesView> = series
            .iter()
            .map(|(key, series)| SeriesView {
                api: key.api,
                route: series.label.clone(),
                method: key.method,
                status: key.outcome.label(),
                seconds: series.seconds.snapshot(),
            })
            .collect();
        views.sort_by(|a, b| {
            (a.api.as_str(), &a.route, a.method, &a.status).cmp(&(
                b.api.as_str(),
                &b.route,
                b.method,
                &b.status,
            ))
        });
        views
    }

    pub(crate) fn succeeded(&self) -> u64 {
        self.succeeded.load(Ordering::Relaxed)
    }

    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    pub(crate) fn recent(&self) -> Recent {
        self.window.read(Instant::now())
    }
}

/// How long one slot of the window covers; the window is two slots, the
/// one filling and the one before, as Kafka's sampled statistics keep.
const SLOT: Duration = Duration::from_secs(15);
/// Latency bounds of the window's histogram, in milliseconds.
const WINDOW_MS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
    10000.0,
];

#[derive(Debug)]
struct Slot {
    /// Which `SLOT`-long stretch since the start the slot counts.
    epoch: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
    micros: AtomicU64,
    max_micros: AtomicU64,
    latency: [AtomicU64; WINDOW_MS.len() + 1],
}

impl Slot {
    fn new() -> Self {
        Self {
            epoch: AtomicU64::new(u64::MAX),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            micros: AtomicU64::new(0),
            max_micros: AtomicU64::new(0),
            latency: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    fn reset(&self) {
        for counter in [&self.requests, &self.errors, &self.micros, &self.max_micros]
            .into_iter()
            .chain(&self.latency)
        {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// The last half-minute of requests, in two slots reused in turn.
#[derive(Debug)]
struct Window {
    start: Instant,
    slots: [Slot; 2],
}

/// The window's figures, in Confluent's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Recent {
    /// Requests per second.
    pub(crate) rate: f64,
    /// Failed requests per second.
    pub(crate) error_rate: f64,
    /// Milliseconds.
    pub(crate) latency_avg: f64,
    pub(crate) latency_95: f64,
    pub(crate) latency_99: f64,
    pub(crate) latency_max: f64,
}

impl Window {
    fn new(start: Instant) -> Self {
        Self {
            start,
            slots: [Slot::new(), Slot::new()],
        }
    }

    fn epoch(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_secs() / SLOT.as_secs()
    }

    fn record(&self, now: Instant, ok: bool, took: Duration) {
        let epoch = self.epoch(now);
        let Some(slot) = self.slots.get((epoch % 2) as usize) else {
            return;
        };
        let seen = slot.epoch.load(Ordering::Acquire);
        if seen != epoch
            && slot
                .epoch
                .compare_exchange(seen, epoch, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            // The first request of a new stretch empties the slot; one that
            // races it may land in either stretch, which a rate can bear.
            slot.reset();
        }
        slot.requests.fetch_add(1, Ordering::Relaxed);
        if !ok {
            slot.errors.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        slot.micros.fetch_add(micros, Ordering::Relaxed);
        slot.max_micros.fetch_max(micros, Ordering::Relaxed);
        let ms = took.as_secs_f64() * 1000.0;
        let bucket = WINDOW_MS
            .iter()
            .position(|bound| ms <= *bound)
            .unwrap_or(WINDOW_MS.len());
        if let Some(count) = slot.latency.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn read(&self, now: Instant) -> Recent {
        let epoch = self.epoch(now);
        let mut requests = 0;
        let mut errors = 0;
        let mut micros = 0;
        let mut max_micros = 0;
        let mut latency = [0u64; WINDOW_MS.len() + 1];
        for slot in &self.slots {
            let e = slot.epoch.load(Ordering::Acquire);
            if e == u64::MAX || e + 1 < epoch || e > epoch {
                continue;
            }
            requests += slot.requests.load(Ordering::Relaxed);
            errors += slot.errors.load(Ordering::Relaxed);
            micros += slot.micros.load(Ordering::Relaxed);
            max_micros = max_micros.max(slot.max_micros.load(Ordering::Relaxed));
            for (sum, count) in latency.iter_mut().zip(&slot.latency) {
                *sum += count.load(Ordering::Relaxed);
            }
        }
        // The window spans the slot before (whole) and this one so far,
        // or less just after start.
        let elapsed = now.saturating_duration_since(self.start);
        let into_slot = elapsed.as_secs_f64() - (epoch * SLOT.as_secs()) as f64;
        let span = (into_slot + if epoch > 0 { SLOT.as_secs_f64() } else { 0.0 }).max(1.0);
        let quantile = |q: f64| {
            if requests == 0 {
                return 0.0;
            }
            let wanted = (q * requests as f64).ceil() as u64;
            let mut seen = 0;
            for (bucket, count) in latency.iter().enumerate() {
                seen += count;
                if seen >= wanted {
                    return WINDOW_MS
                        .get(bucket)
                        .copied()
                        .unwrap_or(max_micros as f64 / 1000.0);
                }
            }
            max_micros as f64 / 1000.0
        };
        Recent {
            rate: requests as f64 / span,
            error_rate: errors as f64 / span,
            latency_avg: if requests == 0 {
                0.0
            } else {
                micros as f64 / requests as f64 / 1000.0
            },
            latency_95: quantile(0.95),
            latency_99: quantile(0.99),
            latency_max: max_micros as f64 / 1000.0,
        }
    }
}

/// A route template with `:name` for `{name}`, the way Confluent's and
/// most HTTP metrics spell a path parameter, and no brace inside a label
/// for a lenient parser to trip on.
fn route_label(route: &str) -> String {
    let mut label = String::with_capacity(route.len());
    for c in route.chars() {
        match c {
            '{' => label.push(':'),
            '}' => {}
            c => label.push(c),
        }
    }
    label
}

/// The name gRPC gives a status code, as grpcurl prints it.
pub(crate) fn grpc_code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_series_per_route_method_and_status() {
        let r = Requests::default();
        let ms = Duration::from_millis;
        r.record(Api::Rest, "/subjects", "GET", Outcome::Http(200), ms(1));
        r.record(Api::Rest, "/subjects", "GET", Outcome::Http(200), ms(2));
        r.record(Api::Rest, "/subjects", "GET", Outcome::Http(404), ms(1));
        r.record(
            Api::Rest,
            "/subjects/{subject}",
            "GET",
            Outcome::Http(200),
            ms(1),
        );
        r.record(Api::Grpc, "/x.S/M", "POST", Outcome::Grpc(5), ms(1));
        let series = r.series();
        assert_eq!(series.len(), 4);
        assert_eq!(series[3].route, "/subjects/:subject");
        assert_eq!(series[0].route, "/x.S/M");
        assert_eq!(series[0].status, "NOT_FOUND");
        assert_eq!(series[1].status, "200");
        assert_eq!(series[1].seconds.count, 2);
        assert_eq!((r.succeeded(), r.failed()), (3, 2));
    }

    #[test]
    fn the_window_forgets_what_is_older_than_two_slots() {
        let start = Instant::now();
        let w = Window::new(start);
        for _ in 0..30 {
            w.record(start, true, Duration::from_millis(2));
        }
        w.record(start, false, Duration::from_millis(40));
        let now = start + Duration::from_secs(10);
        let recent = w.read(now);
        assert!((recent.rate - 3.1).abs() < 1e-9, "{recent:?}");
        assert!((recent.error_rate - 0.1).abs() < 1e-9);
        assert_eq!(recent.latency_95, 2.5);
        assert_eq!(recent.latency_99, 50.0);
        assert_eq!(recent.latency_max, 40.0);
        let later = w.read(start + SLOT * 3);
        assert_eq!(later.rate, 0.0);
        assert_eq!(later.latency_99, 0.0);
    }
}
