//! Pods, services and rcs from manifests, in the bay's namespace with the bay's own
//! credential, showing what the cluster reports; and what other callers cannot do.

use k8s_openapi::api::core::v1::{Pod, ReplicationController, Service};
use kube::Api;
use magnum_proto::k8s::v1 as pb;
use tonic::Code;

use crate::harness::{World, admin, inline, reference};

const POD: &str = "
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

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|path| (*path).to_owned()).collect(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn pod_lifecycle() {
    let world = World::start().await;
    let alice = world.alice.clone();
    let bay = world.bay(&alice, "kubernetes").await;
    let namespace = format!("magnum-{bay}");

    let created = world.create_pod(&alice, &bay, POD).await.unwrap();
    assert_eq!(created.name, "redis-master");
    assert_eq!(created.images, ["redis"]);
    assert_eq!(created.labels["name"], "redis-master");
    assert_eq!(created.bay_uuid, bay);
    assert_eq!(
        created.manifest.as_deref(),
        Some(POD),
        "create echoes the manifest"
    );
    // The cluster has it in the bay's namespace, with the status it reports.
    let pods: Api<Pod> = Api::namespaced(world.admin_client().await, &namespace);
    let live = pods.get("redis-master").await.unwrap();
    assert_eq!(
        created.status,
        live.status.as_ref().and_then(|status| status.phase.clone())
    );
    assert_eq!(
        created.host,
        live.spec.as_ref().and_then(|spec| spec.node_name.clone())
    );

    let got = world.get_pod(&alice, &created.uuid).await.unwrap();
    assert_eq!(got.manifest, None, "reads echo no manifest");
    assert_eq!(got.status, created.status);
    let by_name = world.get_pod(&alice, "redis-master").await.unwrap();
    assert_eq!(by_name.uuid, created.uuid);
    let listed = world.list_pods(&alice, &bay).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(world.list_pods(&alice, "").await.len(), 1);

    // A description is stored; a new manifest replaces the pod (images may change).
    let updated = world
        .pods()
        .update_pod(magnum_grpc::client::request(
            &alice,
            pb::UpdatePodRequest {
                r#ref: Some(reference(&created.uuid)),
                update: Some(pb::PodUpdate {
                    manifest: Some(inline(&POD.replace("image: redis", "image: redis:7"))),
                    desc: Some("the master".to_owned()),
                }),
                update_mask: mask(&["manifest", "desc"]),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.images, ["redis:7"]);
    assert_eq!(updated.desc.as_deref(), Some("the master"));
    let live = pods.get("redis-master").await.unwrap();
    assert_eq!(
        live.spec.unwrap().containers[0].image.as_deref(),
        Some("redis:7")
    );

    // Another project sees nothing of it.
    let bob = world.bob.clone();
    for ident in [created.uuid.as_str(), "redis-master"] {
        let hidden = world.get_pod(&bob, ident).await.unwrap_err();
        assert_eq!(hidden.code(), Code::NotFound, "{hidden:?}");
        let refused = world.delete_pod(&bob, ident).await.unwrap_err();
        assert_eq!(refused.code(), Code::NotFound);
    }
    assert!(world.list_pods(&bob, "").await.is_empty());
    let foreign_bay = world.create_pod(&bob, &bay, POD).await.unwrap_err();
    assert_eq!(foreign_bay.code(), Code::InvalidArgument, "{foreign_bay:?}");
    assert!(foreign_bay.message().contains("could not be found"));
    // An admin reads it.
    world.get_pod(&admin(), &created.uuid).await.unwrap();

    world.delete_pod(&alice, "redis-master").await.unwrap();
    assert!(pods.get_opt("redis-master").await.unwrap().is_none());
    let gone = world.get_pod(&alice, &created.uuid).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test(flavor = "multi_thread")]
async fn services_show_their_ports_selector_and_cluster_ip() {
    let world = World::start().await;
    let alice = world.alice.clone();
    let bay = world.bay(&alice, "kubernetes").await;
    let manifest = r#"{"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "redis", "labels": {"name": "redis"}},
        "spec": {"selector": {"name": "redis-master"},
                 "ports": [{"port": 88, "targetPort": 6379, "protocol": "TCP"}]}}"#;
    let created = world
        .services()
        .create_coe_service(magnum_grpc::client::request(
            &alice,
            pb::CreateCoeServiceRequest {
                bay_uuid: bay.clone(),
                manifest: Some(inline(manifest)),
                uuid: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.name, "redis");
    assert_eq!(created.selector["name"], "redis-master");
    assert!(created.ip.is_some(), "{created:?}");
    let port = magnum_proto::json::from_struct(&created.ports[0]);
    assert_eq!(port["port"], 88);
    assert_eq!(port["targetPort"], 6379);
    let services: Api<Service> =
        Api::namespaced(world.admin_client().await, &format!("magnum-{bay}"));
    let live = services.get("redis").await.unwrap();
    assert_eq!(created.ip, live.spec.unwrap().cluster_ip);

    let listed = world
        .services()
        .list_coe_services(magnum_grpc::client::request(
            &alice,
            pb::ListCoeServicesRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .services;
    assert_eq!(listed.len(), 1);
    world
        .services()
        .delete_coe_service(magnum_grpc::client::request(
            &alice,
            pb::DeleteCoeServiceRequest {
                r#ref: Some(reference("redis")),
            },
        ))
        .await
        .unwrap();
    assert!(services.get_opt("redis").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn replication_controllers_scale() {
    let world = World::start().await;
    let alice = world.alice.clone();
    let bay = world.bay(&alice, "kubernetes").await;
    let manifest = "
apiVersion: v1
kind: ReplicationController
metadata:
  name: web
spec:
  replicas: 2
  selector:
    app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx
";
    let created = world
        .rcs()
        .create_replication_controller(magnum_grpc::client::request(
            &alice,
            pb::CreateReplicationControllerRequest {
                bay_uuid: bay.clone(),
                manifest: Some(inline(manifest)),
                uuid: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.replicas, 2);
    assert_eq!(created.images, ["nginx"]);
    assert_eq!(created.labels["app"], "web");

    let scaled = world
        .rcs()
        .update_replication_controller(magnum_grpc::client::request(
            &alice,
            pb::UpdateReplicationControllerRequest {
                r#ref: Some(reference("web")),
                update: Some(pb::ReplicationControllerUpdate {
                    manifest: None,
                    replicas: 3,
                }),
                update_mask: mask(&["replicas"]),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(scaled.replicas, 3);
    let rcs: Api<ReplicationController> =
        Api::namespaced(world.admin_client().await, &format!("magnum-{bay}"));
    assert_eq!(
        rcs.get("web").await.unwrap().spec.unwrap().replicas,
        Some(3)
    );

    // A bay's deletion takes its objects along, in the cluster and in the records.
    world.delete_bay(&alice, &bay).await;
    let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
    loop {
        let got = world
            .rcs()
            .get_replication_controller(magnum_grpc::client::request(
                &alice,
                pb::GetReplicationControllerRequest {
                    r#ref: Some(reference(&created.uuid)),
                },
            ))
            .await;
        if got
            .as_ref()
            .is_err_and(|status| status.code() == Code::NotFound)
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{got:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(rcs.get_opt("web").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_manifests_and_cluster_refusals() {
    let world = World::start().await;
    let alice = world.alice.clone();
    let bay = world.bay(&alice, "kubernetes").await;

    for (manifest, expected) in [
        ("kind: Service\nmetadata: {name: x}", "expecting a Pod"),
        ("a: [unclosed", "not valid YAML"),
        (
            "metadata: {name: x, namespace: kube-system}\nspec: {containers: [{name: a, image: b}]}",
            "kube-system",
        ),
        (
            "metadata: {name: x}\nspec: {containers: []}",
            "spec['containers']",
        ),
    ] {
        let refused = world.create_pod(&alice, &bay, manifest).await.unwrap_err();
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{manifest}: {refused:?}"
        );
        assert!(
            refused.message().contains(expected),
            "{manifest}: {refused:?}"
        );
    }
    assert!(
        world.list_pods(&alice, "").await.is_empty(),
        "no records of refused manifests"
    );

    // The cluster's own refusal passes through, and the pod's record stays as failed.
    let invalid = "metadata: {name: bad}\nspec: {containers: [{name: a}]}";
    let refused = world.create_pod(&alice, &bay, invalid).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("image"), "{refused:?}");
    let failed = world.get_pod(&alice, "bad").await.unwrap();
    assert_eq!(failed.status.as_deref(), Some("failed"));

    // A name the namespace already has: 409, and no second record.
    world.create_pod(&alice, &bay, POD).await.unwrap();
    let taken = world.create_pod(&alice, &bay, POD).await.unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists, "{taken:?}");
    assert!(taken.message().contains("already exists"), "{taken:?}");
    assert_eq!(world.list_pods(&alice, &bay).await.len(), 2);

    // manifest_url: only http(s).
    let by_url = world
        .pods()
        .create_pod(magnum_grpc::client::request(
            &alice,
            pb::CreatePodRequest {
                bay_uuid: bay.clone(),
                manifest: Some(pb::ManifestSource {
                    manifest: None,
                    manifest_url: Some("file:///etc/passwd".to_owned()),
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(by_url.code(), Code::InvalidArgument);
    assert!(by_url.message().contains("scheme"), "{by_url:?}");
}

/// Serves `/pod.yaml` (a pod manifest), `/huge.yaml` (over the size limit) and 404s.
async fn manifest_server() -> String {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/pod.yaml",
            get(|| async { POD.replace("redis-master", "fetched") }),
        )
        .route("/huge.yaml", get(|| async { "#".repeat(4096) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn manifests_by_url_are_fetched_within_limits() {
    let world = World::start_with(|config| config.max_manifest_size = 2048).await;
    let alice = world.alice.clone();
    let bay = world.bay(&alice, "kubernetes").await;
    let server = manifest_server().await;
    let by_url = |url: String| pb::CreatePodRequest {
        bay_uuid: bay.clone(),
        manifest: Some(pb::ManifestSource {
            manifest: None,
            manifest_url: Some(url),
        }),
        ..Default::default()
    };

    let fetched = world
        .pods()
        .create_pod(magnum_grpc::client::request(
            &alice,
            by_url(format!("{server}/pod.yaml")),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched.name, "fetched");
    assert_eq!(
        fetched.manifest_url.as_deref(),
        Some(format!("{server}/pod.yaml").as_str())
    );
    for (path, expected) in [("/huge.yaml", "larger than"), ("/missing", "404")] {
        let refused = world
            .pods()
            .create_pod(magnum_grpc::client::request(
                &alice,
                by_url(format!("{server}{path}")),
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert!(refused.message().contains(expected), "{path}: {refused:?}");
    }
    // Too large inline as well.
    let huge = world
        .create_pod(&alice, &bay, &format!("{POD}\n#{}", "x".repeat(4096)))
        .await
        .unwrap_err();
    assert_eq!(huge.code(), Code::InvalidArgument);
    assert!(huge.message().contains("too large"), "{huge:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn manifest_urls_can_be_turned_off() {
    let world = World::start_with(|config| config.manifest_url_enabled = false).await;
    let alice = world.alice.clone();
    let bay = world.bay(&alice, "kubernetes").await;
    let refused = world
        .pods()
        .create_pod(magnum_grpc::client::request(
            &alice,
            pb::CreatePodRequest {
                bay_uuid: bay,
                manifest: Some(pb::ManifestSource {
                    manifest: None,
                    manifest_url: Some("http://127.0.0.1:1/pod.yaml".to_owned()),
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("disabled"), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_complete_kubernetes_bays_take_objects() {
    // No bay worker: bays stay CREATE_IN_PROGRESS.
    let world = World::start_full(
        |bay| {
            bay.worker.enabled = false;
            bay.swarm.engines = vec![magnum_driver_swarm::EngineConfig {
                name: "node-1".to_owned(),
                url: "unix:///nonexistent/docker.sock".to_owned(),
                ..magnum_driver_swarm::EngineConfig::default()
            }];
        },
        |_| {},
    )
    .await;
    let alice = world.alice.clone();
    let kube = world.bay_in_progress(&alice, "kubernetes").await;
    let refused = world.create_pod(&alice, &kube, POD).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        refused.message().contains("CREATE_IN_PROGRESS"),
        "{refused:?}"
    );

    let swarm = world.bay_in_progress(&alice, "swarm").await;
    let refused = world.create_pod(&alice, &swarm, POD).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        refused.message().contains("expecting a kubernetes bay"),
        "{refused:?}"
    );
    let unknown = world
        .create_pod(&alice, &uuid::Uuid::new_v4().to_string(), POD)
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(world.list_pods(&alice, "").await.is_empty());
}
