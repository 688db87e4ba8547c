//! `magnum`: the embedded default. Every service in one process, SQLite under the data
//! directory, the in-process bus and no-auth identity. Configuration works as for the
//! separate services (`--config`, `MAGNUM_*`), over loopback-only defaults.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use magnum::{Mesh, MeshConfig, embedded_defaults};
use magnum_common::config::{Loader, process_env};

#[derive(Parser)]
#[command(about = "magnum-rs: every service in one process")]
struct Cli {
    /// TOML configuration file (default: $MAGNUM_CONFIG).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where the embedded databases live.
    #[arg(long, env = "MAGNUM_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded =
        Loader::from_env_with_defaults(embedded_defaults(&cli.data_dir), cli.config, process_env())
            .map_err(anyhow::Error::from)
            .and_then(|loader| Ok((MeshConfig::load(&loader)?, loader.section("telemetry")?)));
    let (config, telemetry) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("magnum: {error:#}");
            return ExitCode::from(64);
        }
    };
    let _telemetry = match magnum_telemetry::init("magnum", &telemetry) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("magnum: {error}");
            return ExitCode::from(64);
        }
    };
    let mesh = match Mesh::start(config, magnum_common::shutdown::on_signal()).await {
        Ok(mesh) => mesh,
        Err(error) => {
            eprintln!("magnum: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let endpoint = format!("http://{}/v1", mesh.gateway_addr);
    eprintln!(
        "magnum-rs is running (all services in one process, data in {}).\n  \
         REST API (Magnum v1): http://{}\n  gRPC: identity {}, bay {}, k8s {}, container {}\n  \
         try: magnum --os-token x --os-endpoint-override {endpoint} baymodel-list\n  \
         Ctrl-C stops it; data is kept.",
        cli.data_dir.display(),
        mesh.gateway_addr,
        mesh.identity_addr,
        mesh.bay_addr,
        mesh.k8s_addr,
        mesh.container_addr,
    );
    match mesh.wait().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("magnum: {error:#}");
            ExitCode::FAILURE
        }
    }
}
