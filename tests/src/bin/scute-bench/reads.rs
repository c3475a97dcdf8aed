//! Lookups by id over a few keep-alive connections, timed one by one: the
//! measuring stick of the flood and authentication figures.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use http::{HeaderValue, StatusCode, Uri};

use super::{Client, ms, thousands};

/// Latencies of one read phase.
pub(crate) struct Reads {
    latencies: Vec<u64>,
    pub(crate) elapsed: Duration,
}

impl Reads {
    pub(crate) fn quantile(&self, p: f64) -> u64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(i).copied().unwrap_or_default()
    }

    pub(crate) fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// `| what | reads/s | p50 | p99 |`.
    pub(crate) fn row(&self, what: &str) -> String {
        format!(
            "| {what} | {} | {} | {} |",
            thousands(self.per_second()),
            ms(self.quantile(0.5)),
            ms(self.quantile(0.99))
        )
    }
}

/// `connections` connections reading schema `id` at `addr` for `duration`,
/// each request carrying `authorization` when given.
pub(crate) async fn read_for(
    addr: SocketAddr,
    id: i64,
    connections: usize,
    authorization: Option<HeaderValue>,
    duration: Duration,
) -> Result<Reads> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let authorization = authorization.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect_as(addr, authorization).await?;
            let path = Uri::try_from(format!("/schemas/ids/{id}"))?;
            let mut latencies = Vec::new();
            while started.elapsed() < duration {
                let t = Instant::now();
                let status = client.get(&path).await?.status();
                ensure!(status == StatusCode::OK, "a read answered {status}");
                latencies.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(Reads {
        latencies,
        elapsed: started.elapsed(),
    })
}
