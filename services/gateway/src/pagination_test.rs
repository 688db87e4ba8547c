//! Unit tests of `pagination`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use axum::http::HeaderMap;

fn query(uri: &'static str) -> ListQuery {
    ListQuery::from_uri(&Uri::from_static(uri)).unwrap()
}

#[test]
fn defaults() {
    let page = query("/v1/baymodels").validate(1000).unwrap();
    assert_eq!(
        page,
        Page {
            limit: 1000,
            marker: String::new(),
            sort_key: "id".into(),
            sort_dir: "asc".into(),
            all_projects: false,
        }
    );
}

#[test]
fn all_tenants_is_a_boolean() {
    assert!(
        query("/x?all_tenants=True")
            .validate(10)
            .unwrap()
            .all_projects
    );
    assert!(query("/x?all_tenants=1").validate(10).unwrap().all_projects);
    assert!(
        !query("/x?all_tenants=no")
            .validate(10)
            .unwrap()
            .all_projects
    );
    let refused = query("/x?all_tenants=maybe").validate(10).unwrap_err();
    assert!(refused.to_string().contains("all_tenants"), "{refused}");
}

#[test]
fn limits() {
    assert_eq!(query("/x?limit=5").validate(1000).unwrap().limit, 5);
    assert_eq!(query("/x?limit=5000").validate(1000).unwrap().limit, 1000);
    assert_eq!(
        query("/x?limit=99999999999").validate(1000).unwrap().limit,
        1000
    );
    for bad in ["/x?limit=0", "/x?limit=-1"] {
        assert_eq!(
            query(bad).validate(1000).unwrap_err().to_string(),
            "Limit must be positive"
        );
    }
    assert!(
        query("/x?limit=ten")
            .validate(1000)
            .unwrap_err()
            .to_string()
            .contains("field/attribute limit")
    );
}

#[test]
fn sort_direction_is_checked_and_others_ignored() {
    let page = query("/x?sort_key=name&sort_dir=desc&bogus=1&marker=m")
        .validate(10)
        .unwrap();
    assert_eq!(
        (page.sort_key.as_str(), page.sort_dir.as_str()),
        ("name", "desc")
    );
    assert_eq!(page.marker, "m");
    assert_eq!(
        query("/x?sort_dir=up")
            .validate(10)
            .unwrap_err()
            .to_string(),
        "Invalid sort direction: up. Acceptable values are 'asc' or 'desc'"
    );
}

#[test]
fn repeated_parameters_keep_the_last() {
    assert_eq!(query("/x?limit=1&limit=2").validate(10).unwrap().limit, 2);
}

#[test]
fn next_link_format() {
    let mut headers = HeaderMap::new();
    headers.insert("host", "h:9511".parse().unwrap());
    let base = BaseUrl::from_request(&headers, &Uri::from_static("/"));
    let page = query("/x?limit=2&sort_dir=desc").validate(1000).unwrap();
    assert_eq!(
        page.next_link(&base, "baymodels/detail", "u-2"),
        "http://h:9511/v1/baymodels/detail?sort_key=id&sort_dir=desc&limit=2&marker=u-2"
    );
}
