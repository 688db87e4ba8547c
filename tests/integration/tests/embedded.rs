//! The embedded default: SQLite under a data directory and the in-process bus. A restart
//! keeps the data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use magnum_integration_tests::{ALICE, StatusCode, Storage, TestMesh, baymodel_body, temp_dir};
use reqwest::Method;

#[tokio::test]
async fn restarting_keeps_the_data() {
    let data = temp_dir();
    let mesh = TestMesh::start_with(Storage::Sqlite(data.clone()), false).await;
    let created = mesh
        .call(
            Method::POST,
            "/v1/baymodels",
            &ALICE,
            Some(baymodel_body("kept")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    mesh.stop().await;

    let mesh = TestMesh::start_with(Storage::Sqlite(data), false).await;
    let shown = mesh
        .call(Method::GET, "/v1/baymodels/kept", &ALICE, None)
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert_eq!(shown.body["uuid"], created.body["uuid"]);
    mesh.stop().await;
}
