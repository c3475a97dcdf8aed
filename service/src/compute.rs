//! The compute pool: threads of their own for the CPU-heavy work of a
//! request (parsing schemas, checking compatibility).
//!
//! Why not the async workers: a large Protobuf file takes tens of
//! milliseconds to compile and a hostile one could take more, and work done
//! on a worker holds up every request queued behind it. Here:
//!
//! * a fixed number of threads, each with a stack known to hold the deepest
//!   schema the parsers accept ([`STACK_BYTES`]), at a lower scheduling
//!   priority than the threads that serve lookups, so a flood of checks
//!   slows checks, not reads;
//! * a bounded queue: past it, a request is refused at once with
//!   [`Error::Overloaded`] rather than waiting without end;
//! * a deadline per request: past it, the request answers
//!   [`Error::WorkDeadline`], and the long checks of `scute-formats` stop
//!   early (see `scute_formats::limits::until`);
//! * a panic in the work answers [`Error::Internal`] and is logged; the
//!   thread goes on with the next job.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::error::Error;

/// The stack of a compute thread: the parsers recurse once or a few times
/// per level of nesting, and `tests/e2e/test_limits.py` runs schemas nested
/// `Limits::MAX_MAX_DEPTH` deep through every format on this much, in the
/// unoptimized build, whose frames are the largest. Only the pages used are
/// ever resident.
pub const STACK_BYTES: usize = 256 << 20;

/// How the pool is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeConfig {
    /// Threads doing the work.
    pub threads: usize,
    /// Jobs that may wait for a thread; past that, requests are refused.
    pub queue: usize,
    /// How long a request's work may take, waiting included.
    pub deadline: Duration,
}

impl ComputeConfig {
    /// One thread per core, 64 jobs waiting per thread, 10 s.
    pub fn for_this_machine() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            threads,
            queue: 64 * threads,
            deadline: Duration::from_secs(10),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A handle on the pool; clones share it. The threads end once every
/// handle is gone and the queue is empty.
#[derive(Debug, Clone)]
pub struct Compute {
    queue: SyncSender<Job>,
    config: ComputeConfig,
}

/// Niceness of the compute threads: checks yield the CPU to lookups.
const NICENESS: i32 = 10;

impl Compute {
    /// Starts the threads.
    pub fn start(config: ComputeConfig) -> std::io::Result<Self> {
        Self::start_named(config, "scute-compute")
    }

    /// Starts threads named `name-N` (as `top -H` shows them).
    pub fn start_named(config: ComputeConfig, name: &str) -> std::io::Result<Self> {
        let threads = config.threads.max(1);
        let (queue, jobs) = sync_channel::<Job>(config.queue);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .stack_size(STACK_BYTES)
                .spawn(move || run_jobs(&jobs))?;
        }
        Ok(Self { queue, config })
    }

    /// The configuration the pool runs with.
    pub fn config(&self) -> ComputeConfig {
        self.config
    }

    /// The deadline of work that starts now.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.config.deadline
    }

    /// Runs `work` on the pool and waits for it, until `deadline`. `what`
    /// names the work in errors and logs ("parsing a PROTOBUF schema").
    pub async fn run<T: Send + 'static>(
        &self,
        what: &str,
        deadline: Instant,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The request gave up already: nobody would read the answer.
            if reply.is_closed() || Instant::now() >= deadline {
                return;
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                scute_formats::limits::until(deadline, work)
            }));
            let _ = reply.send(outcome);
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(Error::Overloaded(format!(
                    "Scute is busy: {} schema parses and checks are already waiting (--compute-queue); retry shortly",
                    self.config.queue
                )));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(Error::Internal("the compute pool has stopped".into()));
            }
        }
        let waited = tokio::time::timeout_at(deadline.into(), answer).await;
        match waited {
            Ok(Ok(Ok(Some(out)))) => Ok(out),
            // Timed out waiting, skipped for being late, or cut short.
            Err(_) | Ok(Err(_)) | Ok(Ok(Ok(None))) => Err(self.deadline_error(what)),
            Ok(Ok(Err(panic))) => {
                let message = panic_message(panic.as_ref());
                tracing::error!(work = what, panic = %message, "a request's work panicked; answering it with a 500");
                Err(Error::Internal(format!(
                    "Internal error while {what}: {message}"
                )))
            }
        }
    }

    fn deadline_error(&self, what: &str) -> Error {
        Error::WorkDeadline(format!(
            "{} took longer than the {} ms allowed (--compute-deadline-ms)",
            capitalized(what),
            self.config.deadline.as_millis()
        ))
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

fn run_jobs(jobs: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        // The lock is held only while taking a job, never while running it.
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Lowers this thread's scheduling priority (Linux's niceness is per
/// thread); where that is refused, the thread runs at normal priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let me = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(me), NICENESS) {
            tracing::debug!(error = %e, "cannot lower the priority of a compute thread");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize, queue: usize, deadline_ms: u64) -> Compute {
        Compute::start(ComputeConfig {
            threads,
            queue,
            deadline: Duration::from_millis(deadline_ms),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn runs_work_and_answers() {
        let pool = pool(2, 4, 10_000);
        let out = pool.run("adding", pool.deadline(), || 2 + 2).await;
        assert_eq!(out.unwrap(), 4);
    }

    #[tokio::test]
    async fn a_panic_is_a_500_and_the_pool_goes_on() {
        let pool = pool(1, 4, 10_000);
        let err = pool
            .run("checking", pool.deadline(), || -> u8 { panic!("boom") })
            .await
            .unwrap_err();
        assert_eq!(err.error_code(), 500);
        assert_eq!(err.to_string(), "Internal error while checking: boom");
        assert_eq!(pool.run("adding", pool.deadline(), || 1).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn work_past_its_deadline_is_its_own_error() {
        let pool = pool(1, 4, 50);
        let err = pool
            .run("parsing a PROTOBUF schema", pool.deadline(), || {
                std::thread::sleep(Duration::from_millis(300))
            })
            .await
            .unwrap_err();
        assert_eq!(err.error_code(), 50002);
        assert_eq!(
            err.to_string(),
            "Parsing a PROTOBUF schema took longer than the 50 ms allowed (--compute-deadline-ms)"
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let pool = pool(1, 1, 10_000);
        let (hold, held) = std::sync::mpsc::channel::<()>();
        let busy = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run("holding", pool.deadline(), move || held.recv())
                    .await
            })
        };
        // One job runs, one waits: the third has no room.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run("waiting", pool.deadline(), || 1).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let err = pool
            .run("refused", pool.deadline(), || 1)
            .await
            .unwrap_err();
        assert_eq!(err.error_code(), 503);
        hold.send(()).unwrap();
        assert!(busy.await.unwrap().is_ok());
        assert_eq!(waiting.await.unwrap().unwrap(), 1);
    }

    #[test]
    fn compute_threads_have_the_stack_they_promise() {
        // Recursing 64 MiB deep would overflow any default stack.
        fn depth(n: usize) -> usize {
            let pad = std::hint::black_box([0u8; 1024]);
            if n == 0 {
                pad[0] as usize
            } else {
                depth(n - 1) + 1
            }
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let pool = pool(1, 1, 60_000);
        let got = rt.block_on(pool.run("recursing", pool.deadline(), || depth(64 * 1024)));
        assert_eq!(got.unwrap(), 64 * 1024);
    }
}
