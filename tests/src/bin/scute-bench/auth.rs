//! `scute-bench --auth`: what authentication costs, and what a flood of
//! wrong passwords does to everyone else.
//!
//! Two servers on the same machine, one open and one with a Karapace user
//! file whose user's password is hashed with scrypt (the slowest of the
//! file's algorithms). `READERS` connections read `GET /schemas/ids/{id}`:
//! on the open server; on the guarded one with valid Basic credentials
//! (verified once, then cached); and on the guarded one while `FLOODERS`
//! clients send Basic credentials with a new wrong password each time, so
//! no cached verdict spares a hash. The figures: reads/s, p50 and p99 of
//! each phase, the first (uncached) request's latency, and what became of
//! the wrong passwords (401 after a hash, or 503 at once when the hashing
//! queue was full).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use base64::Engine;
use http::{HeaderValue, StatusCode, Uri};

use super::reads::read_for;
use super::{Client, Machine, Plan, Scute, loadavg, ms};

/// Connections reading at once.
const READERS: usize = 4;
/// Clients sending wrong passwords at once.
const FLOODERS: usize = 32;

fn basic(user: &str, password: &str) -> Result<HeaderValue> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    Ok(HeaderValue::from_str(&format!("Basic {encoded}"))?)
}

/// A server with a schema to read; its id.
async fn serve(
    plan: &Plan,
    extra: &[String],
    as_admin: Option<HeaderValue>,
) -> Result<(Scute, i64, tempfile::TempDir)> {
    let data = tempfile::Builder::new()
        .prefix("scute-bench-auth-")
        .tempdir_in(&plan.tmp_dir)
        .context("creating a temporary data directory")?;
    let mut scute = Scute::spawn_with(&plan.scute, data.path(), extra)?;
    scute.authorization = as_admin.clone();
    scute.wait_ready(Duration::from_secs(30)).await?;
    let mut client = Client::connect_as(scute.rest, as_admin).await?;
    let response = client
        .register(
            "lookup-value",
            r#"{"type":"record","name":"Lookup","fields":[{"name":"id","type":"long"}]}"#,
        )
        .await?;
    ensure!(
        response.status() == StatusCode::OK,
        "registering: {}",
        response.status()
    );
    let id = super::parse_id(response.body())?;
    Ok((scute, id, data))
}

pub(crate) async fn run(plan: &Plan, machine: &Machine) -> Result<()> {
    let files = tempfile::Builder::new()
        .prefix("scute-bench-auth-files-")
        .tempdir_in(&plan.tmp_dir)?;
    let users = files.path().join("users.json");
    let hash = |algorithm, password: &str| {
        scute_security::password::hash(algorithm, "bench-salt", password)
    };
    use scute_security::password::Algorithm;
    let file = serde_json::json!({
        "users": [
            {"username": "reader", "algorithm": "scrypt", "salt": "bench-salt",
             "password_hash": hash(Algorithm::Scrypt, "reader-pw")},
            {"username": "newcomer", "algorithm": "scrypt", "salt": "bench-salt",
             "password_hash": hash(Algorithm::Scrypt, "newcomer-pw")},
        ],
        "permissions": [
            {"username": "reader", "operation": "Write", "resource": ".*"},
            {"username": "newcomer", "operation": "Read", "resource": ".*"},
        ],
    });
    std::fs::write(&users, file.to_string())?;
    let valid = basic("reader", "reader-pw")?;

    let (mut open, open_id, _open_data) = serve(plan, &[], None).await?;
    eprintln!(
        "reading a schema for {:?} with no authentication...",
        plan.duration
    );
    let _ = read_for(open.rest, open_id, READERS, None, plan.warmup).await?;
    let unguarded = read_for(open.rest, open_id, READERS, None, plan.duration).await?;
    open.check_alive()?;
    drop(open);

    let extra = vec!["--auth-file".to_owned(), users.display().to_string()];
    let (mut guarded, id, _data) = serve(plan, &extra, Some(valid.clone())).await?;
    // The first request with credentials not seen yet pays the hash.
    let fresh = basic("newcomer", "newcomer-pw")?;
    let mut first = Client::connect_as(guarded.rest, Some(fresh)).await?;
    let t = Instant::now();
    let path = Uri::try_from(format!("/schemas/ids/{id}"))?;
    ensure!(
        first.get(&path).await?.status() == StatusCode::OK,
        "the first read failed"
    );
    let first_ms = t.elapsed();

    eprintln!("reading it with cached Basic credentials...");
    let _ = read_for(guarded.rest, id, READERS, Some(valid.clone()), plan.warmup).await?;
    let cached = read_for(
        guarded.rest,
        id,
        READERS,
        Some(valid.clone()),
        plan.duration,
    )
    .await?;

    eprintln!("reading it again while {FLOODERS} clients send wrong passwords...");
    let stop = Arc::new(AtomicBool::new(false));
    let (refused, busy) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut flooders = Vec::new();
    for n in 0..FLOODERS {
        let (addr, stop, refused, busy) =
            (guarded.rest, stop.clone(), refused.clone(), busy.clone());
        flooders.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await?;
            let path = Uri::from_static("/subjects");
            let mut attempt = 0u64;
            while !stop.load(Ordering::Relaxed) {
                attempt += 1;
                client.authorization = Some(basic("reader", &format!("guess-{n}-{attempt}"))?);
                match client.get(&path).await?.status() {
                    StatusCode::UNAUTHORIZED => refused.fetch_add(1, Ordering::Relaxed),
                    StatusCode::SERVICE_UNAVAILABLE => busy.fetch_add(1, Ordering::Relaxed),
                    other => bail!("a wrong password answered {other}"),
                };
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    tokio::time::sleep(plan.warmup).await;
    let load = loadavg();
    let counted = (
        refused.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed),
    );
    let flooded = read_for(guarded.rest, id, READERS, Some(valid), plan.duration).await?;
    let flood = (
        refused.load(Ordering::Relaxed) - counted.0,
        busy.load(Ordering::Relaxed) - counted.1,
    );
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        flooder.await??;
    }
    guarded.check_alive()?;

    let seconds = flooded.elapsed.as_secs_f64();
    println!(
        "Machine: {}; load average during the flood {load}.\n\n\
         | `GET /schemas/ids/{{id}}`, {READERS} connections | reads/s | p50 | p99 |\n\
         |---|---:|---:|---:|\n\
         {}\n{}\n{}\n\n\
         First request with new credentials (one scrypt hash): {}.\n\
         Wrong passwords during the flood: {} refused with 401 after a hash ({:.1}/s), \
         {} refused at once with 503 (hashing queue full).",
        machine.describe(),
        unguarded.row("no authentication"),
        cached.row("Basic, scrypt user, verdict cached"),
        flooded.row(&format!(
            "the same, during a flood of wrong passwords ({FLOODERS} clients)"
        )),
        ms(u64::try_from(first_ms.as_nanos()).unwrap_or(u64::MAX)),
        flood.0,
        flood.0 as f64 / seconds,
        flood.1,
    );
    Ok(())
}
