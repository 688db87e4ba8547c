//! Service-level tests of baymodels: the `BayModelService` implementation on a real
//! database, every scenario run against Postgres (a fresh schema per test) and SQLite (a
//! fresh file per test), like Quickwit's `metastore_test_suite!`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod harness;

/// Runs every scenario of `cases` against one backend, as `<backend>::<scenario>`.
macro_rules! baymodel_suite {
    ($backend:ident, $config:expr) => {
        mod $backend {
            baymodel_suite!(@cases $config;
                create_get_and_defaults,
                validation_errors,
                name_lookup_and_ambiguity,
                public_baymodels_are_visible_but_read_only,
                tenants_cannot_touch_each_others_private_baymodels,
                admins_reach_every_project,
                update_mask_semantics,
                delete_by_uuid_and_name,
                every_change_writes_its_event,
                pagination_in_every_order,
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
            }
        )*
    };
}

baymodel_suite!(postgres, magnum_testkit::postgres_config());
baymodel_suite!(sqlite, magnum_testkit::sqlite_config());
