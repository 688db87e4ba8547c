use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // Top-level `[bus]`, `[auth]` and `[policy]` are defaults for `[bay.bus]` etc.
    magnum_grpc::entrypoint::run_service(
        "bay-svc",
        "bay",
        &["auth", "bus", "policy", "swarm"],
        bay_svc::run,
    )
    .await
}
