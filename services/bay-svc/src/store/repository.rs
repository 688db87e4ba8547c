//! The baymodel repository on sea-orm (Postgres or SQLite).
//!
//! Tenancy is structural: every query starts from `magnum_db::tenancy` with the caller's
//! scope (public rows are readable by all; see the entity's `TenantEntity`).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use magnum_common::Scope;
use magnum_db::tenancy;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, SqlErr, TransactionTrait,
};
use tokio::sync::Notify;
use uuid::Uuid;

use super::entities::baymodel::{ActiveModel, Column, Entity, Model};
use super::outbox;
use crate::domain::baymodel::{BayModel, BayModelSortKey, Coe, ServerType};
use crate::domain::event::BayModelEvent;
use crate::domain::listing::PageRequest;
use crate::domain::ports::BayModelRepository;
use crate::error::{Error, Result};
use magnum_db::keyset;

/// Baymodels in a SQL database.
#[derive(Clone)]
pub struct SqlBayModelRepository {
    db: DatabaseConnection,
    relay: outbox::RelayWake,
}

impl SqlBayModelRepository {
    /// `db` must have been migrated with [`super::Migrator`].
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            relay: outbox::RelayWake::default(),
        }
    }

    /// Wakes the outbox relay after each commit, so events go out at once rather than
    /// at its next poll.
    pub fn with_outbox_notifier(mut self, notifier: Arc<Notify>) -> Self {
        self.relay = outbox::RelayWake::new(notifier);
        self
    }
}

/// The start of every read.
fn readable(scope: &Scope) -> Select<Entity> {
    tenancy::find::<Entity>(scope)
}

#[async_trait]
impl BayModelRepository for SqlBayModelRepository {
    async fn insert(&self, baymodel: &BayModel, event: &BayModelEvent) -> Result<()> {
        let txn = self.db.begin().await.map_err(db_error)?;
        Entity::insert(to_active_model(baymodel)?)
            .exec_without_returning(&txn)
            .await
            .map_err(|error| match error.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => Error::BayModelExists(baymodel.uuid),
                _ => db_error(error),
            })?;
        outbox::enqueue_baymodel_event(&txn, event).await?;
        self.relay.commit(txn).await
    }

    async fn find_by_uuid(&self, scope: &Scope, uuid: Uuid) -> Result<Option<BayModel>> {
        readable(scope)
            .filter(Column::Uuid.eq(uuid.to_string()))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(to_domain)
            .transpose()
    }

    async fn find_by_name(&self, scope: &Scope, name: &str, limit: u32) -> Result<Vec<BayModel>> {
        readable(scope)
            .filter(Column::Name.eq(name))
            .order_by_asc(Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn list(
        &self,
        scope: &Scope,
        page: &PageRequest<BayModelSortKey>,
    ) -> Result<Vec<BayModel>> {
        let keys = keyset::KeyColumns {
            uuid: Column::Uuid,
            id: Column::Id,
        };
        let sort = sort_column(page.sort_key);
        keyset::page(
            &self.db,
            readable(scope),
            keys,
            sort,
            page.sort_dir,
            page.marker,
            page.size,
        )
        .await
        .map_err(db_error)?
        .ok_or_else(|| {
            Error::BayModelNotFound(page.marker.map(|m| m.to_string()).unwrap_or_default())
        })?
        .into_iter()
        .map(to_domain)
        .collect()
    }

    async fn update(
        &self,
        scope: &Scope,
        baymodel: &BayModel,
        event: &BayModelEvent,
    ) -> Result<()> {
        let mut changes = to_active_model(baymodel)?;
        // Identity and ownership never change.
        changes.uuid = NotSet;
        changes.project_id = NotSet;
        changes.user_id = NotSet;
        changes.created_at = NotSet;
        let txn = self.db.begin().await.map_err(db_error)?;
        let updated = tenancy::update_many::<Entity>(scope)
            .set(changes)
            .filter(Column::Uuid.eq(baymodel.uuid.to_string()))
            .exec(&txn)
            .await
            .map_err(db_error)?;
        if updated.rows_affected == 0 {
            return Err(Error::BayModelNotFound(baymodel.uuid.to_string()));
        }
        outbox::enqueue_baymodel_event(&txn, event).await?;
        self.relay.commit(txn).await
    }

    async fn delete(&self, scope: &Scope, uuid: Uuid, event: &BayModelEvent) -> Result<()> {
        let txn = self.db.begin().await.map_err(db_error)?;
        let deleted = tenancy::delete_many::<Entity>(scope)
            .filter(Column::Uuid.eq(uuid.to_string()))
            .exec(&txn)
            .await
            .map_err(db_error)?;
        if deleted.rows_affected == 0 {
            return Err(Error::BayModelNotFound(uuid.to_string()));
        }
        outbox::enqueue_baymodel_event(&txn, event).await?;
        self.relay.commit(txn).await
    }
}

fn sort_column(key: BayModelSortKey) -> Column {
    match key {
        BayModelSortKey::Id => Column::Id,
        BayModelSortKey::Uuid => Column::Uuid,
        BayModelSortKey::Name => Column::Name,
        BayModelSortKey::Coe => Column::Coe,
        BayModelSortKey::ImageId => Column::ImageId,
        BayModelSortKey::KeypairId => Column::KeypairId,
        BayModelSortKey::FlavorId => Column::FlavorId,
        BayModelSortKey::MasterFlavorId => Column::MasterFlavorId,
        BayModelSortKey::DnsNameserver => Column::DnsNameserver,
        BayModelSortKey::ExternalNetworkId => Column::ExternalNetworkId,
        BayModelSortKey::FixedNetwork => Column::FixedNetwork,
        BayModelSortKey::FixedSubnet => Column::FixedSubnet,
        BayModelSortKey::NetworkDriver => Column::NetworkDriver,
        BayModelSortKey::VolumeDriver => Column::VolumeDriver,
        BayModelSortKey::ApiserverPort => Column::ApiserverPort,
        BayModelSortKey::DockerVolumeSize => Column::DockerVolumeSize,
        BayModelSortKey::DockerStorageDriver => Column::DockerStorageDriver,
        BayModelSortKey::SshAuthorizedKey => Column::SshAuthorizedKey,
        BayModelSortKey::HttpProxy => Column::HttpProxy,
        BayModelSortKey::HttpsProxy => Column::HttpsProxy,
        BayModelSortKey::NoProxy => Column::NoProxy,
        BayModelSortKey::InsecureRegistry => Column::InsecureRegistry,
        BayModelSortKey::RegistryEnabled => Column::RegistryEnabled,
        BayModelSortKey::TlsDisabled => Column::TlsDisabled,
        BayModelSortKey::Public => Column::Public,
        BayModelSortKey::ServerType => Column::ServerType,
        BayModelSortKey::MasterLbEnabled => Column::MasterLbEnabled,
        BayModelSortKey::FloatingIpEnabled => Column::FloatingIpEnabled,
        BayModelSortKey::Hidden => Column::Hidden,
        BayModelSortKey::Tags => Column::Tags,
        BayModelSortKey::ClusterDistro => Column::ClusterDistro,
        BayModelSortKey::Driver => Column::Driver,
        BayModelSortKey::ProjectId => Column::ProjectId,
        BayModelSortKey::UserId => Column::UserId,
        BayModelSortKey::CreatedAt => Column::CreatedAt,
        BayModelSortKey::UpdatedAt => Column::UpdatedAt,
    }
}

fn to_active_model(baymodel: &BayModel) -> Result<ActiveModel> {
    let labels = serde_json::to_string(&baymodel.labels).map_err(|error| Error::CorruptRecord {
        kind: "baymodel",
        uuid: baymodel.uuid.to_string(),
        reason: format!("labels cannot be encoded: {error}"),
    })?;
    Ok(ActiveModel {
        id: NotSet,
        uuid: Set(baymodel.uuid.to_string()),
        name: Set(baymodel.name.clone()),
        coe: Set(baymodel.coe.as_str().to_owned()),
        image_id: Set(baymodel.image_id.clone()),
        // The column predates optional keypairs and SQLite cannot relax a NOT NULL in
        // place: an empty string stands for "none" (the domain refuses empty names).
        keypair_id: Set(baymodel.keypair_id.clone().unwrap_or_default()),
        flavor_id: Set(baymodel.flavor_id.clone()),
        master_flavor_id: Set(baymodel.master_flavor_id.clone()),
        dns_nameserver: Set(baymodel.dns_nameserver.clone()),
        external_network_id: Set(baymodel.external_network_id.clone()),
        fixed_network: Set(baymodel.fixed_network.clone()),
        fixed_subnet: Set(baymodel.fixed_subnet.clone()),
        network_driver: Set(baymodel.network_driver.clone()),
        volume_driver: Set(baymodel.volume_driver.clone()),
        apiserver_port: Set(baymodel.apiserver_port),
        docker_volume_size: Set(baymodel.docker_volume_size),
        docker_storage_driver: Set(baymodel.docker_storage_driver.clone()),
        ssh_authorized_key: Set(baymodel.ssh_authorized_key.clone()),
        http_proxy: Set(baymodel.http_proxy.clone()),
        https_proxy: Set(baymodel.https_proxy.clone()),
        no_proxy: Set(baymodel.no_proxy.clone()),
        insecure_registry: Set(baymodel.insecure_registry.clone()),
        registry_enabled: Set(baymodel.registry_enabled),
        labels: Set(labels),
        tls_disabled: Set(baymodel.tls_disabled),
        public: Set(baymodel.public),
        server_type: Set(baymodel.server_type.as_str().to_owned()),
        master_lb_enabled: Set(baymodel.master_lb_enabled),
        floating_ip_enabled: Set(baymodel.floating_ip_enabled),
        hidden: Set(baymodel.hidden),
        tags: Set(baymodel.tags.clone()),
        cluster_distro: Set(baymodel.cluster_distro.clone()),
        driver: Set(baymodel.driver.clone()),
        project_id: Set(baymodel.project_id.clone()),
        user_id: Set(baymodel.user_id.clone()),
        created_at: Set(baymodel.created_at),
        updated_at: Set(baymodel.updated_at),
    })
}

fn to_domain(row: Model) -> Result<BayModel> {
    let corrupt = |reason: String| Error::CorruptRecord {
        kind: "baymodel",
        uuid: row.uuid.clone(),
        reason,
    };
    let uuid = Uuid::parse_str(&row.uuid).map_err(|error| corrupt(format!("uuid: {error}")))?;
    let coe = Coe::parse(&row.coe).map_err(|error| corrupt(error.to_string()))?;
    let server_type =
        ServerType::parse(&row.server_type).map_err(|error| corrupt(error.to_string()))?;
    let labels: BTreeMap<String, String> =
        serde_json::from_str(&row.labels).map_err(|error| corrupt(format!("labels: {error}")))?;
    Ok(BayModel {
        uuid,
        name: row.name,
        coe,
        image_id: row.image_id,
        keypair_id: Some(row.keypair_id).filter(|keypair| !keypair.is_empty()),
        flavor_id: row.flavor_id,
        master_flavor_id: row.master_flavor_id,
        dns_nameserver: row.dns_nameserver,
        external_network_id: row.external_network_id,
        fixed_network: row.fixed_network,
        fixed_subnet: row.fixed_subnet,
        network_driver: row.network_driver,
        volume_driver: row.volume_driver,
        apiserver_port: row.apiserver_port,
        docker_volume_size: row.docker_volume_size,
        docker_storage_driver: row.docker_storage_driver,
        ssh_authorized_key: row.ssh_authorized_key,
        http_proxy: row.http_proxy,
        https_proxy: row.https_proxy,
        no_proxy: row.no_proxy,
        insecure_registry: row.insecure_registry,
        registry_enabled: row.registry_enabled,
        labels,
        tls_disabled: row.tls_disabled,
        public: row.public,
        server_type,
        master_lb_enabled: row.master_lb_enabled,
        floating_ip_enabled: row.floating_ip_enabled,
        hidden: row.hidden,
        tags: row.tags,
        cluster_distro: row.cluster_distro,
        driver: row.driver,
        project_id: row.project_id,
        user_id: row.user_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Connection-level failures are "unavailable" (retryable); the rest are internal.
pub(super) fn db_error(error: DbErr) -> Error {
    match error {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Error::DatabaseUnavailable(Box::new(error)),
        other => Error::Database(Box::new(other)),
    }
}
