use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // `[bus]` and `[auth]` at the top level are defaults for `[bay.bus]` and `[bay.auth]`.
    magnum_grpc::entrypoint::run_service("bay-svc", "bay", &["auth", "bus"], bay_svc::run).await
}
