//! The whole of a service binary's `main`: parse `--config`, load the service's section,
//! start telemetry, run until SIGTERM. Bad configuration exits with 64 (EX_USAGE) and one
//! line on stderr.

use std::fmt::Display;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use magnum_common::Shutdown;
use magnum_common::config::{Loader, process_env};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Parser)]
struct Cli {
    /// TOML configuration file (default: $MAGNUM_CONFIG, else built-in defaults + env).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Runs `run(config, shutdown)` with the `[section]` of the configuration, where the
/// top-level `shared` tables (e.g. `bus`, `auth`) provide defaults.
pub async fn run_service<C, F, Fut, E>(
    binary: &str,
    section: &str,
    shared: &[&str],
    run: F,
) -> ExitCode
where
    C: DeserializeOwned + Serialize + Default,
    F: FnOnce(C, Shutdown) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let cli = Cli::parse();
    let loaded = Loader::from_env(cli.config, process_env()).and_then(|loader| {
        Ok((
            loader.service_section::<C>(section, shared)?,
            loader.section("telemetry")?,
        ))
    });
    let (config, telemetry) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("{binary}: {error}");
            return ExitCode::from(64);
        }
    };
    let _telemetry = match magnum_telemetry::init(binary, &telemetry) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("{binary}: {error}");
            return ExitCode::from(64);
        }
    };
    match run(config, magnum_common::shutdown::on_signal()).await {
        Ok(()) => {
            tracing::info!("{binary} stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "{binary} failed");
            ExitCode::FAILURE
        }
    }
}
