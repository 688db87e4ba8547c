#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Pods, services and replication controllers through the real `kube` client: the defaults
//! and status a real cluster shows, its validation messages, the update rules and the
//! `scale` subresource. Like `resources.rs`, only `kube` calls, so they could run against a
//! real cluster (where the simulated status takes a few seconds to appear).

use std::collections::BTreeMap;
use std::fmt::Debug;

use fake_kube_apiserver::{FakeKubeApiServer, Options};
use k8s_openapi::api::autoscaling::v1::{Scale, ScaleSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, Namespace, Pod, PodSpec, PodTemplateSpec, ReplicationController,
    ReplicationControllerSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
    PropagationPolicy,
};
use kube::core::Status;
use kube::{Client, ResourceExt};
use serde_json::json;

const NS: &str = "bay-1";

async fn start() -> (FakeKubeApiServer, Client) {
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let client = server.admin_client().await.unwrap();
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: meta(NS, &[]),
                ..Namespace::default()
            },
        )
        .await
        .unwrap();
    (server, client)
}

fn status<T: Debug>(r: Result<T, kube::Error>) -> Box<Status> {
    match r {
        Err(kube::Error::Api(s)) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// The 422 message of a failed call, checked to be an `Invalid` answer.
fn invalid<T: Debug>(r: Result<T, kube::Error>) -> String {
    let s = status(r);
    assert_eq!(
        (s.code, s.reason.as_str()),
        (422, "Invalid"),
        "{}",
        s.message
    );
    s.message
}

fn meta(name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        labels: (!labels.is_empty()).then(|| {
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        }),
        ..ObjectMeta::default()
    }
}

fn container(name: &str, image: &str) -> Container {
    Container {
        name: name.to_owned(),
        image: (!image.is_empty()).then(|| image.to_owned()),
        ..Container::default()
    }
}

fn with_port(mut c: Container, port: i32) -> Container {
    c.ports = Some(vec![ContainerPort {
        container_port: port,
        ..ContainerPort::default()
    }]);
    c
}

fn pod(name: &str, containers: Vec<Container>) -> Pod {
    Pod {
        metadata: meta(name, &[("app", "web")]),
        spec: Some(PodSpec {
            containers,
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

fn service(name: &str, ports: &[(Option<&str>, i32)]) -> Service {
    Service {
        metadata: meta(name, &[]),
        spec: Some(ServiceSpec {
            selector: Some(BTreeMap::from([("app".to_owned(), "web".to_owned())])),
            ports: Some(
                ports
                    .iter()
                    .map(|(n, p)| ServicePort {
                        name: n.map(str::to_owned),
                        port: *p,
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn rc(name: &str, replicas: Option<i32>, containers: Vec<Container>) -> ReplicationController {
    ReplicationController {
        metadata: meta(name, &[]),
        spec: Some(ReplicationControllerSpec {
            replicas,
            template: Some(PodTemplateSpec {
                metadata: Some(meta("", &[("app", "web")])),
                spec: Some(PodSpec {
                    containers,
                    ..PodSpec::default()
                }),
            }),
            ..ReplicationControllerSpec::default()
        }),
        ..ReplicationController::default()
    }
}

#[tokio::test]
async fn pods_get_defaults_a_node_and_a_running_status() {
    let (_s, client) = start().await;
    let pods: Api<Pod> = Api::namespaced(client, NS);
    let created = pods
        .create(
            &PostParams::default(),
            &pod(
                "web",
                vec![
                    with_port(container("web", "nginx"), 80),
                    container("sidecar", "busybox:1.36"),
                ],
            ),
        )
        .await
        .unwrap();
    let spec = created.spec.as_ref().unwrap();
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    assert_eq!(spec.dns_policy.as_deref(), Some("ClusterFirst"));
    assert_eq!(spec.termination_grace_period_seconds, Some(30));
    assert_eq!(spec.scheduler_name.as_deref(), Some("default-scheduler"));
    assert_eq!(spec.service_account_name.as_deref(), Some("default"));
    assert_eq!(spec.node_name.as_deref(), Some("fake-node-1"));
    let web = &spec.containers[0];
    assert_eq!(web.image_pull_policy.as_deref(), Some("Always"));
    assert_eq!(
        spec.containers[1].image_pull_policy.as_deref(),
        Some("IfNotPresent")
    );
    assert_eq!(
        web.termination_message_path.as_deref(),
        Some("/dev/termination-log")
    );
    assert_eq!(web.termination_message_policy.as_deref(), Some("File"));
    assert_eq!(
        web.ports.as_ref().unwrap()[0].protocol.as_deref(),
        Some("TCP")
    );
    // ServiceAccount admission mounts the token; DefaultTolerationSeconds adds two.
    let volume = &spec.volumes.as_ref().unwrap()[0];
    assert!(
        volume.name.starts_with("kube-api-access-"),
        "{}",
        volume.name
    );
    assert!(
        web.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == "/var/run/secrets/kubernetes.io/serviceaccount")
    );
    assert_eq!(spec.tolerations.as_ref().map(Vec::len), Some(2));

    let st = created.status.as_ref().unwrap();
    assert_eq!(st.phase.as_deref(), Some("Running"));
    let ip = st.pod_ip.clone().unwrap();
    assert!(ip.starts_with("10.244."), "{ip}");
    assert!(st.host_ip.is_some());
    assert!(
        st.conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    );
    let statuses = st.container_statuses.as_ref().unwrap();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.iter().all(|c| c.ready && c.restart_count == 0));

    // A second pod gets its own IP; the list shows both.
    let other = pods
        .create(
            &PostParams::default(),
            &pod("web-2", vec![container("web", "nginx:1.25")]),
        )
        .await
        .unwrap();
    assert_ne!(other.status.unwrap().pod_ip.unwrap(), ip);
    let listed = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);

    // A pod whose nodeSelector matches no node stays Pending, unscheduled.
    let mut picky = pod("picky", vec![container("web", "nginx")]);
    picky.spec.as_mut().unwrap().node_selector =
        Some(BTreeMap::from([("disk".to_owned(), "ssd".to_owned())]));
    let picky = pods.create(&PostParams::default(), &picky).await.unwrap();
    assert!(picky.spec.unwrap().node_name.is_none());
    let st = picky.status.unwrap();
    assert_eq!(st.phase.as_deref(), Some("Pending"));
    assert_eq!(
        st.conditions.unwrap()[0].reason.as_deref(),
        Some("Unschedulable")
    );

    // generateName works for pods too.
    let mut generated = pod("", vec![container("web", "nginx")]);
    generated.metadata.generate_name = Some("web-".into());
    let generated = pods
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    assert!(generated.name_any().starts_with("web-"));
}

#[tokio::test]
async fn pod_validation_messages() {
    let (_s, client) = start().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let pp = PostParams::default();
    let cases: Vec<(Pod, &str)> = vec![
        (
            pod("p", vec![]),
            r#"Pod "p" is invalid: spec.containers: Required value"#,
        ),
        (
            pod("p", vec![container("web", "")]),
            r#"Pod "p" is invalid: spec.containers[0].image: Required value"#,
        ),
        (
            pod("p", vec![container("", "nginx")]),
            r#"Pod "p" is invalid: spec.containers[0].name: Required value"#,
        ),
        (
            pod(
                "p",
                vec![container("web", "nginx"), container("web", "busybox")],
            ),
            r#"Pod "p" is invalid: spec.containers[1].name: Duplicate value: "web""#,
        ),
        (
            pod("p", vec![with_port(container("web", "nginx"), 70000)]),
            r#"Pod "p" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"#,
        ),
        (
            pod("p", vec![with_port(container("web", ""), 0)]),
            r#"Pod "p" is invalid: [spec.containers[0].image: Required value, spec.containers[0].ports[0].containerPort: Required value]"#,
        ),
    ];
    for (p, want) in cases {
        assert_eq!(invalid(pods.create(&pp, &p).await), want);
    }

    let e = invalid(
        pods.create(&pp, &pod("p", vec![container("Web", "nginx")]))
            .await,
    );
    assert!(
        e.starts_with(r#"Pod "p" is invalid: spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of"#),
        "{e}"
    );
    let mut never = pod("p", vec![container("web", "nginx")]);
    never.spec.as_mut().unwrap().restart_policy = Some("Sometimes".into());
    assert_eq!(
        invalid(pods.create(&pp, &never).await),
        r#"Pod "p" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#
    );
    let e = invalid(
        pods.create(&pp, &pod("Web_1", vec![container("web", "nginx")]))
            .await,
    );
    assert!(
        e.starts_with(r#"Pod "Web_1" is invalid: metadata.name: Invalid value: "Web_1""#),
        "{e}"
    );
    // Causes name the fields.
    let s = status(pods.create(&pp, &pod("p", vec![])).await);
    let causes = s.details.unwrap().causes;
    assert_eq!(causes[0].field, "spec.containers");
    assert_eq!(causes[0].reason, "FieldValueRequired");

    // The body's namespace must be the URL's.
    let mut elsewhere = pod("p", vec![container("web", "nginx")]);
    elsewhere.metadata.namespace = Some("default".into());
    let e = status(pods.create(&pp, &elsewhere).await);
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        e.message,
        "the namespace of the provided object does not match the namespace sent on the request"
    );

    // A service account that does not exist: ServiceAccount admission refuses.
    let mut ghost = pod("p", vec![container("web", "nginx")]);
    ghost.spec.as_mut().unwrap().service_account_name = Some("ghost".into());
    let e = status(pods.create(&pp, &ghost).await);
    assert_eq!(e.code, 403);
    assert_eq!(
        e.message,
        r#"pods "p" is forbidden: error looking up service account bay-1/ghost: serviceaccount "ghost" not found"#
    );

    // Unknown fields and malformed quantities are decode errors.
    let ar = ApiResource::erase::<Pod>(&());
    let dynamic: Api<DynamicObject> = Api::namespaced_with(client.clone(), NS, &ar);
    let mut obj = DynamicObject::new("p", &ar);
    obj.data = json!({"spec": {"containers": [{"name": "web", "image": "nginx", "imagePullPolicyy": "Always"}]}});
    let e = status(dynamic.create(&pp, &obj).await);
    assert_eq!(e.code, 400);
    assert_eq!(
        e.message,
        r#"strict decoding error: unknown field "spec.containers[0].imagePullPolicyy""#
    );
    obj.data = json!({"spec": {"containers": [{"name": "web", "image": "nginx",
        "resources": {"limits": {"memory": "lots"}}}]}});
    let e = status(dynamic.create(&pp, &obj).await);
    assert_eq!(e.code, 400);
    assert!(e.message.contains("quantities must match"), "{}", e.message);
}

#[tokio::test]
async fn pod_updates_may_only_change_images() {
    let (_s, client) = start().await;
    let pods: Api<Pod> = Api::namespaced(client, NS);
    let pp = PostParams::default();
    let created = pods
        .create(
            &pp,
            &pod(
                "web",
                vec![
                    with_port(container("web", "nginx:1.25"), 80),
                    container("log", "busybox"),
                ],
            ),
        )
        .await
        .unwrap();

    // Duplicate and missing names.
    let e = status(
        pods.create(&pp, &pod("web", vec![container("web", "nginx")]))
            .await,
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(e.message, r#"pods "web" already exists"#);
    let e = status(pods.get("nope").await);
    assert_eq!(
        (e.code, e.message.as_str()),
        (404, r#"pods "nope" not found"#)
    );

    // Image change through replace: allowed, and the kubelet restarts the container.
    let mut edited = created.clone();
    edited.spec.as_mut().unwrap().containers[0].image = Some("nginx:1.26".into());
    edited
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("step".into(), "1".into());
    let replaced = pods.replace("web", &pp, &edited).await.unwrap();
    let cs = &replaced
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    assert_eq!((cs.image.as_str(), cs.restart_count), ("nginx:1.26", 1));

    // The stale copy conflicts.
    let e = status(pods.replace("web", &pp, &edited).await);
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        e.message,
        r#"Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again"#
    );

    // A strategic merge patch merges containers by name (what `kubectl set image` sends).
    let patched = pods
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(
                json!({"spec": {"containers": [{"name": "log", "image": "busybox:1.36"}]}}),
            ),
        )
        .await
        .unwrap();
    let containers = &patched.spec.as_ref().unwrap().containers;
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[1].image.as_deref(), Some("busybox:1.36"));
    assert!(containers[0].ports.is_some());

    // Anything else in the spec is refused.
    let mut ported = patched.clone();
    ported.spec.as_mut().unwrap().containers[0]
        .ports
        .as_mut()
        .unwrap()[0]
        .container_port = 8080;
    let e = invalid(pods.replace("web", &pp, &ported).await);
    assert!(
        e.starts_with("Pod \"web\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"),
        "{e}"
    );
    let mut grown = patched.clone();
    grown
        .spec
        .as_mut()
        .unwrap()
        .containers
        .push(container("third", "nginx"));
    assert_eq!(
        invalid(pods.replace("web", &pp, &grown).await),
        r#"Pod "web" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers"#
    );
    // A PUT of a freshly built pod drops what the server filled in (node, token volume):
    // a real server refuses it the same way.
    let mut fresh = pod(
        "web",
        vec![
            with_port(container("web", "nginx:1.26"), 80),
            container("log", "busybox:1.36"),
        ],
    );
    fresh.metadata.resource_version = patched.metadata.resource_version.clone();
    assert!(
        invalid(pods.replace("web", &pp, &fresh).await)
            .contains("pod updates may not change fields other than")
    );

    // Status cannot be written through the main resource.
    let mut faked = patched.clone();
    faked.status.as_mut().unwrap().phase = Some("Failed".into());
    faked
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("step".into(), "2".into());
    let kept = pods.replace("web", &pp, &faked).await.unwrap();
    assert_eq!(kept.status.unwrap().phase.as_deref(), Some("Running"));

    // DELETE answers with the pod marked for graceful deletion; the fake kubelet is quick.
    let gone = pods
        .delete("web", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("pod delete returns the pod");
    assert!(gone.metadata.deletion_timestamp.is_some());
    assert_eq!(gone.metadata.deletion_grace_period_seconds, Some(30));
    assert_eq!(status(pods.get("web").await).code, 404);
}

#[tokio::test]
async fn services_get_defaults_and_allocated_addresses() {
    let (_s, client) = start().await;
    let svcs: Api<Service> = Api::namespaced(client, NS);
    let pp = PostParams::default();
    let web = svcs
        .create(&pp, &service("web", &[(None, 80)]))
        .await
        .unwrap();
    let spec = web.spec.as_ref().unwrap();
    assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
    assert_eq!(spec.session_affinity.as_deref(), Some("None"));
    let ip = spec.cluster_ip.clone().unwrap();
    assert!(ip.starts_with("10.96."), "{ip}");
    assert_eq!(spec.cluster_ips.as_deref(), Some(&[ip.clone()][..]));
    assert_eq!(spec.ip_families.as_deref(), Some(&["IPv4".to_owned()][..]));
    assert_eq!(spec.ip_family_policy.as_deref(), Some("SingleStack"));
    assert_eq!(spec.internal_traffic_policy.as_deref(), Some("Cluster"));
    let port = &spec.ports.as_ref().unwrap()[0];
    assert_eq!(port.protocol.as_deref(), Some("TCP"));
    assert_eq!(port.target_port, Some(IntOrString::Int(80)));
    assert!(web.status.unwrap().load_balancer.is_some());

    // Every service gets its own address; NodePort services get a node port.
    let api = svcs
        .create(&pp, &service("api", &[(None, 8080)]))
        .await
        .unwrap();
    assert_ne!(api.spec.unwrap().cluster_ip.unwrap(), ip);
    let mut np = service("np", &[(Some("http"), 80), (Some("https"), 443)]);
    np.spec.as_mut().unwrap().type_ = Some("NodePort".into());
    let np = svcs.create(&pp, &np).await.unwrap();
    let spec = np.spec.unwrap();
    assert_eq!(spec.external_traffic_policy.as_deref(), Some("Cluster"));
    let node_ports: Vec<i32> = spec
        .ports
        .unwrap()
        .iter()
        .map(|p| p.node_port.unwrap())
        .collect();
    assert!(
        node_ports.iter().all(|p| (30000..=32767).contains(p)),
        "{node_ports:?}"
    );
    assert_ne!(node_ports[0], node_ports[1]);

    // Static cluster IPs: in range and free.
    let with_ip = |name: &str, ip: &str| {
        let mut s = service(name, &[(None, 80)]);
        s.spec.as_mut().unwrap().cluster_ip = Some(ip.into());
        s
    };
    let fixed = svcs
        .create(&pp, &with_ip("fixed", "10.96.0.50"))
        .await
        .unwrap();
    assert_eq!(
        fixed.spec.unwrap().cluster_ips,
        Some(vec!["10.96.0.50".to_owned()])
    );
    assert_eq!(
        invalid(svcs.create(&pp, &with_ip("again", "10.96.0.50")).await),
        r#"Service "again" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.50"}: failed to allocate IP 10.96.0.50: provided IP is already allocated"#
    );
    assert_eq!(
        invalid(svcs.create(&pp, &with_ip("far", "192.168.0.1")).await),
        r#"Service "far" is invalid: spec.clusterIPs: Invalid value: []string{"192.168.0.1"}: failed to allocate IP 192.168.0.1: the provided IP (192.168.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"#
    );
    // Deleting a service (answered with the service) frees its address.
    let deleted = svcs
        .delete("fixed", &DeleteParams::default())
        .await
        .unwrap();
    assert!(deleted.is_left());
    svcs.create(&pp, &with_ip("again", "10.96.0.50"))
        .await
        .unwrap();

    // Headless services need no ports.
    let mut headless = service("headless", &[]);
    headless.spec.as_mut().unwrap().cluster_ip = Some("None".into());
    let headless = svcs.create(&pp, &headless).await.unwrap();
    assert_eq!(
        headless.spec.unwrap().cluster_ips,
        Some(vec!["None".to_owned()])
    );
}

#[tokio::test]
async fn service_updates_keep_the_cluster_ip() {
    let (_s, client) = start().await;
    let svcs: Api<Service> = Api::namespaced(client, NS);
    let pp = PostParams::default();
    let created = svcs
        .create(
            &pp,
            &service("web", &[(Some("http"), 80), (Some("https"), 443)]),
        )
        .await
        .unwrap();
    let ip = created.spec.as_ref().unwrap().cluster_ip.clone();

    // A PUT of the object as first written (no clusterIP) keeps the allocated one.
    let mut resubmitted = service("web", &[(Some("http"), 80), (Some("https"), 443)]);
    resubmitted.metadata.resource_version = created.metadata.resource_version.clone();
    resubmitted.metadata.labels = Some(BTreeMap::from([("v".to_owned(), "2".to_owned())]));
    let replaced = svcs.replace("web", &pp, &resubmitted).await.unwrap();
    assert_eq!(replaced.spec.as_ref().unwrap().cluster_ip, ip);

    // Changing it is refused.
    let mut moved = replaced.clone();
    let spec = moved.spec.as_mut().unwrap();
    spec.cluster_ip = Some("10.96.0.99".into());
    spec.cluster_ips = Some(vec!["10.96.0.99".into()]);
    assert_eq!(
        invalid(svcs.replace("web", &pp, &moved).await),
        r#"Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: may not change once set"#
    );
    let e = status(svcs.replace("web", &pp, &resubmitted).await);
    assert_eq!(e.code, 409);
    assert_eq!(
        e.message,
        r#"Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again"#
    );

    // Strategic merge patches merge ports by port number.
    let patched = svcs
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"ports": [{"port": 443, "targetPort": 8443}]}})),
        )
        .await
        .unwrap();
    let ports = patched.spec.unwrap().ports.unwrap();
    assert_eq!(ports.len(), 2);
    assert_eq!(ports[1].name.as_deref(), Some("https"));
    assert_eq!(ports[1].target_port, Some(IntOrString::Int(8443)));

    // Becoming a NodePort service allocates node ports, and keeps the cluster IP.
    let np = svcs
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"type": "NodePort"}})),
        )
        .await
        .unwrap();
    let spec = np.spec.unwrap();
    assert_eq!(spec.cluster_ip, ip);
    assert!(spec.ports.unwrap().iter().all(|p| p.node_port.is_some()));
}

#[tokio::test]
async fn service_validation_messages() {
    let (_s, client) = start().await;
    let svcs: Api<Service> = Api::namespaced(client, NS);
    let pp = PostParams::default();
    let typed = |name: &str, t: &str| {
        let mut s = service(name, &[(None, 80)]);
        s.spec.as_mut().unwrap().type_ = Some(t.into());
        s
    };
    let mut bad_selector = service("web", &[(None, 80)]);
    bad_selector.spec.as_mut().unwrap().selector =
        Some(BTreeMap::from([("bad key".to_owned(), "web".to_owned())]));
    let mut external = typed("web", "ExternalName");
    external.spec.as_mut().unwrap().ports = None;
    let cases: Vec<(Service, &str)> = vec![
        (
            service("web", &[]),
            r#"Service "web" is invalid: spec.ports: Required value"#,
        ),
        (
            service("web", &[(None, 70000)]),
            r#"Service "web" is invalid: [spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive]"#,
        ),
        (
            service("web", &[(Some("http"), 80), (None, 443)]),
            r#"Service "web" is invalid: spec.ports[1].name: Required value"#,
        ),
        (
            service("web", &[(Some("http"), 80), (Some("http"), 443)]),
            r#"Service "web" is invalid: spec.ports[1].name: Duplicate value: "http""#,
        ),
        (
            service("web", &[(Some("a"), 80), (Some("b"), 80)]),
            r#"Service "web" is invalid: spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}"#,
        ),
        (
            typed("web", "Sideways"),
            r#"Service "web" is invalid: spec.type: Unsupported value: "Sideways": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort""#,
        ),
        (
            external,
            r#"Service "web" is invalid: spec.externalName: Required value"#,
        ),
    ];
    for (s, want) in cases {
        assert_eq!(invalid(svcs.create(&pp, &s).await), want);
    }
    let e = invalid(svcs.create(&pp, &bad_selector).await);
    assert!(
        e.starts_with(r#"Service "web" is invalid: spec.selector: Invalid value: "bad key": name part must consist of"#),
        "{e}"
    );
    // Service names are DNS-1035 labels: no leading digit, no dots.
    let e = invalid(svcs.create(&pp, &service("1web", &[(None, 80)])).await);
    assert!(
        e.starts_with(r#"Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character"#),
        "{e}"
    );
    assert_eq!(
        invalid(svcs.create(&pp, &service("a.b", &[(None, 80)])).await)
            .split(": ")
            .nth(1),
        Some("metadata.name")
    );
    let mut node_port = service("web", &[(None, 80)]);
    node_port.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].node_port = Some(30080);
    assert_eq!(
        invalid(svcs.create(&pp, &node_port).await),
        "Service \"web\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    );
}

#[tokio::test]
async fn replication_controllers_get_defaults_and_a_reporting_controller() {
    let (_s, client) = start().await;
    let rcs: Api<ReplicationController> = Api::namespaced(client, NS);
    let pp = PostParams::default();
    let created = rcs
        .create(
            &pp,
            &rc(
                "web",
                None,
                vec![
                    with_port(container("web", "nginx:1.25"), 80),
                    container("log", "busybox"),
                ],
            ),
        )
        .await
        .unwrap();
    let spec = created.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(1));
    let app_web = BTreeMap::from([("app".to_owned(), "web".to_owned())]);
    assert_eq!(spec.selector.as_ref(), Some(&app_web));
    assert_eq!(created.metadata.labels.as_ref(), Some(&app_web));
    let template = spec.template.as_ref().unwrap().spec.as_ref().unwrap();
    assert_eq!(template.restart_policy.as_deref(), Some("Always"));
    assert_eq!(template.dns_policy.as_deref(), Some("ClusterFirst"));
    assert_eq!(
        template.containers[0].image_pull_policy.as_deref(),
        Some("IfNotPresent")
    );
    // Templates are not admitted as pods: no token volume, no node.
    assert!(template.volumes.is_none() && template.node_name.is_none());
    assert_eq!(created.metadata.generation, Some(1));
    let st = created.status.as_ref().unwrap();
    assert_eq!(
        (
            st.replicas,
            st.ready_replicas,
            st.available_replicas,
            st.observed_generation
        ),
        (1, Some(1), Some(1), Some(1))
    );

    // Scaling with a merge patch: new generation, the controller catches up.
    let scaled = rcs
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    let st = scaled.status.as_ref().unwrap();
    assert_eq!(scaled.metadata.generation, Some(2));
    assert_eq!(
        (st.replicas, st.ready_replicas, st.observed_generation),
        (3, Some(3), Some(2))
    );

    // A strategic merge patch changes one template container by name.
    let patched = rcs
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "nginx:1.26"}]}}}})),
        )
        .await
        .unwrap();
    let containers = &patched
        .spec
        .as_ref()
        .unwrap()
        .template
        .as_ref()
        .unwrap()
        .spec
        .as_ref()
        .unwrap()
        .containers;
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0].image.as_deref(), Some("nginx:1.26"));
    assert!(containers[0].ports.is_some());

    // Replace to zero replicas: only `replicas: 0` is reported.
    let mut zero = patched.clone();
    zero.spec.as_mut().unwrap().replicas = Some(0);
    let zero = rcs.replace("web", &pp, &zero).await.unwrap();
    let st = zero.status.as_ref().unwrap();
    assert_eq!((st.replicas, st.ready_replicas), (0, None));
    let e = status(rcs.replace("web", &pp, &patched).await);
    assert_eq!(
        e.message,
        r#"Operation cannot be fulfilled on replicationcontrollers "web": the object has been modified; please apply your changes to the latest version and try again"#
    );

    // The scale subresource.
    let scale = rcs.get_scale("web").await.unwrap();
    assert_eq!(
        scale.status.as_ref().unwrap().selector.as_deref(),
        Some("app=web")
    );
    let five = rcs
        .replace_scale(
            "web",
            &pp,
            &Scale {
                metadata: scale.metadata.clone(),
                spec: Some(ScaleSpec { replicas: Some(5) }),
                status: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(five.spec.unwrap().replicas, Some(5));
    assert_eq!(
        rcs.get("web").await.unwrap().spec.unwrap().replicas,
        Some(5)
    );
    let two = rcs
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(two.status.unwrap().replicas, 2);
    assert_eq!(
        invalid(
            rcs.patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": -1}})),
            )
            .await
        ),
        r#"Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#
    );
    let stale = Scale {
        metadata: scale.metadata,
        spec: Some(ScaleSpec { replicas: Some(1) }),
        status: None,
    };
    assert_eq!(
        status(rcs.replace_scale("web", &pp, &stale).await).code,
        409
    );

    // DELETE orphans by default (core/v1 compatibility): the answer carries the finalizer.
    let gone = rcs
        .delete("web", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("an orphaning delete returns the object");
    assert_eq!(gone.metadata.finalizers, Some(vec!["orphan".to_owned()]));
    assert!(gone.metadata.deletion_timestamp.is_some());
    assert_eq!(status(rcs.get("web").await).code, 404);
    // With background propagation it is deleted at once and answered with a Status.
    rcs.create(&pp, &rc("web", Some(1), vec![container("web", "nginx")]))
        .await
        .unwrap();
    let background = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..DeleteParams::default()
    };
    assert!(rcs.delete("web", &background).await.unwrap().is_right());
}

#[tokio::test]
async fn replication_controller_validation_messages() {
    let (_s, client) = start().await;
    let rcs: Api<ReplicationController> = Api::namespaced(client, NS);
    let pp = PostParams::default();
    let mut mismatched = rc("web", Some(1), vec![container("web", "nginx")]);
    mismatched.spec.as_mut().unwrap().selector =
        Some(BTreeMap::from([("app".to_owned(), "api".to_owned())]));
    let no_template = ReplicationController {
        metadata: meta("web", &[]),
        spec: Some(ReplicationControllerSpec::default()),
        ..ReplicationController::default()
    };
    let mut never = rc("web", Some(1), vec![container("web", "nginx")]);
    never
        .spec
        .as_mut()
        .unwrap()
        .template
        .as_mut()
        .unwrap()
        .spec
        .as_mut()
        .unwrap()
        .restart_policy = Some("Never".into());
    let cases: Vec<(ReplicationController, &str)> = vec![
        (
            mismatched,
            r#"ReplicationController "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#,
        ),
        (
            rc("web", Some(-1), vec![container("web", "nginx")]),
            r#"ReplicationController "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#,
        ),
        (
            no_template,
            r#"ReplicationController "web" is invalid: [spec.selector: Required value, spec.template: Required value]"#,
        ),
        (
            rc("web", Some(1), vec![container("web", "")]),
            r#"ReplicationController "web" is invalid: spec.template.spec.containers[0].image: Required value"#,
        ),
        (
            rc("web", Some(1), vec![]),
            r#"ReplicationController "web" is invalid: spec.template.spec.containers: Required value"#,
        ),
        (
            never,
            r#"ReplicationController "web" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always""#,
        ),
    ];
    for (r, want) in cases {
        assert_eq!(invalid(rcs.create(&pp, &r).await), want);
    }
}

#[tokio::test]
async fn namespace_deletion_removes_workloads() {
    let (_s, client) = start().await;
    let pp = PostParams::default();
    Api::<Pod>::namespaced(client.clone(), NS)
        .create(&pp, &pod("web", vec![container("web", "nginx")]))
        .await
        .unwrap();
    let mut fixed = service("web", &[(None, 80)]);
    fixed.spec.as_mut().unwrap().cluster_ip = Some("10.96.0.77".into());
    Api::<Service>::namespaced(client.clone(), NS)
        .create(&pp, &fixed)
        .await
        .unwrap();
    Api::<ReplicationController>::namespaced(client.clone(), NS)
        .create(&pp, &rc("web", Some(2), vec![container("web", "nginx")]))
        .await
        .unwrap();
    Api::<Namespace>::all(client.clone())
        .delete(NS, &DeleteParams::default())
        .await
        .unwrap();
    let lp = ListParams::default();
    assert!(
        Api::<Pod>::all(client.clone())
            .list(&lp)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        Api::<Service>::all(client.clone())
            .list(&lp)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        Api::<ReplicationController>::all(client.clone())
            .list(&lp)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // The address went with the service.
    Api::<Service>::namespaced(client.clone(), "default")
        .create(&pp, &fixed)
        .await
        .unwrap();
}
