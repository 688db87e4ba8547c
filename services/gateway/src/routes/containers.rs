//! `/v1/containers` (spec §3.8, Liberty's Docker containers on swarm bays): translated to
//! container-svc's `ContainerService`. Served at every microversion, as bays are. The bay
//! check (exists, is swarm, is usable), image pulls and the Docker calls are
//! container-svc's; this module applies the wire rules only.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::container::v1::{
    Container, ContainerActionRequest, ContainerSpec, ContainerStatus, ContainerUpdate,
    CreateContainerRequest, DeleteContainerRequest, ExecuteInContainerRequest,
    GetContainerLogsRequest, GetContainerRequest, ListContainersRequest, StopContainerRequest,
    UpdateContainerRequest,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::attributes::{Attribute, AttributeType, AttributeValues, ResourceSchema, invalid_input};
use crate::body::JsonBody;
use crate::error::{Error, ErrorDocument, Result};
use crate::links::{BaseUrl, Link};
use crate::pagination::ListQuery;
use crate::patch;
use crate::routes::created;
use crate::state::AppState;
use crate::timestamps::format_timestamp;

/// The collection's name in paths and list envelopes.
pub const COLLECTION: &str = "containers";

use AttributeType::{Boolean, Links, Timestamp};
const STRING: AttributeType = AttributeType::String;

const NAME: Attribute = Attribute::optional("name", STRING, "1-255 characters.").length(1, 255);
const IMAGE: Attribute = Attribute::optional(
    "image",
    STRING,
    "Docker image, repo[:tag]. Required (as image or image_id).",
);
const IMAGE_ID: Attribute = Attribute::optional(
    "image_id",
    STRING,
    "Input only: the Kilo name of image (what 0.2.1 sends); give it or image.",
);
const BAY_UUID: Attribute = Attribute::mandatory(
    "bay_uuid",
    STRING,
    "uuid or name of a swarm bay; shown as its uuid. Unknown: 400.",
);

const ATTRIBUTES: &[Attribute] = &[
    Attribute::optional("uuid", STRING, "Client-chosen uuid; generated when absent."),
    NAME,
    IMAGE,
    IMAGE_ID,
    BAY_UUID,
    Attribute::optional(
        "command",
        STRING,
        "Command to run; the image's when absent.",
    ),
    Attribute::optional(
        "memory",
        STRING,
        "Docker memory limit, <number>[b|k|m|g], e.g. 512m.",
    ),
    Attribute::optional(
        "status",
        STRING,
        "Running, Stopped, Paused, Error or Unknown; null while being created. Accepted and \
         ignored on create; a patch cannot change it.",
    ),
    Attribute::read_only("links", Links, "self and bookmark links."),
    Attribute::read_only("created_at", Timestamp, "Creation time."),
    Attribute::read_only(
        "updated_at",
        Timestamp,
        "Last update; null until the first.",
    ),
];

/// The container attribute table (Liberty's; PATCH: common internal paths only, and
/// `bay_uuid` cannot be removed because it is mandatory).
pub const SCHEMA: ResourceSchema = ResourceSchema {
    argument: "container",
    attributes: ATTRIBUTES,
    extra_internal_paths: &[],
    extra_non_removable_paths: &[],
};

/// The attributes a patch may change (the stored ones container-svc updates).
const UPDATABLE: &[&str] = &["name"];

/// The routes of this collection. The action routes answer 405 to any other method.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/containers", get(list).post(create))
        .route("/v1/containers/detail", get(detail))
        .route(
            "/v1/containers/{ident}",
            get(show).patch(update).delete(remove),
        )
        .route("/v1/containers/{ident}/start", put(start))
        .route("/v1/containers/{ident}/stop", put(stop))
        .route("/v1/containers/{ident}/reboot", put(reboot))
        .route("/v1/containers/{ident}/pause", put(pause))
        .route("/v1/containers/{ident}/unpause", put(unpause))
        .route("/v1/containers/{ident}/logs", get(logs))
        .route("/v1/containers/{ident}/execute", put(execute))
}

/// A container as clients see it (the full representation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContainerView {
    pub uuid: String,
    pub name: Option<String>,
    /// Docker image, `repo[:tag]`.
    pub image: String,
    /// uuid of the bay.
    pub bay_uuid: String,
    pub command: Option<String>,
    /// Docker memory limit, e.g. `512m`.
    pub memory: Option<String>,
    /// `Running`, `Stopped`, `Paused`, `Error`, `Unknown`; null while being created.
    pub status: Option<String>,
    pub links: Vec<Link>,
    /// ISO 8601 with UTC offset, e.g. `2016-08-29T06:51:31+00:00`.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// Magnum's name of a status (`Running`); `None` while creating or unspecified.
pub fn status_name(status: ContainerStatus) -> Option<&'static str> {
    match status {
        ContainerStatus::Unspecified | ContainerStatus::Creating => None,
        ContainerStatus::Running => Some("Running"),
        ContainerStatus::Stopped => Some("Stopped"),
        ContainerStatus::Paused => Some("Paused"),
        ContainerStatus::Error => Some("Error"),
        ContainerStatus::Unknown => Some("Unknown"),
    }
}

impl ContainerView {
    /// The representation of a stored container, with links under `base`.
    pub fn new(container: &Container, base: &BaseUrl) -> Self {
        Self {
            uuid: container.uuid.clone(),
            name: container.name.clone(),
            image: container.image.clone(),
            bay_uuid: container.bay_uuid.clone(),
            command: container.command.clone(),
            memory: container.memory.clone(),
            status: status_name(container.status()).map(str::to_owned),
            links: base.resource_links(COLLECTION, &container.uuid),
            created_at: container.created_at.as_ref().map(format_timestamp),
            updated_at: container.updated_at.as_ref().map(format_timestamp),
        }
    }
}

/// A list item of `GET /v1/containers` (Liberty's summary set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContainerSummary {
    pub uuid: String,
    pub name: Option<String>,
    pub bay_uuid: String,
    pub image: String,
    pub command: Option<String>,
    pub status: Option<String>,
    pub memory: Option<String>,
    pub links: Vec<Link>,
}

impl From<ContainerView> for ContainerSummary {
    fn from(view: ContainerView) -> Self {
        Self {
            uuid: view.uuid,
            name: view.name,
            bay_uuid: view.bay_uuid,
            image: view.image,
            command: view.command,
            status: view.status,
            memory: view.memory,
            links: view.links,
        }
    }
}

/// `GET /v1/containers`: summary items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContainerCollection {
    pub containers: Vec<ContainerSummary>,
    /// The next page; present only when this page is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /v1/containers/detail`: full items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContainerDetailCollection {
    pub containers: Vec<ContainerView>,
    /// The next page; present only when this page is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The answer of `logs` and `execute`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContainerOutput {
    /// The container's logs, or the command's output (stdout and stderr interleaved);
    /// bounded in size by container-svc.
    pub output: String,
}

/// The create request of a container: `image` under either name, required.
fn spec_from(values: &AttributeValues) -> Result<ContainerSpec> {
    let image = values
        .aliased(IMAGE.name, IMAGE_ID.name)?
        .ok_or_else(|| invalid_input(IMAGE.name, &Value::Null, "Mandatory field missing."))?;
    Ok(ContainerSpec {
        uuid: values.string("uuid"),
        name: values.string(NAME.name),
        image,
        bay_uuid: values.string(BAY_UUID.name).unwrap_or_default(),
        command: values.string("command"),
        memory: values.string("memory"),
        environment: Default::default(),
    })
}

/// One page of containers, with the views under `base` and the `next` link for `path`.
/// `?bay_ident=<uuid or name>` keeps one bay's containers (an extension: Liberty had no
/// filter, and no client sends it).
async fn list_page(
    state: &AppState,
    context: &RequestContext,
    base: &BaseUrl,
    uri: &Uri,
    path: &str,
) -> Result<(Vec<ContainerView>, Option<String>)> {
    let page = ListQuery::page(uri, state.max_limit())?;
    let bay_ident = crate::query::value(uri, "bay_ident")?.unwrap_or_default();
    let response = state
        .containers()
        .list_containers(request(
            context,
            ListContainersRequest {
                bay_ident,
                options: Some(page.list_options()),
            },
        ))
        .await?
        .into_inner();
    let views = response
        .containers
        .iter()
        .map(|container| ContainerView::new(container, base))
        .collect();
    Ok((views, page.next(base, path, &response.next_page_token)))
}

/// Lists the caller's containers (summary items).
#[utoipa::path(
    get,
    path = "/v1/containers",
    operation_id = "listContainers",
    tag = "containers",
    params(
        ListQuery,
        ("bay_ident" = Option<String>, Query, description = "uuid or name of a bay: only its \
containers (an extension; no client sends it)."),
    ),
    responses(
        (status = 200, description = "A page of containers; items have the summary fields \
(uuid, name, bay_uuid, image, command, status, memory, links).", body = ContainerCollection),
        (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
        (status = 404, description = "The marker or the bay does not exist.", body = ErrorDocument),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    uri: Uri,
) -> Result<Json<ContainerCollection>> {
    let (views, next) = list_page(&state, &context, &base, &uri, COLLECTION).await?;
    Ok(Json(ContainerCollection {
        containers: views.into_iter().map(ContainerSummary::from).collect(),
        next,
    }))
}

/// Lists the caller's containers (full items).
#[utoipa::path(
    get,
    path = "/v1/containers/detail",
    operation_id = "listContainersDetail",
    tag = "containers",
    params(
        ListQuery,
        ("bay_ident" = Option<String>, Query, description = "uuid or name of a bay: only its \
containers (an extension; no client sends it)."),
    ),
    responses(
        (status = 200, description = "A page of containers (full items).", body = ContainerDetailCollection),
        (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
        (status = 404, description = "The marker or the bay does not exist.", body = ErrorDocument),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    uri: Uri,
) -> Result<Json<ContainerDetailCollection>> {
    let (containers, next) = list_page(&state, &context, &base, &uri, "containers/detail").await?;
    Ok(Json(ContainerDetailCollection { containers, next }))
}

/// Shows a container by uuid or name (status refreshed from Docker by container-svc).
#[utoipa::path(
    get,
    path = "/v1/containers/{ident}",
    operation_id = "getContainer",
    tag = "containers",
    params(("ident" = String, Path, description = "uuid or name")),
    responses(
        (status = 200, description = "The container.", body = ContainerView),
        (status = 404, description = "No such container.", body = ErrorDocument),
        (status = 409, description = "Several containers have this name.", body = ErrorDocument),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    Path(ident): Path<String>,
) -> Result<Json<ContainerView>> {
    let container = state
        .containers()
        .get_container(request(&context, GetContainerRequest { ident }))
        .await?
        .into_inner();
    Ok(Json(ContainerView::new(&container, &base)))
}

/// Creates a container on the bay (synchronously: the image is pulled and the Docker
/// container created, stopped); 201 with the full object and `Location`.
#[utoipa::path(
    post,
    path = "/v1/containers",
    operation_id = "createContainer",
    tag = "containers",
    request_body(content = ref("#/components/schemas/ContainerInput"), content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = ContainerView,
         headers(("Location" = String, description = "URL of the new container"))),
        (status = 400, description = "Invalid body or values, no image, unknown bay or not a \
swarm bay.", body = ErrorDocument),
        (status = 403, description = "Not allowed.", body = ErrorDocument),
        (status = 409, description = "Several bays have this name, or the uuid is taken.", body = ErrorDocument),
        (status = 413, description = "Body too large.", body = ErrorDocument),
        (status = 415, description = "Body is not JSON.", body = ErrorDocument),
        (status = 500, description = "Docker failed to create the container.", body = ErrorDocument),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    body: JsonBody,
) -> Result<Response> {
    let body = body.required(SCHEMA.argument)?;
    let spec = spec_from(&SCHEMA.parse_create(&body)?)?;
    let container = state
        .containers()
        .create_container(request(
            &context,
            CreateContainerRequest { spec: Some(spec) },
        ))
        .await
        // The bay is named in the body: not finding it is a 400.
        .map_err(Error::from_reference)?
        .into_inner();
    created(
        &base,
        COLLECTION,
        &container.uuid,
        ContainerView::new(&container, &base),
    )
}

/// Renames a container with a JSON patch (a database-only change); any other change is
/// refused.
#[utoipa::path(
    patch,
    path = "/v1/containers/{ident}",
    operation_id = "updateContainer",
    tag = "containers",
    params(("ident" = String, Path, description = "uuid or name")),
    request_body(content = Vec<crate::openapi::JsonPatchOperation>, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated container.", body = ContainerView),
        (status = 400, description = "Invalid patch, or a property other than name changed.", body = ErrorDocument),
        (status = 404, description = "No such container.", body = ErrorDocument),
        (status = 409, description = "Several containers have this name.", body = ErrorDocument),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    Path(ident): Path<String>,
    body: JsonBody,
) -> Result<Json<ContainerView>> {
    // As in Magnum, the patch document is checked before the object is looked up.
    let operations = patch::parse(&SCHEMA, &body.required("patch")?)?;
    let mut client = state.containers();
    let current = client
        .get_container(request(&context, GetContainerRequest { ident }))
        .await?
        .into_inner();
    let current_view = ContainerView::new(&current, &base);
    let Some(changes) = patch::plan(&SCHEMA, &current_view, &operations)? else {
        return Ok(Json(current_view));
    };
    changes.only(UPDATABLE, SCHEMA.argument)?;
    let updated = client
        .update_container(request(
            &context,
            UpdateContainerRequest {
                // The uuid, not the ident: a name may have been taken meanwhile.
                ident: current.uuid,
                update: Some(ContainerUpdate {
                    name: changes.values.string(NAME.name),
                }),
                update_mask: Some(changes.update_mask()),
            },
        ))
        .await?
        .into_inner();
    Ok(Json(ContainerView::new(&updated, &base)))
}

/// Deletes a container (its Docker container, then the record). `?force=<bool>` stops a
/// running container first instead of refusing (an extension: 1.1.0 never sends it).
#[utoipa::path(
    delete,
    path = "/v1/containers/{ident}",
    operation_id = "deleteContainer",
    tag = "containers",
    params(
        ("ident" = String, Path, description = "uuid or name"),
        ("force" = Option<String>, Query, description = "Stop a running container first \
(a boolean: true/false, yes/no, 1/0 ...); default false."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "The container is running (and force is not set), or \
force is not a boolean.", body = ErrorDocument),
        (status = 404, description = "No such container.", body = ErrorDocument),
        (status = 409, description = "Several containers have this name.", body = ErrorDocument),
        (status = 500, description = "Docker failed to remove the container.", body = ErrorDocument),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    uri: Uri,
    Path(ident): Path<String>,
) -> Result<StatusCode> {
    const FORCE: Attribute =
        Attribute::optional("force", Boolean, "Stop a running container first.");
    let force = crate::query::boolean(&uri, &FORCE)?.unwrap_or(false);
    state
        .containers()
        .delete_container(request(&context, DeleteContainerRequest { ident, force }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The power actions, all answered with JSON `null` (what Liberty returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Start,
    Stop,
    Reboot,
    Pause,
    Unpause,
}

/// Runs `action` on the container; the answer is `null`.
async fn act(
    state: &AppState,
    context: &RequestContext,
    ident: String,
    action: Action,
) -> Result<Json<Value>> {
    let mut client = state.containers();
    let single = ContainerActionRequest {
        ident: ident.clone(),
    };
    // 0: container-svc's default grace period.
    let timed = StopContainerRequest {
        ident,
        timeout_seconds: 0,
    };
    match action {
        Action::Start => client.start_container(request(context, single)).await,
        Action::Stop => client.stop_container(request(context, timed)).await,
        Action::Reboot => client.reboot_container(request(context, timed)).await,
        Action::Pause => client.pause_container(request(context, single)).await,
        Action::Unpause => client.unpause_container(request(context, single)).await,
    }?;
    Ok(Json(Value::Null))
}

/// One power action's handler and its OpenAPI operation: `PUT /v1/containers/{ident}/<verb>`
/// answering `null`.
macro_rules! power_action {
    ($(#[doc = $doc:tt])* $handler:ident, $path:tt, $operation:tt, $done:tt, $action:expr) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            put,
            path = $path,
            operation_id = $operation,
            tag = "containers",
            params(("ident" = String, Path, description = "uuid or name")),
            responses(
                (status = 200, description = $done, content_type = "application/json"),
                (status = 400, description = "The container's state does not allow it.", body = ErrorDocument),
                (status = 404, description = "No such container.", body = ErrorDocument),
                (status = 405, description = "Any method but PUT.", body = ErrorDocument),
            )
        )]
        pub async fn $handler(
            State(state): State<AppState>,
            Extension(context): Extension<RequestContext>,
            Path(ident): Path<String>,
        ) -> Result<Json<Value>> {
            act(&state, &context, ident, $action).await
        }
    };
}

power_action!(
    /// Starts a container.
    start,
    "/v1/containers/{ident}/start",
    "startContainer",
    "Started; the body is JSON null.",
    Action::Start
);
power_action!(
    /// Stops a container (killed after container-svc's grace period).
    stop,
    "/v1/containers/{ident}/stop",
    "stopContainer",
    "Stopped; the body is JSON null.",
    Action::Stop
);
power_action!(
    /// Restarts a container.
    reboot,
    "/v1/containers/{ident}/reboot",
    "rebootContainer",
    "Restarted; the body is JSON null.",
    Action::Reboot
);
power_action!(
    /// Pauses a container.
    pause,
    "/v1/containers/{ident}/pause",
    "pauseContainer",
    "Paused; the body is JSON null.",
    Action::Pause
);
power_action!(
    /// Unpauses a container.
    unpause,
    "/v1/containers/{ident}/unpause",
    "unpauseContainer",
    "Unpaused; the body is JSON null.",
    Action::Unpause
);

/// The container's output (stdout and stderr), bounded in size by container-svc.
#[utoipa::path(
    get,
    path = "/v1/containers/{ident}/logs",
    operation_id = "getContainerLogs",
    tag = "containers",
    params(("ident" = String, Path, description = "uuid or name")),
    responses(
        (status = 200, description = "The logs.", body = ContainerOutput),
        (status = 404, description = "No such container.", body = ErrorDocument),
        (status = 405, description = "Any method but GET.", body = ErrorDocument),
    )
)]
pub async fn logs(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Path(ident): Path<String>,
) -> Result<Json<ContainerOutput>> {
    let logs = state
        .containers()
        .get_container_logs(request(
            &context,
            GetContainerLogsRequest {
                ident,
                tail: 0,
                timestamps: false,
            },
        ))
        .await?
        .into_inner();
    Ok(Json(ContainerOutput {
        output: logs.output,
    }))
}

/// Runs a command in a running container (no shell: split as a shell would) and answers
/// its output. Clients send the command in the query and no body.
#[utoipa::path(
    put,
    path = "/v1/containers/{ident}/execute",
    operation_id = "executeInContainer",
    tag = "containers",
    params(
        ("ident" = String, Path, description = "uuid or name"),
        ("command" = String, Query, description = "The command line (URL-encoded)."),
    ),
    responses(
        (status = 200, description = "The command's output.", body = ContainerOutput),
        (status = 400, description = "No command, or the container is not running.", body = ErrorDocument),
        (status = 404, description = "No such container.", body = ErrorDocument),
        (status = 405, description = "Any method but PUT.", body = ErrorDocument),
    )
)]
pub async fn execute(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    uri: Uri,
    Path(ident): Path<String>,
) -> Result<Json<ContainerOutput>> {
    let command = crate::query::value(&uri, "command")?
        .ok_or_else(|| Error::BadRequest("Missing argument: \"command\"".to_owned()))?;
    let executed = state
        .containers()
        .execute_in_container(request(
            &context,
            ExecuteInContainerRequest {
                ident,
                command,
                timeout_seconds: 0,
            },
        ))
        .await?
        .into_inner();
    Ok(Json(ContainerOutput {
        output: executed.output,
    }))
}

#[cfg(test)]
#[path = "containers_test.rs"]
mod tests;
