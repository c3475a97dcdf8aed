//! The `scute` binary: flags and logging, then the server.

use clap::{CommandFactory, FromArgMatches};

/// mimalloc: less CPU per request than the system allocator, and less
/// memory kept after the start-up replay.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use scute_service::config::{Command, Config, LogFormat};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // No transparent huge pages: mimalloc asks for them, and the kernel then
    // zeroes 2 MiB at each first touch. Measured at a million schemas: start
    // 1.9 s and 546 MiB with them, 1.2 s and 485 MiB without. A refusal
    // (an old kernel, a sandbox) changes nothing else.
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let matches = Config::command().get_matches();
    let mut config = Config::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // The client commands print for a person: no server logging.
    match config.command {
        Some(Command::Schema(args)) => return scute_service::cli::schema(args).await,
        Some(Command::Subject(args)) => return scute_service::cli::subject(args).await,
        Some(Command::Config(args)) => return scute_service::cli::config(args).await,
        Some(Command::User(args)) => return scute_service::cli::user(args),
        _ => {}
    }
    let properties = match config.config_file.clone() {
        Some(path) => {
            match scute_service::config::properties::apply_file(&mut config, &matches, &path) {
                Ok(applied) => Some((path, applied)),
                Err(e) => {
                    eprintln!("scute: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            }
        }
        None => None,
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    // A panic is a bug: log it as such, where operators look. The request
    // it happened in is answered with a 500 and the server goes on.
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        tracing::error!(
            thread = thread.name().unwrap_or("unnamed"),
            panic = %info,
            "panic"
        );
    }));
    if let Some((path, applied)) = &properties {
        report_properties(path, applied);
    }
    let log_format = config.log_format;
    let result = match &config.command {
        Some(Command::Backup { to }) => scute_service::backup::backup(&config, to)
            .await
            .map(|n| tracing::info!(records = n, to = %to.display(), "backup written")),
        Some(Command::Restore { from }) => scute_service::backup::restore(&config, from)
            .await
            .map(|n| tracing::info!(records = n, from = %from.display(), "restored")),
        _ => scute_service::run(config, shutdown_signal()).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Said once: a JSON log line for machines, a plain one for people.
            match log_format {
                LogFormat::Json => tracing::error!("{e}"),
                LogFormat::Text => eprintln!("scute: {e}"),
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// One line for what the properties file set, and one naming every key it
/// holds that Scute does not use.
fn report_properties(path: &std::path::Path, applied: &scute_service::config::properties::Applied) {
    tracing::info!(
        file = %path.display(),
        used = applied.used.join(", "),
        overridden_by_flags_or_environment = applied.overridden.join(", "),
        "read Confluent's properties file"
    );
    if !applied.ignored.is_empty() {
        let ignored: Vec<String> = applied
            .ignored
            .iter()
            .map(|(key, why)| match why {
                Some(why) => format!("{key} ({why})"),
                None => key.clone(),
            })
            .collect();
        tracing::warn!(
            file = %path.display(),
            "keys Scute does not use: {}",
            ignored.join(", ")
        );
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed now, before the
/// server starts: a signal that arrives as soon as "scute is serving" is
/// logged must stop it cleanly, not kill it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
