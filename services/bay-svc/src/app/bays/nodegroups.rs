//! Node group use cases: list a bay's groups, add, resize and delete worker groups, change
//! a stored group's limits. A change of a group's size is an update of the bay's node
//! count (the driver sizes the bay's one worker pool), stored with the group change.

use magnum_common::{RequestContext, Scope};

use super::{Bays, now, operation};
use crate::domain::bay::{Bay, Operation, OperationKind};
use crate::domain::event::BayStatusEvent;
use crate::domain::nodegroup::{self, NewNodeGroup, NodeGroup};
use crate::domain::ports::{BayUpdate, GroupChange};
use crate::error::{Error, Result};

impl Bays {
    /// The bay `ident` and its groups (defaults first), for a caller allowed `action`.
    async fn bay_groups(
        &self,
        ctx: &RequestContext,
        ident: &str,
        action: &str,
    ) -> Result<(Bay, Vec<NodeGroup>)> {
        let scope = ctx.object_scope();
        let bay = self.find(&scope, ident).await?;
        self.nodegroups
            .enforce(action, ctx, Some((&bay.project_id, &bay.user_id)))?;
        // The baymodel may be another project's public one: the caller may read the bay.
        let image = self
            .baymodels
            .find(&Scope::AllProjects, &bay.baymodel_id.to_string())
            .await
            .ok()
            .map(|baymodel| baymodel.image_id);
        let stored = self.repository.node_groups(&scope, bay.uuid).await?;
        let groups = nodegroup::groups_of(&bay, stored, image.as_deref());
        Ok((bay, groups))
    }

    /// Every group of the bay.
    #[tracing::instrument(skip_all, fields(bay = %bay))]
    pub async fn node_groups(&self, ctx: &RequestContext, bay: &str) -> Result<Vec<NodeGroup>> {
        Ok(self.bay_groups(ctx, bay, "get_all").await?.1)
    }

    /// One group of the bay, by uuid or name.
    #[tracing::instrument(skip_all, fields(bay = %bay, group = %group))]
    pub async fn node_group(
        &self,
        ctx: &RequestContext,
        bay: &str,
        group: &str,
    ) -> Result<NodeGroup> {
        let (_, groups) = self.bay_groups(ctx, bay, "get").await?;
        nodegroup::find(&groups, group).cloned()
    }

    /// Adds a worker group: the bay grows by its nodes.
    #[tracing::instrument(skip_all, fields(bay = %bay))]
    pub async fn create_node_group(
        &self,
        ctx: &RequestContext,
        bay: &str,
        new: NewNodeGroup,
    ) -> Result<(NodeGroup, Option<Operation>)> {
        let (current, groups) = self.bay_groups(ctx, bay, "create").await?;
        let image = groups.first().and_then(|group| group.image_id.clone());
        let group = new.into_group(&current, &groups, image.as_deref(), now())?;
        let total = nodegroup::total_workers(&groups, Some(&group), None);
        let operation = self
            .change_groups(ctx, &current, total, GroupChange::Add(group.clone()))
            .await?;
        tracing::info!(group = %group.uuid, "node group added");
        Ok((group, operation))
    }

    /// Resizes one worker group (the default one included): the bay follows.
    #[tracing::instrument(skip_all, fields(bay = %bay, group = %group))]
    pub async fn resize_node_group(
        &self,
        ctx: &RequestContext,
        bay: &str,
        group: &str,
        node_count: i64,
    ) -> Result<(Bay, Option<Operation>)> {
        let (current, groups) = self.bay_groups(ctx, bay, "update").await?;
        let resized = nodegroup::find(&groups, group)?.resized(node_count, now())?;
        let total = nodegroup::total_workers(&groups, Some(&resized), None);
        if resized.is_default {
            // The default group is the bay's own count: a plain bay update.
            let (bay, operation) = self
                .update(ctx, &current.uuid.to_string(), i64::from(total))
                .await?;
            return Ok((bay, operation));
        }
        let operation = self
            .change_groups(ctx, &current, total, GroupChange::Resize(resized))
            .await?;
        let bay = self
            .find(&ctx.object_scope(), &current.uuid.to_string())
            .await?;
        Ok((bay, operation))
    }

    /// Changes a stored group's limits (no resize).
    #[tracing::instrument(skip_all, fields(bay = %bay, group = %group))]
    pub async fn update_node_group_limits(
        &self,
        ctx: &RequestContext,
        bay: &str,
        group: &str,
        min_node_count: Option<i64>,
        max_node_count: Option<Option<i64>>,
    ) -> Result<NodeGroup> {
        let (current, groups) = self.bay_groups(ctx, bay, "update").await?;
        let updated =
            nodegroup::find(&groups, group)?.with_limits(min_node_count, max_node_count, now())?;
        self.repository
            .update_group_limits(&ctx.object_scope(), &updated)
            .await?;
        tracing::info!(bay = %current.uuid, group = %updated.uuid, "node group limits changed");
        Ok(updated)
    }

    /// Deletes a worker group: the bay shrinks by its nodes. Default groups stay.
    #[tracing::instrument(skip_all, fields(bay = %bay, group = %group))]
    pub async fn delete_node_group(
        &self,
        ctx: &RequestContext,
        bay: &str,
        group: &str,
    ) -> Result<Option<Operation>> {
        let (current, groups) = self.bay_groups(ctx, bay, "delete").await?;
        let removed = nodegroup::find(&groups, group)?;
        if removed.is_default {
            return Err(Error::DefaultNodeGroupDelete);
        }
        let total = nodegroup::total_workers(&groups, None, Some(removed.uuid));
        let operation = self
            .change_groups(ctx, &current, total, GroupChange::Remove(removed.uuid))
            .await?;
        tracing::info!(group = %removed.uuid, "node group deleted");
        Ok(operation)
    }

    /// Stores `change`, with the bay's update to `total` workers when that differs.
    async fn change_groups(
        &self,
        ctx: &RequestContext,
        current: &Bay,
        total: u32,
        change: GroupChange,
    ) -> Result<Option<Operation>> {
        if total == 0 {
            return Err(Error::NoWorkersLeft(current.display_name()));
        }
        if !current.status.is_usable() {
            return Err(Error::BayUpdateNotAllowed(current.status));
        }
        let scope = ctx.object_scope();
        let now = now();
        let updated = current.begin_update(i64::from(total), now)?;
        let started = updated.as_ref().map(|bay| {
            let operation = operation(ctx, bay, OperationKind::Update, now);
            let event = BayStatusEvent::of(bay, now);
            (bay, operation, event)
        });
        let update = started.as_ref().map(|(bay, operation, event)| BayUpdate {
            bay,
            expected: current.status,
            operation,
            event,
        });
        if !self
            .repository
            .change_groups(&scope, update, &change)
            .await?
        {
            return Err(Error::BayOperationInProgress(current.display_name()));
        }
        Ok(started.map(|(_, operation, _)| operation))
    }
}
