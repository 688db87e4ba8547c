//! Names of the metadata entries that carry a caller across hops.

/// The caller's Keystone token.
pub const AUTH_TOKEN: &str = "x-auth-token";
/// The request id, `req-<uuid>`, as in OpenStack.
pub const REQUEST_ID: &str = "x-openstack-request-id";
/// No-auth mode identity hints (Magnum's noauth honours them too).
pub const PROJECT_ID: &str = "x-project-id";
pub const USER_ID: &str = "x-user-id";
pub const ROLES: &str = "x-roles";

/// A new request id in OpenStack's format.
pub fn new_request_id() -> String {
    format!("req-{}", uuid::Uuid::new_v4())
}

/// Splits an `X-Roles` value ("admin, member") into lower-case role names.
pub fn parse_roles(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|r| r.trim().to_ascii_lowercase())
        .filter(|r| !r.is_empty())
        .collect()
}
