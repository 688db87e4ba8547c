use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    magnum_grpc::entrypoint::run_service(
        "container-svc",
        "container",
        &["auth"],
        container_svc::run,
    )
    .await
}
