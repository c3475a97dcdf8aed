//! Scute's registry and servers.
//!
//! Every write is a record appended to a log; all state is the replay of
//! that log. The modules, from the bottom up:
//!
//! * `model`: levels, modes, version selectors; `error`: the one error type.
//! * `state`: the in-memory view, changed only by applying log records.
//! * `registry`: the rules; the only writer of the log.
//! * `grpc`: the tonic service over the registry, the API both transports
//!   serve (REST through `scute-rest`, in process).
//! * `config` and [`start`]/[`run`]: the whole server, callable from tests.
//! * `cli`: `scute schema|subject|config`, a client of any registry's API.

mod access;
pub mod audit;
pub mod backup;
pub mod cli;
pub mod compute;
pub mod config;
pub mod context;
pub mod data_contract;
pub mod error;
pub mod grpc;
pub mod guid;
pub mod health;
pub mod metrics;
pub mod model;
pub mod registry;
mod replay;
pub mod security;
mod server;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use scute_proto::v1::schema_registry_server::SchemaRegistryServer;
use scute_storage::file::FileLog;
use scute_storage::kafka::{KafkaLog, KafkaSettings, Read};
use scute_storage::log::SchemaLog;
use scute_storage::record;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use access::Policy;
pub use config::Config;
pub use error::Error;

use crate::compute::Compute;
use crate::grpc::GrpcApi;
use crate::registry::{Registry, ServerInfo};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Storage(#[from] scute_storage::log::LogError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("backup/restore: {0}")]
    Backup(String),
    #[error("cannot start the compute threads: {0}")]
    Compute(std::io::Error),
    #[error("the {0} server failed: {1}")]
    Serve(&'static str, String),
    #[error("security: {0}")]
    Security(String),
}

/// A started server: its bound addresses, and a way to stop it.
#[derive(Debug)]
pub struct Running {
    pub rest_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    /// The metrics listener's address, when asked for.
    pub metrics_addr: Option<SocketAddr>,
    pub api: GrpcApi,
    /// Kept to close the log (releasing its directory lock) once both
    /// servers have drained.
    storage: Storage,
    /// Kept for its reload tasks, which stop with it.
    _security: Arc<security::Security>,
    stop: watch::Sender<bool>,
    rest: JoinHandle<Result<(), ServerError>>,
    grpc: JoinHandle<Result<(), ServerError>>,
    metrics: Option<JoinHandle<Result<(), ServerError>>>,
}

impl Running {
    /// Stops accepting, drains both servers and closes the log.
    pub async fn stop(self) -> Result<(), ServerError> {
        let _ = self.stop.send(true);
        self.wait().await
    }

    /// Waits until both servers have stopped, then closes the log.
    pub async fn wait(self) -> Result<(), ServerError> {
        let Running {
            api,
            storage,
            rest,
            grpc,
            metrics,
            ..
        } = self;
        let tasks = [("REST", rest), ("gRPC", grpc)]
            .into_iter()
            .chain(metrics.map(|task| ("metrics", task)));
        for (name, task) in tasks {
            task.await
                .map_err(|e| ServerError::Serve(name, e.to_string()))??;
        }
        drop(api);
        match storage {
            Storage::File(log) => match Arc::try_unwrap(log) {
                Ok(log) => log.close().await,
                Err(_) => {
                    tracing::warn!("the log is still in use; it closes when its last user goes")
                }
            },
            Storage::Kafka(log, replayer) => {
                replayer.abort();
                if let Err(e) = log.flush().await {
                    tracing::warn!(error = %e, "records still queued for Kafka at stop");
                }
            }
        }
        Ok(())
    }
}

/// The log a server runs on.
#[derive(Debug)]
enum Storage {
    File(Arc<FileLog>),
    /// The topic, and the task that reads it into the registry.
    Kafka(Arc<KafkaLog>, JoinHandle<()>),
}

/// What the server says about itself, from the flags and the log.
fn server_info(config: &Config, kafka_cluster_id: &str) -> ServerInfo {
    ServerInfo {
        kafka_cluster_id: kafka_cluster_id.to_owned(),
        group_id: config.group_id.clone(),
        deployment: config.deployment_attributes.clone(),
        compatibility_level: config.compatibility_level,
    }
}

/// A node id for records this node stamps: random unless configured.
fn node_id(config: &Config) -> i32 {
    use std::hash::{BuildHasher, RandomState};
    config.node_id.unwrap_or_else(|| {
        let random = RandomState::new().hash_one(std::process::id());
        i32::try_from(random & 0x7fff_ffff).unwrap_or(0)
    })
}

/// The Kafka settings from the flags, if a bootstrap is given.
pub fn kafka_settings(config: &Config) -> Option<KafkaSettings> {
    let bootstrap = config.kafka_bootstrap.as_ref()?;
    let mut settings = KafkaSettings::new(bootstrap.clone());
    settings.topic = config.kafka_topic.clone();
    settings.replication_factor = config.kafka_replication_factor;
    settings.client_id = config.kafka_client_id.clone();
    settings.properties = config.kafka_properties.clone();
    settings.timeout = Duration::from_millis(config.kafka_timeout_ms.max(1));
    Some(settings)
}

/// How often a long replay says how far it got.
const REPLAY_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Connects to the topic and starts the replayer. The registry is not serving
/// until the replayer has read up to a NOOP marker written at start: the high
/// watermark alone is not trusted (some brokers report it wrong after batches).
async fn open_kafka(
    config: &Config,
    settings: KafkaSettings,
) -> Result<(Arc<Registry>, Storage), ServerError> {
    let timeout = settings.timeout;
    let log = Arc::new(KafkaLog::open(settings).await?);
    let node = node_id(config);
    let compute = Compute::start(config.limits.compute()).map_err(ServerError::Compute)?;
    let info = server_info(config, log.cluster_id().unwrap_or_default());
    let registry = Arc::new(
        Registry::shared(
            log.clone(),
            node,
            timeout,
            compute,
            config.limits.schema_limits(),
        )
        .with_info(info),
    );
    let mut reader = log.reader(0)?;
    let replayer = {
        let registry = registry.clone();
        let log = log.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let mut last_report = Instant::now();
            // The marker: once the state's position passes it, the node has
            // read everything written before it started.
            let marker = {
                let log = log.clone();
                let registry = registry.clone();
                tokio::spawn(async move {
                    loop {
                        match log.append(record::Record::Noop.encode()).await {
                            Ok(offset) => {
                                registry.set_replay_target(offset + 1);
                                registry.wait_applied(offset + 1).await;
                                registry.set_ready();
                                tracing::info!(
                                    records_to = offset,
                                    replay_ms = started.elapsed().as_millis() as u64,
                                    "replayed the schemas topic; serving"
                                );
                                return;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "cannot write the start-up marker to the schemas topic; retrying");
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                        }
                    }
                })
            };
            loop {
                match reader.next().await {
                    Ok(Read::Entry(entry)) => registry.apply_read(entry),
                    Ok(Read::End) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the schemas topic failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
                if !marker.is_finished() && last_report.elapsed() >= REPLAY_PROGRESS_EVERY {
                    last_report = Instant::now();
                    tracing::info!(offset = registry.position(), "replaying the schemas topic");
                }
            }
        })
    };
    tracing::info!(node, topic = %config.kafka_topic, "reading the schemas topic");
    Ok((registry, Storage::Kafka(log, replayer)))
}

/// Opens the log, replays it, binds both listeners and starts serving.
pub async fn start(config: &Config) -> Result<Running, ServerError> {
    if let Some(settings) = kafka_settings(config) {
        let (registry, storage) = open_kafka(config, settings).await?;
        return serve(config, registry, storage, "kafka", 0, 0, Duration::ZERO).await;
    }
    let started = Instant::now();
    let data_dir = config.data_dir.clone();
    let replay::Replayed {
        log,
        recovery,
        state,
        decoded,
    } = tokio::task::spawn_blocking(move || replay::open_file_log(&data_dir))
        .await
        .map_err(|e| ServerError::Serve("storage", e.to_string()))??;
    let replayed = recovery.records;
    let replay_time = started.elapsed();
    let log = Arc::new(log);
    let compute = Compute::start(config.limits.compute()).map_err(ServerError::Compute)?;
    let registry = Arc::new(
        Registry::new(state, log.clone(), compute, config.limits.schema_limits())
            .with_info(server_info(config, "")),
    );
    if decoded >= replay::SNAPSHOT_AFTER {
        tokio::spawn(snapshot(
            registry.clone(),
            log.clone(),
            config.data_dir.clone(),
        ));
    }
    let storage = config.data_dir.display().to_string();
    serve(
        config,
        registry,
        Storage::File(log),
        &storage,
        replayed,
        recovery.bytes,
        replay_time,
    )
    .await
}

/// Writes a snapshot of the state just replayed, so the next start decodes
/// only what the log gains after it. Runs beside serving: reads go on, writes
/// wait while the state is encoded.
async fn snapshot(registry: Arc<Registry>, log: Arc<FileLog>, dir: std::path::PathBuf) {
    let started = Instant::now();
    let written = registry
        .settled(|state| {
            let Some(tail) = log.tail().map_err(|e| e.to_string())? else {
                return Ok(None);
            };
            // The state is read while it is written out, on this thread,
            // which the runtime is told it may not have for a while.
            let write =
                || replay::write_snapshot(&dir, |w| state::snapshot::encode(state, &tail, w));
            let multi_thread = tokio::runtime::Handle::current().runtime_flavor()
                == tokio::runtime::RuntimeFlavor::MultiThread;
            if multi_thread {
                tokio::task::block_in_place(write)
            } else {
                write()
            }
            .map(|written| written.then_some(tail))
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|written| written);
    match written {
        Ok(Some(tail)) => tracing::info!(
            records = tail.records,
            ms = started.elapsed().as_millis() as u64,
            "wrote a snapshot of the state"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not write a snapshot of the state"),
    }
}

/// Binds both listeners and serves the registry.
async fn serve(
    config: &Config,
    registry: Arc<Registry>,
    storage: Storage,
    storage_name: &str,
    replayed: u64,
    log_bytes: u64,
    replay_time: Duration,
) -> Result<Running, ServerError> {
    let security = security::Security::start(&config.security, registry.compute_config().threads)
        .await
        .map_err(ServerError::Security)?;
    let api = GrpcApi::new(registry.clone())
        .with_security(security.policy.clone(), security.audit.clone());

    let rest_listener = bind(config.rest_listen).await?;
    let grpc_listener = bind(config.grpc_listen).await?;
    let rest_addr = local_addr(&rest_listener, config.rest_listen)?;
    let grpc_addr = local_addr(&grpc_listener, config.grpc_listen)?;
    let metrics_listener = match config.metrics_listen {
        Some(addr) => {
            let listener = bind(addr).await?;
            let local = local_addr(&listener, addr)?;
            Some((listener, local))
        }
        None => None,
    };
    // Logged before either server answers: the listeners already queue
    // connections, and whoever waits for this line may connect at once.
    tracing::info!(
        rest = %rest_addr,
        grpc = %grpc_addr,
        metrics = ?metrics_listener.as_ref().map(|(_, addr)| *addr),
        storage = storage_name,
        records = replayed,
        log_bytes,
        replay_ms = replay_time.as_millis() as u64,
        "scute is serving"
    );
    let (stop, stopped) = watch::channel(false);

    let metrics = Arc::new(metrics::Metrics::default());
    let limits = server::Limits::new(&config.limits)
        .with_guard(security.guard.clone())
        .with_metrics(Some(metrics.clone()));
    let shared_log = matches!(storage, Storage::Kafka(..));
    let ops = server::ops::Ops {
        metrics,
        health: Arc::new(health::Health::new(registry.clone(), shared_log)),
        registry: registry.clone(),
        limits: limits.clone(),
        storage: if shared_log { "kafka" } else { "file" },
        census: Arc::default(),
    };
    tracing::info!(
        tls = security.rest_tls.is_some(),
        client_auth = %config.security.tls_client_auth.0,
        authentication = security.guard.is_some(),
        audit = security.audit.is_on(),
        "security"
    );
    tracing::info!(
        max_connections = limits.max_connections(),
        max_requests_in_flight = config.limits.max_requests_in_flight,
        compute_threads = registry.compute_config().threads,
        compute_deadline_ms = config.limits.compute_deadline_ms,
        max_schema_depth = config.limits.max_schema_depth,
        "limits"
    );
    let rest_config = scute_rest::RestConfig {
        max_body_bytes: config.limits.max_request_bytes,
        body_timeout: Duration::from_millis(config.limits.http_body_timeout_ms.max(1)),
    };
    let router = server::ops::router(
        ops.clone(),
        Some(scute_rest::service_with_config(
            Arc::new(api.clone()),
            rest_config,
        )),
    );
    let metrics_addr = metrics_listener.as_ref().map(|(_, addr)| *addr);
    let metrics_task = metrics_listener.map(|(listener, _)| {
        // Its own limits, without the API's authentication.
        let limits = server::Limits::new(&config.limits);
        let router = server::ops::router(ops, None);
        let stop = stopped.clone();
        tokio::spawn(async move {
            server::serve_rest(listener, router, limits, None, stop).await;
            Ok(())
        })
    });
    let rest_stop = stopped.clone();
    let rest = tokio::spawn({
        let limits = limits.clone();
        let tls = security.rest_tls.clone();
        async move {
            server::serve_rest(rest_listener, router, limits, tls, rest_stop).await;
            Ok(())
        }
    });

    let (health, health_service) = tonic_health::server::health_reporter();
    if registry.serving().is_ok() {
        health.set_serving::<SchemaRegistryServer<GrpcApi>>().await;
    } else {
        // NOT_SERVING until the replay has caught up.
        health
            .set_not_serving::<SchemaRegistryServer<GrpcApi>>()
            .await;
        let health = health.clone();
        let registry = registry.clone();
        tokio::spawn(async move {
            registry.wait_serving().await;
            health.set_serving::<SchemaRegistryServer<GrpcApi>>().await;
        });
    }
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(scute_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(scute_proto::ERROR_DETAILS_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServerError::Serve("gRPC", e.to_string()))?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(scute_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(scute_proto::ERROR_DETAILS_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| ServerError::Serve("gRPC", e.to_string()))?;
    let grpc_service =
        SchemaRegistryServer::new(api.clone()).max_decoding_message_size(limits.max_message_bytes);
    let mut grpc_stop = stopped;
    let grpc_tls = security.grpc_tls.clone();
    let grpc = tokio::spawn(async move {
        server::grpc_server(&limits)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(grpc_service)
            .serve_with_incoming_shutdown(
                server::grpc_incoming(grpc_listener, &limits, grpc_tls),
                async move {
                    let _ = grpc_stop.wait_for(|s| *s).await;
                    health
                        .set_not_serving::<SchemaRegistryServer<GrpcApi>>()
                        .await;
                },
            )
            .await
            .map_err(|e| ServerError::Serve("gRPC", e.to_string()))
    });

    Ok(Running {
        rest_addr,
        grpc_addr,
        metrics_addr,
        api,
        storage,
        _security: Arc::new(security),
        stop,
        rest,
        grpc,
        metrics: metrics_task,
    })
}

/// Serves until `shutdown` resolves, then drains and returns.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
    let running = start(&config).await?;
    shutdown.await;
    tracing::info!("shutting down");
    running.stop().await
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

fn local_addr(listener: &TcpListener, addr: SocketAddr) -> Result<SocketAddr, ServerError> {
    listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })
}
