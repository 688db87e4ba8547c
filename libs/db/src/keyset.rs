//! Keyset pagination shared by every service's repositories: order by (sort column, id) with NULLs
//! first ascending and last descending on both databases (their defaults differ).

use sea_orm::sea_query::{NullOrdering, Order};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, ModelTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Value,
};
use uuid::Uuid;

use magnum_common::listing::SortDir;

/// The columns every paged table has: its `uuid` (the marker) and its `id` (the
/// tie-breaker).
pub struct KeyColumns<C> {
    pub uuid: C,
    pub id: C,
}

/// One page of `rows` (already scoped to the caller) ordered by (`sort`, id) in `dir`,
/// starting after the row whose uuid is `marker`. `Ok(None)`: the marker is not among
/// `rows`.
pub async fn page<E, D>(
    db: &D,
    rows: Select<E>,
    keys: KeyColumns<E::Column>,
    sort: E::Column,
    dir: SortDir,
    marker: Option<Uuid>,
    size: u32,
) -> Result<Option<Vec<E::Model>>, DbErr>
where
    E: EntityTrait,
    D: ConnectionTrait,
{
    let mut query = rows.clone();
    if let Some(marker) = marker {
        let Some(marker_row) = rows
            .filter(keys.uuid.eq(marker.to_string()))
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        query = query.filter(after(
            sort,
            keys.id,
            marker_row.get(sort),
            marker_row.get(keys.id),
            dir,
        ));
    }
    let (order, nulls) = ordering(dir);
    query
        .order_by_with_nulls(sort, order.clone(), nulls)
        .order_by(keys.id, order)
        .limit(u64::from(size))
        .all(db)
        .await
        .map(Some)
}

/// The order and NULL placement of a list in direction `dir`.
fn ordering(dir: SortDir) -> (Order, NullOrdering) {
    match dir {
        SortDir::Asc => (Order::Asc, NullOrdering::First),
        SortDir::Desc => (Order::Desc, NullOrdering::Last),
    }
}

/// Rows strictly after the marker in the order (column, id), with NULLs first when
/// ascending and last when descending.
fn after<C: ColumnTrait>(
    column: C,
    id: C,
    marker_value: Value,
    marker_id: Value,
    dir: SortDir,
) -> Condition {
    let value_is_null = !marker_value.is_some();
    match (dir, value_is_null) {
        // NULLs come first: after a NULL marker come later NULLs, then every value.
        (SortDir::Asc, true) => Condition::any()
            .add(
                Condition::all()
                    .add(column.is_null())
                    .add(id.gt(marker_id.clone())),
            )
            .add(column.is_not_null()),
        (SortDir::Asc, false) => Condition::any().add(column.gt(marker_value.clone())).add(
            Condition::all()
                .add(column.eq(marker_value))
                .add(id.gt(marker_id.clone())),
        ),
        // NULLs come last: after a NULL marker come only later NULLs.
        (SortDir::Desc, true) => Condition::all()
            .add(column.is_null())
            .add(id.lt(marker_id.clone())),
        (SortDir::Desc, false) => Condition::any()
            .add(column.lt(marker_value.clone()))
            .add(
                Condition::all()
                    .add(column.eq(marker_value))
                    .add(id.lt(marker_id.clone())),
            )
            .add(column.is_null()),
    }
}
