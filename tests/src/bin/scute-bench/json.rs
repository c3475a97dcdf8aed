//! `scute-bench --json`: JSON Schema figures of the real binary.
//!
//! * the compatibility check of a large schema: 1,000 properties, each an
//!   object nested 5 deep (6,000 subschemas in all), checked over REST
//!   against a registered version that differs only at the deepest level;
//! * the same for a schema of nested combinators (`anyOf` inside `anyOf`,
//!   12 deep, 4 branches each, through `$ref`s), which would be exponential
//!   if the checker compared every path instead of every pair once;
//! * start-up over a log of 10,000 JSON schemas (the replay).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HOST};
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};

use super::{
    Client, Machine, Plan, Scute, loadavg, mib, proc_status_kib, start_on_log, write_schema_log,
};

/// The figures of the JSON run.
pub(crate) struct JsonFigures {
    wide: CheckFigures,
    combinators: CheckFigures,
    replay_schemas: usize,
    replay_ready: Duration,
    replay_ms: Option<u64>,
    replay_rss_kib: u64,
}

/// Timings of one schema's registration and compatibility checks.
struct CheckFigures {
    what: String,
    schema_bytes: usize,
    register: Duration,
    checks: Vec<Duration>,
    compatible: bool,
}

impl CheckFigures {
    fn quantile(&self, p: f64) -> Duration {
        let mut sorted = self.checks.clone();
        sorted.sort();
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(i).copied().unwrap_or_default()
    }
}

/// A string property that differs between versions only by `max`.
fn leaf(max: u64) -> Value {
    json!({"type": "string", "maxLength": max})
}

/// 1,000 properties, each an object nested `depth` deep ending in a string.
pub(crate) fn wide_schema(props: usize, depth: usize, max: u64) -> Value {
    let mut nested = leaf(max);
    for level in (0..depth).rev() {
        nested = json!({"type": "object",
            "properties": {format!("level{level}"): nested, "note": {"type": "string"}},
            "required": [format!("level{level}")]});
    }
    let properties: serde_json::Map<String, Value> = (0..props)
        .map(|i| (format!("field{i:04}"), nested.clone()))
        .collect();
    json!({"$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object", "properties": properties})
}

/// `anyOf` nested `depth` deep with 4 branches at each level, each level a
/// definition the next one references: a few KiB of text, but 4^depth paths
/// from the root to a leaf, and 16 pairs of branches at every level.
fn combinator_schema(depth: usize, max: u64) -> Value {
    let mut definitions = serde_json::Map::new();
    definitions.insert("l0".to_owned(), leaf(max));
    for level in 1..=depth {
        let below = json!({"$ref": format!("#/definitions/l{}", level - 1)});
        definitions.insert(
            format!("l{level}"),
            json!({"anyOf": [
                below,
                {"type": "object", "properties": {"a": below}},
                {"type": "array", "items": below},
                {"type": "object", "properties": {"b": below}, "required": ["b"]},
            ]}),
        );
    }
    json!({"definitions": definitions, "$ref": format!("#/definitions/l{depth}")})
}

async fn put_json(client: &mut Client, path: &str, body: &Value) -> Result<()> {
    let request = Request::builder()
        .method(Method::PUT)
        .uri(path)
        .header(HOST, client.host.clone())
        .header(ACCEPT, super::V1_JSON)
        .header(CONTENT_TYPE, super::V1_JSON)
        .body(Full::new(Bytes::from(serde_json::to_vec(body)?)))?;
    let response = client.send(request).await?;
    ensure!(
        response.status() == StatusCode::OK,
        "PUT {path}: {}",
        response.status()
    );
    Ok(())
}

/// Registers `v1` under a fresh subject, then times `rounds` verbose
/// BACKWARD checks of `v2` against it.
async fn time_check(
    client: &mut Client,
    what: &str,
    subject: &str,
    v1: &Value,
    v2: &Value,
    rounds: usize,
) -> Result<CheckFigures> {
    let v1_text = v1.to_string();
    let started = Instant::now();
    let response = client
        .post_json(
            &format!("/subjects/{subject}/versions"),
            &json!({"schemaType": "JSON", "schema": v1_text}),
        )
        .await?;
    let register = started.elapsed();
    ensure!(
        response.status() == StatusCode::OK,
        "registering {what}: {} {}",
        response.status(),
        String::from_utf8_lossy(response.body())
    );
    put_json(
        client,
        &format!("/config/{subject}"),
        &json!({"compatibility": "BACKWARD"}),
    )
    .await?;
    let body = json!({"schemaType": "JSON", "schema": v2.to_string()});
    let path = format!("/compatibility/subjects/{subject}/versions/latest?verbose=true");
    let mut checks = Vec::with_capacity(rounds);
    let mut compatible = false;
    for _ in 0..rounds {
        let started = Instant::now();
        let response = client.post_json(&path, &body).await?;
        checks.push(started.elapsed());
        ensure!(
            response.status() == StatusCode::OK,
            "checking {what}: {} {}",
            response.status(),
            String::from_utf8_lossy(response.body())
        );
        let verdict: Value = serde_json::from_slice(response.body())?;
        compatible = verdict["is_compatible"] == json!(true);
    }
    Ok(CheckFigures {
        what: what.to_owned(),
        schema_bytes: v1_text.len(),
        register,
        checks,
        compatible,
    })
}

pub(crate) async fn bench_json(plan: &Plan) -> Result<JsonFigures> {
    let rounds = if plan.duration < Duration::from_secs(5) {
        3
    } else {
        10
    };
    let data = tempfile::Builder::new()
        .prefix("scute-bench-json-")
        .tempdir_in(&plan.tmp_dir)
        .context("creating a temporary data directory")?;
    let mut scute = Scute::spawn(&plan.scute, data.path())?;
    scute.wait_ready(Duration::from_secs(30)).await?;
    let mut client = Client::connect(scute.rest).await?;

    eprintln!("JSON: compatibility of 1,000 properties nested 5 deep ({rounds} checks)...");
    let wide = time_check(
        &mut client,
        "1,000 properties, each an object nested 5 deep",
        "bench-json-wide",
        &wide_schema(1000, 5, 10),
        // Longer strings at the deepest level: compatible.
        &wide_schema(1000, 5, 20),
        rounds,
    )
    .await?;
    eprintln!("JSON: compatibility of nested anyOf, 12 deep, 4 branches...");
    let combinators = time_check(
        &mut client,
        "anyOf nested 12 deep through $refs, 4 branches each",
        "bench-json-anyof",
        &combinator_schema(12, 10),
        &combinator_schema(12, 20),
        rounds,
    )
    .await?;
    scute.check_alive()?;
    drop(scute);

    let n = if plan.startup_schemas < 10_000 {
        plan.startup_schemas
    } else {
        10_000
    };
    let replay_dir = tempfile::Builder::new()
        .prefix("scute-bench-json-replay-")
        .tempdir_in(&plan.tmp_dir)
        .context("creating a temporary data directory")?;
    eprintln!("JSON: writing a log of {n} JSON schemas...");
    write_schema_log(replay_dir.path(), n, "bench-json", "JSON", replay_schema).await?;
    let (scute, replay_ready, _) = start_on_log(&plan.scute, replay_dir.path(), n).await?;
    let replay_rss_kib = proc_status_kib(scute.pid(), "VmRSS")?;
    Ok(JsonFigures {
        wide,
        combinators,
        replay_schemas: n,
        replay_ready,
        replay_ms: scute.replay_ms(),
        replay_rss_kib,
    })
}

/// The `i`th schema of the replay log.
fn replay_schema(i: usize) -> String {
    json!({"type": "object", "title": format!("Record{i}"),
        "properties": {"id": {"type": "integer"}, "name": {"type": "string", "maxLength": i % 100 + 1},
            "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["id"]})
    .to_string()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

impl JsonFigures {
    fn rows(&self) -> Vec<[String; 3]> {
        let mut rows = Vec::new();
        for c in [&self.wide, &self.combinators] {
            rows.push([
                format!(
                    "compatibility check (REST, verbose): {} ({:.1} KiB of schema, {})",
                    c.what,
                    c.schema_bytes as f64 / 1024.0,
                    if c.compatible {
                        "compatible"
                    } else {
                        "incompatible"
                    }
                ),
                format!("p50 {}", ms(c.quantile(0.5))),
                format!("max {}", ms(c.quantile(1.0))),
            ]);
            rows.push([
                format!(
                    "registering it (parse, meta-schema check, fsync): {}",
                    c.what
                ),
                ms(c.register),
                String::new(),
            ]);
        }
        rows.push([
            format!(
                "start to serving the last id of a log of {} JSON schemas",
                self.replay_schemas
            ),
            format!(
                "{} (replay {})",
                ms(self.replay_ready),
                self.replay_ms
                    .map_or_else(|| "?".to_owned(), |r| format!("{r} ms"))
            ),
            format!("RSS {}", mib(self.replay_rss_kib)),
        ]);
        rows
    }

    pub(crate) fn markdown(&self, machine: &Machine) -> String {
        let mut out = String::from("\n== Markdown (README, JSON Schema) ==\n\n");
        let _ = writeln!(
            out,
            "Measured with `scute-bench --json` on {} (nproc {}), Linux {}, load average {}.\n",
            machine.cpu,
            machine.nproc,
            machine.kernel,
            loadavg()
        );
        let _ = writeln!(out, "| what | time | |");
        let _ = writeln!(out, "|---|---:|---:|");
        for row in self.rows() {
            let _ = writeln!(out, "| {} | {} | {} |", row[0], row[1], row[2]);
        }
        out
    }
}
