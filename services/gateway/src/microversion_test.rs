//! Unit tests of `microversion`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn version(pairs: &[(&str, &str)]) -> Result<ApiVersion, Error> {
    negotiate(&headers(pairs))
}

#[test]
fn no_header_means_the_minimum() {
    assert_eq!(version(&[]).unwrap(), ApiVersion::new(1, 1));
}

#[test]
fn newton_header_forms() {
    let cases = [
        ("container-infra latest", ApiVersion::new(1, 12)),
        ("container-infra LATEST", ApiVersion::new(1, 12)),
        ("container-infra 1.3", ApiVersion::new(1, 3)),
        (
            "container-infrastructure-management 1.12",
            ApiVersion::new(1, 12),
        ),
        ("compute 2.1, container-infra 1.9", ApiVersion::new(1, 9)),
        ("  container-infra   1.1 ", ApiVersion::new(1, 1)),
    ];
    for (value, expected) in cases {
        assert_eq!(
            version(&[("OpenStack-API-Version", value)]).unwrap(),
            expected,
            "{value}"
        );
    }
    assert_eq!(
        version(&[
            ("OpenStack-API-Version", "compute 2.1"),
            ("OpenStack-API-Version", "container-infra 1.4"),
        ])
        .unwrap(),
        ApiVersion::new(1, 4)
    );
}

#[test]
fn liberty_header_forms() {
    assert_eq!(
        version(&[("X-OpenStack-Magnum-API-Version", "1.1")]).unwrap(),
        ApiVersion::new(1, 1)
    );
    assert_eq!(
        version(&[("X-OpenStack-Magnum-API-Version", "latest")]).unwrap(),
        MAX_VERSION
    );
    assert_eq!(
        version(&[
            ("X-OpenStack-Magnum-API-Version", "1.1"),
            ("OpenStack-API-Version", "container-infra 1.5"),
        ])
        .unwrap(),
        ApiVersion::new(1, 5)
    );
}

#[test]
fn the_406_cases() {
    let cases: [(&str, &str, &str); 9] = [
        (
            "OpenStack-API-Version",
            "compute 2.1",
            "Invalid service type",
        ),
        ("OpenStack-API-Version", "1.2", "Invalid service type"),
        ("OpenStack-API-Version", "container-infra", "Invalid value"),
        (
            "OpenStack-API-Version",
            "container-infra 1",
            "Invalid value",
        ),
        (
            "OpenStack-API-Version",
            "container-infra 1.x",
            "Invalid value",
        ),
        (
            "OpenStack-API-Version",
            "container-infra 1.2 1.3",
            "Invalid value",
        ),
        (
            "OpenStack-API-Version",
            "container-infra 2.0",
            "Mutually exclusive",
        ),
        (
            "OpenStack-API-Version",
            "container-infra 1.13",
            "minor version is not",
        ),
        (
            "X-OpenStack-Magnum-API-Version",
            "bogus",
            "Invalid value for X-OpenStack",
        ),
    ];
    for (name, value, message) in cases {
        let error = version(&[(name, value)]).unwrap_err();
        assert!(error.to_string().contains(message), "{value}: {error}");
    }
    assert!(matches!(
        version(&[("OpenStack-API-Version", "container-infra 1.0")]),
        Err(Error::VersionNotSupported(_))
    ));
    assert!(matches!(
        version(&[("X-OpenStack-Magnum-API-Version", "1.99")]),
        Err(Error::VersionNotSupported(_))
    ));
}

#[test]
fn response_headers_name_both_families() {
    let mut map = HeaderMap::new();
    write_headers(&mut map, Some(ApiVersion::new(1, 12)));
    assert_eq!(map["openstack-api-version"], "container-infra 1.12");
    assert_eq!(map["openstack-api-minimum-version"], "container-infra 1.1");
    assert_eq!(map["openstack-api-maximum-version"], "container-infra 1.12");
    assert_eq!(map["x-openstack-magnum-api-version"], "1.12");
    assert_eq!(map["x-openstack-magnum-api-minimum-version"], "1.1");
    assert_eq!(map["x-openstack-magnum-api-maximum-version"], "1.12");
    assert!(
        map["vary"]
            .to_str()
            .unwrap()
            .contains("OpenStack-API-Version")
    );
}
