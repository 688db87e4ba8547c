//! Keyset pagination shared by the repositories: order by (sort column, id) with NULLs
//! first ascending and last descending on both databases (their defaults differ).

use sea_orm::sea_query::{NullOrdering, Order};
use sea_orm::{ColumnTrait, Condition, Value};

use crate::domain::listing::SortDir;

/// The order and NULL placement of a list in direction `dir`.
pub(super) fn ordering(dir: SortDir) -> (Order, NullOrdering) {
    match dir {
        SortDir::Asc => (Order::Asc, NullOrdering::First),
        SortDir::Desc => (Order::Desc, NullOrdering::Last),
    }
}

/// Rows strictly after the marker in the order (column, id), with NULLs first when
/// ascending and last when descending.
pub(super) fn after<C: ColumnTrait>(
    column: C,
    id: C,
    marker_value: Value,
    marker_id: i64,
    dir: SortDir,
) -> Condition {
    let value_is_null = !marker_value.is_some();
    match (dir, value_is_null) {
        // NULLs come first: after a NULL marker come later NULLs, then every value.
        (SortDir::Asc, true) => Condition::any()
            .add(Condition::all().add(column.is_null()).add(id.gt(marker_id)))
            .add(column.is_not_null()),
        (SortDir::Asc, false) => Condition::any().add(column.gt(marker_value.clone())).add(
            Condition::all()
                .add(column.eq(marker_value))
                .add(id.gt(marker_id)),
        ),
        // NULLs come last: after a NULL marker come only later NULLs.
        (SortDir::Desc, true) => Condition::all().add(column.is_null()).add(id.lt(marker_id)),
        (SortDir::Desc, false) => Condition::any()
            .add(column.lt(marker_value.clone()))
            .add(
                Condition::all()
                    .add(column.eq(marker_value))
                    .add(id.lt(marker_id)),
            )
            .add(column.is_null()),
    }
}
