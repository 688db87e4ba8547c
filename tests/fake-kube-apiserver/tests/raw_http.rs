#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Requests the typed `kube` client cannot make (JSON patch, bodies without apiVersion/kind,
//! odd paths and media types), sent as raw HTTP/1.1, and the exact `Status` body shape.

use fake_kube_apiserver::{FakeKubeApiServer, Options, UnknownFields};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Reply {
    code: u16,
    headers: String,
    body: Value,
}

async fn send(
    server: &FakeKubeApiServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr(),
        body.len()
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        code,
        headers: head.to_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

#[tokio::test]
async fn status_bodies_have_the_real_shape() {
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let r = send(
        &server,
        "GET",
        "/api/v1/namespaces",
        None,
        "application/json",
        "",
    )
    .await;
    assert_eq!(r.code, 401);
    assert_eq!(
        r.body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    );
    let admin = Some(server.admin_token());
    let r = send(
        &server,
        "GET",
        "/api/v1/namespaces/nope",
        admin,
        "application/json",
        "",
    )
    .await;
    assert_eq!(
        r.body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "namespaces \"nope\" not found", "reason": "NotFound",
               "details": {"name": "nope", "kind": "namespaces"}, "code": 404})
    );
    let r = send(
        &server,
        "GET",
        "/api/v1/endpoints",
        admin,
        "application/json",
        "",
    )
    .await;
    assert_eq!((r.code, r.body["reason"].as_str()), (404, Some("NotFound")));
    let r = send(
        &server,
        "GET",
        "/apis/apps/v1/deployments",
        admin,
        "application/json",
        "",
    )
    .await;
    assert_eq!(r.code, 404);
    let r = send(
        &server,
        "POST",
        "/api/v1/namespaces/default",
        admin,
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(r.code, 405);
    let r = send(
        &server,
        "GET",
        "/api/v1/namespaces?watch=true",
        admin,
        "application/json",
        "",
    )
    .await;
    assert_eq!(r.code, 405);
    let r = send(
        &server,
        "POST",
        "/api/v1/namespaces",
        admin,
        "application/yaml",
        "x: y",
    )
    .await;
    assert_eq!(r.code, 415);
    let r = send(
        &server,
        "POST",
        "/api/v1/namespaces?dryRun=All",
        admin,
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(r.code, 400);
    let r = send(
        &server,
        "POST",
        "/api/v1/namespaces",
        admin,
        "application/json",
        "{not json",
    )
    .await;
    assert_eq!(r.code, 400);
}

#[tokio::test]
async fn bodies_without_type_fields_and_json_patch() {
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let admin = Some(server.admin_token());
    // apiVersion and kind default from the URL, as on a real server.
    let r = send(
        &server,
        "POST",
        "/api/v1/namespaces/default/secrets",
        admin,
        "application/json",
        r#"{"metadata": {"name": "s"}, "stringData": {"a": "b"}}"#,
    )
    .await;
    assert_eq!(r.code, 201);
    assert_eq!(r.body["kind"], "Secret");
    assert_eq!(r.body["data"]["a"], "Yg==");

    let r = send(
        &server,
        "PATCH",
        "/api/v1/namespaces/default/secrets/s",
        admin,
        "application/json-patch+json",
        r#"[{"op": "add", "path": "/metadata/labels", "value": {"x": "y"}}]"#,
    )
    .await;
    assert_eq!(r.code, 200);
    assert_eq!(r.body["metadata"]["labels"]["x"], "y");
    // A failed `test` op is refused, and nothing changes.
    let r = send(
        &server,
        "PATCH",
        "/api/v1/namespaces/default/secrets/s",
        admin,
        "application/json-patch+json",
        r#"[{"op": "test", "path": "/type", "value": "kubernetes.io/tls"}, {"op": "remove", "path": "/data"}]"#,
    )
    .await;
    assert_eq!(r.code, 422);
    let r = send(
        &server,
        "GET",
        "/api/v1/namespaces/default/secrets/s",
        admin,
        "application/json",
        "",
    )
    .await;
    assert_eq!(r.body["data"]["a"], "Yg==");
    // List items carry no apiVersion/kind, like the real server's.
    let r = send(
        &server,
        "GET",
        "/api/v1/namespaces/default/secrets",
        admin,
        "application/json",
        "",
    )
    .await;
    assert_eq!(r.body["kind"], "SecretList");
    assert!(r.body["items"][0].get("kind").is_none());
}

#[tokio::test]
async fn warn_mode_answers_with_warning_headers() {
    let server = FakeKubeApiServer::start(Options {
        unknown_fields: UnknownFields::Warn,
        ..Options::default()
    })
    .await
    .unwrap();
    let admin = Some(server.admin_token());
    let r = send(
        &server,
        "POST",
        "/api/v1/namespaces/default/serviceaccounts",
        admin,
        "application/json",
        r#"{"metadata": {"name": "sa"}, "automountToken": false}"#,
    )
    .await;
    assert_eq!(r.code, 201);
    assert!(r.body.get("automountToken").is_none());
    assert!(
        r.headers
            .contains(r#"warning: 299 - "unknown field \"automounttoken\"""#),
        "{}",
        r.headers
    );
    let r = send(
        &server,
        "POST",
        "/api/v1/namespaces/default/serviceaccounts?fieldValidation=Strict",
        admin,
        "application/json",
        r#"{"metadata": {"name": "sa2"}, "automountToken": false}"#,
    )
    .await;
    assert_eq!(r.code, 400);
}

#[tokio::test]
async fn listens_on_loopback_only() {
    let err = FakeKubeApiServer::start(Options {
        listen: Some("0.0.0.0:0".parse().unwrap()),
        ..Options::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, fake_kube_apiserver::Error::NotLoopback(_)),
        "{err}"
    );
}

#[tokio::test]
async fn delete_options_from_the_query_and_pod_bodies_without_type_fields() {
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let admin = Some(server.admin_token());
    let pod = r#"{"metadata": {"name": "web"}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}"#;
    let r = send(
        &server,
        "POST",
        "/api/v1/namespaces/default/pods",
        admin,
        "application/json",
        pod,
    )
    .await;
    assert_eq!(r.code, 201);
    assert_eq!(r.body["kind"], "Pod");
    assert_eq!(r.body["status"]["phase"], "Running");
    let r = send(
        &server,
        "DELETE",
        "/api/v1/namespaces/default/pods/web?propagationPolicy=Sideways",
        admin,
        "application/json",
        "",
    )
    .await;
    assert_eq!(r.code, 422);
    assert_eq!(
        r.body["message"],
        r#"DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil""#
    );
    // A grace period of 0 deletes at once: the answer is the pod as it was.
    let r = send(
        &server,
        "DELETE",
        "/api/v1/namespaces/default/pods/web?gracePeriodSeconds=0",
        admin,
        "application/json",
        "",
    )
    .await;
    assert_eq!(r.code, 200);
    assert_eq!(r.body["kind"], "Pod");
    assert!(r.body["metadata"].get("deletionTimestamp").is_none());
    // Other subresources of the new kinds are not served.
    let r = send(
        &server,
        "GET",
        "/api/v1/namespaces/default/pods/web/log",
        admin,
        "application/json",
        "",
    )
    .await;
    assert_eq!(r.code, 404);
}
