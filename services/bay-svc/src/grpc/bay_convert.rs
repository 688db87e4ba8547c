//! Conversions between the bay protobuf messages and the bay domain types.

use magnum_proto::bay::v1 as pb;
use magnum_proto::events::v1 as events;
use prost_types::Timestamp;

use super::convert::timestamp;
use crate::domain::bay::{Bay, BayStatus, NewBay, Operation, OperationKind};
use crate::domain::credentials::BayCredentials;
use crate::domain::event::{BayDeletedEvent, BayStatusEvent};

impl From<BayStatus> for pb::BayStatus {
    fn from(status: BayStatus) -> Self {
        match status {
            BayStatus::CreateInProgress => Self::CreateInProgress,
            BayStatus::CreateFailed => Self::CreateFailed,
            BayStatus::CreateComplete => Self::CreateComplete,
            BayStatus::UpdateInProgress => Self::UpdateInProgress,
            BayStatus::UpdateFailed => Self::UpdateFailed,
            BayStatus::UpdateComplete => Self::UpdateComplete,
            BayStatus::DeleteInProgress => Self::DeleteInProgress,
            BayStatus::DeleteFailed => Self::DeleteFailed,
            BayStatus::DeleteComplete => Self::DeleteComplete,
        }
    }
}

impl From<&Bay> for pb::Bay {
    fn from(bay: &Bay) -> Self {
        use crate::domain::bay::NodeRole;
        let count = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
        Self {
            uuid: bay.uuid.to_string(),
            name: bay.name.clone(),
            baymodel_id: bay.baymodel_id.to_string(),
            node_count: count(bay.node_count),
            master_count: count(bay.master_count),
            bay_create_timeout: count(bay.create_timeout),
            discovery_url: bay.discovery_url.clone(),
            status: pb::BayStatus::from(bay.status).into(),
            status_reason: bay.status_reason.clone(),
            api_address: bay.placement.api_address.clone(),
            node_addresses: bay.placement.addresses(NodeRole::Worker),
            master_addresses: bay.placement.addresses(NodeRole::Master),
            docker_volume_size: bay.docker_volume_size,
            labels: bay.labels.clone().into_iter().collect(),
            master_flavor_id: bay.master_flavor_id.clone(),
            flavor_id: bay.flavor_id.clone(),
            keypair: bay.keypair.clone(),
            // The bay's uuid stands in for Heat's stack id: one stack per bay.
            stack_id: Some(bay.uuid.to_string()),
            coe_version: None,
            container_version: None,
            fixed_network: bay.fixed_network.clone(),
            fixed_subnet: bay.fixed_subnet.clone(),
            floating_ip_enabled: bay.floating_ip_enabled,
            master_lb_enabled: bay.master_lb_enabled,
            health_status: bay.health_status.map(|h| h.as_str().to_owned()),
            health_status_reason: bay.health_status_reason.clone().into_iter().collect(),
            faults: match bay.status {
                BayStatus::CreateFailed | BayStatus::UpdateFailed | BayStatus::DeleteFailed => bay
                    .status_reason
                    .iter()
                    .map(|reason| (bay.display_name(), reason.clone()))
                    .collect(),
                _ => Default::default(),
            },
            project_id: bay.project_id.clone(),
            user_id: bay.user_id.clone(),
            created_at: Some(timestamp(bay.created_at)),
            updated_at: bay.updated_at.map(timestamp),
            nodes: bay
                .placement
                .nodes
                .iter()
                .map(|node| pb::BayNode {
                    name: node.name.clone(),
                    address: node.address.clone(),
                    role: match node.role {
                        NodeRole::Master => pb::bay_node::Role::Master,
                        NodeRole::Worker => pb::bay_node::Role::Worker,
                    }
                    .into(),
                    error: node.error.clone(),
                })
                .collect(),
        }
    }
}

impl From<BayCredentials> for pb::BayCredentials {
    fn from(credentials: BayCredentials) -> Self {
        let access = credentials.access;
        Self {
            bay_uuid: access.bay_uuid.to_string(),
            coe: access.coe.as_str().to_owned(),
            status: pb::BayStatus::from(access.status).into(),
            api_server: access.api_server,
            namespace: access.namespace,
            ca_certificates_pem: access.ca_certificates_pem,
            insecure_skip_tls_verify: access.insecure_skip_tls_verify,
            token: credentials.token,
            token_expires_at: access.token_expires_at.map(timestamp),
        }
    }
}

impl From<pb::BaySpec> for NewBay {
    fn from(spec: pb::BaySpec) -> Self {
        Self {
            name: spec.name,
            node_count: spec.node_count.map(i64::from),
            master_count: spec.master_count.map(i64::from),
            create_timeout: spec.bay_create_timeout.map(i64::from),
            discovery_url: spec.discovery_url,
            docker_volume_size: spec.docker_volume_size,
            labels: spec
                .labels
                .map(|labels| labels.values.into_iter().collect()),
            master_flavor_id: spec.master_flavor_id,
            flavor_id: spec.flavor_id,
            keypair: spec.keypair,
            fixed_network: spec.fixed_network,
            fixed_subnet: spec.fixed_subnet,
            floating_ip_enabled: spec.floating_ip_enabled,
            master_lb_enabled: spec.master_lb_enabled,
            merge_labels: spec.merge_labels.unwrap_or(false),
        }
    }
}

/// The work message of an operation (`magnum.ops.bay.*`).
impl From<&Operation> for events::BayOperation {
    fn from(operation: &Operation) -> Self {
        let kind = match operation.kind {
            OperationKind::Create => events::bay_operation::Kind::Create,
            OperationKind::Update => events::bay_operation::Kind::Update,
            OperationKind::Delete => events::bay_operation::Kind::Delete,
        };
        Self {
            operation_id: operation.id.to_string(),
            kind: kind.into(),
            bay_uuid: operation.bay_uuid.to_string(),
            node_count: i32::try_from(operation.node_count).unwrap_or(i32::MAX),
            rollback: false,
            actor: Some(events::Actor {
                project_id: operation.actor.project_id.clone(),
                user_id: operation.actor.user_id.clone(),
                request_id: operation.actor.request_id.clone(),
            }),
            deadline: None::<Timestamp>,
        }
    }
}

impl From<&BayStatusEvent> for events::BayStatusChanged {
    fn from(event: &BayStatusEvent) -> Self {
        Self {
            bay_uuid: event.bay_uuid.to_string(),
            project_id: event.project_id.clone(),
            status: event.status.as_str().to_owned(),
            status_reason: event.status_reason.clone().unwrap_or_default(),
            occurred_at: Some(timestamp(event.occurred_at)),
        }
    }
}

impl From<&BayDeletedEvent> for events::BayDeleted {
    fn from(event: &BayDeletedEvent) -> Self {
        Self {
            bay_uuid: event.bay_uuid.to_string(),
            project_id: event.project_id.clone(),
            coe: event.coe.clone(),
            occurred_at: Some(timestamp(event.occurred_at)),
        }
    }
}
