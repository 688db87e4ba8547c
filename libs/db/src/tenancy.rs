//! Tenant scoping for every table that holds a project's objects. Repositories start each
//! query from [`find`], [`update_many`] or [`delete_many`] with the caller's [`Scope`], so
//! the project filter is part of the query's construction rather than a convention;
//! `make lint` refuses raw `Entity::find()`/`update_many()`/`delete_many()` in the
//! services' store modules.

use magnum_common::Scope;
use sea_orm::{ColumnTrait, Condition, DeleteMany, EntityTrait, QueryFilter, Select, UpdateMany};

/// A table whose rows belong to a project.
pub trait TenantEntity: EntityTrait {
    /// The column that holds the owning project's id.
    fn project_column() -> Self::Column;

    /// Rows every project may read though it does not own them (e.g. public baymodels).
    fn shared_rows() -> Option<Condition> {
        None
    }
}

/// Reading reaches a project's own and shared rows; changing reaches only its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The rows `scope` reaches with `access`.
pub fn condition<E: TenantEntity>(scope: &Scope, access: Access) -> Condition {
    match scope {
        Scope::AllProjects => Condition::all(),
        Scope::Project(project) => {
            let own = E::project_column().eq(project.as_str());
            match (access, E::shared_rows()) {
                (Access::Read, Some(shared)) => Condition::any().add(own).add(shared),
                _ => Condition::all().add(own),
            }
        }
    }
}

/// A select of the rows `scope` may read.
pub fn find<E: TenantEntity>(scope: &Scope) -> Select<E> {
    E::find().filter(condition::<E>(scope, Access::Read))
}

/// An update of the rows `scope` may change.
pub fn update_many<E: TenantEntity>(scope: &Scope) -> UpdateMany<E> {
    E::update_many().filter(condition::<E>(scope, Access::Write))
}

/// A delete of the rows `scope` may change.
pub fn delete_many<E: TenantEntity>(scope: &Scope) -> DeleteMany<E> {
    E::delete_many().filter(condition::<E>(scope, Access::Write))
}
