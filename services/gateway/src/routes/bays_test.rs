//! Unit tests of `bays`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::attributes::Access;

fn base() -> BaseUrl {
    BaseUrl::from_request(&axum::http::HeaderMap::new(), &Uri::from_static("/"))
}

fn failed_bay() -> Bay {
    Bay {
        status: BayStatus::CreateFailed as i32,
        ..Bay::default()
    }
}

#[test]
fn the_newest_table_is_the_whole_view() {
    let value = serde_json::to_value(BayView::new(&failed_bay(), &base())).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut names: Vec<&str> = API_1_3.schema.attributes.iter().map(|a| a.name).collect();
    keys.sort_unstable();
    names.sort_unstable();
    assert_eq!(keys, names);
}

#[test]
fn every_table_is_part_of_the_view_and_hides_the_owner() {
    for api in [&API_1_1, &API_1_2, &API_1_3] {
        let full = api.full(&failed_bay(), &base()).unwrap();
        assert_eq!(full.len(), api.schema.attributes.len());
        for name in api.summary {
            assert!(api.schema.attribute(name).is_some(), "{name}");
        }
        for hidden in ["project_id", "user_id", "faults", "keypair"] {
            assert!(!full.contains_key(hidden), "{hidden}");
        }
    }
    let liberty = API_1_1.full(&failed_bay(), &base()).unwrap();
    for newton_only in ["stack_id", "labels", "bay_faults", "flavor_id"] {
        assert!(!liberty.contains_key(newton_only), "{newton_only}");
    }
}

#[test]
fn bay_faults_only_in_a_failed_status() {
    let complete = Bay {
        status: BayStatus::CreateComplete as i32,
        ..Bay::default()
    };
    assert!(BayView::new(&complete, &base()).bay_faults.is_none());
    assert!(BayView::new(&failed_bay(), &base()).bay_faults.is_some());
}

#[test]
fn versions_pick_their_tables() {
    assert!(BayApi::at(ApiVersion::new(1, 1)).synchronous);
    assert!(!BayApi::at(ApiVersion::new(1, 2)).synchronous);
    assert!(!BayApi::at(ApiVersion::new(1, 2)).rollback);
    assert!(BayApi::at(ApiVersion::new(1, 3)).rollback);
    assert!(BayApi::at(ApiVersion::new(1, 12)).rollback);
}

#[test]
fn status_names_are_magnums() {
    assert_eq!(status_name(BayStatus::Unspecified), None);
    assert_eq!(
        status_name(BayStatus::CreateInProgress),
        Some("CREATE_IN_PROGRESS")
    );
    assert_eq!(
        status_name(BayStatus::RollbackFailed),
        Some("ROLLBACK_FAILED")
    );
}

#[test]
fn patch_rules() {
    let schema = API_1_3.schema;
    for path in ["/api_address", "/stack_id", "/uuid", "/coe_version"] {
        assert!(schema.is_internal_path(path), "{path}");
    }
    for path in ["/baymodel_id", "/node_count"] {
        assert!(schema.is_non_removable_path(path), "{path}");
    }
    assert_eq!(
        schema.attribute("uuid").map(|a| a.access),
        Some(Access::Derived)
    );
    assert_eq!(
        schema.attribute("status").map(|a| a.access),
        Some(Access::ReadWrite)
    );
}
