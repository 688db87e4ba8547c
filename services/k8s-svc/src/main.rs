use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    magnum_grpc::entrypoint::run_service("k8s-svc", "k8s", &["auth", "bus", "policy"], k8s_svc::run)
        .await
}
