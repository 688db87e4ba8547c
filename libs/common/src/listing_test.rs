//! Unit tests of `listing`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn page_size_defaults_and_caps() {
    assert_eq!(
        PageRequest::new(0, "", (), SortDir::Asc).unwrap().size,
        1000
    );
    assert_eq!(
        PageRequest::new(5000, "", (), SortDir::Asc).unwrap().size,
        1000
    );
    assert_eq!(PageRequest::new(7, "", (), SortDir::Asc).unwrap().size, 7);
}

#[test]
fn markers_must_be_uuids() {
    let uuid = "27e3153e-d5bf-4b7e-b517-fb518e17f34c";
    let page = PageRequest::new(1, uuid, (), SortDir::Asc).unwrap();
    assert_eq!(page.marker.map(|m| m.to_string()).as_deref(), Some(uuid));
    let error = PageRequest::new(1, "my-model", (), SortDir::Asc).unwrap_err();
    assert_eq!(error.to_string(), "Expected a uuid but received my-model.");
}

#[test]
fn sort_directions() {
    assert_eq!(SortDir::parse("").unwrap(), SortDir::Asc);
    assert_eq!(SortDir::parse("desc").unwrap(), SortDir::Desc);
    assert!(matches!(
        SortDir::parse("up"),
        Err(ListingError::InvalidSortDir(_))
    ));
}
