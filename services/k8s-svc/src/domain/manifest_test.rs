//! Unit tests of `manifest`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const NS: &str = "magnum-bay";
const MAX: usize = 524_288;

const POD_YAML: &str = "
apiVersion: v1
kind: Pod
metadata:
  name: redis-master
  labels:
    name: redis-master
spec:
  containers:
    - name: master
      image: redis
      ports:
        - containerPort: 6379
";

#[test]
fn yaml_and_json_pods_decode_with_the_bays_namespace() {
    let pod = parse(Kind::Pod, POD_YAML, NS, MAX).unwrap();
    assert_eq!(pod.name(), "redis-master");
    let Workload::Pod(typed) = &pod else {
        panic!("{pod:?}")
    };
    assert_eq!(typed.metadata.namespace.as_deref(), Some(NS));
    let observed = pod.observe();
    assert_eq!(observed.images, ["redis"]);
    assert_eq!(observed.labels["name"], "redis-master");

    let json = r#"{"metadata": {"name": "web", "namespace": "default"},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]}}"#;
    let pod = parse(Kind::Pod, json, NS, MAX).unwrap();
    assert_eq!(pod.name(), "web");
}

#[test]
fn services_and_rcs_show_what_magnum_showed() {
    let service = parse(
        Kind::Service,
        "metadata: {name: redis}\nspec:\n  selector: {name: redis-master}\n  ports:\n    - port: 88\n      targetPort: 6379\n      protocol: TCP\n",
        NS,
        MAX,
    )
    .unwrap();
    let observed = service.observe();
    assert_eq!(observed.selector["name"], "redis-master");
    assert_eq!(
        observed.ports,
        [serde_json::json!({"port": 88, "targetPort": 6379, "protocol": "TCP"})]
    );

    let rc = parse(
        Kind::ReplicationController,
        "metadata: {name: web}\nspec:\n  replicas: 2\n  selector: {app: web}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n",
        NS,
        MAX,
    )
    .unwrap();
    let observed = rc.observe();
    assert_eq!(observed.replicas, Some(2));
    assert_eq!(observed.images, ["nginx"]);
    assert_eq!(observed.labels["app"], "web");
}

#[test]
fn bad_manifests_say_what_is_wrong() {
    let cases: [(Kind, &str, &str); 12] = [
        (Kind::Pod, "", "'manifest' can't be empty"),
        (Kind::Pod, "{not json", "not valid JSON"),
        (Kind::Pod, "a: [unclosed", "not valid YAML"),
        (Kind::Pod, "- a\n- b\n", "must be a mapping"),
        (
            Kind::Pod,
            "kind: Service\nmetadata: {name: x}",
            "describes a Service, expecting a Pod",
        ),
        (
            Kind::Pod,
            "apiVersion: apps/v1\nmetadata: {name: x}",
            "apiVersion is apps/v1",
        ),
        (
            Kind::Pod,
            "metadata: {name: x, namespace: kube-system}\nspec: {containers: [{name: a, image: b}]}",
            "kube-system",
        ),
        (
            Kind::Pod,
            "metadata: {labels: {a: b}}\nspec: {containers: [{name: a, image: b}]}",
            "metadata['name']",
        ),
        (
            Kind::Pod,
            "metadata: {name: x}\nspec: {containers: []}",
            "spec['containers']",
        ),
        (
            Kind::Pod,
            "metadata: {name: x}\nspec: {containers: 3}",
            "not a valid Pod",
        ),
        (
            Kind::Service,
            "metadata: {name: x}\nspec: {selector: {a: b}}",
            "spec['ports']",
        ),
        (
            Kind::ReplicationController,
            "metadata: {name: x}\nspec:\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: a, image: b}]}",
            "spec['selector']",
        ),
    ];
    for (kind, text, expected) in cases {
        let error = parse(kind, text, NS, MAX).unwrap_err().to_string();
        assert!(error.contains(expected), "{text:?}: {error}");
    }
    let error = parse(Kind::Pod, POD_YAML, NS, 10).unwrap_err();
    assert!(
        matches!(error, ManifestError::TooLarge { limit: 10, .. }),
        "{error}"
    );
}
