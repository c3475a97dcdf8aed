//! `scute-bench`: starts the real `scute` binary on loopback ports with a temporary
//! data directory and prints figures: lookups by id against a minimal hyper baseline,
//! fsync'd registrations, and start-up time and memory over a large log.
//!
//! A program that prints figures, not a test: nothing here asserts on a timing.
//!
//! ```text
//! cargo build --release -p scute-service --bin scute -p scute-tests --bin scute-bench
//! target/release/scute-bench            # full run, under 3 minutes
//! target/release/scute-bench --quick    # smoke run, a few seconds
//! target/release/scute-bench --protobuf # only the PROTOBUF figures (protobuf.rs)
//! target/release/scute-bench --json     # JSON Schema figures only (json.rs)
//! target/release/scute-bench --auth     # authentication figures only (auth.rs)
//! ```

mod json;
mod protobuf;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use bytes::Bytes;
use clap::Parser;
use http::header::{ACCEPT, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use scute_storage::record::{Record, SchemaValue};
use scute_storage::{FileLog, SchemaLog};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

mod auth;
mod flood;
mod kafka;
mod reads;

/// Confluent's versioned media type, used for requests and expected in responses.
const V1_JSON: &str = "application/vnd.schemaregistry.v1+json";
/// Name of the baseline server's threads, to find their CPU time in `/proc`.
const BASELINE_THREAD: &str = "bench-baseline";
/// `USER_HZ`, the unit of CPU times in `/proc/*/stat`: 100 on every Linux port.
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// Benchmarks of the real `scute` binary (REST API over loopback).
#[derive(Debug, Parser)]
#[command(name = "scute-bench")]
struct Args {
    /// Path of the `scute` binary to benchmark.
    #[arg(long, default_value = "target/release/scute")]
    scute: PathBuf,
    /// Short smoke run: ~2 s load phases and small counts (flags below still win).
    #[arg(long)]
    quick: bool,
    /// Warm-up of each lookup load, in seconds [default: 2, quick: 0.5].
    #[arg(long)]
    warmup: Option<f64>,
    /// Measured duration of each lookup load, in seconds [default: 10, quick: 1.5].
    #[arg(long)]
    duration: Option<f64>,
    /// Concurrent keep-alive connections (lookups and registrations).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Schemas registered before the lookup load [default: 300, quick: 100].
    #[arg(long)]
    lookup_schemas: Option<usize>,
    /// New schemas registered in the registration run [default: 20000, quick: 1000].
    #[arg(long)]
    registrations: Option<usize>,
    /// Schemas in the log for the start-up run [default: 100000, quick: 10000].
    #[arg(long)]
    startup_schemas: Option<usize>,
    /// Seconds after start-up before the second memory reading [default: 5, quick: 1].
    #[arg(long)]
    settle: Option<f64>,
    /// Run only the start-up run (no lookups, no registrations).
    #[arg(long)]
    startup_only: bool,
    /// Run only the PROTOBUF benchmarks: a 200-message file registered and
    /// checked, and start-up over 10,000 Protobuf schemas.
    #[arg(long)]
    protobuf: bool,
    /// Run the JSON Schema figures (json.rs) instead of the others.
    #[arg(long)]
    json: bool,
    /// Run the flood figures (flood.rs): lookups by id alone and during a
    /// flood of heavy compatibility checks.
    #[arg(long)]
    flood: bool,
    /// Run the authentication figures (auth.rs): lookups with cached Basic
    /// credentials, and during a flood of wrong passwords.
    #[arg(long)]
    auth: bool,
    /// Directory in which temporary data directories are made [default: the system's].
    #[arg(long)]
    tmp_dir: Option<PathBuf>,
    /// Benchmark the Kafka backend on this broker instead (`host:port`).
    #[arg(long)]
    kafka: Option<String>,
    /// Records in the topic for the Kafka replay run [default: 100000, quick: 10000].
    #[arg(long)]
    kafka_replay_records: Option<usize>,
    /// A librdkafka property for the scute nodes (`key=value`), repeatable.
    #[arg(long)]
    kafka_property: Vec<String>,
}

/// The resolved settings of one run.
#[derive(Debug)]
struct Plan {
    scute: PathBuf,
    protobuf: bool,
    warmup: Duration,
    duration: Duration,
    connections: usize,
    lookup_schemas: usize,
    registrations: usize,
    startup_schemas: usize,
    startup_only: bool,
    settle: Duration,
    json: bool,
    flood: bool,
    auth: bool,
    tmp_dir: PathBuf,
    kafka: Option<String>,
    kafka_replay_records: usize,
    kafka_properties: Vec<String>,
}

impl Plan {
    fn from_args(args: Args) -> Result<Self> {
        let q = args.quick;
        let secs = |v: Option<f64>, full: f64, quick: f64| -> Result<Duration> {
            let s = v.unwrap_or(if q { quick } else { full });
            Duration::try_from_secs_f64(s).map_err(|e| anyhow!("bad duration {s}: {e}"))
        };
        let plan = Plan {
            scute: find_binary(&args.scute)?,
            protobuf: args.protobuf,
            warmup: secs(args.warmup, 2.0, 0.5)?,
            duration: secs(args.duration, 10.0, 1.5)?,
            connections: args.connections,
            lookup_schemas: args.lookup_schemas.unwrap_or(if q { 100 } else { 300 }),
            registrations: args.registrations.unwrap_or(if q { 1_000 } else { 20_000 }),
            startup_schemas: args
                .startup_schemas
                .unwrap_or(if q { 10_000 } else { 100_000 }),
            startup_only: args.startup_only,
            settle: secs(args.settle, 5.0, 1.0)?,
            json: args.json,
            flood: args.flood,
            auth: args.auth,
            tmp_dir: args.tmp_dir.unwrap_or_else(std::env::temp_dir),
            kafka: args.kafka,
            kafka_properties: args.kafka_property,
            kafka_replay_records: args.kafka_replay_records.unwrap_or(if q {
                10_000
            } else {
                100_000
            }),
        };
        ensure!(plan.connections > 0, "--connections must be at least 1");
        ensure!(
            plan.lookup_schemas > 0,
            "--lookup-schemas must be at least 1"
        );
        ensure!(
            plan.startup_schemas > 0,
            "--startup-schemas must be at least 1"
        );
        ensure!(!plan.duration.is_zero(), "--duration must be positive");
        Ok(plan)
    }
}

/// The given path, or, for the default relative path, the workspace's release binary.
fn find_binary(given: &Path) -> Result<PathBuf> {
    if given.is_file() {
        return Ok(given.to_owned());
    }
    let in_workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(given);
    if given.is_relative() && in_workspace.is_file() {
        return Ok(in_workspace);
    }
    bail!(
        "no scute binary at {} (build it: cargo build --release -p scute-service --bin scute, \
         or pass --scute PATH)",
        given.display()
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Dropping `run` on Ctrl-C drops (and so kills) every process it started.
    let result = tokio::select! {
        result = async { run(&Plan::from_args(args)?).await } => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted; stopped every process started")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scute-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(plan: &Plan) -> Result<()> {
    let machine = Machine::read();
    eprintln!(
        "scute-bench: {} ({}), machine: {}",
        plan.scute.display(),
        if plan.duration < Duration::from_secs(5) {
            "short run"
        } else {
            "full run"
        },
        machine.describe()
    );

    if plan.protobuf {
        return protobuf::run(plan, &machine).await;
    }
    if plan.flood {
        return flood::run(plan, &machine).await;
    }
    if plan.auth {
        return auth::run(plan, &machine).await;
    }
    if plan.json {
        let figures = json::bench_json(plan).await?;
        println!("{}", figures.markdown(&machine));
        return Ok(());
    }

    if let Some(bootstrap) = &plan.kafka {
        let registrations = plan.registrations.min(20_000);
        let figures = kafka::bench_kafka(
            &plan.scute,
            &plan.tmp_dir,
            bootstrap,
            registrations,
            plan.connections,
            plan.kafka_replay_records,
            &plan.kafka_properties,
        )
        .await?;
        println!("{}", figures.markdown(registrations, plan.connections));
        return Ok(());
    }
    if plan.startup_only {
        let s = bench_startup(plan).await?;
        let per_schema = s.per_schema(s.rss_settled_kib);
        println!(
            "Start-up over {} schemas ({:.1} MiB log): spawn to first 200 {:.0} ms (replay {} ms); \
             VmRSS at first 200 / {:.0} s later {} / {} (empty registry {}, {per_schema:.0} B a schema); \
             GET /metrics {}; {}; load average before {}, after {}",
            thousands(s.schemas as f64),
            s.log_bytes as f64 / (1024.0 * 1024.0),
            s.ready.as_secs_f64() * 1e3,
            s.replay_ms
                .map_or_else(|| "?".to_owned(), |ms| ms.to_string()),
            plan.settle.as_secs_f64(),
            mib(s.rss_ready_kib),
            mib(s.rss_settled_kib),
            mib(s.rss_empty_kib),
            scrape_ms(s.metrics_scrape),
            s.restart_line(plan.settle),
            machine.loadavg,
            loadavg()
        );
        return Ok(());
    }
    let lookups = bench_lookups(plan).await?;
    let startup = bench_startup(plan).await?;

    let report = Report {
        plan,
        machine: &machine,
        lookups: &lookups,
        startup: &startup,
    };
    println!("{}", report.text());
    println!("{}", report.markdown());
    Ok(())
}

// ---------------------------------------------------------------------------------
// Phase 1 and 2: lookups and registrations against one scute process.
// ---------------------------------------------------------------------------------

/// Figures of the lookup and registration runs.
struct LookupFigures {
    scute: Sampled,
    baseline: Sampled,
    body_len: usize,
    content_type: String,
    registrations: Sampled,
    rss_after_kib: Option<u64>,
    data_fs: String,
    scute_warnings: Vec<String>,
}

/// One real answer from scute: the body and content type the baseline
/// server then gives to every request.
async fn baseline_answer(addr: SocketAddr, path: &Uri) -> Result<(Bytes, HeaderValue)> {
    let mut probe = Client::connect(addr).await?;
    let sample = probe.get(path).await?;
    ensure!(
        sample.status() == StatusCode::OK,
        "GET {path} answered {}: {}",
        sample.status(),
        String::from_utf8_lossy(sample.body())
    );
    let content_type = sample
        .headers()
        .get(CONTENT_TYPE)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static(V1_JSON));
    Ok((sample.body().clone(), content_type))
}

async fn bench_lookups(plan: &Plan) -> Result<LookupFigures> {
    let data = tempfile::Builder::new()
        .prefix("scute-bench-")
        .tempdir_in(&plan.tmp_dir)
        .context("creating a temporary data directory")?;
    let data_fs = filesystem_of(data.path());
    let mut scute = Scute::spawn(&plan.scute, data.path())?;
    scute.wait_ready(Duration::from_secs(30)).await?;

    eprintln!(
        "registering {} schemas for the lookups...",
        plan.lookup_schemas
    );
    let ids = register_lookup_schemas(scute.rest, plan.lookup_schemas).await?;
    let paths: Arc<Vec<Uri>> = Arc::new(
        ids.iter()
            .map(|id| format!("/schemas/ids/{id}").parse())
            .collect::<Result<_, _>>()?,
    );

    let (body, content_type) = baseline_answer(scute.rest, &paths[0]).await?;
    let load = Load::of(plan);
    eprintln!(
        "lookups against scute and the baseline hyper server, in {SLICES} turns each: \
         {} connections, {:?} warm-up + {:?} in all...",
        load.connections, load.warmup, load.duration
    );
    let baseline_server = Baseline::start(body.clone(), content_type.clone())?;
    let (scute_lookups, baseline) =
        paired_lookups(scute.rest, scute.pid(), baseline_server.addr, paths, &load).await?;
    drop(baseline_server);
    scute.check_alive()?;

    eprintln!(
        "registering {} new schemas from {} clients...",
        plan.registrations, plan.connections
    );
    let registrations = register_load(scute.rest, plan.registrations, plan.connections).await?;
    scute.check_alive()?;
    let rss_after_kib = proc_status_kib(scute.pid(), "VmRSS").ok();
    let scute_warnings = scute.warnings();

    Ok(LookupFigures {
        scute: scute_lookups,
        baseline,
        body_len: body.len(),
        content_type: content_type.to_str().unwrap_or("?").to_owned(),
        registrations,
        rss_after_kib,
        data_fs,
        scute_warnings,
    })
}

/// Registers `count` schemas, each under its own subject, and returns their ids.
async fn register_lookup_schemas(addr: SocketAddr, count: usize) -> Result<Vec<i64>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..count.min(16) {
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await?;
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(ids);
                }
                let response = client
                    .register(&lookup_subject(i), &avro_schema("Lookup", i, 2))
                    .await?;
                ensure!(
                    response.status() == StatusCode::OK,
                    "registering a lookup schema: {} {}",
                    response.status(),
                    String::from_utf8_lossy(response.body())
                );
                ids.push(parse_id(response.body())?);
            }
        }));
    }
    let mut ids = Vec::with_capacity(count);
    for task in tasks {
        ids.extend(task.await??);
    }
    Ok(ids)
}

fn lookup_subject(i: usize) -> String {
    format!("bench-lookup-{i}-value")
}

fn parse_id(body: &[u8]) -> Result<i64> {
    let value: serde_json::Value = serde_json::from_slice(body)?;
    value
        .get("id")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| anyhow!("no id in {}", String::from_utf8_lossy(body)))
}

/// A distinct AVRO record schema: the name carries `i` (zero-padded, so every
/// schema of a kind has the same size) and `extras` optional fields follow three fixed ones.
fn avro_schema(kind: &str, i: usize, extras: usize) -> String {
    let mut fields = String::from(
        r#"{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"created","type":{"type":"long","logicalType":"timestamp-millis"}}"#,
    );
    for k in 0..extras {
        let _ = write!(
            fields,
            r#",{{"name":"extra{k}","type":["null","string"],"default":null}}"#
        );
    }
    format!(
        r#"{{"type":"record","name":"{kind}{i:06}","namespace":"io.scute.bench","fields":[{fields}]}}"#
    )
}

/// Shape of a timed load: concurrency, warm-up and measured window.
struct Load {
    connections: usize,
    warmup: Duration,
    duration: Duration,
}

impl Load {
    /// The lookup load the plan asks for.
    fn of(plan: &Plan) -> Self {
        Self {
            connections: plan.connections,
            warmup: plan.warmup,
            duration: plan.duration,
        }
    }
}

/// Latencies of successful requests and what failed, over a measured window.
#[derive(Default)]
struct Sampled {
    latencies_ns: Vec<u64>,
    errors: u64,
    error_samples: Vec<String>,
    window: Duration,
    /// CPU time the server used in the window, in clock ticks, if known.
    server_cpu_ticks: Option<u64>,
}

impl Sampled {
    fn merge(&mut self, other: TaskSamples) {
        self.latencies_ns.extend(other.latencies_ns);
        self.errors += other.errors;
        for s in other.error_samples {
            if self.error_samples.len() < 5 {
                self.error_samples.push(s);
            }
        }
    }

    /// Server CPU time per successful request, in microseconds.
    fn cpu_us_per_request(&self) -> Option<f64> {
        let ticks = self.server_cpu_ticks?;
        let n = self.latencies_ns.len();
        (n > 0).then(|| ticks as f64 * 1e6 / CLOCK_TICKS_PER_SEC / n as f64)
    }

    /// Cores the server kept busy on average over the window.
    fn server_cores(&self) -> Option<f64> {
        let ticks = self.server_cpu_ticks?;
        Some(ticks as f64 / CLOCK_TICKS_PER_SEC / self.window.as_secs_f64())
    }

    fn rate(&self) -> f64 {
        self.latencies_ns.len() as f64 / self.window.as_secs_f64()
    }

    /// The `p` quantile (0..=1) of the latencies, in nanoseconds.
    fn quantile(&self, p: f64) -> u64 {
        // Sorted once in `finish`.
        if self.latencies_ns.is_empty() {
            return 0;
        }
        let rank = (p * self.latencies_ns.len() as f64).ceil() as usize;
        self.latencies_ns[rank.clamp(1, self.latencies_ns.len()) - 1]
    }

    fn finish(mut self, window: Duration) -> Self {
        self.latencies_ns.sort_unstable();
        self.window = window;
        self
    }

    /// Adds a later window of the same load: its requests, errors, time
    /// and server CPU (unknown if either's is).
    fn absorb(mut self, other: Sampled) -> Self {
        self.merge(TaskSamples {
            latencies_ns: other.latencies_ns,
            errors: other.errors,
            error_samples: other.error_samples,
        });
        self.server_cpu_ticks = self
            .server_cpu_ticks
            .zip(other.server_cpu_ticks)
            .map(|(a, b)| a + b);
        let window = self.window + other.window;
        self.finish(window)
    }
}

/// What one load task saw.
#[derive(Default)]
struct TaskSamples {
    latencies_ns: Vec<u64>,
    errors: u64,
    error_samples: Vec<String>,
}

impl TaskSamples {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < 5 {
            self.error_samples.push(what);
        }
    }

    fn response(&mut self, started: Instant, response: &Response<Bytes>) {
        if response.status() == StatusCode::OK {
            self.latencies_ns
                .push(started.elapsed().as_nanos().min(u64::MAX as u128) as u64);
        } else {
            self.error(format!(
                "HTTP {}: {}",
                response.status(),
                truncate(&String::from_utf8_lossy(response.body()), 200)
            ));
        }
    }
}

/// Slices a load is split into when Scute and the baseline are compared,
/// taken in turns, so that a change in the machine's other work between
/// them (it shares its cores) falls on both alike.
const SLICES: u32 = 5;
/// The warm-up of each slice after the first (fresh connections).
const SLICE_WARMUP: Duration = Duration::from_millis(500);

/// The same lookups against Scute (process `pid`) and the baseline server,
/// in turns of [`SLICES`] slices each: Scute's figures, then the baseline's.
async fn paired_lookups(
    scute: SocketAddr,
    pid: u32,
    baseline: SocketAddr,
    paths: Arc<Vec<Uri>>,
    load: &Load,
) -> Result<(Sampled, Sampled)> {
    let mut sums: Option<(Sampled, Sampled)> = None;
    for slice in 0..SLICES {
        let slice_load = Load {
            connections: load.connections,
            warmup: if slice == 0 {
                load.warmup
            } else {
                SLICE_WARMUP
            },
            duration: load.duration / SLICES,
        };
        let ours =
            lookup_load(scute, paths.clone(), &slice_load, || process_cpu_ticks(pid)).await?;
        let theirs = lookup_load(baseline, paths.clone(), &slice_load, || {
            threads_cpu_ticks(BASELINE_THREAD)
        })
        .await?;
        sums = Some(match sums {
            None => (ours, theirs),
            Some((a, b)) => (a.absorb(ours), b.absorb(theirs)),
        });
    }
    sums.ok_or_else(|| anyhow!("no slices"))
}

/// `GET paths[random]` on `connections` keep-alive connections for warm-up + duration;
/// only requests started after the warm-up and finished by the end are counted.
async fn lookup_load(
    addr: SocketAddr,
    paths: Arc<Vec<Uri>>,
    load: &Load,
    server_cpu: impl Fn() -> Option<u64>,
) -> Result<Sampled> {
    let mut clients = Vec::with_capacity(load.connections);
    for _ in 0..load.connections {
        clients.push(Client::connect(addr).await?);
    }
    let measure_from = Instant::now() + load.warmup;
    let end = measure_from + load.duration;
    let mut tasks = Vec::new();
    for (task, mut client) in clients.into_iter().enumerate() {
        let paths = paths.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(task as u64 + 1);
            let mut out = TaskSamples::default();
            loop {
                let started = Instant::now();
                if started >= end {
                    break;
                }
                let path = &paths[rng.below(paths.len())];
                match client.get(path).await {
                    Ok(response) if started >= measure_from && Instant::now() <= end => {
                        out.response(started, &response)
                    }
                    Ok(_) => {}
                    Err(e) => {
                        out.error(format!("request failed: {e:#}"));
                        if let Err(e) = client.reconnect().await {
                            out.error(format!("reconnect failed: {e:#}"));
                            break;
                        }
                    }
                }
            }
            out
        }));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_before = server_cpu();
    tokio::time::sleep_until(end.into()).await;
    let cpu_after = server_cpu();
    let mut sampled = Sampled::default();
    for task in tasks {
        sampled.merge(task.await?);
    }
    sampled.server_cpu_ticks = cpu_after.zip(cpu_before).map(|(a, b)| a.saturating_sub(b));
    Ok(sampled.finish(load.duration))
}

/// Registers `count` new schemas, each under a subject of its own, from `clients`
/// keep-alive connections; every request is counted.
async fn register_load(addr: SocketAddr, count: usize, clients: usize) -> Result<Sampled> {
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(Client::connect(addr).await?);
    }
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for mut client in connections {
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = TaskSamples::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let subject = format!("bench-register-{i}-value");
                let schema = avro_schema("Registered", i, i % 4);
                let started = Instant::now();
                match client.register(&subject, &schema).await {
                    Ok(response) => out.response(started, &response),
                    Err(e) => {
                        out.error(format!("request failed: {e:#}"));
                        if let Err(e) = client.reconnect().await {
                            out.error(format!("reconnect failed: {e:#}"));
                            break;
                        }
                    }
                }
            }
            out
        }));
    }
    let mut sampled = Sampled::default();
    for task in tasks {
        sampled.merge(task.await?);
    }
    Ok(sampled.finish(start.elapsed()))
}

// ---------------------------------------------------------------------------------
// Phase 3: start-up over a large log.
// ---------------------------------------------------------------------------------

/// Figures of the start-up run.
struct StartupFigures {
    schemas: usize,
    log_bytes: u64,
    write_time: Duration,
    ready: Duration,
    polls: u64,
    rss_ready_kib: u64,
    rss_settled_kib: u64,
    /// VmRSS of the same binary on an empty data directory, for the cost per schema.
    rss_empty_kib: u64,
    hwm_kib: u64,
    replay_ms: Option<u64>,
    /// The quickest of three `GET /metrics`, each counting the whole state
    /// (`None` from a binary that serves none).
    metrics_scrape: Option<Duration>,
    /// The same log started again over the snapshot the first start wrote
    /// (`None` from a binary that writes none).
    restart: Option<Restart>,
    scute_warnings: Vec<String>,
}

/// A start over a snapshot of the state and the log.
struct Restart {
    ready: Duration,
    replay_ms: Option<u64>,
    rss_ready_kib: u64,
    rss_settled_kib: u64,
    /// Lookups by id spread over the whole log (texts read back from it),
    /// then the baseline server with the same body, in the same run.
    lookups: Sampled,
    baseline: Sampled,
}

impl Restart {
    fn ratio(&self) -> f64 {
        self.lookups.rate() / self.baseline.rate().max(1e-9)
    }
}

/// Lookups over ids spread across a registry of `n` schemas, against scute
/// and then the baseline server answering the same body.
async fn lookups_at_scale(plan: &Plan, scute: &mut Scute, n: usize) -> Result<(Sampled, Sampled)> {
    const SPREAD: usize = 10_000;
    let paths: Arc<Vec<Uri>> = Arc::new(
        (0..SPREAD.min(n))
            .map(|k| format!("/schemas/ids/{}", 1 + k * n / SPREAD.min(n)).parse())
            .collect::<Result<_, _>>()?,
    );
    let (body, content_type) = baseline_answer(scute.rest, &paths[0]).await?;
    let load = Load::of(plan);
    eprintln!(
        "lookups over {} ids of the restarted registry, and against the baseline, in turns...",
        paths.len()
    );
    let baseline_server = Baseline::start(body, content_type)?;
    let pair = paired_lookups(scute.rest, scute.pid(), baseline_server.addr, paths, &load).await?;
    scute.check_alive()?;
    Ok(pair)
}

impl StartupFigures {
    /// Resident memory a schema costs, over an empty registry's.
    fn per_schema(&self, rss_kib: u64) -> f64 {
        rss_kib.saturating_sub(self.rss_empty_kib) as f64 * 1024.0 / self.schemas as f64
    }

    /// The restart's figures in one line, or why there are none.
    fn restart_line(&self, settle: Duration) -> String {
        match &self.restart {
            Some(r) => format!(
                "restart over the snapshot: spawn to first 200 {:.0} ms (replay {} ms); \
                 VmRSS at first 200 / {:.0} s later {} / {} ({:.0} B a schema); \
                 then GET /schemas/ids/{{id}} over the whole log {} req/s (p99 {}, {}), \
                 baseline {} req/s ({}), ratio {:.2}",
                r.ready.as_secs_f64() * 1e3,
                r.replay_ms
                    .map_or_else(|| "?".to_owned(), |ms| ms.to_string()),
                settle.as_secs_f64(),
                mib(r.rss_ready_kib),
                mib(r.rss_settled_kib),
                self.per_schema(r.rss_settled_kib),
                thousands(r.lookups.rate()),
                ms(r.lookups.quantile(0.99)),
                cpu_us(&r.lookups),
                thousands(r.baseline.rate()),
                cpu_us(&r.baseline),
                r.ratio()
            ),
            None => "no snapshot written, no restart".to_owned(),
        }
    }
}

/// Server CPU per request, for a line of text.
fn cpu_us(s: &Sampled) -> String {
    s.cpu_us_per_request()
        .map_or_else(|| "CPU ?".to_owned(), |us| format!("{us:.1} µs CPU each"))
}

/// Waits until scute has written the snapshot of the state it replayed:
/// whether it did within `timeout`.
async fn snapshot_written(dir: &Path, timeout: Duration) -> bool {
    let file = dir.join("state.snapshot");
    let started = Instant::now();
    while started.elapsed() < timeout {
        if file.exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn bench_startup(plan: &Plan) -> Result<StartupFigures> {
    let data = tempfile::Builder::new()
        .prefix("scute-bench-startup-")
        .tempdir_in(&plan.tmp_dir)
        .context("creating a temporary data directory")?;
    let n = plan.startup_schemas;
    let rss_empty_kib = {
        let empty = tempfile::Builder::new()
            .prefix("scute-bench-empty-")
            .tempdir_in(&plan.tmp_dir)
            .context("creating a temporary data directory")?;
        let mut scute = Scute::spawn(&plan.scute, empty.path())?;
        scute.wait_ready(Duration::from_secs(30)).await?;
        tokio::time::sleep(plan.settle).await;
        proc_status_kib(scute.pid(), "VmRSS")?
    };
    eprintln!("writing a log of {n} schemas with scute-storage's FileLog...");
    let written = Instant::now();
    let log_bytes = write_schema_log(data.path(), n, "bench-startup", "AVRO", |i| {
        avro_schema("Startup", i, i % 4)
    })
    .await?;
    let write_time = written.elapsed();
    eprintln!("starting scute on it and polling GET /schemas/ids/{n}...");
    let (mut scute, ready, polls) = start_on_log(&plan.scute, data.path(), n).await?;
    let pid = scute.pid();
    let rss_ready_kib = proc_status_kib(pid, "VmRSS")?;
    tokio::time::sleep(plan.settle).await;
    scute.check_alive()?;
    let rss_settled_kib = proc_status_kib(pid, "VmRSS")?;
    let hwm_kib = proc_status_kib(pid, "VmHWM")?;
    let metrics_scrape = time_metrics_scrape(scute.rest).await?;
    let replay_ms = scute.replay_ms();
    let scute_warnings = scute.warnings();
    let restart = if snapshot_written(data.path(), Duration::from_secs(60)).await {
        drop(scute);
        eprintln!("starting scute again, over its snapshot...");
        let (mut again, ready, _) = start_on_log(&plan.scute, data.path(), n).await?;
        let rss_ready_kib = proc_status_kib(again.pid(), "VmRSS")?;
        tokio::time::sleep(plan.settle).await;
        again.check_alive()?;
        let rss_settled_kib = proc_status_kib(again.pid(), "VmRSS")?;
        let (lookups, baseline) = lookups_at_scale(plan, &mut again, n).await?;
        Some(Restart {
            ready,
            replay_ms: again.replay_ms(),
            rss_ready_kib,
            rss_settled_kib,
            lookups,
            baseline,
        })
    } else {
        None
    };
    Ok(StartupFigures {
        schemas: n,
        log_bytes,
        write_time,
        ready,
        polls,
        rss_ready_kib,
        rss_settled_kib,
        rss_empty_kib,
        hwm_kib,
        replay_ms,
        metrics_scrape,
        restart,
        scute_warnings,
    })
}

fn scrape_ms(scrape: Option<Duration>) -> String {
    scrape.map_or_else(
        || "(not served)".to_owned(),
        |d| format!("{:.1} ms", d.as_secs_f64() * 1e3),
    )
}

/// How long a `GET /metrics` takes over this state: the quickest of three,
/// each after the server's one-second reuse of its count has run out;
/// `None` if the binary serves no metrics (an older one, for comparison).
async fn time_metrics_scrape(addr: SocketAddr) -> Result<Option<Duration>> {
    let path: Uri = "/metrics".parse()?;
    let mut client = Client::connect(addr).await?;
    let mut quickest = Duration::MAX;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let started = Instant::now();
        let response = client.get(&path).await?;
        if response.status() == 404 {
            return Ok(None);
        }
        ensure!(
            response.status() == 200,
            "GET /metrics answered {}",
            response.status()
        );
        quickest = quickest.min(started.elapsed());
    }
    Ok(Some(quickest))
}

/// Version 1 of subject `{prefix}-{i}-value`, with schema id `i`: one record
/// of a generated log.
fn schema_record(prefix: &str, i: usize, schema_type: &str, schema: String) -> Result<Record> {
    let subject = format!("{prefix}-{i}-value");
    Ok(Record::Schema {
        subject: subject.clone(),
        version: 1,
        value: Some(SchemaValue {
            subject,
            version: 1,
            id: i32::try_from(i)?,
            schema_type: Some(schema_type.to_owned()),
            references: Vec::new(),
            metadata: None,
            rule_set: None,
            schema,
            deleted: false,
            extra: serde_json::Map::new(),
        }),
    })
}

/// Appends `n` generated SCHEMA records (ids 1..=n, one subject each) to
/// `log`, exactly as scute appends them, with at most 4096 in flight.
async fn append_schemas(
    log: &dyn SchemaLog,
    n: usize,
    prefix: &str,
    schema_type: &str,
    schema: impl Fn(usize) -> String,
) -> Result<()> {
    let mut pending = Vec::with_capacity(4096);
    for i in 1..=n {
        let record = schema_record(prefix, i, schema_type, schema(i))?;
        pending.push(log.append(record.encode()));
        if pending.len() == 4096 || i == n {
            for append in pending.drain(..) {
                append.await.context("appending generated records")?;
            }
        }
    }
    log.flush().await?;
    Ok(())
}

/// Writes a new embedded log of `n` generated SCHEMA records into `dir`
/// through `FileLog`; returns the log's size in bytes.
async fn write_schema_log(
    dir: &Path,
    n: usize,
    prefix: &str,
    schema_type: &str,
    schema: impl Fn(usize) -> String,
) -> Result<u64> {
    let owned = dir.to_owned();
    let (log, recovery) = tokio::task::spawn_blocking(move || FileLog::open(&owned)).await??;
    ensure!(recovery.entries.is_empty(), "the new log is not empty");
    append_schemas(&log, n, prefix, schema_type, schema).await?;
    log.close().await;
    Ok(std::fs::metadata(dir.join(scute_storage::file::LOG_FILE))?.len())
}

/// Starts scute on `dir` and polls `GET /schemas/ids/{last_id}` until it
/// answers 200: the process, the time from spawn, and the polls it took.
async fn start_on_log(bin: &Path, dir: &Path, last_id: usize) -> Result<(Scute, Duration, u64)> {
    let probe: Uri = format!("/schemas/ids/{last_id}").parse()?;
    let spawned = Instant::now();
    let mut scute = Scute::spawn(bin, dir)?;
    let mut polls = 0u64;
    loop {
        polls += 1;
        if let Ok(mut client) = Client::connect(scute.rest).await {
            let response = client.get(&probe).await?;
            let status = response.status();
            let at = spawned.elapsed();
            ensure!(
                status == StatusCode::OK,
                "GET {probe} answered {status} after start-up: {}",
                String::from_utf8_lossy(response.body())
            );
            return Ok((scute, at, polls));
        }
        scute.check_alive()?;
        ensure!(
            spawned.elapsed() < Duration::from_secs(120),
            "scute did not answer within 120 s"
        );
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

// ---------------------------------------------------------------------------------
// The scute process.
// ---------------------------------------------------------------------------------

/// A running `scute` process, killed when dropped.
struct Scute {
    child: Child,
    rest: SocketAddr,
    stderr: Arc<Mutex<StderrTail>>,
    /// Credentials the readiness check sends, when authentication is on.
    authorization: Option<HeaderValue>,
}

/// What the process wrote on stderr: the last lines, warnings and the replay time.
#[derive(Default)]
struct StderrTail {
    last: VecDeque<String>,
    warnings: Vec<String>,
    replay_ms: Option<u64>,
}

impl Scute {
    /// Starts `bin` on free loopback ports with the given data directory.
    fn spawn(bin: &Path, data_dir: &Path) -> Result<Scute> {
        Self::spawn_with(bin, data_dir, &[])
    }

    /// Like `spawn`, with more flags.
    fn spawn_with(bin: &Path, data_dir: &Path, extra: &[String]) -> Result<Scute> {
        Self::spawn_with_env(bin, data_dir, extra, &[])
    }

    /// Like `spawn_with`, with environment variables.
    fn spawn_with_env(
        bin: &Path,
        data_dir: &Path,
        extra: &[String],
        env: &[(&str, &str)],
    ) -> Result<Scute> {
        let rest = free_port()?;
        let grpc = free_port()?;
        let mut child = Command::new(bin)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--rest-listen")
            .arg(rest.to_string())
            .arg("--grpc-listen")
            .arg(grpc.to_string())
            .args(extra)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stderr = Arc::new(Mutex::new(StderrTail::default()));
        if let Some(pipe) = child.stderr.take() {
            let tail = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    let line = strip_ansi(&line);
                    let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                    // On Kafka the serving line comes first, with 0: the
                    // replay runs after it and logs its own replay_ms.
                    if tail.replay_ms.is_none_or(|ms| ms == 0) {
                        tail.replay_ms = number_after(&line, "replay_ms").or(tail.replay_ms);
                    }
                    if (line.contains("WARN") || line.contains("ERROR")) && tail.warnings.len() < 20
                    {
                        tail.warnings.push(line.clone());
                    }
                    if tail.last.len() == 30 {
                        tail.last.pop_front();
                    }
                    tail.last.push_back(line);
                }
            });
        }
        Ok(Scute {
            child,
            rest,
            stderr,
            authorization: None,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn tail(&self) -> std::sync::MutexGuard<'_, StderrTail> {
        self.stderr.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails, with the end of its stderr, if the process has exited.
    fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            // Give the reader thread a moment to drain the pipe.
            std::thread::sleep(Duration::from_millis(100));
            let last: Vec<String> = self.tail().last.iter().cloned().collect();
            bail!(
                "scute exited ({status}); last stderr lines:\n{}",
                last.join("\n")
            );
        }
        Ok(())
    }

    /// Polls `GET /subjects` until it answers 200.
    async fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        let path = Uri::from_static("/subjects");
        loop {
            self.check_alive()?;
            if let Ok(mut client) = Client::connect_as(self.rest, self.authorization.clone()).await
                && let Ok(response) = client.get(&path).await
                && response.status() == StatusCode::OK
            {
                return Ok(());
            }
            ensure!(
                started.elapsed() < timeout,
                "scute did not answer GET /subjects within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The replay time scute logged, waiting briefly for the line to be read.
    fn replay_ms(&self) -> Option<u64> {
        for _ in 0..50 {
            if let Some(ms) = self.tail().replay_ms {
                return Some(ms);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn warnings(&self) -> Vec<String> {
        self.tail().warnings.clone()
    }
}

impl Drop for Scute {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A loopback address with a port that was free a moment ago.
fn free_port() -> Result<SocketAddr> {
    let listener = StdTcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// `line` without ANSI escape sequences.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The number after `field` in a text (`field=12`) or JSON (`"field":12`) log line.
fn number_after(line: &str, field: &str) -> Option<u64> {
    let rest = &line[line.find(field)? + field.len()..];
    let rest = rest.trim_start_matches(['"', '=', ':', ' ']);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A `kB` field (`VmRSS`, `VmHWM`) of `/proc/PID/status`, in KiB.
fn proc_status_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no {field} in /proc/{pid}/status"))
}

/// utime + stime from a `/proc/.../stat` line, in clock ticks.
fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    // Fields after the parenthesised command name: state is the first, utime the 12th.
    let mut fields = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time of every thread of process `pid`, in clock ticks.
fn process_cpu_ticks(pid: u32) -> Option<u64> {
    stat_cpu_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// CPU time of this process's threads named `name`, in clock ticks.
fn threads_cpu_ticks(name: &str) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if stat.contains(&format!("({name})")) {
            total += stat_cpu_ticks(&stat)?;
        }
    }
    Some(total)
}

/// The file system type of the mount holding `path`, from `/proc/mounts`.
fn filesystem_of(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let (_, mount, fs) = (parts.next()?, parts.next()?, parts.next()?);
            path.starts_with(mount)
                .then(|| (mount.len(), fs.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| "unknown".to_owned(), |(_, fs)| fs)
}

// ---------------------------------------------------------------------------------
// HTTP: a keep-alive hyper client connection and the baseline server.
// ---------------------------------------------------------------------------------

/// One keep-alive HTTP/1.1 connection.
struct Client {
    addr: SocketAddr,
    host: HeaderValue,
    sender: SendRequest<Full<Bytes>>,
    /// Sent with every request when set (`Basic ...`).
    authorization: Option<HeaderValue>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Result<Client> {
        Ok(Client {
            addr,
            host: HeaderValue::from_str(&addr.to_string())?,
            sender: handshake(addr).await?,
            authorization: None,
        })
    }

    /// A connection whose requests carry `authorization`.
    async fn connect_as(addr: SocketAddr, authorization: Option<HeaderValue>) -> Result<Client> {
        let mut client = Self::connect(addr).await?;
        client.authorization = authorization;
        Ok(client)
    }

    async fn reconnect(&mut self) -> Result<()> {
        self.sender = handshake(self.addr).await?;
        Ok(())
    }

    async fn get(&mut self, path: &Uri) -> Result<Response<Bytes>> {
        let request = Request::builder()
            .method(Method::GET)
            .uri(path.clone())
            .header(HOST, self.host.clone())
            .header(ACCEPT, V1_JSON)
            .body(Full::new(Bytes::new()))?;
        self.send(request).await
    }

    /// `POST /subjects/{subject}/versions` of an AVRO schema.
    async fn register(&mut self, subject: &str, schema: &str) -> Result<Response<Bytes>> {
        let body = serde_json::to_vec(&serde_json::json!({ "schema": schema }))?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/subjects/{subject}/versions"))
            .header(HOST, self.host.clone())
            .header(ACCEPT, V1_JSON)
            .header(CONTENT_TYPE, V1_JSON)
            .body(Full::new(Bytes::from(body)))?;
        self.send(request).await
    }

    /// `POST` of a JSON body.
    async fn post_json(&mut self, path: &str, body: &serde_json::Value) -> Result<Response<Bytes>> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, self.host.clone())
            .header(ACCEPT, V1_JSON)
            .header(CONTENT_TYPE, V1_JSON)
            .body(Full::new(Bytes::from(serde_json::to_vec(body)?)))?;
        self.send(request).await
    }

    async fn send(&mut self, mut request: Request<Full<Bytes>>) -> Result<Response<Bytes>> {
        if let Some(authorization) = &self.authorization {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, authorization.clone());
        }
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Response::from_parts(parts, body))
    }
}

async fn handshake(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// A minimal hyper server returning one fixed body, on its own runtime (as many
/// workers as cores, like scute's) in its own thread; stopped when dropped.
struct Baseline {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Baseline {
    fn start(body: Bytes, content_type: HeaderValue) -> Result<Baseline> {
        let listener = StdTcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(BASELINE_THREAD)
            .enable_all()
            .build()?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = match TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => return eprintln!("baseline server: {e}"),
                };
                loop {
                    let (stream, _) = tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => match accepted {
                            Ok(accepted) => accepted,
                            Err(_) => continue,
                        },
                    };
                    let _ = stream.set_nodelay(true);
                    let (body, content_type) = (body.clone(), content_type.clone());
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |_request| {
                            let mut response = Response::new(Full::new(body.clone()));
                            response
                                .headers_mut()
                                .insert(CONTENT_TYPE, content_type.clone());
                            async move { Ok::<_, Infallible>(response) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        Ok(Baseline {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// SplitMix64: enough randomness to pick ids, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ---------------------------------------------------------------------------------
// The machine and the report.
// ---------------------------------------------------------------------------------

struct Machine {
    nproc: usize,
    cpu: String,
    kernel: String,
    /// `/proc/loadavg` when the run began: other work on the machine skews figures.
    loadavg: String,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
            .map_or_else(|| "unknown CPU".to_owned(), |(_, m)| m.trim().to_owned());
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "?".to_owned(), |k| k.trim().to_owned()),
            loadavg: loadavg(),
        }
    }

    fn describe(&self) -> String {
        format!("nproc {}, {}, Linux {}", self.nproc, self.cpu, self.kernel)
    }
}

struct Report<'a> {
    plan: &'a Plan,
    machine: &'a Machine,
    lookups: &'a LookupFigures,
    startup: &'a StartupFigures,
}

impl Report<'_> {
    fn rows(&self) -> Vec<[String; 4]> {
        let (p, l, s) = (self.plan, self.lookups, self.startup);
        let ratio = l.scute.rate() / l.baseline.rate();
        let mut rows = vec![
            [
                format!(
                    "Lookups GET /schemas/ids/{{id}}, scute ({} conns, {} schemas)",
                    p.connections, p.lookup_schemas
                ),
                format!("{} req/s", thousands(l.scute.rate())),
                ms(l.scute.quantile(0.5)),
                ms(l.scute.quantile(0.99)),
            ],
            [
                format!(
                    "Lookups, baseline hyper server (same {} B body)",
                    l.body_len
                ),
                format!("{} req/s", thousands(l.baseline.rate())),
                ms(l.baseline.quantile(0.5)),
                ms(l.baseline.quantile(0.99)),
            ],
            [
                "Lookups, ratio scute / baseline (target >= 0.7)".to_owned(),
                format!("{ratio:.2}"),
                String::new(),
                String::new(),
            ],
            [
                "Lookups, server CPU per request: scute / baseline".to_owned(),
                format!(
                    "{} / {}",
                    micros(l.scute.cpu_us_per_request()),
                    micros(l.baseline.cpu_us_per_request())
                ),
                String::new(),
                String::new(),
            ],
            [
                format!(
                    "Registrations POST /subjects/{{s}}/versions ({} clients, {} new schemas, fsync'd)",
                    p.connections,
                    thousands(p.registrations as f64)
                ),
                format!("{} schemas/s", thousands(l.registrations.rate())),
                ms(l.registrations.quantile(0.5)),
                ms(l.registrations.quantile(0.99)),
            ],
            [
                format!(
                    "Start-up over {} schemas ({:.1} MiB log): spawn to first 200",
                    thousands(s.schemas as f64),
                    s.log_bytes as f64 / (1024.0 * 1024.0)
                ),
                format!("{:.0} ms", s.ready.as_secs_f64() * 1e3),
                String::new(),
                String::new(),
            ],
        ];
        if let Some(replay) = s.replay_ms {
            rows.push([
                "Start-up, replay time logged by scute".to_owned(),
                format!("{replay} ms"),
                String::new(),
                String::new(),
            ]);
        }
        rows.push([
            format!(
                "Start-up, resident memory (VmRSS) at first 200 / {:.0} s later",
                p.settle.as_secs_f64()
            ),
            format!("{} / {}", mib(s.rss_ready_kib), mib(s.rss_settled_kib)),
            String::new(),
            String::new(),
        ]);
        let per_schema = s.per_schema(s.rss_settled_kib);
        rows.push([
            format!(
                "Start-up, resident memory per schema (less the {} of an empty registry)",
                mib(s.rss_empty_kib)
            ),
            format!("{per_schema:.0} B"),
            String::new(),
            String::new(),
        ]);
        if let Some(r) = &s.restart {
            rows.push([
                "Restart over the snapshot the start wrote: spawn to first 200".to_owned(),
                format!("{:.0} ms", r.ready.as_secs_f64() * 1e3),
                String::new(),
                String::new(),
            ]);
            rows.push([
                format!(
                    "Lookups over {} ids spread across the restarted registry: scute / baseline",
                    thousands(10_000f64.min(s.schemas as f64))
                ),
                format!(
                    "{} / {} req/s, ratio {:.2}",
                    thousands(r.lookups.rate()),
                    thousands(r.baseline.rate()),
                    r.ratio()
                ),
                ms(r.lookups.quantile(0.5)),
                ms(r.lookups.quantile(0.99)),
            ]);
            rows.push([
                format!(
                    "Restart, resident memory at first 200 / {:.0} s later",
                    p.settle.as_secs_f64()
                ),
                format!(
                    "{} / {} ({:.0} B a schema)",
                    mib(r.rss_ready_kib),
                    mib(r.rss_settled_kib),
                    s.per_schema(r.rss_settled_kib)
                ),
                String::new(),
                String::new(),
            ]);
        }
        rows
    }

    /// A plain aligned table, then the details that do not fit in it.
    fn text(&self) -> String {
        let (l, s) = (self.lookups, self.startup);
        let header = [
            "Benchmark".to_owned(),
            "Result".to_owned(),
            "p50".to_owned(),
            "p99".to_owned(),
        ];
        let rows = self.rows();
        let mut widths = [0; 4];
        for row in std::iter::once(&header).chain(&rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::from("\n== scute-bench results ==\n");
        for (i, row) in std::iter::once(&header).chain(&rows).enumerate() {
            let _ = writeln!(
                out,
                "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            );
            if i == 0 {
                let _ = writeln!(out, "{}", "-".repeat(widths.iter().sum::<usize>() + 6));
            }
        }
        let _ = writeln!(
            out,
            "\nMachine: {}. The load generator, the baseline server and scute share these \
             cores, so every figure is lower than on separate machines. Load average before \
             the run {}, after it {}: other work on the machine lowers the figures too.",
            self.machine.describe(),
            self.machine.loadavg,
            loadavg()
        );
        let _ = writeln!(
            out,
            "Lookups: {:?} warm-up, {:?} measured, in {SLICES} turns with the baseline (each \
             later turn warmed up {:?}); {} ok / {} errors against scute, {} ok / {} \
             errors against the baseline; body {} B, content type {}.",
            self.plan.warmup,
            self.plan.duration,
            SLICE_WARMUP,
            l.scute.latencies_ns.len(),
            l.scute.errors,
            l.baseline.latencies_ns.len(),
            l.baseline.errors,
            l.body_len,
            l.content_type
        );
        let _ = writeln!(
            out,
            "Server CPU during the measured lookups, in cores busy (of {}): scute {}, baseline \
             {}; the load generator had the rest.",
            self.machine.nproc,
            cores(l.scute.server_cores()),
            cores(l.baseline.server_cores())
        );
        let _ = writeln!(
            out,
            "Registrations: {} ok / {} errors in {:.2} s; one subject per schema; data dir on {}; \
             scute VmRSS afterwards {}.",
            l.registrations.latencies_ns.len(),
            l.registrations.errors,
            l.registrations.window.as_secs_f64(),
            l.data_fs,
            l.rss_after_kib.map_or_else(|| "?".to_owned(), mib)
        );
        let _ = writeln!(
            out,
            "Start-up: log of {} SCHEMA records written with scute-storage's FileLog in {:.2} s; \
             ready after {} polls; peak VmHWM {}; replay_ms from scute's log: {}; a GET /metrics \
             then took {}.",
            s.schemas,
            s.write_time.as_secs_f64(),
            s.polls,
            mib(s.hwm_kib),
            s.replay_ms
                .map_or_else(|| "not found".to_owned(), |ms| ms.to_string()),
            scrape_ms(s.metrics_scrape)
        );
        for (name, sampled) in [
            ("lookups against scute", &l.scute),
            ("lookups against the baseline", &l.baseline),
            ("registrations", &l.registrations),
        ] {
            for e in &sampled.error_samples {
                let _ = writeln!(out, "error sample ({name}): {e}");
            }
        }
        for w in l.scute_warnings.iter().chain(&s.scute_warnings) {
            let _ = writeln!(out, "scute logged: {}", truncate(w, 300));
        }
        out
    }

    /// The same figures as a Markdown table for the README.
    fn markdown(&self) -> String {
        let mut out = String::from("\n== Markdown (README) ==\n\n");
        let _ = writeln!(
            out,
            "Measured with `scute-bench` on {} (nproc {}), Linux {}; the load generator, the \
             baseline server and scute share these cores.\n",
            self.machine.cpu, self.machine.nproc, self.machine.kernel
        );
        let _ = writeln!(out, "| Benchmark | Result | p50 | p99 |");
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for row in self.rows() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                row[0].replace('|', "\\|"),
                row[1],
                row[2],
                row[3]
            );
        }
        out
    }
}

fn ms(ns: u64) -> String {
    format!("{:.2} ms", ns as f64 / 1e6)
}

/// The 1, 5 and 15 minute load averages.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".to_owned(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn micros(us: Option<f64>) -> String {
    us.map_or_else(|| "?".to_owned(), |us| format!("{us:.1} µs"))
}

fn cores(c: Option<f64>) -> String {
    c.map_or_else(|| "?".to_owned(), |c| format!("{c:.2}"))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `12345.6` as `12,346`.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_owned(),
    }
}
