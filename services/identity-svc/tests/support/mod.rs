//! Shared by the test files: the real loopback Keystone (`scripts/keystone.sh`), user
//! logins, a recording proxy in front of Keystone, and validator configs.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use identity_svc::{KeystoneConfig, Secret};
use tokio::net::TcpListener;

pub use magnum_testkit::keystone::{Keystone, http};

/// A validator config for the provisioned service user, against `auth_url`.
pub fn validator_config(keystone: &Keystone, auth_url: &str) -> KeystoneConfig {
    let service = keystone.user("SERVICE");
    KeystoneConfig {
        auth_url: auth_url.to_owned(),
        username: service.name,
        password: Some(Secret::new(service.password)),
        project_name: service.project,
        user_domain_name: service.domain.clone(),
        project_domain_name: service.domain,
        ..KeystoneConfig::default()
    }
}

/// A loopback port nothing listens on.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// One request that went through the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub status: u16,
    /// The `X-Auth-Token` it carried (the service token, for validations).
    pub auth_token: Option<String>,
}

/// An HTTP proxy in front of Keystone that records every request, so tests can count
/// exactly what Keystone was asked.
#[derive(Clone)]
pub struct Proxy {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    http: reqwest::Client,
}

impl Proxy {
    /// Proxies `upstream` (e.g. `http://127.0.0.1:5000`), keeping the path: the proxy's
    /// URL has the same `/v3` suffix as Keystone's.
    pub async fn start(keystone_url: &str) -> Self {
        let upstream = keystone_url.trim_end_matches("/v3").to_owned();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = ProxyState {
            upstream,
            seen: Arc::clone(&seen),
            http: http(),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/v3"),
            seen,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Validations (`GET /v3/auth/tokens`) seen.
    pub fn validations(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == Method::GET && s.path == "/v3/auth/tokens")
            .collect()
    }

    /// Logins (`POST /v3/auth/tokens`) seen.
    pub fn logins(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == Method::POST && s.path == "/v3/auth/tokens")
            .collect()
    }
}

async fn forward(
    State(state): State<ProxyState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = state
        .http
        .request(
            method.clone(),
            format!("{}{path_and_query}", state.upstream),
        )
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let auth_token = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, response_headers, body) = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.bytes().await.unwrap_or_default())
        }
        Err(_) => (502, reqwest::header::HeaderMap::new(), Bytes::new()),
    };
    state.seen.lock().unwrap().push(Seen {
        method,
        path: uri.path().to_owned(),
        status,
        auth_token,
    });
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    for (name, value) in &response_headers {
        if name == "x-subject-token" || name == "content-type" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}
