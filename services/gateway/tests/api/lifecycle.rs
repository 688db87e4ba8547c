//! `serve`: real TCP, graceful shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use magnum_common::Shutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::fakes;

/// One HTTP/1.1 request on its own connection; the whole raw response.
async fn raw_get(address: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: gw\r\nX-Auth-Token: tok\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn serve_answers_over_tcp_and_finishes_in_flight_requests_on_shutdown() {
    let fakes = fakes().await;
    fakes.baymodels.insert("slow-model");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let shutdown = Shutdown::new();
    let server = tokio::spawn(gateway::serve(
        fakes.config.clone(),
        listener,
        shutdown.clone(),
    ));

    let health = raw_get(address, "/healthcheck").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        health
            .to_ascii_lowercase()
            .contains("x-openstack-request-id: req-")
    );

    let in_flight = tokio::spawn(raw_get(address, "/v1/baymodels/slow-model"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !fakes
        .baymodels
        .recorded
        .lock()
        .unwrap()
        .calls
        .contains(&"get")
    {
        assert!(
            Instant::now() < deadline,
            "the request never reached bay-svc"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    shutdown.cancel();

    let response = in_flight.await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"name\":\"slow-model\""));
    let stopped = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve returns after shutdown")
        .unwrap();
    assert!(stopped.is_ok(), "{stopped:?}");
    assert!(
        TcpStream::connect(address).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn serve_refuses_an_unusable_configuration() {
    let mut fakes = fakes().await;
    fakes.config.bay_url = "not a url".to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let result = gateway::serve(fakes.config.clone(), listener, Shutdown::new()).await;
    assert!(result.is_err());
}
