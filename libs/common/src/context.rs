//! Who is asking, and which objects they may see.

use std::fmt;

use crate::error::ErrorCode;

/// The caller of a request, as the auth layer established it. Built once per request
/// (from the validated token) and passed down to the repositories.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub user_id: String,
    pub user_name: String,
    pub project_id: String,
    pub project_name: String,
    pub roles: Vec<String>,
    pub is_admin: bool,
    /// `x-openstack-request-id`: follows the request through every hop and log line.
    pub request_id: String,
    /// The caller's token, forwarded on service-to-service calls made for this caller.
    pub auth_token: String,
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("user_id", &self.user_id)
            .field("project_id", &self.project_id)
            .field("roles", &self.roles)
            .field("is_admin", &self.is_admin)
            .field("request_id", &self.request_id)
            .field("auth_token", &"<redacted>")
            .finish()
    }
}

/// Which projects' objects a query may touch. Repositories take a `Scope`, never a bare
/// project id, so a query cannot forget the tenant filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Only this project's objects (plus objects its kind shares, e.g. public baymodels).
    Project(String),
    /// Every project's objects: admins who asked for all tenants, and the system's own work.
    AllProjects,
}

/// A caller asked for every project without being an administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Policy doesn't allow {0} to be performed.")]
pub struct AllProjectsForbidden(pub String);

impl crate::ServiceError for AllProjectsForbidden {
    fn code(&self) -> ErrorCode {
        ErrorCode::Forbidden
    }
}

impl RequestContext {
    /// The scope of a read: the caller's project, or every project when an admin asks.
    /// `rule` names the policy rule in the refusal (e.g. `baymodel:get_all_all_projects`).
    pub fn scope(&self, all_projects: bool, rule: &str) -> Result<Scope, AllProjectsForbidden> {
        match (all_projects, self.is_admin) {
            (false, _) => Ok(Scope::Project(self.project_id.clone())),
            (true, true) => Ok(Scope::AllProjects),
            (true, false) => Err(AllProjectsForbidden(rule.to_owned())),
        }
    }

    /// The scope of a single-object lookup: admins reach every project (Magnum's
    /// admin-or-owner rule), everyone else their own.
    pub fn object_scope(&self) -> Scope {
        if self.is_admin {
            Scope::AllProjects
        } else {
            Scope::Project(self.project_id.clone())
        }
    }

    /// May this caller change an object owned by `owner_project`?
    pub fn owns(&self, owner_project: &str) -> bool {
        self.is_admin || self.project_id == owner_project
    }

    /// A context for work the system does on its own (clean-up workers, relays).
    pub fn system(request_id: impl Into<String>) -> Self {
        Self {
            user_id: "magnum".to_owned(),
            user_name: "magnum".to_owned(),
            project_id: String::new(),
            project_name: String::new(),
            roles: vec!["admin".to_owned(), "service".to_owned()],
            is_admin: true,
            request_id: request_id.into(),
            auth_token: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(is_admin: bool) -> RequestContext {
        RequestContext {
            user_id: "u".into(),
            user_name: "user".into(),
            project_id: "p1".into(),
            project_name: "proj".into(),
            roles: vec![],
            is_admin,
            request_id: "req-1".into(),
            auth_token: "secret-token".into(),
        }
    }

    #[test]
    fn only_admins_get_every_project() {
        assert_eq!(
            caller(false).scope(false, "r"),
            Ok(Scope::Project("p1".into()))
        );
        assert_eq!(caller(true).scope(true, "r"), Ok(Scope::AllProjects));
        assert!(caller(false).scope(true, "r").is_err());
    }

    #[test]
    fn debug_never_shows_the_token() {
        assert!(!format!("{:?}", caller(false)).contains("secret-token"));
    }
}
