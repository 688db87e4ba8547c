//! Quota use cases (Magnum's `/v1/quotas`): admins set how many bays a project may have;
//! a project reads its own. Bay creates consult [`Quotas::hard_limit`].

use std::sync::Arc;

use magnum_common::{RequestContext, Scope};
use magnum_policy::{Policy, ResourceGuard};

use super::now;
use crate::domain::listing::MAX_PAGE_SIZE;
use crate::domain::ports::QuotaRepository;
use crate::domain::quota::{self, CLUSTER_RESOURCE, Quota};
use crate::error::{Error, Result};

/// A page of quotas and the id to continue after, when the page is full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaPage {
    pub items: Vec<Quota>,
    pub next_marker: Option<i64>,
}

/// The quota use cases.
#[derive(Clone)]
pub struct Quotas {
    repository: Arc<dyn QuotaRepository>,
    guard: ResourceGuard,
    /// The bays a project without a stored quota may have.
    default_hard_limit: u32,
}

impl Quotas {
    pub fn new(
        repository: Arc<dyn QuotaRepository>,
        policy: Policy,
        default_hard_limit: u32,
    ) -> Self {
        Self {
            repository,
            guard: ResourceGuard::new(policy, "quota"),
            default_hard_limit,
        }
    }

    /// The most bays `project_id` may have (stored quota, else the default). The system
    /// asks this for a caller's create, so it is not subject to `quota:get`.
    pub async fn hard_limit(&self, project_id: &str) -> Result<u32> {
        let scope = Scope::Project(project_id.to_owned());
        Ok(self
            .repository
            .find(&scope, project_id, CLUSTER_RESOURCE)
            .await?
            .map_or(self.default_hard_limit, |quota| quota.hard_limit))
    }

    #[tracing::instrument(skip_all, fields(project = %project_id, resource = %resource))]
    pub async fn create(
        &self,
        ctx: &RequestContext,
        project_id: &str,
        resource: &str,
        hard_limit: Option<i64>,
    ) -> Result<Quota> {
        self.guard.enforce("create", ctx, None)?;
        let quota = Quota::new(project_id, resource, hard_limit, now())?;
        let stored = self.repository.insert(&quota).await?;
        tracing::info!(hard_limit = stored.hard_limit, "quota created");
        Ok(stored)
    }

    /// The project's quota, or the default when none is stored (Magnum 10.0.0+).
    #[tracing::instrument(skip_all, fields(project = %project_id, resource = %resource))]
    pub async fn get(
        &self,
        ctx: &RequestContext,
        project_id: &str,
        resource: &str,
    ) -> Result<Quota> {
        self.guard
            .enforce("get", ctx, Some((project_id, &ctx.user_id)))?;
        quota::check_resource(resource)?;
        let scope = Scope::Project(project_id.to_owned());
        Ok(self
            .repository
            .find(&scope, project_id, resource)
            .await?
            .unwrap_or_else(|| Quota::default_for(project_id, self.default_hard_limit)))
    }

    /// The caller's project's quotas; with `all_projects`, every stored one.
    #[tracing::instrument(skip_all)]
    pub async fn list(
        &self,
        ctx: &RequestContext,
        all_projects: bool,
        page_size: u32,
        marker: &str,
        sort_dir: &str,
    ) -> Result<QuotaPage> {
        self.guard.enforce("get_all", ctx, None)?;
        let scope = if all_projects {
            Scope::AllProjects
        } else {
            Scope::Project(ctx.project_id.clone())
        };
        let after = match marker {
            "" => None,
            marker => Some(
                marker
                    .parse::<i64>()
                    .map_err(|_| Error::InvalidQuotaMarker(marker.to_owned()))?,
            ),
        };
        let descending = match sort_dir {
            "" | "asc" => false,
            "desc" => true,
            other => return Err(Error::InvalidSortDir(other.to_owned())),
        };
        let size = match page_size {
            0 => MAX_PAGE_SIZE,
            size => size.min(MAX_PAGE_SIZE),
        };
        let items = self
            .repository
            .list(&scope, after, size, descending)
            .await?;
        let full = u32::try_from(items.len()).is_ok_and(|len| len == size);
        let next_marker = if full {
            items.last().map(|quota| quota.id)
        } else {
            None
        };
        Ok(QuotaPage { items, next_marker })
    }

    #[tracing::instrument(skip_all, fields(project = %project_id, resource = %resource))]
    pub async fn update(
        &self,
        ctx: &RequestContext,
        project_id: &str,
        resource: &str,
        hard_limit: i64,
    ) -> Result<Quota> {
        self.guard.enforce("update", ctx, None)?;
        let scope = Scope::Project(project_id.to_owned());
        let current = self
            .repository
            .find(&scope, project_id, resource)
            .await?
            .ok_or_else(|| Error::QuotaNotFound {
                project_id: project_id.to_owned(),
                resource: resource.to_owned(),
            })?;
        let updated = current.with_limit(hard_limit, now())?;
        self.repository.update(&updated).await?;
        tracing::info!(hard_limit = updated.hard_limit, "quota updated");
        Ok(updated)
    }

    #[tracing::instrument(skip_all, fields(project = %project_id, resource = %resource))]
    pub async fn delete(
        &self,
        ctx: &RequestContext,
        project_id: &str,
        resource: &str,
    ) -> Result<()> {
        self.guard.enforce("delete", ctx, None)?;
        self.repository.delete(project_id, resource).await?;
        tracing::info!("quota deleted");
        Ok(())
    }
}
