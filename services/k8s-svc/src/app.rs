//! Use cases: what a caller may do with pods, services and replication controllers. Each
//! takes the caller's `RequestContext`, applies policy and tenancy, and returns domain
//! values or the crate `Error`; the gRPC handlers are thin layers on top.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use magnum_common::{RequestContext, Scope};
use magnum_policy::{Policy, ResourceGuard};
use uuid::Uuid;

use crate::domain::listing::{Page, PageRequest, SortDir};
use crate::domain::manifest::{self, Kind, ManifestError, Workload};
use crate::domain::object::{Ident, K8sObject, ObjectSortKey, State};
use crate::domain::ports::{BayAccess, BayDirectory, Cluster, ObjectRepository};
use crate::error::{Error, Result};
use crate::fetch::ManifestFetcher;

/// A manifest as the caller gave it: inline text wins over a URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestSource {
    pub manifest: Option<String>,
    pub manifest_url: Option<String>,
}

/// A create request as the caller sent it (unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    pub kind: Kind,
    pub bay_uuid: String,
    pub source: ManifestSource,
    pub desc: Option<String>,
    pub uuid: Option<String>,
}

/// An object named by the caller, optionally within a bay (uuid or name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: Kind,
    pub ident: String,
    pub bay_ident: String,
}

/// What an update changes; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// A new manifest replaces the object in the cluster.
    pub manifest: Option<ManifestSource>,
    /// `Some(None)` clears the description (pods).
    pub desc: Option<Option<String>>,
    /// Scales a replication controller.
    pub replicas: Option<i32>,
}

/// A list request as the caller gave it (unchecked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub page_size: u32,
    pub page_token: String,
    pub sort_key: String,
    pub sort_dir: String,
    pub all_projects: bool,
    /// uuid or name of a bay; empty = every bay.
    pub bay_ident: String,
}

/// An object and the manifest its call supplied (echoed by create and update only).
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub object: K8sObject,
    pub source: ManifestSource,
}

/// Bounds of the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_manifest_bytes: usize,
    /// A record still `Creating` this long after it was made lost its creator (the
    /// replica stopped): the next caller to look settles it from the cluster.
    pub abandoned_after: Duration,
}

/// The use cases of the three kinds.
#[derive(Clone)]
pub struct Objects {
    repository: Arc<dyn ObjectRepository>,
    bays: Arc<dyn BayDirectory>,
    cluster: Arc<dyn Cluster>,
    fetcher: ManifestFetcher,
    policy: Policy,
    limits: Limits,
}

impl Objects {
    pub fn new(
        repository: Arc<dyn ObjectRepository>,
        bays: Arc<dyn BayDirectory>,
        cluster: Arc<dyn Cluster>,
        fetcher: ManifestFetcher,
        policy: Policy,
        limits: Limits,
    ) -> Self {
        Self {
            repository,
            bays,
            cluster,
            fetcher,
            policy,
            limits,
        }
    }

    /// Rules `<kind>:<action>` (`pod:create`, `rc:get_all`, ...).
    fn guard(&self, kind: Kind) -> ResourceGuard {
        ResourceGuard::new(self.policy.clone(), kind.as_str())
    }

    /// Creates the object in the bay's namespace with the bay's credential. The record is
    /// written first (`Creating`); a refusal by the cluster leaves it `failed` (except a
    /// name conflict, which leaves nothing), as Magnum did.
    #[tracing::instrument(skip_all, fields(kind = new.kind.as_str()))]
    pub async fn create(&self, ctx: &RequestContext, new: NewObject) -> Result<Shown> {
        let kind = new.kind;
        self.guard(kind).enforce("create", ctx, None)?;
        if new.bay_uuid.is_empty() {
            return Err(invalid("bay_uuid", "", "Mandatory field missing."));
        }
        let bay_uuid = Uuid::parse_str(&new.bay_uuid).map_err(|_| {
            invalid(
                "bay_uuid",
                &new.bay_uuid,
                &format!("Expected a UUID but received {}.", new.bay_uuid),
            )
        })?;
        let uuid = match new.uuid.as_deref() {
            None | Some("") => Uuid::new_v4(),
            Some(value) => Uuid::parse_str(value).map_err(|_| {
                invalid(
                    "uuid",
                    value,
                    &format!("Expected a UUID but received {value}."),
                )
            })?,
        };
        let text = self.manifest_text(&new.source).await?;
        let access = self.usable_bay(ctx, &new.bay_uuid).await?;
        let workload = manifest::parse(
            kind,
            &text,
            &access.namespace,
            self.limits.max_manifest_bytes,
        )?;
        let record = K8sObject::new(
            uuid,
            &workload,
            bay_uuid,
            new.desc,
            (ctx.project_id.clone(), ctx.user_id.clone()),
            now(),
        );
        self.repository.insert(&record).await?;
        fail::fail_point!("k8s-create-before-cluster");
        let made = self.cluster.create(&access, &workload).await;
        let object = match made {
            Ok(made) => {
                let created = record.observe(&made, now()).unwrap_or(record);
                if !self.repository.update(&created).await? {
                    // Deleted while being made: the object must not outlive its record.
                    self.cluster.delete(&access, kind, &created.name).await?;
                    return Err(not_found(kind, &uuid.to_string()));
                }
                tracing::info!(uuid = %created.uuid, name = %created.name, "object created");
                created
            }
            Err(error @ Error::Kubernetes { status: 409, .. }) => {
                self.repository
                    .delete(&Scope::Project(record.project_id.clone()), uuid)
                    .await?;
                return Err(error);
            }
            Err(error @ Error::Kubernetes { .. }) => {
                self.repository.update(&record.failed(now())).await?;
                return Err(error);
            }
            // Whether the cluster made it is unknown: the record stays `Creating` until a
            // caller looks at it after `abandoned_after`.
            Err(error) => return Err(error),
        };
        Ok(Shown {
            object,
            source: new.source,
        })
    }

    /// An object, refreshed from the cluster.
    #[tracing::instrument(skip_all, fields(kind = reference.kind.as_str(), ident = %reference.ident))]
    pub async fn get(&self, ctx: &RequestContext, reference: &ObjectRef) -> Result<K8sObject> {
        let found = self.find(ctx, reference).await?;
        self.guard(reference.kind).enforce(
            "get",
            ctx,
            Some((&found.project_id, &found.user_id)),
        )?;
        let Some(access) = self.reachable_bay(ctx, &found).await? else {
            return Ok(found);
        };
        match self.cluster.get(&access, found.kind, &found.name).await {
            Ok(Some(live)) => self.observed(found, &live).await,
            Ok(None) => self.settle_missing(found).await,
            Err(error) => {
                tracing::warn!(%error, "cannot refresh an object from its cluster");
                Ok(found)
            }
        }
    }

    /// The caller's objects of one kind, optionally of one bay, refreshed from each bay's
    /// recent snapshot of the kind.
    #[tracing::instrument(skip_all, fields(kind = kind.as_str()))]
    pub async fn list(
        &self,
        ctx: &RequestContext,
        kind: Kind,
        query: ListQuery,
    ) -> Result<Page<K8sObject>> {
        let scope = self.guard(kind).list_scope(ctx, query.all_projects)?;
        let sort_key = ObjectSortKey::parse(&query.sort_key)
            .ok_or_else(|| Error::InvalidSortKey(query.sort_key.clone()))?;
        let page = PageRequest::new(
            query.page_size,
            &query.page_token,
            sort_key,
            SortDir::parse(&query.sort_dir)?,
        )?;
        let bay = match query.bay_ident.as_str() {
            "" => None,
            ident => Some(self.bays.bay(ctx, ident).await?.uuid),
        };
        let items = self.repository.list(&scope, kind, bay, &page).await?;
        let full = u32::try_from(items.len()).is_ok_and(|len| len == page.size);
        let next_marker = if full {
            items.last().map(|object| object.uuid)
        } else {
            None
        };
        let items = self.refresh(ctx, kind, items).await?;
        Ok(Page { items, next_marker })
    }

    /// Changes the description (stored), replaces the object from a new manifest, or
    /// scales an rc.
    #[tracing::instrument(skip_all, fields(kind = reference.kind.as_str(), ident = %reference.ident))]
    pub async fn update(
        &self,
        ctx: &RequestContext,
        reference: &ObjectRef,
        changes: Changes,
    ) -> Result<Shown> {
        let kind = reference.kind;
        let mut object = self.find(ctx, reference).await?;
        self.guard(kind)
            .enforce("update", ctx, Some((&object.project_id, &object.user_id)))?;
        if changes.replicas.is_some() && kind != Kind::ReplicationController {
            return Err(Error::UnknownUpdateField("replicas".to_owned()));
        }
        if let Some(desc) = &changes.desc {
            object.desc.clone_from(desc);
            object.updated_at = Some(now());
        }
        let touches_cluster = changes.manifest.is_some() || changes.replicas.is_some();
        if touches_cluster {
            let access = self.usable_bay(ctx, &object.bay_uuid.to_string()).await?;
            if let Some(source) = &changes.manifest {
                let text = self.manifest_text(source).await?;
                let workload = manifest::parse(
                    kind,
                    &text,
                    &access.namespace,
                    self.limits.max_manifest_bytes,
                )?;
                let current = self
                    .cluster
                    .get(&access, kind, &object.name)
                    .await?
                    .ok_or_else(|| not_in_cluster(&object))?;
                let replaced = self
                    .cluster
                    .replace(&access, &object.name, &workload.replacing(&current))
                    .await?;
                object = object.observe(&replaced, now()).unwrap_or(object);
            }
            if let Some(replicas) = changes.replicas {
                if replicas < 0 {
                    return Err(invalid(
                        "replicas",
                        &replicas.to_string(),
                        "Replicas can not be negative.",
                    ));
                }
                let scaled = self.cluster.scale(&access, &object.name, replicas).await?;
                object = object.observe(&scaled, now()).unwrap_or(object);
            }
        }
        if !self.repository.update(&object).await? {
            return Err(not_found(kind, &reference.ident));
        }
        Ok(Shown {
            object,
            source: changes.manifest.unwrap_or_default(),
        })
    }

    /// Deletes the object from the cluster (already gone is fine), then the record. A bay
    /// that is gone or going takes its objects with it: the record just goes.
    #[tracing::instrument(skip_all, fields(kind = reference.kind.as_str(), ident = %reference.ident))]
    pub async fn delete(&self, ctx: &RequestContext, reference: &ObjectRef) -> Result<()> {
        let object = self.find(ctx, reference).await?;
        self.guard(reference.kind).enforce(
            "delete",
            ctx,
            Some((&object.project_id, &object.user_id)),
        )?;
        if let Some(access) = self.reachable_bay(ctx, &object).await? {
            self.cluster
                .delete(&access, object.kind, &object.name)
                .await?;
        }
        let scope = Scope::Project(object.project_id.clone());
        if !self.repository.delete(&scope, object.uuid).await? {
            return Err(not_found(object.kind, &reference.ident));
        }
        tracing::info!(uuid = %object.uuid, name = %object.name, "object deleted");
        Ok(())
    }

    /// Forgets every object of a deleted bay (its namespace went with it).
    pub async fn bay_deleted(&self, bay: Uuid) -> Result<u64> {
        let deleted = self.repository.delete_of_bay(bay).await?;
        if deleted > 0 {
            tracing::info!(%bay, deleted, "objects of a deleted bay forgotten");
        }
        Ok(deleted)
    }

    async fn manifest_text(&self, source: &ManifestSource) -> Result<String> {
        match (&source.manifest, &source.manifest_url) {
            (Some(text), _) if !text.trim().is_empty() => Ok(text.clone()),
            (_, Some(url)) if !url.is_empty() => self.fetcher.fetch(url).await,
            _ => Err(ManifestError::Empty.into()),
        }
    }

    /// The bay's access, for a bay that takes new objects: kubernetes and complete.
    async fn usable_bay(&self, ctx: &RequestContext, ident: &str) -> Result<BayAccess> {
        // bay-svc hands credentials only for complete kubernetes bays: one call when the
        // bay is fine; when it is not, the bay itself says why in Magnum's words.
        let refused = match self.bays.access(ctx, ident).await {
            Ok(access) => return Ok(access),
            Err(
                error @ Error::BayLookup {
                    code: magnum_common::ErrorCode::FailedPrecondition,
                    ..
                },
            ) => error,
            Err(error) => return Err(error),
        };
        let bay = self.bays.bay(ctx, ident).await?;
        if bay.coe != "kubernetes" {
            return Err(Error::WrongCoe(bay.coe));
        }
        if !matches!(bay.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
            return Err(Error::BayNotReady {
                bay: ident.to_owned(),
                status: bay.status,
            });
        }
        Err(refused)
    }

    /// The bay's access when its cluster can be asked about `object`; `None` when the bay
    /// is gone or not usable (its namespace is going or not there).
    async fn reachable_bay(
        &self,
        ctx: &RequestContext,
        object: &K8sObject,
    ) -> Result<Option<BayAccess>> {
        match self.bays.access(ctx, &object.bay_uuid.to_string()).await {
            Ok(access) => Ok(Some(access)),
            Err(Error::BayNotFound(_))
            | Err(Error::BayLookup {
                code: magnum_common::ErrorCode::FailedPrecondition,
                ..
            }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Stores what the cluster showed of `object`, when it changed.
    async fn observed(&self, object: K8sObject, live: &Workload) -> Result<K8sObject> {
        let Some(observed) = object.observe(live, now()) else {
            return Ok(object);
        };
        self.repository.update(&observed).await?;
        Ok(observed)
    }

    /// The cluster has no such object: a create its replica abandoned long enough ago
    /// failed; anything else is shown as stored.
    async fn settle_missing(&self, object: K8sObject) -> Result<K8sObject> {
        let age = Utc::now().signed_duration_since(object.created_at);
        let abandoned = object.state == State::Creating
            && age
                .to_std()
                .is_ok_and(|age| age > self.limits.abandoned_after);
        if !abandoned {
            return Ok(object);
        }
        let failed = object.failed(now());
        self.repository.update(&failed).await?;
        tracing::info!(uuid = %failed.uuid, "abandoned create settled as failed");
        Ok(failed)
    }

    /// Overlays each bay's snapshot of `kind` on `items`, storing the changes. Records
    /// changed after the snapshot was taken are newer and stay; a bay whose cluster
    /// cannot be asked keeps its stored values.
    async fn refresh(
        &self,
        ctx: &RequestContext,
        kind: Kind,
        items: Vec<K8sObject>,
    ) -> Result<Vec<K8sObject>> {
        let mut bays: Vec<Uuid> = items.iter().map(|object| object.bay_uuid).collect();
        bays.sort_unstable();
        bays.dedup();
        let mut snapshots = HashMap::new();
        for bay in bays {
            // A recent snapshot needs neither bay-svc nor the cluster.
            if let Some(snapshot) = self.cluster.cached_snapshot(bay, kind).await {
                snapshots.insert(bay, snapshot);
                continue;
            }
            let Ok(access) = self.bays.access(ctx, &bay.to_string()).await else {
                continue;
            };
            match self.cluster.snapshot(&access, kind).await {
                Ok(snapshot) => {
                    snapshots.insert(bay, snapshot);
                }
                Err(error) => tracing::warn!(%error, %bay, "cannot refresh a bay's objects"),
            }
        }
        let mut refreshed = Vec::with_capacity(items.len());
        for object in items {
            let live = snapshots
                .get(&object.bay_uuid)
                .filter(|snapshot| object.changed_at() <= snapshot.taken_at)
                .and_then(|snapshot| snapshot.objects.get(&object.name));
            let object = match live {
                Some(live) if object.state != State::Failed => self.observed(object, live).await?,
                _ => object,
            };
            refreshed.push(object);
        }
        Ok(refreshed)
    }

    /// Resolves a uuid or a (unique) name within the caller's scope, and the bay the
    /// caller named (404 when it does not exist or is not the object's).
    async fn find(&self, ctx: &RequestContext, reference: &ObjectRef) -> Result<K8sObject> {
        let scope = ctx.object_scope();
        let kind = reference.kind;
        let bay = match reference.bay_ident.as_str() {
            "" => None,
            ident => Some(
                self.bays
                    .bay(ctx, ident)
                    .await
                    .map_err(|error| match error {
                        Error::BayNotFound(ident) => Error::PathBayNotFound(ident),
                        other => other,
                    })?
                    .uuid,
            ),
        };
        let found = match Ident::parse(&reference.ident) {
            Ident::Uuid(uuid) => self
                .repository
                .find_by_uuid(&scope, kind, uuid)
                .await?
                .filter(|object| bay.is_none_or(|bay| object.bay_uuid == bay)),
            Ident::Name(name) => {
                let mut named = self
                    .repository
                    .find_by_name(&scope, kind, &name, bay, 2)
                    .await?;
                if named.len() > 1 {
                    return Err(Error::AmbiguousName {
                        kind: kind.k8s_kind(),
                        name,
                    });
                }
                named.pop()
            }
        };
        found.ok_or_else(|| not_found(kind, &reference.ident))
    }
}

fn not_found(kind: Kind, ident: &str) -> Error {
    Error::ObjectNotFound {
        kind: kind.k8s_kind(),
        ident: ident.to_owned(),
    }
}

/// What the API server says about a name it does not have.
fn not_in_cluster(object: &K8sObject) -> Error {
    let resource = match object.kind {
        Kind::Pod => "pods",
        Kind::Service => "services",
        Kind::ReplicationController => "replicationcontrollers",
    };
    Error::Kubernetes {
        status: 404,
        message: format!("{resource} \"{}\" not found", object.name),
    }
}

fn invalid(field: &'static str, value: &str, reason: &str) -> Error {
    Error::InvalidField {
        field,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Now, at the precision every database keeps (microseconds).
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
