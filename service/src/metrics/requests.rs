//! Requests counted by API, route, method and status, with their latency;
//! and, at each scrape, the recent rate, error rate and latency, as
//! Confluent's registry reports its `jersey-metrics`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use scute_storage::stats::{Histogram, SECONDS, Snapshot};

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

/// One series: its requests and their latency.
#[derive(Debug)]
struct Series {
    api: Api,
    method: &'static str,
    outcome: Outcome,
    seconds: Histogram,
}

/// The series of one route, and the route as its label shows it.
#[derive(Debug)]
struct Route {
    label: String,
    series: Vec<Arc<Series>>,
}

/// All request series, by route: a request finds its series without
/// allocating (a map lookup by `&str`, then a scan of the few series a
/// route has) and counts itself with two atomic additions.
#[derive(Debug)]
pub(crate) struct Requests {
    routes: RwLock<HashMap<Box<str>, Route, foldhash::fast::RandomState>>,
    /// Totals at earlier scrapes, for the recent figures.
    history: Mutex<VecDeque<(Instant, Totals)>>,
    /// When counting began: the window of a first scrape.
    started: Instant,
}

impl Default for Requests {
    fn default() -> Self {
        Self {
            routes: RwLock::default(),
            history: Mutex::default(),
            started: Instant::now(),
        }
    }
}

/// A series as the page shows it.
pub(crate) struct SeriesView {
    pub(crate) api: Api,
    pub(crate) route: String,
    pub(crate) method: &'static str,
    pub(crate) status: String,
    pub(crate) succeeded: bool,
    pub(crate) seconds: Snapshot,
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
        {
            // The usual case: the series exists, counted under the read lock.
            let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(series) = routes
                .get(route)
                .and_then(|r| find(&r.series, api, method, outcome))
            {
                series.seconds.observe_duration(took);
                return;
            }
        }
        let series = {
            let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
            let entry = routes.entry(route.into()).or_insert_with(|| Route {
                label: route_label(route),
                series: Vec::new(),
            });
            find(&entry.series, api, method, outcome)
                .cloned()
                .unwrap_or_else(|| {
                    let series = Arc::new(Series {
                        api,
                        method,
                        outcome,
                        seconds: Histogram::new(SECONDS),
                    });
                    entry.series.push(series.clone());
                    series
                })
        };
        series.seconds.observe_duration(took);
    }

    pub(crate) fn series(&self) -> Vec<SeriesView> {
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        let mut views: Vec<SeriesView> = routes
            .values()
            .flat_map(|route| {
                route.series.iter().map(|series| SeriesView {
                    api: series.api,
                    route: route.label.clone(),
                    method: series.method,
                    status: series.outcome.label(),
                    succeeded: series.outcome.succeeded(),
                    seconds: series.seconds.snapshot(),
                })
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

    /// The recent figures, from the totals of `series` (this scrape's) and
    /// those of an earlier scrape at least [`WINDOW`] ago (else the oldest
    /// kept, else the start).
    pub(crate) fn recent(&self, series: &[SeriesView], now: Instant) -> Recent {
        let totals = Totals::of(series);
        let mut history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        let base = history
            .iter()
            .rev()
            .find(|(at, _)| now.saturating_duration_since(*at) >= WINDOW)
            .or_else(|| history.front())
            .cloned();
        history.push_back((now, totals.clone()));
        while history.len() > HISTORY
            || history
                .front()
                .is_some_and(|(at, _)| now.saturating_duration_since(*at) > WINDOW * 4)
        {
            history.pop_front();
        }
        drop(history);
        let (span, base) = match base {
            Some((at, base)) => (now.saturating_duration_since(at), base),
            None => (
                now.saturating_duration_since(self.started),
                Totals::default(),
            ),
        };
        totals.since(&base, span)
    }
}

fn find<'a>(
    series: &'a [Arc<Series>],
    api: Api,
    method: &str,
    outcome: Outcome,
) -> Option<&'a Arc<Series>> {
    series
        .iter()
        .find(|s| s.api == api && s.method == method && s.outcome == outcome)
}

/// How far back the recent figures look, as Confluent's sampled rates do
/// (two 15-second samples) when scraped every 15 seconds or less often.
const WINDOW: Duration = Duration::from_secs(15);
/// Earlier scrapes kept: enough for several scrapers at once.
const HISTORY: usize = 64;

/// Every request counted, all series together.
#[derive(Debug, Clone, Default, PartialEq)]
struct Totals {
    requests: u64,
    errors: u64,
    seconds: f64,
    /// Cumulative counts per bound of [`SECONDS`], then `+Inf`.
    buckets: Vec<u64>,
}

impl Totals {
    fn of(series: &[SeriesView]) -> Self {
        let mut totals = Totals {
            buckets: vec![0; SECONDS.len() + 1],
            ..Totals::default()
        };
        for s in series {
            totals.requests += s.seconds.count;
            if !s.succeeded {
                totals.errors += s.seconds.count;
            }
            totals.seconds += s.seconds.sum;
            for (sum, (_, count)) in totals.buckets.iter_mut().zip(&s.seconds.buckets) {
                *sum += count;
            }
        }
        totals
    }

    fn since(&self, base: &Totals, span: Duration) -> Recent {
        let span = span.as_secs_f64().max(1.0);
        let requests = self.requests.saturating_sub(base.requests);
        let errors = self.errors.saturating_sub(base.errors);
        let delta: Vec<u64> = self
            .buckets
            .iter()
            .enumerate()
            .map(|(i, n)| n.saturating_sub(base.buckets.get(i).copied().unwrap_or(0)))
            .collect();
        let quantile = |q: f64| {
            if requests == 0 {
                return 0.0;
            }
            let wanted = (q * requests as f64).ceil() as u64;
            let bucket = delta
                .iter()
                .position(|n| *n >= wanted)
                .unwrap_or(SECONDS.len());
            // Past the last bound: the last bound is all that is known.
            SECONDS
                .get(bucket)
                .or(SECONDS.last())
                .copied()
                .unwrap_or(0.0)
                * 1e3
        };
        Recent {
            rate: requests as f64 / span,
            error_rate: errors as f64 / span,
            latency_avg: if requests == 0 {
                0.0
            } else {
                (self.seconds - base.seconds).max(0.0) / requests as f64 * 1e3
            },
            latency_95: quantile(0.95),
            latency_99: quantile(0.99),
        }
    }
}

/// The recent figures, in Confluent's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Recent {
    /// Requests per second.
    pub(crate) rate: f64,
    /// Failed requests per second.
    pub(crate) error_rate: f64,
    /// Milliseconds.
    pub(crate) latency_avg: f64,
    /// Milliseconds: the upper bound of the bucket the quantile falls in.
    pub(crate) latency_95: f64,
    pub(crate) latency_99: f64,
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
        assert_eq!(series[0].route, "/x.S/M");
        assert_eq!(series[0].status, "NOT_FOUND");
        assert!(!series[0].succeeded);
        assert_eq!(series[1].status, "200");
        assert_eq!(series[1].seconds.count, 2);
        assert_eq!(series[3].route, "/subjects/:subject");
    }

    #[test]
    fn recent_figures_are_the_difference_from_a_scrape_a_window_ago() {
        let r = Requests::default();
        let hit = |status, ms| {
            let took = Duration::from_millis(ms);
            r.record(Api::Rest, "/a", "GET", Outcome::Http(status), took);
        };
        let start = r.started;
        (0..10).for_each(|_| hit(200, 2));
        let first = r.recent(&r.series(), start + Duration::from_secs(20));
        assert_eq!(
            first.rate, 0.5,
            "ten requests in the 20 s before the first scrape"
        );
        (0..29).for_each(|_| hit(200, 2));
        hit(500, 40);
        let second = r.recent(&r.series(), start + Duration::from_secs(40));
        assert_eq!(
            second.rate, 1.5,
            "30 requests in the 20 s since the first scrape"
        );
        assert_eq!(second.error_rate, 0.05);
        assert_eq!(second.latency_95, 2.5);
        assert_eq!(second.latency_99, 50.0);
        assert!(
            (second.latency_avg - 98.0 / 30.0).abs() < 1e-6,
            "{second:?}"
        );
        // A scrape soon after looks back past the one just before it.
        let third = r.recent(&r.series(), start + Duration::from_secs(45));
        assert_eq!(third.rate, 30.0 / 25.0);
    }
}
