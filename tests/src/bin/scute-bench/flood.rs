//! `scute-bench --flood`: lookups by id while many clients flood the
//! registry with heavy compatibility checks.
//!
//! One reader asks `GET /schemas/ids/{id}` over keep-alive connections, first
//! alone, then while `FLOODERS` clients post, as fast as they are answered,
//! BACKWARD checks of a large PROTOBUF file (200 messages x 20 fields) and a
//! large JSON schema (1,000 properties nested 5 deep) against registered
//! versions. The figures: the reads' p50 and p99 with and without the flood,
//! and what became of the checks (answered, or refused at once with 503
//! when the compute queue was full).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use http::StatusCode;

use super::reads::read_for;
use super::{Client, Machine, Plan, Scute, loadavg, ms, thousands};

/// Clients posting checks at once.
const FLOODERS: usize = 32;
/// Connections the reader spreads its lookups over, one at a time each.
const READERS: usize = 4;

pub(crate) async fn run(plan: &Plan, machine: &Machine) -> Result<()> {
    let data = tempfile::Builder::new()
        .prefix("scute-bench-flood-")
        .tempdir_in(&plan.tmp_dir)
        .context("creating a temporary data directory")?;
    let mut scute = Scute::spawn(&plan.scute, data.path())?;
    scute.wait_ready(Duration::from_secs(30)).await?;
    let mut client = Client::connect(scute.rest).await?;

    let response = client
        .register(
            "lookup-value",
            r#"{"type":"record","name":"Lookup","fields":[{"name":"id","type":"long"}]}"#,
        )
        .await?;
    ensure!(
        response.status() == StatusCode::OK,
        "registering the lookup schema: {}",
        response.status()
    );
    let id = super::parse_id(response.body())?;
    let proto = super::protobuf::large_file(0, false);
    let proto_update = super::protobuf::large_file(0, true);
    let json = super::json::wide_schema(1000, 5, 100).to_string();
    let json_update = super::json::wide_schema(1000, 5, 200).to_string();
    for (subject, schema_type, schema) in [
        ("flood-proto", "PROTOBUF", &proto),
        ("flood-json", "JSON", &json),
    ] {
        let status = client
            .post_json(
                &format!("/subjects/{subject}/versions"),
                &serde_json::json!({"schemaType": schema_type, "schema": schema}),
            )
            .await?
            .status();
        ensure!(status == StatusCode::OK, "registering {subject}: {status}");
    }

    let duration = plan.duration;
    eprintln!("reading schema {id} for {duration:?} alone...");
    let _ = read_for(scute.rest, id, READERS, None, plan.warmup).await?;
    let quiet = read_for(scute.rest, id, READERS, None, duration).await?;

    eprintln!("reading it again while {FLOODERS} clients post heavy checks...");
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let mut flooders = Vec::new();
    for n in 0..FLOODERS {
        let (subject, schema_type, schema) = if n % 2 == 0 {
            ("flood-proto", "PROTOBUF", proto_update.clone())
        } else {
            ("flood-json", "JSON", json_update.clone())
        };
        let (addr, stop, answered, refused) =
            (scute.rest, stop.clone(), answered.clone(), refused.clone());
        flooders.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await?;
            let body = serde_json::json!({"schemaType": schema_type, "schema": schema});
            let path = format!("/compatibility/subjects/{subject}/versions/latest");
            while !stop.load(Ordering::Relaxed) {
                match client.post_json(&path, &body).await?.status() {
                    StatusCode::OK => answered.fetch_add(1, Ordering::Relaxed),
                    StatusCode::SERVICE_UNAVAILABLE => refused.fetch_add(1, Ordering::Relaxed),
                    other => anyhow::bail!("a check answered {other}"),
                };
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    // Let the flood fill the queue before measuring.
    tokio::time::sleep(plan.warmup).await;
    let load = loadavg();
    let counted = (
        answered.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    let flooded = read_for(scute.rest, id, READERS, None, duration).await?;
    let checks = (
        answered.load(Ordering::Relaxed) - counted.0,
        refused.load(Ordering::Relaxed) - counted.1,
    );
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        flooder.await??;
    }
    scute.check_alive()?;

    let seconds = flooded.elapsed.as_secs_f64();
    println!(
        "Machine: {}; load average during the flood {load}.\n\n\
         | `GET /schemas/ids/{{id}}`, {READERS} connections | reads/s | p50 | p99 |\n\
         |---|---:|---:|---:|\n\
         | alone | {} | {} | {} |\n\
         | during a flood of heavy checks ({FLOODERS} clients) | {} | {} | {} |\n\n\
         Checks during the flood: {} answered ({:.1}/s), {} refused at once with 503 (compute queue full).",
        machine.describe(),
        thousands(quiet.per_second()),
        ms(quiet.quantile(0.5)),
        ms(quiet.quantile(0.99)),
        thousands(flooded.per_second()),
        ms(flooded.quantile(0.5)),
        ms(flooded.quantile(0.99)),
        checks.0,
        checks.0 as f64 / seconds,
        checks.1,
    );
    Ok(())
}
