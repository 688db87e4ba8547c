//! The gateway binary: configuration from `--config` / `MAGNUM_CONFIG` and `MAGNUM_*`
//! (the `[gateway]` section, with the top-level `[auth]` table as defaults), telemetry,
//! then [`gateway::run`] until SIGTERM. Bad configuration exits with 64.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    magnum_grpc::entrypoint::run_service::<gateway::Config, _, _, _>(
        "gateway",
        "gateway",
        &["auth", "bus"],
        gateway::run,
    )
    .await
}
