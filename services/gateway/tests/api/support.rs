//! Fakes and helpers: an in-memory `BayModelService`, `BayService`, `CertificateService`,
//! `NodeService` and `ContainerService`, a no-auth
//! `IdentityService` (it refuses only the token `bad-token`), and a client that calls the
//! router in-process.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use gateway::{AppState, Config};
use http_body_util::BodyExt;
use magnum_common::Shutdown;
use magnum_proto::bay::v1::bay_model_service_server::{BayModelService, BayModelServiceServer};
use magnum_proto::bay::v1::bay_service_server::{BayService, BayServiceServer};
use magnum_proto::bay::v1::certificate_service_server::{
    CertificateService, CertificateServiceServer,
};
use magnum_proto::bay::v1::node_service_server::{NodeService, NodeServiceServer};
use magnum_proto::bay::v1::{
    Bay, BayModel, BayModelSpec, BaySpec, BayStatus, CaCertificate, CreateBayModelRequest,
    CreateBayRequest, CreateBayResponse, CreateNodeRequest, DeleteBayModelRequest,
    DeleteBayModelResponse, DeleteBayRequest, DeleteBayResponse, DeleteNodeRequest,
    DeleteNodeResponse, GetBayModelRequest, GetBayRequest, GetCaCertificateRequest, GetNodeRequest,
    ListBayModelsRequest, ListBayModelsResponse, ListBaysRequest, ListBaysResponse,
    ListNodesRequest, ListNodesResponse, Node, NodeSpec, RotateCaRequest, RotateCaResponse,
    SignCertificateRequest, SignedCertificate, UpdateBayModelRequest, UpdateBayRequest,
    UpdateBayResponse, UpdateNodeRequest,
};
use magnum_proto::common::v1::{ListOptions, OperationRef};
use magnum_proto::container::v1::container_service_server::{
    ContainerService, ContainerServiceServer,
};
use magnum_proto::container::v1::{
    Container, ContainerActionRequest, ContainerSpec, ContainerStatus, CreateContainerRequest,
    DeleteContainerRequest, DeleteContainerResponse, ExecuteInContainerRequest,
    ExecuteInContainerResponse, GetContainerLogsRequest, GetContainerLogsResponse,
    GetContainerRequest, ListContainersRequest, ListContainersResponse, StopContainerRequest,
    UpdateContainerRequest,
};
use magnum_proto::identity::v1::identity_service_server::{IdentityService, IdentityServiceServer};
use magnum_proto::identity::v1::{Identity, ValidateTokenRequest, ValidateTokenResponse};
use serde_json::Value;
use tonic::{Request as GrpcRequest, Response as GrpcResponse, Status};
use tower::ServiceExt;

/// The one token the fake identity service refuses.
pub const BAD_TOKEN: &str = "bad-token";

/// What a fake service saw, for assertions; `U` is its update request.
pub struct Recorded<U> {
    pub updates: Vec<U>,
    /// `(x-auth-token, x-openstack-request-id)` of the last call.
    pub last_metadata: Option<(String, String)>,
    pub calls: Vec<&'static str>,
}

impl<U> Default for Recorded<U> {
    fn default() -> Self {
        Self {
            updates: Vec::new(),
            last_metadata: None,
            calls: Vec::new(),
        }
    }
}

impl<U> Recorded<U> {
    fn record<T>(&mut self, call: &'static str, request: &GrpcRequest<T>) {
        let text = |key: &str| {
            request
                .metadata()
                .get(key)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        self.last_metadata = Some((text("x-auth-token"), text("x-openstack-request-id")));
        self.calls.push(call);
    }
}

/// Counts of calls by kind, for "no backend call was made" assertions.
pub fn calls<U>(recorded: &Mutex<Recorded<U>>) -> HashMap<&'static str, usize> {
    let mut counts = HashMap::new();
    for call in &recorded.lock().unwrap().calls {
        *counts.entry(*call).or_insert(0) += 1;
    }
    counts
}

/// One page of `items` (already sorted) after the `page_token` item, with the token of
/// the next page when the page is full, as bay-svc pages.
fn paginate<T: Clone>(
    items: &[T],
    options: &ListOptions,
    uuid: impl Fn(&T) -> &str,
    kind: &str,
) -> Result<(Vec<T>, String), Status> {
    let start = if options.page_token.is_empty() {
        0
    } else {
        let position = items
            .iter()
            .position(|item| uuid(item) == options.page_token)
            .ok_or_else(|| {
                Status::not_found(format!("{kind} {} could not be found.", options.page_token))
            })?;
        position + 1
    };
    let size = if options.page_size == 0 {
        1000
    } else {
        options.page_size as usize
    };
    let page: Vec<T> = items.iter().skip(start).take(size).cloned().collect();
    let next_page_token = if page.len() == size {
        page.last()
            .map(|item| uuid(item).to_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok((page, next_page_token))
}

/// bay-svc's lookup of a uuid or name: one match, NOT_FOUND, or ALREADY_EXISTS for a name
/// several objects have. `kind` is the message's name (`Baymodel`, `Bay`).
fn find_by_ident<T: Clone>(
    items: &[T],
    ident: &str,
    kind: &str,
    uuid: impl Fn(&T) -> &str,
    name: impl Fn(&T) -> Option<&str>,
) -> Result<T, Status> {
    if let Some(item) = items.iter().find(|item| uuid(item) == ident) {
        return Ok(item.clone());
    }
    let named: Vec<&T> = items
        .iter()
        .filter(|item| name(item) == Some(ident))
        .collect();
    match named.as_slice() {
        [] => Err(Status::not_found(format!(
            "{kind} {ident} could not be found."
        ))),
        [one] => Ok((*one).clone()),
        _ => {
            let kind = kind.to_lowercase();
            Err(Status::already_exists(format!(
                "Multiple {kind}s exist with same name. Please use the {kind} uuid instead."
            )))
        }
    }
}

/// Sorts `items` (kept in creation order) as `options` ask: by creation order (`id`) or
/// by the one other key a fake knows; then pages them as bay-svc pages.
fn list_page<T: Clone, K: Ord>(
    mut items: Vec<T>,
    options: &ListOptions,
    (key_name, key): (&str, impl Fn(&T) -> K),
    uuid: impl Fn(&T) -> &str,
    kind: &str,
) -> Result<(Vec<T>, String), Status> {
    match options.sort_key.as_str() {
        "" | "id" => {}
        name if name == key_name => items.sort_by_key(|item| key(item)),
        other => return Err(invalid_sort_key(other)),
    }
    if options.sort_dir == "desc" {
        items.reverse();
    }
    paginate(&items, options, uuid, kind)
}

fn invalid_sort_key(key: &str) -> Status {
    Status::invalid_argument(format!(
        "The sort_key value \"{key}\" is an invalid field for sorting"
    ))
}

/// An in-memory baymodel store, in creation order.
#[derive(Default)]
pub struct FakeBayModels {
    pub models: Mutex<Vec<BayModel>>,
    pub recorded: Mutex<Recorded<UpdateBayModelRequest>>,
}

impl FakeBayModels {
    fn record<T>(&self, call: &'static str, request: &GrpcRequest<T>) {
        self.recorded.lock().unwrap().record(call, request);
    }

    fn find(&self, ident: &str) -> Result<BayModel, Status> {
        let models = self.models.lock().unwrap();
        find_by_ident(
            &models,
            ident,
            "Baymodel",
            |m| &m.uuid,
            |m| m.name.as_deref(),
        )
    }

    /// Adds a stored baymodel directly (test setup).
    pub fn insert(&self, name: &str) -> BayModel {
        let model = build(
            BayModelSpec {
                name: Some(name.to_owned()),
                coe: Some("swarm".to_owned()),
                image_id: Some("fedora".to_owned()),
                keypair_id: Some("key".to_owned()),
                ..BayModelSpec::default()
            },
            None,
        );
        self.models.lock().unwrap().push(model.clone());
        model
    }
}

fn timestamp(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

/// A stored baymodel from a spec, with bay-svc's defaults.
fn build(spec: BayModelSpec, uuid: Option<String>) -> BayModel {
    let labels = spec.labels.map(|l| l.values).unwrap_or_default();
    BayModel {
        uuid: spec
            .uuid
            .or(uuid)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        name: spec.name,
        coe: spec.coe.unwrap_or_default(),
        image_id: spec.image_id.unwrap_or_default(),
        keypair_id: spec.keypair_id,
        flavor_id: spec.flavor_id,
        master_flavor_id: spec.master_flavor_id,
        dns_nameserver: spec.dns_nameserver,
        external_network_id: spec.external_network_id,
        fixed_network: spec.fixed_network,
        fixed_subnet: spec.fixed_subnet,
        network_driver: spec.network_driver,
        volume_driver: spec.volume_driver,
        apiserver_port: spec.apiserver_port,
        docker_volume_size: spec.docker_volume_size,
        docker_storage_driver: spec.docker_storage_driver,
        ssh_authorized_key: spec.ssh_authorized_key,
        http_proxy: spec.http_proxy,
        https_proxy: spec.https_proxy,
        no_proxy: spec.no_proxy,
        insecure_registry: spec.insecure_registry,
        registry_enabled: spec.registry_enabled.unwrap_or(false),
        cluster_distro: labels.get("os_distro").cloned(),
        labels,
        tls_disabled: spec.tls_disabled.unwrap_or(false),
        public: spec.public.unwrap_or(false),
        server_type: spec.server_type.unwrap_or_else(|| "vm".to_owned()),
        master_lb_enabled: spec.master_lb_enabled.unwrap_or(false),
        floating_ip_enabled: spec.floating_ip_enabled.unwrap_or(true),
        hidden: spec.hidden.unwrap_or(false),
        tags: spec.tags,
        driver: "swarm".to_owned(),
        project_id: "demo".to_owned(),
        user_id: "demo-user".to_owned(),
        created_at: Some(timestamp(1_472_453_491)),
        updated_at: None,
    }
}

/// The stored model as a spec, so an update can rebuild it.
fn spec_of(model: &BayModel) -> BayModelSpec {
    BayModelSpec {
        uuid: Some(model.uuid.clone()),
        name: model.name.clone(),
        coe: Some(model.coe.clone()),
        image_id: Some(model.image_id.clone()),
        keypair_id: model.keypair_id.clone(),
        flavor_id: model.flavor_id.clone(),
        master_flavor_id: model.master_flavor_id.clone(),
        dns_nameserver: model.dns_nameserver.clone(),
        external_network_id: model.external_network_id.clone(),
        fixed_network: model.fixed_network.clone(),
        fixed_subnet: model.fixed_subnet.clone(),
        network_driver: model.network_driver.clone(),
        volume_driver: model.volume_driver.clone(),
        apiserver_port: model.apiserver_port,
        docker_volume_size: model.docker_volume_size,
        docker_storage_driver: model.docker_storage_driver.clone(),
        ssh_authorized_key: model.ssh_authorized_key.clone(),
        http_proxy: model.http_proxy.clone(),
        https_proxy: model.https_proxy.clone(),
        no_proxy: model.no_proxy.clone(),
        insecure_registry: model.insecure_registry.clone(),
        registry_enabled: Some(model.registry_enabled),
        labels: Some(magnum_proto::bay::v1::Labels {
            values: model.labels.clone(),
        }),
        tls_disabled: Some(model.tls_disabled),
        public: Some(model.public),
        server_type: Some(model.server_type.clone()),
        master_lb_enabled: Some(model.master_lb_enabled),
        floating_ip_enabled: Some(model.floating_ip_enabled),
        hidden: Some(model.hidden),
        tags: model.tags.clone(),
    }
}

/// The gRPC face of a shared [`FakeBayModels`].
struct BayModelsServer(Arc<FakeBayModels>);

impl std::ops::Deref for BayModelsServer {
    type Target = FakeBayModels;

    fn deref(&self) -> &FakeBayModels {
        &self.0
    }
}

#[tonic::async_trait]
impl BayModelService for BayModelsServer {
    async fn create_bay_model(
        &self,
        request: GrpcRequest<CreateBayModelRequest>,
    ) -> Result<GrpcResponse<BayModel>, Status> {
        self.record("create", &request);
        let spec = request.into_inner().spec.unwrap_or_default();
        match spec.coe.as_deref() {
            Some("kubernetes" | "swarm") => {}
            other => {
                return Err(Status::invalid_argument(format!(
                    "Requested COE type {} is not supported.",
                    other.unwrap_or_default()
                )));
            }
        }
        let model = build(spec, None);
        self.models.lock().unwrap().push(model.clone());
        Ok(GrpcResponse::new(model))
    }

    async fn get_bay_model(
        &self,
        request: GrpcRequest<GetBayModelRequest>,
    ) -> Result<GrpcResponse<BayModel>, Status> {
        self.record("get", &request);
        let ident = request.into_inner().ident;
        // Lets a test catch a request while it is in flight.
        if ident.starts_with("slow") {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        self.find(&ident).map(GrpcResponse::new)
    }

    async fn list_bay_models(
        &self,
        request: GrpcRequest<ListBayModelsRequest>,
    ) -> Result<GrpcResponse<ListBayModelsResponse>, Status> {
        self.record("list", &request);
        let options = request.into_inner().options.unwrap_or_default();
        let models = self.models.lock().unwrap().clone();
        let (page, next_page_token) = list_page(
            models,
            &options,
            ("name", |m| m.name.clone()),
            |m| m.uuid.as_str(),
            "Baymodel",
        )?;
        Ok(GrpcResponse::new(ListBayModelsResponse {
            baymodels: page,
            next_page_token,
        }))
    }

    async fn update_bay_model(
        &self,
        request: GrpcRequest<UpdateBayModelRequest>,
    ) -> Result<GrpcResponse<BayModel>, Status> {
        self.record("update", &request);
        let update = request.into_inner();
        self.recorded.lock().unwrap().updates.push(update.clone());
        let current = self.find(&update.ident)?;
        let mut spec = spec_of(&current);
        let new = update.spec.unwrap_or_default();
        for path in update.update_mask.map(|m| m.paths).unwrap_or_default() {
            match path.as_str() {
                "name" => spec.name = new.name.clone(),
                "labels" => spec.labels = new.labels.clone(),
                "docker_volume_size" => spec.docker_volume_size = new.docker_volume_size,
                "public" => spec.public = new.public,
                "flavor_id" => spec.flavor_id = new.flavor_id.clone(),
                "tags" => spec.tags = new.tags.clone(),
                other => return Err(Status::invalid_argument(format!("fake: mask {other}"))),
            }
        }
        let mut model = build(spec, Some(current.uuid.clone()));
        model.updated_at = Some(timestamp(1_472_453_600));
        let mut models = self.models.lock().unwrap();
        if let Some(slot) = models.iter_mut().find(|m| m.uuid == current.uuid) {
            *slot = model.clone();
        }
        Ok(GrpcResponse::new(model))
    }

    async fn delete_bay_model(
        &self,
        request: GrpcRequest<DeleteBayModelRequest>,
    ) -> Result<GrpcResponse<DeleteBayModelResponse>, Status> {
        self.record("delete", &request);
        let current = self.find(&request.into_inner().ident)?;
        if current.name.as_deref() == Some("in-use") {
            return Err(Status::failed_precondition(format!(
                "Baymodel {} is referenced by one or multiple bays.",
                current.uuid
            )));
        }
        self.models
            .lock()
            .unwrap()
            .retain(|m| m.uuid != current.uuid);
        Ok(GrpcResponse::new(DeleteBayModelResponse {}))
    }
}

/// An in-memory node store, in creation order, with bay-svc's uniqueness rules.
#[derive(Default)]
pub struct FakeNodes {
    pub nodes: Mutex<Vec<Node>>,
    pub recorded: Mutex<Recorded<UpdateNodeRequest>>,
}

impl FakeNodes {
    fn record<T>(&self, call: &'static str, request: &GrpcRequest<T>) {
        self.recorded.lock().unwrap().record(call, request);
    }

    fn find(&self, uuid: &str) -> Result<Node, Status> {
        self.nodes
            .lock()
            .unwrap()
            .iter()
            .find(|n| n.uuid == uuid)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("Node {uuid} could not be found.")))
    }

    /// Adds a stored node directly (test setup).
    pub fn insert(&self, node_type: &str, ironic_node_id: Option<&str>) -> Node {
        let node = node_from(NodeSpec {
            r#type: Some(node_type.to_owned()),
            image_id: Some("fedora".to_owned()),
            ironic_node_id: ironic_node_id.map(str::to_owned),
            ..NodeSpec::default()
        });
        self.nodes.lock().unwrap().push(node.clone());
        node
    }

    /// Magnum's duplicate errors (409 through the gateway).
    fn check_unique(nodes: &[Node], candidate: &Node) -> Result<(), Status> {
        for other in nodes.iter().filter(|n| n.uuid != candidate.uuid) {
            if other.ironic_node_id.is_some() && other.ironic_node_id == candidate.ironic_node_id {
                return Err(Status::already_exists(format!(
                    "Instance {} is already associated with a node, it cannot be associated \
                     with this other node {}",
                    other.ironic_node_id.as_deref().unwrap_or_default(),
                    candidate.uuid
                )));
            }
        }
        Ok(())
    }
}

/// A stored node from a spec.
fn node_from(spec: NodeSpec) -> Node {
    Node {
        uuid: spec
            .uuid
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        r#type: spec.r#type,
        image_id: spec.image_id,
        ironic_node_id: spec.ironic_node_id,
        project_id: "demo".to_owned(),
        user_id: "demo-user".to_owned(),
        created_at: Some(timestamp(1_472_453_491)),
        updated_at: None,
    }
}

/// The gRPC face of a shared [`FakeNodes`].
struct NodesServer(Arc<FakeNodes>);

#[tonic::async_trait]
impl NodeService for NodesServer {
    async fn create_node(
        &self,
        request: GrpcRequest<CreateNodeRequest>,
    ) -> Result<GrpcResponse<Node>, Status> {
        self.0.record("create", &request);
        let node = node_from(request.into_inner().spec.unwrap_or_default());
        let mut nodes = self.0.nodes.lock().unwrap();
        if nodes.iter().any(|n| n.uuid == node.uuid) {
            return Err(Status::already_exists(format!(
                "A node with UUID {} already exists.",
                node.uuid
            )));
        }
        FakeNodes::check_unique(&nodes, &node)?;
        nodes.push(node.clone());
        Ok(GrpcResponse::new(node))
    }

    async fn get_node(
        &self,
        request: GrpcRequest<GetNodeRequest>,
    ) -> Result<GrpcResponse<Node>, Status> {
        self.0.record("get", &request);
        self.0
            .find(&request.into_inner().uuid)
            .map(GrpcResponse::new)
    }

    async fn list_nodes(
        &self,
        request: GrpcRequest<ListNodesRequest>,
    ) -> Result<GrpcResponse<ListNodesResponse>, Status> {
        self.0.record("list", &request);
        let options = request.into_inner().options.unwrap_or_default();
        let nodes = self.0.nodes.lock().unwrap().clone();
        let (page, next_page_token) = list_page(
            nodes,
            &options,
            ("type", |n| n.r#type.clone()),
            |n| n.uuid.as_str(),
            "Node",
        )?;
        Ok(GrpcResponse::new(ListNodesResponse {
            nodes: page,
            next_page_token,
        }))
    }

    async fn update_node(
        &self,
        request: GrpcRequest<UpdateNodeRequest>,
    ) -> Result<GrpcResponse<Node>, Status> {
        self.0.record("update", &request);
        let update = request.into_inner();
        self.0.recorded.lock().unwrap().updates.push(update.clone());
        let mut node = self.0.find(&update.uuid)?;
        let new = update.spec.unwrap_or_default();
        for path in update.update_mask.map(|m| m.paths).unwrap_or_default() {
            match path.as_str() {
                "type" => node.r#type = new.r#type.clone(),
                "image_id" => node.image_id = new.image_id.clone(),
                "ironic_node_id" => node.ironic_node_id = new.ironic_node_id.clone(),
                other => return Err(Status::invalid_argument(format!("fake: mask {other}"))),
            }
        }
        node.updated_at = Some(timestamp(1_472_453_600));
        let mut nodes = self.0.nodes.lock().unwrap();
        FakeNodes::check_unique(&nodes, &node)?;
        if let Some(slot) = nodes.iter_mut().find(|n| n.uuid == node.uuid) {
            *slot = node.clone();
        }
        Ok(GrpcResponse::new(node))
    }

    async fn delete_node(
        &self,
        request: GrpcRequest<DeleteNodeRequest>,
    ) -> Result<GrpcResponse<DeleteNodeResponse>, Status> {
        self.0.record("delete", &request);
        let current = self.0.find(&request.into_inner().uuid)?;
        self.0
            .nodes
            .lock()
            .unwrap()
            .retain(|n| n.uuid != current.uuid);
        Ok(GrpcResponse::new(DeleteNodeResponse {}))
    }
}

/// An in-memory bay store, in creation order, resolving baymodels in the shared
/// [`FakeBayModels`] as bay-svc does.
pub struct FakeBays {
    pub bays: Mutex<Vec<Bay>>,
    pub baymodels: Arc<FakeBayModels>,
    /// The specs of every create.
    pub creates: Mutex<Vec<BaySpec>>,
    pub recorded: Mutex<Recorded<UpdateBayRequest>>,
}

impl FakeBays {
    fn new(baymodels: Arc<FakeBayModels>) -> Self {
        Self {
            bays: Mutex::default(),
            baymodels,
            creates: Mutex::default(),
            recorded: Mutex::default(),
        }
    }

    fn record<T>(&self, call: &'static str, request: &GrpcRequest<T>) {
        self.recorded.lock().unwrap().record(call, request);
    }

    fn find(&self, ident: &str) -> Result<Bay, Status> {
        let bays = self.bays.lock().unwrap();
        find_by_ident(&bays, ident, "Bay", |b| &b.uuid, |b| b.name.as_deref())
    }

    /// Adds a stored bay in `status` directly (test setup), on a new baymodel.
    pub fn insert(&self, name: &str, status: BayStatus) -> Bay {
        let model = self.baymodels.insert(&format!("{name}-model"));
        let mut bay = bay_from(
            BaySpec {
                name: Some(name.to_owned()),
                node_count: Some(1),
                ..BaySpec::default()
            },
            &model,
        );
        bay.set_status(status);
        self.bays.lock().unwrap().push(bay.clone());
        bay
    }
}

/// A stored bay from a spec, with bay-svc's defaults and the baymodel's values for what
/// the spec leaves out.
fn bay_from(spec: BaySpec, model: &BayModel) -> Bay {
    let uuid = uuid::Uuid::new_v4().to_string();
    let mut bay = Bay {
        stack_id: Some(format!("stack-{uuid}")),
        uuid,
        name: spec.name.or_else(|| Some("alpha-1-bay".to_owned())),
        baymodel_id: model.uuid.clone(),
        node_count: spec.node_count.unwrap_or(1),
        master_count: spec.master_count.unwrap_or(1),
        bay_create_timeout: spec.bay_create_timeout.unwrap_or(60),
        discovery_url: spec.discovery_url,
        docker_volume_size: spec.docker_volume_size.or(model.docker_volume_size),
        labels: spec
            .labels
            .map(|l| l.values)
            .unwrap_or_else(|| model.labels.clone()),
        master_flavor_id: spec.master_flavor_id.or(model.master_flavor_id.clone()),
        flavor_id: spec.flavor_id.or(model.flavor_id.clone()),
        keypair: model.keypair_id.clone(),
        fixed_network: spec.fixed_network.or(model.fixed_network.clone()),
        fixed_subnet: spec.fixed_subnet.or(model.fixed_subnet.clone()),
        floating_ip_enabled: spec
            .floating_ip_enabled
            .unwrap_or(model.floating_ip_enabled),
        master_lb_enabled: spec.master_lb_enabled.unwrap_or(model.master_lb_enabled),
        faults: [("default-worker".to_owned(), "boom".to_owned())].into(),
        project_id: "demo".to_owned(),
        user_id: "demo-user".to_owned(),
        created_at: Some(timestamp(1_472_453_491)),
        ..Bay::default()
    };
    bay.set_status(BayStatus::CreateInProgress);
    bay
}

fn operation() -> Option<OperationRef> {
    Some(OperationRef {
        operation_id: uuid::Uuid::new_v4().to_string(),
    })
}

/// The gRPC face of a shared [`FakeBays`].
struct BaysServer(Arc<FakeBays>);

#[tonic::async_trait]
impl BayService for BaysServer {
    async fn create_bay(
        &self,
        request: GrpcRequest<CreateBayRequest>,
    ) -> Result<GrpcResponse<CreateBayResponse>, Status> {
        self.0.record("create", &request);
        let spec = request.into_inner().spec.unwrap_or_default();
        self.0.creates.lock().unwrap().push(spec.clone());
        let model = self.0.baymodels.find(&spec.baymodel_ident)?;
        let bay = bay_from(spec, &model);
        self.0.bays.lock().unwrap().push(bay.clone());
        Ok(GrpcResponse::new(CreateBayResponse {
            bay: Some(bay),
            operation: operation(),
        }))
    }

    async fn get_bay(
        &self,
        request: GrpcRequest<GetBayRequest>,
    ) -> Result<GrpcResponse<Bay>, Status> {
        self.0.record("get", &request);
        self.0
            .find(&request.into_inner().ident)
            .map(GrpcResponse::new)
    }

    async fn list_bays(
        &self,
        request: GrpcRequest<ListBaysRequest>,
    ) -> Result<GrpcResponse<ListBaysResponse>, Status> {
        self.0.record("list", &request);
        let options = request.into_inner().options.unwrap_or_default();
        let bays = self.0.bays.lock().unwrap().clone();
        let (page, next_page_token) = list_page(
            bays,
            &options,
            ("name", |b| b.name.clone()),
            |b| b.uuid.as_str(),
            "Bay",
        )?;
        Ok(GrpcResponse::new(ListBaysResponse {
            bays: page,
            next_page_token,
        }))
    }

    async fn update_bay(
        &self,
        request: GrpcRequest<UpdateBayRequest>,
    ) -> Result<GrpcResponse<UpdateBayResponse>, Status> {
        self.0.record("update", &request);
        let update = request.into_inner();
        self.0.recorded.lock().unwrap().updates.push(update.clone());
        let mut bay = self.0.find(&update.ident)?;
        if bay.name.as_deref() == Some("busy") {
            return Err(Status::failed_precondition(format!(
                "Bay {} already has an operation in progress.",
                bay.uuid
            )));
        }
        if !matches!(
            bay.status(),
            BayStatus::CreateComplete | BayStatus::UpdateComplete
        ) {
            return Err(Status::failed_precondition(format!(
                "Updating a bay when stack status is \"{}\" is not supported.",
                bay.status().as_str_name().trim_start_matches("BAY_STATUS_")
            )));
        }
        bay.node_count = update.node_count;
        bay.updated_at = Some(timestamp(1_472_453_600));
        let mut bays = self.0.bays.lock().unwrap();
        if let Some(slot) = bays.iter_mut().find(|b| b.uuid == bay.uuid) {
            *slot = bay.clone();
        }
        Ok(GrpcResponse::new(UpdateBayResponse {
            bay: Some(bay),
            operation: operation(),
        }))
    }

    async fn delete_bay(
        &self,
        request: GrpcRequest<DeleteBayRequest>,
    ) -> Result<GrpcResponse<DeleteBayResponse>, Status> {
        self.0.record("delete", &request);
        let current = self.0.find(&request.into_inner().ident)?;
        self.0
            .bays
            .lock()
            .unwrap()
            .retain(|b| b.uuid != current.uuid);
        Ok(GrpcResponse::new(DeleteBayResponse {
            operation: operation(),
        }))
    }
}

/// Bay CAs over the shared [`FakeBays`]: the CA of a bay is `CA(<type>) of <uuid>`, a
/// signed certificate `signed(<csr>)`; a bay named `no-tls` has no CA to rotate.
pub struct FakeCertificates {
    pub bays: Arc<FakeBays>,
    pub gets: Mutex<Vec<GetCaCertificateRequest>>,
    pub signs: Mutex<Vec<SignCertificateRequest>>,
    pub rotations: Mutex<Vec<RotateCaRequest>>,
}

/// The CA PEM the fake answers for a bay.
pub fn fake_ca(bay_uuid: &str, ca_cert_type: &str) -> String {
    format!(
        "-----BEGIN CERTIFICATE-----\nCA({ca_cert_type}) of {bay_uuid}\n-----END CERTIFICATE-----\n"
    )
}

/// The PEM the fake signs a CSR into.
pub fn fake_signed(csr: &str) -> String {
    format!("-----BEGIN CERTIFICATE-----\nsigned({csr})\n-----END CERTIFICATE-----\n")
}

/// The gRPC face of a shared [`FakeCertificates`].
struct CertificatesServer(Arc<FakeCertificates>);

#[tonic::async_trait]
impl CertificateService for CertificatesServer {
    async fn get_ca_certificate(
        &self,
        request: GrpcRequest<GetCaCertificateRequest>,
    ) -> Result<GrpcResponse<CaCertificate>, Status> {
        let request = request.into_inner();
        self.0.gets.lock().unwrap().push(request.clone());
        let bay = self.0.bays.find(&request.bay_ident)?;
        Ok(GrpcResponse::new(CaCertificate {
            pem: fake_ca(&bay.uuid, &request.ca_cert_type),
            bay_uuid: bay.uuid,
        }))
    }

    async fn sign_certificate(
        &self,
        request: GrpcRequest<SignCertificateRequest>,
    ) -> Result<GrpcResponse<SignedCertificate>, Status> {
        let request = request.into_inner();
        self.0.signs.lock().unwrap().push(request.clone());
        let bay = self.0.bays.find(&request.bay_ident)?;
        if !request
            .csr
            .starts_with("-----BEGIN CERTIFICATE REQUEST-----")
        {
            return Err(Status::invalid_argument(
                "The CSR is not a PEM certificate signing request.",
            ));
        }
        Ok(GrpcResponse::new(SignedCertificate {
            bay_uuid: bay.uuid,
            pem: fake_signed(&request.csr),
            csr: request.csr,
        }))
    }

    async fn rotate_ca(
        &self,
        request: GrpcRequest<RotateCaRequest>,
    ) -> Result<GrpcResponse<RotateCaResponse>, Status> {
        let request = request.into_inner();
        self.0.rotations.lock().unwrap().push(request.clone());
        let bay = self.0.bays.find(&request.bay_ident)?;
        if bay.name.as_deref() == Some("no-tls") {
            return Err(Status::failed_precondition(format!(
                "Rotating the CA certificate on a non-TLS bay {} is not supported.",
                bay.uuid
            )));
        }
        Ok(GrpcResponse::new(RotateCaResponse {
            bay_uuid: bay.uuid,
            operation: operation(),
        }))
    }
}

/// An in-memory container store, in creation order, resolving bays in the shared
/// [`FakeBays`] as container-svc does (any bay will do: the fake knows no COE).
pub struct FakeContainers {
    pub containers: Mutex<Vec<Container>>,
    pub bays: Arc<FakeBays>,
    /// The specs of every create.
    pub creates: Mutex<Vec<ContainerSpec>>,
    pub deletes: Mutex<Vec<DeleteContainerRequest>>,
    /// `(action, ident)` of every start/stop/reboot/pause/unpause.
    pub actions: Mutex<Vec<(&'static str, String)>>,
    pub executions: Mutex<Vec<ExecuteInContainerRequest>>,
    pub recorded: Mutex<Recorded<UpdateContainerRequest>>,
}

impl FakeContainers {
    fn new(bays: Arc<FakeBays>) -> Self {
        Self {
            containers: Mutex::default(),
            bays,
            creates: Mutex::default(),
            deletes: Mutex::default(),
            actions: Mutex::default(),
            executions: Mutex::default(),
            recorded: Mutex::default(),
        }
    }

    fn record<T>(&self, call: &'static str, request: &GrpcRequest<T>) {
        self.recorded.lock().unwrap().record(call, request);
    }

    fn find(&self, ident: &str) -> Result<Container, Status> {
        let containers = self.containers.lock().unwrap();
        find_by_ident(
            &containers,
            ident,
            "Container",
            |c| &c.uuid,
            |c| c.name.as_deref(),
        )
    }

    fn store(&self, container: &Container) {
        if let Some(slot) = self
            .containers
            .lock()
            .unwrap()
            .iter_mut()
            .find(|c| c.uuid == container.uuid)
        {
            *slot = container.clone();
        }
    }

    /// The stored container with this uuid, if any.
    pub fn find_uuid(&self, uuid: &str) -> Option<Container> {
        self.containers
            .lock()
            .unwrap()
            .iter()
            .find(|c| c.uuid == uuid)
            .cloned()
    }

    /// Adds a stored container in `status` directly (test setup), on a new bay.
    pub fn insert(&self, name: &str, status: ContainerStatus) -> Container {
        let bay = self
            .bays
            .insert(&format!("{name}-bay"), BayStatus::CreateComplete);
        let mut container = container_from(
            ContainerSpec {
                name: Some(name.to_owned()),
                image: "cirros:latest".to_owned(),
                command: Some("sleep 1000".to_owned()),
                ..ContainerSpec::default()
            },
            &bay.uuid,
        );
        container.set_status(status);
        self.containers.lock().unwrap().push(container.clone());
        container
    }

    /// An action that moves the container to `to`; refused (FAILED_PRECONDITION) unless
    /// the container is in one of `from`.
    fn act(
        &self,
        action: &'static str,
        ident: &str,
        from: &[ContainerStatus],
        to: ContainerStatus,
    ) -> Result<GrpcResponse<Container>, Status> {
        self.actions
            .lock()
            .unwrap()
            .push((action, ident.to_owned()));
        let mut container = self.find(ident)?;
        if !from.contains(&container.status()) {
            return Err(Status::failed_precondition(format!(
                "Cannot {action} container {} in {} state.",
                container.uuid,
                container.status().as_str_name()
            )));
        }
        container.set_status(to);
        self.store(&container);
        Ok(GrpcResponse::new(container))
    }
}

/// A stored (stopped) container from a spec, on the bay `bay_uuid`.
fn container_from(spec: ContainerSpec, bay_uuid: &str) -> Container {
    let mut container = Container {
        uuid: spec
            .uuid
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        name: spec.name,
        image: spec.image,
        bay_uuid: bay_uuid.to_owned(),
        command: spec.command,
        memory: spec.memory,
        environment: spec.environment,
        host: Some("swarm-node-0".to_owned()),
        project_id: "demo".to_owned(),
        user_id: "demo-user".to_owned(),
        created_at: Some(timestamp(1_472_453_491)),
        ..Container::default()
    };
    container.set_status(ContainerStatus::Stopped);
    container
}

/// The gRPC face of a shared [`FakeContainers`].
struct ContainersServer(Arc<FakeContainers>);

#[tonic::async_trait]
impl ContainerService for ContainersServer {
    async fn create_container(
        &self,
        request: GrpcRequest<CreateContainerRequest>,
    ) -> Result<GrpcResponse<Container>, Status> {
        self.0.record("create", &request);
        let spec = request.into_inner().spec.unwrap_or_default();
        self.0.creates.lock().unwrap().push(spec.clone());
        if spec.image.is_empty() {
            return Err(Status::invalid_argument("image is required."));
        }
        let bay = self.0.bays.find(&spec.bay_uuid)?;
        let container = container_from(spec, &bay.uuid);
        self.0.containers.lock().unwrap().push(container.clone());
        Ok(GrpcResponse::new(container))
    }

    async fn get_container(
        &self,
        request: GrpcRequest<GetContainerRequest>,
    ) -> Result<GrpcResponse<Container>, Status> {
        self.0.record("get", &request);
        self.0
            .find(&request.into_inner().ident)
            .map(GrpcResponse::new)
    }

    async fn list_containers(
        &self,
        request: GrpcRequest<ListContainersRequest>,
    ) -> Result<GrpcResponse<ListContainersResponse>, Status> {
        self.0.record("list", &request);
        let request = request.into_inner();
        let mut containers = self.0.containers.lock().unwrap().clone();
        if !request.bay_ident.is_empty() {
            let bay = self.0.bays.find(&request.bay_ident)?;
            containers.retain(|c| c.bay_uuid == bay.uuid);
        }
        let (page, next_page_token) = list_page(
            containers,
            &request.options.unwrap_or_default(),
            ("name", |c| c.name.clone()),
            |c| c.uuid.as_str(),
            "Container",
        )?;
        Ok(GrpcResponse::new(ListContainersResponse {
            containers: page,
            next_page_token,
        }))
    }

    async fn update_container(
        &self,
        request: GrpcRequest<UpdateContainerRequest>,
    ) -> Result<GrpcResponse<Container>, Status> {
        self.0.record("update", &request);
        let update = request.into_inner();
        self.0.recorded.lock().unwrap().updates.push(update.clone());
        let mut container = self.0.find(&update.ident)?;
        let new = update.update.unwrap_or_default();
        for path in update.update_mask.map(|m| m.paths).unwrap_or_default() {
            match path.as_str() {
                "name" => container.name = new.name.clone(),
                other => return Err(Status::invalid_argument(format!("fake: mask {other}"))),
            }
        }
        container.updated_at = Some(timestamp(1_472_453_600));
        self.0.store(&container);
        Ok(GrpcResponse::new(container))
    }

    async fn delete_container(
        &self,
        request: GrpcRequest<DeleteContainerRequest>,
    ) -> Result<GrpcResponse<DeleteContainerResponse>, Status> {
        self.0.record("delete", &request);
        let request = request.into_inner();
        self.0.deletes.lock().unwrap().push(request.clone());
        let current = self.0.find(&request.ident)?;
        if current.status() == ContainerStatus::Running && !request.force {
            return Err(Status::failed_precondition(format!(
                "Cannot delete running container {}; stop it first or force.",
                current.uuid
            )));
        }
        self.0
            .containers
            .lock()
            .unwrap()
            .retain(|c| c.uuid != current.uuid);
        Ok(GrpcResponse::new(DeleteContainerResponse {}))
    }

    async fn start_container(
        &self,
        request: GrpcRequest<ContainerActionRequest>,
    ) -> Result<GrpcResponse<Container>, Status> {
        use ContainerStatus::{Running, Stopped};
        self.0.record("start", &request);
        self.0.act(
            "start",
            &request.into_inner().ident,
            &[Stopped, Running],
            Running,
        )
    }

    async fn stop_container(
        &self,
        request: GrpcRequest<StopContainerRequest>,
    ) -> Result<GrpcResponse<Container>, Status> {
        use ContainerStatus::{Running, Stopped};
        self.0.record("stop", &request);
        self.0.act(
            "stop",
            &request.into_inner().ident,
            &[Stopped, Running],
            Stopped,
        )
    }

    async fn reboot_container(
        &self,
        request: GrpcRequest<StopContainerRequest>,
    ) -> Result<GrpcResponse<Container>, Status> {
        use ContainerStatus::{Running, Stopped};
        self.0.record("reboot", &request);
        self.0.act(
            "reboot",
            &request.into_inner().ident,
            &[Stopped, Running],
            Running,
        )
    }

    async fn pause_container(
        &self,
        request: GrpcRequest<ContainerActionRequest>,
    ) -> Result<GrpcResponse<Container>, Status> {
        use ContainerStatus::{Paused, Running};
        self.0.record("pause", &request);
        self.0.act(
            "pause",
            &request.into_inner().ident,
            &[Running, Paused],
            Paused,
        )
    }

    async fn unpause_container(
        &self,
        request: GrpcRequest<ContainerActionRequest>,
    ) -> Result<GrpcResponse<Container>, Status> {
        use ContainerStatus::{Paused, Running};
        self.0.record("unpause", &request);
        self.0
            .act("unpause", &request.into_inner().ident, &[Paused], Running)
    }

    async fn get_container_logs(
        &self,
        request: GrpcRequest<GetContainerLogsRequest>,
    ) -> Result<GrpcResponse<GetContainerLogsResponse>, Status> {
        self.0.record("logs", &request);
        let container = self.0.find(&request.into_inner().ident)?;
        Ok(GrpcResponse::new(GetContainerLogsResponse {
            output: format!("log of {}\n", container.uuid),
            truncated: false,
        }))
    }

    async fn execute_in_container(
        &self,
        request: GrpcRequest<ExecuteInContainerRequest>,
    ) -> Result<GrpcResponse<ExecuteInContainerResponse>, Status> {
        self.0.record("execute", &request);
        let request = request.into_inner();
        self.0.executions.lock().unwrap().push(request.clone());
        let container = self.0.find(&request.ident)?;
        if container.status() != ContainerStatus::Running {
            return Err(Status::failed_precondition(format!(
                "Container {} is not running.",
                container.uuid
            )));
        }
        Ok(GrpcResponse::new(ExecuteInContainerResponse {
            output: format!("ran: {}\n", request.command),
            exit_code: 0,
        }))
    }
}

/// No-auth identity: every caller is the development admin of project `demo` (or the
/// project named by `X-Project-Id`), except the token [`BAD_TOKEN`].
pub struct FakeIdentity;

#[tonic::async_trait]
impl IdentityService for FakeIdentity {
    async fn validate_token(
        &self,
        request: GrpcRequest<ValidateTokenRequest>,
    ) -> Result<GrpcResponse<ValidateTokenResponse>, Status> {
        let request = request.into_inner();
        if request.token == BAD_TOKEN {
            return Err(Status::unauthenticated(
                "The request you have made requires authentication.",
            ));
        }
        let hints = request.noauth_hints.unwrap_or_default();
        let project_id = if hints.project_id.is_empty() {
            "demo".to_owned()
        } else {
            hints.project_id
        };
        Ok(GrpcResponse::new(ValidateTokenResponse {
            identity: Some(Identity {
                user_id: "demo-user".to_owned(),
                user_name: "demo".to_owned(),
                project_id,
                project_name: "demo".to_owned(),
                roles: vec!["admin".to_owned()],
                is_admin: true,
                ..Identity::default()
            }),
        }))
    }
}

/// The gateway router over fresh fakes.
pub struct Harness {
    pub app: Router,
    pub baymodels: Arc<FakeBayModels>,
    pub bays: Arc<FakeBays>,
    pub certificates: Arc<FakeCertificates>,
    pub nodes: Arc<FakeNodes>,
    pub containers: Arc<FakeContainers>,
    _stop: StopOnDrop,
}

pub struct StopOnDrop(Shutdown);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Serves the fakes on 127.0.0.1:0 and returns their address.
async fn serve_fakes(
    baymodels: Arc<FakeBayModels>,
    bays: Arc<FakeBays>,
    certificates: Arc<FakeCertificates>,
    nodes: Arc<FakeNodes>,
    containers: Arc<FakeContainers>,
    stop: Shutdown,
) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(BayModelServiceServer::new(BayModelsServer(baymodels)))
            .add_service(BayServiceServer::new(BaysServer(bays)))
            .add_service(CertificateServiceServer::new(CertificatesServer(
                certificates,
            )))
            .add_service(NodeServiceServer::new(NodesServer(nodes)))
            .add_service(ContainerServiceServer::new(ContainersServer(containers)))
            .add_service(IdentityServiceServer::new(FakeIdentity))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                stop.cancelled_owned(),
            )
            .await
            .unwrap();
    });
    address
}

pub async fn harness() -> Harness {
    harness_with(|_| {}).await
}

pub async fn harness_with(adjust: impl FnOnce(&mut Config)) -> Harness {
    let mut fakes = fakes().await;
    adjust(&mut fakes.config);
    Harness {
        app: gateway::router(AppState::new(&fakes.config).unwrap()),
        baymodels: fakes.baymodels,
        bays: fakes.bays,
        certificates: fakes.certificates,
        nodes: fakes.nodes,
        containers: fakes.containers,
        _stop: fakes.stop,
    }
}

/// Running fakes and a gateway configuration that points at them.
pub struct Fakes {
    pub baymodels: Arc<FakeBayModels>,
    pub bays: Arc<FakeBays>,
    pub certificates: Arc<FakeCertificates>,
    pub nodes: Arc<FakeNodes>,
    pub containers: Arc<FakeContainers>,
    pub config: Config,
    pub stop: StopOnDrop,
}

pub async fn fakes() -> Fakes {
    let baymodels = Arc::new(FakeBayModels::default());
    let bays = Arc::new(FakeBays::new(baymodels.clone()));
    let certificates = Arc::new(FakeCertificates {
        bays: bays.clone(),
        gets: Mutex::default(),
        signs: Mutex::default(),
        rotations: Mutex::default(),
    });
    let nodes = Arc::new(FakeNodes::default());
    let containers = Arc::new(FakeContainers::new(bays.clone()));
    let stop = Shutdown::new();
    let address = serve_fakes(
        baymodels.clone(),
        bays.clone(),
        certificates.clone(),
        nodes.clone(),
        containers.clone(),
        stop.clone(),
    )
    .await;
    let mut config = Config {
        bay_url: format!("http://{address}"),
        container_url: format!("http://{address}"),
        ..Config::default()
    };
    config.auth.identity_url = format!("http://{address}");
    Fakes {
        baymodels,
        bays,
        certificates,
        nodes,
        containers,
        config,
        stop: StopOnDrop(stop),
    }
}

/// A response, with the body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }

    /// The one error entry of an error document (asserting its shape).
    pub fn error(&self) -> &Value {
        assert_eq!(self.header("content-type"), "application/json", "{self:?}");
        let errors = self.body["errors"].as_array().expect("an errors list");
        assert_eq!(errors.len(), 1);
        let entry = &errors[0];
        assert_eq!(entry["status"], self.status.as_u16());
        assert_eq!(entry["request_id"], self.header("x-openstack-request-id"));
        assert!(entry["links"].is_array());
        entry
    }

    pub fn detail(&self) -> String {
        self.error()["detail"].as_str().unwrap().to_owned()
    }

    /// Asserts an error answer of `status` (in the error document's shape) whose detail
    /// contains `expected`.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, expected: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        let detail = self.detail();
        assert!(detail.contains(expected), "{detail:?} lacks {expected:?}");
    }
}

/// One request through the whole router.
pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// A request with a token, as python-magnumclient sends them.
pub fn request(method: Method, uri: &str, body: Option<Value>) -> Request<Body> {
    let builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "gw.example:9511")
        .header("x-auth-token", "tok");
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

pub async fn get(app: &Router, uri: &str) -> Reply {
    send(app, request(Method::GET, uri, None)).await
}

pub async fn post(app: &Router, uri: &str, body: Value) -> Reply {
    send(app, request(Method::POST, uri, Some(body))).await
}

pub async fn patch(app: &Router, uri: &str, body: Value) -> Reply {
    send(app, request(Method::PATCH, uri, Some(body))).await
}

pub async fn put(app: &Router, uri: &str) -> Reply {
    send(app, request(Method::PUT, uri, None)).await
}

pub async fn delete(app: &Router, uri: &str) -> Reply {
    send(app, request(Method::DELETE, uri, None)).await
}

/// `request` at an API version, as 2.17.0/4.x send it (`latest`, or `1.2` ...).
pub fn at(version: &str, mut request: Request<Body>) -> Request<Body> {
    request.headers_mut().insert(
        "openstack-api-version",
        format!("container-infra {version}").parse().unwrap(),
    );
    request
}

/// The sorted keys of a JSON object.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort_unstable();
    keys
}
