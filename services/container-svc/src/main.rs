use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    magnum_grpc::entrypoint::run_service(
        "container-svc",
        "container",
        &["auth", "bus", "policy", "swarm"],
        container_svc::run,
    )
    .await
}
