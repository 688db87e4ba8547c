//! Magnum's policy rules in one place: which caller may perform which action on whose
//! objects.
//!
//! The built-in rules are Magnum's Liberty `policy.json`, extended to every resource
//! this project serves (`policy.yaml.sample` lists them). An operator overrides any of
//! them with a YAML or JSON file of `rule name: rule text`, written in the oslo.policy
//! syntax that Magnum's own policy files use; an invalid file stops the service at
//! start-up.
//!
//! ```
//! use magnum_policy::{Credentials, Policy, Target};
//!
//! let policy = Policy::defaults();
//! let roles = vec!["member".to_owned()];
//! let caller = Credentials { user_id: "u1", project_id: "p1", roles: &roles, is_admin: false };
//! assert!(policy.enforce("bay:get", &caller, &Target::new("p1", "u2")).is_ok());
//! let refused = policy.enforce("bay:get", &caller, &Target::new("p2", "u2")).unwrap_err();
//! assert_eq!(refused.to_string(), "Policy doesn't allow bay:get to be performed.");
//! ```

mod defaults;
mod guard;
mod policy;
mod rule;

pub use guard::ResourceGuard;
pub use policy::{
    ADMIN_RULE, Credentials, DEFAULT_RULE, Forbidden, Policy, PolicyConfig, PolicyError, Target,
};
