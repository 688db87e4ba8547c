//! Nodes (Magnum Liberty's `/v1/nodes`): pure database records describing a machine, with
//! no backend action. Looked up by uuid only; `ironic_node_id` is unique across every
//! project's nodes.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::baymodel::{Owner, bounded, invalid};
use crate::error::{Error, Result};

/// A stored node: the caller's values plus system fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub uuid: Uuid,
    /// Free text (the CLI suggests `virt` or `bare`); 1-255 characters when set.
    pub node_type: Option<String>,
    pub image_id: Option<String>,
    /// Unique across all nodes of every project.
    pub ironic_node_id: Option<String>,
    /// Owner, from the creator's request context (never from input).
    pub project_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    /// `None` until the first update.
    pub updated_at: Option<DateTime<Utc>>,
}

/// What a caller may set on a node; `None` means "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewNode {
    /// Client-chosen uuid (create only); generated when `None`.
    pub uuid: Option<String>,
    pub node_type: Option<String>,
    pub image_id: Option<String>,
    pub ironic_node_id: Option<String>,
}

/// A field of [`NewNode`] that an update may change (all but `uuid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeField {
    Type,
    ImageId,
    IronicNodeId,
}

impl NodeField {
    /// Every updatable field.
    pub const ALL: &'static [Self] = &[Self::Type, Self::ImageId, Self::IronicNodeId];

    /// The field's name, as in the spec and the API.
    pub fn name(self) -> &'static str {
        match self {
            Self::Type => "type",
            Self::ImageId => "image_id",
            Self::IronicNodeId => "ironic_node_id",
        }
    }

    /// The field an update-mask path names. `uuid` cannot be changed; unknown names are
    /// refused rather than ignored.
    pub fn from_path(path: &str) -> Result<Self> {
        if path == "uuid" {
            return Err(Error::ImmutableField(path.to_owned()));
        }
        Self::ALL
            .iter()
            .copied()
            .find(|field| field.name() == path)
            .ok_or_else(|| Error::UnknownUpdateField(path.to_owned()))
    }

    fn value(self, spec: &NewNode) -> &Option<String> {
        match self {
            Self::Type => &spec.node_type,
            Self::ImageId => &spec.image_id,
            Self::IronicNodeId => &spec.ironic_node_id,
        }
    }

    fn value_mut(self, spec: &mut NewNode) -> &mut Option<String> {
        match self {
            Self::Type => &mut spec.node_type,
            Self::ImageId => &mut spec.image_id,
            Self::IronicNodeId => &mut spec.ironic_node_id,
        }
    }
}

/// An update: the named fields take the values in `values`; a named field whose value is
/// `None` is cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeChanges {
    fields: Vec<NodeField>,
    values: NewNode,
}

impl NodeChanges {
    /// Field-mask semantics (AIP-134): the paths name the fields to change; `*` names
    /// every field; no path at all means every field `values` sets.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>, values: NewNode) -> Result<Self> {
        let mut fields = Vec::new();
        let mut named_any = false;
        for path in paths {
            named_any = true;
            if path == "*" {
                fields.extend_from_slice(NodeField::ALL);
            } else {
                fields.push(NodeField::from_path(path)?);
            }
        }
        if !named_any {
            if values.uuid.is_some() {
                return Err(Error::ImmutableField("uuid".to_owned()));
            }
            fields = NodeField::ALL
                .iter()
                .copied()
                .filter(|field| field.value(&values).is_some())
                .collect();
        }
        fields.sort_unstable();
        fields.dedup();
        Ok(Self { fields, values })
    }

    /// The fields this update changes.
    pub fn fields(&self) -> &[NodeField] {
        &self.fields
    }
}

impl NewNode {
    /// Validates the input, giving the node `owner` creates at `now`.
    pub fn into_node(self, owner: Owner, now: DateTime<Utc>) -> Result<Node> {
        let uuid = match self.uuid.as_deref() {
            None => Uuid::new_v4(),
            Some(given) => Uuid::parse_str(given).map_err(|_| {
                invalid(
                    "uuid",
                    given,
                    &format!("Expected a uuid but received {given}."),
                )
            })?,
        };
        let (node_type, image_id, ironic_node_id) = validated(self)?;
        Ok(Node {
            uuid,
            node_type,
            image_id,
            ironic_node_id,
            project_id: owner.project_id,
            user_id: owner.user_id,
            created_at: now,
            updated_at: None,
        })
    }
}

impl Node {
    /// This node with `changes` applied at `now`, validated as on create.
    pub fn apply(&self, changes: &NodeChanges, now: DateTime<Utc>) -> Result<Self> {
        let mut input = NewNode {
            uuid: None,
            node_type: self.node_type.clone(),
            image_id: self.image_id.clone(),
            ironic_node_id: self.ironic_node_id.clone(),
        };
        for field in &changes.fields {
            *field.value_mut(&mut input) = field.value(&changes.values).clone();
        }
        let (node_type, image_id, ironic_node_id) = validated(input)?;
        Ok(Self {
            node_type,
            image_id,
            ironic_node_id,
            updated_at: Some(now),
            ..self.clone()
        })
    }
}

type Validated = (Option<String>, Option<String>, Option<String>);

/// The one validation path of create and update, in field order (the first failure wins).
fn validated(input: NewNode) -> Result<Validated> {
    Ok((
        bounded("type", input.node_type, 1)?,
        bounded("image_id", input.image_id, 1)?,
        bounded("ironic_node_id", input.ironic_node_id, 1)?,
    ))
}

/// A stored scalar column a node list may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeSortKey {
    Id,
    Uuid,
    Type,
    ImageId,
    IronicNodeId,
    ProjectId,
    UserId,
    CreatedAt,
    UpdatedAt,
}

impl NodeSortKey {
    /// Every sortable column.
    pub const ALL: &'static [Self] = &[
        Self::Id,
        Self::Uuid,
        Self::Type,
        Self::ImageId,
        Self::IronicNodeId,
        Self::ProjectId,
        Self::UserId,
        Self::CreatedAt,
        Self::UpdatedAt,
    ];

    /// The column's name, as callers spell it in `sort_key`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Uuid => "uuid",
            Self::Type => "type",
            Self::ImageId => "image_id",
            Self::IronicNodeId => "ironic_node_id",
            Self::ProjectId => "project_id",
            Self::UserId => "user_id",
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
        }
    }

    /// `""` means `id` (creation order); an unknown name is refused.
    pub fn parse(value: &str) -> Result<Self> {
        if value.is_empty() {
            return Ok(Self::Id);
        }
        Self::ALL
            .iter()
            .copied()
            .find(|key| key.name() == value)
            .ok_or_else(|| Error::InvalidSortKey(value.to_owned()))
    }
}

/// A node ident: uuids only (names are refused with Magnum's text, not looked up).
pub fn parse_ident(ident: &str) -> Result<Uuid> {
    Uuid::parse_str(ident).map_err(|_| Error::InvalidUuid(ident.to_owned()))
}

#[cfg(test)]
#[path = "node_test.rs"]
mod tests;
