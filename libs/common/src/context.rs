//! Who is asking, and which objects they may see.

use std::fmt;

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

impl RequestContext {
    /// The scope of a single-object lookup: admins reach every project (Magnum's
    /// admin-or-owner rule), everyone else their own.
    pub fn object_scope(&self) -> Scope {
        if self.is_admin {
            Scope::AllProjects
        } else {
            Scope::Project(self.project_id.clone())
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
    fn admins_reach_every_project() {
        assert_eq!(caller(false).object_scope(), Scope::Project("p1".into()));
        assert_eq!(caller(true).object_scope(), Scope::AllProjects);
    }

    #[test]
    fn debug_never_shows_the_token() {
        assert!(!format!("{:?}", caller(false)).contains("secret-token"));
    }
}
