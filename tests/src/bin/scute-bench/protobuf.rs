//! `scute-bench --protobuf`: PROTOBUF figures. Registering and
//! compatibility-checking one large .proto file (200 messages of 20 fields),
//! one request at a time, and start-up over a log of 10,000 Protobuf schemas.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use http::StatusCode;

use super::{
    Client, Machine, Plan, Scute, loadavg, proc_status_kib, start_on_log, write_schema_log,
};

/// Messages and fields per message of the large file.
const MESSAGES: usize = 200;
const FIELDS: usize = 20;
/// Registrations and checks timed, one after another.
const ROUNDS: usize = 20;
/// Schemas in the start-up log.
const REPLAY_SCHEMAS: usize = 10_000;

const SCALARS: [&str; 6] = ["string", "int64", "int32", "bool", "double", "bytes"];

/// A .proto file of `MESSAGES` messages of `FIELDS` fields each; `variant`
/// goes into the package (so each is a new schema), `extra` adds a field to
/// the last message (a compatible change).
pub(crate) fn large_file(variant: usize, extra: bool) -> String {
    let mut s = format!("syntax = \"proto3\";\npackage bench.v{variant};\n\n");
    for m in 0..MESSAGES {
        let _ = writeln!(s, "message Message{m} {{");
        for f in 1..=FIELDS {
            // Every fifth field refers to the previous message.
            if f % 5 == 0 && m > 0 {
                let _ = writeln!(s, "  Message{} ref_{f} = {f};", m - 1);
            } else {
                let _ = writeln!(s, "  {} field_{f} = {f};", SCALARS[f % SCALARS.len()]);
            }
        }
        if extra && m == MESSAGES - 1 {
            let _ = writeln!(s, "  string added = {};", FIELDS + 1);
        }
        s.push_str("}\n");
    }
    s
}

/// A small distinct schema for the replay log.
fn small_file(i: usize) -> String {
    format!(
        "syntax = \"proto3\";\npackage replay.p{i:06};\n\nmessage Event {{\n  string id = 1;\n  int64 at = 2;\n  repeated string tags = 3;\n}}\n"
    )
}

struct Timings(Vec<Duration>);

impl Timings {
    fn mean(&self) -> Duration {
        self.0.iter().sum::<Duration>() / u32::try_from(self.0.len().max(1)).unwrap_or(1)
    }

    fn p50(&self) -> Duration {
        let mut v = self.0.clone();
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    }
}

struct Figures {
    file_bytes: usize,
    register: Timings,
    check: Timings,
    replay_ready: Duration,
    replay_ms: Option<u64>,
    rss_kib: u64,
}

pub(crate) async fn run(plan: &Plan, machine: &Machine) -> Result<()> {
    let rounds = if plan.duration < Duration::from_secs(5) {
        5
    } else {
        ROUNDS
    };
    let replay = if plan.duration < Duration::from_secs(5) {
        1_000
    } else {
        REPLAY_SCHEMAS
    };

    let data = tempfile::Builder::new()
        .prefix("scute-bench-protobuf-")
        .tempdir_in(&plan.tmp_dir)
        .context("creating a temporary data directory")?;
    let mut scute = Scute::spawn(&plan.scute, data.path())?;
    scute.wait_ready(Duration::from_secs(30)).await?;
    let mut client = Client::connect(scute.rest).await?;
    let file_bytes = large_file(0, false).len();

    eprintln!("registering {rounds} Protobuf files of {MESSAGES} messages x {FIELDS} fields...");
    let mut register = Vec::new();
    for i in 0..rounds {
        let body = serde_json::json!({"schemaType": "PROTOBUF", "schema": large_file(i, false)});
        let started = Instant::now();
        let response = client
            .post_json(&format!("/subjects/bench-pb-{i}/versions"), &body)
            .await?;
        let (status, answer) = (response.status(), response.body().clone());
        register.push(started.elapsed());
        ensure!(
            status == StatusCode::OK,
            "register: {status} {}",
            String::from_utf8_lossy(&answer)
        );
    }

    eprintln!("checking {rounds} compatible updates against them...");
    let mut check = Vec::new();
    for i in 0..rounds {
        let body = serde_json::json!({"schemaType": "PROTOBUF", "schema": large_file(i, true)});
        let started = Instant::now();
        let response = client
            .post_json(
                &format!("/compatibility/subjects/bench-pb-{i}/versions/latest"),
                &body,
            )
            .await?;
        let (status, answer) = (response.status(), response.body().clone());
        check.push(started.elapsed());
        ensure!(
            status == StatusCode::OK && answer.as_ref() == br#"{"is_compatible":true}"#,
            "compatibility: {status} {}",
            String::from_utf8_lossy(&answer)
        );
    }
    drop(scute);

    let log_dir = tempfile::Builder::new()
        .prefix("scute-bench-protobuf-replay-")
        .tempdir_in(&plan.tmp_dir)?;
    eprintln!("writing a log of {replay} Protobuf schemas...");
    write_schema_log(log_dir.path(), replay, "replay", "PROTOBUF", small_file).await?;
    let (scute, replay_ready, _) = start_on_log(&plan.scute, log_dir.path(), replay).await?;
    let rss_kib = proc_status_kib(scute.pid(), "VmRSS")?;
    let figures = Figures {
        file_bytes,
        register: Timings(register),
        check: Timings(check),
        replay_ready,
        replay_ms: scute.replay_ms(),
        rss_kib,
    };
    println!("{}", report(&figures, rounds, replay, machine));
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn report(f: &Figures, rounds: usize, replay: usize, machine: &Machine) -> String {
    let mut out = String::from("\n== Protobuf (Markdown, README) ==\n\n");
    let _ = writeln!(
        out,
        "Measured with `scute-bench --protobuf` on {} (nproc {}), load average {}; one request at a time.\n",
        machine.cpu,
        machine.nproc,
        loadavg()
    );
    let _ = writeln!(out, "| what | mean | p50 |");
    let _ = writeln!(out, "|---|---:|---:|");
    let _ = writeln!(
        out,
        "| register a new .proto file of {MESSAGES} messages x {FIELDS} fields ({} KiB), {rounds} times | {} | {} |",
        f.file_bytes / 1024,
        ms(f.register.mean()),
        ms(f.register.p50())
    );
    let _ = writeln!(
        out,
        "| BACKWARD check of that file plus one field against it, {rounds} times | {} | {} |",
        ms(f.check.mean()),
        ms(f.check.p50())
    );
    let _ = writeln!(
        out,
        "| start to serving the last id of a log of {replay} Protobuf schemas | {} (replay {}) | |",
        ms(f.replay_ready),
        f.replay_ms
            .map_or_else(|| "?".to_owned(), |m| format!("{m} ms"))
    );
    let _ = writeln!(out, "| resident memory then | {} MiB | |", f.rss_kib / 1024);
    out
}
