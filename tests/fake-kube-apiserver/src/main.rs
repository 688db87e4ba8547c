//! Development server: `cargo run -p fake-kube-apiserver -- --listen 127.0.0.1:6443
//! --kubeconfig-out PATH` serves the fake API and writes a kubeconfig with the admin token.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use fake_kube_apiserver::{FakeKubeApiServer, Options, UnknownFields};

/// A strict in-memory fake Kubernetes API server (plain HTTP, for development and tests).
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Where to write a kubeconfig for the admin token.
    #[arg(long)]
    kubeconfig_out: Option<PathBuf>,
    /// Admin bearer token (random when not given).
    #[arg(long, env = "FAKE_KUBE_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Behave like a real server for unknown fields (honour `fieldValidation`, default
    /// `Warn`) instead of always refusing them.
    #[arg(long)]
    lenient_unknown_fields: bool,
}

#[tokio::main]
async fn main() -> Result<(), fake_kube_apiserver::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let server = FakeKubeApiServer::start(Options {
        admin_token: args.admin_token,
        listen: Some(args.listen),
        unknown_fields: if args.lenient_unknown_fields {
            UnknownFields::Warn
        } else {
            UnknownFields::Strict
        },
        ..Options::default()
    })
    .await?;
    if let Some(path) = &args.kubeconfig_out {
        // Written aside and renamed, so a watcher never reads half a file.
        let partial = path.with_extension("partial");
        std::fs::write(&partial, server.kubeconfig_yaml(server.admin_token()))?;
        std::fs::rename(&partial, path)?;
        tracing::info!(path = %path.display(), "kubeconfig written");
    }
    tracing::info!(url = %server.url(), "fake kube-apiserver listening (plain HTTP)");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
