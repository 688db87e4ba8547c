#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A crash right after the namespace is made: the repeated create finishes the bay.
//! Runs with `cargo test -p magnum-driver-kubernetes --features failpoints`.
#![cfg(feature = "failpoints")]

mod common;

use common::{bay, cluster, driver, namespace_of};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::Api;
use magnum_bay_driver::BayDriver;
use magnum_driver_kubernetes::SERVICE_ACCOUNT_NAME;

#[tokio::test]
async fn create_resumes_after_a_crash_after_the_namespace() {
    let scenario = fail::FailScenario::setup();
    let server = cluster().await;
    let admin = server.admin_client().await.unwrap();
    let (driver, _dir) = driver(&server).await;
    let bay = bay(1);
    let ns = namespace_of(&bay);

    fail::cfg("kubernetes-create-after-namespace", "return").unwrap();
    let e = driver.create(&bay).await.unwrap_err();
    assert!(e.message().contains("failpoint"), "{e}");
    Api::<Namespace>::all(admin.clone()).get(&ns).await.unwrap();
    assert!(
        Api::<ServiceAccount>::namespaced(admin.clone(), &ns)
            .get_opt(SERVICE_ACCOUNT_NAME)
            .await
            .unwrap()
            .is_none()
    );

    fail::cfg("kubernetes-create-after-namespace", "off").unwrap();
    let provisioned = driver.create(&bay).await.unwrap();
    assert!(provisioned.credential.is_some());
    Api::<ServiceAccount>::namespaced(admin, &ns)
        .get(SERVICE_ACCOUNT_NAME)
        .await
        .unwrap();
    scenario.teardown();
}
