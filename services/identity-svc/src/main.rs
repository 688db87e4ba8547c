use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    magnum_grpc::entrypoint::run_service("identity-svc", "identity", &["bus"], identity_svc::run)
        .await
}
