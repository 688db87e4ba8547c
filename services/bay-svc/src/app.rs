//! Use cases: what a caller may do with baymodels and nodes. Each takes the caller's
//! `RequestContext`, applies policy and tenancy, and returns domain values or the crate
//! `Error`; the gRPC handlers (and, later, bus workers) are thin layers on top.

use std::sync::Arc;

mod bays;
mod operations;
mod quotas;
mod services;

pub use bays::{Bays, Drivers, Pki};
pub use operations::{Handled, HealthChecks, Heartbeat, OperationTiming, Operations};
pub use quotas::{QuotaPage, Quotas};
pub use services::MagnumServices;

use chrono::{DateTime, SubsecRound, Utc};
use magnum_common::{RequestContext, Scope};
use magnum_policy::{Policy, ResourceGuard};
use uuid::Uuid;

use crate::domain::baymodel::{
    BayModel, BayModelChanges, BayModelField, BayModelSortKey, NewBayModel, Owner,
};
use crate::domain::event::{Actor, BayModelChange, BayModelEvent};
use crate::domain::listing::{Page, PageRequest, SortDir};
use crate::domain::node::{self, NewNode, Node, NodeChanges, NodeSortKey};
use crate::domain::ports::{BayModelRepository, BayRepository, NodeRepository};
use crate::error::{Error, Result};

/// A list request as the caller gave it (unchecked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// 0 means the maximum page size.
    pub page_size: u32,
    /// The marker: uuid of the last item of the previous page, or empty.
    pub page_token: String,
    /// Empty means `id`.
    pub sort_key: String,
    /// `asc` (or empty) or `desc`.
    pub sort_dir: String,
    /// Admins only: every project's objects.
    pub all_projects: bool,
}

/// The baymodel use cases.
#[derive(Clone)]
pub struct BayModels {
    repository: Arc<dyn BayModelRepository>,
    /// To refuse deleting a baymodel that bays were made from.
    bays: Arc<dyn BayRepository>,
    guard: ResourceGuard,
}

impl BayModels {
    /// The use cases on top of `repository` (and `bays`, for references), under `policy`.
    pub fn new(
        repository: Arc<dyn BayModelRepository>,
        bays: Arc<dyn BayRepository>,
        policy: Policy,
    ) -> Self {
        Self {
            repository,
            bays,
            guard: ResourceGuard::new(policy, "baymodel"),
        }
    }

    /// Setting the public flag needs `baymodel:publish`, refused with Magnum's own text.
    fn enforce_publish(&self, ctx: &RequestContext, owner: Option<&BayModel>) -> Result<()> {
        self.guard
            .enforce(
                "publish",
                ctx,
                owner.map(|baymodel| (baymodel.project_id.as_str(), baymodel.user_id.as_str())),
            )
            .map_err(|_| Error::PublishForbidden)
    }

    /// Creates a baymodel owned by the caller's project and user.
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, ctx: &RequestContext, new: NewBayModel) -> Result<BayModel> {
        self.guard.enforce("create", ctx, None)?;
        if new.public == Some(true) {
            self.enforce_publish(ctx, None)?;
        }
        let now = now();
        let owner = Owner {
            project_id: ctx.project_id.clone(),
            user_id: ctx.user_id.clone(),
        };
        let baymodel = new.into_baymodel(owner, now)?;
        let event = event(ctx, &baymodel, BayModelChange::Created, now);
        self.repository.insert(&baymodel, &event).await?;
        tracing::info!(baymodel = %baymodel.uuid, "baymodel created");
        Ok(baymodel)
    }

    /// A baymodel by uuid or name: the caller's own, a public one, or (admins) any.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn get(&self, ctx: &RequestContext, ident: &str) -> Result<BayModel> {
        self.guard.enforce("get", ctx, None)?;
        self.find(&ctx.object_scope(), ident).await
    }

    /// The caller's baymodels and every public one; with `all_projects`, admins get
    /// every project's.
    #[tracing::instrument(skip_all)]
    pub async fn list(&self, ctx: &RequestContext, query: ListQuery) -> Result<Page<BayModel>> {
        let scope = self.guard.list_scope(ctx, query.all_projects)?;
        let page = PageRequest::new(
            query.page_size,
            &query.page_token,
            BayModelSortKey::parse(&query.sort_key)?,
            SortDir::parse(&query.sort_dir)?,
        )?;
        let items = self.repository.list(&scope, &page).await?;
        Ok(page_of(items, page.size, |baymodel| baymodel.uuid))
    }

    /// Applies `changes`; only the owner's project (or an admin) may.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn update(
        &self,
        ctx: &RequestContext,
        ident: &str,
        changes: BayModelChanges,
    ) -> Result<BayModel> {
        let scope = ctx.object_scope();
        let current = self.find(&scope, ident).await?;
        self.guard
            .enforce("update", ctx, Some((&current.project_id, &current.user_id)))?;
        if changes.touches(BayModelField::Public) {
            self.enforce_publish(ctx, Some(&current))?;
        }
        let now = now();
        let updated = current.apply(&changes, now)?;
        let event = event(ctx, &updated, BayModelChange::Updated, now);
        self.repository.update(&scope, &updated, &event).await?;
        tracing::info!(baymodel = %updated.uuid, "baymodel updated");
        Ok(updated)
    }

    /// Deletes a baymodel; only the owner's project (or an admin) may.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn delete(&self, ctx: &RequestContext, ident: &str) -> Result<()> {
        let scope = ctx.object_scope();
        let current = self.find(&scope, ident).await?;
        self.guard
            .enforce("delete", ctx, Some((&current.project_id, &current.user_id)))?;
        // Bays keep their baymodel: Magnum refuses (400) while any bay, of any project,
        // was made from it.
        if self.bays.count_using_baymodel(current.uuid).await? > 0 {
            return Err(Error::BayModelInUse(ident.to_owned()));
        }
        let event = event(ctx, &current, BayModelChange::Deleted, now());
        self.repository.delete(&scope, current.uuid, &event).await?;
        tracing::info!(baymodel = %current.uuid, "baymodel deleted");
        Ok(())
    }

    /// Resolves a uuid or a name within `scope`. A uuid-looking ident is only ever
    /// looked up as a uuid (no fallback to names), as both Magnum eras agree.
    pub(crate) async fn find(&self, scope: &Scope, ident: &str) -> Result<BayModel> {
        if let Ok(uuid) = Uuid::parse_str(ident) {
            return self
                .repository
                .find_by_uuid(scope, uuid)
                .await?
                .ok_or_else(|| Error::BayModelNotFound(ident.to_owned()));
        }
        // Two rows are enough to tell "one" from "ambiguous".
        let mut found = self.repository.find_by_name(scope, ident, 2).await?;
        match (found.pop(), found.is_empty()) {
            (Some(baymodel), true) => Ok(baymodel),
            (Some(_), false) => Err(Error::AmbiguousBayModelName(ident.to_owned())),
            (None, _) => Err(Error::BayModelNotFound(ident.to_owned())),
        }
    }
}

/// The node use cases: pure records, each project seeing and changing only its own
/// (admins: every project's). Nodes emit no events.
#[derive(Clone)]
pub struct Nodes {
    repository: Arc<dyn NodeRepository>,
    guard: ResourceGuard,
}

impl Nodes {
    /// The use cases on top of `repository`, under `policy`.
    pub fn new(repository: Arc<dyn NodeRepository>, policy: Policy) -> Self {
        Self {
            repository,
            guard: ResourceGuard::new(policy, "node"),
        }
    }

    /// Creates a node owned by the caller's project and user.
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, ctx: &RequestContext, new: NewNode) -> Result<Node> {
        self.guard.enforce("create", ctx, None)?;
        let owner = Owner {
            project_id: ctx.project_id.clone(),
            user_id: ctx.user_id.clone(),
        };
        let node = new.into_node(owner, now())?;
        self.repository.insert(&node).await?;
        tracing::info!(node = %node.uuid, "node created");
        Ok(node)
    }

    /// A node by uuid (names are refused): the caller's own, or (admins) any.
    #[tracing::instrument(skip_all, fields(uuid = %ident))]
    pub async fn get(&self, ctx: &RequestContext, ident: &str) -> Result<Node> {
        self.guard.enforce("get", ctx, None)?;
        self.find(&ctx.object_scope(), ident).await
    }

    /// The caller's project's nodes; with `all_projects`, admins get every project's.
    #[tracing::instrument(skip_all)]
    pub async fn list(&self, ctx: &RequestContext, query: ListQuery) -> Result<Page<Node>> {
        let scope = self.guard.list_scope(ctx, query.all_projects)?;
        let page = PageRequest::new(
            query.page_size,
            &query.page_token,
            NodeSortKey::parse(&query.sort_key)?,
            SortDir::parse(&query.sort_dir)?,
        )?;
        let items = self.repository.list(&scope, &page).await?;
        Ok(page_of(items, page.size, |node| node.uuid))
    }

    /// Applies `changes`; only the owner's project (or an admin) may.
    #[tracing::instrument(skip_all, fields(uuid = %ident))]
    pub async fn update(
        &self,
        ctx: &RequestContext,
        ident: &str,
        changes: NodeChanges,
    ) -> Result<Node> {
        let scope = ctx.object_scope();
        let current = self.find(&scope, ident).await?;
        self.guard
            .enforce("update", ctx, Some((&current.project_id, &current.user_id)))?;
        let updated = current.apply(&changes, now())?;
        self.repository.update(&scope, &updated).await?;
        tracing::info!(node = %updated.uuid, "node updated");
        Ok(updated)
    }

    /// Deletes a node; only the owner's project (or an admin) may.
    #[tracing::instrument(skip_all, fields(uuid = %ident))]
    pub async fn delete(&self, ctx: &RequestContext, ident: &str) -> Result<()> {
        let scope = ctx.object_scope();
        let current = self.find(&scope, ident).await?;
        self.guard
            .enforce("delete", ctx, Some((&current.project_id, &current.user_id)))?;
        self.repository.delete(&scope, current.uuid).await?;
        tracing::info!(node = %current.uuid, "node deleted");
        Ok(())
    }

    /// Resolves a uuid within `scope`; anything else is "Expected a uuid" (400).
    async fn find(&self, scope: &Scope, ident: &str) -> Result<Node> {
        let uuid = node::parse_ident(ident)?;
        self.repository
            .find_by_uuid(scope, uuid)
            .await?
            .ok_or_else(|| Error::NodeNotFound(ident.to_owned()))
    }
}

/// A page of `items` asked for with `size`. Magnum offers a next page whenever this one
/// is full, even if nothing follows.
fn page_of<T>(items: Vec<T>, size: u32, uuid: impl Fn(&T) -> Uuid) -> Page<T> {
    let full = u32::try_from(items.len()).is_ok_and(|len| len == size);
    let next_marker = if full { items.last().map(uuid) } else { None };
    Page { items, next_marker }
}

/// Now, at the precision every database keeps (microseconds), so what is returned equals
/// what is read back later.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn event(
    ctx: &RequestContext,
    baymodel: &BayModel,
    change: BayModelChange,
    occurred_at: DateTime<Utc>,
) -> BayModelEvent {
    BayModelEvent {
        id: Uuid::new_v4(),
        change,
        baymodel_uuid: baymodel.uuid,
        project_id: baymodel.project_id.clone(),
        occurred_at,
        actor: Actor {
            project_id: ctx.project_id.clone(),
            user_id: ctx.user_id.clone(),
            request_id: ctx.request_id.clone(),
        },
    }
}
