//! Service-level tests of nodes: the `NodeService` implementation on a real database,
//! every scenario run against Postgres (a fresh schema per test) and SQLite (a fresh file
//! per test), as the baymodel suite does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod harness;

/// Runs every scenario of `cases` against one backend, as `<backend>::<scenario>`.
macro_rules! node_suite {
    ($backend:ident, $config:expr) => {
        mod $backend {
            node_suite!(@cases $config;
                create_get_and_round_trip,
                validation_errors,
                lookups_are_by_uuid_only,
                ironic_node_ids_are_unique_across_projects,
                tenants_cannot_touch_each_others_nodes,
                admins_reach_every_project,
                update_mask_semantics,
                delete,
                pagination_and_sorting,
                bad_markers_and_sort_keys,
            );
        }
    };
    (@cases $config:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let harness = crate::harness::Harness::start($config).await;
                crate::cases::$case(&harness).await;
                harness.assert_no_events().await;
            }
        )*
    };
}

node_suite!(postgres, magnum_testkit::postgres_config());
node_suite!(sqlite, magnum_testkit::sqlite_config());
