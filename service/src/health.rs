//! Liveness and readiness, for orchestrators and load balancers.
//!
//! Live: the process answers. Ready: it has replayed its log (on Kafka,
//! read the topic up to its start marker), its log takes writes, and (on
//! Kafka) the broker answers. A broker check is made at most every
//! [`CHECK_EVERY`], however many probes arrive, and waits at most
//! [`CHECK_TIMEOUT`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use scute_storage::log::Offset;
use tokio::sync::Mutex;

use crate::registry::Registry;

/// How long a broker check's verdict is reused.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// How long a broker check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the node can take traffic, and why not.
#[derive(Debug)]
pub struct Health {
    registry: Arc<Registry>,
    /// Whether the log is a broker's topic, which can stop answering.
    shared: bool,
    last_check: Mutex<Option<(Instant, Result<Offset, String>)>>,
}

impl Health {
    pub fn new(registry: Arc<Registry>, shared: bool) -> Self {
        Self {
            registry,
            shared,
            last_check: Mutex::new(None),
        }
    }

    /// `Ok` when ready, else why not.
    pub async fn ready(&self) -> Result<(), String> {
        if let Some(reason) = self.registry.not_writable() {
            return Err(reason);
        }
        if self.shared {
            self.broker_end().await.map_err(|e| {
                format!("the Kafka broker does not answer, so writes would fail: {e}")
            })?;
        }
        Ok(())
    }

    /// Offsets of the topic not read yet (Kafka), from the last check.
    pub async fn replay_lag(&self) -> Option<u64> {
        if !self.shared {
            return None;
        }
        let end = self.broker_end().await.ok()?;
        Some(end.saturating_sub(self.registry.position()))
    }

    /// Where the broker says the topic ends, checked at most every
    /// [`CHECK_EVERY`]: probes that arrive meanwhile share the answer.
    async fn broker_end(&self) -> Result<Offset, String> {
        let mut last = self.last_check.lock().await;
        if let Some((at, verdict)) = last.as_ref()
            && at.elapsed() < CHECK_EVERY
        {
            return verdict.clone();
        }
        let verdict = match tokio::time::timeout(CHECK_TIMEOUT, self.registry.log_end()).await {
            Ok(Ok(end)) => Ok(end),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer in {} s", CHECK_TIMEOUT.as_secs())),
        };
        *last = Some((Instant::now(), verdict.clone()));
        verdict
    }
}
