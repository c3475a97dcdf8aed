//! `scute-bench --kafka BOOTSTRAP`: the Kafka backend. Registrations per second
//! from one node and from two nodes on one topic (the same number of clients
//! in all, split between the nodes), how the nodes batched those writes, and
//! the time a node takes to replay a topic of 100,000 records before it serves.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use scute_storage::kafka::{KafkaLog, KafkaSettings};

use crate::{Client, Sampled, Scute, TaskSamples, append_schemas, avro_schema, number_after};

/// What the Kafka run measured.
pub(crate) struct KafkaFigures {
    pub(crate) one_node: Sampled,
    pub(crate) one_node_batches: Option<Batches>,
    pub(crate) two_nodes: Sampled,
    pub(crate) two_nodes_batches: Option<Batches>,
    pub(crate) replay_records: usize,
    pub(crate) replay_ready: Duration,
    pub(crate) replay_ms: Option<u64>,
}

/// A topic name of its own for each run, so runs never see each other's records.
fn topic(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("scute-bench-{what}-{nanos}")
}

fn node_args(bootstrap: &str, topic: &str, node: i32, properties: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--kafka-bootstrap",
        bootstrap,
        "--kafka-topic",
        topic,
        "--node-id",
        &node.to_string(),
    ]
    .map(str::to_owned)
    .to_vec();
    for p in properties {
        args.push("--kafka-property".into());
        args.push(p.clone());
    }
    args
}

pub(crate) async fn bench_kafka(
    bin: &Path,
    tmp: &Path,
    bootstrap: &str,
    registrations: usize,
    clients: usize,
    replay_records: usize,
    properties: &[String],
) -> Result<KafkaFigures> {
    let dir = tempfile::Builder::new()
        .prefix("scute-bench-kafka-")
        .tempdir_in(tmp)?;

    eprintln!("kafka: {registrations} registrations through one node...");
    let one = topic("one");
    let mut a = node(bin, dir.path(), &node_args(bootstrap, &one, 1, properties))?;
    a.wait_ready(Duration::from_secs(120)).await?;
    let one_node = registrations_on(&[a.rest], "one", registrations, clients).await?;
    let one_node_batches = batches(&[&a]).await;
    drop(a);

    eprintln!("kafka: {registrations} registrations through two nodes on one topic...");
    let two = topic("two");
    let mut a = node(bin, dir.path(), &node_args(bootstrap, &two, 1, properties))?;
    let mut b = node(bin, dir.path(), &node_args(bootstrap, &two, 2, properties))?;
    a.wait_ready(Duration::from_secs(120)).await?;
    b.wait_ready(Duration::from_secs(120)).await?;
    let two_nodes = registrations_on(&[a.rest, b.rest], "two", registrations, clients).await?;
    let two_nodes_batches = batches(&[&a, &b]).await;
    drop((a, b));

    eprintln!("kafka: producing {replay_records} records for the replay run...");
    let replay = topic("replay");
    let mut settings = KafkaSettings::new(bootstrap);
    settings.topic = replay.clone();
    settings.timeout = Duration::from_secs(60);
    let log = KafkaLog::open(settings).await?;
    append_schemas(&log, replay_records, "bench-replay", "AVRO", |i| {
        avro_schema("Replayed", i, i % 4)
    })
    .await
    .context("producing the replay records")?;
    drop(log);
    eprintln!("kafka: starting a node on them...");
    let started = Instant::now();
    let mut c = Scute::spawn_with(
        bin,
        dir.path(),
        &node_args(bootstrap, &replay, 3, properties),
    )?;
    c.wait_ready(Duration::from_secs(600)).await?;
    let replay_ready = started.elapsed();
    Ok(KafkaFigures {
        one_node,
        one_node_batches,
        two_nodes,
        two_nodes_batches,
        replay_records,
        replay_ready,
        replay_ms: c.replay_ms(),
    })
}

/// A node that logs its write counters (see [`Batches`]).
fn node(bin: &Path, dir: &Path, args: &[String]) -> Result<Scute> {
    Scute::spawn_with_env(
        bin,
        dir,
        args,
        &[("RUST_LOG", "info,scute_service::registry::write=debug")],
    )
}

/// How the nodes batched their writes, from the counters each logs once
/// writes pause.
#[derive(Debug, Default)]
pub(crate) struct Batches {
    batches: u64,
    writes: u64,
    largest: u64,
    races_lost: u64,
    retried: u64,
    catch_ups: u64,
}

async fn batches(nodes: &[&Scute]) -> Option<Batches> {
    // The counters are logged a second after the writes pause.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut all = Batches::default();
    for node in nodes {
        let tail = node.tail();
        let line = tail
            .last
            .iter()
            .rev()
            .find(|l| l.contains("writes on the schemas topic so far"))?;
        let field = |name: &str| number_after(line, &format!(" {name}=")).unwrap_or(0);
        all.batches += field("batches");
        all.writes += field("writes");
        all.largest = all.largest.max(field("largest"));
        all.races_lost += field("races_lost");
        all.retried += field("retried");
        all.catch_ups += field("catch_ups");
    }
    Some(all)
}

/// Registers `count` new schemas, each under a subject of its own, spread over
/// the nodes, on `clients` keep-alive connections in all.
async fn registrations_on(
    nodes: &[SocketAddr],
    run: &str,
    count: usize,
    clients: usize,
) -> Result<Sampled> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut connections = Vec::new();
    for i in 0..clients.max(nodes.len()) {
        connections.push(Client::connect(nodes[i % nodes.len()]).await?);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for mut client in connections {
        let next = next.clone();
        let run = run.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut out = TaskSamples::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let subject = format!("bench-kafka-{run}-{i}-value");
                let schema = avro_schema("KafkaRegistered", i, i % 4);
                let started = Instant::now();
                match client.register(&subject, &schema).await {
                    Ok(response) => out.response(started, &response),
                    Err(e) => out.error(format!("request failed: {e:#}")),
                }
            }
            out
        }));
    }
    let mut sampled = Sampled::default();
    for task in tasks {
        sampled.merge(task.await?);
    }
    let sampled = sampled.finish(start.elapsed());
    ensure!(
        sampled.errors == 0,
        "registrations failed: {:?}",
        sampled.error_samples
    );
    Ok(sampled)
}

impl KafkaFigures {
    pub(crate) fn markdown(&self, registrations: usize, clients: usize) -> String {
        let ms = |ns: u64| ns as f64 / 1e6;
        let line = |what: &str, s: &Sampled, b: &Option<Batches>| {
            let batches = b
                .as_ref()
                .map_or("? (no counters logged) | | | |".into(), |b| {
                    format!(
                        "{} | {:.1} / {} | {} / {} | {} |",
                        b.batches,
                        b.writes as f64 / b.batches.max(1) as f64,
                        b.largest,
                        b.races_lost,
                        b.retried,
                        b.catch_ups,
                    )
                });
            format!(
                "| {what} | {:.0} | {:.1} | {:.1} | {batches}\n",
                s.rate(),
                ms(s.quantile(0.5)),
                ms(s.quantile(0.99))
            )
        };
        format!(
            "Kafka backend: {registrations} new schemas, {clients} connection(s) in all.\n\n\
             | registrations | per second | p50 ms | p99 ms | batches | mean / largest batch | \
             races lost / writes retried | catch-ups |\n|---|---|---|---|---|---|---|---|\n{}{}\n\
             Replay of {} records: serving after {:.2} s (scute's replay_ms: {}).",
            line("one node", &self.one_node, &self.one_node_batches),
            line(
                "two nodes, one topic",
                &self.two_nodes,
                &self.two_nodes_batches
            ),
            self.replay_records,
            self.replay_ready.as_secs_f64(),
            self.replay_ms.map_or("?".into(), |v| v.to_string()),
        )
    }
}
