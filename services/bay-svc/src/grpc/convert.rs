//! Every conversion between protobuf messages and domain types, in one place. Decoding
//! failures are crate errors of the InvalidArgument kind.

use chrono::{DateTime, Utc};
use magnum_proto::bay::v1 as pb;
use magnum_proto::common::v1::ListOptions;
use magnum_proto::events::v1 as events;
use prost_types::{FieldMask, Timestamp};

use crate::app::ListQuery;
use crate::domain::baymodel::{BayModel, BayModelChanges, NewBayModel};
use crate::domain::event::{BayModelChange, BayModelEvent};
use crate::domain::node::{NewNode, Node, NodeChanges};
use crate::error::Result;

impl From<pb::BayModelSpec> for NewBayModel {
    fn from(spec: pb::BayModelSpec) -> Self {
        Self {
            uuid: spec.uuid,
            name: spec.name,
            coe: spec.coe,
            image_id: spec.image_id,
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
            registry_enabled: spec.registry_enabled,
            labels: spec
                .labels
                .map(|labels| labels.values.into_iter().collect()),
            tls_disabled: spec.tls_disabled,
            public: spec.public,
            server_type: spec.server_type,
            master_lb_enabled: spec.master_lb_enabled,
            floating_ip_enabled: spec.floating_ip_enabled,
            hidden: spec.hidden,
            tags: spec.tags,
        }
    }
}

/// An update request's spec and mask as domain changes (a bad mask path is an error).
pub(super) fn changes(
    spec: Option<pb::BayModelSpec>,
    mask: Option<FieldMask>,
) -> Result<BayModelChanges> {
    let values = NewBayModel::from(spec.unwrap_or_default());
    let paths = mask.map(|mask| mask.paths).unwrap_or_default();
    BayModelChanges::new(paths.iter().map(String::as_str), values)
}

impl From<BayModel> for pb::BayModel {
    fn from(baymodel: BayModel) -> Self {
        Self {
            uuid: baymodel.uuid.to_string(),
            name: baymodel.name,
            coe: baymodel.coe.as_str().to_owned(),
            image_id: baymodel.image_id,
            keypair_id: baymodel.keypair_id,
            flavor_id: baymodel.flavor_id,
            master_flavor_id: baymodel.master_flavor_id,
            dns_nameserver: baymodel.dns_nameserver,
            external_network_id: baymodel.external_network_id,
            fixed_network: baymodel.fixed_network,
            fixed_subnet: baymodel.fixed_subnet,
            network_driver: Some(baymodel.network_driver),
            volume_driver: baymodel.volume_driver,
            apiserver_port: baymodel.apiserver_port,
            docker_volume_size: baymodel.docker_volume_size,
            docker_storage_driver: baymodel.docker_storage_driver,
            ssh_authorized_key: baymodel.ssh_authorized_key,
            http_proxy: baymodel.http_proxy,
            https_proxy: baymodel.https_proxy,
            no_proxy: baymodel.no_proxy,
            insecure_registry: baymodel.insecure_registry,
            registry_enabled: baymodel.registry_enabled,
            labels: baymodel.labels.into_iter().collect(),
            tls_disabled: baymodel.tls_disabled,
            public: baymodel.public,
            server_type: baymodel.server_type.as_str().to_owned(),
            master_lb_enabled: baymodel.master_lb_enabled,
            floating_ip_enabled: baymodel.floating_ip_enabled,
            hidden: baymodel.hidden,
            tags: baymodel.tags,
            cluster_distro: baymodel.cluster_distro,
            driver: baymodel.driver,
            project_id: baymodel.project_id,
            user_id: baymodel.user_id,
            created_at: Some(timestamp(baymodel.created_at)),
            updated_at: baymodel.updated_at.map(timestamp),
        }
    }
}

impl From<pb::NodeSpec> for NewNode {
    fn from(spec: pb::NodeSpec) -> Self {
        Self {
            uuid: spec.uuid,
            node_type: spec.r#type,
            image_id: spec.image_id,
            ironic_node_id: spec.ironic_node_id,
        }
    }
}

/// A node update request's spec and mask as domain changes (a bad mask path is an error).
pub(super) fn node_changes(
    spec: Option<pb::NodeSpec>,
    mask: Option<FieldMask>,
) -> Result<NodeChanges> {
    let values = NewNode::from(spec.unwrap_or_default());
    let paths = mask.map(|mask| mask.paths).unwrap_or_default();
    NodeChanges::new(paths.iter().map(String::as_str), values)
}

impl From<Node> for pb::Node {
    fn from(node: Node) -> Self {
        Self {
            uuid: node.uuid.to_string(),
            r#type: node.node_type,
            image_id: node.image_id,
            ironic_node_id: node.ironic_node_id,
            project_id: node.project_id,
            user_id: node.user_id,
            created_at: Some(timestamp(node.created_at)),
            updated_at: node.updated_at.map(timestamp),
        }
    }
}

impl From<ListOptions> for ListQuery {
    fn from(options: ListOptions) -> Self {
        Self {
            page_size: options.page_size,
            page_token: options.page_token,
            sort_key: options.sort_key,
            sort_dir: options.sort_dir,
            all_projects: options.all_projects,
        }
    }
}

/// The event as it travels on the bus (`magnum.events.baymodel.*`).
impl From<&BayModelEvent> for events::BayModelChanged {
    fn from(event: &BayModelEvent) -> Self {
        let change = match event.change {
            BayModelChange::Created => events::bay_model_changed::Change::Created,
            BayModelChange::Updated => events::bay_model_changed::Change::Updated,
            BayModelChange::Deleted => events::bay_model_changed::Change::Deleted,
        };
        Self {
            change: change.into(),
            baymodel_uuid: event.baymodel_uuid.to_string(),
            project_id: event.project_id.clone(),
            occurred_at: Some(timestamp(event.occurred_at)),
            actor: Some(events::Actor {
                project_id: event.actor.project_id.clone(),
                user_id: event.actor.user_id.clone(),
                request_id: event.actor.request_id.clone(),
            }),
        }
    }
}

pub(crate) fn timestamp(time: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: time.timestamp(),
        // Below 2e9 even in a leap second, so it always fits.
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(i32::MAX),
    }
}

#[cfg(test)]
#[path = "convert_test.rs"]
mod tests;
