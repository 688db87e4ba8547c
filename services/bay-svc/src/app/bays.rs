//! Bay use cases: create, read, resize and delete bays, their certificates and their
//! credentials. Changes record an operation that a worker carries out (see `operations`).

use std::collections::HashMap;
use std::sync::Arc;

use magnum_bay_driver::BayDriver;
use magnum_common::{RequestContext, Scope};
use magnum_pki::{PkiError, Sealer};
use magnum_policy::Policy;
use uuid::Uuid;

use super::{BayModels, ListQuery, Quotas, now, page_of};
use crate::domain::bay::{Bay, BaySortKey, NewBay, Operation, OperationKind};
use crate::domain::baymodel::{Coe, Owner};
use crate::domain::credentials::{self, BayAccess, BayCredentials};
use crate::domain::event::{Actor, BayStatusEvent};
use crate::domain::listing::{Page, PageRequest, SortDir};
use crate::domain::ports::{BayRepository, StoredCa};
use crate::error::{Error, Result};
use magnum_policy::ResourceGuard;

mod nodegroups;

/// How often a delete re-reads a bay whose status moved under it before giving up.
const DELETE_TRIES: usize = 5;

/// The drivers this deployment has, by COE.
#[derive(Debug, Clone, Default)]
pub struct Drivers {
    by_coe: HashMap<&'static str, Arc<dyn BayDriver>>,
}

impl Drivers {
    pub fn new(drivers: impl IntoIterator<Item = Arc<dyn BayDriver>>) -> Self {
        Self {
            by_coe: drivers
                .into_iter()
                .map(|driver| (driver.coe(), driver))
                .collect(),
        }
    }

    pub fn get(&self, coe: Coe) -> Option<Arc<dyn BayDriver>> {
        self.by_coe.get(coe.as_str()).cloned()
    }
}

/// Certificate authorities: one per bay, keys sealed at rest.
#[derive(Clone)]
pub struct Pki {
    pub sealer: Arc<Sealer>,
    pub ca_validity_days: u32,
    pub cert_validity_days: u32,
}

impl Pki {
    /// A new CA for `bay`, its key sealed to the bay's uuid.
    pub fn issue_ca(&self, bay: Uuid, name: &str) -> Result<StoredCa> {
        let validity = chrono::TimeDelta::days(i64::from(self.ca_validity_days));
        let ca = magnum_pki::generate_ca(name, validity).map_err(pki_error)?;
        let sealed_key = self
            .sealer
            .seal(ca.key_pem.as_bytes(), bay.as_bytes())
            .map_err(pki_error)?;
        Ok(StoredCa {
            cert_pem: ca.cert_pem,
            sealed_key,
        })
    }

    /// Signs `csr` with the bay's CA.
    pub fn sign(&self, bay: Uuid, ca: &StoredCa, csr: &str) -> Result<String> {
        let key = self
            .sealer
            .open(&ca.sealed_key, bay.as_bytes())
            .map_err(pki_error)?;
        let key_pem = String::from_utf8(key.to_vec())
            .map_err(|error| Error::Pki(format!("CA key is not PEM: {error}").into()))?;
        let pair = magnum_pki::CaKeyPair {
            cert_pem: ca.cert_pem.clone(),
            key_pem,
        };
        magnum_pki::sign_csr(&pair, csr, self.cert_validity_days).map_err(pki_error)
    }
}

/// Seals a bay's driver credential for the store, bound to the bay's uuid as its CA key is:
/// a sealed value copied into another bay's row does not open.
pub(crate) fn seal_credential(sealer: &Sealer, bay: Uuid, credential: &[u8]) -> Result<Vec<u8>> {
    sealer
        .seal(credential, bay.as_bytes())
        .map_err(|error| Error::CredentialSealing(Box::new(error)))
}

/// Opens what [`seal_credential`] sealed for `bay`: the credential as text (a bearer token).
fn open_credential(sealer: &Sealer, bay: Uuid, sealed: &[u8]) -> Result<String> {
    let opened = sealer
        .open(sealed, bay.as_bytes())
        .map_err(|error| Error::CredentialSealing(Box::new(error)))?;
    String::from_utf8(opened.to_vec())
        .map_err(|_| Error::CredentialSealing("the unsealed credential is not UTF-8 text".into()))
}

fn pki_error(error: PkiError) -> Error {
    match error {
        PkiError::InvalidCsr(reason) => Error::InvalidCsr(reason),
        other => Error::Pki(Box::new(other)),
    }
}

/// The bay use cases.
#[derive(Clone)]
pub struct Bays {
    repository: Arc<dyn BayRepository>,
    baymodels: BayModels,
    drivers: Drivers,
    pki: Pki,
    quotas: Quotas,
    guard: ResourceGuard,
    certificates: ResourceGuard,
    stats: ResourceGuard,
    nodegroups: ResourceGuard,
    /// Minutes, for a create that asks for the service's default (`null`).
    default_create_timeout: u32,
}

impl Bays {
    pub fn new(
        repository: Arc<dyn BayRepository>,
        baymodels: BayModels,
        drivers: Drivers,
        pki: Pki,
        quotas: Quotas,
        policy: Policy,
        default_create_timeout: u32,
    ) -> Self {
        Self {
            repository,
            baymodels,
            drivers,
            pki,
            quotas,
            guard: ResourceGuard::new(policy.clone(), "bay"),
            certificates: ResourceGuard::new(policy.clone(), "certificate"),
            stats: ResourceGuard::new(policy.clone(), "stats"),
            nodegroups: ResourceGuard::new(policy, "nodegroup"),
            default_create_timeout,
        }
    }

    /// Creates a bay from the baymodel `baymodel_ident` (uuid or name, visible to the
    /// caller): stores it `CREATE_IN_PROGRESS` with its CA and the create operation.
    #[tracing::instrument(skip_all, fields(baymodel = %baymodel_ident))]
    pub async fn create(
        &self,
        ctx: &RequestContext,
        baymodel_ident: &str,
        new: NewBay,
    ) -> Result<(Bay, Operation)> {
        self.guard.enforce("create", ctx, None)?;
        if baymodel_ident.is_empty() {
            return Err(Error::InvalidField {
                field: "baymodel_id",
                value: String::new(),
                reason: "Mandatory field missing.".to_owned(),
            });
        }
        let baymodel = self
            .baymodels
            .find(&ctx.object_scope(), baymodel_ident)
            .await?;
        if self.drivers.get(baymodel.coe).is_none() {
            return Err(Error::BayTypeNotSupported {
                server_type: baymodel.server_type.as_str().to_owned(),
                distro: baymodel
                    .cluster_distro
                    .clone()
                    .unwrap_or_else(|| "unknown".to_owned()),
                coe: baymodel.coe.as_str().to_owned(),
                reason: format!(
                    "No {} driver is configured in this deployment.",
                    baymodel.coe.as_str()
                ),
            });
        }
        let now = now();
        let owner = Owner {
            project_id: ctx.project_id.clone(),
            user_id: ctx.user_id.clone(),
        };
        let uuid = Uuid::new_v4();
        let bay = new.into_bay(uuid, &baymodel, owner, self.default_create_timeout, now)?;
        let hard_limit = self.quotas.hard_limit(&bay.project_id).await?;
        let ca = self.pki.issue_ca(uuid, &bay.display_name())?;
        let operation = operation(ctx, &bay, OperationKind::Create, now);
        let event = BayStatusEvent::of(&bay, now);
        self.repository
            .insert(&bay, &ca, &operation, &event, hard_limit)
            .await?;
        tracing::info!(bay = %bay.uuid, operation = %operation.id, "bay create accepted");
        Ok((bay, operation))
    }

    /// A bay by uuid or name: the caller's project's, or (admins) any.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn get(&self, ctx: &RequestContext, ident: &str) -> Result<Bay> {
        self.guard.enforce("get", ctx, None)?;
        self.find(&ctx.object_scope(), ident).await
    }

    /// How many bays and nodes a project has: the caller's own, or for admins any
    /// project's or (no project) every project's (Magnum's stats).
    #[tracing::instrument(skip_all)]
    pub async fn stats(
        &self,
        ctx: &RequestContext,
        project_id: Option<&str>,
    ) -> Result<(u64, u64)> {
        let scope = match project_id {
            Some(project) => {
                self.stats
                    .enforce("get_all", ctx, Some((project, &ctx.user_id)))?;
                Scope::Project(project.to_owned())
            }
            None => {
                self.stats.enforce("get_all", ctx, None)?;
                ctx.object_scope()
            }
        };
        self.repository.stats(&scope).await
    }

    /// The caller's project's bays; with `all_projects`, admins get every project's.
    #[tracing::instrument(skip_all)]
    pub async fn list(&self, ctx: &RequestContext, query: ListQuery) -> Result<Page<Bay>> {
        let scope = self.guard.list_scope(ctx, query.all_projects)?;
        let page = PageRequest::new(
            query.page_size,
            &query.page_token,
            BaySortKey::parse(&query.sort_key)?,
            SortDir::parse(&query.sort_dir)?,
        )?;
        let items = self.repository.list(&scope, &page).await?;
        Ok(page_of(items, page.size, |bay| bay.uuid))
    }

    /// Starts changing the bay's node count. `None` operation: the count is unchanged.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn update(
        &self,
        ctx: &RequestContext,
        ident: &str,
        node_count: i64,
    ) -> Result<(Bay, Option<Operation>)> {
        let scope = ctx.object_scope();
        let current = self.find(&scope, ident).await?;
        self.guard
            .enforce("update", ctx, Some((&current.project_id, &current.user_id)))?;
        // The other groups' workers are part of the count: the default group keeps one.
        let others: u32 = self
            .repository
            .node_groups(&scope, current.uuid)
            .await?
            .iter()
            .map(|group| group.node_count)
            .sum();
        if others > 0 && node_count <= i64::from(others) {
            return Err(Error::NodeCountBelowGroups { node_count, others });
        }
        let now = now();
        let Some(updated) = current.begin_update(node_count, now)? else {
            return Ok((current, None));
        };
        let operation = operation(ctx, &updated, OperationKind::Update, now);
        let event = BayStatusEvent::of(&updated, now);
        if !self
            .repository
            .begin(&scope, &updated, current.status, &operation, &event)
            .await?
        {
            return Err(Error::BayOperationInProgress(current.display_name()));
        }
        tracing::info!(bay = %updated.uuid, operation = %operation.id, "bay update accepted");
        Ok((updated, Some(operation)))
    }

    /// Starts deleting the bay (any status). `None`: a delete is already under way.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn delete(&self, ctx: &RequestContext, ident: &str) -> Result<Option<Operation>> {
        let scope = ctx.object_scope();
        let mut current = self.find(&scope, ident).await?;
        self.guard
            .enforce("delete", ctx, Some((&current.project_id, &current.user_id)))?;
        // A worker may settle the bay between the read and the write (a create finishing):
        // any status may be deleted, so try again from the status it has now.
        for _ in 0..DELETE_TRIES {
            if current.status == crate::domain::bay::BayStatus::DeleteInProgress {
                return Ok(None);
            }
            let now = now();
            let deleting = current.begin_delete(now);
            let operation = operation(ctx, &deleting, OperationKind::Delete, now);
            let event = BayStatusEvent::of(&deleting, now);
            if self
                .repository
                .begin(&scope, &deleting, current.status, &operation, &event)
                .await?
            {
                tracing::info!(bay = %deleting.uuid, operation = %operation.id, "bay delete accepted");
                return Ok(Some(operation));
            }
            current = self.find(&scope, &current.uuid.to_string()).await?;
        }
        Err(Error::BayOperationInProgress(current.display_name()))
    }

    /// The bay's CA certificate (PEM).
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn ca(&self, ctx: &RequestContext, ident: &str) -> Result<(Bay, String)> {
        let bay = self.find(&ctx.object_scope(), ident).await?;
        self.certificates
            .enforce("get", ctx, Some((&bay.project_id, &bay.user_id)))?;
        let ca = self.stored_ca(&bay).await?;
        Ok((bay, ca.cert_pem))
    }

    /// Signs a CSR with the bay's CA; returns the certificate (PEM).
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn sign(
        &self,
        ctx: &RequestContext,
        ident: &str,
        csr: &str,
    ) -> Result<(Bay, String)> {
        let bay = self.find(&ctx.object_scope(), ident).await?;
        self.certificates
            .enforce("create", ctx, Some((&bay.project_id, &bay.user_id)))?;
        if csr.trim().is_empty() {
            return Err(Error::InvalidField {
                field: "csr",
                value: csr.to_owned(),
                reason: "Value should have a minimum character requirement of 1".to_owned(),
            });
        }
        let ca = self.stored_ca(&bay).await?;
        let pem = self.pki.sign(bay.uuid, &ca, csr)?;
        Ok((bay, pem))
    }

    /// Replaces the bay's CA with a new one: certificates it signed stop verifying.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn rotate_ca(&self, ctx: &RequestContext, ident: &str) -> Result<Bay> {
        let bay = self.find(&ctx.object_scope(), ident).await?;
        self.certificates
            .enforce("rotate_ca", ctx, Some((&bay.project_id, &bay.user_id)))?;
        let ca = self.pki.issue_ca(bay.uuid, &bay.display_name())?;
        self.repository.replace_ca(bay.uuid, &ca).await?;
        tracing::info!(bay = %bay.uuid, "bay CA rotated");
        Ok(bay)
    }

    /// How to reach the bay's own API as the bay, with its credential (a kubernetes bay's
    /// ServiceAccount token, namespace-scoped): for the bay's owner (`bay:get_credentials`),
    /// once the bay is usable.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn credentials(&self, ctx: &RequestContext, ident: &str) -> Result<BayCredentials> {
        let bay = self.find(&ctx.object_scope(), ident).await?;
        self.guard.enforce(
            "get_credentials",
            ctx,
            Some((&bay.project_id, &bay.user_id)),
        )?;
        let access = BayAccess::of(&bay)?;
        let sealed = self
            .repository
            .find_sealed_credential(bay.uuid)
            .await?
            .ok_or_else(|| credentials::no_credentials(&bay))?;
        let token = open_credential(&self.pki.sealer, bay.uuid, &sealed)?;
        tracing::info!(bay = %bay.uuid, "bay credentials handed out");
        Ok(access.with_token(token))
    }

    async fn stored_ca(&self, bay: &Bay) -> Result<StoredCa> {
        self.repository
            .find_ca(bay.uuid)
            .await?
            .ok_or(Error::CaMissing(bay.uuid))
    }

    /// Resolves a uuid or a name within `scope` (a uuid is only looked up as a uuid).
    async fn find(&self, scope: &Scope, ident: &str) -> Result<Bay> {
        if let Ok(uuid) = Uuid::parse_str(ident) {
            return self
                .repository
                .find_by_uuid(scope, uuid)
                .await?
                .ok_or_else(|| Error::BayNotFound(ident.to_owned()));
        }
        let mut found = self.repository.find_by_name(scope, ident, 2).await?;
        match (found.pop(), found.is_empty()) {
            (Some(bay), true) => Ok(bay),
            (Some(_), false) => Err(Error::AmbiguousBayName(ident.to_owned())),
            (None, _) => Err(Error::BayNotFound(ident.to_owned())),
        }
    }
}

fn operation(
    ctx: &RequestContext,
    bay: &Bay,
    kind: OperationKind,
    now: chrono::DateTime<chrono::Utc>,
) -> Operation {
    Operation {
        id: Uuid::now_v7(),
        kind,
        bay_uuid: bay.uuid,
        node_count: bay.node_count,
        actor: Actor {
            project_id: ctx.project_id.clone(),
            user_id: ctx.user_id.clone(),
            request_id: ctx.request_id.clone(),
        },
        requested_at: now,
    }
}
