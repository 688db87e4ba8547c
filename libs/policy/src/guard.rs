//! The policy checks of one resource's use cases: rules `<resource>:<action>`.

use magnum_common::{RequestContext, Scope};

use crate::{Credentials, Forbidden, Policy, Target};

/// Reads and creates are checked against the caller's own ids (as Magnum does; visibility
/// is the repository's scoping), changes against the object's owner.
#[derive(Clone)]
pub struct ResourceGuard {
    policy: Policy,
    resource: &'static str,
}

impl ResourceGuard {
    pub fn new(policy: Policy, resource: &'static str) -> Self {
        Self { policy, resource }
    }

    /// `owner` is the object's (project, user); `None` checks against the caller.
    pub fn enforce(
        &self,
        action: &str,
        ctx: &RequestContext,
        owner: Option<(&str, &str)>,
    ) -> Result<(), Forbidden> {
        let target = match owner {
            Some((project_id, user_id)) => Target::new(project_id, user_id),
            None => Target::from(ctx),
        };
        let rule = format!("{}:{action}", self.resource);
        self.policy.enforce(&rule, &Credentials::from(ctx), &target)
    }

    /// The scope of a list: the caller's project, or every project when an admin asks
    /// (`<resource>:get_all_all_projects`).
    pub fn list_scope(&self, ctx: &RequestContext, all_projects: bool) -> Result<Scope, Forbidden> {
        self.enforce("get_all", ctx, None)?;
        if !all_projects {
            return Ok(Scope::Project(ctx.project_id.clone()));
        }
        self.enforce("get_all_all_projects", ctx, None)?;
        Ok(Scope::AllProjects)
    }
}
